/**
 * Stack configuration: turns the raw `monitoring:*` keys of a Pulumi stack into one
 * typed, validated StackConfig with defaults per profile. Pure: nothing here reads
 * `pulumi.Config`; index.ts hands the raw values in.
 *
 * Every problem is collected and reported at once, each naming the key, what is
 * allowed and what was given, before any resource is created.
 */
import { isIPv4, isIPv6 } from "net";
import { z } from "zod";
import {
  CPU_QUANTITY_PATTERN,
  PROMETHEUS_MAX_DURATION_MS,
  PROMETHEUS_SIZE_PATTERN,
  durationMilliseconds,
  durationSeconds,
  formatDuration,
  prometheusSizeBytes,
  prometheusSizeMB,
  quantityBytes,
  quantityValue,
} from "../components/kit/units";
import {
  ALERT_SEVERITIES,
  THRESHOLD_LEVELS,
  THRESHOLD_NAMES,
  THRESHOLD_SPECS,
  Thresholds,
  defaultThresholds,
  thresholdProblems,
} from "../components/prometheus/rules/thresholds";
import { INGESTION_KEYS, LokiIngestionOverrides, ingestionProblems } from "../components/loki/limits";

// ---------------------------------------------------------------------------
// Field types. Each says in the project's words what it allows: no message shows a
// regular expression or the validation library's own wording (a test checks).

const PROFILES = ["staging", "production"] as const;

/** The workloads whose egress a team may widen (networkPolicy.extraEgress.<component>). */
export const EGRESS_COMPONENTS = [
  "prometheus",
  "alertmanager",
  "grafana",
  "loki",
  "logCollector",
  "kubeStateMetrics",
  "blackboxExporter",
  "databaseExporters",
  "cloudflared",
] as const;
export type EgressComponent = (typeof EGRESS_COMPONENTS)[number];
/** Every address, IPv4 and IPv6: where a NetworkPolicy sends what it cannot name (a host outside the cluster). */
export const ANYWHERE: readonly string[] = ["0.0.0.0/0", "::/0"];
/**
 * The API server's ports as a pod meets them: the `kubernetes` Service's 443, and the API
 * server's own port (6443 on k3s and kubeadm), which is what a policy sees after kube-proxy's DNAT.
 */
export const API_SERVER_PORTS: readonly number[] = [443, 6443];
/** The highest priority a PriorityClass of users may have; higher ones are the system's (system-cluster-critical is 2000000000). */
export const USER_PRIORITY_MAX = 1_000_000_000;
/** The log collectors the stack can run on every node (logCollector.agent). */
export const LOG_COLLECTOR_AGENTS = ["alloy", "promtail"] as const;
export type LogCollectorAgent = (typeof LOG_COLLECTOR_AGENTS)[number];
export type Profile = (typeof PROFILES)[number];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A DNS-1123 subdomain, what Kubernetes takes for most object names (StorageClass, Secret). */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const PROM_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PROM_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const HEX32 = /^[0-9a-f]{32}$/;
const BASIC_AUTH_USER = /^[a-zA-Z0-9_.-]{1,32}$/;
const BASIC_AUTH_USER_MESSAGE = "a user name: 1-32 of letters, digits, _ . -";
/** A Service port name (Kubernetes' IANA_SVC_NAME): at most 15 of a-z, 0-9, '-'; a letter; no '-' at an end or twice in a row. */
const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;
/** A key of a Secret (Kubernetes' IsConfigMapKey): at most 253 of letters, digits, '-', '_', '.'; not '.', nor starting with '..'. */
const SECRET_DATA_KEY = /^(?!\.\.)(?!\.$)[-._a-zA-Z0-9]{1,253}$/;
/** Kubernetes stores replica counts in 32 bits. */
const INT32_MAX = 2 ** 31 - 1;

/** Text matching a pattern, refused in the same words whatever is wrong (type or format). */
const matching = (pattern: RegExp, what: string) => z.string({ error: `must be ${what}` }).regex(pattern, `must be ${what}`);
const nonEmpty = (what: string) => z.string({ error: `must be ${what}` }).min(1, `must be ${what}, not empty`);
const bool = z.boolean({ error: "must be true or false" });

const dnsLabel = matching(DNS_LABEL, "a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters");
const dnsSubdomain = (what: string) => matching(DNS_SUBDOMAIN, `${what}: lower-case letters, digits, '-' and '.', at most 253 characters`);
const hostname = matching(HOSTNAME, "a fully qualified lower-case hostname such as grafana.example.com");
const labelName = matching(PROM_LABEL_NAME, "a label name: letters, digits and _, not starting with a digit");
const metricName = matching(PROM_METRIC_NAME, "a metric name: letters, digits, _ and :, not starting with a digit");

const DURATION_EXAMPLES = "15s, 5m, 12h, 30d or 1h30m";
/** A positive Prometheus duration Prometheus can hold; `also` adds a rule of the key's own. */
const durationWith = (also?: (milliseconds: number) => string | undefined) =>
  z
    .string({
      error: (issue) =>
        typeof issue.input === "number" && Number.isFinite(issue.input)
          ? `must be a Prometheus duration with its unit, such as ${issue.input}s or ${issue.input}m`
          : `must be a Prometheus duration such as ${DURATION_EXAMPLES}`,
    })
    .superRefine((s, ctx) => {
      const ms = durationMilliseconds(s);
      const message =
        ms === undefined || ms <= 0
          ? `must be a positive Prometheus duration such as ${DURATION_EXAMPLES}`
          : ms > PROMETHEUS_MAX_DURATION_MS
            ? `must be at most ${formatDuration(PROMETHEUS_MAX_DURATION_MS)} (about 292 years), the longest duration Prometheus holds`
            : also?.(ms);
      if (message) ctx.addIssue({ code: "custom", message, input: s });
    });
const duration = durationWith();

const MEMORY_EXAMPLES = "512Mi, 10Gi or 1Ti";
const bytesQuantity = z
  .string({ error: `must be a Kubernetes quantity with its unit, such as ${MEMORY_EXAMPLES}` })
  .superRefine((s, ctx) => {
    if ((quantityBytes(s) ?? 0) > 0) return;
    const milli = /^[\d.]+m$/.test(s) && (quantityValue(s) ?? 0) > 0;
    ctx.addIssue({
      code: "custom",
      input: s,
      message: `must be a positive Kubernetes quantity such as ${MEMORY_EXAMPLES}${milli ? ` (m means thousandths: ${s} is a fraction of a byte; write ${s.slice(0, -1)}Mi)` : ""}`,
    });
  });
const CPU_MESSAGE = "must be a positive CPU quantity such as 100m, 0.5 or 2";
// A CPU quantity may be written as a YAML number (`cpu: 2`), as Kubernetes allows.
const cpuQuantity = z.preprocess(
  (v) => (typeof v === "number" && Number.isFinite(v) ? String(v) : v),
  z.string({ error: CPU_MESSAGE }).refine((s) => CPU_QUANTITY_PATTERN.test(s) && (quantityValue(s) ?? 0) > 0, { message: CPU_MESSAGE }),
);
const prometheusSize = matching(PROMETHEUS_SIZE_PATTERN, "a Prometheus size such as 512MB, 45GB or 1TB");
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });
/** A URL in a plain (not secret) key: it lands in plain text in a ConfigMap, so it may not carry credentials. */
const plainHttpUrl = httpUrl.refine((u) => !hasCredentials(u), {
  message: "must not hold credentials (user:password@): it is not a secret, and would be stored in plain text in a ConfigMap",
});
const email = z.email({ error: "must be an email address" });
const PROJECT_DIRECTORY_MESSAGE =
  "a directory inside the project, relative to Pulumi.yaml, such as team or team/production (letters, digits, '.', '_', '-' and '/', without '..')";
const projectDirectory = matching(/^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/, PROJECT_DIRECTORY_MESSAGE);
const replicas = z
  .number({ error: "must be a whole number" })
  .min(1, "must be at least 1")
  .max(INT32_MAX, `must be at most ${INT32_MAX} (Kubernetes counts replicas in 32 bits)`)
  .int("must be a whole number");
/** How many nodes the stack's pods can be scheduled on (nodes): the replicas of a workload never outnumber them. */
const nodeCount = z
  .number({ error: "must be a whole number of nodes, such as 1 or 3" })
  .min(1, "must be at least 1")
  .max(INT32_MAX, `must be at most ${INT32_MAX}`)
  .int("must be a whole number of nodes, such as 1 or 3");
/**
 * Ports of the node that Kubernetes or k3s hold themselves: node-exporter, on the host's
 * network, cannot take them (the API server, etcd, the kubelet, kube-proxy, the controller
 * manager and the scheduler, k3s's supervisor and flannel's metrics).
 */
export const NODE_RESERVED_PORTS: readonly number[] = [2379, 2380, 6443, 6444, 10248, 10249, 10250, 10256, 10257, 10259];
const hostPort = z
  .number({ error: "must be a port number 1024-65535" })
  .int("must be a port number 1024-65535")
  .min(1024, "must be at least 1024: node-exporter runs without privileges, which cannot listen below 1024")
  .max(65535, "must be a port number 1024-65535")
  .refine((p) => !NODE_RESERVED_PORTS.includes(p), {
    message: `must not be a port Kubernetes or k3s listen on themselves (${NODE_RESERVED_PORTS.join(", ")})`,
  });
const positiveNumber = z.number({ error: "must be a number such as 0.5" }).positive("must be greater than 0");
const percent = (what: string) =>
  z
    .number({ error: `must be a number (${what})` })
    .gt(0, "must be greater than 0")
    .lt(100, "must be less than 100");
/** The error of a map that is not one; its names and values say their own. */
const notAMap = (message: string) => ({ error: (issue: { code: string }) => (issue.code === "invalid_type" ? message : undefined) });
const labelMap = z.record(
  labelName,
  z.string({ error: "must be a label value (text)" }),
  notAMap("must be a map of label names to values"),
);

const resources = z.strictObject({
  requests: z.strictObject({ cpu: cpuQuantity.optional(), memory: bytesQuantity.optional() }).optional(),
  limits: z.strictObject({ cpu: cpuQuantity.optional(), memory: bytesQuantity.optional() }).optional(),
});
const storage = z.strictObject({
  size: bytesQuantity.optional().describe("Size of the PersistentVolumeClaim."),
  storageClass: dnsSubdomain("a StorageClass name").optional().describe("StorageClass of the claim; the cluster default when unset."),
  expandable: bool
    .optional()
    .describe(
      "The claim's StorageClass expands volumes (allowVolumeExpansion), so a larger size may grow the existing claims; default false.",
    ),
  recreate: bool
    .optional()
    .describe(
      "For one deployment: a new size or StorageClass makes the claims anew, once their data is moved out (README: Changing volumes).",
    ),
});

/** Whether a URL carries a user or password. */
function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== "" || u.password !== "";
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Sections (every field optional: defaults come from the profile)

const PORT_MESSAGE = "must be a port number 1-65535 or a port name (at most 15 of a-z, 0-9 and '-', with a letter)";

// Plain scrape targets and probes: what their schemas share.
const portNumber = z
  .number({ error: "must be a port number 1-65535" })
  .int("must be a port number 1-65535")
  .min(1, "must be a port number 1-65535")
  .max(65535, "must be a port number 1-65535");
const portName = z
  .string({ error: "must be the name of a Service port (at most 15 of a-z, 0-9 and '-', with a letter)" })
  .regex(PORT_NAME, "must be the name of a Service port (at most 15 of a-z, 0-9 and '-', with a letter); a port number goes in targetPort");
