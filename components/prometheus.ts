/**
 * Prometheus: a StatefulSet (one volume per replica) that scrapes every component
 * of the stack, annotated pods, the configured apps and the kubelets, evaluates the
 * rule files of rules/ plus the generated app rules, and sends alerts to every
 * Alertmanager peer. Config and rules are ConfigMaps with stable names mounted as
 * directories: kubelet updates the files in place and Prometheus 3 reloads them by
 * itself (auto-reload-config), so a config or rule change never restarts a pod.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { appRecordingRules } from "./app-rules";
import { databaseExporterRules } from "./database-rules";
import {
  APP_DEFAULTS,
  AppTarget,
  BUILTIN_SCRAPE_JOBS,
  DatabaseExporter,
  ProbeSpec,
  ScrapeTargetSpec,
  RESERVED_TARGET_LABELS,
  RUNBOOK_PATH,
  ResourceRequirements,
  StackConfig,
  StorageSpec,
  exposedBy,
  publicHostname,
} from "../config";
import { DATABASE_LABEL, ENVIRONMENT_LABEL, EXPORTER_KINDS, EXPORTER_LABEL } from "./exporter-sidecars";
import {
  IngressPeer,
  ingressPolicySpec,
  TRAEFIK_PODS,
  DEFAULT_EGRESS,
  EgressRule,
  EgressSettings,
  KUBELET_PORT,
  anywhereOn,
  apiServerEgress,
  egressPolicyName,
  egressPolicySpec,
  egressSettings,
  extraEgressRules,
  uniquePorts,
  urlPort,
} from "./kit/network";
import { ScrapeTarget, SERVICE_PORTS, serviceUrl } from "./kit/services";
import { WorkloadIdentity, imageOf, objectMeta, selectorLabels, standardLabels, stackPods } from "./kit/labels";
import {
  httpProbe,
  resourcesOf,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  spreadAcrossNodes,
  oneAtATimeDisruptionBudget,
} from "./kit/pods";
import { scratchVolume, claimRetentionPolicy, statefulSetClaims, volumeClaimTemplate } from "./kit/volumes";
import { StackComponent } from "./kit/component";
import { podPriority, stackPriorityClass } from "./kit/priority";
import { WEB_CONFIG_FILE, webConfig } from "./kit/web";
import { THRESHOLD_LEVELS, THRESHOLD_NAMES, THRESHOLD_SPECS, Thresholds, applyThresholds, defaultThresholds } from "./thresholds";
import { durationSeconds } from "./kit/units";

// ---------------------------------------------------------------------------
// Fixed names and paths

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
  data: "/prometheus",
  serviceAccountDir: "/var/run/secrets/kubernetes.io/serviceaccount",
} as const;

/** Name of the StatefulSet; its replicas' claims are `data-prometheus-<ordinal>`. */
const STATEFULSET_NAME = "prometheus";

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
const GENERATED_KEY = /^(apps(-\d+)?\.(rules|scrape)|probes\.rules|databases\.rules)\.yml$/;
/** The probes' thresholds (components/blackbox-exporter.ts): one recorded series per probe. */
export const PROBE_RULES_KEY = "probes.rules.yml";
/** The configured databases' alerts on a vanished exporter (components/database-rules.ts). */
export const DATABASE_RULES_KEY = "databases.rules.yml";

/** Kubernetes refuses objects over 1 MiB. */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;
/** What the component keeps every object under, well below the API server's limit, whatever the number of apps. */
export const OBJECT_BUDGET_BYTES = 512 * 1024;
/** Serialised data of one ConfigMap; its metadata and managed fields fit in the rest of OBJECT_BUDGET_BYTES. */
export const CONFIGMAP_DATA_BUDGET = OBJECT_BUDGET_BYTES - 64 * 1024;
/** The apps' scrape jobs are cut into files of at most this size, so that two fit in one ConfigMap. */
export const GENERATED_FILE_BUDGET = 192 * 1024;

/** How often Prometheus looks for a changed config or rule file. Kubelet itself takes up to a minute to update a mounted ConfigMap. */
const AUTO_RELOAD_INTERVAL = "30s";

/** The repository's alert rules, read when the program runs. */
export const DEFAULT_RULES_DIR = path.resolve(__dirname, "..", "rules");

/** Job names of its own jobs and labels it sets itself: config.ts refuses apps that take them first; the component, used alone, too. */
const BUILTIN_JOBS = BUILTIN_SCRAPE_JOBS;
const RESERVED_LABELS = RESERVED_TARGET_LABELS;

// ---------------------------------------------------------------------------
// Args

/** A remote-write destination; the credential reaches the pod only through a Kubernetes Secret. */
export interface RemoteWriteArgs {
  /** Unique name (DNS label): the queue's name in Prometheus' metrics and the Secret key. */
  name: string;
  /** The push endpoint, e.g. https://mimir.example.com/api/v1/push. */
  url: string;
  /** Credentials: basic auth (username and password) or a bearer token. Default: none. */
  auth?: { type: "basic"; username: string; password: pulumi.Input<string> } | { type: "bearer"; token: pulumi.Input<string> };
}

/** A plain scrape target; a credential given as a value reaches the pod only through a Kubernetes Secret. */
export type TargetArgs = Omit<ScrapeTargetSpec, "credential"> & {
  credential?: { secretRef: { name: string; key: string } } | { value: pulumi.Input<string> };
};

/** Where Prometheus sends alerts: every endpoint of the Service with these labels, on this port. */
export type AlertmanagerTarget = Pick<ScrapeTarget, "namespace" | "selector" | "port" | "scheme">;

export interface PrometheusArgs {
  /** Namespace of the stack. It must exist first: pass its MonitoringNamespace in `opts.dependsOn`. */
  namespace: string;
  /** The stack's environment: the `environment` external label and app.kubernetes.io/instance. */
  environment: string;
  /** Number of replicas. Each scrapes everything and carries its own `replica` external label; more than one adds a PodDisruptionBudget and anti-affinity. */
  replicas: number;
  /** How long samples are kept (`--storage.tsdb.retention.time`), e.g. "30d". */
  retention: string;
  /** Size cap of the TSDB (`--storage.tsdb.retention.size`), e.g. "45GB"; keep it under the volume's size. */
  retentionSize: string;
  /** Default scrape interval, e.g. "15s". */
  scrapeInterval: string;
  /** Default scrape timeout; at most scrapeInterval. */
  scrapeTimeout: string;
  /** Rule evaluation interval, e.g. "15s". */
  evaluationInterval: string;
  /** Extra external labels, added to `environment` on every series and alert leaving Prometheus. Default none. */
  externalLabels?: Record<string, string>;
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
   * are absent (components/database-rules.ts). Default none.
   */
  databases?: Array<Pick<DatabaseExporter, "name" | "type">>;
  /** The other components' metrics endpoints (MonitoringStack collects them). Prometheus adds its own. Default none. */
  scrapeTargets?: ScrapeTarget[];
  /** Alertmanager to send alerts to (every peer behind its Service). Default: none, rules are evaluated but alerts go nowhere. */
  alertmanager?: AlertmanagerTarget;
  /** Remote-write destinations (Mimir, Thanos, VictoriaMetrics). Default none. */
  remoteWrite?: RemoteWriteArgs[];
  /**
   * URL of a published copy of docs/runbooks.md (a fork's): every alert whose `runbook`
   * annotation is `docs/runbooks.md#<anchor>` also gets `runbook_url: <runbookBaseUrl>#<anchor>`.
   * Default none: alerts name their runbook section without linking anywhere.
   */
  runbookBaseUrl?: string;
  /** Directory of the alert rule files (every `*.yml` in it). Default: the repository's rules/. */
  rulesDir?: string;
  /** The team's own rule files, by key (`team.<name>.yml`), shipped after those of `rulesDir` (components/team-content.ts). */
  teamRuleFiles?: Array<[string, string]>;
  /**
   * Levels of the node alerts teams tune (CPU, memory, disk: components/thresholds.ts), written
   * into the rule files as they are loaded. Default: the rule files' own values.
   */
  thresholds?: Thresholds;
  /** The volume of each replica: a claim `data-prometheus-<ordinal>` per replica. */
  storage: StorageSpec;
  /** Requests and limits of the Prometheus container. */
  resources: ResourceRequirements;
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
  /** Where the API server and the nodes are, and further destinations (config networkPolicy). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pods. Default none. */
  priorityClassName?: string;
}

