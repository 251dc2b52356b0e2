/** Defaults: per profile, and of the stack's namespace and nodes. */
import { WRITABLE_FOLDER_DEFAULT } from "../components/grafana/args";
import { ANYWHERE, API_SERVER_PORTS, EGRESS_COMPONENTS, EgressComponent, ExtraEgress } from "../components/kit/network";
import { Profile, withOverrides } from "../components/kit/profiles";
import { requirements as res } from "../components/kit/resources";
import { StackConfig } from "./resolved";

export type ProfileDefaults = Omit<
  StackConfig,
  | "project"
  | "stack"
  | "profile"
  | "environment"
  | "namespace"
  | "nodes"
  | "hostnames"
  | "thresholds"
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

/** Staging: small and cheap. Single replicas, a week of metrics, three days of logs. */
const STAGING_DEFAULTS: ProfileDefaults = {
  protectVolumes: false,
  prometheus: {
    replicas: 1,
    retention: "7d",
    // Derived from the volume size when not given (see resolve).
    retentionSize: "",
    scrapeInterval: "15s",
    scrapeTimeout: "10s",
    evaluationInterval: "15s",
    externalLabels: {},
    remoteWrite: [],
    storage: { size: "10Gi" },
    // Measured by npm run bench (2026-11-22, README "Footprint"): 145 MiB resident and 11m steady,
    // 196 MiB at the incident's peak. Requests steady × 1.25, memory limit peak × 2.
    resources: res("15m", "192Mi", "1", "400Mi"),
  },
  alertmanager: {
    replicas: 1,
    groupWait: "30s",
    groupInterval: "5m",
    repeatInterval: "12h",
    receivers: {},
    storage: { size: "1Gi" },
    // npm run bench: 42 MiB and 1m steady, 43 MiB at the peak (× 1.25, × 2).
    resources: res("5m", "64Mi", "200m", "96Mi"),
  },
  grafana: {
    replicas: 1,
    adminUser: "admin",
    writableFolder: WRITABLE_FOLDER_DEFAULT,
    storage: { size: "2Gi" },
    resources: res("100m", "256Mi", "500m", "512Mi"),
  },
  // npm run bench: 182 MiB and 13m steady, 235 MiB at the peak, plus 24 MiB for the two hours of
  // chunks its ingester holds (× 1.25, × 2).
  // Ingestion limits: derived from the volume and the retention unless given (components/loki-limits.ts).
  loki: { enabled: true, retention: "3d", storage: { size: "10Gi" }, resources: res("20m", "272Mi", "1", "528Mi"), ingestion: {} },
  // Alloy (the default agent), measured by npm run bench: 224 MiB resident and 29m steady, 227 MiB at
  // the peak — 42 MiB its own heap, the rest its 400 MB binary's mapped pages (× 1.25, × 2).
  logCollector: { enabled: true, agent: "alloy", resources: res("40m", "288Mi", "200m", "464Mi") },
  // Not node-exporter's usual 9100, which the production profile takes: a staging stack next to a production one on the same nodes.
  // npm run bench: 21 MiB and 3m steady, 22 MiB at the peak (× 1.25, × 2).
  nodeExporter: { enabled: true, port: 9101, resources: res("5m", "32Mi", "200m", "48Mi") },
  kubeStateMetrics: { enabled: true, resources: res("20m", "64Mi", "200m", "128Mi") },
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
  traefik: {
    enabled: false,
    entryPoints: ["websecure"],
    expose: ["grafana", "prometheus", "alertmanager"],
    basicAuthUsers: ["admin"],
    basicAuthPasswords: {},
  },
  cloudflare: {
    enabled: false,
    // Derived from the project and environment when not given (see resolve).
    tunnelName: "",
    replicas: 1,
    expose: ["grafana"],
    access: { enabled: false, emails: [], emailDomains: [], sessionDuration: "24h" },
    resources: res("20m", "64Mi", "200m", "128Mi"),
  },
};

/** The defaults of each profile: what a key is when the stack does not set it. */
export const PROFILE_DEFAULTS: Record<Profile, ProfileDefaults> = {
  staging: STAGING_DEFAULTS,
  // Production: HA, 30 days of metrics and 7 days of logs (as in the earlier stacks), volumes protected.
  // Its replicas are what it runs on enough nodes: with fewer, one per node (see resolve, `nodes`).
  production: withOverrides(STAGING_DEFAULTS, {
    protectVolumes: true,
    // The same measurements as staging's (npm run bench), with more headroom: requests steady × 1.5,
    // memory limits peak × 3 (an incident in production, and the queries it brings, matter more).
    prometheus: { replicas: 2, retention: "30d", storage: { size: "50Gi" }, resources: res("20m", "224Mi", "2", "592Mi") },
    alertmanager: { replicas: 3, repeatInterval: "4h", resources: res("5m", "64Mi", "200m", "144Mi") },
    grafana: { storage: { size: "5Gi" }, resources: res("100m", "256Mi", "1", "512Mi") },
    loki: { retention: "7d", storage: { size: "30Gi" }, resources: res("20m", "320Mi", "2", "784Mi") },
    logCollector: { resources: res("45m", "336Mi", "500m", "688Mi") },
    nodeExporter: { port: 9100, resources: res("10m", "48Mi", "200m", "80Mi") },
    kubeStateMetrics: { resources: res("50m", "128Mi", "500m", "256Mi") },
    cloudflare: { replicas: 2, resources: res("50m", "64Mi", "500m", "256Mi") },
  }),
};
