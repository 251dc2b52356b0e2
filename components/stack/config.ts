/**
 * The resolved configuration (StackConfig): every key with its value or its profile's default: the
 * stack's own keys, and each section of the registry (sections.ts) as it resolves.
 */
import type { Profile } from "../kit/profiles";
import type { ExposedService } from "../kit/web";
import { type ResolvedSections, SECTION_ENTRIES } from "./sections";

/** The stack's own keys, beside its sections: who it is, where it runs. */
interface StackKeys {
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
}

/**
 * The resolved configuration: the stack's keys, and each section of the registry as its resolve
 * returns it (the lists Prometheus scrapes, `apps`, `targets` and `probes`, every probe the apps'
 * first; the blackbox exporter runs only when there is one; `databases` with their DSNs; the traces
 * backend's `enabled` following the apps unless the stack sets it, with `enabledBy` which of the two).
 */
export type StackConfig = StackKeys & ResolvedSections;

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

/** The jobs of the series the stack's own components give Prometheus for a config: each section's (its `jobs`), in the registry's order. */
export function componentJobs(resolved: StackConfig): string[] {
  return SECTION_ENTRIES.flatMap(([name, section]) => section.jobs?.(resolved[name]) ?? []);
}