/** The Prometheus component's args for a validated stack config (secrets wrapped in pulumi.secret). */
export function prometheusArgs(cfg: StackConfig): PrometheusArgs {
  const p = cfg.prometheus;
  const hostname = publicHostname(cfg, "prometheus");
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    replicas: p.replicas,
    retention: p.retention,
    retentionSize: p.retentionSize,
    scrapeInterval: p.scrapeInterval,
    scrapeTimeout: p.scrapeTimeout,
    evaluationInterval: p.evaluationInterval,
    externalLabels: p.externalLabels,
    apps: cfg.apps,
    targets: cfg.targets.map((t) =>
      t.credential && "value" in t.credential ? { ...t, credential: { value: pulumi.secret(t.credential.value) } } : t,
    ),
    probes: cfg.probes,
    databases: cfg.databases.map(({ name, type }) => ({ name, type })),
    remoteWrite: p.remoteWrite.map((rw) => ({
      name: rw.name,
      url: rw.url,
      ...(rw.auth && "username" in rw.auth
        ? { auth: { type: "basic" as const, username: rw.auth.username, password: pulumi.secret(rw.auth.password) } }
        : rw.auth
          ? { auth: { type: "bearer" as const, token: pulumi.secret(rw.auth.bearerToken) } }
          : {}),
    })),
    runbookBaseUrl: p.runbookBaseUrl,
    thresholds: cfg.thresholds,
    storage: p.storage,
    resources: p.resources,
    protectVolumes: cfg.protectVolumes,
    ...(hostname ? { publicHostname: hostname } : {}),
    ingressFromTraefik: exposedBy(cfg, "prometheus", "traefik"),
    ingressFromCloudflared: exposedBy(cfg, "prometheus", "cloudflare"),
    egress: egressSettings(cfg, "prometheus"),
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/**
 * Where Prometheus connects, besides DNS: the API server (discovery), every pod of every
 * namespace on any port (annotated pods name their own port; the apps' and targets' Services,
 * the stack's components, Alertmanager and the blackbox exporter are pods too), the nodes'
 * addresses on the kubelet's port and the host-network targets' ports, and the static URLs'
 * and remote-write endpoints' ports at any address (a NetworkPolicy cannot name their hosts).
 */
export function prometheusEgressRules(
  args: Pick<PrometheusArgs, "apps" | "targets" | "remoteWrite" | "scrapeTargets" | "egress">,
): EgressRule[] {
  const egress = args.egress ?? DEFAULT_EGRESS;
  const nodePorts = uniquePorts([
    KUBELET_PORT,
    ...(args.scrapeTargets ?? []).flatMap((t) => (t.hostPort !== undefined ? [t.hostPort] : [])),
  ]);
  const urls = [
    ...(args.apps ?? []).flatMap((a) => (a.url !== undefined && !a.service ? [a.url] : [])),
    ...(args.targets ?? []).flatMap((t) => (t.url !== undefined && !t.service ? [t.url] : [])),
    ...(args.remoteWrite ?? []).map((rw) => rw.url),
  ];
  const outside = uniquePorts(urls.map(urlPort));
  return [
    apiServerEgress(egress),
    { to: [{ anyNamespace: true }] },
    { ports: nodePorts, to: [{ cidrs: egress.nodeCidrs }] },
    ...(outside.length > 0 ? [anywhereOn(outside)] : []),
    ...extraEgressRules(egress),
  ];
}

// ---------------------------------------------------------------------------
// prometheus.yml

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
  return { job: "prometheus", namespace, selector: selectorLabels(prometheusIdentity(environment)), port: "http" };
}

export type RelabelConfig = {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  target_label?: string;
  replacement?: string;
  action?: "replace" | "keep" | "drop" | "labeldrop" | "labelkeep" | "labelmap";
};

export interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  metrics_path?: string;
  params?: Record<string, string[]>;
  scheme?: "http" | "https";
  /** Prometheus 3: the format assumed when a target's Content-Type is missing or unknown. */
  fallback_scrape_protocol?:
    "PrometheusProto" | "OpenMetricsText0.0.1" | "OpenMetricsText1.0.0" | "PrometheusText0.0.4" | "PrometheusText1.0.0";
  honor_labels?: boolean;
  authorization?: { type?: string; credentials_file: string };
  basic_auth?: { username: string; password_file: string };
  tls_config?: { ca_file?: string; server_name?: string; insecure_skip_verify?: boolean };
  kubernetes_sd_configs?: Array<{ role: "endpoints" | "pod" | "node"; namespaces?: { names: string[] } }>;
  static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
  relabel_configs?: RelabelConfig[];
}

/** The prometheus.yml object; YAML is made from it by the `yaml` package. */
export interface PrometheusConfig {
  global: {
    scrape_interval: string;
    scrape_timeout: string;
    evaluation_interval: string;
    external_labels: Record<string, string>;
  };
  rule_files: string[];
  /** Further files of scrape configs: the apps' jobs, once they no longer fit in prometheus.yml (see planConfigFiles). */
  scrape_config_files?: string[];
  scrape_configs: ScrapeConfig[];
  alerting?: {
    alert_relabel_configs: RelabelConfig[];
    alertmanagers: Array<{
      api_version: "v2";
      scheme: "http" | "https";
      kubernetes_sd_configs: NonNullable<ScrapeConfig["kubernetes_sd_configs"]>;
      relabel_configs: RelabelConfig[];
    }>;
  };
  remote_write?: Array<{
    name: string;
    url: string;
    basic_auth?: { username: string; password_file: string };
    authorization?: { type: "Bearer"; credentials_file: string };
  }>;
}

/** What prometheusConfig needs: the args, without what only the workload uses. */
export type PrometheusConfigArgs = Pick<
  PrometheusArgs,
  | "namespace"
  | "environment"
  | "replicas"
  | "scrapeInterval"
  | "scrapeTimeout"
  | "evaluationInterval"
  | "externalLabels"
  | "apps"
  | "targets"
  | "probes"
  | "blackboxAddress"
  | "scrapeTargets"
  | "alertmanager"
  | "remoteWrite"
>;

/** A relabel regex that matches exactly this text (relabel regexes are anchored RE2). */
function literal(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}

/** A relabel replacement that writes exactly this text (`$` would expand a capture group). */
function literalReplacement(text: string): string {
  return text.replace(/\$/g, "$$$$");
}

