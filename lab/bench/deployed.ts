/**
 * Where the processes the bench measures run in the staging render: found by the image each one
 * is, as components/images.ts pins it, rather than by a workload's name, so that a component
 * that moves (the database exporters, once sidecars in the databases' pods, now Deployments of
 * their own) is still found. The live phases read this after 27 minutes of measuring;
 * test/scripts/bench-deployed.test.ts holds it to the staging render without running them.
 */
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { DATABASE_TYPES, DatabaseType } from "../../components/kit/database-exporters";
import { ImageName, images } from "../../components/images";
import { quantityBytes } from "../../components/kit/units";
import type { Rendered } from "../../cli/render";
import type { Component } from "./sampling";

/**
 * What the bench renders the staging stack with besides its workload: alone on its machine, it
 * watches the cluster's nodes too (monitoring:watch.cluster), so that node-exporter runs and is measured.
 */
export const BENCH_STACK_SETS: readonly string[] = ["watch.cluster=true"];

/**
 * The image each measured process is, or undefined for one the stack does not deploy (the second
 * Prometheus of `--compare-rules`). A process added to the bench names its image here before it compiles.
 */
export const MEASURED_IMAGE: { readonly [C in Component]: ImageName | undefined } = {
  prometheus: "prometheus",
  "prometheus-compare": undefined,
  alertmanager: "alertmanager",
  loki: "loki",
  alloy: "alloy",
  jaeger: "jaeger",
  "node-exporter": "nodeExporter",
  "postgres-exporter": DATABASE_KINDS.postgres.image,
  "redis-exporter": DATABASE_KINDS.redis.image,
};

/** The app that sends OTLP in the OTLP footprint's render (lab/bench/otlp-footprint.ts). */
export const OTLP_BENCH_APP = "checkout";

/**
 * The staging stack file with that app, as the OTLP footprint renders it: Jaeger and the OTLP
 * endpoint run because of it (tracing.enabled follows the apps; the stack file's own send no OTLP).
 */
export const OTLP_SETS = [`apps[2]={name: ${OTLP_BENCH_APP}, namespace: shop-staging, otlp: true}`];

/** A container of a workload in a render. */
export interface DeployedContainer {
  kind: string;
  name: string;
  container: string;
  requestBytes?: number;
  limitBytes?: number;
}

type Container = { name: string; image: string; resources?: { requests?: { memory?: string }; limits?: { memory?: string } } };

const WORKLOADS = ["Deployment", "StatefulSet", "DaemonSet"];

/** Every container of the render's workloads, with the workload, its image and its memory request and limit. */
function containers(rendered: Pick<Rendered, "kubernetes">): Array<DeployedContainer & { image: string }> {
  return rendered.kubernetes
    .filter(({ object, patch }) => WORKLOADS.includes(object.kind) && !patch)
    .flatMap(({ object }) =>
      ((object.spec as { template?: { spec?: { containers?: Container[] } } }).template?.spec?.containers ?? []).map((c) => ({
        kind: object.kind,
        name: object.metadata.name ?? "",
        container: c.name,
        image: c.image,
        requestBytes: quantityBytes(c.resources?.requests?.memory ?? ""),
        limitBytes: quantityBytes(c.resources?.limits?.memory ?? ""),
      })),
    );
}

/** The containers of the render that run an image (by its pinned reference), in the render's order. */
export function containersOf(rendered: Pick<Rendered, "kubernetes">, image: ImageName): DeployedContainer[] {
  return containers(rendered)
    .filter((c) => c.image === images[image])
    .map(({ kind, name, container, requestBytes, limitBytes }) => ({ kind, name, container, requestBytes, limitBytes }));
}

/**
 * Where a measured process runs in the render, with the memory request and limit its figures are
 * held to: the first container of its image that has both. Undefined for a process the stack does
 * not deploy; an error naming the image when the render runs it nowhere with both.
 */
export function deployedContainer(
  rendered: Pick<Rendered, "kubernetes">,
  component: Component,
): (DeployedContainer & { requestBytes: number; limitBytes: number }) | undefined {
  const image = MEASURED_IMAGE[component];
  if (image === undefined) return undefined;
  const found = containersOf(rendered, image).find((c) => c.requestBytes !== undefined && c.limitBytes !== undefined);
  if (!found) throw new Error(`${component}: no container of ${images[image]} with memory requests and limits in the render`);
  return found as DeployedContainer & { requestBytes: number; limitBytes: number };
}

/** The databases the render runs an exporter for, by kind: the exporter's workload name without `-exporter`. */
export function exportedDatabases(rendered: Pick<Rendered, "kubernetes">): Array<{ type: DatabaseType; name: string }> {
  return DATABASE_TYPES.flatMap((type) =>
    containersOf(rendered, DATABASE_KINDS[type].image)
      .filter((c) => c.kind === "Deployment")
      .map((c) => ({ type, name: c.name.replace(/-exporter$/, "") })),
  );
}

/** The databases the live phases run a server and an exporter for: the render's PostgreSQL and Redis ones. */
export function benchDatabases(rendered: Pick<Rendered, "kubernetes">): Array<{ type: "postgres" | "redis"; name: string }> {
  return exportedDatabases(rendered).flatMap(({ type, name }) => (type === "postgres" || type === "redis" ? [{ type, name }] : []));
}
