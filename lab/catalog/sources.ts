/** The sources `npm run catalog` generates, in the order it runs them: each one's generator in its own file beside this one. */
import { nodeExporter } from "./node-exporter";
import { prometheus } from "./prometheus";
import { alertmanager } from "./alertmanager";
import { loki } from "./loki";
import { alloy } from "./alloy";
import { jaeger } from "./jaeger";
import { spanMetrics } from "./span-metrics";
import { kubeStateMetrics } from "./kube-state-metrics";
import { blackboxExporter } from "./blackbox-exporter";
import { traefik } from "./traefik";
import { TOOLS } from "../tools/tools";
import type { Source } from "./run";
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { DATABASE_TYPES, DatabaseType, exporterJob } from "../../components/kit/database-exporters";
import { postgresExporter } from "./postgres-exporter";
import { redisExporter } from "./redis-exporter";
import { mongodbExporter } from "./mongodb-exporter";

/**
 * How each database kind's exporter is catalogued: the generator that runs it (against a server
 * started here, where one can be had); the rest of its source (name, title, image, job, binary)
 * comes from the kind's entry (components/database-exporters/kinds.ts).
 */
const DATABASE_CATALOGUES: { [T in DatabaseType]: Pick<Source, "generate" | "handWritten"> } = {
  postgres: { generate: postgresExporter },
  redis: { generate: redisExporter },
  // No MongoDB server can be installed here: what it emits without one, after a hand-written part.
  mongodb: { generate: mongodbExporter, handWritten: true },
};

export const SOURCES: Source[] = [
  {
    name: "node-exporter",
    title: "node-exporter",
    image: "nodeExporter",
    job: 'job "node-exporter", instance = node name',
    binary: "node_exporter",
    timeoutMs: 60_000,
    generate: nodeExporter,
  },
  {
    name: "prometheus",
    title: "Prometheus",
    image: "prometheus",
    job: 'job "prometheus"',
    binary: "prometheus",
    timeoutMs: 180_000,
    generate: prometheus,
  },
  {
    name: "alertmanager",
    title: "Alertmanager",
    image: "alertmanager",
    job: 'job "alertmanager"',
    binary: "alertmanager",
    timeoutMs: 240_000,
    generate: alertmanager,
  },
  {
    name: "loki",
    title: "Loki",
    image: "loki",
    job: 'single binary, job "loki"',
    binary: "loki",
    timeoutMs: 240_000,
    generate: loki,
  },
  {
    name: "alloy",
    title: "Grafana Alloy",
    image: "alloy",
    job: 'DaemonSet, the log collector (logCollector.agent: alloy, the default), job "alloy"',
    binary: "alloy",
    timeoutMs: 180_000,
    generate: alloy,
  },
  {
    name: "jaeger",
    title: "Jaeger",
    image: "jaeger",
    job: 'the traces backend (tracing.enabled), job "jaeger", instance = pod',
    binary: "jaeger",
    timeoutMs: 120_000,
    generate: jaeger,
  },
  {
    name: "span-metrics",
    title: "Span metrics",
    image: "alloy",
    job: "pushed by the log collector's OTLP endpoint to Prometheus (tracing.enabled), job = the service's name, instance = its pod",
    binary: "alloy",
    timeoutMs: 180_000,
    generate: spanMetrics,
  },
  {
    name: "kube-state-metrics",
    title: "kube-state-metrics",
    image: "kubeStateMetrics",
    job: 'job "kube-state-metrics"',
    binary: "kube-state-metrics",
    timeoutMs: 420_000,
    generate: kubeStateMetrics,
  },
  ...DATABASE_TYPES.map((type): Source => {
    const { image, upstream } = DATABASE_KINDS[type];
    const job = exporterJob(type);
    return {
      name: job,
      title: upstream.title,
      image,
      job: `job "${job}"`,
      binary: upstream.binary,
      timeoutMs: 120_000,
      ...DATABASE_CATALOGUES[type],
    };
  }),
  {
    name: "blackbox-exporter",
    title: "blackbox_exporter",
    image: "blackboxExporter",
    job: 'job "blackbox-exporter" (its own metrics), job "blackbox" (the probes, label probe)',
    binary: "blackbox_exporter",
    timeoutMs: 60_000,
    generate: blackboxExporter,
  },
  {
    name: "traefik",
    title: "Traefik",
    image: { version: TOOLS.find((t) => t.binary === "traefik")?.release ?? "", runs: "k3s's own ingress, not deployed by the stack" },
    job: 'job "traefik" (discovered in kube-system, traefik.* in the stack config)',
    binary: "traefik",
    timeoutMs: 120_000,
    generate: traefik,
  },
];
