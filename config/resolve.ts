/** From the raw values to the resolved configuration: each section its values over its profile's defaults. */
import { THRESHOLD_LEVELS, THRESHOLD_NAMES, Thresholds, defaultThresholds } from "../components/prometheus/rules/thresholds";
import { prometheusSizeMB, quantityBytes } from "../components/kit/units";
import { databasesSection } from "../components/database-exporters/section";
import { Profile } from "../components/kit/profiles";
import { ArgsProblem } from "../components/kit/problems";
import { SectionContext, resolveResources, resolveStorage } from "../components/kit/section";
import { ExposedService } from "../components/kit/web";
import { RemoteWriteTarget } from "../components/prometheus/args";
import { keyed } from "./checks/databases";
import { DEFAULT_NODES, PROFILE_DEFAULTS, ProfileDefaults, defaultNamespace } from "./defaults";
import { CrossProblem } from "./problems";
import { StackConfig } from "./resolved";
import { resolveSections } from "./sections";
import { RawConfig, RawStackConfig } from "./schema";
import { resolveApps, resolveProbes, resolveTargets } from "./targets";

/** The stack's values over its profile's defaults; the problems of what only resolving finds go to `problems`. */
export function resolve(rawConfig: RawConfig, raw: RawStackConfig, profile: Profile, problems: CrossProblem[]): StackConfig {
  const defaults = PROFILE_DEFAULTS[profile];
  // Resolved first, in this order, which is the order of their problems.
  const apps = resolveApps(rawConfig, raw, problems);
  const databases = resolveDatabases(rawConfig, raw, problems);
  const remoteWrite = resolveRemoteWrite(rawConfig, raw, problems);
  const targets = resolveTargets(rawConfig, raw, problems);
  const probes = resolveProbes(rawConfig, raw, problems);

  const { domain, storageClass } = raw;
  const environment = raw.environment ?? rawConfig.stack;
  const nodes = raw.nodes ?? DEFAULT_NODES;
  const sectionProblems: ArgsProblem[] = [];
  const context: SectionContext = {
    project: rawConfig.project,
    stack: rawConfig.stack,
    profile,
    environment,
    nodes,
    ...(storageClass ? { storageClass } : {}),
    problems: sectionProblems,
  };
  const sections = resolveSections(raw, context);
  // What resolving the sections found (Alertmanager's routing) comes next, keyed from the top of the stack file.
  const k = (path: string) => `${rawConfig.project}:${path}`;
  for (const { key, message, involves } of sectionProblems) {
    problems.push({ key: k(key), message, ...(involves ? { involves: involves.map(k) } : {}) });
  }
  // A profile's replicas, on as many nodes as there are: each replica runs on a node of its own.
  const onNodes = (replicas: number) => Math.min(replicas, nodes);
  return {
    project: rawConfig.project,
    stack: rawConfig.stack,
    profile,
    environment,
    namespace: raw.namespace ?? defaultNamespace(environment),
    nodes,
    ...(domain ? { domain } : {}),
    ...(storageClass ? { storageClass } : {}),
    protectVolumes: raw.protectVolumes ?? defaults.protectVolumes,
    ...(raw.teamContent !== undefined ? { teamContent: raw.teamContent.replace(/\/$/, "") } : {}),
    hostnames: resolveHostnames(raw),
    thresholds: resolveThresholds(raw.thresholds),
    apps,
    databases,
    targets,
    probes,
    prometheus: resolvePrometheus(raw, defaults, remoteWrite, onNodes),
    alertmanager: sections.alertmanager,
    grafana: sections.grafana,
    loki: sections.loki,
    logCollector: sections.logCollector,
    tracing: sections.tracing,
    nodeExporter: sections.nodeExporter,
    kubeStateMetrics: sections.kubeStateMetrics,
    networkPolicy: sections.networkPolicy,
    priorityClass: sections.priorityClass,
    traefik: sections.traefik,
    cloudflare: sections.cloudflare,
  };
}

/** Each published service's hostname: given, or `<service>.<domain>`. */
function resolveHostnames(raw: RawStackConfig): Partial<Record<ExposedService, string>> {
  const hostnames: Partial<Record<ExposedService, string>> = {};
  for (const svc of ["grafana", "prometheus", "alertmanager"] as const) {
    const hostname = raw.hostnames?.[svc] ?? (raw.domain ? `${svc}.${raw.domain}` : undefined);
    if (hostname) hostnames[svc] = hostname;
  }
  return hostnames;
}

