/**
 * Turns a mocked run of the program into what `pulumi up` would send: Kubernetes
 * objects, Cloudflare resources, the config files as containers see them, and the
 * stack outputs. Deterministic: the same input renders byte-identical output.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { describeSignIn } from "../components/grafana/sign-in";
import { LOG_COLLECTOR_AGENT } from "../components/log-collector/args";
import { agentsNamespace, alertmanagerArgs, watchedNamespaces } from "../components/stack/args";
import { CLUSTER_ALERTS } from "../components/stack/content";
import { alertmanagerConfig, receiverChannels } from "../components/alertmanager/config-file";
import { publicHostname } from "../config";
import type { StackConfig } from "../config";
import { readTeamContent } from "../preflight/team-content";
import { cpuMillicores, formatBytes, quantityBytes } from "../components/kit/units";
import { RecordedResource, RunResult, SecretValue } from "./runner";
import { ROOT } from "./stackfile";
import { MASKED_FILE_KEYS, MASKED_SECRET_FILES, maskSecrets, yamlOptions } from "./secret-mask";
import { RenderFacts, destinationsSummary, rangeSetText, renderFacts, requestedByComponent } from "./summary-parts";
import type { SecretConfigValue } from "./secret-mask";

export { ALERTMANAGER_SECRET_KEYS, MASKED_SECRET_FILES, maskFor, maskSecrets, secretConfigValues } from "./secret-mask";
export type { SecretConfigValue } from "./secret-mask";
export { destinationsSummary, renderFacts } from "./summary-parts";
export type { RenderFacts } from "./summary-parts";

export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

export interface RenderedObject {
  /** The Pulumi resource type, e.g. kubernetes:apps/v1:StatefulSet or kubernetes:apps/v1:DeploymentPatch. */
  type: string;
  /** The component that owns it (monitoring:index:Prometheus -> "prometheus"). */
  component: string;
  object: K8sObject;
  /** True for server-side-apply patches of objects the stack does not own. */
  patch: boolean;
  /** Protected from deletion and kept in the cluster when removed from the program. */
  protect: boolean;
}

export interface Rendered {
  kubernetes: RenderedObject[];
  cloudflare: Array<{ type: string; name: string; component: string; inputs: Record<string, unknown> }>;
  /** files/<component>/<key> -> content, as mounted in the containers. */
  files: Map<string, string>;
  outputs: Record<string, unknown>;
  warnings: string[];
}

export const REDACTED = "[secret]";

/** Apply order: what other objects need comes first (as kubectl and Helm do). */
const KIND_ORDER = [
  // Before the pods that name it: the API server refuses a pod whose class does not exist (Helm puts it first too).
  "PriorityClass",
  "Namespace",
  "NetworkPolicy",
  "ResourceQuota",
  "LimitRange",
  "PodSecurityPolicy",
  "PodDisruptionBudget",
  "ServiceAccount",
  "Secret",
  "ConfigMap",
  "StorageClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
  "Service",
  "DaemonSet",
  "Pod",
  "ReplicaSet",
  "Deployment",
  "StatefulSet",
  "Job",
  "CronJob",
  "Ingress",
  "Middleware",
  "IngressRoute",
];

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

/** Replaces SecretValue by its value or by the redaction marker. */
export function reveal(value: unknown, showSecrets: boolean): unknown {
  if (value instanceof SecretValue) return showSecrets ? reveal(value.value, showSecrets) : REDACTED;
  if (Array.isArray(value)) return value.map((v) => reveal(v, showSecrets));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v, showSecrets)]));
  }
  return value;
}

function componentOf(r: RecordedResource): string {
  const own = [...r.parents].reverse().find((t) => t.startsWith("monitoring:index:") && t !== "monitoring:index:MonitoringStack");
  const type = own ?? (r.parents.includes("monitoring:index:MonitoringStack") ? "monitoring:index:MonitoringStack" : "");
  if (!type) return "stack";
  const name = type.slice("monitoring:index:".length).replace(/^Monitoring/, "");
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase() || "stack";
}

function compareObjects(a: RenderedObject, b: RenderedObject): number {
  return (
    Number(a.patch) - Number(b.patch) ||
    kindRank(a.object.kind) - kindRank(b.object.kind) ||
    a.object.kind.localeCompare(b.object.kind) ||
    (a.object.metadata.namespace ?? "").localeCompare(b.object.metadata.namespace ?? "") ||
    (a.object.metadata.name ?? "").localeCompare(b.object.metadata.name ?? "")
  );
}

