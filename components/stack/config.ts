/**
 * The resolved configuration (StackConfig): every key with its value or its profile's default.
 * Each component's section is the defaults type it owns, with the keys that have no default.
 */
import type { databasesSection } from "../database-exporters/section";
import type { ProbeSpec } from "../kit/probes";
import type { Profile } from "../kit/profiles";
import type { ExposedService } from "../kit/web";
import type { ResolvedSections } from "./sections";
import type { ResolvedTracing } from "./tracing";
import type { AppTarget, ScrapeTargetSpec } from "../prometheus/args";

export interface StackConfig {
  project: string;
  stack: string;
  profile: Profile;
  environment: string;
  /** The stack's namespace: given, or monitoring-<environment> (defaultNamespace), so that two stacks share a cluster. */
  namespace: string;
  /**
   * Nodes the stack's pods can be scheduled on (default 1). A workload's replicas never
   * outnumber them and each runs on a node of its own (required anti-affinity), so that a
   * drain always has somewhere to put what it evicts, and on one node every workload runs once.
   */
  nodes: number;
  domain?: string;
  storageClass?: string;
  protectVolumes: boolean;
  /** The team's own rules and dashboards (preflight/team-content.ts): the directory given, or none for the default `team/`. */
  teamContent?: string;
  hostnames: Partial<Record<ExposedService, string>>;
  /** Thresholds of the node alerts teams tune (components/prometheus/rules/thresholds.ts); default rules/nodes.yml's values. */
  thresholds: ResolvedSections["thresholds"];
  apps: AppTarget[];
  /** The database exporters (`databases[]`, with their DSNs), as components/database-exporters/section.ts resolves them. */
  databases: ReturnType<(typeof databasesSection)["resolve"]>["databases"];
  /** Plain scrape targets (`targets[]`). */
  targets: ScrapeTargetSpec[];
  /** Every probe: the apps' (`apps[].probe`), then `probes[]`. The blackbox exporter runs only when there is one. */
  probes: ProbeSpec[];
  prometheus: ResolvedSections["prometheus"];
  alertmanager: ResolvedSections["alertmanager"];
  grafana: ResolvedSections["grafana"];
  loki: ResolvedSections["loki"];
  logCollector: ResolvedSections["logCollector"];
  /**
   * The traces backend (Jaeger with its Badger store): `enabled` as the stack sets it, or on
   * exactly when an app sends OTLP, and `enabledBy` which of the two (components/stack/tracing.ts).
   */
  tracing: ResolvedTracing;
  /** `port`: where it listens on each node's own address (host network); each stack of a cluster has its own. */
  nodeExporter: ResolvedSections["nodeExporter"];
  kubeStateMetrics: ResolvedSections["kubeStateMetrics"];
  traefik: ResolvedSections["traefik"];
  /** What the egress policies take from the cluster's layout, and what teams add (kit's EgressSettings). */
  networkPolicy: ResolvedSections["networkPolicy"];
  /** The stack's PriorityClass (`<namespace>-priority`), given to every pod the stack creates. */
  priorityClass: ResolvedSections["priorityClass"];
  cloudflare: ResolvedSections["cloudflare"];
  /**
   * What the stack watches (components/kit/watch.ts): the namespaces beyond its own, and whether it
   * watches the cluster's shared pieces; nodeExporter.enabled and traefik.metrics.enabled follow `cluster` unless given.
   */
  watch: ResolvedSections["watch"];
  /** ServiceMonitor, PodMonitor, Probe and PrometheusRule objects honoured without the operator (components/monitors/). */
  monitors: ResolvedSections["monitors"];
  /** Scheduled backups to an S3-compatible bucket (components/backup/section.ts), with the store's access key; off by default. */
  backup: ResolvedSections["backup"];
}

/** Whether Traefik (`edge` "traefik") or the Cloudflare tunnel ("cloudflare") publishes a service. */
export function exposedBy(
  cfg: Pick<StackConfig, "traefik" | "cloudflare">,
  service: ExposedService,
  edge: "traefik" | "cloudflare",
): boolean {
  return cfg[edge].enabled && cfg[edge].expose.includes(service);
}

/** The hostname a service is served at publicly, if Traefik or the tunnel publishes it (config refuses an exposure without one). */
export function publicHostname(
  cfg: Pick<StackConfig, "traefik" | "cloudflare" | "hostnames">,
  service: ExposedService,
): string | undefined {
  return exposedBy(cfg, service, "traefik") || exposedBy(cfg, service, "cloudflare") ? cfg.hostnames[service] : undefined;
}