/** The discovery meta label of a Kubernetes label: unsupported characters become `_`. */
function metaLabel(prefix: string, label: string): string {
  return `${prefix}${label.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

/** Relabel rules that set fixed labels on every target. */
function staticLabels(labels: Record<string, string>): RelabelConfig[] {
  return Object.entries(labels).map(([name, value]) => ({ target_label: name, replacement: literalReplacement(value) }));
}

/** Relabel rules that keep only the endpoints of a Service with these labels, on this named port. */
function keepService(selector: Record<string, string>, port: string): RelabelConfig[] {
  return [
    ...Object.entries(selector).map(([label, value]) => ({
      source_labels: [metaLabel("__meta_kubernetes_service_label_", label)],
      regex: literal(value),
      action: "keep" as const,
    })),
    { source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: literal(port), action: "keep" },
  ];
}

/** namespace, pod and service of an endpoints target: where the series comes from. */
const ENDPOINT_TARGET_LABELS: RelabelConfig[] = [
  { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
  { source_labels: ["__meta_kubernetes_pod_name"], regex: "(.+)", target_label: "pod" },
  { source_labels: ["__meta_kubernetes_service_name"], target_label: "service" },
];

/** A per-job interval, with a timeout that never exceeds it (Prometheus refuses timeout > interval). */
function intervalOf(interval: string | undefined, globalTimeout: string): Pick<ScrapeConfig, "scrape_interval" | "scrape_timeout"> {
  if (!interval) return {};
  const shorter = (durationSeconds(interval) ?? 0) < (durationSeconds(globalTimeout) ?? 0);
  return { scrape_interval: interval, ...(shorter ? { scrape_timeout: interval } : {}) };
}

function checkExtraLabels(labels: Record<string, string> | undefined, owner: string): void {
  const clashing = Object.keys(labels ?? {}).filter((l) => RESERVED_LABELS.includes(l));
  if (clashing.length > 0) {
    throw new Error(`${owner}: labels ${clashing.join(", ")} are set by the scrape config itself; choose other names`);
  }
}

/** A job for one ScrapeTarget: the endpoints of its Service, in its namespace, on its port. */
function targetJob(t: ScrapeTarget, jobName: string, globalTimeout: string): ScrapeConfig {
  checkExtraLabels(t.labels, `scrapeTargets (job ${t.job})`);
  const instanceSource = t.instance === "node" ? "__meta_kubernetes_pod_node_name" : "__meta_kubernetes_pod_name";
  return {
    job_name: jobName,
    ...intervalOf(t.interval, globalTimeout),
    metrics_path: t.path ?? "/metrics",
    scheme: t.scheme ?? "http",
    ...(t.honorLabels ? { honor_labels: true } : {}),
    kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [t.namespace] } }],
    relabel_configs: [
      ...keepService(t.selector, t.port),
      // job_name may carry a suffix to stay unique; the job label is always the target's job.
      { target_label: "job", replacement: literalReplacement(t.job) },
      { source_labels: [instanceSource], regex: "(.+)", target_label: "instance" },
      ...(t.instance === "node" ? [{ source_labels: ["__meta_kubernetes_pod_node_name"], regex: "(.+)", target_label: "node" }] : []),
      // An exporter that describes other objects reports their namespace and pod; adding ours would mislabel its series.
      ...(t.honorLabels ? [] : ENDPOINT_TARGET_LABELS),
      ...staticLabels(t.labels ?? {}),
    ],
  };
}

/**
 * job_name of each target: its job when no other target shares it, otherwise the
 * job with a short digest of what makes the target unique (two standalone
 * exporters of one type share a job and differ by their `database` label).
 */
function jobNames(targets: ScrapeTarget[]): string[] {
  const digest = (t: ScrapeTarget) =>
    crypto
      .createHash("sha256")
      .update(JSON.stringify([t.namespace, Object.entries(t.selector).sort(), t.port, Object.entries(t.labels ?? {}).sort(), t.path ?? ""]))
      .digest("hex")
      .slice(0, 8);
  const names = targets.map((t) => (targets.filter((o) => o.job === t.job).length > 1 ? `${t.job}/${digest(t)}` : t.job));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new Error(`scrapeTargets: two targets of job ${dup.split("/")[0]} scrape the same Service port; drop one`);
  return names;
}

/**
 * Pods annotated `prometheus.io/scrape: "true"`, with the port, path and scheme their
 * annotations give; pods that name another stack's environment (an earlier release's exporter
 * sidecars of another stack on the same cluster) are left to that stack.
 */
function podsJob(environment: string): ScrapeConfig {
  const annotation = (name: string) => metaLabel("__meta_kubernetes_pod_annotation_", `prometheus.io/${name}`);
  const podLabel = (name: string) => metaLabel("__meta_kubernetes_pod_label_", name);
  return {
    job_name: "kubernetes-pods",
    kubernetes_sd_configs: [{ role: "pod" }],
    relabel_configs: [
      { source_labels: [annotation("scrape")], regex: "true", action: "keep" },
      // Unlabelled, or labelled with this stack's environment.
      { source_labels: [podLabel(ENVIRONMENT_LABEL)], regex: `|${literal(environment)}`, action: "keep" },
      // Finished pods keep their IP in the API but nobody answers there any more.
      { source_labels: ["__meta_kubernetes_pod_phase"], regex: "Succeeded|Failed", action: "drop" },
      { source_labels: [annotation("scheme")], regex: "(https?)", target_label: "__scheme__" },
      { source_labels: [annotation("path")], regex: "(.+)", target_label: "__metrics_path__" },
      // The annotated port on the pod's IP; IPv6 addresses need brackets.
      {
        source_labels: [annotation("port"), "__meta_kubernetes_pod_ip"],
        regex: "(\\d+);([^:]+)",
        replacement: "$2:$1",
        target_label: "__address__",
      },
      {
        source_labels: [annotation("port"), "__meta_kubernetes_pod_ip"],
        regex: "(\\d+);(.*:.*)",
        replacement: "[$2]:$1",
        target_label: "__address__",
      },
      { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
      { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
      // app: app.kubernetes.io/name, else the older `app` label (the later rule wins when both exist).
      { source_labels: [podLabel("app")], regex: "(.+)", target_label: "app" },
      { source_labels: [podLabel("app.kubernetes.io/name")], regex: "(.+)", target_label: "app" },
      // A pod with a database exporter container, labelled as components/exporter-sidecars.ts says: job `<type>-exporter` and the database.
      {
        source_labels: [podLabel(EXPORTER_LABEL)],
        regex: `(${Object.keys(EXPORTER_KINDS).sort().join("|")})`,
        replacement: "${1}-exporter",
        target_label: "job",
      },
      { source_labels: [podLabel(DATABASE_LABEL)], regex: "(.+)", target_label: "database" },
    ],
  };
}

/**
 * How an app's response is parsed when its Content-Type is missing or unknown: Prometheus 3
 * fails such a scrape, and hand-written /metrics endpoints often send none. The classic
 * text format is what they write. Prometheus 3.0 and later only (Debian's promtool 2.42 does not know it).
 */
export const APP_SCRAPE_PROTOCOL = { fallback_scrape_protocol: "PrometheusText0.0.4" } as const;

/** A configured app: the endpoints of its Service, or its static URL. */
function appJob(app: AppTarget, globalTimeout: string): ScrapeConfig {
  checkExtraLabels(app.labels, `apps (${app.name})`);
  const identity = { app: app.name, ...app.labels };
  if (app.service) {
    const { namespace, name, port, targetPort, targetPortName, servicePort } = app.service;
    // Endpoints discovery reports the Service port's name, the pods' port (the address) and the
    // pods' container port, never the Service's port number: a number given as the Service's
    // port (servicePort) is resolved into one of these first (components/service-ports.ts).
    const given = [port, targetPort, targetPortName].filter((v) => v !== undefined).length;
    let keepPort: RelabelConfig;
    if (given === 0 && servicePort !== undefined) {
      throw new Error(
        `apps (${app.name}): the Service's port ${servicePort} is not resolved yet; resolveAppServicePorts (components/service-ports.ts) reads it from the Service`,
      );
    } else if (given !== 1) {
      throw new Error(
        `apps (${app.name}): the Service needs exactly one of port (the Service port's name), targetPort (a port number) or targetPortName`,
      );
    } else if (port !== undefined) {
      keepPort = { source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: literal(port), action: "keep" };
    } else if (targetPortName !== undefined) {
      // An unnamed Service port (the Service's only one) whose targetPort names the pods' container port.
      keepPort = { source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: literal(targetPortName), action: "keep" };
    } else if (targetPort !== undefined && Number.isInteger(targetPort) && targetPort >= 1 && targetPort <= 65535) {
      keepPort = { source_labels: ["__address__"], regex: `.+:${targetPort}`, action: "keep" };
    } else {
      throw new Error(
        `apps (${app.name}): the Service needs exactly one of port (the Service port's name), targetPort (a port number 1-65535) or targetPortName; got targetPort ${targetPort}`,
      );
    }
    return {
      job_name: app.name,
      ...intervalOf(app.interval, globalTimeout),
      metrics_path: app.path,
      scheme: app.scheme,
      ...APP_SCRAPE_PROTOCOL,
      kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [namespace] } }],
      relabel_configs: [
        { source_labels: ["__meta_kubernetes_service_name"], regex: literal(name), action: "keep" },
        keepPort,
        { source_labels: ["__meta_kubernetes_pod_name"], regex: "(.+)", target_label: "instance" },
        ...ENDPOINT_TARGET_LABELS,
        ...staticLabels(identity),
      ],
    };
  }
  const { host, ...where } = staticUrl(`apps (${app.name})`, app.url);
  return {
    job_name: app.name,
    ...intervalOf(app.interval, globalTimeout),
    ...where,
    ...APP_SCRAPE_PROTOCOL,
    static_configs: [{ targets: [host], labels: identity }],
  };
}