/**
 * Builds the rendered view of a run. Secrets stay wrapped unless showSecrets; given the
 * stack's secret config values, the MASKED_SECRET_FILES show with only those values masked.
 */
export function renderRun(run: RunResult, showSecrets: boolean, secrets?: readonly SecretConfigValue[]): Rendered {
  const kubernetes: RenderedObject[] = [];
  const revealedFiles = new Map<string, string>();
  const cloudflare: Rendered["cloudflare"] = [];
  for (const r of run.resources.filter((res) => res.custom)) {
    if (r.type.startsWith("kubernetes:")) {
      const { apiVersion, kind } = r.inputs as { apiVersion?: string; kind?: string };
      if (!apiVersion || !kind) throw new Error(`${r.urn} has no apiVersion/kind`);
      const object = reveal(r.inputs, showSecrets) as K8sObject;
      object.metadata = object.metadata ?? {};
      const patch = r.type.endsWith("Patch");
      if (!patch && !object.metadata.name) throw new Error(`${r.urn} has no metadata.name: give every object a stable name`);
      if (kind === "Secret") {
        // The Kubernetes SDK marks data and stringData secret as a whole: keep the keys visible, redact the values.
        for (const field of ["data", "stringData"]) {
          let data = r.inputs[field];
          while (data instanceof SecretValue) data = data.value;
          if (typeof data === "object" && data !== null) {
            object[field] = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, showSecrets ? reveal(v, true) : REDACTED]));
            for (const [k, v] of Object.entries(data)) {
              const file = `${componentOf(r)}/${k}`;
              const text = reveal(v, true);
              if (MASKED_SECRET_FILES.includes(file) && typeof text === "string") {
                revealedFiles.set(file, field === "data" ? Buffer.from(text, "base64").toString("utf8") : text);
              }
            }
          }
        }
      }
      kubernetes.push({ type: r.type, component: componentOf(r), object, patch, protect: r.options.protect && r.options.retainOnDelete });
    } else if (r.type.startsWith("cloudflare:")) {
      cloudflare.push({
        type: r.type,
        name: r.name,
        component: componentOf(r),
        inputs: reveal(r.inputs, showSecrets) as Record<string, unknown>,
      });
    }
  }
  kubernetes.sort(compareObjects);
  cloudflare.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));

  const files = new Map<string, string>();
  for (const { object, component } of kubernetes) {
    if (object.kind !== "ConfigMap" && object.kind !== "Secret") continue;
    const entries: Array<[string, string]> = [];
    for (const [k, v] of Object.entries((object.data ?? {}) as Record<string, string>)) {
      entries.push([k, object.kind === "Secret" && v !== REDACTED ? Buffer.from(v, "base64").toString("utf8") : v]);
    }
    for (const [k, v] of Object.entries((object.stringData ?? {}) as Record<string, string>)) entries.push([k, v]);
    for (const [key, content] of entries) {
      const file = `${component}/${key}`;
      if (files.has(file)) {
        throw new Error(`two config files render to files/${file}: keys of one component's ConfigMaps and Secrets must be unique`);
      }
      const revealed = revealedFiles.get(file);
      const masked =
        content === REDACTED && revealed !== undefined && secrets ? maskSecrets(revealed, secrets, MASKED_FILE_KEYS[file]) : undefined;
      files.set(file, masked ?? (content === REDACTED ? `${REDACTED} (render with --show-secrets to see it)\n` : content));
    }
  }

  return {
    kubernetes,
    cloudflare,
    files: new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b))),
    outputs: reveal(run.outputs, showSecrets) as Record<string, unknown>,
    warnings: run.warnings,
  };
}

export function kubernetesYaml(rendered: Rendered): string {
  return rendered.kubernetes
    .map(
      ({ object, type, patch }) =>
        `${patch ? `# server-side apply patch (${type}) of an object the stack does not own\n` : ""}${YAML.stringify(object, yamlOptions)}`,
    )
    .join("---\n");
}

export function cloudflareYaml(rendered: Rendered): string {
  return rendered.cloudflare.length === 0 ? "[]\n" : YAML.stringify(rendered.cloudflare, yamlOptions);
}

/** The file of a render that carries its summary, for a reviewer who reads the render (a CI artifact) rather than the terminal. */
export const SUMMARY_FILE = "SUMMARY.md";

