/** From the raw values to the resolved configuration: the stack's own keys, and each section through the registry. */
import { ArgsProblem } from "../components/kit/problems";
import { Profile } from "../components/kit/profiles";
import { SectionContext } from "../components/kit/section";
import { ExposedService } from "../components/kit/web";
import { keyed } from "./checks/check";
import { DEFAULT_NODES, PROFILE_DEFAULTS, defaultNamespace } from "./defaults";
import { CrossProblem } from "./problems";
import { StackConfig } from "../components/stack/config";
import { resolveSections } from "../components/stack/sections";
import { RawConfig, RawStackConfig } from "./schema";

/** The stack's values over its profile's defaults; the problems of what only resolving finds go to `problems`. */
export function resolve(rawConfig: RawConfig, raw: RawStackConfig, profile: Profile, problems: CrossProblem[]): StackConfig {
  const defaults = PROFILE_DEFAULTS[profile];
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
  // What resolving the sections found, in the order they resolve, keyed from the top of the stack file.
  keyed(sectionProblems, { key: (path) => `${rawConfig.project}:${path}`, problems });
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
    ...sections,
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