const urlPath = z
  .string({ error: "must be a path such as /metrics" })
  .startsWith("/", "must start with /, such as /metrics")
  .refine((p) => !/[?#]/.test(p), { message: "must be a path without a query or fragment (? or #): Prometheus would escape them" });
const statusCodes = z
  .array(z.number({ error: "must be an HTTP status code 100-599" }).int("must be an HTTP status code 100-599").min(100).max(599), {
    error: "must be a list of HTTP status codes such as [200, 204]",
  })
  .min(1, "must name at least one status code");
const existingSecretKey = z.strictObject({
  name: dnsSubdomain("a Secret name"),
  key: matching(SECRET_DATA_KEY, "a Secret key: at most 253 of letters, digits, '-', '_' and '.', not '.' and not starting with '..'"),
});
/** base64 of PEM certificates, as kubeconfig's certificate-authority-data: one line in the stack file. */
const pemCertificates = z
  .string({ error: "must be base64 of PEM certificates (base64 -w0 ca.crt)" })
  .refine(
    (v) =>
      /^[A-Za-z0-9+/]+=*$/.test(v) &&
      /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(Buffer.from(v, "base64").toString("utf8")),
    {
      message: "must be base64 of PEM certificates (-----BEGIN CERTIFICATE----- ...), one line: base64 -w0 ca.crt",
    },
  );
const latencySeconds = positiveNumber.describe("ProbeSlow fires when probes take longer than this on average over 5 minutes; default 1.");

/** `apps[].probe`: the app's health endpoint, probed by the blackbox exporter. */
const appProbeSchema = z.strictObject({
  path: urlPath.optional().describe("Health path; default /health."),
  port: portName.optional().describe("Service port name to probe; default the app's port (Service apps)."),
  targetPort: portNumber.optional().describe("Pod port number to probe instead of port (Service apps)."),
  expectStatus: statusCodes.optional().describe("Status codes that count as up; default any 2xx."),
  interval: duration.optional().describe("Probe interval; default prometheus.scrapeInterval."),
  latencySeconds: latencySeconds.optional(),
});

const appSchema = z.strictObject({
  name: dnsLabel.describe("Unique app name; becomes the `app` label of its series."),
  namespace: dnsLabel.optional().describe("Namespace of the app's Service (with `service`)."),
  service: dnsLabel.optional().describe("Kubernetes Service to scrape (every ready endpoint)."),
  url: plainHttpUrl.optional().describe("Static URL to scrape instead of a Service, e.g. an app outside the cluster."),
  port: z
    .union(
      [
        z.number({ error: PORT_MESSAGE }).min(1, PORT_MESSAGE).max(65535, PORT_MESSAGE).int(PORT_MESSAGE),
        z.string({ error: PORT_MESSAGE }).regex(PORT_NAME, PORT_MESSAGE),
      ],
      { error: PORT_MESSAGE },
    )
    .optional()
    .describe(
      "The Service port that serves metrics (with `service`), by name or number; a number is resolved from the Service when the program runs.",
    ),
  targetPort: z
    .number({ error: "must be a port number 1-65535" })
    .int("must be a port number 1-65535")
    .min(1, "must be a port number 1-65535")
    .max(65535, "must be a port number 1-65535")
    .optional()
    .describe("Instead of `port`: the port number the pods serve metrics on (the Service's targetPort), with `service`."),
  path: z
    .string({ error: "must be a path such as /metrics" })
    .startsWith("/", "must start with /, such as /metrics")
    // Prometheus escapes them into the path: /metrics?x=1 would be fetched as /metrics%3Fx=1.
    .refine((p) => !/[?#]/.test(p), { message: "must be a path without a query or fragment (? or #): Prometheus would escape them" })
    .optional()
    .describe("Metrics path; default /metrics."),
  scheme: z.enum(["http", "https"]).optional(),
  interval: duration.optional().describe("Scrape interval for this app; default prometheus.scrapeInterval."),
  labels: labelMap.optional().describe("Extra target labels."),
  metrics: z
    .strictObject({
      requests: metricName.optional().describe("Request counter; default http_requests_total."),
      duration: metricName
        // The rules append _bucket: a name that has it already would query <name>_bucket_bucket.
        .refine((m) => !m.endsWith("_bucket"), { message: "must be the histogram's name without _bucket (the rules append it)" })
        .optional()
        .describe("Latency histogram (without _bucket); default http_request_duration_seconds."),
      statusLabel: labelName.optional().describe("Status code label; default status."),
      methodLabel: labelName.optional().describe("HTTP method label; default method."),
      routeLabel: labelName.optional().describe("Route label; default endpoint."),
      activeConnections: metricName.optional().describe("Active connections gauge; default http_connections_active."),
    })
    .optional(),
  slo: z
    .strictObject({
      availability: percent("e.g. 99.9").optional().describe("Availability objective in percent; default 99.9."),
      latencyP95Seconds: positiveNumber.optional().describe("p95 latency objective; default 0.5."),
      minRequestsPerSecond: positiveNumber.optional().describe("Alert when throughput falls below."),
    })
    .optional(),
  alerts: z
    .strictObject({
      latencyP95Seconds: positiveNumber.optional().describe("p95 latency alert threshold; default 1."),
      errorRatePercent: percent("e.g. 5").optional().describe("5xx ratio alert threshold; default 5."),
    })
    .optional(),
  probe: appProbeSchema.optional().describe("Probe the app's health endpoint (blackbox exporter): availability, latency and TLS alerts."),
});

/** `targets[]`: plain scrape targets, with no HTTP contract (no app rules, no HTTP alerts). */
const scrapeTargetSchema = z.strictObject({
  name: dnsLabel.describe("Unique name (among apps, targets and probes); the `job` label of its series."),
  namespace: dnsLabel.optional().describe("Namespace of the Service (with `service`)."),
  service: dnsLabel.optional().describe("Kubernetes Service to scrape (every ready endpoint)."),
  port: portName.optional().describe("Name of the Service port that serves metrics (with `service`)."),
  targetPort: portNumber.optional().describe("Instead of `port`: the port number the pods serve metrics on."),
  url: plainHttpUrl.optional().describe("Static URL to scrape instead of a Service, path included."),
  path: urlPath.optional().describe("Metrics path of a Service target; default /metrics."),
  scheme: z.enum(["http", "https"]).optional().describe("Scheme of a Service target; default http."),
  interval: duration.optional().describe("Scrape interval; default prometheus.scrapeInterval."),
  timeout: duration.optional().describe("Scrape timeout; default prometheus.scrapeTimeout, at most the interval."),
  labels: labelMap.optional().describe("Extra target labels."),
  tls: z
    .strictObject({
      insecureSkipVerify: bool.optional().describe("Skip verifying the target's certificate; default false."),
      serverName: dnsSubdomain("a server name").optional().describe("Name to verify the certificate against (and SNI)."),
      caData: pemCertificates.optional().describe("base64 of the PEM CA certificates that sign the target's certificate."),
    })
    .optional(),
  auth: z
    .strictObject({
      bearerToken: bool.optional().describe("Send the credential as a bearer token."),
      username: nonEmpty("a user name").optional().describe("Basic-auth user; the credential is the password."),
      secretRef: existingSecretKey
        .optional()
        .describe("Existing Secret in the stack namespace holding the credential; otherwise secret targetCredentials.<name>."),
    })
    .optional(),
});

/** `probes[]`: any URL (or host:port), probed by the blackbox exporter. */
const probeSchema = z.strictObject({
  name: dnsLabel.describe("Unique name (among apps, targets and probes); the `probe` label of its series."),
  url: plainHttpUrl.optional().describe("URL to probe (module http_2xx)."),
  address: matching(/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, "host:port, such as db.example.com:5432")
    .optional()
    .describe("host:port to connect to (module tcp_connect)."),
  module: z.enum(["http_2xx", "tcp_connect"]).optional().describe("http_2xx (default) or tcp_connect."),
  expectStatus: statusCodes.optional().describe("Status codes that count as up (http_2xx); default any 2xx."),
  interval: duration.optional().describe("Probe interval; default prometheus.scrapeInterval."),
  latencySeconds: latencySeconds.optional(),
  labels: labelMap.optional().describe("Extra labels of the probe's series."),
});

const remoteWriteSchema = z.strictObject({
  name: dnsLabel,
  url: plainHttpUrl,
  username: nonEmpty("a user name").optional().describe("Basic-auth user; the password comes from secret remoteWritePasswords.<name>."),
  bearerToken: bool.optional().describe("Send remoteWritePasswords.<name> as a bearer token instead."),
});

const databaseSchema = z.strictObject({
  name: dnsLabel.describe("Unique name; the `database` label of its series."),
  type: z.enum(["postgres", "redis", "mongodb"]),
  // "sidecar" (and its target) are still parsed, so that a stack file of an earlier release is
  // refused with the way over (resolve) rather than as an unknown value.
  mode: z.enum(["sidecar", "standalone"]),
  target: z
    .strictObject({
      kind: z.enum(["Deployment", "StatefulSet"]),
      name: dnsLabel,
      namespace: dnsLabel,
      container: dnsLabel.optional(),
    })
    .optional()
    .describe("Retired with sidecar mode: refused, with the way over."),
  secretRef: z
    .strictObject({
      name: dnsSubdomain("a Secret name"),
      key: matching(SECRET_DATA_KEY, "a Secret key: at most 253 of letters, digits, '-', '_' and '.', not '.' and not starting with '..'"),
    })
    .optional()
    .describe("Existing Secret holding the DSN, in the stack's namespace. Otherwise the DSN comes from secret databaseDsns.<name>."),
  resources: resources.optional(),
});

/** The Grafana folder users may save into from the UI, unless the stack names it otherwise. */
export const WRITABLE_FOLDER_DEFAULT = "Team dashboards";

const slackChannel = matching(/^#?[a-z0-9_-]+$/, "a Slack channel such as #alerts: lower-case letters, digits, - and _");

/** An Alertmanager matcher as a route takes it: a label, an operator and a value (quoted or bare). */
const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;
const MATCHER_MESSAGE =
  'must be a matcher such as severity="critical", app=~"api|web" or team!="platform": a label name, one of = != =~ !~, and a value';

/**
 * A matcher in Alertmanager's syntax, written back in the one form every Alertmanager release
 * reads (`label="value"`, the value quoted), or why it is not one. Regular expressions are
 * Go's RE2, anchored at both ends: lookaround and backreferences do not exist there.
 */
export function parseMatcher(text: string): { matcher: string } | { problem: string } {
  const m = MATCHER.exec(text);
  if (!m) return { problem: MATCHER_MESSAGE };
  const [, label, op, raw] = m;
  let value: string;
  if (raw.startsWith('"')) {
    try {
      value = JSON.parse(raw) as string;
    } catch {
      return { problem: `${MATCHER_MESSAGE}; a quoted value ends with its only unescaped quote` };
    }
    if (typeof value !== "string") return { problem: MATCHER_MESSAGE };
  } else {
    if (/["{},\s]/.test(raw)) return { problem: `${MATCHER_MESSAGE}; quote a value that holds spaces, commas, braces or quotes` };
    value = raw;
  }
  if (op === "=~" || op === "!~") {
    if (/\(\?<?[=!]|\\[1-9]/.test(value)) {
      return { problem: "has a regular expression with lookaround or a backreference, which Alertmanager's (Go RE2) does not have" };
    }
    try {
      // RE2's flag groups, (?i) and (?i:...), which JavaScript writes otherwise.
      new RegExp(`^(?:${value.replace(/\(\?[imsU]+\)/g, "").replace(/\(\?[imsU]+:/g, "(?:")})$`);
    } catch {
      return { problem: "has a value that is not a regular expression" };
    }
  }
  return { matcher: `${label}${op}${JSON.stringify(value)}` };
}
const matcher = z.string({ error: `${MATCHER_MESSAGE}` }).superRefine((text, ctx) => {
  const parsed = parseMatcher(text);
  if ("problem" in parsed) ctx.addIssue({ code: "custom", message: parsed.problem, input: text });
});
/** host:port of an SMTP server: Alertmanager refuses a smarthost without its port. */
const smarthost = z.string({ error: "must be host:port such as smtp.example.com:587 (the port is required)" }).refine(
  (s) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?):(\d{1,5})$/.exec(s);
    return m !== null && Number(m[3]) >= 1 && Number(m[3]) <= 65535;
  },
  { message: "must be host:port such as smtp.example.com:587 (the port is required, 1-65535)" },
);

const alertReceiverSchema = z.strictObject({
  name: dnsLabel.describe("Unique receiver name, which routes and defaultReceiver name; its secrets are keyed by it."),
  slack: z
    .strictObject({
      channel: slackChannel.describe("The channel its webhook posts to (a Slack app webhook is made for one channel)."),
    })
    .optional()
    .describe("Post to Slack through the secret slackWebhookUrls.<name>."),
  discord: z.strictObject({}).optional().describe("Post to Discord through the secret discordWebhookUrls.<name>: `discord: {}`."),
  webhook: z.strictObject({}).optional().describe("POST Alertmanager's JSON to the secret webhookUrls.<name>: `webhook: {}`."),
  email: z
    .strictObject({ to: z.array(email, { error: "must be a list of email addresses" }).min(1, "must list at least one address") })
    .optional()
    .describe("Send email to these addresses through alertmanager.smtp."),
  sendResolved: bool.optional().describe("Also notify when the alerts resolve; default true."),
});

const alertRouteSchema = z.strictObject({
  receiver: dnsLabel.describe("The receiver of the alerts this route takes."),
  matchers: z
    .array(matcher, { error: "must be a list of matchers" })
    .optional()
    .describe("All must match, e.g. ['app=~\"deployment-api|port-manager\"', 'severity!=\"info\"']; none matches every alert."),
  continue: bool.optional().describe("Also try the routes after this one; default false: the first route that matches takes the alert."),
  groupBy: z.array(labelName, { error: "must be a list of label names" }).optional().describe("Default: alertname, job, namespace."),
  groupWait: duration.optional().describe("Default: alertmanager.groupWait."),
  groupInterval: duration.optional().describe("Default: alertmanager.groupInterval."),
  repeatInterval: duration.optional().describe("Default: alertmanager.repeatInterval."),
});
/** A value written into grafana.ini, which cannot quote a backquote. */
const iniValue = (what: string) =>
  nonEmpty(what).refine((v) => !v.includes("`"), { message: "must not contain a backquote (`): grafana.ini cannot quote it" });

/** One level of a tunable node alert (components/thresholds.ts); every field defaults to rules/nodes.yml's value. */
const thresholdLevel = (name: (typeof THRESHOLD_NAMES)[number], level: (typeof THRESHOLD_LEVELS)[number]) => {
  const spec = THRESHOLD_SPECS[name];
  const d = spec.defaults[level];
  return z.strictObject({
    enabled: bool.optional().describe(`Whether ${spec.alert} has its ${level} level; default true.`),
    percent: z
      .number({ error: `must be a percent 1-99 (the share of ${spec.what})` })
      .min(1, "must be at least 1 (percent)")
      .max(99, "must be at most 99 (percent)")
      .optional()
      .describe(
        `Share of ${spec.what} at which the ${level} fires (${spec.measure === "used" ? "above" : "below"}); default ${d.percent}.`,
      ),
    for: duration.optional().describe(`How long it must hold; default ${d.for}.`),
    severity: z.enum(ALERT_SEVERITIES).optional().describe(`The alert's severity label; default ${level}.`),
  });
};

const thresholdAlert = (name: (typeof THRESHOLD_NAMES)[number]) =>
  z.strictObject({ warning: thresholdLevel(name, "warning").optional(), critical: thresholdLevel(name, "critical").optional() });

/** An IPv4 or IPv6 CIDR, as a NetworkPolicy's ipBlock takes it. */
function isCidr(text: string): boolean {
  const [address, prefix, ...rest] = text.split("/");
  if (rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  if (isIPv4(address)) return Number(prefix) <= 32;
  return isIPv6(address) && Number(prefix) <= 128;
}
const CIDR_MESSAGE = "must be a CIDR: an address and a prefix length such as 10.0.0.0/8 or fd00::/8";
const cidrList = z
  .array(z.string({ error: CIDR_MESSAGE }).refine(isCidr, { message: CIDR_MESSAGE }), {
    error: "must be a list of CIDRs such as [10.0.0.0/8]",
  })
  .min(1, "must list at least one CIDR");
const portList = z.array(portNumber, { error: "must be a list of port numbers such as [5432]" }).min(1, "must list at least one port");
const extraEgressList = z.array(
  z.strictObject({
    ports: portList.describe("TCP ports the pods may connect to."),
    cidrs: cidrList.optional().describe("Where; default any address and any pod."),
  }),
  { error: "must be a list of destinations such as [{ ports: [5432], cidrs: [10.0.0.0/8] }]" },
);

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
    runbookBaseUrl: plainHttpUrl
      .optional()
      .describe("URL of your published copy of docs/runbooks.md (e.g. your fork's): alerts then carry a runbook_url link into it."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  alertmanager: z.strictObject({
    replicas: replicas.optional(),
    groupWait: duration.optional(),
    groupInterval: duration.optional(),
    repeatInterval: duration.optional(),
    receivers: z
      .array(alertReceiverSchema, { error: "must be a list of receivers" })
      .min(1, "must list at least one receiver")
      .optional()
      .describe(
        "Named receivers, each with one or more integrations; with them, routing is yours (routes, defaultReceiver). Default: the critical/warning split of the legacy keys.",
      ),
    routes: z
      .array(alertRouteSchema, { error: "must be a list of routes" })
      .optional()
      .describe("Routes tried in order after the Watchdog's; the first that matches takes the alert unless it says `continue`."),
    defaultReceiver: dnsLabel.optional().describe("Receiver of the alerts no route takes; required with receivers."),
    smtp: z
      .strictObject({
        smarthost: smarthost.describe("SMTP server as host:port, e.g. smtp.example.com:587 (the port is required)."),
        from: email.describe("Sender address of the emails."),
        username: nonEmpty("a user name").optional().describe("SMTP user; the password is the secret smtpPassword."),
        requireTls: bool.optional().describe("Require STARTTLS before sending; default true."),
      })
      .optional()
      .describe("The mail server email receivers send through."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  grafana: z.strictObject({
    replicas: replicas.optional(),
    adminUser: matching(/^[a-zA-Z0-9_.@-]{1,64}$/, "a user name: 1-64 of letters, digits, _ . @ -").optional(),
    writableFolder: nonEmpty("a folder title")
      .max(64, "must be at most 64 characters")
      // Grafana keeps the name of its root folder for itself.
      .refine((t) => t.trim().toLowerCase() !== "general", { message: 'must not be "General", the name of Grafana\'s root folder' })
      .refine((t) => t.trim() === t, { message: "must not start or end with spaces" })
      .optional()
      .describe(`Title of the Grafana folder users may save dashboards into from the UI; default "${WRITABLE_FOLDER_DEFAULT}".`),
    database: z
      .strictObject({
        type: z.enum(["postgres", "mysql"]),
        host: matching(/^[a-zA-Z0-9.-]+(:\d{1,5})?$/, "a host or host:port such as db.internal:5432"),
        name: iniValue("a database name"),
        user: iniValue("a user name"),
        sslMode: z.enum(["disable", "require", "verify-full"]).optional(),
      })
      .optional()
      .describe("External database; required for more than one replica. Password: secret grafanaDatabasePassword."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  loki: z.strictObject({
    enabled: bool.optional(),
    // Loki's compactor deletes whole daily index tables, so retention is counted in days.
    retention: durationWith((ms) => (ms % 86_400_000 === 0 ? undefined : "must be a whole number of days such as 3d, 7d or 2w"))
      .optional()
      .describe("How long logs are kept (whole days)."),
    storage: storage.optional(),
    resources: resources.optional(),
    // Derived from the volume and the retention when not given (components/loki-limits.ts).
    ingestion: z
      .strictObject({
        rate: bytesQuantity.optional().describe("Bytes a second Loki takes in, for the whole cluster (Loki's ingestion_rate_mb)."),
        burst: bytesQuantity.optional().describe("Bytes Loki takes at once above the rate (ingestion_burst_size_mb); at least 1Mi."),
        perStreamRate: bytesQuantity.optional().describe("Bytes a second one stream may send (per_stream_rate_limit)."),
        perStreamBurst: bytesQuantity
          .optional()
          .describe("Bytes one stream may send at once (per_stream_rate_limit_burst); at least 256Ki."),
      })
      .optional(),
  }),
  logCollector: z.strictObject({
    enabled: bool.optional(),
    agent: z
      .enum(LOG_COLLECTOR_AGENTS)
      .optional()
      .describe("Grafana Alloy (the default), or Promtail for teams that run it now (end of life since 2026-03-02)."),
    resources: resources.optional(),
  }),
  nodeExporter: z.strictObject({
    enabled: bool.optional(),
    port: hostPort
      .optional()
      .describe("Port node-exporter listens on, on every node's own address (host network); each stack on a cluster needs its own."),
    resources: resources.optional(),
  }),
  kubeStateMetrics: z.strictObject({ enabled: bool.optional(), resources: resources.optional() }),
  traefik: z.strictObject({
    enabled: bool.optional(),
    entryPoints: z.array(nonEmpty("an entry point name")).min(1, "must list at least one entry point").optional(),
    tlsSecretName: dnsLabel
      .optional()
      .describe("TLS Secret (in the stack's namespace) for the routes, or certResolver; production refuses neither, staging warns."),
    certResolver: nonEmpty("a certificate resolver name")
      .optional()
      .describe("Certificate resolver of Traefik's static config, or tlsSecretName."),
    expose: z.array(z.enum(["grafana", "prometheus", "alertmanager"])).optional(),
    basicAuthUsers: z
      .array(matching(BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE))
      .min(1, "must list at least one user")
      .optional()
      .describe("Basic-auth users; each password is the secret basicAuthPasswords.<user>, or a random one."),
  }),
  cloudflare: z.strictObject({
    enabled: bool.optional(),
    accountId: matching(HEX32, "the 32-character hex Cloudflare account id").optional(),
    zoneId: matching(HEX32, "the 32-character hex Cloudflare zone id").optional(),
    tunnelName: dnsLabel.optional(),
    replicas: replicas.optional(),
    expose: z.array(z.enum(["grafana", "prometheus", "alertmanager"])).optional(),
    access: z
      .strictObject({
        enabled: bool.optional(),
        emails: z.array(email).optional(),
        emailDomains: z.array(hostname).optional(),
        // Cloudflare counts sessions in whole seconds.
        sessionDuration: durationWith((ms) => (ms >= 1000 ? undefined : "must be at least 1s")).optional(),
      })
      .optional(),
    resources: resources.optional(),
  }),
  networkPolicy: z.strictObject({
    apiServerCidrs: cidrList
      .optional()
      .describe("Where pods reach the API server after kube-proxy's rewrite (the nodes' or control plane's addresses); default anywhere."),
    apiServerPorts: portList.optional().describe("The API server's ports: the kubernetes Service's 443 and its own 6443; default both."),
    nodeCidrs: cidrList.optional().describe("The nodes' addresses, where Prometheus scrapes kubelets and node-exporter; default anywhere."),
    extraEgress: z
      .strictObject(Object.fromEntries(EGRESS_COMPONENTS.map((c) => [c, extraEgressList.optional()])) as ExtraEgressShape)
      .optional(),
  }),
  priorityClass: z.strictObject({
    enabled: bool.optional().describe("Create the stack's PriorityClass and give it to every pod the stack creates; default true."),
    value: z
      .number({ error: `must be a whole number 1-${USER_PRIORITY_MAX}` })
      .int(`must be a whole number 1-${USER_PRIORITY_MAX}`)
      .min(1, `must be a whole number 1-${USER_PRIORITY_MAX}`)
      .max(USER_PRIORITY_MAX, `must be at most ${USER_PRIORITY_MAX}: higher values are kept for the system's own classes`)
      .optional()
      .describe("The class's priority; default 1000000."),
  }),
  hostnames: z.strictObject({
    grafana: hostname.optional(),
    prometheus: hostname.optional(),
    alertmanager: hostname.optional(),
  }),
  thresholds: z.strictObject({
    nodeCpu: thresholdAlert("nodeCpu").optional(),
    nodeMemory: thresholdAlert("nodeMemory").optional(),
    nodeDisk: thresholdAlert("nodeDisk").optional(),
  }),
};

/** Plain (non-secret) keys, with the type Pulumi hands them in. */
const plainKeySchemas = {
  profile: z.enum(PROFILES).describe("staging (small) or production (HA); default: the stack name."),
  environment: dnsLabel.describe("Environment label on every alert and series; default: the stack name."),
  namespace: dnsLabel.describe("Namespace of the stack; default monitoring-<environment>."),
  nodes: nodeCount.describe(
    "Nodes the stack's pods can be scheduled on; default 1. Replicas never outnumber them and run on nodes of their own.",
  ),
  domain: hostname.describe("Base domain; hostnames default to <service>.<domain>."),
  storageClass: dnsSubdomain("a StorageClass name").describe("Default StorageClass of every volume."),
  protectVolumes: bool.describe("Protect volumes from deletion by update or destroy."),
  apps: z.array(appSchema, { error: "must be a list of apps" }).describe("Apps to scrape."),
  databases: z.array(databaseSchema, { error: "must be a list of databases" }).describe("Database exporters."),
  teamContent: projectDirectory.describe("Directory of the team's own rules and dashboards; default team (when it exists)."),
  targets: z.array(scrapeTargetSchema, { error: "must be a list of scrape targets" }).describe("Plain scrape targets (no HTTP contract)."),
  probes: z.array(probeSchema, { error: "must be a list of probes" }).describe("URLs probed by the blackbox exporter."),
  ...sectionSchemas,
};

/** What a secret map takes, and how to give it: entry by entry, by path. */
const SECRET_MAP_MESSAGES: Record<string, string> = Object.fromEntries(
  [
    ["databaseDsns", "database name", "DSN"],
    ["remoteWritePasswords", "remote-write name", "password or token"],
    ["basicAuthPasswords", "user", "password"],
    ["slackWebhookUrls", "receiver", "Slack webhook URL"],
    ["discordWebhookUrls", "receiver", "Discord webhook URL"],
    ["webhookUrls", "receiver", "webhook URL"],
    ["targetCredentials", "target name", "token or password"],
  ].map(([key, name, value]) => [
    key,
    `must be a map of ${name} to ${value}, set one entry at a time: pulumi config set --secret --path '${key}.<${name.replace(/ /g, "-")}>' <value>`,
  ]),
);

/** Keys whose values must be Pulumi secrets. */
const secretKeySchemas = {
  grafanaAdminPassword: z.string({ error: "must be a password" }).min(12, "must be at least 12 characters"),
  grafanaDatabasePassword: nonEmpty("a password"),
  discordWebhookUrl: httpUrl,
  discordCriticalWebhookUrl: httpUrl,
  webhookUrl: httpUrl,
  deadMansSwitchUrl: httpUrl,
  databaseDsns: z.record(dnsLabel, nonEmpty("a DSN"), notAMap(SECRET_MAP_MESSAGES.databaseDsns)),
  remoteWritePasswords: z.record(dnsLabel, nonEmpty("a password or token"), notAMap(SECRET_MAP_MESSAGES.remoteWritePasswords)),
  basicAuthPasswords: z.record(
    matching(BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE),
    z
      .string({ error: "must be a password" })
      .min(12, "must be at least 12 characters")
      // bcrypt reads the first 72 bytes only: a longer password would be accepted on its prefix.
      .refine((p) => Buffer.byteLength(p, "utf8") <= 72, { message: "must be at most 72 bytes (bcrypt ignores the rest)" }),
    notAMap(SECRET_MAP_MESSAGES.basicAuthPasswords),
  ),
  slackWebhookUrls: z.record(dnsLabel, httpUrl, notAMap(SECRET_MAP_MESSAGES.slackWebhookUrls)),
  discordWebhookUrls: z.record(dnsLabel, httpUrl, notAMap(SECRET_MAP_MESSAGES.discordWebhookUrls)),
  webhookUrls: z.record(dnsLabel, httpUrl, notAMap(SECRET_MAP_MESSAGES.webhookUrls)),
  smtpPassword: nonEmpty("a password"),
  targetCredentials: z.record(dnsLabel, nonEmpty("a token or password"), notAMap(SECRET_MAP_MESSAGES.targetCredentials)),
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
  /** The StorageClass expands volumes: a larger `size` may grow existing claims (components/volume-changes.ts). Default false. */
  expandable?: boolean;
  /** For one deployment: another size or StorageClass is allowed, for claims made anew (components/volume-changes.ts). Default false. */
  recreate?: boolean;
  /**
   * Size in a StatefulSet's claim template, when it differs from `size`: the claims' size when
   * the StatefulSet was created. The template is immutable, so growing the claims leaves it as
   * it was (components/volume-changes.ts). Default `size`.
   */
  templateSize?: string;
}

export interface AppTarget {
  name: string;
  /**
   * Either a Service in a namespace, scraped on every ready endpoint of one of its ports:
   * `port`, the Service port's name, `targetPort`, the number the pods serve on (the
   * endpoint's port), or `targetPortName`, the name of the pods' container port. Exactly one
   * of them. Prometheus' endpoints discovery never sees the Service's own port numbers: a
   * number given as `apps[].port` arrives as `servicePort`, which components/service-ports.ts
   * resolves into one of the three from the Service when the program runs.
   */
  service?: { namespace: string; name: string; port?: string; targetPort?: number; targetPortName?: string; servicePort?: number };
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

/** A plain scrape target (`targets[]`): scraped as job `<name>`, with no app contract. */
export interface ScrapeTargetSpec {
  name: string;
  /** A Service's endpoints, on the Service port of this name or the pods' port number (exactly one)... */
  service?: { namespace: string; name: string; port?: string; targetPort?: number };
  /** ...or a static URL (its path is the metrics path; without one, /metrics). */
  url?: string;
  path: string;
  scheme: "http" | "https";
  interval?: string;
  timeout?: string;
  labels: Record<string, string>;
  tls?: { insecureSkipVerify: boolean; serverName?: string; caPem?: string };
  /** Bearer token or basic auth; the credential comes from an existing Secret or a secret config value. */
  auth?: { type: "bearer" } | { type: "basic"; username: string };
  credential?: { secretRef: { name: string; key: string } } | { value: string };
}

/** One probe of the blackbox exporter: `probes[]`, and `apps[].probe` (with `app`). */
export interface ProbeSpec {
  /** The `probe` label of its series: the probe's or the app's name. */
  name: string;
  /** The app it probes, for `apps[].probe`. */
  app?: string;
  module: "http_2xx" | "tcp_connect";
  /** What it probes: a URL, a host:port, or every ready endpoint of a Service at a path. */
  target:
    | { url: string }
    | { address: string }
    | { service: { namespace: string; name: string; port?: string; targetPort?: number }; scheme: "http" | "https"; path: string };
  /** Status codes that count as up (http_2xx); absent: any 2xx. */
  expectStatus?: number[];
  interval?: string;
  labels: Record<string, string>;
  /** ProbeSlow's threshold. */
  latencySeconds: number;
}

export interface DatabaseExporter {
  name: string;
  type: "postgres" | "redis" | "mongodb";
  /** Always its own Deployment in the stack namespace: sidecars are refused (see components/exporter-sidecars.ts). */
  mode: "standalone";
  /** Where the DSN comes from: an existing Secret in the stack's namespace, or the (secret) config value. */
  dsn: { secretRef: { name: string; key: string } } | { value: string };
  resources: ResourceRequirements;
}

export interface RemoteWriteTarget {
  name: string;
  url: string;
  auth?: { username: string; password: string } | { bearerToken: string };
}

export type ExposedService = "grafana" | "prometheus" | "alertmanager";

/** A named receiver with its integrations, secrets resolved. */
export interface AlertReceiver {
  name: string;
  /** Each Slack channel has its own webhook: a Slack app webhook posts to the channel it was made for. */
  slack?: { channel: string; webhookUrl: string };
  discord?: { webhookUrl: string };
  webhook?: { url: string };
  email?: { to: string[] };
  sendResolved: boolean;
}

/** One route below the Watchdog's, in order. */
export interface AlertRoute {
  receiver: string;
  /** Normalised matchers (`label="value"`); empty matches every alert. */
  matchers: string[];
  continue: boolean;
  groupBy?: string[];
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
}

export interface AlertRouting {
  receivers: AlertReceiver[];
  routes: AlertRoute[];
  /** The root route's receiver: what no route takes. */
  defaultReceiver: string;
  smtp?: { smarthost: string; from: string; username?: string; password?: string; requireTls: boolean };
}

/** A destination a team adds to a workload's egress policy (networkPolicy.extraEgress.<component>[]). */
export interface ExtraEgress {
  /** TCP ports. */
  ports: number[];
  /** Where; default any address (0.0.0.0/0, ::/0) and any pod. */
  cidrs?: string[];
}
type ExtraEgressShape = { [K in EgressComponent]: z.ZodOptional<typeof extraEgressList> };

export interface StackConfig {
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
  /** The team's own rules and dashboards (components/team-content.ts): the directory given, or none for the default `team/`. */
  teamContent?: string;
  hostnames: Partial<Record<ExposedService, string>>;
  /** Thresholds of the node alerts teams tune (components/thresholds.ts); default rules/nodes.yml's values. */
  thresholds: Thresholds;
  apps: AppTarget[];
  databases: DatabaseExporter[];
  /** Plain scrape targets (`targets[]`). */
  targets: ScrapeTargetSpec[];
  /** Every probe: the apps' (`apps[].probe`), then `probes[]`. The blackbox exporter runs only when there is one. */
  probes: ProbeSpec[];
  prometheus: {
    replicas: number;
    retention: string;
    retentionSize: string;
    scrapeInterval: string;
    scrapeTimeout: string;
    evaluationInterval: string;
    externalLabels: Record<string, string>;
    remoteWrite: RemoteWriteTarget[];
    /** Published docs/runbooks.md: each alert's `runbook` reference becomes a `runbook_url` link into it. Default none: no link. */
    runbookBaseUrl?: string;
    storage: StorageSpec;
    resources: ResourceRequirements;
  };
  alertmanager: {
    replicas: number;
    groupWait: string;
    groupInterval: string;
    repeatInterval: string;
    /** The legacy keys' receivers, for the default tree (critical and warning split), and the dead man's switch in both trees. */
    receivers: {
      discord?: { webhookUrl?: string; criticalWebhookUrl?: string };
      webhook?: { url: string };
      deadMansSwitch?: { url: string };
    };
    /** The team's own routing (alertmanager.receivers, routes, defaultReceiver, smtp); none: the default tree. */
    routing?: AlertRouting;
    storage: StorageSpec;
    resources: ResourceRequirements;
  };
  grafana: {
    replicas: number;
    adminUser: string;
    /** Title of the folder users save dashboards into from the UI (not provisioned; components/grafana.ts). */
    writableFolder: string;
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
  /** `ingestion`: the limits the stack sets itself, in bytes; the others are derived from the volume (components/loki-limits.ts). */
  loki: { enabled: boolean; retention: string; storage: StorageSpec; resources: ResourceRequirements; ingestion: LokiIngestionOverrides };
  logCollector: { enabled: boolean; agent: LogCollectorAgent; resources: ResourceRequirements };
  /** `port`: where it listens on each node's own address (host network); each stack of a cluster has its own. */
  nodeExporter: { enabled: boolean; port: number; resources: ResourceRequirements };
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
  /** What the egress policies take from the cluster's layout, and what teams add (kit's EgressSettings). */
  networkPolicy: {
    apiServerCidrs: string[];
    apiServerPorts: number[];
    nodeCidrs: string[];
    extraEgress: Record<EgressComponent, ExtraEgress[]>;
  };
  /** The stack's PriorityClass (`<namespace>-priority`), given to every pod the stack creates. */
  priorityClass: { enabled: boolean; value: number };
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

/**
 * Where the rule files' `runbook` annotations point: this repository's runbooks, as
 * `docs/runbooks.md#<alert name in lower case>`. The project has no public home that
 * every installation could link to, so an alert carries a `runbook_url` link only when
 * `prometheus.runbookBaseUrl` says where the user publishes that file.
 */
export const RUNBOOK_PATH = "docs/runbooks.md";

type ProfileDefaults = Omit<
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
    extraEgress: Object.fromEntries(EGRESS_COMPONENTS.map((c) => [c, []])) as unknown as Record<EgressComponent, ExtraEgress[]>,
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

/**
 * Promtail's requests and limits when logCollector.agent selects it: a smaller binary than
 * Alloy's, measured by npm run bench at about 90 MiB resident on the same load.
 */
export const PROMTAIL_RESOURCES: Record<Profile, ResourceRequirements> = {
  staging: res("50m", "96Mi", "200m", "160Mi"),
  production: res("50m", "128Mi", "500m", "256Mi"),
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

/** Defaults of probes (`probes[]`, `apps[].probe`). */
export const PROBE_DEFAULTS = { path: "/health", module: "http_2xx" as const, latencySeconds: 1 };

/**
 * Exporter resource defaults (the same in every profile: the exporters are tiny). Measured by npm
 * run bench: postgres-exporter 19 MiB and 3m steady, redis_exporter 17 MiB and 2m, 21 MiB at the
 * peak; sized as production (requests × 1.5, memory limit × 3).
 */
export const EXPORTER_RESOURCES = res("5m", "32Mi", "100m", "64Mi");

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
  /**
   * Entries of structured keys that the stack file holds in plain text (`monitoring:databaseDsns.orders`),
   * from plainEntriesOfSecretKeys. Pulumi marks a whole structured key secret when any one entry is,
   * so only the stack file tells a plain entry beside a secret one.
   */
  plainPaths?: readonly string[];
}

export interface ParsedConfig {
  config: StackConfig;
  /** Things that deploy but deserve attention (printed as warnings at preview time). */
  warnings: string[];
}

/** Provider namespaces the program uses: their keys are the providers' business, not typos of the project's. */
const PROVIDER_NAMESPACES = ["kubernetes", "cloudflare", "random", "pulumi"];
/** Provider keys that hold credentials, refused in plain text like the project's secret keys. */
const PROVIDER_SECRET_KEYS = ["cloudflare:apiToken", "cloudflare:apiKey", "cloudflare:apiUserServiceKey"];
const HIDDEN = "a value that is hidden because it is a secret";

/** What was given, for a message: JSON, shortened, with any password in a URL masked. */
function describeInput(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value).replace(/(\/\/[^/:@\s"]*):[^/@\s"]*@/g, "$1:***@");
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Levenshtein distance, ignoring case. */
function editDistance(a: string, b: string): number {
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
}

const closeEnough = (word: string, distance: number) => distance <= Math.max(2, Math.floor(word.length / 3));

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && closeEnough(word, bestDistance) ? best : undefined;
}

function keyOf(project: string, path: ReadonlyArray<PropertyKey>): string {
  let key = `${project}:${String(path[0])}`;
  for (const part of path.slice(1)) key += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return key;
}

/** The schema at a path of the raw schema, if the path leads to one. */
function schemaAt(path: ReadonlyArray<PropertyKey>): z.ZodType | undefined {
  let schema: z.ZodType = rawSchema;
  for (const part of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(part)];
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else return undefined;
    if (!schema) return undefined;
  }
  return unwrap(schema);
}

/** Known keys at a path of the raw schema, for "did you mean" hints. */
function knownKeysAt(path: ReadonlyArray<PropertyKey>): string[] {
  const schema = schemaAt(path);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}

/** Every key path inside the sections (`prometheus.retention`, `alertmanager.smtp`), for a top-level key that belongs in one. */
const SECTION_KEY_PATHS: string[] = (() => {
  const paths: string[] = [];
  const walk = (schema: z.ZodType, path: string) => {
    const s = unwrap(schema);
    const element = s instanceof z.ZodArray ? unwrap(s.element as z.ZodType) : s;
    if (!(element instanceof z.ZodObject)) return;
    for (const [child, childSchema] of Object.entries(element.shape as Record<string, z.ZodType>)) {
      const childPath = `${path}${s instanceof z.ZodArray ? "[]" : ""}.${child}`;
      paths.push(childPath);
      walk(childSchema, childPath);
    }
  };
  for (const [key, schema] of Object.entries(plainKeySchemas)) walk(schema, key);
  return paths;
})();

/** Where an unknown top-level key belongs: the section keys with that name (or one close to it). */
function sectionHint(key: string): string | undefined {
  const leaf = (p: string) => p.slice(p.lastIndexOf(".") + 1);
  let found = SECTION_KEY_PATHS.filter((p) => leaf(p).toLowerCase() === key.toLowerCase());
  if (found.length === 0) found = SECTION_KEY_PATHS.filter((p) => closeEnough(key, editDistance(key, leaf(p))) && leaf(p).length > 3);
  if (found.length === 0) return undefined;
  const shown = found.slice(0, 4).map((p) => `"${p}"`);
  const list = shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`;
  const how = found[0].includes("[]") ? "" : `: pulumi config set --path '${found[0]}' <value>`;
  return `did you mean ${list}${found.length > 4 ? " (and more)" : ""}? It belongs in a section${how}`;
}

/** What a key of this shape takes, in words. */
function expectedShape(path: ReadonlyArray<PropertyKey>): string {
  const schema = schemaAt(path);
  if (schema instanceof z.ZodArray) return "a list";
  if (schema instanceof z.ZodRecord) return "a map of names to values";
  if (schema instanceof z.ZodBoolean) return "true or false";
  if (schema instanceof z.ZodNumber) return "a number";
  const keys = knownKeysAt(path);
  if (keys.length > 0) return `a map of ${keys.length > 6 ? `keys such as ${keys.slice(0, 6).join(", ")}` : `keys (${keys.join(", ")})`}`;
  return "text";
}

/** The library's own wording, which no message may show: each check above says what it allows. */
const LIBRARY_WORDING = /^(Invalid|Too (small|big))/;

function zodProblems(project: string, error: z.ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(issue.path);
      for (const k of issue.keys) {
        const hint = closest(k, known);
        const section = issue.path.length === 0 && !hint ? sectionHint(k) : undefined;
        const key = issue.path.length === 0 ? `${project}:${k}` : `${keyOf(project, issue.path)}.${k}`;
        problems.push({
          key,
          message: `unknown key${hint ? ` (did you mean "${hint}"?)` : section ? ` (${section})` : ""}; allowed here: ${known.join(", ")}`,
        });
      }
      continue;
    }
    // Never echo a secret's value: error messages end up in CI logs.
    const isSecret = (SECRET_KEYS as readonly PropertyKey[]).includes(issue.path[0]);
    // A map's name is never secret (`databaseDsns.<name>`): a refused one is shown.
    const given =
      issue.code === "invalid_key"
        ? describeInput(issue.path[issue.path.length - 1])
        : isSecret
          ? HIDDEN
          : "input" in issue
            ? describeInput(issue.input)
            : "nothing";
    let message = issue.message;
    if (LIBRARY_WORDING.test(message)) {
      if (issue.code === "invalid_type") {
        message = issue.expected === "int" ? "must be a whole number" : `must be ${expectedShape(issue.path)}`;
      } else if (issue.code === "invalid_value" && "values" in issue) {
        message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
      } else if (issue.code === "too_small" || issue.code === "too_big") {
        const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
        const word = issue.code === "too_small" ? "at least" : "at most";
        message =
          issue.origin === "array"
            ? `must list ${word} ${bound}`
            : issue.origin === "string"
              ? `must be ${word} ${bound} characters`
              : `must be ${word} ${bound}`;
      } else if (issue.code === "invalid_key") {
        message = `is not a valid name here: ${issue.issues[0]?.message ?? "see the README"}`;
      } else {
        message = `is not ${expectedShape(issue.path)} of the right form`;
      }
    }
    problems.push({ key: keyOf(project, issue.path), message: `${message} (got ${given})` });
  }
  // One problem per key: the first check that failed says what is allowed.
  return problems.filter((p, i) => problems.findIndex((q) => q.key === p.key) === i);
}

// ---------------------------------------------------------------------------
// Parsing

function decodeValues(raw: RawConfig, problems: ConfigProblem[]): Record<string, unknown> {
  const prefix = `${raw.project}:`;
  const decoded: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(raw.values)) {
    if (!fullKey.startsWith(prefix)) {
      problems.push(...otherNamespaceProblems(raw, fullKey));
      continue;
    }
    const key = fullKey.slice(prefix.length);
    const structured = STRUCTURED_KEYS.has(key);
    if (!structured) {
      decoded[key] = text;
      continue;
    }
    try {
      decoded[key] = JSON.parse(text);
    } catch {
      // A secret map given whole (`databaseDsns=postgresql://…`): say how to give it, never what it was.
      const secret = (SECRET_KEYS as readonly string[]).includes(key);
      problems.push({
        key: fullKey,
        message: `${SECRET_MAP_MESSAGES[key] ?? `must be ${expectedShape([key])}`} (got ${secret ? HIDDEN : describeInput(text)})`,
      });
    }
  }
  return decoded;
}

/** A key of another namespace: a provider's, which the program leaves alone, or a misspelt project prefix. */
function otherNamespaceProblems(raw: RawConfig, fullKey: string): ConfigProblem[] {
  const colon = fullKey.indexOf(":");
  const namespace = fullKey.slice(0, colon);
  const rest = fullKey.slice(colon + 1);
  if (PROVIDER_SECRET_KEYS.includes(fullKey) && !raw.secretKeys.includes(fullKey)) {
    return [{ key: fullKey, message: `must be a secret; set it with: pulumi config set --secret ${fullKey} <value>` }];
  }
  if (PROVIDER_NAMESPACES.includes(namespace) || !closeEnough(raw.project, editDistance(namespace, raw.project))) return [];
  return [
    {
      key: fullKey,
      message:
        `unknown namespace "${namespace}" (did you mean "${raw.project}:${rest}"?): the program reads only ${raw.project}: keys ` +
        `and its providers' (${PROVIDER_NAMESPACES.filter((n) => n !== "pulumi").join(", ")}), so this value would be ignored`,
    },
  ];
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
  // An entry in plain text beside secret ones: Pulumi reports the whole key as secret, the stack file tells.
  for (const path of raw.plainPaths ?? []) {
    const fullKey = /^[^.[]+/.exec(path)?.[0] ?? path;
    const key = fullKey.slice(raw.project.length + 1);
    if (!fullKey.startsWith(`${raw.project}:`) || !(SECRET_KEYS as readonly string[]).includes(key) || path === fullKey) continue;
    if (!raw.secretKeys.includes(fullKey)) continue; // the whole key is refused above
    problems.push({
      key: path,
      message: `must be a secret like the other entries of ${key}; set it with: pulumi config set --secret --path '${path.slice(raw.project.length + 1)}' <value>`,
    });
  }
  return problems;
}

/**
 * Entries of structured keys that a stack file's `config:` block holds in plain text
 * beside secure ones (`monitoring:databaseDsns.orders`), for RawConfig.plainPaths.
 */
export function plainEntriesOfSecretKeys(stackFileConfig: Record<string, unknown>): string[] {
  const isSecure = (v: unknown) =>
    typeof v === "object" && v !== null && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";
  const plain: string[] = [];
  const walk = (value: unknown, path: string): boolean => {
    if (isSecure(value)) return true;
    if (typeof value !== "object" || value === null) {
      plain.push(path);
      return false;
    }
    let secure = false;
    for (const [k, v] of Object.entries(value)) secure = walk(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`) || secure;
    return secure;
  };
  const result: string[] = [];
  for (const [key, value] of Object.entries(stackFileConfig)) {
    plain.length = 0;
    if (typeof value === "object" && value !== null && !isSecure(value) && walk(value, key)) result.push(...plain);
  }
  return result;
}

/** Where a line break or control character sits in a text, in words. */
function controlCharacterIn(text: string): string | undefined {
  const m = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.exec(text);
  if (!m) return undefined;
  const c = m[0];
  const what =
    c === "\n" || c === "\r" || c === "\u2028" || c === "\u2029"
      ? "a line break"
      : c === "\t"
        ? "a tab"
        : `the control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  return `${what} at character ${m.index + 1}`;
}

/**
 * Line breaks and control characters in any text (values and names): they would end up in
 * config files and object fields that cannot hold them, or silently change what they say.
 */
function controlCharacterProblems(project: string, decoded: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const walk = (value: unknown, path: PropertyKey[], secret: boolean) => {
    const found = typeof value === "string" ? controlCharacterIn(value) : undefined;
    if (found) {
      problems.push({
        key: keyOf(project, path),
        message: `must be on one line, without control characters; found ${found} (got ${secret ? HIDDEN : describeInput(value)})`,
      });
    }
    if (typeof value !== "object" || value === null) return;
    for (const [k, v] of Object.entries(value)) {
      const name = controlCharacterIn(k);
      if (name) {
        problems.push({ key: keyOf(project, path), message: `has a name with ${name}; names are on one line (got ${describeInput(k)})` });
        continue;
      }
      walk(v, [...path, Array.isArray(value) ? Number(k) : k], secret);
    }
  };
  for (const [key, value] of Object.entries(decoded)) walk(value, [key], (SECRET_KEYS as readonly string[]).includes(key));
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
  return {
    size: given?.size ?? base.size,
    ...(storageClass ? { storageClass } : {}),
    ...(given?.expandable ? { expandable: true } : {}),
    ...(given?.recreate ? { recreate: true } : {}),
  };
}

function resolve(raw: RawConfig, c: RawStackConfig, profile: Profile, problems: CrossProblem[]): StackConfig {
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
    if (a.service !== undefined && (a.namespace === undefined || (a.port === undefined && a.targetPort === undefined))) {
      problems.push({
        key: k(`apps[${i}]`),
        message: `app "${a.name}" scrapes a Service, so it needs "namespace" and "port" (the Service's port, by name or number) or "targetPort" too`,
      });
    }
    if (a.port !== undefined && a.targetPort !== undefined) {
      problems.push({
        key: k(`apps[${i}]`),
        message: `app "${a.name}" gives both "port" and "targetPort"; give one: the Service's port (name or number), or the port number the pods serve on`,
      });
    }
    if (
      a.url !== undefined &&
      a.service === undefined &&
      (a.namespace !== undefined || a.port !== undefined || a.targetPort !== undefined || a.path !== undefined || a.scheme !== undefined)
    ) {
      problems.push({
        key: k(`apps[${i}]`),
        message: `app "${a.name}" scrapes a URL, so "namespace", "port", "targetPort", "path" and "scheme" belong in the URL`,
      });
    }
    // A number is the Service's own port, resolved from the Service when the program runs (components/service-ports.ts).
    const servicePort =
      typeof a.port === "string"
        ? { port: a.port }
        : typeof a.port === "number"
          ? { servicePort: a.port }
          : a.targetPort !== undefined
            ? { targetPort: a.targetPort }
            : {};
    return {
      name: a.name,
      ...(a.service !== undefined ? { service: { namespace: a.namespace ?? "", name: a.service, ...servicePort } } : {}),
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
    // An exporter in the database's pod can take the database out of its Service (see
    // components/exporter-sidecars.ts): refused, with the way over, before anything changes.
    if (db.mode === "sidecar") {
      problems.push({
        key: k(`databases[${i}].mode`),
        message:
          `"sidecar" is no longer supported: an exporter container in the database's pod makes the pod NotReady, and takes the database ` +
          `out of its Service, whenever it is OOM-killed, crash-loops or its image cannot be pulled. Set mode: standalone and drop ` +
          `target: the exporter then runs in its own pod in the stack's namespace and reaches "${db.name}" through its DSN, which must ` +
          `name the database's Service (for instance ${exporterHostExample(db.type, db.target?.name, db.target?.namespace)}), not localhost; a secretRef must be a Secret in the stack's ` +
          `namespace, or use pulumi config set --secret --path 'databaseDsns.${db.name}' <dsn>. The next pulumi up removes the ` +
          `sidecar: one rollout of the database's pods; run it when a restart of the database is acceptable (README, "Databases")`,
        ...(db.target ? { involves: [k(`databases[${i}].target`)] } : {}),
      });
    } else if (db.target) {
      problems.push({
        key: k(`databases[${i}].target`),
        message: `database "${db.name}": "target" was for sidecars, which are no longer supported; drop it (the exporter reaches the database through its DSN)`,
      });
    }
    if (db.secretRef && dsns[db.name] !== undefined) {
      problems.push({
        key: k(`databases[${i}].secretRef`),
        message: `database "${db.name}" has both secretRef and databaseDsns.${db.name}; keep one`,
        involves: [k(`databaseDsns.${db.name}`)],
      });
    }
    if (!db.secretRef && dsns[db.name] === undefined) {
      problems.push({
        key: k(`databases[${i}]`),
        message: `database "${db.name}" needs a DSN: secretRef {name, key} of an existing Secret, or pulumi config set --secret --path 'databaseDsns.${db.name}' <dsn>`,
        involves: [k(`databaseDsns.${db.name}`)],
      });
    }
    return {
      name: db.name,
      type: db.type,
      mode: "standalone",
      dsn: db.secretRef ? { secretRef: db.secretRef } : { value: dsns[db.name] ?? "" },
      resources: resolveResources(EXPORTER_RESOURCES, db.resources),
    };
  });
  for (const name of Object.keys(dsns)) {
    if (!(c.databases ?? []).some((db) => db.name === name)) {
      problems.push({
        key: k(`databaseDsns.${name}`),
        message: `no database named "${name}" in ${raw.project}:databases`,
        involves: [k("databases")],
      });
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
    if (!(p.remoteWrite ?? []).some((rw) => rw.name === name)) {
      problems.push({
        key: k(`remoteWritePasswords.${name}`),
        message: `no remote write named "${name}" in prometheus.remoteWrite: add it there, or remove the password with: pulumi config rm --path 'remoteWritePasswords.${name}'`,
        involves: [k("prometheus.remoteWrite")],
      });
    }
  }
  const promStorage = resolveStorage(d.prometheus.storage, p.storage, storageClass);
  const targets = resolveTargets(raw, c, problems);
  const probes = resolveProbes(raw, c, problems);

  const am = c.alertmanager ?? {};
  const receivers: StackConfig["alertmanager"]["receivers"] = {};
  if (c.discordWebhookUrl !== undefined || c.discordCriticalWebhookUrl !== undefined) {
    receivers.discord = {
      ...(c.discordWebhookUrl !== undefined ? { webhookUrl: c.discordWebhookUrl } : {}),
      ...(c.discordCriticalWebhookUrl !== undefined ? { criticalWebhookUrl: c.discordCriticalWebhookUrl } : {}),
    };
  }
  if (c.webhookUrl !== undefined) receivers.webhook = { url: c.webhookUrl };
  if (c.deadMansSwitchUrl !== undefined) receivers.deadMansSwitch = { url: c.deadMansSwitchUrl };
  const routing = resolveRouting(raw, c, problems);

  const g = c.grafana ?? {};
  const cf = c.cloudflare ?? {};
  const tr = c.traefik ?? {};
  const environment = c.environment ?? raw.stack;
  const nodes = c.nodes ?? DEFAULT_NODES;
  // A profile's replicas, on as many nodes as there are: each replica runs on a node of its own.
  const onNodes = (replicas: number) => Math.min(replicas, nodes);
  const config: StackConfig = {
    project: raw.project,
    stack: raw.stack,
    profile,
    environment,
    namespace: c.namespace ?? defaultNamespace(environment),
    nodes,
    ...(domain ? { domain } : {}),
    ...(storageClass ? { storageClass } : {}),
    protectVolumes: c.protectVolumes ?? d.protectVolumes,
    ...(c.teamContent !== undefined ? { teamContent: c.teamContent.replace(/\/$/, "") } : {}),
    hostnames,
    thresholds: resolveThresholds(c.thresholds),
    apps,
    databases,
    targets,
    probes,
    prometheus: {
      replicas: p.replicas ?? onNodes(d.prometheus.replicas),
      retention: p.retention ?? d.prometheus.retention,
      retentionSize: p.retentionSize ?? prometheusSizeMB((quantityBytes(promStorage.size) ?? 0) * 0.85),
      scrapeInterval: p.scrapeInterval ?? d.prometheus.scrapeInterval,
      scrapeTimeout: p.scrapeTimeout ?? d.prometheus.scrapeTimeout,
      evaluationInterval: p.evaluationInterval ?? d.prometheus.evaluationInterval,
      externalLabels: p.externalLabels ?? {},
      remoteWrite,
      ...(p.runbookBaseUrl !== undefined ? { runbookBaseUrl: p.runbookBaseUrl } : {}),
      storage: promStorage,
      resources: resolveResources(d.prometheus.resources, p.resources),
    },
    alertmanager: {
      replicas: am.replicas ?? onNodes(d.alertmanager.replicas),
      groupWait: am.groupWait ?? d.alertmanager.groupWait,
      groupInterval: am.groupInterval ?? d.alertmanager.groupInterval,
      repeatInterval: am.repeatInterval ?? d.alertmanager.repeatInterval,
      receivers,
      ...(routing ? { routing } : {}),
      storage: resolveStorage(d.alertmanager.storage, am.storage, storageClass),
      resources: resolveResources(d.alertmanager.resources, am.resources),
    },
    grafana: {
      replicas: g.replicas ?? d.grafana.replicas,
      adminUser: g.adminUser ?? d.grafana.adminUser,
      writableFolder: g.writableFolder ?? d.grafana.writableFolder,
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
      ingestion: ingestionBytes(c.loki?.ingestion),
    },
    logCollector: {
      enabled: c.logCollector?.enabled ?? d.logCollector.enabled,
      agent: c.logCollector?.agent ?? d.logCollector.agent,
      resources: resolveResources(
        (c.logCollector?.agent ?? d.logCollector.agent) === "promtail" ? PROMTAIL_RESOURCES[profile] : d.logCollector.resources,
        c.logCollector?.resources,
      ),
    },
    nodeExporter: {
      enabled: c.nodeExporter?.enabled ?? d.nodeExporter.enabled,
      port: c.nodeExporter?.port ?? d.nodeExporter.port,
      resources: resolveResources(d.nodeExporter.resources, c.nodeExporter?.resources),
    },
    kubeStateMetrics: {
      enabled: c.kubeStateMetrics?.enabled ?? d.kubeStateMetrics.enabled,
      resources: resolveResources(d.kubeStateMetrics.resources, c.kubeStateMetrics?.resources),
    },
    networkPolicy: {
      apiServerCidrs: c.networkPolicy?.apiServerCidrs ?? d.networkPolicy.apiServerCidrs,
      apiServerPorts: c.networkPolicy?.apiServerPorts ?? d.networkPolicy.apiServerPorts,
      nodeCidrs: c.networkPolicy?.nodeCidrs ?? d.networkPolicy.nodeCidrs,
      extraEgress: Object.fromEntries(
        EGRESS_COMPONENTS.map((component) => [
          component,
          c.networkPolicy?.extraEgress?.[component] ?? d.networkPolicy.extraEgress[component],
        ]),
      ) as Record<EgressComponent, ExtraEgress[]>,
    },
    priorityClass: {
      enabled: c.priorityClass?.enabled ?? d.priorityClass.enabled,
      value: c.priorityClass?.value ?? d.priorityClass.value,
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
      tunnelName: cf.tunnelName ?? `${raw.project}-${environment}`,
      replicas: cf.replicas ?? onNodes(d.cloudflare.replicas),
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

/** Integrations whose address is a secret map keyed by receiver name. */
const RECEIVER_SECRETS = [
  { integration: "slack", key: "slackWebhookUrls", what: "its Slack webhook (one per channel: a Slack app webhook ignores `channel`)" },
  { integration: "discord", key: "discordWebhookUrls", what: "its Discord webhook" },
  { integration: "webhook", key: "webhookUrls", what: "its webhook URL" },
] as const;

/** The legacy receiver keys, which feed the default tree only. */
const LEGACY_RECEIVER_KEYS = ["discordWebhookUrl", "discordCriticalWebhookUrl", "webhookUrl"] as const;

/**
 * The team's own routing, from alertmanager.receivers, routes, defaultReceiver, smtp and the
 * receivers' secrets; undefined without receivers (the default tree). Problems name the full key.
 */
function resolveRouting(raw: RawConfig, c: RawStackConfig, problems: CrossProblem[]): AlertRouting | undefined {
  const k = (path: string) => `${raw.project}:${path}`;
  const am = c.alertmanager ?? {};
  const given = am.receivers;
  const secretMaps = {
    slackWebhookUrls: c.slackWebhookUrls ?? {},
    discordWebhookUrls: c.discordWebhookUrls ?? {},
    webhookUrls: c.webhookUrls ?? {},
  };
  const smtp = am.smtp;
  if (smtp?.username !== undefined && c.smtpPassword === undefined) {
    problems.push({
      key: k("alertmanager.smtp.username"),
      message: "is set, so the password is needed: pulumi config set --secret smtpPassword <value>",
      involves: [k("smtpPassword")],
    });
  }
  if (c.smtpPassword !== undefined && smtp?.username === undefined) {
    problems.push({
      key: k("smtpPassword"),
      message: "is only sent with a user name: set alertmanager.smtp.username, or remove it with: pulumi config rm smtpPassword",
      involves: [k("alertmanager.smtp")],
    });
  }
  if (given === undefined) {
    for (const key of ["routes", "defaultReceiver", "smtp"] as const) {
      if (am[key] !== undefined) {
        problems.push({
          key: k(`alertmanager.${key}`),
          message: "needs alertmanager.receivers: routes, the default receiver and the mail server are for named receivers",
          involves: [k("alertmanager.receivers")],
        });
      }
    }
    for (const { key } of RECEIVER_SECRETS) {
      for (const name of Object.keys(secretMaps[key])) {
        problems.push({
          key: k(`${key}.${name}`),
          message: `is for the receiver "${name}" of alertmanager.receivers, which has none; add it there, or remove this with: pulumi config rm --path '${key}.${name}'`,
          involves: [k("alertmanager.receivers")],
        });
      }
    }
    return undefined;
  }

  for (const key of LEGACY_RECEIVER_KEYS) {
    if (c[key] === undefined) continue;
    const how = key === "webhookUrl" ? "webhook: {} and webhookUrls.<receiver>" : "discord: {} and discordWebhookUrls.<receiver>";
    problems.push({
      key: k(key),
      message:
        `feeds the default critical/warning split, which alertmanager.receivers replaces: give its address to a receiver ` +
        `(${how}), then remove it with: pulumi config rm ${key}`,
      involves: [k("alertmanager.receivers")],
    });
  }

  const names = given.map((r) => r.name);
  // What a name check reads: the names alone, so that a refused address elsewhere in a receiver does not hide it.
  const nameKeys = given.map((_, i) => k(`alertmanager.receivers[${i}].name`));
  for (const name of duplicates(names)) {
    problems.push({ key: k("alertmanager.receivers"), message: `receiver name "${name}" is used more than once; names must be unique` });
  }
  const receivers: AlertReceiver[] = given.map((r, i) => {
    const at = `alertmanager.receivers[${i}]`;
    if (r.name === "deadmans-switch" || r.name === "null") {
      problems.push({
        key: k(`${at}.name`),
        message: `is a receiver the stack keeps for the Watchdog (deadmans-switch, null); choose another name (got "${r.name}")`,
      });
    }
    if (!r.slack && !r.discord && !r.webhook && !r.email) {
      problems.push({ key: k(at), message: `receiver "${r.name}" has no integration: give it slack, discord, webhook or email` });
    }
    const address = (integration: (typeof RECEIVER_SECRETS)[number]["integration"]) => {
      const spec = RECEIVER_SECRETS.find((s) => s.integration === integration);
      if (!spec || !r[integration]) return undefined;
      const value = secretMaps[spec.key][r.name];
      if (value === undefined) {
        problems.push({
          key: k(`${at}.${integration}`),
          message: `receiver "${r.name}" needs ${spec.what}: pulumi config set --secret --path '${spec.key}.${r.name}' <url>`,
          involves: [k(`${spec.key}.${r.name}`)],
        });
      }
      return value ?? "";
    };
    if (r.email && !smtp) {
      problems.push({
        key: k(`${at}.email`),
        message: `receiver "${r.name}" sends email, so alertmanager.smtp must say through which server (smarthost, from)`,
        involves: [k("alertmanager.smtp")],
      });
    }
    const slackUrl = address("slack");
    const discordUrl = address("discord");
    const webhookUrl = address("webhook");
    return {
      name: r.name,
      ...(r.slack && slackUrl !== undefined ? { slack: { channel: r.slack.channel, webhookUrl: slackUrl } } : {}),
      ...(discordUrl !== undefined ? { discord: { webhookUrl: discordUrl } } : {}),
      ...(webhookUrl !== undefined ? { webhook: { url: webhookUrl } } : {}),
      ...(r.email ? { email: { to: r.email.to } } : {}),
      sendResolved: r.sendResolved ?? true,
    };
  });
  for (const { integration, key } of RECEIVER_SECRETS) {
    for (const name of Object.keys(secretMaps[key])) {
      if (given.some((r) => r.name === name && r[integration])) continue;
      problems.push({
        key: k(`${key}.${name}`),
        message: given.some((r) => r.name === name)
          ? `is for receiver "${name}", which has no ${integration}: add \`${integration}\` to it, or remove this with: pulumi config rm --path '${key}.${name}'`
          : `names no receiver of alertmanager.receivers (${names.join(", ")}); add it there, or remove this with: pulumi config rm --path '${key}.${name}'`,
        involves: nameKeys,
      });
    }
  }
  if (smtp && !given.some((r) => r.email)) {
    problems.push({
      key: k("alertmanager.smtp"),
      message: "is set, but no receiver sends email: give one an `email: {to: [...]}`, or remove alertmanager.smtp",
      involves: nameKeys,
    });
  }

  const known = (name: string) => names.includes(name);
  const defaultReceiver = am.defaultReceiver;
  if (defaultReceiver === undefined) {
    problems.push({
      key: k("alertmanager.defaultReceiver"),
      message: `is required with alertmanager.receivers: the receiver of the alerts no route takes, one of ${names.join(", ")} (got nothing)`,
      involves: nameKeys,
    });
  } else if (!known(defaultReceiver)) {
    problems.push({
      key: k("alertmanager.defaultReceiver"),
      message: `must name a receiver of alertmanager.receivers (${names.join(", ")}) (got "${defaultReceiver}")`,
      involves: nameKeys,
    });
  }
  const routes: AlertRoute[] = (am.routes ?? []).map((r, i) => {
    if (!known(r.receiver)) {
      problems.push({
        key: k(`alertmanager.routes[${i}].receiver`),
        message: `must name a receiver of alertmanager.receivers (${names.join(", ")}) (got "${r.receiver}")`,
        involves: nameKeys,
      });
    }
    return {
      receiver: r.receiver,
      matchers: (r.matchers ?? []).map((m) => {
        const parsed = parseMatcher(m);
        return "matcher" in parsed ? parsed.matcher : m;
      }),
      continue: r.continue ?? false,
      ...(r.groupBy ? { groupBy: r.groupBy } : {}),
      ...(r.groupWait ? { groupWait: r.groupWait } : {}),
      ...(r.groupInterval ? { groupInterval: r.groupInterval } : {}),
      ...(r.repeatInterval ? { repeatInterval: r.repeatInterval } : {}),
    };
  });
  return {
    receivers,
    routes,
    defaultReceiver: defaultReceiver ?? "",
    ...(smtp
      ? {
          smtp: {
            smarthost: smtp.smarthost,
            from: smtp.from,
            ...(smtp.username !== undefined ? { username: smtp.username } : {}),
            ...(c.smtpPassword !== undefined ? { password: c.smtpPassword } : {}),
            requireTls: smtp.requireTls ?? true,
          },
        }
      : {}),
  };
}

/** Each level of each tunable alert: what the stack gives, else rules/nodes.yml's value. */
function resolveThresholds(given: RawStackConfig["thresholds"]): Thresholds {
  const out = defaultThresholds();
  for (const name of THRESHOLD_NAMES) {
    for (const level of THRESHOLD_LEVELS) {
      const g = given?.[name]?.[level];
      if (g === undefined) continue;
      const d = out[name][level];
      out[name][level] = {
        enabled: g.enabled ?? d.enabled,
        percent: g.percent ?? d.percent,
        for: g.for ?? d.for,
        severity: g.severity ?? d.severity,
      };
    }
  }
  return out;
}

/** `targets[]`: where each is scraped, its TLS and its credential (a secret value or an existing Secret). */
function resolveTargets(raw: RawConfig, c: RawStackConfig, problems: CrossProblem[]): ScrapeTargetSpec[] {
  const k = (path: string) => `${raw.project}:${path}`;
  const credentials = c.targetCredentials ?? {};
  const targets = (c.targets ?? []).map((t, i): ScrapeTargetSpec => {
    const key = k(`targets[${i}]`);
    if ((t.service === undefined) === (t.url === undefined)) {
      problems.push({ key, message: `target "${t.name}" needs exactly one of "service" (with namespace and port or targetPort) or "url"` });
    }
    if (t.service !== undefined && (t.namespace === undefined || (t.port === undefined) === (t.targetPort === undefined))) {
      problems.push({
        key,
        message: `target "${t.name}" scrapes a Service, so it needs "namespace" and one of "port" (the Service port's name) or "targetPort" (the pods' port number)`,
      });
    }
    if (
      t.url !== undefined &&
      (t.namespace !== undefined || t.port !== undefined || t.targetPort !== undefined || t.path !== undefined || t.scheme !== undefined)
    ) {
      problems.push({
        key,
        message: `target "${t.name}" scrapes a URL, so "namespace", "port", "targetPort", "path" and "scheme" belong in the URL`,
      });
    }
    const scheme = t.url !== undefined ? (t.url.startsWith("https:") ? "https" : "http") : (t.scheme ?? APP_DEFAULTS.scheme);
    if (t.tls !== undefined && scheme !== "https") {
      problems.push({ key: k(`targets[${i}].tls`), message: `target "${t.name}" is scraped over http; tls applies to https only` });
    }
    if (t.tls?.insecureSkipVerify && (t.tls.caData !== undefined || t.tls.serverName !== undefined)) {
      problems.push({
        key: k(`targets[${i}].tls`),
        message: `target "${t.name}" skips verification (insecureSkipVerify), so caData and serverName would be ignored; keep one or the other`,
      });
    }
    const auth = t.auth;
    const given = credentials[t.name];
    if (auth !== undefined) {
      if ((auth.bearerToken === true) === (auth.username !== undefined)) {
        problems.push({
          key: k(`targets[${i}].auth`),
          message: `target "${t.name}": choose bearerToken: true or username (basic auth), one of them`,
        });
      }
      if (auth.secretRef !== undefined && given !== undefined) {
        problems.push({
          key: k(`targets[${i}].auth.secretRef`),
          message: `target "${t.name}" has both auth.secretRef and targetCredentials.${t.name}; keep one`,
          involves: [k(`targetCredentials.${t.name}`)],
        });
      }
      if (auth.secretRef === undefined && given === undefined) {
        problems.push({
          key: k(`targets[${i}].auth`),
          message: `target "${t.name}" needs its credential: auth.secretRef {name, key} of an existing Secret in the stack namespace, or pulumi config set --secret --path 'targetCredentials.${t.name}' <value>`,
          involves: [k(`targetCredentials.${t.name}`)],
        });
      }
    }
    return {
      name: t.name,
      ...(t.service !== undefined
        ? {
            service: {
              namespace: t.namespace ?? "",
              name: t.service,
              ...(t.port !== undefined ? { port: t.port } : {}),
              ...(t.targetPort !== undefined ? { targetPort: t.targetPort } : {}),
            },
          }
        : {}),
      ...(t.url !== undefined ? { url: t.url } : {}),
      path: t.path ?? APP_DEFAULTS.path,
      scheme,
      ...(t.interval ? { interval: t.interval } : {}),
      ...(t.timeout ? { timeout: t.timeout } : {}),
      labels: t.labels ?? {},
      ...(t.tls
        ? {
            tls: {
              insecureSkipVerify: t.tls.insecureSkipVerify ?? false,
              ...(t.tls.serverName ? { serverName: t.tls.serverName } : {}),
              ...(t.tls.caData ? { caPem: Buffer.from(t.tls.caData, "base64").toString("utf8") } : {}),
            },
          }
        : {}),
      ...(auth
        ? { auth: auth.username !== undefined ? { type: "basic" as const, username: auth.username } : { type: "bearer" as const } }
        : {}),
      ...(auth ? { credential: auth.secretRef ? { secretRef: auth.secretRef } : { value: given ?? "" } } : {}),
    };
  });
  for (const name of Object.keys(credentials)) {
    const target = (c.targets ?? []).find((t) => t.name === name);
    if (!target?.auth) {
      problems.push({
        key: k(`targetCredentials.${name}`),
        message: target
          ? `target "${name}" has no auth (bearerToken or username) to send it with: add one, or remove it with: pulumi config rm --path 'targetCredentials.${name}'`
          : `no target named "${name}" in ${raw.project}:targets: add it there, or remove it with: pulumi config rm --path 'targetCredentials.${name}'`,
        involves: [k("targets")],
      });
    }
  }
  return targets;
}

/** Every probe: the apps' health endpoints (`apps[].probe`), then `probes[]`. */
function resolveProbes(raw: RawConfig, c: RawStackConfig, problems: CrossProblem[]): ProbeSpec[] {
  const k = (path: string) => `${raw.project}:${path}`;
  const probes: ProbeSpec[] = [];
  (c.apps ?? []).forEach((a, i) => {
    const pr = a.probe;
    if (!pr) return;
    const path = pr.path ?? PROBE_DEFAULTS.path;
    let target: ProbeSpec["target"];
    if (a.url !== undefined) {
      if (pr.port !== undefined || pr.targetPort !== undefined) {
        problems.push({
          key: k(`apps[${i}].probe`),
          message: `app "${a.name}" is a URL; its probe goes to the same host, so "port" and "targetPort" do not apply`,
        });
      }
      let origin = "";
      try {
        origin = new URL(a.url).origin;
      } catch {
        // The URL itself is refused by its schema.
      }
      target = { url: `${origin}${path}` };
    } else {
      if (pr.port !== undefined && pr.targetPort !== undefined) {
        problems.push({ key: k(`apps[${i}].probe`), message: `app "${a.name}": the probe gives both "port" and "targetPort"; give one` });
      }
      const own =
        pr.port !== undefined || pr.targetPort !== undefined
          ? pr
          : { port: typeof a.port === "string" ? a.port : undefined, targetPort: a.targetPort };
      target = {
        service: {
          namespace: a.namespace ?? "",
          name: a.service ?? "",
          ...(own.port !== undefined ? { port: own.port } : own.targetPort !== undefined ? { targetPort: own.targetPort } : {}),
        },
        scheme: a.scheme ?? APP_DEFAULTS.scheme,
        path,
      };
    }
    probes.push({
      name: a.name,
      app: a.name,
      module: "http_2xx",
      target,
      ...(pr.expectStatus ? { expectStatus: [...new Set(pr.expectStatus)].sort((x, y) => x - y) } : {}),
      ...(pr.interval ? { interval: pr.interval } : {}),
      labels: a.labels ?? {},
      latencySeconds: pr.latencySeconds ?? PROBE_DEFAULTS.latencySeconds,
    });
  });
  (c.probes ?? []).forEach((pr, i) => {
    const module = pr.module ?? (pr.address !== undefined && pr.url === undefined ? "tcp_connect" : PROBE_DEFAULTS.module);
    if (module === "http_2xx" && (pr.url === undefined || pr.address !== undefined)) {
      problems.push({ key: k(`probes[${i}]`), message: `probe "${pr.name}" uses module http_2xx, so it needs "url" (and no "address")` });
    }
    if (module === "tcp_connect" && (pr.address === undefined || pr.url !== undefined)) {
      problems.push({
        key: k(`probes[${i}]`),
        message: `probe "${pr.name}" uses module tcp_connect, so it needs "address" host:port (and no "url")`,
      });
    }
    if (module === "tcp_connect" && pr.expectStatus !== undefined) {
      problems.push({
        key: k(`probes[${i}].expectStatus`),
        message: `probe "${pr.name}" uses module tcp_connect, which has no status code`,
      });
    }
    const port = pr.address !== undefined ? Number(pr.address.slice(pr.address.lastIndexOf(":") + 1)) : 1;
    if (port < 1 || port > 65535) {
      problems.push({ key: k(`probes[${i}].address`), message: `must end in a port number 1-65535 (got ${JSON.stringify(pr.address)})` });
    }
    probes.push({
      name: pr.name,
      module,
      target: module === "tcp_connect" ? { address: pr.address ?? "" } : { url: pr.url ?? "" },
      ...(pr.expectStatus ? { expectStatus: [...new Set(pr.expectStatus)].sort((x, y) => x - y) } : {}),
      ...(pr.interval ? { interval: pr.interval } : {}),
      labels: pr.labels ?? {},
      latencySeconds: pr.latencySeconds ?? PROBE_DEFAULTS.latencySeconds,
    });
  });
  return probes;
}

function duplicates(names: string[]): string[] {
  return [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
}

/** A problem found by a rule over several keys, with the keys it reads besides its own. */
interface CrossProblem extends ConfigProblem {
  /** Full keys the rule read: when one of them was refused, the problem only follows from that one. */
  involves?: string[];
}

/** Rules that involve more than one key. */
function crossChecks(raw: RawConfig, given: RawStackConfig, c: StackConfig, problems: CrossProblem[], warnings: string[]): void {
  const k = (path: string) => `${raw.project}:${path}`;
  const seconds = (d: string) => durationSeconds(d) ?? 0;
  const p = c.prometheus;

  for (const name of duplicates(c.apps.map((a) => a.name))) {
    problems.push({ key: k("apps"), message: `app name "${name}" is used more than once; names must be unique` });
  }
  // Apps, targets and probes are told apart by name in jobs, dashboards and alerts (an app's probe takes its name).
  const named = [
    ...c.apps.map((a, i) => ({ name: a.name, key: `apps[${i}].name` })),
    ...c.targets.map((t, i) => ({ name: t.name, key: `targets[${i}].name` })),
    ...(given.probes ?? []).map((pr, i) => ({ name: pr.name, key: `probes[${i}].name` })),
  ];
  for (const name of duplicates(named.map((n) => n.name))) {
    const where = named.filter((n) => n.name === name).map((n) => n.key);
    if (where.every((w) => w.startsWith("apps["))) continue;
    problems.push({
      key: k(where[where.length - 1]),
      message: `"${name}" is also the name of ${where.slice(0, -1).join(" and ")}; apps, targets and probes need names of their own`,
    });
  }
  for (const name of duplicates(c.databases.map((db) => db.name))) {
    problems.push({ key: k("databases"), message: `database name "${name}" is used more than once; names must be unique` });
  }
  for (const name of duplicates(p.remoteWrite.map((r) => r.name))) {
    problems.push({ key: k("prometheus.remoteWrite"), message: `remote write name "${name}" is used more than once` });
  }

  if (seconds(p.retention) < seconds(p.scrapeInterval)) {
    problems.push({
      key: k("prometheus.retention"),
      message: `must be longer than prometheus.scrapeInterval (${p.scrapeInterval}); got ${p.retention}`,
      involves: [k("prometheus.scrapeInterval")],
    });
  }
  if (seconds(p.scrapeTimeout) > seconds(p.scrapeInterval)) {
    problems.push({
      key: k("prometheus.scrapeTimeout"),
      message: `must not exceed prometheus.scrapeInterval (${p.scrapeInterval}); got ${p.scrapeTimeout}`,
      involves: [k("prometheus.scrapeInterval")],
    });
  }
  // The warning level of a node alert fires before its critical one, with another severity.
  for (const [path, message, other] of thresholdProblems(c.thresholds)) {
    problems.push({ key: k(`thresholds.${path}`), message, involves: [k(`thresholds.${other}`)] });
  }
  // An app's interval may be shorter than the global scrapeTimeout: its job's timeout is then its interval (components/prometheus.ts).
  const amGroup = c.alertmanager;
  const routing = amGroup.routing;
  for (const r of routing?.receivers ?? []) {
    if (routing?.defaultReceiver !== r.name && !routing?.routes.some((route) => route.receiver === r.name)) {
      warnings.push(
        `${k("alertmanager.receivers")}: receiver "${r.name}" gets no alert: no route names it, and it is not the defaultReceiver.`,
      );
    }
  }
  if (seconds(amGroup.groupInterval) < seconds(amGroup.groupWait)) {
    problems.push({
      key: k("alertmanager.groupInterval"),
      message: `must be at least alertmanager.groupWait (${amGroup.groupWait}); got ${amGroup.groupInterval}`,
      involves: [k("alertmanager.groupWait")],
    });
  }
  if (seconds(amGroup.repeatInterval) < seconds(amGroup.groupInterval)) {
    problems.push({
      key: k("alertmanager.repeatInterval"),
      message: `must be at least alertmanager.groupInterval (${amGroup.groupInterval}); got ${amGroup.repeatInterval}`,
      involves: [k("alertmanager.groupInterval")],
    });
  }

  // Each replica runs on a node of its own (required anti-affinity): one more than there are
  // nodes would stay Pending, and on one node a second replica gains no availability, doubles
  // the memory, and its disruption budget would hang `kubectl drain` (k3s upgrades drain).
  const replicated = [
    ["prometheus", c.prometheus.replicas, given.prometheus?.replicas],
    ["alertmanager", c.alertmanager.replicas, given.alertmanager?.replicas],
    ["grafana", c.grafana.replicas, given.grafana?.replicas],
    ["cloudflare", c.cloudflare.replicas, given.cloudflare?.replicas],
  ] as const;
  for (const [section, count, explicit] of replicated) {
    if (explicit === undefined || count <= c.nodes) continue;
    problems.push({
      key: k(`${section}.replicas`),
      message:
        `must be at most nodes (${c.nodes}${given.nodes === undefined ? ", the default" : ""}): each replica runs on a node of its own, ` +
        `so one more would stay Pending${c.nodes === 1 ? ", and on one node a second replica adds no availability and would block kubectl drain" : ""}. ` +
        `If the cluster has more nodes, say so: pulumi config set nodes <count> (got ${count})`,
      involves: [k("nodes")],
    });
  }

  // On one node there is no second node for a replica to survive on: production runs each workload once there.
  if (c.profile === "production" && c.nodes > 1) {
    if (c.alertmanager.replicas < 2) {
      problems.push({
        key: k("alertmanager.replicas"),
        message: `a production stack on ${c.nodes} nodes needs at least 2 Alertmanager replicas (3 recommended) so alerts survive a node loss; got ${c.alertmanager.replicas}`,
        involves: [k("nodes")],
      });
    }
    if (c.prometheus.replicas < 2) {
      warnings.push(
        `${k("prometheus.replicas")} is ${c.prometheus.replicas} in a production stack on ${c.nodes} nodes: metrics and alerting stop while that pod restarts.`,
      );
    }
  }

  if (c.grafana.replicas > 1 && !c.grafana.database) {
    problems.push({
      key: k("grafana.replicas"),
      message: `more than one Grafana replica needs an external database (grafana.database); got ${c.grafana.replicas} replicas with the built-in SQLite`,
      involves: [k("grafana.database")],
    });
  }
  if (c.grafana.database && c.grafana.database.password === undefined) {
    problems.push({
      key: k("grafanaDatabasePassword"),
      message: "grafana.database is set, so the password is needed: pulumi config set --secret grafanaDatabasePassword <value>",
      involves: [k("grafana.database")],
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
          involves: [k("domain"), k(`hostnames.${svc}`)],
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
          involves: [k("domain"), k(`hostnames.${svc}`)],
        });
    }
    if (c.traefik.tlsSecretName && c.traefik.certResolver) {
      problems.push({ key: k("traefik.certResolver"), message: "choose tlsSecretName or certResolver, not both" });
    }
    // Without a certificate source Traefik serves its self-signed default certificate: browsers
    // warn, and users learn to click through the warning. The profile, not the environment (a free
    // label), is what makes a stack production, as for its replicas and protected volumes.
    if (!c.traefik.tlsSecretName && !c.traefik.certResolver && c.traefik.expose.length > 0) {
      const tls =
        `Traefik publishes ${c.traefik.expose.join(", ")} with no certificate source, so its routes serve Traefik's self-signed ` +
        `default certificate: set ${k("traefik.certResolver")} (a resolver of Traefik's static config, e.g. ACME) or ` +
        `${k("traefik.tlsSecretName")} (a kubernetes.io/tls Secret in ${c.namespace}) (got neither)`;
      if (c.profile === "production") {
        problems.push({
          key: k("traefik.tlsSecretName"),
          message: `is required in a production stack: ${tls}`,
          involves: [k("traefik.certResolver")],
        });
      } else {
        warnings.push(`${k("traefik.tlsSecretName")}: ${tls}.`);
      }
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
        involves: [k("traefik.basicAuthUsers")],
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
      involves: [k("loki.enabled")],
    });
  }
  // Loki's ingestion limits against its volume (components/loki-limits.ts); a malformed size
  // or retention is already a problem of its own.
  const lokiVolume = quantityBytes(c.loki.storage.size);
  if (c.loki.enabled && lokiVolume !== undefined && durationSeconds(c.loki.retention) !== undefined) {
    const checked = ingestionProblems(lokiVolume, c.loki.storage.size, c.loki.retention, c.loki.ingestion);
    for (const p of checked.problems)
      problems.push({ key: k(`loki.${p.key === "storage.size" ? p.key : `ingestion.${p.key}`}`), message: p.message });
    for (const w of checked.warnings) warnings.push(`${k(`loki.ingestion.${w.key}`)} ${w.message}.`);
  }
  kubernetesLimits(raw, given, c, problems);
  prometheusRules(raw, given, c, problems);
  exposureRules(raw, given, c, problems);
}

// ---------------------------------------------------------------------------
// What Kubernetes, Prometheus and the components would refuse later, refused here
// first, so that one run lists every problem in one format.

/** Jobs of Prometheus' own scrape configs (components/prometheus.ts); apps and scrape targets may not take their names. */
export const BUILTIN_SCRAPE_JOBS: readonly string[] = ["kubernetes-pods", "kubelet", "cadvisor"];
/** Labels the scrape config sets on targets itself; extra target labels may not take their names. */
export const RESERVED_TARGET_LABELS: readonly string[] = ["app", "job", "instance", "namespace", "pod", "service", "node"];

/** The jobs of the scrape targets the stack's own components add for a config (a test holds this to the render). */
export function componentScrapeJobs(cfg: StackConfig): string[] {
  return [
    "prometheus",
    "alertmanager",
    "grafana",
    ...(cfg.loki.enabled ? ["loki"] : []),
    ...(cfg.logCollector.enabled ? [cfg.logCollector.agent] : []),
    ...(cfg.nodeExporter.enabled ? ["node-exporter"] : []),
    ...(cfg.kubeStateMetrics.enabled ? ["kube-state-metrics"] : []),
    ...(cfg.cloudflare.enabled ? ["cloudflared"] : []),
    ...new Set(cfg.databases.map((db) => `${db.type}-exporter`)),
    // The exporter's own metrics, and the job of every probe it runs.
    ...(cfg.probes.length > 0 ? ["blackbox-exporter", "blackbox"] : []),
  ];
}

/** What a DSN of each database looks like, to catch one given to the wrong exporter (components/exporter-sidecars.ts checks the same). */
export const DSN_FORMATS: Readonly<Record<DatabaseExporter["type"], { pattern: RegExp; example: string }>> = {
  // A URL, or libpq's key=value form.
  postgres: {
    pattern: /^(postgres(ql)?:\/\/\S+|[a-z_]+=\S*(\s+[a-z_]+=\S*)*)$/,
    example: "postgresql://user:password@host:5432/db?sslmode=require",
  },
  redis: { pattern: /^((rediss?|unix):\/\/\S+|[^\s:/@]+:\d{1,5})$/, example: "redis://:password@host:6379" },
  mongodb: { pattern: /^mongodb(\+srv)?:\/\/\S+$/, example: "mongodb://user:password@host:27017/admin" },
};

/** Each database's usual port, for the examples of a host an exporter in its own pod reaches it by. */
const DATABASE_PORT: Readonly<Record<DatabaseExporter["type"], number>> = { postgres: 5432, redis: 6379, mongodb: 27017 };

/** How an exporter in its own pod reaches a database in the cluster: its Service (`<service>.<namespace>.svc:<port>`). */
export function exporterHostExample(type: DatabaseExporter["type"], service: string = type, namespace = "shop"): string {
  return `${service}.${namespace}.svc:${DATABASE_PORT[type]}`;
}

/** Loopback names and addresses: in a pod, the pod itself. */
const LOOPBACK_HOST = /^(localhost|localhost\.localdomain|[^.]+\.localhost|127(\.\d{1,3}){3}|\[?::1\]?|\[?0:0:0:0:0:0:0:1\]?)$/i;

/**
 * What a DSN (of the right format) names that only exists inside the exporter's own pod: a loopback
 * host, or none (a Unix socket; libpq's default without a host). Undefined when every host is elsewhere.
 */
export function dsnNamesOwnPod(type: DatabaseExporter["type"], dsn: string): string | undefined {
  let hosts: string[];
  const url = /^[a-z+]+:\/\/([^/?#]*)/i.exec(dsn);
  if (type === "redis" && dsn.startsWith("unix://")) return "a Unix socket";
  if (url) {
    // user:password@host:port[,host:port...]; the password may hold '@' only escaped, so the last '@' ends it.
    const authority = url[1].slice(url[1].lastIndexOf("@") + 1);
    hosts = authority.split(",").map((h) => h.replace(/:\d*$/, ""));
    // libpq also takes the host as a query parameter, which wins over the authority's.
    const query = type === "postgres" ? /[?&]host(?:addr)?=([^&]*)/.exec(dsn) : null;
    if (query) hosts = decodeURIComponent(query[1]).split(",");
  } else if (type === "postgres") {
    // libpq's key=value form: host (or hostaddr), possibly a list.
    const pairs = Object.fromEntries(dsn.split(/\s+/).map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
    hosts = (pairs.host ?? pairs.hostaddr ?? "").split(",");
  } else {
    hosts = [dsn.replace(/:\d+$/, "")];
  }
  if (hosts.some((h) => h === "" || h.startsWith("/") || h.startsWith("%2F") || h.startsWith("%2f"))) {
    return "no host (a Unix socket, or the default localhost)";
  }
  const loopback = hosts.find((h) => LOOPBACK_HOST.test(h));
  return loopback !== undefined ? `the loopback host ${JSON.stringify(loopback)}` : undefined;
}

/** The namespace of the node agents is `<namespace>-agents`, a DNS label of at most 63 characters. */
const AGENTS_SUFFIX = "-agents";

/** Names Kubernetes would refuse, limits below requests. */
function kubernetesLimits(raw: RawConfig, given: RawStackConfig, c: StackConfig, problems: CrossProblem[]): void {
  const k = (path: string) => `${raw.project}:${path}`;

  // A limit below its request: the API server refuses the workload.
  type Sized = { path: string; given?: z.infer<typeof resources>; resolved: ResourceRequirements };
  const sections = [
    "prometheus",
    "alertmanager",
    "grafana",
    "loki",
    "logCollector",
    "nodeExporter",
    "kubeStateMetrics",
    "cloudflare",
  ] as const;
  const sized: Sized[] = [
    ...sections.map((s) => ({ path: `${s}.resources`, given: given[s]?.resources, resolved: c[s].resources })),
    ...c.databases.map((db, i) => ({ path: `databases[${i}].resources`, given: given.databases?.[i]?.resources, resolved: db.resources })),
  ];
  for (const { path, given: g, resolved } of sized) {
    for (const resource of ["cpu", "memory"] as const) {
      const request = resolved.requests[resource];
      const limit = resolved.limits[resource];
      if (limit === undefined) continue;
      if ((quantityValue(limit) ?? Infinity) >= (quantityValue(request) ?? 0)) continue;
      if (g?.limits?.[resource] !== undefined) {
        problems.push({
          key: k(`${path}.limits.${resource}`),
          message: `must be at least the request, ${request}${g.requests?.[resource] === undefined ? ` (the default ${path}.requests.${resource})` : ""}: Kubernetes refuses a limit below its request (got ${JSON.stringify(limit)})`,
          involves: [k(`${path}.requests.${resource}`)],
        });
      } else {
        problems.push({
          key: k(`${path}.requests.${resource}`),
          message: `must not exceed the limit, ${limit} (the default ${path}.limits.${resource}): raise that too, since Kubernetes refuses a request above its limit (got ${JSON.stringify(request)})`,
        });
      }
    }
  }

  // Names the program derives from config values.
  const agents = c.nodeExporter.enabled || c.logCollector.enabled;
  if (given.namespace === undefined && (c.namespace.length > 63 || (agents && c.namespace.length + AGENTS_SUFFIX.length > 63))) {
    // The default comes from the environment: the key to set is namespace.
    const limit = agents ? 63 - AGENTS_SUFFIX.length : 63;
    problems.push({
      key: k("namespace"),
      message:
        `must be set: its default, "${defaultNamespace("<environment>")}", would have ${c.namespace.length} characters with the environment ` +
        `"${c.environment}", and a namespace has at most ${limit}${agents ? ` while node agents run (their namespace is "<namespace>${AGENTS_SUFFIX}")` : ""}: ` +
        `pulumi config set namespace <name> (got nothing)`,
      involves: [k("environment")],
    });
  } else if (agents && c.namespace.length + AGENTS_SUFFIX.length > 63) {
    problems.push({
      key: k("namespace"),
      message:
        `must be at most ${63 - AGENTS_SUFFIX.length} characters while node agents run (nodeExporter or logCollector enabled): ` +
        `their namespace "<namespace>${AGENTS_SUFFIX}" is a DNS label of at most 63 (got ${JSON.stringify(c.namespace)}, ${c.namespace.length} characters)`,
      involves: [k("nodeExporter.enabled"), k("logCollector.enabled")],
    });
  }
  c.databases.forEach((db, i) => {
    if (!/^[a-z]/.test(db.name)) {
      problems.push({
        key: k(`databases[${i}].name`),
        message: `must start with a letter for a standalone exporter: its Service "<name>-exporter" is a DNS-1035 label (got ${JSON.stringify(db.name)})`,
        involves: [k(`databases[${i}].mode`)],
      });
    } else if (db.name.length + "-exporter".length > 63) {
      problems.push({
        key: k(`databases[${i}].name`),
        message: `must be at most ${63 - "-exporter".length} characters for a standalone exporter: its Service "<name>-exporter" is a DNS label of at most 63 (got ${JSON.stringify(db.name)}, ${db.name.length} characters)`,
        involves: [k(`databases[${i}].mode`)],
      });
    }
  });
}

/** loki.ingestion as given, in bytes (the schema checked that each is a byte quantity). */
function ingestionBytes(given: Partial<Record<string, string>> | undefined): LokiIngestionOverrides {
  const out: LokiIngestionOverrides = {};
  for (const [field, key] of Object.entries(INGESTION_KEYS) as Array<[keyof LokiIngestionOverrides, string]>) {
    const bytes = given?.[key] === undefined ? undefined : quantityBytes(given[key] ?? "");
    if (bytes !== undefined) out[field] = bytes;
  }
  return out;
}

/** What Prometheus would refuse or silently get wrong, and what its component refuses. */
function prometheusRules(raw: RawConfig, given: RawStackConfig, c: StackConfig, problems: CrossProblem[]): void {
  const k = (path: string) => `${raw.project}:${path}`;
  const p = c.prometheus;

  // A size cap at or over the volume never applies: the disk fills first.
  const volume = quantityBytes(p.storage.size) ?? 0;
  const cap = prometheusSizeBytes(p.retentionSize) ?? 0;
  if (given.prometheus?.retentionSize !== undefined && cap >= volume) {
    problems.push({
      key: k("prometheus.retentionSize"),
      message:
        `must be smaller than the volume it lives on (prometheus.storage.size ${p.storage.size}, ${prometheusSizeMB(volume)}), with room for the ` +
        `write-ahead log and compaction; the default is 85 % (${prometheusSizeMB(volume * 0.85)}) (got ${JSON.stringify(p.retentionSize)})`,
      involves: [k("prometheus.storage.size")],
    });
  }

  const taken = [...BUILTIN_SCRAPE_JOBS, ...componentScrapeJobs(c)];
  c.apps.forEach((app, i) => {
    if (taken.includes(app.name)) {
      problems.push({
        key: k(`apps[${i}].name`),
        message: `is the job of one of the stack's own scrape jobs, whose series the app's would mix with; rename the app (taken: ${taken.join(", ")}) (got ${JSON.stringify(app.name)})`,
      });
    }
    for (const label of Object.keys(app.labels)) {
      const reserved = RESERVED_TARGET_LABELS.includes(label);
      if (reserved || label.startsWith("__")) {
        problems.push({
          key: k(`apps[${i}].labels.${label}`),
          message: reserved
            ? `is a label the scrape config sets itself (${RESERVED_TARGET_LABELS.join(", ")}); choose another name`
            : "starts with __, which Prometheus keeps for itself and drops after relabelling; choose another name",
        });
      }
    }
  });
  c.targets.forEach((target, i) => {
    if (taken.includes(target.name)) {
      problems.push({
        key: k(`targets[${i}].name`),
        message: `is the job of one of the stack's own scrape jobs, whose series the target's would mix with; rename the target (taken: ${taken.join(", ")}) (got ${JSON.stringify(target.name)})`,
      });
    }
    const seconds = (d: string) => durationSeconds(d) ?? 0;
    if (target.timeout !== undefined && seconds(target.timeout) > seconds(target.interval ?? p.scrapeInterval)) {
      problems.push({
        key: k(`targets[${i}].timeout`),
        message: `must not be longer than the target's interval (${target.interval ?? p.scrapeInterval}); got ${target.timeout}`,
        involves: [k(`targets[${i}].interval`), k("prometheus.scrapeInterval")],
      });
    }
  });
  const reservedLabels = (labels: Record<string, string>, owner: string, extra: readonly string[] = []) => {
    for (const label of Object.keys(labels)) {
      const reserved = [...RESERVED_TARGET_LABELS, ...extra].includes(label);
      if (reserved || label.startsWith("__")) {
        problems.push({
          key: k(`${owner}.labels.${label}`),
          message: reserved
            ? `is a label the scrape config sets itself (${[...RESERVED_TARGET_LABELS, ...extra].join(", ")}); choose another name`
            : "starts with __, which Prometheus keeps for itself and drops after relabelling; choose another name",
        });
      }
    }
  };
  c.targets.forEach((target, i) => reservedLabels(target.labels, `targets[${i}]`));
  (given.probes ?? []).forEach((pr, i) => reservedLabels(pr.labels ?? {}, `probes[${i}]`, ["probe"]));
  c.apps.forEach((app, i) => {
    if (app.labels.probe !== undefined && given.apps?.[i]?.probe !== undefined) {
      problems.push({
        key: k(`apps[${i}].labels.probe`),
        message: `is the label of the app's probe series (its name); choose another name`,
      });
    }
  });
  if ("environment" in p.externalLabels) {
    problems.push({
      key: k("prometheus.externalLabels.environment"),
      message: `is the label the program sets from ${raw.project}:environment ("${c.environment}"); set that key instead`,
    });
  }
  if (p.replicas > 1 && "replica" in p.externalLabels) {
    problems.push({
      key: k("prometheus.externalLabels.replica"),
      message: `is set by Prometheus itself when it runs more than one replica (prometheus.replicas is ${p.replicas}); choose another name`,
      involves: [k("prometheus.replicas")],
    });
  }

  // A DSN of another database type: the exporter would start and report the database down.
  c.databases.forEach((db, i) => {
    if (!("value" in db.dsn) || given.databaseDsns?.[db.name] === undefined) return;
    if (!DSN_FORMATS[db.type].pattern.test(db.dsn.value)) {
      problems.push({
        key: k(`databaseDsns.${db.name}`),
        message: `is not a ${db.type} DSN (database "${db.name}" is ${db.type}); expected something like ${DSN_FORMATS[db.type].example} (got ${HIDDEN})`,
        involves: [k(`databases[${i}].type`)],
      });
      return;
    }
    // A sidecar's DSN moved over as it was: in its own pod, the exporter would only ever reach itself.
    const local = dsnNamesOwnPod(db.type, db.dsn.value);
    if (local !== undefined) {
      problems.push({
        key: k(`databaseDsns.${db.name}`),
        message:
          `names ${local}: the exporter runs in a pod of its own, where that is the exporter itself; name the database's Service ` +
          `(for instance ${exporterHostExample(db.type)}), or one server's own name (a StatefulSet pod: <pod>.<service>.<namespace>.svc) (got ${HIDDEN})`,
      });
    }
  });
}

/** Hostnames of the published services: their own, and long enough to be one. */
function exposureRules(raw: RawConfig, given: RawStackConfig, c: StackConfig, problems: CrossProblem[]): void {
  const k = (path: string) => `${raw.project}:${path}`;
  const exposed = (["grafana", "prometheus", "alertmanager"] as const).filter((svc) => publicHostname(c, svc) !== undefined);
  const seen = new Map<string, ExposedService>();
  for (const svc of exposed) {
    const host = c.hostnames[svc] as string;
    const explicit = given.hostnames?.[svc] !== undefined;
    if (!explicit && host.length > 253) {
      problems.push({
        key: k("domain"),
        message: `is too long for the hostname ${svc}.<domain> (${host.length} characters; a hostname has at most 253): set hostnames.${svc} or a shorter domain (got ${describeInput(c.domain)})`,
      });
    }
    const other = seen.get(host);
    if (other !== undefined) {
      problems.push({
        key: k(explicit ? `hostnames.${svc}` : `hostnames.${other}`),
        message: `is also the hostname of ${explicit ? other : svc}, and both are published: give each service its own (got ${JSON.stringify(host)})`,
      });
    }
    seen.set(host, svc);
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
 * Keys the program no longer reads, with what to do instead. They are taken out before the
 * schema sees them, so that the message is the migration, not "unknown key".
 */
function retiredKeyProblems(project: string, decoded: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const example =
    'alertmanager.receivers [{name: alerts-critical, slack: {channel: "#alerts-critical"}}, {name: infrastructure, slack: {channel: "#infrastructure"}}], ' +
    "alertmanager.routes [{matchers: ['severity=\"critical\"'], receiver: alerts-critical}], alertmanager.defaultReceiver: infrastructure, " +
    "and one webhook per receiver: pulumi config set --secret --path 'slackWebhookUrls.<receiver>' <url> (README: Alerts)";
  if (decoded.slackWebhookUrl !== undefined) {
    delete decoded.slackWebhookUrl;
    problems.push({
      key: `${project}:slackWebhookUrl`,
      message:
        "is no longer read: one Slack webhook posts to the one channel it was made for (Slack app webhooks ignore `channel`), " +
        `so critical and warning alerts would land in the same channel. Give each channel its own receiver and webhook: ${example}; ` +
        "then pulumi config rm slackWebhookUrl",
    });
  }
  const am = decoded.alertmanager;
  if (typeof am === "object" && am !== null && !Array.isArray(am) && "slack" in am) {
    delete (am as Record<string, unknown>).slack;
    problems.push({
      key: `${project}:alertmanager.slack`,
      message: `is no longer read: each Slack channel is a receiver with its own webhook. Instead: ${example}; then pulumi config rm --path alertmanager.slack`,
    });
  }
  return problems;
}

/**
 * Validates the raw config of a stack and fills in the defaults of its profile.
 * Throws ConfigError listing every problem.
 */
export function parseStackConfig(raw: RawConfig): ParsedConfig {
  const problems: ConfigProblem[] = [];
  const decoded = decodeValues(raw, problems);
  problems.push(...retiredKeyProblems(raw.project, decoded));
  problems.push(...secretnessProblems(raw, decoded));
  const textProblems = controlCharacterProblems(raw.project, decoded);
  problems.push(...textProblems);
  let parsed = rawSchema.safeParse(decoded, { reportInput: true });
  const dropped: string[] = [];
  if (!parsed.success) {
    // A value with a line break is refused for that; what else its schema says would only repeat it.
    problems.push(...zodProblems(raw.project, parsed.error).filter((p) => !textProblems.some((t) => t.key === p.key)));
    // Check the rest too, so that one message lists every problem: drop what is malformed
    // (falling back to defaults) and parse again.
    const rest = withoutMalformed(decoded, parsed.error);
    parsed = rest.parsed;
    dropped.push(...rest.dropped.map((path) => keyOf(raw.project, path)));
  }
  const profile = profileOf(raw, decoded.profile, problems);

  const warnings: string[] = [];
  if (parsed.success) {
    const checked: CrossProblem[] = [];
    const config = resolve(raw, parsed.data as RawStackConfig, profile, checked);
    crossChecks(raw, parsed.data as RawStackConfig, config, checked, warnings);
    // A rule over keys one of which was refused would only repeat the problem, or report one
    // that follows from it (a malformed domain is not "no domain").
    const refused = [...problems.map((p) => p.key), ...dropped];
    const overlaps = (a: string, b: string) => a === b || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
    const follows = (c: CrossProblem) =>
      [c.key, ...(c.involves ?? [])].some((key) => refused.some((r) => overlaps(key, r) || overlaps(r, key)));
    problems.push(...checked.filter((c) => !follows(c)).map(({ key, message }) => ({ key, message })));
    if (problems.length === 0) return { config, warnings };
  }
  throw new ConfigError(problems);
}

/**
 * The decoded config without the values and keys the schema refused, parsed again. Where
 * dropping a value leaves its parent incomplete (an app without its name), the parent goes
 * too, up to the top-level key, which is optional: so the rest can always be checked.
 */
function withoutMalformed(
  decoded: Record<string, unknown>,
  error: z.ZodError,
): { parsed: ReturnType<typeof rawSchema.safeParse>; dropped: PropertyKey[][] } {
  const copy = structuredClone(decoded);
  const dropped: PropertyKey[][] = [];
  const remove = (path: PropertyKey[]) => {
    if (path.length === 0) return;
    dropped.push(path);
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
  let issues = error.issues;
  for (let round = 0; ; round++) {
    for (const issue of issues) {
      const path = [...issue.path];
      if (issue.code === "unrecognized_keys") for (const key of issue.keys) remove([...path, key]);
      else remove(round === 0 || path.length === 1 ? path : path.slice(0, -1));
    }
    const parsed = rawSchema.safeParse(copy);
    // Each round drops at least one level, and the config is a few levels deep.
    if (parsed.success || round === 8) return { parsed, dropped };
    issues = parsed.error.issues;
  }
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
