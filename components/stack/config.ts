/**
 * The resolved configuration (StackConfig): every key with its value or its profile's default.
 * Each component's section is the defaults type it owns, with the keys that have no default.
 */
import type { databasesSection } from "../database-exporters/section";
import type { ProbeSpec } from "../kit/probes";
import type { Profile } from "../kit/profiles";
import type { ExposedService } from "../kit/web";
import type { ResolvedSections } from "./sections";
import type { ResolvedTracing } from "./tracing";
import type { AppTarget, ScrapeTargetSpec } from "../prometheus/args";

/** The stack's own keys, beside its sections: who it is, where it runs, and the lists Prometheus scrapes. */
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
  apps: AppTarget[];
  /** The database exporters (`databases[]`, with their DSNs), as components/database-exporters/section.ts resolves them. */
  databases: ReturnType<(typeof databasesSection)["resolve"]>["databases"];
  /** Plain scrape targets (`targets[]`). */
  targets: ScrapeTargetSpec[];
  /** Every probe: the apps' (`apps[].probe`), then `probes[]`. The blackbox exporter runs only when there is one. */
  probes: ProbeSpec[];
}

/**
 * The resolved configuration: the stack's keys, and each section of the registry as it resolves
 * (components/stack/sections.ts), but the traces backend's, whose `enabled` follows the apps unless
 * the stack sets it, with `enabledBy` which of the two (components/stack/tracing.ts).
 */
export type StackConfig = StackKeys & Omit<ResolvedSections, "tracing"> & { tracing: ResolvedTracing };

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
