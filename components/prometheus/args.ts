/** The Prometheus component's args, and its fixed names, paths and budgets that other parts of the program read. */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseRef } from "../kit/database-exporters";
import type { ProbeSpec } from "../kit/probes";
import { EgressSettings } from "../kit/network";
import { ScrapeTarget, SERVICE_PORTS, serviceUrl } from "../kit/services";
import { WorkloadIdentity, selectorLabels } from "../kit/labels";
import type { RemoteWriteArgsOptions } from "./remote-write";
import { Thresholds } from "./rules/thresholds";
import type { ScrapeLimits } from "./scraped";
import type { PrometheusSettings } from "./section";
import { JOB } from "../kit/stack-jobs";

export interface AppTarget {
  name: string;
  /**
   * Either a Service in a namespace, scraped on every ready endpoint of one of its ports:
   * `port`, the Service port's name, `targetPort`, the number the pods serve on (the
   * endpoint's port), or `targetPortName`, the name of the pods' container port. Exactly one
   * of them. Prometheus' endpoints discovery never sees the Service's own port numbers: a
   * number given as `apps[].port` arrives as `servicePort`, which preflight/service-ports.ts
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
  /**
   * It sends OTLP to the collector: its series arrive with job and app its name (OTEL_SERVICE_NAME).
   * Without `service` and `url` it is not scraped at all.
   */
  otlp?: boolean;
  /** The namespace its pods send OTLP from (apps[].namespace): the collector's OTLP endpoint admits only these. */
  otlpNamespace?: string;
  /** This app's job's limits, over prometheus.scrapeLimits. Default: those. */
  limits?: Partial<ScrapeLimits>;
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
  /** This target's job's limits, over prometheus.scrapeLimits. Default: those. */
  limits?: Partial<ScrapeLimits>;
}

/** Defaults of one app entry's optional fields. */
export const APP_DEFAULTS = {
  path: "/metrics",
  scheme: "http" as const,
  metrics: {
    requests: "http_requests_total",
    duration: "http_request_duration_seconds",
    statusLabel: "status",
    methodLabel: "method",
    routeLabel: "endpoint",
    activeConnections: "http_connections_active",
  },
  slo: { availability: 99.9, latencyP95Seconds: 0.5 },
  alerts: { latencyP95Seconds: 1, errorRatePercent: 5 },
};

/**
 * The app contract of an app that sends OTLP instead of being scraped (`apps[].otlp` without a
 * service or URL): OpenTelemetry's HTTP server metrics (http.server.request.duration in seconds,
 * http.server.active_requests) as Prometheus' OTLP receiver names them, with their attributes as labels.
 */
export const OTLP_APP_METRICS: AppTarget["metrics"] = {
  requests: "http_server_request_duration_seconds_count",
  duration: "http_server_request_duration_seconds",
  statusLabel: "http_response_status_code",
  methodLabel: "http_request_method",
  routeLabel: "http_route",
  activeConnections: "http_server_active_requests",
};

/** Jobs of Prometheus' own scrape configs (scrape-jobs.ts); apps and scrape targets may not take their names. */
export const BUILTIN_SCRAPE_JOBS: readonly string[] = [JOB.pods, JOB.kubelet, JOB.cadvisor];
/** Labels the scrape config sets on targets itself; extra target labels may not take their names. */
export const RESERVED_TARGET_LABELS: readonly string[] = ["app", "job", "instance", "namespace", "pod", "service", "node"];

/** Port of the `prometheus` Service and container. */
export const PROMETHEUS_PORT = SERVICE_PORTS.prometheus;

