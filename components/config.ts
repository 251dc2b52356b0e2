/**
 * Stack configuration: turns the raw `monitoring:*` keys of a Pulumi stack into one
 * typed, validated StackConfig with defaults per profile. Pure: nothing here reads
 * `pulumi.Config`; index.ts hands the raw values in.
 *
 * Every problem is collected and reported at once, each naming the key, what is
 * allowed and what was given, before any resource is created.
 */
import { z } from "zod";
import {
  BYTES_QUANTITY_PATTERN,
  CPU_QUANTITY_PATTERN,
  DURATION_PATTERN,
  PROMETHEUS_SIZE_PATTERN,
  durationSeconds,
  prometheusSizeMB,
  quantityBytes,
} from "./units";

// ---------------------------------------------------------------------------
// Field types

const PROFILES = ["staging", "production"] as const;
export type Profile = (typeof PROFILES)[number];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const PROM_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PROM_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const HEX32 = /^[0-9a-f]{32}$/;
const BASIC_AUTH_USER = /^[a-zA-Z0-9_.-]{1,32}$/;
const BASIC_AUTH_USER_MESSAGE = "user names are 1-32 of letters, digits, _ . -";

const dnsLabel = z.string().regex(DNS_LABEL, "must be a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters");
const hostname = z.string().regex(HOSTNAME, "must be a fully qualified lower-case hostname such as grafana.example.com");
const duration = z.string().refine((s) => s !== "" && DURATION_PATTERN.test(s) && (durationSeconds(s) ?? 0) > 0, {
  message: "must be a positive Prometheus duration such as 15s, 5m, 12h, 30d or 1h30m",
});
const bytesQuantity = z.string().refine((s) => BYTES_QUANTITY_PATTERN.test(s) && (quantityBytes(s) ?? 0) > 0, {
  message: "must be a positive Kubernetes quantity such as 512Mi, 10Gi or 1Ti",
});
const cpuQuantity = z.string().refine((s) => CPU_QUANTITY_PATTERN.test(s) && s !== "0" && s !== "0m", {
  message: "must be a positive CPU quantity such as 100m, 0.5 or 2",
});
const prometheusSize = z.string().regex(PROMETHEUS_SIZE_PATTERN, "must be a Prometheus size such as 512MB, 45GB or 1TB");
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });
const email = z.email({ error: "must be an email address" });
const replicas = z.number({ error: "must be a whole number" }).int("must be a whole number").min(1, "must be at least 1");
const percent = (what: string) =>
  z
    .number({ error: `must be a number (${what})` })
    .gt(0, "must be greater than 0")
    .lt(100, "must be less than 100");
const labelMap = z.record(z.string().regex(PROM_LABEL_NAME, "label names must match [a-zA-Z_][a-zA-Z0-9_]*"), z.string());

const resources = z.strictObject({
  requests: z.strictObject({ cpu: cpuQuantity.optional(), memory: bytesQuantity.optional() }).optional(),
  limits: z.strictObject({ cpu: cpuQuantity.optional(), memory: bytesQuantity.optional() }).optional(),
});
const storage = z.strictObject({
  size: bytesQuantity.optional().describe("Size of the PersistentVolumeClaim."),
  storageClass: z.string().min(1).optional().describe("StorageClass of the claim; the cluster default when unset."),
});

// ---------------------------------------------------------------------------
// Sections (every field optional: defaults come from the profile)

const appSchema = z.strictObject({
  name: dnsLabel.describe("Unique app name; becomes the `app` label of its series."),
  namespace: dnsLabel.optional().describe("Namespace of the app's Service (with `service`)."),
  service: dnsLabel.optional().describe("Kubernetes Service to scrape (every ready endpoint)."),
  url: httpUrl.optional().describe("Static URL to scrape instead of a Service, e.g. an app outside the cluster."),
  port: z
    .union([z.number().int().min(1).max(65535), z.string().regex(/^[a-z]([-a-z0-9]{0,13}[a-z0-9])?$/)], {
      error: "must be a port number 1-65535 or a port name",
    })
    .optional()
    .describe("Service port (number or name) that serves metrics (with `service`)."),
  path: z.string().startsWith("/", "must start with /").optional().describe("Metrics path; default /metrics."),
  scheme: z.enum(["http", "https"]).optional(),
  interval: duration.optional().describe("Scrape interval for this app; default prometheus.scrapeInterval."),
  labels: labelMap.optional().describe("Extra target labels."),
  metrics: z
    .strictObject({
      requests: z.string().regex(PROM_METRIC_NAME).optional().describe("Request counter; default http_requests_total."),
      duration: z
        .string()
        .regex(PROM_METRIC_NAME)
        .optional()
        .describe("Latency histogram (without _bucket); default http_request_duration_seconds."),
      statusLabel: z.string().regex(PROM_LABEL_NAME).optional().describe("Status code label; default status."),
      methodLabel: z.string().regex(PROM_LABEL_NAME).optional().describe("HTTP method label; default method."),
      routeLabel: z.string().regex(PROM_LABEL_NAME).optional().describe("Route label; default endpoint."),
      activeConnections: z
        .string()
        .regex(PROM_METRIC_NAME)
        .optional()
        .describe("Active connections gauge; default http_connections_active."),
    })
    .optional(),
  slo: z
    .strictObject({
      availability: percent("e.g. 99.9").optional().describe("Availability objective in percent; default 99.9."),
      latencyP95Seconds: z.number().positive().optional().describe("p95 latency objective; default 0.5."),
      minRequestsPerSecond: z.number().positive().optional().describe("Alert when throughput falls below."),
    })
    .optional(),
  alerts: z
    .strictObject({
      latencyP95Seconds: z.number().positive().optional().describe("p95 latency alert threshold; default 1."),
      errorRatePercent: percent("e.g. 5").optional().describe("5xx ratio alert threshold; default 5."),
    })
    .optional(),
});

const remoteWriteSchema = z.strictObject({
  name: dnsLabel,
  url: httpUrl,
  username: z.string().min(1).optional().describe("Basic-auth user; the password comes from secret remoteWritePasswords.<name>."),
  bearerToken: z.boolean().optional().describe("Send remoteWritePasswords.<name> as a bearer token instead."),
});

