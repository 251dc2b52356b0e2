/** Defaults: per profile, assembled from each component's own, and of the stack's namespace and nodes. */
import { ALERTMANAGER_DEFAULTS } from "../components/alertmanager/args";
import { CLOUDFLARE_TUNNEL_DEFAULTS } from "../components/cloudflare-tunnel/args";
import { KUBE_STATE_METRICS_DEFAULTS } from "../components/exporters/kube-state-metrics";
import { NODE_EXPORTER_DEFAULTS } from "../components/exporters/node-exporter";
import { GRAFANA_DEFAULTS } from "../components/grafana/args";
import { ANYWHERE, API_SERVER_PORTS, EGRESS_COMPONENTS, EgressComponent, ExtraEgress } from "../components/kit/network";
import { Profile } from "../components/kit/profiles";
import { LOG_COLLECTOR_DEFAULTS } from "../components/log-collector/args";
import { TRACING_DEFAULTS } from "../components/tracing/args";
import { K3S_TRAEFIK } from "../components/prometheus/args";
import { TRAEFIK_DEFAULTS } from "../components/traefik";
import { StackConfig } from "./resolved";
import { sectionDefaults } from "./sections";

export type ProfileDefaults = Omit<
  StackConfig,
  | "project"
  | "stack"
  | "profile"
  | "environment"
  | "namespace"
  | "nodes"
  | "hostnames"
  | "apps"
  | "databases"
  | "domain"
  | "storageClass"
  | "targets"
  | "probes"
>;

/** The namespace of a stack that does not name one: one per environment, so that several stacks share a cluster. */
export function defaultNamespace(environment: string): string {
  return `monitoring-${environment}`;
}

/** Nodes a stack counts on unless it says otherwise: the single k3s node this project is built for. */
export const DEFAULT_NODES = 1;

/** What the stack sets of its NetworkPolicies and PriorityClass unless told otherwise, in every profile. */
const STACK_DEFAULTS: Pick<ProfileDefaults, "networkPolicy" | "priorityClass"> = {
  networkPolicy: {
    apiServerCidrs: [...ANYWHERE],
    apiServerPorts: [...API_SERVER_PORTS],
    nodeCidrs: [...ANYWHERE],
    extraEgress: Object.fromEntries(EGRESS_COMPONENTS.map((component) => [component, []])) as unknown as Record<
      EgressComponent,
      ExtraEgress[]
    >,
  },
  // Above every pod without a class (0), far below the system's own classes (2000000000 and up).
  priorityClass: { enabled: true, value: 1_000_000 },
};

/** A profile's defaults, from each component's own (kit/profiles.ts says how the profiles differ). */
function profileDefaults(profile: Profile): ProfileDefaults {
  return {
    // Production protects its volumes: the stored metrics, silences, dashboards and logs.
    protectVolumes: profile === "production",
    alertmanager: ALERTMANAGER_DEFAULTS[profile],
    grafana: GRAFANA_DEFAULTS[profile],
    ...sectionDefaults(profile),
    logCollector: LOG_COLLECTOR_DEFAULTS[profile],
    tracing: TRACING_DEFAULTS[profile],
    nodeExporter: NODE_EXPORTER_DEFAULTS[profile],
    kubeStateMetrics: KUBE_STATE_METRICS_DEFAULTS[profile],
    ...STACK_DEFAULTS,
    // The Traefik k3s runs is scraped wherever the stack runs: k3s always installs it unless told not to.
    traefik: { ...TRAEFIK_DEFAULTS, metrics: { enabled: true, ...K3S_TRAEFIK } },
    cloudflare: CLOUDFLARE_TUNNEL_DEFAULTS[profile],
  };
}

/** The defaults of each profile: what a key is when the stack does not set it. */
export const PROFILE_DEFAULTS: Record<Profile, ProfileDefaults> = {
  staging: profileDefaults("staging"),
  production: profileDefaults("production"),
};