/** Where the container finds what it reads; the config names these paths. */
export const PROMETHEUS_PATHS = {
  configDir: "/etc/prometheus/config",
  configFile: "/etc/prometheus/config/prometheus.yml",
  rulesDir: "/etc/prometheus/rules",
  remoteWriteDir: "/etc/prometheus/secrets/remote-write",
  /** Credentials and CA certificates of `targets[]`: `<name>-credential`, `<name>-ca.crt`. */
  targetSecretsDir: "/etc/prometheus/secrets/targets",
  /** Passwords and CA certificates of the components' scrape targets (node-exporter): `<job>-password`, `<job>-ca.crt`. */
  scrapeSecretsDir: "/etc/prometheus/secrets/scrape",
  data: "/prometheus",
  serviceAccountDir: "/var/run/secrets/kubernetes.io/serviceaccount",
} as const;

/** Keys of the ConfigMaps (unique within the component: each becomes files/prometheus/<key>). */
export const CONFIG_KEY = "prometheus.yml";

/** The generated app rules: this file, then apps-2.rules.yml, apps-3.rules.yml, ... one per group of the app contract. */
export const APP_RULES_KEY = "apps.rules.yml";

/** The apps' scrape jobs, when prometheus.yml would outgrow GENERATED_FILE_BUDGET: apps.scrape.yml, apps-2.scrape.yml, ... */
export const APP_SCRAPE_KEY = "apps.scrape.yml";

/** The n-th file of a series that starts at `first` (apps.rules.yml, apps-2.rules.yml, ...). */
export function numberedKey(first: string, index: number): string {
  return index === 0 ? first : first.replace(/^([^.]+)\./, `$1-${index + 1}.`);
}

/** Names of generated files, which rule files of rulesDir may not take. */
export const GENERATED_KEY = /^(apps(-\d+)?\.(rules|scrape)|probes\.rules|databases\.rules|backups\.rules)\.yml$/;

/** The probes' thresholds (components/blackbox-exporter.ts): one recorded series per probe. */
export const PROBE_RULES_KEY = "probes.rules.yml";

/** The backups' schedule (components/backup): its longest wait, recorded for BackupTooOld (rules/backup.yml). */
export const BACKUP_RULES_KEY = "backups.rules.yml";

/** The configured databases' alerts on a vanished exporter (components/prometheus/rules/database-rules.ts). */
export const DATABASE_RULES_KEY = "databases.rules.yml";

/** Kubernetes refuses objects over 1 MiB. */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;

/** What the component keeps every object under, well below the API server's limit, whatever the number of apps. */
export const OBJECT_BUDGET_BYTES = 512 * 1024;

/** Serialised data of one ConfigMap; its metadata and managed fields fit in the rest of OBJECT_BUDGET_BYTES. */
export const CONFIGMAP_DATA_BUDGET = OBJECT_BUDGET_BYTES - 64 * 1024;

/** The apps' scrape jobs are cut into files of at most this size, so that two fit in one ConfigMap. */
export const GENERATED_FILE_BUDGET = 192 * 1024;

/** The repository's alert rules, read when the program runs. */
export const DEFAULT_RULES_DIR = path.resolve(__dirname, "..", "..", "rules");

/** A remote-write destination; the credential reaches the pod only through a Kubernetes Secret. */
export interface RemoteWriteArgs {
  /** Unique name (DNS label): the queue's name in Prometheus' metrics and the Secret key. */
  name: string;
  /** The push endpoint, e.g. https://mimir.example.com/api/v1/push. */
  url: string;
  /** Credentials: basic auth (username and password) or a bearer token. Default: none. */
  auth?: { type: "basic"; username: string; password: pulumi.Input<string> } | { type: "bearer"; token: pulumi.Input<string> };
  /** Extra headers (a tenant), the series kept or dropped, the queue, TLS (the client key a secret): remote-write.ts. Default none. */
  options?: RemoteWriteArgsOptions;
}

/** A plain scrape target; a credential given as a value reaches the pod only through a Kubernetes Secret. */
export type TargetArgs = Omit<ScrapeTargetSpec, "credential"> & {
  credential?: { secretRef: { name: string; key: string } } | { value: pulumi.Input<string> };
};