/**
 * Where a static URL is scraped: its host, its path (a URL without one, which WHATWG URLs give as
 * "/", means the default, as for a Service), query parameters and scheme. A URL with credentials
 * is refused: they would be stored in plain text in prometheus.yml.
 */
function staticUrl(
  what: string,
  text: string | undefined,
): { host: string; metrics_path: string; params?: Record<string, string[]>; scheme: "http" | "https" } {
  if (!text) throw new Error(`${what}: needs a service or a url`);
  const url = new URL(text);
  if (url.username || url.password)
    throw new Error(`${what}: the url holds credentials; they would be stored in plain text in prometheus.yml`);
  const params: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) params[key] = [...(params[key] ?? []), value];
  return {
    host: url.host,
    metrics_path: url.pathname === "/" ? APP_DEFAULTS.path : url.pathname,
    ...(Object.keys(params).length > 0 ? { params } : {}),
    scheme: url.protocol === "https:" ? "https" : "http",
  };
}

/** Files of a target's secrets under PROMETHEUS_PATHS.targetSecretsDir. */
export function targetSecretFile(name: string, what: "credential" | "ca.crt"): string {
  return `${name}-${what}`;
}

/** A plain scrape target: an app's scrape without the contract (job `<name>`, no `app` label), with TLS and credentials. */
function plainTargetJob(t: TargetArgs, globalTimeout: string): ScrapeConfig {
  checkExtraLabels(t.labels, `targets (${t.name})`);
  const file = (what: "credential" | "ca.crt") => `${PROMETHEUS_PATHS.targetSecretsDir}/${targetSecretFile(t.name, what)}`;
  const timing = t.timeout
    ? { ...intervalOf(t.interval, globalTimeout), scrape_timeout: t.timeout }
    : intervalOf(t.interval, globalTimeout);
  const common = {
    job_name: t.name,
    ...timing,
    ...APP_SCRAPE_PROTOCOL,
    ...(t.auth?.type === "bearer" ? { authorization: { type: "Bearer", credentials_file: file("credential") } } : {}),
    ...(t.auth?.type === "basic" ? { basic_auth: { username: t.auth.username, password_file: file("credential") } } : {}),
    ...(t.tls
      ? {
          tls_config: {
            ...(t.tls.caPem ? { ca_file: file("ca.crt") } : {}),
            ...(t.tls.serverName ? { server_name: t.tls.serverName } : {}),
            insecure_skip_verify: t.tls.insecureSkipVerify,
          },
        }
      : {}),
  };
  if (t.service) {
    const { namespace, name, port, targetPort } = t.service;
    let keepPort: RelabelConfig;
    if (port !== undefined && targetPort === undefined) {
      keepPort = { source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: literal(port), action: "keep" };
    } else if (targetPort !== undefined && port === undefined && Number.isInteger(targetPort) && targetPort >= 1 && targetPort <= 65535) {
      keepPort = { source_labels: ["__address__"], regex: `.+:${targetPort}`, action: "keep" };
    } else {
      throw new Error(`targets (${t.name}): the Service needs exactly one of port (the Service port's name) or targetPort (a port number)`);
    }
    return {
      ...common,
      metrics_path: t.path,
      scheme: t.scheme,
      kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [namespace] } }],
      relabel_configs: [
        { source_labels: ["__meta_kubernetes_service_name"], regex: literal(name), action: "keep" },
        keepPort,
        { source_labels: ["__meta_kubernetes_pod_name"], regex: "(.+)", target_label: "instance" },
        ...ENDPOINT_TARGET_LABELS,
        ...staticLabels(t.labels),
      ],
    };
  }
  const { host, ...where } = staticUrl(`targets (${t.name})`, t.url);
  return {
    ...common,
    ...where,
    static_configs: [{ targets: [host], ...(Object.keys(t.labels).length > 0 ? { labels: t.labels } : {}) }],
  };
}

/** The job label of every probe's series. */
export const PROBE_JOB = "blackbox";

/** The blackbox module of a probe: its own for a set of expected status codes (components/blackbox-exporter.ts defines them). */
export function probeModule(probe: Pick<ProbeSpec, "module" | "expectStatus">): string {
  return probe.module === "http_2xx" && probe.expectStatus ? `http_status_${probe.expectStatus.join("_")}` : probe.module;
}

/**
 * A probe: Prometheus asks the blackbox exporter (`/probe?module=…&target=…`) and stores what
 * it reports (probe_success, probe_duration_seconds, probe_ssl_earliest_cert_expiry, …) as job
 * `blackbox`, with `probe="<name>"` and the probed address as `instance`. An app's Service is
 * probed on every ready endpoint, as it is scraped.
 */
function probeJob(probe: ProbeSpec, blackboxAddress: string, globalTimeout: string): ScrapeConfig {
  checkExtraLabels(probe.labels, `probes (${probe.name})`);
  const labels = { ...probe.labels, probe: probe.name };
  const toExporter: RelabelConfig[] = [
    { target_label: "__address__", replacement: literalReplacement(blackboxAddress) },
    { target_label: "job", replacement: PROBE_JOB },
  ];
  const common = {
    // One job per probe (its own interval); the job label is the same for all.
    job_name: `${PROBE_JOB}/${probe.name}`,
    ...intervalOf(probe.interval, globalTimeout),
    metrics_path: "/probe",
    params: { module: [probeModule(probe)] },
    scheme: "http" as const,
  };
  const target = probe.target;
  if ("service" in target) {
    const { namespace, name, port, targetPort } = target.service;
    const keepPort: RelabelConfig =
      port !== undefined
        ? { source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: literal(port), action: "keep" }
        : { source_labels: ["__address__"], regex: `.+:${targetPort ?? 0}`, action: "keep" };
    return {
      ...common,
      kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [namespace] } }],
      relabel_configs: [
        { source_labels: ["__meta_kubernetes_service_name"], regex: literal(name), action: "keep" },
        keepPort,
        // Each ready endpoint's address (IPv6 in brackets already), at the health path.
        {
          source_labels: ["__address__"],
          regex: "(.+)",
          replacement: `${target.scheme}://$1${literalReplacement(target.path)}`,
          target_label: "__param_target",
        },
        { source_labels: ["__meta_kubernetes_pod_name"], regex: "(.+)", target_label: "instance" },
        ...ENDPOINT_TARGET_LABELS,
        ...staticLabels(labels),
        ...toExporter,
      ],
    };
  }
  const address = "url" in target ? target.url : target.address;
  if ("url" in target) {
    const url = new URL(target.url);
    if (url.username || url.password)
      throw new Error(`probes (${probe.name}): the url holds credentials; they would be stored in plain text`);
  }
  return {
    ...common,
    static_configs: [{ targets: [address], labels }],
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      ...toExporter,
    ],
  };
}

/** The probes' thresholds as series, for ProbeSlow (rules/probes.yml): `probe:alert_threshold_latency_seconds{probe}`. */
export function probeRules(probes: ProbeSpec[], evaluationInterval: string): { groups: unknown[] } {
  if (probes.length === 0) return { groups: [] };
  return {
    groups: [
      {
        name: "probe-thresholds",
        interval: evaluationInterval,
        rules: probes.map((p) => ({
          record: "probe:alert_threshold_latency_seconds",
          expr: String(p.latencySeconds),
          labels: { probe: p.name },
        })),
      },
    ],
  };
}