function resolvePrometheus(
  raw: RawStackConfig,
  defaults: ProfileDefaults,
  remoteWrite: RemoteWriteTarget[],
  onNodes: (replicas: number) => number,
): StackConfig["prometheus"] {
  const prometheus = raw.prometheus ?? {};
  const volume = resolveStorage(defaults.prometheus.storage, prometheus.storage, raw);
  return {
    replicas: prometheus.replicas ?? onNodes(defaults.prometheus.replicas),
    retention: prometheus.retention ?? defaults.prometheus.retention,
    retentionSize: prometheus.retentionSize ?? prometheusSizeMB((quantityBytes(volume.size) ?? 0) * 0.85),
    scrapeInterval: prometheus.scrapeInterval ?? defaults.prometheus.scrapeInterval,
    scrapeTimeout: prometheus.scrapeTimeout ?? defaults.prometheus.scrapeTimeout,
    evaluationInterval: prometheus.evaluationInterval ?? defaults.prometheus.evaluationInterval,
    externalLabels: prometheus.externalLabels ?? {},
    remoteWrite,
    ...(prometheus.runbookBaseUrl !== undefined ? { runbookBaseUrl: prometheus.runbookBaseUrl } : {}),
    storage: volume,
    resources: resolveResources(defaults.prometheus.resources, prometheus.resources),
  };
}

/** `databases[]` (components/database-exporters/section.ts), with the problems of its resolution. */
function resolveDatabases(rawConfig: RawConfig, raw: RawStackConfig, problems: CrossProblem[]): StackConfig["databases"] {
  const resolved = databasesSection.resolve(raw.databases, { project: rawConfig.project }, { databaseDsns: raw.databaseDsns });
  keyed(resolved.problems, { key: (path) => `${rawConfig.project}:${path}`, problems });
  return resolved.databases;
}

/** `prometheus.remoteWrite[]`, each with its credential from remoteWritePasswords. */
function resolveRemoteWrite(rawConfig: RawConfig, raw: RawStackConfig, problems: CrossProblem[]): RemoteWriteTarget[] {
  const k = (path: string) => `${rawConfig.project}:${path}`;
  const rawRemoteWrite = raw.prometheus?.remoteWrite ?? [];
  const passwords = raw.remoteWritePasswords ?? {};
  const remoteWrite: RemoteWriteTarget[] = rawRemoteWrite.map((rw, i) => {
    const password = passwords[rw.name];
    if ((rw.username !== undefined || rw.bearerToken) && password === undefined) {
      problems.push({
        key: k(`prometheus.remoteWrite[${i}]`),
        message: `remote write "${rw.name}" needs its credential: pulumi config set --secret --path 'remoteWritePasswords.${rw.name}' <value>`,
        involves: [k(`remoteWritePasswords.${rw.name}`)],
      });
    }
    if (rw.username !== undefined && rw.bearerToken) {
      problems.push({
        key: k(`prometheus.remoteWrite[${i}]`),
        message: `remote write "${rw.name}": choose username (basic auth) or bearerToken, not both`,
      });
    }
    const auth =
      rw.username !== undefined
        ? { username: rw.username, password: password ?? "" }
        : rw.bearerToken
          ? { bearerToken: password ?? "" }
          : undefined;
    return { name: rw.name, url: rw.url, ...(auth ? { auth } : {}) };
  });
  for (const name of Object.keys(passwords)) {
    if (!rawRemoteWrite.some((rw) => rw.name === name)) {
      problems.push({
        key: k(`remoteWritePasswords.${name}`),
        message: `no remote write named "${name}" in prometheus.remoteWrite: add it there, or remove the password with: pulumi config rm --path 'remoteWritePasswords.${name}'`,
        involves: [k("prometheus.remoteWrite")],
      });
    }
  }
  return remoteWrite;
}

/** Each level of each tunable alert: what the stack gives, else rules/nodes.yml's value. */
function resolveThresholds(rawThresholds: RawStackConfig["thresholds"]): Thresholds {
  const out = defaultThresholds();
  for (const name of THRESHOLD_NAMES) {
    for (const level of THRESHOLD_LEVELS) {
      const given = rawThresholds?.[name]?.[level];
      if (given === undefined) continue;
      const byDefault = out[name][level];
      out[name][level] = {
        enabled: given.enabled ?? byDefault.enabled,
        percent: given.percent ?? byDefault.percent,
        for: given.for ?? byDefault.for,
        severity: given.severity ?? byDefault.severity,
      };
    }
  }
  return out;
}