const databaseSchema = z.strictObject({
  name: dnsLabel.describe("Unique name; the `database` label of its series."),
  type: z.enum(["postgres", "redis", "mongodb"]),
  mode: z.enum(["sidecar", "standalone"]),
  target: z
    .strictObject({
      kind: z.enum(["Deployment", "StatefulSet"]),
      name: dnsLabel,
      namespace: dnsLabel,
      container: dnsLabel.optional().describe("The database container, for documentation of the patch."),
    })
    .optional()
    .describe("sidecar mode: the workload to add the exporter to."),
  secretRef: z
    .strictObject({ name: dnsLabel, key: z.string().min(1) })
    .optional()
    .describe(
      "Existing Secret holding the DSN (in the target namespace for sidecars, in the monitoring namespace for standalone). Otherwise the DSN comes from secret databaseDsns.<name>.",
    ),
  resources: resources.optional(),
});

const sectionSchemas = {
  prometheus: z.strictObject({
    replicas: replicas.optional(),
    retention: duration.optional().describe("How long samples are kept."),
    retentionSize: prometheusSize.optional().describe("Size cap of the TSDB; default 85 % of the volume."),
    scrapeInterval: duration.optional(),
    scrapeTimeout: duration.optional(),
    evaluationInterval: duration.optional(),
    externalLabels: labelMap.optional(),
    remoteWrite: z.array(remoteWriteSchema).optional(),
    runbookBaseUrl: httpUrl.optional().describe("Where runbook_url links point; your fork's docs/runbooks.md."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  alertmanager: z.strictObject({
    replicas: replicas.optional(),
    groupWait: duration.optional(),
    groupInterval: duration.optional(),
    repeatInterval: duration.optional(),
    slack: z
      .strictObject({
        criticalChannel: z
          .string()
          .regex(/^#?[a-z0-9_-]+$/)
          .optional(),
        warningChannel: z
          .string()
          .regex(/^#?[a-z0-9_-]+$/)
          .optional(),
      })
      .optional(),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  grafana: z.strictObject({
    replicas: replicas.optional(),
    adminUser: z
      .string()
      .regex(/^[a-zA-Z0-9_.@-]{1,64}$/)
      .optional(),
    database: z
      .strictObject({
        type: z.enum(["postgres", "mysql"]),
        host: z.string().regex(/^[a-zA-Z0-9.-]+(:\d{1,5})?$/, "must be host or host:port"),
        name: z.string().min(1),
        user: z.string().min(1),
        sslMode: z.enum(["disable", "require", "verify-full"]).optional(),
      })
      .optional()
      .describe("External database; required for more than one replica. Password: secret grafanaDatabasePassword."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  loki: z.strictObject({
    enabled: z.boolean().optional(),
    retention: duration
      // Loki's compactor deletes whole daily index tables, so retention is counted in days.
      .refine((d) => (durationSeconds(d) ?? 0) % 86400 === 0, { message: "must be a whole number of days such as 3d, 7d or 2w" })
      .optional()
      .describe("How long logs are kept (whole days)."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  logCollector: z.strictObject({
    enabled: z.boolean().optional(),
    resources: resources.optional(),
  }),
  nodeExporter: z.strictObject({ enabled: z.boolean().optional(), resources: resources.optional() }),
  kubeStateMetrics: z.strictObject({ enabled: z.boolean().optional(), resources: resources.optional() }),
  traefik: z.strictObject({
    enabled: z.boolean().optional(),
    entryPoints: z.array(z.string().min(1)).min(1).optional(),
    tlsSecretName: dnsLabel.optional().describe("TLS Secret for the routes; otherwise certResolver or Traefik's default."),
    certResolver: z.string().min(1).optional(),
    expose: z.array(z.enum(["grafana", "prometheus", "alertmanager"])).optional(),
    basicAuthUsers: z
      .array(z.string().regex(BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE))
      .min(1)
      .optional()
      .describe("Basic-auth users; each password is the secret basicAuthPasswords.<user>, or a random one."),
  }),
  cloudflare: z.strictObject({
    enabled: z.boolean().optional(),
    accountId: z.string().regex(HEX32, "must be the 32-character hex Cloudflare account id").optional(),
    zoneId: z.string().regex(HEX32, "must be the 32-character hex Cloudflare zone id").optional(),
    tunnelName: dnsLabel.optional(),
    replicas: replicas.optional(),
    expose: z.array(z.enum(["grafana", "prometheus", "alertmanager"])).optional(),
    access: z
      .strictObject({
        enabled: z.boolean().optional(),
        emails: z.array(email).optional(),
        emailDomains: z.array(hostname).optional(),
        sessionDuration: duration.optional(),
      })
      .optional(),
    resources: resources.optional(),
  }),
  hostnames: z.strictObject({
    grafana: hostname.optional(),
    prometheus: hostname.optional(),
    alertmanager: hostname.optional(),
  }),
};

/** Plain (non-secret) keys, with the type Pulumi hands them in. */
const plainKeySchemas = {
  profile: z.enum(PROFILES).describe("staging (small) or production (HA); default: the stack name."),
  environment: dnsLabel.describe("Environment label on every alert and series; default: the stack name."),
  namespace: dnsLabel.describe("Namespace of the stack."),
  domain: hostname.describe("Base domain; hostnames default to <service>.<domain>."),
  storageClass: z.string().min(1).describe("Default StorageClass of every volume."),
  protectVolumes: z.boolean().describe("Protect volumes from deletion by update or destroy."),
  apps: z.array(appSchema).describe("Apps to scrape."),
  databases: z.array(databaseSchema).describe("Database exporters."),
  ...sectionSchemas,
};

/** Keys whose values must be Pulumi secrets. */
const secretKeySchemas = {
  grafanaAdminPassword: z.string().min(12, "must be at least 12 characters"),
  grafanaDatabasePassword: z.string().min(1),
  discordWebhookUrl: httpUrl,
  discordCriticalWebhookUrl: httpUrl,
  slackWebhookUrl: httpUrl,
  webhookUrl: httpUrl,
  deadMansSwitchUrl: httpUrl,
  databaseDsns: z.record(dnsLabel, z.string().min(1)),
  remoteWritePasswords: z.record(dnsLabel, z.string().min(1)),
  basicAuthPasswords: z.record(
    z.string().regex(BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE),
    z
      .string()
      .min(12, "must be at least 12 characters")
      // bcrypt reads the first 72 bytes only: a longer password would be accepted on its prefix.
      .refine((p) => Buffer.byteLength(p, "utf8") <= 72, { message: "must be at most 72 bytes (bcrypt ignores the rest)" }),
  ),
};

export const SECRET_KEYS = Object.keys(secretKeySchemas) as ReadonlyArray<keyof typeof secretKeySchemas>;
/** Keys Pulumi hands over as JSON (objects, lists, booleans) rather than as plain strings. */
const STRUCTURED_KEYS = new Set<string>(
  Object.entries({ ...plainKeySchemas, ...secretKeySchemas })
    .filter(([, schema]) => !["string", "enum"].includes(schema.def.type))
    .map(([key]) => key),
);

const rawSchema = z.strictObject({
  ...Object.fromEntries(Object.entries(plainKeySchemas).map(([k, s]) => [k, s.optional()])),
  ...Object.fromEntries(Object.entries(secretKeySchemas).map(([k, s]) => [k, s.optional()])),
} as { [K in keyof typeof plainKeySchemas]: z.ZodOptional<(typeof plainKeySchemas)[K]> } & {
  [K in keyof typeof secretKeySchemas]: z.ZodOptional<(typeof secretKeySchemas)[K]>;
});
type RawStackConfig = z.infer<typeof rawSchema>;

// ---------------------------------------------------------------------------
// Resolved configuration

export interface ResourceRequirements {
  requests: { cpu: string; memory: string };
  limits: { cpu?: string; memory: string };
}
export interface StorageSpec {
  size: string;
  storageClass?: string;
}

export interface AppTarget {
  name: string;
  /** Either a Service in a namespace... */
  service?: { namespace: string; name: string; port: number | string };
  /** ...or a static URL. */
  url?: string;
  path: string;
  scheme: "http" | "https";
  interval?: string;
  labels: Record<string, string>;
  metrics: {
    requests: string;
    duration: string;
    statusLabel: string;
    methodLabel: string;
    routeLabel: string;
    activeConnections: string;
  };
  slo: { availabilityRatio: number; latencyP95Seconds: number; minRequestsPerSecond?: number };
  alerts: { latencyP95Seconds: number; errorRatio: number };
}

export interface DatabaseExporter {
  name: string;
  type: "postgres" | "redis" | "mongodb";
  mode: "sidecar" | "standalone";
  target?: { kind: "Deployment" | "StatefulSet"; name: string; namespace: string; container?: string };
  /** Where the DSN comes from: an existing Secret, or the (secret) config value. */
  dsn: { secretRef: { name: string; key: string } } | { value: string };
  resources: ResourceRequirements;
}

export interface RemoteWriteTarget {
  name: string;
  url: string;
  auth?: { username: string; password: string } | { bearerToken: string };
}

export type ExposedService = "grafana" | "prometheus" | "alertmanager";

export interface StackConfig {
  project: string;
  stack: string;
  profile: Profile;
  environment: string;
  namespace: string;
  domain?: string;
  storageClass?: string;
  protectVolumes: boolean;
  hostnames: Partial<Record<ExposedService, string>>;
  apps: AppTarget[];
  databases: DatabaseExporter[];
  prometheus: {
    replicas: number;
    retention: string;
    retentionSize: string;
    scrapeInterval: string;
    scrapeTimeout: string;
    evaluationInterval: string;
    externalLabels: Record<string, string>;
    remoteWrite: RemoteWriteTarget[];
    runbookBaseUrl: string;
    storage: StorageSpec;
    resources: ResourceRequirements;
  };
  alertmanager: {
    replicas: number;
    groupWait: string;
    groupInterval: string;
    repeatInterval: string;
    receivers: {
      discord?: { webhookUrl?: string; criticalWebhookUrl?: string };
      slack?: { webhookUrl: string; criticalChannel: string; warningChannel: string };
      webhook?: { url: string };
      deadMansSwitch?: { url: string };
    };
    storage: StorageSpec;
    resources: ResourceRequirements;
  };
  grafana: {
    replicas: number;
    adminUser: string;
    /** Given as a secret; otherwise the Grafana component generates one. */
    adminPassword?: string;
    database?: {
      type: "postgres" | "mysql";
      host: string;
      name: string;
      user: string;
      password?: string;
      sslMode: "disable" | "require" | "verify-full";
    };
    storage: StorageSpec;
    resources: ResourceRequirements;
  };
  loki: { enabled: boolean; retention: string; storage: StorageSpec; resources: ResourceRequirements };
  logCollector: { enabled: boolean; resources: ResourceRequirements };
  nodeExporter: { enabled: boolean; resources: ResourceRequirements };
  kubeStateMetrics: { enabled: boolean; resources: ResourceRequirements };
  traefik: {
    enabled: boolean;
    entryPoints: string[];
    tlsSecretName?: string;
    certResolver?: string;
    expose: ExposedService[];
    basicAuthUsers: string[];
    /** Basic-auth passwords given as secrets, by user; the other users get random ones. */
    basicAuthPasswords: Record<string, string>;
  };
  cloudflare: {
    enabled: boolean;
    accountId?: string;
    zoneId?: string;
    tunnelName: string;
    replicas: number;
    expose: ExposedService[];
    access: { enabled: boolean; emails: string[]; emailDomains: string[]; sessionDuration: string };
    resources: ResourceRequirements;
  };
}

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

// ---------------------------------------------------------------------------
// Defaults per profile

const res = (cpu: string, memory: string, cpuLimit: string | undefined, memoryLimit: string): ResourceRequirements => ({
  requests: { cpu, memory },
  limits: cpuLimit ? { cpu: cpuLimit, memory: memoryLimit } : { memory: memoryLimit },
});

export const RUNBOOK_BASE_URL = "https://github.com/pulumi-monitoring/monitoring-stack/blob/main/docs/runbooks.md";

type ProfileDefaults = Omit<
  StackConfig,
  "project" | "stack" | "profile" | "environment" | "hostnames" | "apps" | "databases" | "domain" | "storageClass"
>;

/** What a deep partial override of the defaults may hold. */
type Overrides<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Overrides<T[K]> : T[K] };

function withOverrides<T extends object>(base: T, overrides: Overrides<T>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    const current = out[key];
    const nested = typeof value === "object" && value !== null && !Array.isArray(value) && typeof current === "object" && current !== null;
    out[key] = nested ? withOverrides(current as object, value as Overrides<object>) : value;
  }
  return out as T;
}

/** Staging: small and cheap. Single replicas, a week of metrics, three days of logs. */
const STAGING_DEFAULTS: ProfileDefaults = {
  namespace: "monitoring",
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
    runbookBaseUrl: RUNBOOK_BASE_URL,
    storage: { size: "10Gi" },
    resources: res("200m", "512Mi", "1", "1Gi"),
  },
  alertmanager: {
    replicas: 1,
    groupWait: "30s",
    groupInterval: "5m",
    repeatInterval: "12h",
    receivers: {},
    storage: { size: "1Gi" },
    resources: res("20m", "64Mi", "200m", "128Mi"),
  },
  grafana: { replicas: 1, adminUser: "admin", storage: { size: "2Gi" }, resources: res("100m", "256Mi", "500m", "512Mi") },
  loki: { enabled: true, retention: "3d", storage: { size: "10Gi" }, resources: res("100m", "256Mi", "1", "512Mi") },
  logCollector: { enabled: true, resources: res("50m", "64Mi", "200m", "128Mi") },
  nodeExporter: { enabled: true, resources: res("20m", "32Mi", "200m", "64Mi") },
  kubeStateMetrics: { enabled: true, resources: res("20m", "64Mi", "200m", "128Mi") },
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
  production: withOverrides(STAGING_DEFAULTS, {
    protectVolumes: true,
    prometheus: { replicas: 2, retention: "30d", storage: { size: "50Gi" }, resources: res("500m", "2Gi", "2", "4Gi") },
    alertmanager: { replicas: 3, repeatInterval: "4h" },
    grafana: { storage: { size: "5Gi" }, resources: res("100m", "256Mi", "1", "512Mi") },
    loki: { retention: "7d", storage: { size: "30Gi" }, resources: res("200m", "512Mi", "2", "1Gi") },
    logCollector: { resources: res("50m", "128Mi", "500m", "256Mi") },
    kubeStateMetrics: { resources: res("50m", "128Mi", "500m", "256Mi") },
    cloudflare: { replicas: 2, resources: res("50m", "64Mi", "500m", "256Mi") },
  }),
};

/** Defaults of one app entry's optional fields. */
export const APP_DEFAULTS = {
  path: "/metrics",
  scheme: "http" as const,
  metrics: {
    requests: "http_requests_total",
    duration: "http_request_duration_seconds",
    statusLabel: "status",
    methodLabel: "method",
    routeLabel: "endpoint",
    activeConnections: "http_connections_active",
  },
  slo: { availability: 99.9, latencyP95Seconds: 0.5 },
  alerts: { latencyP95Seconds: 1, errorRatePercent: 5 },
};

/** Exporter resource defaults (the same in every profile: the exporters are tiny). */
export const EXPORTER_RESOURCES = res("10m", "32Mi", "100m", "64Mi");

// ---------------------------------------------------------------------------
// Errors

/** One problem with one key. */
export interface ConfigProblem {
  /** Full key path, e.g. `monitoring:prometheus.retention`. */
  key: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: ConfigProblem[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** The raw input: every config value of the stack as Pulumi hands it to the program. */
export interface RawConfig {
  project: string;
  stack: string;
  /** Full keys (`monitoring:domain`, `cloudflare:apiToken`) to their string values (JSON for structured values). */
  values: Record<string, string>;
  /** Full keys whose values are secrets. */
  secretKeys: readonly string[];
}

export interface ParsedConfig {
  config: StackConfig;
  /** Things that deploy but deserve attention (printed as warnings at preview time). */
  warnings: string[];
}

function describeInput(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const tmp = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
        prev = tmp;
      }
    }
    return row[b.length];
  };
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function keyOf(project: string, path: ReadonlyArray<PropertyKey>): string {
  let key = `${project}:${String(path[0])}`;
  for (const part of path.slice(1)) key += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return key;
}

/** Known keys at a path of the raw schema, for "did you mean" hints. */
function knownKeysAt(path: ReadonlyArray<PropertyKey>): string[] {
  let schema: z.ZodType = rawSchema;
  for (const part of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(part)];
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else return [];
    if (!schema) return [];
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}

function zodProblems(project: string, error: z.ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(issue.path);
      for (const k of issue.keys) {
        const hint = closest(k, known);
        const key = issue.path.length === 0 ? `${project}:${k}` : `${keyOf(project, issue.path)}.${k}`;
        problems.push({
          key,
          message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ""}; allowed here: ${known.join(", ")}`,
        });
      }
      continue;
    }
    // Never echo a secret's value: error messages end up in CI logs.
    const isSecret = (SECRET_KEYS as readonly PropertyKey[]).includes(issue.path[0]);
    const given = isSecret ? "a value that is hidden because it is a secret" : "input" in issue ? describeInput(issue.input) : "nothing";
    let message = issue.message;
    const generic = message.startsWith("Invalid input") || message.startsWith("Invalid option");
    if (issue.code === "invalid_type" && generic) {
      message = `must be ${issue.expected === "array" ? "a list" : issue.expected === "int" ? "a whole number" : `a ${issue.expected}`}`;
    }
    if (issue.code === "invalid_value" && "values" in issue && generic)
      message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    if (issue.code === "invalid_union") message = "has the wrong type or format";
    // A map's key (a user name, a database name) that its schema refuses: say why.
    if (issue.code === "invalid_key" && issue.issues.length > 0) message = `is not a valid name here: ${issue.issues[0].message}`;
    problems.push({ key: keyOf(project, issue.path), message: `${message} (got ${given})` });
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Parsing

function decodeValues(raw: RawConfig, problems: ConfigProblem[]): Record<string, unknown> {
  const prefix = `${raw.project}:`;
  const decoded: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(raw.values)) {
    if (!fullKey.startsWith(prefix)) continue; // provider config such as cloudflare:apiToken
    const key = fullKey.slice(prefix.length);
    const structured = STRUCTURED_KEYS.has(key);
    if (!structured) {
      decoded[key] = text;
      continue;
    }
    try {
      decoded[key] = JSON.parse(text);
    } catch {
      const expected =
        (plainKeySchemas as Record<string, z.ZodType>)[key]?.def.type === "boolean" ? "true or false" : "structured YAML or JSON";
      problems.push({ key: fullKey, message: `must be ${expected} (got ${describeInput(text)})` });
    }
  }
  return decoded;
}

function secretnessProblems(raw: RawConfig, decoded: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const key of SECRET_KEYS) {
    const fullKey = `${raw.project}:${key}`;
    if (decoded[key] !== undefined && !raw.secretKeys.includes(fullKey)) {
      problems.push({
        key: fullKey,
        message: `must be a secret; set it with: pulumi config set --secret ${STRUCTURED_KEYS.has(key) ? `--path '${key}.<name>'` : key} <value>`,
      });
    }
  }
  return problems;
}

function resolveResources(base: ResourceRequirements, given: z.infer<typeof resources> | undefined): ResourceRequirements {
  return {
    requests: { ...base.requests, ...given?.requests } as ResourceRequirements["requests"],
    limits: { ...base.limits, ...given?.limits } as ResourceRequirements["limits"],
  };
}

function resolveStorage(base: StorageSpec, given: z.infer<typeof storage> | undefined, globalClass?: string): StorageSpec {
  const storageClass = given?.storageClass ?? globalClass;
  return { size: given?.size ?? base.size, ...(storageClass ? { storageClass } : {}) };
}

function resolve(raw: RawConfig, c: RawStackConfig, profile: Profile, problems: ConfigProblem[]): StackConfig {
  const d = PROFILE_DEFAULTS[profile];
  const k = (path: string) => `${raw.project}:${path}`;
  const storageClass = c.storageClass;
  const domain = c.domain;
  const hostFor = (svc: ExposedService) => c.hostnames?.[svc] ?? (domain ? `${svc}.${domain}` : undefined);
  const hostnames: Partial<Record<ExposedService, string>> = {};
  for (const svc of ["grafana", "prometheus", "alertmanager"] as const) {
    const h = hostFor(svc);
    if (h) hostnames[svc] = h;
  }

  const apps: AppTarget[] = (c.apps ?? []).map((a, i) => {
    if ((a.service === undefined) === (a.url === undefined)) {
      problems.push({ key: k(`apps[${i}]`), message: `app "${a.name}" needs exactly one of "service" (with namespace and port) or "url"` });
    }
    if (a.service !== undefined && (a.namespace === undefined || a.port === undefined)) {
      problems.push({ key: k(`apps[${i}]`), message: `app "${a.name}" scrapes a Service, so it needs "namespace" and "port" too` });
    }
    if (
      a.url !== undefined &&
      a.service === undefined &&
      (a.namespace !== undefined || a.port !== undefined || a.path !== undefined || a.scheme !== undefined)
    ) {
      problems.push({
        key: k(`apps[${i}]`),
        message: `app "${a.name}" scrapes a URL, so "namespace", "port", "path" and "scheme" belong in the URL`,
      });
    }
    return {
      name: a.name,
      ...(a.service !== undefined ? { service: { namespace: a.namespace ?? "", name: a.service, port: a.port ?? 0 } } : {}),
      ...(a.url !== undefined ? { url: a.url } : {}),
      path: a.path ?? APP_DEFAULTS.path,
      scheme: a.scheme ?? APP_DEFAULTS.scheme,
      ...(a.interval ? { interval: a.interval } : {}),
      labels: a.labels ?? {},
      metrics: { ...APP_DEFAULTS.metrics, ...a.metrics },
      slo: {
        availabilityRatio: Number(((a.slo?.availability ?? APP_DEFAULTS.slo.availability) / 100).toFixed(8)),
        latencyP95Seconds: a.slo?.latencyP95Seconds ?? APP_DEFAULTS.slo.latencyP95Seconds,
        ...(a.slo?.minRequestsPerSecond !== undefined ? { minRequestsPerSecond: a.slo.minRequestsPerSecond } : {}),
      },
      alerts: {
        latencyP95Seconds: a.alerts?.latencyP95Seconds ?? APP_DEFAULTS.alerts.latencyP95Seconds,
        errorRatio: Number(((a.alerts?.errorRatePercent ?? APP_DEFAULTS.alerts.errorRatePercent) / 100).toFixed(8)),
      },
    };
  });

  const dsns = c.databaseDsns ?? {};
  const databases: DatabaseExporter[] = (c.databases ?? []).map((db, i) => {
    if (db.mode === "sidecar" && !db.target) {
      problems.push({
        key: k(`databases[${i}].target`),
        message: `database "${db.name}" is a sidecar, so it needs target {kind, name, namespace}`,
      });
    }
    if (db.mode === "standalone" && db.target) {
      problems.push({ key: k(`databases[${i}].target`), message: `database "${db.name}" is standalone; "target" is only for sidecars` });
    }
    if (db.secretRef && dsns[db.name] !== undefined) {
      problems.push({
        key: k(`databases[${i}].secretRef`),
        message: `database "${db.name}" has both secretRef and databaseDsns.${db.name}; keep one`,
      });
    }
    if (!db.secretRef && dsns[db.name] === undefined) {
      problems.push({
        key: k(`databases[${i}]`),
        message: `database "${db.name}" needs a DSN: secretRef {name, key} of an existing Secret, or pulumi config set --secret --path 'databaseDsns.${db.name}' <dsn>`,
      });
    }
    return {
      name: db.name,
      type: db.type,
      mode: db.mode,
      ...(db.target ? { target: db.target } : {}),
      dsn: db.secretRef ? { secretRef: db.secretRef } : { value: dsns[db.name] ?? "" },
      resources: resolveResources(EXPORTER_RESOURCES, db.resources),
    };
  });
  for (const name of Object.keys(dsns)) {
    if (!(c.databases ?? []).some((db) => db.name === name)) {
      problems.push({ key: k(`databaseDsns.${name}`), message: `no database named "${name}" in ${raw.project}:databases` });
    }
  }

  const p = c.prometheus ?? {};
  const passwords = c.remoteWritePasswords ?? {};
  const remoteWrite: RemoteWriteTarget[] = (p.remoteWrite ?? []).map((rw, i) => {
    const password = passwords[rw.name];
    if ((rw.username !== undefined || rw.bearerToken) && password === undefined) {
      problems.push({
        key: k(`prometheus.remoteWrite[${i}]`),
        message: `remote write "${rw.name}" needs its credential: pulumi config set --secret --path 'remoteWritePasswords.${rw.name}' <value>`,
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
  const promStorage = resolveStorage(d.prometheus.storage, p.storage, storageClass);

  const am = c.alertmanager ?? {};
  const receivers: StackConfig["alertmanager"]["receivers"] = {};
  if (c.discordWebhookUrl !== undefined || c.discordCriticalWebhookUrl !== undefined) {
    receivers.discord = {
      ...(c.discordWebhookUrl !== undefined ? { webhookUrl: c.discordWebhookUrl } : {}),
      ...(c.discordCriticalWebhookUrl !== undefined ? { criticalWebhookUrl: c.discordCriticalWebhookUrl } : {}),
    };
  }
  if (c.slackWebhookUrl !== undefined) {
    receivers.slack = {
      webhookUrl: c.slackWebhookUrl,
      criticalChannel: am.slack?.criticalChannel ?? "#alerts-critical",
      warningChannel: am.slack?.warningChannel ?? "#infrastructure",
    };
  }
  if (c.webhookUrl !== undefined) receivers.webhook = { url: c.webhookUrl };
  if (c.deadMansSwitchUrl !== undefined) receivers.deadMansSwitch = { url: c.deadMansSwitchUrl };

  const g = c.grafana ?? {};
  const cf = c.cloudflare ?? {};
  const tr = c.traefik ?? {};
  const config: StackConfig = {
    project: raw.project,
    stack: raw.stack,
    profile,
    environment: c.environment ?? raw.stack,
    namespace: c.namespace ?? d.namespace,
    ...(domain ? { domain } : {}),
    ...(storageClass ? { storageClass } : {}),
    protectVolumes: c.protectVolumes ?? d.protectVolumes,
    hostnames,
    apps,
    databases,
    prometheus: {
      replicas: p.replicas ?? d.prometheus.replicas,
      retention: p.retention ?? d.prometheus.retention,
      retentionSize: p.retentionSize ?? prometheusSizeMB((quantityBytes(promStorage.size) ?? 0) * 0.85),
      scrapeInterval: p.scrapeInterval ?? d.prometheus.scrapeInterval,
      scrapeTimeout: p.scrapeTimeout ?? d.prometheus.scrapeTimeout,
      evaluationInterval: p.evaluationInterval ?? d.prometheus.evaluationInterval,
      externalLabels: p.externalLabels ?? {},
      remoteWrite,
      runbookBaseUrl: p.runbookBaseUrl ?? d.prometheus.runbookBaseUrl,
      storage: promStorage,
      resources: resolveResources(d.prometheus.resources, p.resources),
    },
    alertmanager: {
      replicas: am.replicas ?? d.alertmanager.replicas,
      groupWait: am.groupWait ?? d.alertmanager.groupWait,
      groupInterval: am.groupInterval ?? d.alertmanager.groupInterval,
      repeatInterval: am.repeatInterval ?? d.alertmanager.repeatInterval,
      receivers,
      storage: resolveStorage(d.alertmanager.storage, am.storage, storageClass),
      resources: resolveResources(d.alertmanager.resources, am.resources),
    },
    grafana: {
      replicas: g.replicas ?? d.grafana.replicas,
      adminUser: g.adminUser ?? d.grafana.adminUser,
      ...(c.grafanaAdminPassword !== undefined ? { adminPassword: c.grafanaAdminPassword } : {}),
      ...(g.database
        ? {
            database: {
              ...g.database,
              sslMode: g.database.sslMode ?? "require",
              ...(c.grafanaDatabasePassword !== undefined ? { password: c.grafanaDatabasePassword } : {}),
            },
          }
        : {}),
      storage: resolveStorage(d.grafana.storage, g.storage, storageClass),
      resources: resolveResources(d.grafana.resources, g.resources),
    },
    loki: {
      enabled: c.loki?.enabled ?? d.loki.enabled,
      retention: c.loki?.retention ?? d.loki.retention,
      storage: resolveStorage(d.loki.storage, c.loki?.storage, storageClass),
      resources: resolveResources(d.loki.resources, c.loki?.resources),
    },
    logCollector: {
      enabled: c.logCollector?.enabled ?? d.logCollector.enabled,
      resources: resolveResources(d.logCollector.resources, c.logCollector?.resources),
    },
    nodeExporter: {
      enabled: c.nodeExporter?.enabled ?? d.nodeExporter.enabled,
      resources: resolveResources(d.nodeExporter.resources, c.nodeExporter?.resources),
    },
    kubeStateMetrics: {
      enabled: c.kubeStateMetrics?.enabled ?? d.kubeStateMetrics.enabled,
      resources: resolveResources(d.kubeStateMetrics.resources, c.kubeStateMetrics?.resources),
    },
    traefik: {
      enabled: tr.enabled ?? d.traefik.enabled,
      entryPoints: tr.entryPoints ?? d.traefik.entryPoints,
      ...(tr.tlsSecretName ? { tlsSecretName: tr.tlsSecretName } : {}),
      ...(tr.certResolver ? { certResolver: tr.certResolver } : {}),
      expose: tr.expose ?? d.traefik.expose,
      basicAuthUsers: tr.basicAuthUsers ?? d.traefik.basicAuthUsers,
      basicAuthPasswords: c.basicAuthPasswords ?? {},
    },
    cloudflare: {
      enabled: cf.enabled ?? d.cloudflare.enabled,
      ...(cf.accountId ? { accountId: cf.accountId } : {}),
      ...(cf.zoneId ? { zoneId: cf.zoneId } : {}),
      tunnelName: cf.tunnelName ?? `${raw.project}-${c.environment ?? raw.stack}`,
      replicas: cf.replicas ?? d.cloudflare.replicas,
      expose: cf.expose ?? d.cloudflare.expose,
      access: {
        enabled: cf.access?.enabled ?? d.cloudflare.access.enabled,
        emails: cf.access?.emails ?? [],
        emailDomains: cf.access?.emailDomains ?? [],
        sessionDuration: cf.access?.sessionDuration ?? d.cloudflare.access.sessionDuration,
      },
      resources: resolveResources(d.cloudflare.resources, cf.resources),
    },
  };
  return config;
}

function duplicates(names: string[]): string[] {
  return [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
}

/** Rules that involve more than one key. */
function crossChecks(raw: RawConfig, c: StackConfig, problems: ConfigProblem[], warnings: string[]): void {
  const k = (path: string) => `${raw.project}:${path}`;
  const seconds = (d: string) => durationSeconds(d) ?? 0;
  const p = c.prometheus;

  for (const name of duplicates(c.apps.map((a) => a.name))) {
    problems.push({ key: k("apps"), message: `app name "${name}" is used more than once; names must be unique` });
  }
  for (const name of duplicates(c.databases.map((db) => db.name))) {
    problems.push({ key: k("databases"), message: `database name "${name}" is used more than once; names must be unique` });
  }
  for (const name of duplicates(p.remoteWrite.map((r) => r.name))) {
    problems.push({ key: k("prometheus.remoteWrite"), message: `remote write name "${name}" is used more than once` });
  }
  // A pod has one set of prometheus.io scrape annotations, so one exporter sidecar per workload.
  const targets = c.databases.filter((db) => db.target).map((db) => `${db.target?.namespace}/${db.target?.kind}/${db.target?.name}`);
  for (const t of duplicates(targets)) {
    problems.push({
      key: k("databases"),
      message: `two exporter sidecars target ${t}; a workload can carry one (its pods have one set of scrape annotations)`,
    });
  }

  if (seconds(p.retention) < seconds(p.scrapeInterval)) {
    problems.push({
      key: k("prometheus.retention"),
      message: `must be longer than prometheus.scrapeInterval (${p.scrapeInterval}); got ${p.retention}`,
    });
  }
  if (seconds(p.scrapeTimeout) > seconds(p.scrapeInterval)) {
    problems.push({
      key: k("prometheus.scrapeTimeout"),
      message: `must not exceed prometheus.scrapeInterval (${p.scrapeInterval}); got ${p.scrapeTimeout}`,
    });
  }
  c.apps.forEach((a, i) => {
    if (a.interval && seconds(a.interval) < seconds(p.scrapeTimeout)) {
      problems.push({
        key: k(`apps[${i}].interval`),
        message: `must be at least prometheus.scrapeTimeout (${p.scrapeTimeout}); got ${a.interval}`,
      });
    }
  });
  const amGroup = c.alertmanager;
  if (seconds(amGroup.groupInterval) < seconds(amGroup.groupWait)) {
    problems.push({
      key: k("alertmanager.groupInterval"),
      message: `must be at least alertmanager.groupWait (${amGroup.groupWait}); got ${amGroup.groupInterval}`,
    });
  }
  if (seconds(amGroup.repeatInterval) < seconds(amGroup.groupInterval)) {
    problems.push({
      key: k("alertmanager.repeatInterval"),
      message: `must be at least alertmanager.groupInterval (${amGroup.groupInterval}); got ${amGroup.repeatInterval}`,
    });
  }

  if (c.profile === "production") {
    if (c.alertmanager.replicas < 2) {
      problems.push({
        key: k("alertmanager.replicas"),
        message: `a production stack needs at least 2 Alertmanager replicas (3 recommended) so alerts survive a node loss; got ${c.alertmanager.replicas}`,
      });
    }
    if (c.prometheus.replicas < 2) {
      warnings.push(
        `${k("prometheus.replicas")} is ${c.prometheus.replicas} in a production stack: metrics and alerting stop while that pod restarts.`,
      );
    }
  }

  if (c.grafana.replicas > 1 && !c.grafana.database) {
    problems.push({
      key: k("grafana.replicas"),
      message: `more than one Grafana replica needs an external database (grafana.database); got ${c.grafana.replicas} replicas with the built-in SQLite`,
    });
  }
  if (c.grafana.database && c.grafana.database.password === undefined) {
    problems.push({
      key: k("grafanaDatabasePassword"),
      message: "grafana.database is set, so the password is needed: pulumi config set --secret grafanaDatabasePassword <value>",
    });
  }

  const cf = c.cloudflare;
  if (cf.enabled) {
    if (!cf.accountId)
      problems.push({
        key: k("cloudflare.accountId"),
        message: "is required when cloudflare.enabled is true (the 32-character hex account id)",
      });
    if (!cf.zoneId)
      problems.push({
        key: k("cloudflare.zoneId"),
        message: "is required when cloudflare.enabled is true (the 32-character hex zone id of the domain)",
      });
    for (const svc of cf.expose) {
      if (!c.hostnames[svc])
        problems.push({
          key: k("cloudflare.expose"),
          message: `exposes ${svc} but it has no hostname: set ${raw.project}:domain or hostnames.${svc}`,
        });
      if (svc !== "grafana" && !cf.access.enabled) {
        problems.push({
          key: k("cloudflare.expose"),
          message: `exposing ${svc} on the internet needs cloudflare.access.enabled (it has no login of its own)`,
        });
      }
    }
    if (cf.access.enabled && cf.access.emails.length === 0 && cf.access.emailDomains.length === 0) {
      problems.push({ key: k("cloudflare.access"), message: "is enabled but allows nobody: give emails or emailDomains" });
    }
  }
  if (c.traefik.enabled) {
    for (const svc of c.traefik.expose) {
      if (!c.hostnames[svc])
        problems.push({
          key: k("traefik.expose"),
          message: `exposes ${svc} but it has no hostname: set ${raw.project}:domain or hostnames.${svc}`,
        });
    }
    if (c.traefik.tlsSecretName && c.traefik.certResolver) {
      problems.push({ key: k("traefik.certResolver"), message: "choose tlsSecretName or certResolver, not both" });
    }
  }
  for (const name of duplicates(c.traefik.basicAuthUsers)) {
    problems.push({ key: k("traefik.basicAuthUsers"), message: `user "${name}" is listed more than once` });
  }
  // The user is the key of the secret map, never the password: only the name is echoed.
  for (const user of Object.keys(c.traefik.basicAuthPasswords)) {
    if (!c.traefik.basicAuthUsers.includes(user)) {
      problems.push({
        key: k(`basicAuthPasswords.${user}`),
        message: `no user "${user}" in traefik.basicAuthUsers (${c.traefik.basicAuthUsers.join(", ")}): add the user there, or remove the password with: pulumi config rm --path 'basicAuthPasswords.${user}'`,
      });
    }
  }
  // A stack that protects its volumes never drops a data claim on a config change (Pulumi
  // would refuse to delete it): the claim of a component that stops using it stays.
  if (c.protectVolumes && !c.loki.enabled) {
    warnings.push(
      `${k("loki.enabled")} is false in a stack that protects its volumes: Loki's claim data-loki-0 stays, protected, with the logs ` +
        "on it, and turning Loki on again reuses it (README, Good to know: how to let it go).",
    );
  }
  if (c.protectVolumes && c.grafana.database && c.grafana.replicas > 1) {
    warnings.push(
      `${k("grafana.replicas")} is ${c.grafana.replicas} on an external database in a stack that protects its volumes: Grafana's ` +
        "claim (grafana) stays, protected and unmounted, with its SQLite data (README, Good to know: how to let it go).",
    );
  }
  if (c.logCollector.enabled && !c.loki.enabled) {
    problems.push({
      key: k("logCollector.enabled"),
      message: "the log collector ships to Loki, so it needs loki.enabled: true (or set logCollector.enabled: false)",
    });
  }
}

/** The profile: explicit, or the stack name when it is one. */
function profileOf(raw: RawConfig, given: unknown, problems: ConfigProblem[]): Profile {
  if (typeof given === "string" && (PROFILES as readonly string[]).includes(given)) return given as Profile;
  if (given === undefined && (PROFILES as readonly string[]).includes(raw.stack)) return raw.stack as Profile;
  if (given === undefined) {
    problems.push({
      key: `${raw.project}:profile`,
      message: `is required because the stack name "${raw.stack}" is neither staging nor production; set it to "staging" or "production"`,
    });
  }
  return "staging";
}

/**
 * Validates the raw config of a stack and fills in the defaults of its profile.
 * Throws ConfigError listing every problem.
 */
export function parseStackConfig(raw: RawConfig): ParsedConfig {
  const problems: ConfigProblem[] = [];
  const decoded = decodeValues(raw, problems);
  problems.push(...secretnessProblems(raw, decoded));
  let parsed = rawSchema.safeParse(decoded, { reportInput: true });
  if (!parsed.success) {
    problems.push(...zodProblems(raw.project, parsed.error));
    // Check the rest too, so that one message lists every problem: drop what is malformed
    // (falling back to defaults) and parse again; if that still fails, the rest must wait.
    parsed = rawSchema.safeParse(withoutMalformed(decoded, parsed.error));
  }
  const profile = profileOf(raw, decoded.profile, problems);

  const warnings: string[] = [];
  if (parsed.success) {
    const checked: ConfigProblem[] = [];
    const config = resolve(raw, parsed.data as RawStackConfig, profile, checked);
    crossChecks(raw, config, checked, warnings);
    // A cross-key check on a section whose own value was refused would only repeat the problem.
    const overlaps = (a: string, b: string) => a === b || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
    problems.push(...checked.filter((c) => !problems.some((p) => overlaps(c.key, p.key) || overlaps(p.key, c.key))));
    if (problems.length === 0) return { config, warnings };
  }
  throw new ConfigError(problems);
}

/** A copy of the decoded config without the values and keys the schema refused. */
function withoutMalformed(decoded: Record<string, unknown>, error: z.ZodError): Record<string, unknown> {
  const copy = structuredClone(decoded);
  const remove = (path: ReadonlyArray<PropertyKey>) => {
    if (path.length === 0) return;
    let node: unknown = copy;
    for (const part of path.slice(0, -1)) {
      if (typeof node !== "object" || node === null) return;
      node = (node as Record<PropertyKey, unknown>)[part as string];
    }
    if (typeof node === "object" && node !== null) {
      const last = path[path.length - 1];
      if (Array.isArray(node) && typeof last === "number") node[last] = undefined;
      else delete (node as Record<PropertyKey, unknown>)[last as string];
    }
  };
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") for (const key of issue.keys) remove([...issue.path, key]);
    else remove(issue.path);
  }
  return copy;
}

/** Documentation of every key, for the README table (see scripts/config-docs.ts). */
export function configKeyDocs(): Array<{ key: string; secret: boolean; description: string }> {
  const rows: Array<{ key: string; secret: boolean; description: string }> = [];
  const walk = (schema: z.ZodType, key: string, secret: boolean) => {
    const s = unwrap(schema);
    const description = schema.description ?? s.description ?? "";
    if (s instanceof z.ZodObject) {
      if (description) rows.push({ key, secret, description });
      for (const [child, childSchema] of Object.entries(s.shape as Record<string, z.ZodType>)) walk(childSchema, `${key}.${child}`, secret);
      return;
    }
    if (s instanceof z.ZodArray && unwrap(s.element as z.ZodType) instanceof z.ZodObject) {
      rows.push({ key: `${key}[]`, secret, description });
      for (const [child, childSchema] of Object.entries(
        (unwrap(s.element as z.ZodType) as z.ZodObject).shape as Record<string, z.ZodType>,
      )) {
        walk(childSchema, `${key}[].${child}`, secret);
      }
      return;
    }
    rows.push({ key, secret, description });
  };
  for (const [key, schema] of Object.entries(plainKeySchemas)) walk(schema, key, false);
  for (const [key, schema] of Object.entries(secretKeySchemas)) walk(schema, key, true);
  return rows;
}