/**
 * The kubelet's own metrics or its embedded cAdvisor, on every node, with the
 * service account's token (RBAC: get nodes/metrics).
 */
function kubeletJob(jobName: string, metricsPath: string): ScrapeConfig {
  const sa = PROMETHEUS_PATHS.serviceAccountDir;
  return {
    job_name: jobName,
    scheme: "https",
    metrics_path: metricsPath,
    authorization: { credentials_file: `${sa}/token` },
    tls_config: {
      ca_file: `${sa}/ca.crt`,
      // Kubelets usually serve a self-signed certificate (kubeadm's default unless serverTLSBootstrap is on),
      // which no CA in the pod can verify. The bearer token still authenticates Prometheus to the kubelet;
      // only the kubelet's identity goes unchecked, on the node network.
      insecure_skip_verify: true,
    },
    kubernetes_sd_configs: [{ role: "node" }],
    relabel_configs: [
      { source_labels: ["__meta_kubernetes_node_name"], target_label: "instance" },
      { source_labels: ["__meta_kubernetes_node_name"], target_label: "node" },
    ],
  };
}

/** Key of a remote-write credential in the Secret, and its file name under PROMETHEUS_PATHS.remoteWriteDir. */
export function remoteWriteCredentialKey(name: string): string {
  return `remote-write-${name}`;
}

/**
 * The whole prometheus.yml as an object. Pure. It uses only fields that both
 * Prometheus 2.42 (Debian's promtool, which tests check it with) and 3.x (the image)
 * know, except the apps' `fallback_scrape_protocol` (3.0+); Debian's build lacks
 * Kubernetes discovery, and knows no fallback protocol: the tests check both apart.
 */
export function prometheusConfig(args: PrometheusConfigArgs): PrometheusConfig {
  const extra = args.externalLabels ?? {};
  const ha = args.replicas > 1;
  if (ha && "replica" in extra) {
    throw new Error("externalLabels: `replica` is set by Prometheus itself when it runs more than one replica");
  }
  const targets = [prometheusScrapeTarget(args.namespace, args.environment), ...(args.scrapeTargets ?? [])];
  const apps = args.apps ?? [];
  const plain = args.targets ?? [];
  const probes = args.probes ?? [];
  const names = jobNames(targets);
  const taken = [...BUILTIN_JOBS, ...targets.map((t) => t.job), ...(probes.length > 0 ? [PROBE_JOB] : [])];
  const clash = apps.find((a) => taken.includes(a.name));
  if (clash) throw new Error(`apps: "${clash.name}" is also the job of a built-in scrape job or a component; rename the app`);
  const plainClash = plain.find((t) => taken.includes(t.name) || apps.some((a) => a.name === t.name));
  if (plainClash)
    throw new Error(`targets: "${plainClash.name}" is also the job of an app, a built-in scrape job or a component; rename it`);
  if (probes.length > 0 && !args.blackboxAddress)
    throw new Error("probes: the blackbox exporter's address (blackboxAddress) is needed to probe");
  const clashingTarget = targets.find((t) => BUILTIN_JOBS.includes(t.job));
  if (clashingTarget) throw new Error(`scrapeTargets: job "${clashingTarget.job}" is one of Prometheus' own jobs; rename it`);

  const config: PrometheusConfig = {
    global: {
      scrape_interval: args.scrapeInterval,
      scrape_timeout: args.scrapeTimeout,
      evaluation_interval: args.evaluationInterval,
      external_labels: {
        environment: args.environment,
        // Prometheus 3 expands ${VAR} in external labels (so a literal `$` is written `$$`):
        // each replica names itself from POD_NAME, which the downward API sets.
        ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v.replace(/\$/g, "$$$$")])),
        ...(ha ? { replica: "${POD_NAME}" } : {}),
      },
    },
    // An absolute glob: auto-reload watches the files it matches (fixed for absolute paths in Prometheus 3.4).
    rule_files: [`${PROMETHEUS_PATHS.rulesDir}/*.yml`],
    scrape_configs: [
      ...targets.map((t, i) => targetJob(t, names[i], args.scrapeTimeout)),
      podsJob(args.environment),
      ...apps.map((a) => appJob(a, args.scrapeTimeout)),
      ...plain.map((t) => plainTargetJob(t, args.scrapeTimeout)),
      ...probes.map((pr) => probeJob(pr, args.blackboxAddress ?? "", args.scrapeTimeout)),
      kubeletJob("kubelet", "/metrics"),
      kubeletJob("cadvisor", "/metrics/cadvisor"),
    ],
  };
  if (args.alertmanager) {
    const am = args.alertmanager;
    config.alerting = {
      // Replicas evaluate the same rules: without their `replica` label the alerts are identical and Alertmanager deduplicates them.
      alert_relabel_configs: [{ action: "labeldrop", regex: "replica" }],
      alertmanagers: [
        {
          api_version: "v2",
          scheme: am.scheme ?? "http",
          kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [am.namespace] } }],
          relabel_configs: keepService(am.selector, am.port),
        },
      ],
    };
  }
  const remoteWrite = args.remoteWrite ?? [];
  if (remoteWrite.length > 0) {
    config.remote_write = remoteWrite.map((rw) => {
      const file = `${PROMETHEUS_PATHS.remoteWriteDir}/${remoteWriteCredentialKey(rw.name)}`;
      return {
        name: rw.name,
        url: rw.url,
        ...(rw.auth?.type === "basic" ? { basic_auth: { username: rw.auth.username, password_file: file } } : {}),
        ...(rw.auth?.type === "bearer" ? { authorization: { type: "Bearer" as const, credentials_file: file } } : {}),
      };
    });
  }
  return config;
}

const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as YAML.ToStringOptions;

/** Serialises a config object with a header saying where it comes from. */
export function toYaml(value: unknown, header: string): string {
  const doc = new YAML.Document(value, { aliasDuplicateObjects: false });
  doc.commentBefore = ` ${header}`;
  return doc.toString(YAML_OPTIONS);
}

// ---------------------------------------------------------------------------
// Rule files

/**
 * A rule file's text with a `runbook_url` link added beside every `runbook` annotation
 * that names a section of this repository's runbooks (`docs/runbooks.md#<anchor>` becomes
 * `<runbookBaseUrl>#<anchor>`), unless the alert has a `runbook_url` of its own. Without
 * a base URL the text is returned as it is. Comments and layout are kept. Throws on
 * invalid YAML.
 */
export function linkRunbooks(text: string, runbookBaseUrl: string | undefined, file = "rule file"): string {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`${file} is not valid YAML: ${doc.errors[0].message}`);
  const groups = doc.get("groups");
  if (!YAML.isSeq(groups)) throw new Error(`${file} has no "groups" list: it is not a Prometheus rule file`);
  if (runbookBaseUrl === undefined) return text;
  const prefix = `${RUNBOOK_PATH}#`;
  let changed = false;
  YAML.visit(doc, {
    Map(_, map) {
      const ref = map.get("runbook");
      if (typeof ref === "string" && ref.startsWith(prefix) && !map.has("runbook_url")) {
        map.set("runbook_url", `${runbookBaseUrl}#${ref.slice(prefix.length)}`);
        changed = true;
      }
    },
  });
  return changed ? doc.toString(YAML_OPTIONS) : text;
}

/**
 * Every `*.yml` of a directory, by file name, with the stack's thresholds (components/thresholds.ts)
 * and runbook links into `runbookBaseUrl` when it is given. Thresholds that change an alert none
 * of the files holds are an error: the stack would believe it tuned something.
 */