/** Where Prometheus sends alerts: every endpoint of the Service with these labels, on this port. */
export type AlertmanagerTarget = Pick<ScrapeTarget, "namespace" | "selector" | "port" | "scheme">;

/** Where the cluster's Traefik runs: its pods' namespace and labels, and the container port of its metrics entry point. */
export interface ClusterTraefik {
  namespace: string;
  podLabels: Record<string, string>;
  port: number;
}

/**
 * The component's args: the section's resolved values (section.ts: replicas, retention and its size
 * cap, the scrape and evaluation intervals, the external labels, the scrape limits, the link into
 * published runbooks, storage, resources), the remote writes with their credentials as Pulumi
 * secrets, and what the stack wires in.
 */
export interface PrometheusArgs extends Omit<PrometheusSettings, "remoteWrite"> {
  /** Namespace of the stack. It must exist first: pass its MonitoringNamespace in `opts.dependsOn`. */
  namespace: string;
  /** The stack's environment: the `environment` external label and app.kubernetes.io/instance. */
  environment: string;
  /** Apps to scrape, each as job `<name>` with label `app="<name>"`, and to normalise with recording rules. Default none. */
  apps?: AppTarget[];
  /** Plain scrape targets, each as job `<name>`, without the app contract. Default none. */
  targets?: TargetArgs[];
  /** Probes run by the blackbox exporter at `blackboxAddress`, each as job `blackbox` with label `probe="<name>"`. Default none. */
  probes?: ProbeSpec[];
  /** host:port of the blackbox exporter's Service; required with probes. */
  blackboxAddress?: string;
  /**
   * The configured databases, by name and type: each gets an alert when its exporter's series
   * are absent (components/prometheus/rules/database-rules.ts). Default none.
   */
  databases?: DatabaseRef[];
  /** The other components' metrics endpoints (MonitoringStack collects them). Prometheus adds its own. Default none. */
  scrapeTargets?: ScrapeTarget[];
  /** The cluster's own Traefik, scraped as job `traefik` (its pods, found by labels, on their metrics port). Default: not scraped. */
  clusterTraefik?: ClusterTraefik;
  /**
   * The namespaces the stack watches (config watch): the annotated pods are found only there, and the
   * kubelet's and cAdvisor's series kept only when their `namespace` is one of them or none (the
   * node's own). Default: every namespace.
   */
  watchedNamespaces?: string[];
  /** Alertmanager to send alerts to (every peer behind its Service). Default: none, rules are evaluated but alerts go nowhere. */
  alertmanager?: AlertmanagerTarget;
  /** Remote-write destinations (Mimir, Thanos, VictoriaMetrics). Default none. */
  remoteWrite?: RemoteWriteArgs[];
  /** Directory of the alert rule files (every `*.yml` in it). Default: the repository's rules/. */
  rulesDir?: string;
  /**
   * Files of `rulesDir` left out because the component whose metrics they read does not run
   * (`logs.yml` without Loki: components/stack/args.ts decides). Their alerts still count as
   * known to `thresholds`. Default none.
   */
  withoutRuleFiles?: string[];
  /**
   * Alerts of the files of `rulesDir` left out because nothing the stack runs can feed them (a
   * database kind's alerts without a database of that kind: components/stack/args.ts decides); a
   * group or file they leave empty goes too. They still count as known to `thresholds`. Default none.
   */
  withoutAlerts?: string[];
  /** The team's own rule files, by key (`team.<name>.yml`), shipped after those of `rulesDir` (preflight/team-content.ts). */
  teamRuleFiles?: Array<[string, string]>;
  /**
   * The rule files of the cluster's PrometheusRule objects and the generated record of what was loaded
   * (components/prometheus/rules/operator-rules.ts), by key, shipped last. Default none.
   */
  operatorRuleFiles?: Array<[string, string]>;
  /**
   * Levels of the node alerts teams tune (CPU, memory, disk: components/prometheus/rules/thresholds.ts), written
   * into the rule files as they are loaded. Default: the rule files' own values.
   */
  thresholds?: Thresholds;
  /**
   * Protect each replica's claim (the stored metrics) from deletion and replacement, and keep
   * it in the cluster when it leaves the stack (`protect` + `retainOnDelete`). Default false:
   * the claims go with the stack.
   */
  protectVolumes?: boolean;
  /** Public hostname when Traefik or the Cloudflare tunnel exposes Prometheus: links in alerts point there. Default: the in-cluster URL. */
  publicHostname?: string;
  /** Admit Traefik's pods (kube-system) to the HTTP port. Default false. */
  ingressFromTraefik?: boolean;
  /** Admit the cloudflared pods of the stack to the HTTP port. Default false. */
  ingressFromCloudflared?: boolean;
  /**
   * Take OTLP metrics (`--web.enable-otlp-receiver`, /api/v1/otlp/v1/metrics) from the collector in this
   * namespace with this workload name (the agents namespace, `alloy`): apps' OTLP metrics, forwarded.
   * Default none: no OTLP receiver.
   */
  otlpReceiver?: { namespace: string; agent: string };
  /**
   * Take remote writes (`--web.enable-remote-write-receiver`, /api/v1/write) from the collector in this
   * namespace with this workload name: the samples it scrapes for the monitors (config monitors).
   * Default none: no remote-write receiver.
   */
  remoteWriteReceiver?: { namespace: string; agent: string };
  /**
   * The remote-write receiver on for another stack's collector, the one that serves this stack (logCollector.sharedFrom)
   * and scrapes its monitors: its pods (`agent`, whatever their environment) in `namespace` may write. Default none.
   */
  sharedRemoteWriter?: { namespace: string; agent: string };
  /**
   * The collectors above write on the write port (PROMETHEUS_WRITE_PORT, a proxy that lets their writes through and
   * nothing else: admin-proxy.ts), and are admitted there alone: set while a collector that writes here scrapes the
   * operator's monitors, whose GETs go wherever a tenant's monitor points. Default false: they write on 9090.
   */
  writePort?: boolean;
  /**
   * The stack's backups (components/backup): the OTLP receiver on for their outcome, pushed from the
   * stack's namespace, and with `adminApi` the TSDB admin API (`--web.enable-admin-api`) for their
   * snapshot. Both stay inside the stack's namespace: its ingress policy admits only the stack's pods
   * and the exposing proxies, and Traefik and the tunnel refuse /api/v1/otlp and /api/v1/admin.
   * `stack` and `longestWaitSeconds` (the schedule's longest wait between two runs) are recorded in
   * backups.rules.yml, the bound BackupTooOld doubles. Default none.
   */
  backups?: { adminApi: boolean; stack: string; longestWaitSeconds: number };
  /**
   * Keep exemplars (`--enable-feature=exemplar-storage`: the trace ids apps attach to samples, which
   * Grafana links to their traces), in a ring of Prometheus' default size (100000). Default false.
   */
  exemplars?: boolean;
  /** Where the API server and the nodes are, and further destinations (config networkPolicy). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pods. Default none. */
  priorityClassName?: string;
}

/** Who Prometheus is, for labels and selectors. */
export function prometheusIdentity(environment: string): WorkloadIdentity {
  return { name: "prometheus", component: "metrics-server", instance: environment, image: "prometheus" };
}

/** `http://prometheus.<namespace>.svc:9090`. */
export function prometheusInClusterUrl(namespace: string): string {
  return serviceUrl("prometheus", namespace, PROMETHEUS_PORT);
}

/** Prometheus' own metrics, scraped by every replica. */
export function prometheusScrapeTarget(namespace: string, environment: string): ScrapeTarget {
  return { job: JOB.prometheus, namespace, selector: selectorLabels(prometheusIdentity(environment)), port: "http" };
}
