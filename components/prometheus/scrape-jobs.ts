/** The scrape jobs of prometheus.yml, one kind at a time: the components' Services, annotated pods, apps, plain targets, probes, kubelets. */
import { DATABASE_LABEL, DATABASE_TYPES, ENVIRONMENT_LABEL, EXPORTER_LABEL } from "../kit/database-exporters";
import { ScrapeTarget } from "../kit/services";
import { durationSeconds } from "../kit/units";
import { APP_DEFAULTS, AppTarget, ClusterTraefik, PROMETHEUS_PATHS, TargetArgs } from "./args";
import type { ScrapeLimits } from "./scraped";
import { BUILTIN_JOB_LIMITS, builtinJobLimits, limitsOf } from "./scrape-limits";
import type { RelabelConfig, ScrapeConfig } from "./scrape-types";
import { ProbeSpec, probeModule } from "../kit/probes";
import { JOB } from "../kit/stack-jobs";

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
export function keepService(selector: Record<string, string>, port: string): RelabelConfig[] {
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

/** Files of a component target's secrets under PROMETHEUS_PATHS.scrapeSecretsDir, by its job_name (a `/` of a suffixed one becomes `-`). */
export function scrapeSecretFile(jobName: string, what: "password" | "ca.crt"): string {
  return `${jobName.replace(/\//g, "-")}-${what}`;
}

/** A job for one ScrapeTarget: the endpoints of its Service, in its namespace, on its port; its TLS and basic auth read from files. */
export function targetJob(t: ScrapeTarget, jobName: string, globalTimeout: string): ScrapeConfig {
  const instanceSource = t.instance === "node" ? "__meta_kubernetes_pod_node_name" : "__meta_kubernetes_pod_name";
  const file = (what: "password" | "ca.crt") => `${PROMETHEUS_PATHS.scrapeSecretsDir}/${scrapeSecretFile(jobName, what)}`;
  return {
    job_name: jobName,
    ...intervalOf(t.interval, globalTimeout),
    metrics_path: t.path ?? "/metrics",
    scheme: t.scheme ?? "http",
    ...(t.honorLabels ? { honor_labels: true } : {}),
    ...(t.basicAuth ? { basic_auth: { username: t.basicAuth.username, password_file: file("password") } } : {}),
    ...(t.tls ? { tls_config: { ca_file: file("ca.crt"), server_name: t.tls.serverName } } : {}),
    ...limitsOf(builtinJobLimits(t.job)),
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
    ...(t.keepNamespaces
      ? {
          metric_relabel_configs: [
            { source_labels: ["namespace"], regex: t.keepNamespaces.map((ns) => literal(ns)).join("|"), action: "keep" as const },
          ],
        }
      : {}),
  };
}

/**
 * Pods annotated `prometheus.io/scrape: "true"`, with the port, path and scheme their
 * annotations give, in the namespaces the stack watches (`namespaces`; none: every one); pods
 * that name another stack's environment (an earlier release's exporter sidecars of another stack
 * on the same cluster) are left to that stack.
 */
export function podsJob(
  environment: string,
  clusterTraefik: ClusterTraefik | undefined,
  limits: ScrapeLimits,
  namespaces?: readonly string[],
): ScrapeConfig {
  const annotation = (name: string) => metaLabel("__meta_kubernetes_pod_annotation_", `prometheus.io/${name}`);
  const podLabel = (name: string) => metaLabel("__meta_kubernetes_pod_label_", name);
  return {
    job_name: JOB.pods,
    ...limitsOf({ ...limits, ...BUILTIN_JOB_LIMITS[JOB.pods] }),
    kubernetes_sd_configs: [{ role: "pod", ...(namespaces ? { namespaces: { names: [...namespaces] } } : {}) }],
    relabel_configs: [
      { source_labels: [annotation("scrape")], regex: "true", action: "keep" },
      // Unlabelled, or labelled with this stack's environment.
      { source_labels: [podLabel(ENVIRONMENT_LABEL)], regex: `|${literal(environment)}`, action: "keep" },
      // k3s annotates its Traefik's pods too: job traefik scrapes them, on their metrics port.
      ...(clusterTraefik
        ? [
            {
              source_labels: ["__meta_kubernetes_namespace", ...Object.keys(clusterTraefik.podLabels).map(podLabel)],
              regex: [clusterTraefik.namespace, ...Object.values(clusterTraefik.podLabels)].map(literal).join(";"),
              action: "drop" as const,
            },
          ]
        : []),
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
      // A pod with a database exporter container, labelled as components/kit/database-exporters.ts says: job `<type>-exporter` and the database.
      {
        source_labels: [podLabel(EXPORTER_LABEL)],
        regex: `(${[...DATABASE_TYPES].sort().join("|")})`,
        replacement: "${1}-exporter",
        target_label: "job",
      },
      { source_labels: [podLabel(DATABASE_LABEL)], regex: "(.+)", target_label: "database" },
    ],
  };
}

/**
 * The cluster's own Traefik (k3s's ingress, not the stack's): its pods in their namespace, picked
 * by their labels, on the container port of the metrics entry point, which the chart's Service
 * does not expose. Finished pods are dropped; `instance` is the pod, `node` where it runs.
 */
export function clusterTraefikJob(traefik: ClusterTraefik): ScrapeConfig {
  const podLabel = (name: string) => metaLabel("__meta_kubernetes_pod_label_", name);
  return {
    job_name: JOB.traefik,
    ...limitsOf(builtinJobLimits(JOB.traefik)),
    kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [traefik.namespace] } }],
    relabel_configs: [
      ...Object.entries(traefik.podLabels).map(([label, value]) => ({
        source_labels: [podLabel(label)],
        regex: literal(value),
        action: "keep" as const,
      })),
      { source_labels: ["__meta_kubernetes_pod_container_port_number"], regex: String(traefik.port), action: "keep" },
      { source_labels: ["__meta_kubernetes_pod_phase"], regex: "Succeeded|Failed", action: "drop" },
      { source_labels: ["__meta_kubernetes_pod_name"], target_label: "instance" },
      { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
      { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
      { source_labels: ["__meta_kubernetes_pod_node_name"], regex: "(.+)", target_label: "node" },
    ],
  };
}