export function loadRuleFiles(dir: string, runbookBaseUrl: string | undefined, thresholds?: Thresholds): Record<string, string> {
  if (!fs.existsSync(dir)) throw new Error(`rulesDir: ${dir} does not exist`);
  const files: Record<string, string> = {};
  const levels = thresholds ?? defaultThresholds();
  const seen = new Set<string>();
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yml"))
    .sort()) {
    const where = path.join(dir, file);
    const text = fs.readFileSync(where, "utf8");
    files[file] = linkRunbooks(applyThresholds(text, levels, where), runbookBaseUrl, where);
    const alerts = alertNames(text);
    for (const name of THRESHOLD_NAMES) if (alerts.has(THRESHOLD_SPECS[name].alert)) seen.add(name);
  }
  const defaults = defaultThresholds();
  for (const name of THRESHOLD_NAMES.filter((n) => !seen.has(n))) {
    const level = THRESHOLD_LEVELS.find((l) => JSON.stringify(levels[name][l]) !== JSON.stringify(defaults[name][l]));
    if (level) throw new Error(`thresholds.${name}.${level}: no rule file of ${dir} has the alert ${THRESHOLD_SPECS[name].alert}`);
  }
  return files;
}

/** The alert names of a rule file (none when it is not one). */
function alertNames(text: string): Set<string> {
  const parsed = YAML.parse(text) as { groups?: Array<{ rules?: Array<{ alert?: unknown }> }> } | null;
  return new Set(
    (parsed?.groups ?? []).flatMap((g) => (g.rules ?? []).map((r) => r.alert)).filter((a): a is string => typeof a === "string"),
  );
}

/** Bytes a ConfigMap's data counts against the API server's 1 MiB limit. */
export function configMapBytes(data: Record<string, string>): number {
  return Object.entries(data).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
}

/** Bytes one entry of a ConfigMap's data takes in the object as the API server receives it (JSON, escapes included). */
export function configMapEntryBytes(key: string, content: string): number {
  return Buffer.byteLength(JSON.stringify(key), "utf8") + Buffer.byteLength(JSON.stringify(content), "utf8") + 2;
}

/** One ConfigMap to create: its name and data. */
export interface ConfigMapPlan {
  name: string;
  data: Record<string, string>;
}

/**
 * Files, in order, packed into ConfigMaps of at most `budget` serialised bytes of data, named
 * `<base>`, `<base>-2`, ...: a new map only when the last one is full, so that appending files
 * (apps) adds at most a map at the end. A file that alone exceeds the budget is an error naming it.
 */
export function packConfigMaps(base: string, files: Array<[string, string]>, budget: number = CONFIGMAP_DATA_BUDGET): ConfigMapPlan[] {
  const plans: Array<ConfigMapPlan & { used: number }> = [];
  for (const [key, content] of files) {
    const bytes = configMapEntryBytes(key, content);
    if (bytes > budget) {
      throw new Error(
        `${key} weighs ${bytes} bytes serialised, more than one ConfigMap holds here (${budget} bytes): split it into smaller files`,
      );
    }
    let last = plans[plans.length - 1];
    if (!last || last.used + bytes > budget) {
      last = { name: plans.length === 0 ? base : `${base}-${plans.length + 1}`, data: {}, used: 0 };
      plans.push(last);
    }
    last.data[key] = content;
    last.used += bytes;
  }
  return plans.map(({ name, data }) => ({ name, data }));
}

/**
 * Items, in order, cut into runs whose rendering (`render` of the run) stays within `budget`
 * serialised bytes. Each item's share is measured alone (a run's rendering is the sum of its
 * items' and a fixed part), so that the cut takes linear time for thousands of items; a run
 * whose rendering still exceeds the budget is cut again.
 */
function cutByBytes<T>(items: T[], render: (run: T[]) => string, budget: number): T[][] {
  const size = (run: T[]) => configMapEntryBytes("", render(run));
  const fixed = size([]);
  const runs: T[][] = [];
  let run: T[] = [];
  let used = fixed;
  for (const item of items) {
    const share = size([item]) - fixed;
    if (run.length > 0 && used + share > budget) {
      runs.push(run);
      run = [];
      used = fixed;
    }
    run.push(item);
    used += share;
  }
  if (run.length > 0 || runs.length === 0) runs.push(run);
  return runs.flatMap((r) =>
    r.length > 1 && size(r) > budget
      ? cutByBytes(r.slice(0, r.length >> 1), render, budget).concat(cutByBytes(r.slice(r.length >> 1), render, budget))
      : [r],
  );
}

const APP_RULES_HEADER = "The app contract: generated from the apps of the stack config by components/app-rules.ts.";
const APP_SCRAPE_HEADER =
  "The apps' scrape jobs: rendered by components/prometheus.ts from the stack config; prometheus.yml includes them.";
const PROBE_RULES_HEADER = "The probes' thresholds: generated from apps[].probe and probes[] by components/prometheus.ts.";
const DATABASE_RULES_HEADER = "Alerts on a database exporter that vanished: generated from databases[] by components/database-rules.ts.";
const CONFIG_HEADER = "Rendered by components/prometheus.ts from the stack config; edit the config, not this file.";
const WEB_CONFIG_HEADER = "Prometheus' web server (--web.config.file): the security headers of every response (components/kit.ts).";

/**
 * The generated app rules, one file per group (each bounded: components/app-rules.ts), so that
 * no file holds a rule twice: apps.rules.yml, then apps-2.rules.yml, ... No apps: apps.rules.yml
 * with no groups.
 */
export function appRuleFiles(apps: AppTarget[], evaluationInterval: string): Array<[string, string]> {
  const { groups } = appRecordingRules(apps, evaluationInterval);
  const runs = groups.length === 0 ? [[]] : groups.map((g) => [g]);
  return runs.map((run, i) => [numberedKey(APP_RULES_KEY, i), toYaml({ groups: run }, APP_RULES_HEADER)]);
}

/**
 * The files of the config directory: prometheus.yml, and, when it would outgrow
 * GENERATED_FILE_BUDGET (hundreds of apps), the apps' jobs moved out into apps.scrape.yml,
 * apps-2.scrape.yml, ..., which prometheus.yml includes (scrape_config_files) and Prometheus
 * reloads with it. Returns the prometheus.yml object as written, and every file by key.
 */
export function planConfigFiles(
  config: PrometheusConfig,
  appJobs: readonly string[],
): { config: PrometheusConfig; files: Array<[string, string]> } {
  const whole = toYaml(config, CONFIG_HEADER);
  if (configMapEntryBytes(CONFIG_KEY, whole) <= GENERATED_FILE_BUDGET) return { config, files: [[CONFIG_KEY, whole]] };
  const isApp = (job: ScrapeConfig) => appJobs.includes(job.job_name);
  const apps = config.scrape_configs.filter(isApp);
  const render = (run: ScrapeConfig[]) => toYaml({ scrape_configs: run }, APP_SCRAPE_HEADER);
  const scrapeFiles = cutByBytes(apps, render, GENERATED_FILE_BUDGET).map((run, i): [string, string] => [
    numberedKey(APP_SCRAPE_KEY, i),
    render(run),
  ]);
  const main: PrometheusConfig = {
    ...config,
    scrape_config_files: [`${PROMETHEUS_PATHS.configDir}/*.scrape.yml`],
    scrape_configs: config.scrape_configs.filter((job) => !isApp(job)),
  };
  return { config: main, files: [[CONFIG_KEY, toYaml(main, CONFIG_HEADER)], ...scrapeFiles] };
}

// ---------------------------------------------------------------------------
// Component

/**
 * Everything that can refuse the args, computed before the component registers so
 * that a refusal leaves nothing half-created: the config and the rule files.
 */
