/** The resolved configuration (StackConfig): every key with its value or its profile's default. */
import { LokiIngestionOverrides } from "../components/loki/limits";
import { Thresholds } from "../components/prometheus/rules/thresholds";
import { EgressComponent, LogCollectorAgent, Profile } from "./fields";

export interface ResourceRequirements {
  requests: { cpu: string; memory: string };
  limits: { cpu?: string; memory: string };
}
export interface StorageSpec {
  size: string;
  storageClass?: string;
  /** The StorageClass expands volumes: a larger `size` may grow existing claims (components/volume-changes.ts). Default false. */
  expandable?: boolean;
  /** For one deployment: another size or StorageClass is allowed, for claims made anew (components/volume-changes.ts). Default false. */
  recreate?: boolean;
  /**
   * Size in a StatefulSet's claim template, when it differs from `size`: the claims' size when
   * the StatefulSet was created. The template is immutable, so growing the claims leaves it as
   * it was (components/volume-changes.ts). Default `size`.
   */
  templateSize?: string;
}

export interface AppTarget {
  name: string;
  /**
   * Either a Service in a namespace, scraped on every ready endpoint of one of its ports:
   * `port`, the Service port's name, `targetPort`, the number the pods serve on (the
   * endpoint's port), or `targetPortName`, the name of the pods' container port. Exactly one
   * of them. Prometheus' endpoints discovery never sees the Service's own port numbers: a
   * number given as `apps[].port` arrives as `servicePort`, which components/service-ports.ts
   * resolves into one of the three from the Service when the program runs.
   */
  service?: { namespace: string; name: string; port?: string; targetPort?: number; targetPortName?: string; servicePort?: number };
  /** ...or a static URL. */
  url?: string;
  path: string;
  scheme: "http" | "https";
  interval?: string;
  labels: Record<string, string>;
  metrics: {
    requests: string;
    duration: string;
    statusLabel: string;
    methodLabel: string;
    routeLabel: string;
    activeConnections: string;
  };
  slo: { availabilityRatio: number; latencyP95Seconds: number; minRequestsPerSecond?: number };
  alerts: { latencyP95Seconds: number; errorRatio: number };
}

/** A plain scrape target (`targets[]`): scraped as job `<name>`, with no app contract. */
export interface ScrapeTargetSpec {
  name: string;
  /** A Service's endpoints, on the Service port of this name or the pods' port number (exactly one)... */
  service?: { namespace: string; name: string; port?: string; targetPort?: number };
  /** ...or a static URL (its path is the metrics path; without one, /metrics). */
  url?: string;
  path: string;
  scheme: "http" | "https";
  interval?: string;
  timeout?: string;
  labels: Record<string, string>;
  tls?: { insecureSkipVerify: boolean; serverName?: string; caPem?: string };
  /** Bearer token or basic auth; the credential comes from an existing Secret or a secret config value. */
  auth?: { type: "bearer" } | { type: "basic"; username: string };
  credential?: { secretRef: { name: string; key: string } } | { value: string };
}

/** One probe of the blackbox exporter: `probes[]`, and `apps[].probe` (with `app`). */
export interface ProbeSpec {
  /** The `probe` label of its series: the probe's or the app's name. */
  name: string;
  /** The app it probes, for `apps[].probe`. */
  app?: string;
  module: "http_2xx" | "tcp_connect";
  /** What it probes: a URL, a host:port, or every ready endpoint of a Service at a path. */
  target:
    | { url: string }
    | { address: string }
    | { service: { namespace: string; name: string; port?: string; targetPort?: number }; scheme: "http" | "https"; path: string };
  /** Status codes that count as up (http_2xx); absent: any 2xx. */
  expectStatus?: number[];
  interval?: string;
  labels: Record<string, string>;
  /** ProbeSlow's threshold. */
  latencySeconds: number;
}

export interface DatabaseExporter {
  name: string;
  type: "postgres" | "redis" | "mongodb";
  /** Always its own Deployment in the stack namespace: sidecars are refused (see components/exporter-sidecars.ts). */
  mode: "standalone";
  /** Where the DSN comes from: an existing Secret in the stack's namespace, or the (secret) config value. */
  dsn: { secretRef: { name: string; key: string } } | { value: string };
  resources: ResourceRequirements;
}

export interface RemoteWriteTarget {
  name: string;
  url: string;
  auth?: { username: string; password: string } | { bearerToken: string };
}

export type ExposedService = "grafana" | "prometheus" | "alertmanager";

/** A named receiver with its integrations, secrets resolved. */
export interface AlertReceiver {
  name: string;
  /** Each Slack channel has its own webhook: a Slack app webhook posts to the channel it was made for. */
  slack?: { channel: string; webhookUrl: string };
  discord?: { webhookUrl: string };
  webhook?: { url: string };
  email?: { to: string[] };
  sendResolved: boolean;
}

/** One route below the Watchdog's, in order. */
export interface AlertRoute {
  receiver: string;
  /** Normalised matchers (`label="value"`); empty matches every alert. */
  matchers: string[];
  continue: boolean;
  groupBy?: string[];
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
}

export interface AlertRouting {
  receivers: AlertReceiver[];
  routes: AlertRoute[];
  /** The root route's receiver: what no route takes. */
  defaultReceiver: string;
  smtp?: { smarthost: string; from: string; username?: string; password?: string; requireTls: boolean };
}

/** A destination a team adds to a workload's egress policy (networkPolicy.extraEgress.<component>[]). */
export interface ExtraEgress {
  /** TCP ports. */
  ports: number[];
  /** Where; default any address (0.0.0.0/0, ::/0) and any pod. */
  cidrs?: string[];
}

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
    /** The legacy keys' receivers, for the default tree (critical and warning split), and the dead man's switch in both trees. */
    receivers: {
      discord?: { webhookUrl?: string; criticalWebhookUrl?: string };
      webhook?: { url: string };
      deadMansSwitch?: { url: string };
    };
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
