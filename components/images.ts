/**
 * Every container image the stack runs, pinned to an exact version: one file, one
 * place to bump versions. Never `latest`; a test enforces it. The metric catalogue
 * in test/catalog/ describes the metrics of these exact versions.
 */
export const images = {
  prometheus: "quay.io/prometheus/prometheus:v3.5.0",
  alertmanager: "quay.io/prometheus/alertmanager:v0.28.1",
  grafana: "docker.io/grafana/grafana:12.1.1",
  loki: "docker.io/grafana/loki:3.5.3",
  promtail: "docker.io/grafana/promtail:3.5.3",
  nodeExporter: "quay.io/prometheus/node-exporter:v1.9.1",
  kubeStateMetrics: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.15.0",
  postgresExporter: "quay.io/prometheuscommunity/postgres-exporter:v0.17.1",
  redisExporter: "docker.io/oliver006/redis_exporter:v1.74.0",
  mongodbExporter: "docker.io/percona/mongodb_exporter:0.44.0",
  configReloader: "quay.io/prometheus-operator/prometheus-config-reloader:v0.85.0",
  cloudflared: "docker.io/cloudflare/cloudflared:2025.8.1",
} as const;

export type ImageName = keyof typeof images;

/** The version part of a pinned image reference (used for the app.kubernetes.io/version label). */
export function imageVersion(name: ImageName): string {
  const ref = images[name];
  return ref.slice(ref.lastIndexOf(":") + 1);
}