function planPrometheus(
  name: string,
  args: PrometheusArgs,
  parent: pulumi.Resource | undefined,
): {
  config: PrometheusConfig;
  configFiles: Record<string, string>;
  ruleFiles: Record<string, string>;
  configMaps: ConfigMapPlan[];
  ruleMaps: ConfigMapPlan[];
} {
  const fail = (message: string) => new pulumi.ResourceError(`Prometheus ${name}: ${message}`, parent);
  if (!Number.isInteger(args.replicas) || args.replicas < 1)
    throw fail(`replicas must be a whole number of at least 1; got ${args.replicas}`);
  for (const [key, value] of [
    ["retention", args.retention],
    ["scrapeInterval", args.scrapeInterval],
    ["scrapeTimeout", args.scrapeTimeout],
    ["evaluationInterval", args.evaluationInterval],
  ] as const) {
    if (!durationSeconds(value)) throw fail(`${key} must be a positive Prometheus duration such as 15s or 30d; got "${value}"`);
  }
  if ((durationSeconds(args.scrapeTimeout) ?? 0) > (durationSeconds(args.scrapeInterval) ?? 0)) {
    throw fail(`scrapeTimeout (${args.scrapeTimeout}) must not exceed scrapeInterval (${args.scrapeInterval})`);
  }
  const remoteNames = (args.remoteWrite ?? []).map((rw) => rw.name);
  const dupRemote = remoteNames.find((n, i) => remoteNames.indexOf(n) !== i);
  if (dupRemote) throw fail(`remoteWrite: the name "${dupRemote}" is used twice`);

  let config: PrometheusConfig;
  try {
    config = prometheusConfig(args);
  } catch (err) {
    throw fail((err as Error).message);
  }

  // Rules: the repository's files (runbook links into the user's published runbooks, if any) and the generated app contract.
  const rulesDir = args.rulesDir ?? DEFAULT_RULES_DIR;
  let ruleFiles: Record<string, string>;
  try {
    ruleFiles = loadRuleFiles(rulesDir, args.runbookBaseUrl, args.thresholds);
  } catch (err) {
    throw fail((err as Error).message);
  }
  for (const reserved of Object.keys(ruleFiles).filter((f) => f === CONFIG_KEY || GENERATED_KEY.test(f))) {
    throw fail(`rulesDir: ${path.join(rulesDir, reserved)} takes a name the component generates; rename it`);
  }
  // Every file in order: the repository's, then the generated ones. Packed into as many
  // ConfigMaps as they need, each well under the API server's limit, whatever the number of apps.
  const teamRules = (args.teamRuleFiles ?? []).map(([key, text]): [string, string] => [key, linkRunbooks(text, args.runbookBaseUrl, key)]);
  const allRules: Array<[string, string]> = [
    ...Object.entries(ruleFiles),
    ...teamRules,
    ...appRuleFiles(args.apps ?? [], args.evaluationInterval),
    ...((args.probes ?? []).length > 0
      ? [[PROBE_RULES_KEY, toYaml(probeRules(args.probes ?? [], args.evaluationInterval), PROBE_RULES_HEADER)] as [string, string]]
      : []),
    ...((args.databases ?? []).length > 0
      ? [
          [
            DATABASE_RULES_KEY,
            linkRunbooks(
              toYaml(databaseExporterRules(args.databases ?? [], args.evaluationInterval), DATABASE_RULES_HEADER),
              args.runbookBaseUrl,
              DATABASE_RULES_KEY,
            ),
          ] as [string, string],
        ]
      : []),
  ];
  const planned = planConfigFiles(
    config,
    (args.apps ?? []).map((a) => a.name),
  );
  // The web config sits beside prometheus.yml (not a .yml: every .yml the tools find among
  // Prometheus' files is taken for a rule file).
  const configFiles: Array<[string, string]> = [...planned.files, [WEB_CONFIG_FILE, toYaml(webConfig(), WEB_CONFIG_HEADER)]];
  let ruleMaps: ConfigMapPlan[];
  let configMaps: ConfigMapPlan[];
  try {
    ruleMaps = packConfigMaps("prometheus-rules", allRules);
  } catch (err) {
    throw fail(`rulesDir: ${(err as Error).message}`);
  }
  try {
    configMaps = packConfigMaps("prometheus-config", configFiles);
  } catch (err) {
    throw fail((err as Error).message);
  }
  return {
    config: planned.config,
    configFiles: Object.fromEntries(configFiles),
    ruleFiles: Object.fromEntries(allRules),
    configMaps,
    ruleMaps,
  };
}

/**
 * Prometheus for one stack. Outputs its in-cluster URL, its own scrape target and
 * the config it renders (for tests and the offline render).
 */
export class Prometheus extends StackComponent {
  /** In-cluster URL of the `prometheus` Service. */
  public readonly url: pulumi.Output<string>;
  /** Prometheus' own metrics (already in its config: listed for completeness). */
  public readonly scrapeTargets: ScrapeTarget[];
  /** The prometheus.yml object, as written (the apps' jobs move to configFiles when they outgrow it). */
  public readonly config: PrometheusConfig;
  /** Every file of the config directory, by key: prometheus.yml, the apps' scrape files, if any, and the web config. */
  public readonly configFiles: Record<string, string>;
  /** The rule files shipped in the `prometheus-rules` ConfigMaps (prometheus-rules, prometheus-rules-2, ...), by key. */
  public readonly ruleFiles: Record<string, string>;
  public readonly statefulSet: k8s.apps.v1.StatefulSet;
  /** The data claim of each replica, by ordinal: the only objects that hold metrics. */
  public readonly claims: k8s.core.v1.PersistentVolumeClaim[];

  constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    const { config, configFiles, ruleFiles, configMaps, ruleMaps } = planPrometheus(name, args, opts?.parent);
    super("monitoring:index:Prometheus", name, opts);
    this.config = config;
    this.configFiles = configFiles;
    this.ruleFiles = ruleFiles;