/**
 * Writes the render to a directory, replacing what a previous render left there; with the
 * summary the command prints, that too, as SUMMARY.md (summaryMarkdown).
 */
export function writeRender(rendered: Rendered, dir: string, summaryText?: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  if (summaryText !== undefined) fs.writeFileSync(path.join(dir, SUMMARY_FILE), summaryMarkdown(summaryText));
  fs.writeFileSync(path.join(dir, "kubernetes.yaml"), kubernetesYaml(rendered));
  fs.writeFileSync(path.join(dir, "cloudflare.yaml"), cloudflareYaml(rendered));
  fs.writeFileSync(path.join(dir, "outputs.json"), `${JSON.stringify(rendered.outputs, null, 2)}\n`);
  for (const [file, content] of rendered.files) {
    const target = path.join(dir, "files", file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
}

interface PodTemplateOwner {
  replicas?: number;
  template?: { spec?: { containers?: Array<{ resources?: { requests?: { cpu?: string; memory?: string } } }> } };
}

/** What the stack asks of the cluster: CPU and memory requests of every pod (DaemonSets counted for one node), in all and by component. */
export function requestedResources(rendered: Rendered): {
  millicores: number;
  bytes: number;
  byComponent: Map<string, { millicores: number; bytes: number }>;
} {
  let millicores = 0;
  let bytes = 0;
  const byComponent = new Map<string, { millicores: number; bytes: number }>();
  for (const { object, patch, component } of rendered.kubernetes) {
    if (!["Deployment", "StatefulSet", "DaemonSet"].includes(object.kind)) continue;
    const spec = (object.spec ?? {}) as PodTemplateOwner;
    // A patch adds its containers to a workload that runs replicas we do not know of: count one.
    const replicas = object.kind === "DaemonSet" || patch ? 1 : (spec.replicas ?? 1);
    const own = byComponent.get(component) ?? { millicores: 0, bytes: 0 };
    for (const c of spec.template?.spec?.containers ?? []) {
      const cpu = replicas * (cpuMillicores(c.resources?.requests?.cpu ?? "0") ?? 0);
      const memory = replicas * (quantityBytes(c.resources?.requests?.memory ?? "0") ?? 0);
      millicores += cpu;
      bytes += memory;
      own.millicores += cpu;
      own.bytes += memory;
    }
    byComponent.set(component, own);
  }
  return { millicores, bytes, byComponent };
}

/** Whether Jaeger runs, and why: tracing.enabled as set, or by default from the apps that send OTLP. */
export function tracingSummary(config: StackConfig): string {
  const { enabled, enabledBy } = config.tracing;
  if (enabledBy === "set") {
    const kept = !enabled && config.protectVolumes ? ", its claim data-jaeger-0 kept (protectVolumes)" : "";
    return `${enabled ? "Jaeger runs" : "off"} (tracing.enabled: ${enabled}, set)${kept}`;
  }
  const senders = config.apps.filter((a) => a.otlp).map((a) => a.name);
  return enabled
    ? `Jaeger runs, by default: apps send OTLP (${senders.join(", ")}); tracing.enabled not set`
    : "off, by default: no app sends OTLP (apps[].otlp); tracing.enabled not set";
}

/** Who collects the stack's pod logs: its own collector (and the other stacks it serves), another stack's, or none. */
function podLogsSummary(config: StackConfig): string[] {
  const collector = config.logCollector;
  if (collector.sharedFrom !== undefined) {
    return [`  sent by the collector of the stack in ${collector.sharedFrom} (logCollector.sharedFrom): this stack runs none`];
  }
  if (!collector.enabled) return ["  none collected: logCollector.enabled is false"];
  return [
    `  collected by this stack's ${LOG_COLLECTOR_AGENT} on every node`,
    ...collector.shareWith.map(
      (share) => `  for the stack in ${share.namespace}: the logs of ${share.namespaces.join(", ")} go to its Loki`,
    ),
  ];
}

/** What a reviewer checks first in a team's config: its apps and their metrics, where alerts go, what is public. */
export function configSummary(config: StackConfig, rendered?: RenderFacts): string[] {
  const lines: string[] = [];
  if (config.apps.length > 0) {
    lines.push("", "Apps (requests, latency histogram, status label):");
    for (const a of config.apps) lines.push(`  ${a.name}: ${a.metrics.requests}, ${a.metrics.duration}, ${a.metrics.statusLabel}`);
  }
  lines.push("", ...watchSummary(config, rendered?.namespaces));
  lines.push("", `Traces: ${tracingSummary(config)}`);
  const am = config.alertmanager;
  lines.push("", "Alert receivers:");
  const receivers = receiverChannels(am.receivers, am.routing);
  if (receivers.length === 0) lines.push('  none: every alert goes to the "null" receiver');
  for (const r of receivers) lines.push(`  ${r.name}: ${r.channels.join("; ")}`);
  const amConfig = alertmanagerConfig(alertmanagerArgs(config));
  const route = amConfig.route as {
    receiver: string;
    routes: Array<{
      receiver: string;
      matchers?: string[];
      continue?: boolean;
      mute_time_intervals?: string[];
      active_time_intervals?: string[];
    }>;
  };
  lines.push("", "Alert routes (first match wins unless it continues):");
  for (const r of route.routes) {
    const quiet = [
      ...(r.active_time_intervals ? [`active only during ${r.active_time_intervals.join(", ")}`] : []),
      ...(r.mute_time_intervals ? [`muted during ${r.mute_time_intervals.join(", ")}`] : []),
    ];
    lines.push(
      `  ${(r.matchers ?? ["every alert"]).join(", ")} -> ${r.receiver}${r.continue ? " (continue)" : ""}${quiet.length > 0 ? `; ${quiet.join("; ")}` : ""}`,
    );
  }
  lines.push(`  anything else -> ${route.receiver}`);
  const intervals = (amConfig.time_intervals ?? []) as Array<{ name: string; time_intervals: Array<Record<string, unknown>> }>;
  if (intervals.length > 0) {
    lines.push("", "Quiet hours (alertmanager.timeIntervals, read in each one's location):");
    for (const t of intervals) lines.push(`  ${t.name}: ${t.time_intervals.map(rangeSetText).join("; or ")}`);
  }
  const hosts = (["grafana", "prometheus", "alertmanager"] as const).flatMap((svc) => {
    const host = publicHostname(config, svc);
    return host ? [`  ${svc}: https://${host}`] : [];
  });
  lines.push("", "Public hostnames:", ...(hosts.length > 0 ? hosts : ["  none: nothing is published"]));
  lines.push("", "Pod logs:", ...podLogsSummary(config));
  lines.push("", "Data leaving the cluster (besides alert notifications):", ...destinationsSummary(config, rendered));
  if (config.grafana.signIn) {
    const host = publicHostname(config, "grafana");
    const signIn = describeSignIn(config.grafana.signIn, config.grafana.adminUser, host ? `https://${host}` : undefined);
    lines.push("", "Grafana sign-in (who, and with which role; first rule that matches wins):", ...signIn.map((l) => `  ${l}`));
  }
  // The program accepted the team's directory: reading it again gives the names it shipped, and
  // needs no built-in names to check them against (reading those parses every rule file again).
  const team = readTeamContent(ROOT, config.teamContent, { alerts: new Map(), records: new Map(), dashboards: [] });
  lines.push(
    "",
    team.present ? `Team content (${team.directory}/):` : `Team content: none (no ${team.directory}/ directory)`,
    ...(team.present
      ? [
          `  rules: ${team.rules.map((r) => r.key).join(", ") || "none"}`,
          `  dashboards: ${team.dashboards.map((d) => `${d.folder}/${d.file}`).join(", ") || "none"}`,
        ]
      : []),
  );
  return lines;
}

/**
 * What the stack watches (watch): its namespaces, and whether it owns the cluster's shared pieces
 * and pages for them. Given the namespaces the render creates, the stack's own that it does not
 * create (its agents namespace, without node-exporter or a collector) are left out: they do not exist.
 */
export function watchSummary(config: StackConfig, created?: ReadonlySet<string>): string[] {
  const own = new Set([config.namespace, agentsNamespace(config)]);
  const namespaces = watchedNamespaces(config)?.filter((ns) => created === undefined || !own.has(ns) || created.has(ns));
  const shared = [
    `the node alerts (${[...CLUSTER_ALERTS].join(", ")}${config.nodeExporter.enabled ? ", rules/nodes.yml" : ""})`,
    ...(config.nodeExporter.enabled ? ["node-exporter"] : []),
    "kube-system",
    ...(config.traefik.metrics.enabled ? ["the cluster's Traefik"] : []),
  ];
  return [
    "Watches (watch.namespaces, watch.cluster):",
    `  namespaces: ${namespaces ? namespaces.join(", ") : 'every namespace (watch.namespaces: ["*"])'}`,
    config.watch.cluster
      ? `  cluster: yes, this stack watches ${shared.join(", ")}; no other stack on the cluster should (watch.cluster: false there)`
      : `  cluster: no, the nodes, kube-system${config.traefik.metrics.enabled ? "" : " and the cluster's Traefik"} are left to the stack on the cluster with watch.cluster: true (set it here if none has it)${config.traefik.metrics.enabled ? "; this stack scrapes the cluster's Traefik all the same (traefik.metrics.enabled)" : ""}`,
    ...kubeStateMetricsSharing(config),
  ];
}

/** A kube-state-metrics shared between stacks (kubeStateMetrics.shareWith / sharedFrom); nothing when it is the stack's own alone. */
function kubeStateMetricsSharing(config: StackConfig): string[] {
  const ksm = config.kubeStateMetrics;
  if (ksm.sharedFrom !== undefined) {
    return [
      `  kube-state-metrics: the one of the stack in ${ksm.sharedFrom} (kubeStateMetrics.sharedFrom), its series of these namespaces kept`,
    ];
  }
  return ksm.shareWith.map(
    (share) =>
      `  kube-state-metrics: also reports ${share.namespaces.join(", ")} for the stack in ${share.namespace}, whose Prometheus it admits`,
  );
}

/**
 * The short report the render command prints; with the stack's config, its apps, alert routing
 * and public hostnames too; with the keys whose secure values it could not decrypt and stood in, those last.
 */
export function summary(
  rendered: Rendered,
  stack: string,
  dir: string,
  config?: StackConfig,
  placeholders: readonly string[] = [],
): string {
  const counts = new Map<string, number>();
  for (const o of rendered.kubernetes) counts.set(o.component, (counts.get(o.component) ?? 0) + 1);
  for (const c of rendered.cloudflare) counts.set(c.component, (counts.get(c.component) ?? 0) + 1);
  const width = Math.max(...[...counts.keys()].map((k) => k.length), 9);
  const { millicores, bytes, byComponent } = requestedResources(rendered);
  const lines = [`Rendered stack "${stack}" to ${dir}`, "", "Objects per component:"];
  for (const [component, n] of [...counts.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${component.padEnd(width)}  ${n}`);
  }
  lines.push(
    `  ${"total".padEnd(width)}  ${rendered.kubernetes.length} Kubernetes objects, ${rendered.cloudflare.length} Cloudflare resources`,
  );
  const urls = Object.entries(rendered.outputs).filter(([k, v]) => /url$/i.test(k) && typeof v === "string");
  if (urls.length > 0) {
    lines.push("", "URLs:");
    for (const [k, v] of urls) lines.push(`  ${k}: ${String(v)}`);
  }
  if (config) lines.push(...configSummary(config, renderFacts(rendered)));
  lines.push("", `Requested: ${millicores}m CPU, ${formatBytes(bytes)} memory (DaemonSets counted for one node)`);
  lines.push("", "Requested by component (memory, CPU):", ...requestedByComponent(byComponent), "");
  lines.push(`Files: ${rendered.files.size} config files under ${path.join(dir, "files")}`);
  if (rendered.warnings.length > 0) {
    lines.push("", "Warnings:");
    for (const w of rendered.warnings) lines.push(`  - ${w}`);
  }
  if (placeholders.length > 0) {
    lines.push(
      "",
      `Secret values stood in (encrypted in the stack file, which the render cannot decrypt; give them with --secrets-file to render them): ${placeholders.join(", ")}`,
    );
  }
  return lines.join("\n");
}

/**
 * The summary as Markdown, built from the printed text so that it says the same, masked the
 * same way: its first line the title, each titled list a section whose lines stay as printed (in
 * a code block: aligned, and nothing in them read as Markdown; a list of sentences as a list),
 * every other line a paragraph.
 */
export function summaryMarkdown(text: string): string {
  const [title, ...lines] = text.split("\n");
  const out = [`# ${title}`];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const items: string[] = [];
    while (lines[i + 1]?.startsWith("  ")) items.push(lines[++i].slice(2));
    if (items.length === 0) out.push("", line);
    // A list of sentences (the warnings) stays a list, to wrap as prose does.
    else if (items.every((item) => item.startsWith("- "))) out.push("", `## ${line.replace(/:$/, "")}`, "", ...items);
    else out.push("", `## ${line.replace(/:$/, "")}`, "", "```text", ...items, "```");
  }
  return `${out.join("\n")}\n`;
}
