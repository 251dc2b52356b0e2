/** From the raw values to the resolved configuration: each section its values over its profile's defaults. */
import { databasesSection } from "../components/database-exporters/section";
import { ArgsProblem } from "../components/kit/problems";
import { Profile } from "../components/kit/profiles";
import { SectionContext } from "../components/kit/section";
import { ExposedService } from "../components/kit/web";
import { remoteWriteProblems } from "../components/prometheus/section";
import { keyed } from "./checks/databases";
import { DEFAULT_NODES, PROFILE_DEFAULTS, defaultNamespace } from "./defaults";
import { CrossProblem } from "./problems";
import { StackConfig } from "../components/stack/config";
import { resolveSections } from "../components/stack/sections";
import { RawConfig, RawStackConfig } from "./schema";
import { resolveApps, resolveProbes, resolveTargets } from "./targets";
import { resolveTracing } from "../components/stack/tracing";

/** The stack's values over its profile's defaults; the problems of what only resolving finds go to `problems`. */
export function resolve(rawConfig: RawConfig, raw: RawStackConfig, profile: Profile, problems: CrossProblem[]): StackConfig {
  const defaults = PROFILE_DEFAULTS[profile];
  const k = (path: string) => `${rawConfig.project}:${path}`;
  // Resolved first, in this order, which is the order of their problems.
  const apps = resolveApps(rawConfig, raw, problems);
  const databases = resolveDatabases(rawConfig, raw, problems);
  // Prometheus resolves its remote writes with its section; what only the raw values tell is reported here, at their place.
  keyed(remoteWriteProblems(raw.prometheus?.remoteWrite, raw.remoteWritePasswords, raw.remoteWriteClientKeys), { key: k, problems });
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
  keyed(sectionProblems, { key: k, problems });
  // The cluster's shared pieces run and are scraped, unless the stack says otherwise, by the stack that watches the cluster.
  const watchesCluster = sections.watch.cluster;
  const nodeExporter = { ...sections.nodeExporter, enabled: raw.nodeExporter?.enabled ?? watchesCluster };
  const traefik = {
    ...sections.traefik,
    metrics: { ...sections.traefik.metrics, enabled: raw.traefik?.metrics?.enabled ?? watchesCluster },
  };
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
    apps,
    databases,
    targets,
    probes,
    ...sections,
    // On by the apps unless the stack says (apps are not the tracing section's).
    tracing: resolveTracing(sections.tracing, raw.tracing?.enabled, apps),
    nodeExporter,
    traefik,
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

/** `databases[]` (components/database-exporters/section.ts), with the problems of its resolution. */
function resolveDatabases(rawConfig: RawConfig, raw: RawStackConfig, problems: CrossProblem[]): StackConfig["databases"] {
  const resolved = databasesSection.resolve(raw.databases, { project: rawConfig.project }, { databaseDsns: raw.databaseDsns });
  keyed(resolved.problems, { key: (path) => `${rawConfig.project}:${path}`, problems });
  return resolved.databases;
}