    const id = prometheusIdentity(args.environment);
    const selector = selectorLabels(id);
    const ns = args.namespace;
    const inClusterUrl = prometheusInClusterUrl(ns);
    const ha = args.replicas > 1;

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      // The token is mounted by the pod spec, which says why it needs one.
      { metadata: objectMeta(id, ns, "prometheus"), automountServiceAccountToken: false },
      { parent: this },
    );

    // Cluster-scoped names carry the namespace: two stacks in one cluster must not share a role.
    const clusterName = `${ns}-prometheus`;
    const clusterRole = new k8s.rbac.v1.ClusterRole(
      `${name}-cluster-role`,
      { metadata: { name: clusterName, labels: standardLabels(id) }, rules: prometheusClusterRoleRules() },
      { parent: this },
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-cluster-role-binding`,
      {
        metadata: { name: clusterName, labels: standardLabels(id) },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: ns }],
      },
      { parent: this },
    );

    // The maps' names are their identity (prometheus-config, prometheus-rules, then -2, -3, ...):
    // unchanged as long as the files need as many maps.
    const configMapsOf = (plans: ConfigMapPlan[]) =>
      plans.map(
        (plan) =>
          new k8s.core.v1.ConfigMap(
            `${name}-${plan.name.slice("prometheus-".length)}`,
            { metadata: objectMeta(id, ns, plan.name), data: plan.data },
            { parent: this },
          ),
      );
    const configs = configMapsOf(configMaps);
    const rules = configMapsOf(ruleMaps);
    // One map is mounted as it is; several as one directory (a projected volume). Either way a
    // whole directory, never subPath, so that kubelet swaps the files in place when a map changes.
    const directory = (volume: string, maps: k8s.core.v1.ConfigMap[]): k8s.types.input.core.v1.Volume =>
      maps.length === 1
        ? { name: volume, configMap: { name: maps[0].metadata.name } }
        : { name: volume, projected: { sources: maps.map((m) => ({ configMap: { name: m.metadata.name } })) } };

    const credentials: Record<string, pulumi.Input<string>> = {};
    for (const rw of args.remoteWrite ?? []) {
      if (rw.auth)
        credentials[remoteWriteCredentialKey(rw.name)] = pulumi.secret(rw.auth.type === "basic" ? rw.auth.password : rw.auth.token);
    }
    // targets[]: credentials given as secret config values and CA certificates in a Secret of the stack;
    // credentials in existing Secrets (of the stack namespace) projected beside them, optional so that
    // a Secret made later never keeps Prometheus from starting (its target is down until then:
    // Prometheus reads a credential file at each scrape).
    const targetData: Record<string, pulumi.Input<string>> = {};
    const existing: Array<{ secret: string; key: string; path: string }> = [];
    for (const t of args.targets ?? []) {
      if (t.credential && "value" in t.credential) targetData[targetSecretFile(t.name, "credential")] = pulumi.secret(t.credential.value);
      if (t.credential && "secretRef" in t.credential)
        existing.push({
          secret: t.credential.secretRef.name,
          key: t.credential.secretRef.key,
          path: targetSecretFile(t.name, "credential"),
        });
      if (t.tls?.caPem) targetData[targetSecretFile(t.name, "ca.crt")] = t.tls.caPem;
    }
    const targetSecret =
      Object.keys(targetData).length > 0
        ? new k8s.core.v1.Secret(
            `${name}-targets`,
            { metadata: objectMeta(id, ns, "prometheus-targets"), type: "Opaque", stringData: targetData },
            { parent: this },
          )
        : undefined;
    const targetSources: k8s.types.input.core.v1.VolumeProjection[] = [
      ...(targetSecret ? [{ secret: { name: targetSecret.metadata.name } }] : []),
      ...existing.map((e) => ({ secret: { name: e.secret, optional: true, items: [{ key: e.key, path: e.path }] } })),
    ];

    const remoteWriteSecret =
      Object.keys(credentials).length > 0
        ? new k8s.core.v1.Secret(
            `${name}-remote-write`,
            { metadata: objectMeta(id, ns, "prometheus-remote-write"), type: "Opaque", stringData: credentials },
            { parent: this },
          )
        : undefined;

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, "prometheus"),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "http", port: PROMETHEUS_PORT, targetPort: "http", protocol: "TCP" }],
          // With two replicas, a client (Grafana) keeps asking the same one: graphs do not flicker between two slightly different TSDBs.
          ...(ha ? { sessionAffinity: "ClientIP" } : {}),
        },
      },
      { parent: this },
    );

    const externalUrl = args.publicHostname ? `https://${args.publicHostname}` : inClusterUrl;
    const podArgs = [
      `--config.file=${PROMETHEUS_PATHS.configFile}`,
      // Prometheus 3: reload when prometheus.yml or a rule file changes (their checksum), no sidecar and no restart.
      "--enable-feature=auto-reload-config",
      `--config.auto-reload-interval=${AUTO_RELOAD_INTERVAL}`,
      `--storage.tsdb.path=${PROMETHEUS_PATHS.data}`,
      `--storage.tsdb.retention.time=${args.retention}`,
      `--storage.tsdb.retention.size=${args.retentionSize}`,
      `--web.listen-address=:${PROMETHEUS_PORT}`,
      `--web.external-url=${externalUrl}`,
      // Read on every request: the security headers Traefik's middleware would add, for the tunnel too.
      `--web.config.file=${PROMETHEUS_PATHS.configDir}/${WEB_CONFIG_FILE}`,
    ];

    const volumes: k8s.types.input.core.v1.Volume[] = [
      // Mounted as directories, never subPath: kubelet then swaps the files in place when a ConfigMap changes.
      directory("config", configs),
      directory("rules", rules),
      scratchVolume("tmp"),
      ...(remoteWriteSecret ? [{ name: "remote-write", secret: { secretName: remoteWriteSecret.metadata.name, defaultMode: 0o440 } }] : []),
      ...(targetSources.length > 0 ? [{ name: "targets", projected: { sources: targetSources, defaultMode: 0o440 } }] : []),
    ];
    const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = [
      { name: "config", mountPath: PROMETHEUS_PATHS.configDir, readOnly: true },
      { name: "rules", mountPath: PROMETHEUS_PATHS.rulesDir, readOnly: true },
      { name: "data", mountPath: PROMETHEUS_PATHS.data },
      { name: "tmp", mountPath: "/tmp" },
      ...(remoteWriteSecret ? [{ name: "remote-write", mountPath: PROMETHEUS_PATHS.remoteWriteDir, readOnly: true }] : []),
      ...(targetSources.length > 0 ? [{ name: "targets", mountPath: PROMETHEUS_PATHS.targetSecretsDir, readOnly: true }] : []),
    ];

    // Each replica's metrics live on its claim, made here so that Pulumi owns (and, in a
    // stack that keeps its data, protects) it; the StatefulSet's controller adopts it.
    this.claims = statefulSetClaims(
      `${name}-data`,
      {
        id,
        namespace: ns,
        statefulSet: STATEFULSET_NAME,
        replicas: args.replicas,
        storage: args.storage,
        protect: args.protectVolumes ?? false,
      },
      this,
    );
    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: objectMeta(id, ns, STATEFULSET_NAME),
        spec: {
          serviceName: service.metadata.name,
          replicas: args.replicas,
          // Replicas are independent copies: start and replace them in parallel.
          podManagementPolicy: "Parallel",
          selector: { matchLabels: selector },
          // Deleting, replacing or scaling down the StatefulSet never deletes a replica's stored metrics.
          persistentVolumeClaimRetentionPolicy: claimRetentionPolicy(),
          template: {
            metadata: { labels: objectMeta(id, ns, "prometheus").labels },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              ...podPriority(args.priorityClassName),
              // Prometheus talks to the API server: Kubernetes service discovery, and the token authenticates it to the kubelets.
              automountServiceAccountToken: true,
              enableServiceLinks: false,
              securityContext: restrictedPodSecurity(65534),
              ...(ha ? { affinity: spreadAcrossNodes(id) } : {}),
              // Time to flush the head block's WAL cleanly on shutdown.
              terminationGracePeriodSeconds: 120,
              containers: [
                {
                  name: "prometheus",
                  image: imageOf(id),
                  args: podArgs,
                  env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
                  ports: [{ name: "http", containerPort: PROMETHEUS_PORT, protocol: "TCP" }],
                  readinessProbe: httpProbe("/-/ready", "http", { periodSeconds: 5, failureThreshold: 3 }),
                  // /-/healthy answers while the WAL replays after a restart, so a long replay is not killed.
                  livenessProbe: httpProbe("/-/healthy", "http", { periodSeconds: 15, failureThreshold: 6 }),
                  resources: resourcesOf(args.resources),
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts,
                },
              ],
              volumes,
            },
          },
          volumeClaimTemplates: [volumeClaimTemplate(id, "data", args.storage)],
        },
      },
      // Not protected: it holds no data (its claims do), and a change of its immutable
      // fields must be able to replace it.
      { parent: this, dependsOn: this.claims },
    );

    if (ha) {
      oneAtATimeDisruptionBudget(`${name}-pdb`, id, ns, "prometheus", { parent: this });
    }

    // Grafana, the other replica and any pod of the stack query or scrape Prometheus; the exposing proxies reach the UI.
    const clients: IngressPeer[] = [{ pods: {} }];
    if (args.ingressFromTraefik) clients.push(TRAEFIK_PODS);
    if (args.ingressFromCloudflared) clients.push({ pods: stackPods("cloudflared", args.environment) });
    new k8s.networking.v1.NetworkPolicy(
      `${name}-network-policy`,
      { metadata: objectMeta(id, ns, "prometheus"), spec: ingressPolicySpec(selector, [{ ports: [PROMETHEUS_PORT], from: clients }]) },
      { parent: this },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-egress-policy`,
      { metadata: objectMeta(id, ns, egressPolicyName("prometheus")), spec: egressPolicySpec(selector, prometheusEgressRules(args)) },
      { parent: this },
    );

    this.url = pulumi.interpolate`http://${service.metadata.name}.${service.metadata.namespace}.svc:${PROMETHEUS_PORT}`;
    this.scrapeTargets = [prometheusScrapeTarget(ns, args.environment)];
    this.registerOutputs({ url: this.url, scrapeTargets: this.scrapeTargets });
  }
}

/**
 * Exactly what discovery and kubelet scraping need, read-only: the objects the
 * kubernetes_sd roles watch, the kubelet's metrics endpoints, and /metrics of the
 * API server.
 */
export function prometheusClusterRoleRules(): k8s.types.input.rbac.v1.PolicyRule[] {
  return [
    { apiGroups: [""], resources: ["nodes", "services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
    // The kubelet authorizes GET /metrics and /metrics/cadvisor as "get nodes/metrics"; nothing lists a subresource.
    { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    { nonResourceURLs: ["/metrics"], verbs: ["get"] },
  ];
}
