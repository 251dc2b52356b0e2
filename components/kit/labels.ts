/**
 * Who a workload is and the labels every object of the stack carries: the app.kubernetes.io set,
 * the selectors (without the version, so an upgrade never orphans pods), object metadata.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ImageName, imageVersion, images } from "../images";

/** The part-of label every object of the stack carries. */
export const PART_OF = "monitoring-stack";

/** Who a workload is: the values of its app.kubernetes.io labels. */
export interface WorkloadIdentity {
  /** app.kubernetes.io/name, e.g. "prometheus". */
  name: string;
  /** app.kubernetes.io/component, e.g. "metrics-server", "alerting". */
  component: string;
  /** app.kubernetes.io/instance: the stack's environment. */
  instance: string;
  /** The image the workload runs; its tag is app.kubernetes.io/version. */
  image: ImageName;
}

/** Labels that select a workload's pods: stable across upgrades (no version). */
export function selectorLabels(id: WorkloadIdentity): Record<string, string> {
  return {
    "app.kubernetes.io/name": id.name,
    "app.kubernetes.io/instance": id.instance,
    "app.kubernetes.io/component": id.component,
    "app.kubernetes.io/part-of": PART_OF,
  };
}

/** All standard labels of a workload's objects, version included. */
export function standardLabels(id: WorkloadIdentity): Record<string, string> {
  return {
    ...selectorLabels(id),
    "app.kubernetes.io/version": imageVersion(id.image),
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** Labels for objects that belong to the stack but to no single workload. */
export function stackLabels(instance: string): Record<string, string> {
  return {
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** Metadata of an object owned by a workload. */
export function objectMeta(
  id: WorkloadIdentity,
  namespace: pulumi.Input<string>,
  name: string,
  extra: { annotations?: Record<string, pulumi.Input<string>>; labels?: Record<string, string> } = {},
): k8s.types.input.meta.v1.ObjectMeta {
  return {
    name,
    namespace,
    labels: { ...standardLabels(id), ...extra.labels },
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  };
}

/** The image reference of a workload. */
export function imageOf(id: WorkloadIdentity): string {
  return images[id.image];
}

/** The pods of one workload of a stack, by its name and instance labels: who may connect. */
export function stackPods(app: string, environment: string): Record<string, string> {
  return { "app.kubernetes.io/name": app, "app.kubernetes.io/instance": environment };
}

/** The labels of a stack's Prometheus pods: who may scrape. */
export function prometheusPodLabels(environment: string): Record<string, string> {
  return { ...stackPods("prometheus", environment), "app.kubernetes.io/part-of": PART_OF };
}

/** The suffix of a stack's agents namespace (node-exporter, the log collector): `<namespace>-agents`, Pod Security "privileged". */
export const AGENTS_SUFFIX = "-agents";

/** The agents namespace of the stack in `namespace`. */
export function agentsNamespaceOf(namespace: string): string {
  return `${namespace}${AGENTS_SUFFIX}`;
}
