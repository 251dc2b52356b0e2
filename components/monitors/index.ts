/**
 * The CustomResourceDefinitions of ServiceMonitor, PodMonitor, Probe and PrometheusRule, for a
 * cluster that has none: the stack reads objects of those kinds (the collector scrapes the
 * monitors, Prometheus loads the rules), and charts create them only when the API knows the kinds.
 * Each is marked as this stack's (label and annotation, components/monitors/args.ts), so that the
 * next deployment, this stack's or another's, tells them from CRDs another owner installed
 * (preflight/operator-crds.ts), and kept in the cluster when the stack goes (`retainOnDelete`):
 * deleting a CRD deletes every object of its kind, other charts' included.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StackComponent } from "../kit/component";
import { stackLabels } from "../kit/labels";
import {
  CRD_OWNER_ANNOTATION,
  CRD_OWNER_LABEL,
  CRD_OWNER_VALUE,
  CRD_RELEASE_ANNOTATION,
  MonitorKind,
  PROMETHEUS_OPERATOR_RELEASE,
  crdName,
} from "./args";
import { crdSpec } from "./crds";

export interface MonitorCrdsArgs {
  /** The stack's namespace: the owner the annotation names. */
  namespace: string;
  /** The stack's environment (app.kubernetes.io/instance). */
  environment: string;
  /** The kinds whose CRD this stack installs (those the cluster has none of, or this stack installed). */
  kinds: MonitorKind[];
}

export class MonitorCrds extends StackComponent {
  /** The CRDs this stack installed, by kind. */
  public readonly crds: Partial<Record<MonitorKind, k8s.apiextensions.v1.CustomResourceDefinition>> = {};

  constructor(name: string, args: MonitorCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitoring:index:MonitorCrds", name, opts);
    for (const kind of args.kinds) {
      this.crds[kind] = new k8s.apiextensions.v1.CustomResourceDefinition(
        `${name}-${kind.toLowerCase()}`,
        {
          metadata: {
            name: crdName(kind),
            labels: { ...stackLabels(args.environment), [CRD_OWNER_LABEL]: CRD_OWNER_VALUE },
            annotations: { [CRD_OWNER_ANNOTATION]: args.namespace, [CRD_RELEASE_ANNOTATION]: PROMETHEUS_OPERATOR_RELEASE },
          },
          spec: crdSpec(kind),
        },
        // Kept when the stack goes: other charts' objects of the kind live in it.
        { parent: this, retainOnDelete: true },
      );
    }
    this.registerOutputs({});
  }
}
