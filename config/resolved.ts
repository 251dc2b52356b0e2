/** The resolved configuration (StackConfig): every key with its value or its profile's default. */
import type { AlertReceivers, AlertRouting } from "../components/alertmanager/args";
import type { DatabaseExporter } from "../components/kit/database-exporters";
import type { EgressComponent, ExtraEgress } from "../components/kit/network";
import type { ProbeSpec } from "../components/kit/probes";
import type { Profile } from "../components/kit/profiles";
import type { ResourceRequirements, StorageSpec } from "../components/kit/resources";
import type { ExposedService } from "../components/kit/web";
import type { LogCollectorAgent } from "../components/log-collector/args";
import type { LokiIngestionOverrides } from "../components/loki/limits";
import type { AppTarget, RemoteWriteTarget, ScrapeTargetSpec } from "../components/prometheus/args";
import type { Thresholds } from "../components/prometheus/rules/thresholds";

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
  /** The team's own rules and dashboards (components/team-content.ts): the directory given, or none for the default `team/`. */
  teamContent?: string;
  hostnames: Partial<Record<ExposedService, string>>;
  /** Thresholds of the node alerts teams tune (components/thresholds.ts); default rules/nodes.yml's values. */
  thresholds: Thresholds;
  apps: AppTarget[];
  databases: DatabaseExporter[];
  /** Plain scrape targets (`targets[]`). */
  targets: ScrapeTargetSpec[];
  /** Every probe: the apps' (`apps[].probe`), then `probes[]`. The blackbox exporter runs only when there is one. */
  probes: ProbeSpec[];
  prometheus: {
    replicas: number;
    retention: string;
    retentionSize: string;
    scrapeInterval: string;
    scrapeTimeout: string;
    evaluationInterval: string;
    externalLabels: Record<string, string>;
    remoteWrite: RemoteWriteTarget[];
    /** Published docs/runbooks.md: each alert's `runbook` reference becomes a `runbook_url` link into it. Default none: no link. */
    runbookBaseUrl?: string;
    storage: StorageSpec;
    resources: ResourceRequirements;
  };
  alertmanager: {
    replicas: number;
    groupWait: string;
    groupInterval: string;
    repeatInterval: string;
    receivers: AlertReceivers;
    /** The team's own routing (alertmanager.receivers, routes, defaultReceiver, smtp); none: the default tree. */
    routing?: AlertRouting;
    storage: StorageSpec;
    resources: ResourceRequirements;
  };
  grafana: {
    replicas: number;
    adminUser: string;
    /** Title of the folder users save dashboards into from the UI (not provisioned; components/grafana.ts). */
    writableFolder: string;
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
    storage: StorageSpec;
    resources: ResourceRequirements;
  };
  /** `ingestion`: the limits the stack sets itself, in bytes; the others are derived from the volume (components/loki-limits.ts). */
  loki: { enabled: boolean; retention: string; storage: StorageSpec; resources: ResourceRequirements; ingestion: LokiIngestionOverrides };
  logCollector: { enabled: boolean; agent: LogCollectorAgent; resources: ResourceRequirements };
  /** `port`: where it listens on each node's own address (host network); each stack of a cluster has its own. */
  nodeExporter: { enabled: boolean; port: number; resources: ResourceRequirements };
  kubeStateMetrics: { enabled: boolean; resources: ResourceRequirements };
  traefik: {
    enabled: boolean;
    entryPoints: string[];
    tlsSecretName?: string;
    certResolver?: string;
    expose: ExposedService[];
    basicAuthUsers: string[];
    /** Basic-auth passwords given as secrets, by user; the other users get random ones. */
    basicAuthPasswords: Record<string, string>;
  };
  /** What the egress policies take from the cluster's layout, and what teams add (kit's EgressSettings). */
  networkPolicy: {
    apiServerCidrs: string[];
    apiServerPorts: number[];
    nodeCidrs: string[];
    extraEgress: Record<EgressComponent, ExtraEgress[]>;
  };
  /** The stack's PriorityClass (`<namespace>-priority`), given to every pod the stack creates. */
  priorityClass: { enabled: boolean; value: number };
  cloudflare: {
    enabled: boolean;
    accountId?: string;
    zoneId?: string;
    tunnelName: string;
    replicas: number;
    expose: ExposedService[];
    access: { enabled: boolean; emails: string[]; emailDomains: string[]; sessionDuration: string };
    resources: ResourceRequirements;
  };
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