/**
 * How an app's response is parsed when its Content-Type is missing or unknown: Prometheus 3
 * fails such a scrape, and hand-written /metrics endpoints often send none. The classic
 * text format is what they write. Prometheus 3.0 and later only (Debian's promtool 2.42 does not know it).
 */
export const APP_SCRAPE_PROTOCOL = { fallback_scrape_protocol: "PrometheusText0.0.4" } as const;

/**
 * The endpoints of a Service (an app's or a plain target's), each pod an `instance`, by the Service
 * port's name, the pods' container port name or their port number: what endpoints discovery reports,
 * never the Service's port number. Exactly one of them: config refuses both port and targetPort, and
 * neither (lists.ts), and its schema a targetPort outside 1-65535.
 */
function serviceEndpoints(
  service: { namespace: string; name: string; port?: string; targetPort?: number; targetPortName?: string },
  labels: Record<string, string>,
): Pick<ScrapeConfig, "kubernetes_sd_configs" | "relabel_configs"> {
  const { namespace, name, port, targetPort, targetPortName } = service;
  const keepPort: RelabelConfig =
    port !== undefined
      ? { source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: literal(port), action: "keep" }
      : targetPortName !== undefined
        ? // An unnamed Service port (the Service's only one) whose targetPort names the pods' container port.
          { source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: literal(targetPortName), action: "keep" }
        : { source_labels: ["__address__"], regex: `.+:${targetPort}`, action: "keep" };
  return {
    kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [namespace] } }],
    relabel_configs: [
      { source_labels: ["__meta_kubernetes_service_name"], regex: literal(name), action: "keep" },
      keepPort,
      { source_labels: ["__meta_kubernetes_pod_name"], regex: "(.+)", target_label: "instance" },
      ...ENDPOINT_TARGET_LABELS,
      ...staticLabels(labels),
    ],
  };
}

/** A configured app: the endpoints of its Service, or its static URL. */
export function appJob(app: AppTarget, globalTimeout: string, limits: ScrapeLimits): ScrapeConfig {
  const identity = { app: app.name, ...app.labels };
  if (app.service) {
    // A number given as the Service's port (servicePort) is resolved into one of these first
    // (preflight/service-ports.ts; problems.ts refuses an app whose port is not).
    return {
      job_name: app.name,
      ...intervalOf(app.interval, globalTimeout),
      metrics_path: app.path,
      scheme: app.scheme,
      ...APP_SCRAPE_PROTOCOL,
      ...limitsOf(limits),
      ...serviceEndpoints(app.service, identity),
    };
  }
  // Scraped, without a Service: by its URL (an app with neither only sends OTLP, and has no job).
  const { host, ...where } = staticUrl(app.url ?? "");
  return {
    job_name: app.name,
    ...intervalOf(app.interval, globalTimeout),
    ...where,
    ...APP_SCRAPE_PROTOCOL,
    ...limitsOf(limits),
    static_configs: [{ targets: [host], labels: identity }],
  };
}

/**
 * Where a static URL is scraped: its host, its path (a URL without one, which WHATWG URLs give as
 * "/", means the default, as for a Service), query parameters and scheme. The URL holds no
 * credentials: the schema of apps[].url and targets[].url refuses them (plainHttpUrl), since they
 * would be stored in plain text in prometheus.yml.
 */
