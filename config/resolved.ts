/**
 * The resolved configuration (StackConfig): every key with its value or its profile's default.
 * Each component's section is the defaults type it owns, with the keys that have no default.
 */
import type { AlertRouting, AlertmanagerDefaults } from "../components/alertmanager/args";
import type { CloudflareTunnelDefaults } from "../components/cloudflare-tunnel/args";
import type { KubeStateMetricsDefaults } from "../components/exporters/kube-state-metrics";
import type { NodeExporterDefaults } from "../components/exporters/node-exporter";
import type { GrafanaDefaults } from "../components/grafana/args";
import type { DatabaseExporter } from "../components/kit/database-exporters";
import type { EgressComponent, ExtraEgress } from "../components/kit/network";
import type { ProbeSpec } from "../components/kit/probes";
import type { Profile } from "../components/kit/profiles";
import type { ExposedService } from "../components/kit/web";
import type { LogCollectorDefaults } from "../components/log-collector/args";
import type { ResolvedSections } from "./sections";
import type { TracingDefaults } from "../components/tracing/args";
import type { AppTarget, ScrapeTargetSpec } from "../components/prometheus/args";
import type { TraefikDefaults } from "../components/traefik";
import type { ClusterTraefik } from "../components/prometheus/args";

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
  databases: DatabaseExporter[];
  /** Plain scrape targets (`targets[]`). */
  targets: ScrapeTargetSpec[];
  /** Every probe: the apps' (`apps[].probe`), then `probes[]`. The blackbox exporter runs only when there is one. */
  probes: ProbeSpec[];
  prometheus: ResolvedSections["prometheus"];
  alertmanager: AlertmanagerDefaults & {
    /** The team's own routing (alertmanager.receivers, routes, defaultReceiver, smtp); none: the default tree. */
    routing?: AlertRouting;
  };
  grafana: GrafanaDefaults & {
    /** Given as a secret; otherwise the Grafana component generates one. */
    adminPassword?: string;
    database?: {
      type: "postgres" | "mysql";
      host: string;
      name: string;
      user: string;
      password?: string;
      sslMode: "disable" | "require" | "verify-full";
    };
  };
  loki: ResolvedSections["loki"];
  logCollector: LogCollectorDefaults;
  /** The traces backend (Jaeger with its Badger store). */
  tracing: TracingDefaults;
  /** `port`: where it listens on each node's own address (host network); each stack of a cluster has its own. */
  nodeExporter: NodeExporterDefaults;
  kubeStateMetrics: KubeStateMetricsDefaults;
  /** `metrics`: the scrape of the cluster's own Traefik (job traefik), apart from the routes the stack gives it. */
  traefik: TraefikDefaults & { tlsSecretName?: string; certResolver?: string; metrics: ClusterTraefik & { enabled: boolean } };
  /** What the egress policies take from the cluster's layout, and what teams add (kit's EgressSettings). */
  networkPolicy: {
    apiServerCidrs: string[];
    apiServerPorts: number[];
    nodeCidrs: string[];
    extraEgress: Record<EgressComponent, ExtraEgress[]>;
  };
  /** The stack's PriorityClass (`<namespace>-priority`), given to every pod the stack creates. */
  priorityClass: { enabled: boolean; value: number };
  cloudflare: CloudflareTunnelDefaults & { accountId?: string; zoneId?: string };
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