function staticUrl(text: string): { host: string; metrics_path: string; params?: Record<string, string[]>; scheme: "http" | "https" } {
  const url = new URL(text);
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
export function plainTargetJob(t: TargetArgs, globalTimeout: string, limits: ScrapeLimits): ScrapeConfig {
  const file = (what: "credential" | "ca.crt") => `${PROMETHEUS_PATHS.targetSecretsDir}/${targetSecretFile(t.name, what)}`;
  const timing = t.timeout
    ? { ...intervalOf(t.interval, globalTimeout), scrape_timeout: t.timeout }
    : intervalOf(t.interval, globalTimeout);
  const common = {
    job_name: t.name,
    ...timing,
    ...APP_SCRAPE_PROTOCOL,
    ...limitsOf(limits),
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
    return { ...common, metrics_path: t.path, scheme: t.scheme, ...serviceEndpoints(t.service, t.labels) };
  }
  // Without a Service, by its URL: config refuses a target with neither or both (lists.ts resolveTargets).
  const { host, ...where } = staticUrl(t.url ?? "");
  return {
    ...common,
    ...where,
    static_configs: [{ targets: [host], ...(Object.keys(t.labels).length > 0 ? { labels: t.labels } : {}) }],
  };
}

/**
 * A probe: Prometheus asks the blackbox exporter (`/probe?module=…&target=…`) and stores what
 * it reports (probe_success, probe_duration_seconds, probe_ssl_earliest_cert_expiry, …) as job
 * `blackbox`, with `probe="<name>"` and the probed address as `instance`. An app's Service is
 * probed on every ready endpoint, as it is scraped.
 */
export function probeJob(probe: ProbeSpec, blackboxAddress: string, globalTimeout: string): ScrapeConfig {
  const labels = { ...probe.labels, probe: probe.name };
  const toExporter: RelabelConfig[] = [
    { target_label: "__address__", replacement: literalReplacement(blackboxAddress) },
    { target_label: "job", replacement: JOB.probe },
  ];
  const common = {
    // One job per probe (its own interval); the job label is the same for all.
    job_name: `${JOB.probe}/${probe.name}`,
    ...intervalOf(probe.interval, globalTimeout),
    metrics_path: "/probe",
    params: { module: [probeModule(probe)] },
    scheme: "http" as const,
    ...limitsOf(builtinJobLimits(JOB.probe)),
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
  // A URL without credentials: the schema of probes[].url refuses them (plainHttpUrl), and an app's probe takes its URL's origin.
  const address = "url" in target ? target.url : target.address;
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

/**
 * The `id` of a pod's own cgroup, as cAdvisor reports it: `…/pod<uid>` (the cgroupfs driver) or
 * `…/kubepods-<qos>-pod<uid>.slice` (systemd), never a container's cgroup beneath it (docs/dashboards.md,
 * "Both cAdvisor shapes"). An anchored RE2 regex, as relabelling and PromQL read it.
 */
export const POD_CGROUP_ID = ".*[/-]pod[^/]+";

/**
 * The label, and its value, that the cadvisor job gives the series of a pod's own cgroup: no container, a pod,
 * and an `id` of POD_CGROUP_ID. The pod recordings of rules/kubernetes.yml's `kubernetes-usage` select it instead
 * of matching POD_CGROUP_ID against the `id` of every cgroup in Prometheus' head at each evaluation: relabelling
 * runs once per new series (Prometheus keeps a scraped series' labels from one scrape to the next), and
 * `cgroup="pod"` is one posting list. (The pod view, which selects one pod's series first, keeps its pod's cgroup
 * by `id` after the selection, and so reads the hour before an upgrade that brought the label.)
 */
export const POD_CGROUP_LABEL = { name: "cgroup", value: "pod" } as const;

/**
 * The kubelet's own metrics or its embedded cAdvisor, on every node, with the
 * service account's token (RBAC: get nodes/metrics). With the namespaces the stack watches, only
 * the series of those namespaces are stored, and those of no namespace (the node's and the
 * kubelet's own): another stack's containers and volumes on the same node are that stack's.
 * cAdvisor's series of a pod's own cgroup are labelled POD_CGROUP_LABEL.
 */
export function kubeletJob(
  jobName: typeof JOB.kubelet | typeof JOB.cadvisor,
  metricsPath: string,
  namespaces?: readonly string[],
): ScrapeConfig {
  const sa = PROMETHEUS_PATHS.serviceAccountDir;
  const metricRelabel: RelabelConfig[] = [
    ...(namespaces ? [{ source_labels: ["namespace"], regex: ["", ...namespaces].map(literal).join("|"), action: "keep" as const }] : []),
    ...(jobName === JOB.cadvisor
      ? [
          {
            // container, pod and id joined by ";" (the default separator): no container, a pod, the pod's cgroup.
            source_labels: ["container", "pod", "id"],
            regex: `;[^;]+;${POD_CGROUP_ID}`,
            target_label: POD_CGROUP_LABEL.name,
            replacement: POD_CGROUP_LABEL.value,
          },
        ]
      : []),
  ];
  return {
    job_name: jobName,
    scheme: "https",
    metrics_path: metricsPath,
    ...limitsOf(builtinJobLimits(jobName)),
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
    ...(metricRelabel.length > 0 ? { metric_relabel_configs: metricRelabel } : {}),
  };
}
