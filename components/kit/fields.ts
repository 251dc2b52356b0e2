/**
 * Field types of the stack file: each says in the project's words what it allows, so that no
 * message shows a regular expression or the validation library's own wording (a test checks).
 */
import { isIPv4, isIPv6 } from "net";
import { z } from "zod";
import {
  CPU_QUANTITY_PATTERN,
  PROMETHEUS_MAX_DURATION_MS,
  PROMETHEUS_SIZE_PATTERN,
  durationMilliseconds,
  formatDuration,
  quantityBytes,
  quantityValue,
} from "./units";

/** The highest priority a PriorityClass of users may have; higher ones are the system's (system-cluster-critical is 2000000000). */
export const USER_PRIORITY_MAX = 1_000_000_000;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A DNS-1123 subdomain, what Kubernetes takes for most object names (StorageClass, Secret). */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const PROM_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PROM_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const HEX32 = /^[0-9a-f]{32}$/;
export const BASIC_AUTH_USER = /^[a-zA-Z0-9_.-]{1,32}$/;
export const BASIC_AUTH_USER_MESSAGE = "a user name: 1-32 of letters, digits, _ . -";
/** A Service port name (Kubernetes' IANA_SVC_NAME): at most 15 of a-z, 0-9, '-'; a letter; no '-' at an end or twice in a row. */
export const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;
/** A key of a Secret (Kubernetes' IsConfigMapKey): at most 253 of letters, digits, '-', '_', '.'; not '.', nor starting with '..'. */
export const SECRET_DATA_KEY = /^(?!\.\.)(?!\.$)[-._a-zA-Z0-9]{1,253}$/;
/** Kubernetes stores replica counts in 32 bits. */
const INT32_MAX = 2 ** 31 - 1;

/** Text matching a pattern, refused in the same words whatever is wrong (type or format). */
export const matching = (pattern: RegExp, what: string) => z.string({ error: `must be ${what}` }).regex(pattern, `must be ${what}`);
export const nonEmpty = (what: string) => z.string({ error: `must be ${what}` }).min(1, `must be ${what}, not empty`);
export const bool = z.boolean({ error: "must be true or false" });
/**
 * A user name. One written as a YAML number (Grafana Cloud's user is its numeric instance ID:
 * `username: 123456`) is the text of that number; any other number is refused, saying to quote it.
 */
export const userName = (what = "a user name", text: z.ZodType<string> = nonEmpty(what)) =>
  z.preprocess(
    (v) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? String(v) : v),
    z
      .unknown()
      .superRefine((v, ctx) => {
        if (typeof v === "number") ctx.addIssue({ code: "custom", message: `must be ${what}; quote it: write "${v}"` });
      })
      .pipe(text),
  );

export const dnsLabel = matching(DNS_LABEL, "a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters");
export const dnsSubdomain = (what: string) =>
  matching(DNS_SUBDOMAIN, `${what}: lower-case letters, digits, '-' and '.', at most 253 characters`);
export const hostname = matching(HOSTNAME, "a fully qualified lower-case hostname such as grafana.example.com");
export const labelName = matching(PROM_LABEL_NAME, "a label name: letters, digits and _, not starting with a digit");
export const metricName = matching(PROM_METRIC_NAME, "a metric name: letters, digits, _ and :, not starting with a digit");

const DURATION_EXAMPLES = "15s, 5m, 12h, 30d or 1h30m";
/** A positive Prometheus duration Prometheus can hold; `also` adds a rule of the key's own. */
export const durationWith = (also?: (milliseconds: number) => string | undefined) =>
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
export const duration = durationWith();

const MEMORY_EXAMPLES = "512Mi, 10Gi or 1Ti";
export const bytesQuantity = z
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
export const prometheusSize = matching(PROMETHEUS_SIZE_PATTERN, "a Prometheus size such as 512MB, 45GB or 1TB");
export const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });
/**
 * A URL in a plain (not secret) key: it lands in plain text in a ConfigMap, so it may not carry
 * credentials. The one check of it: the components that write such URLs (Prometheus' scrape jobs
 * and probes, its remote writes) rely on it.
 */
export const plainHttpUrl = httpUrl.superRefine((u, ctx) => {
  const why = "it is not a secret, and would be stored in plain text in a ConfigMap";
  if (hasCredentials(u)) ctx.addIssue({ code: "custom", message: `must not hold credentials (user:password@): ${why}` });
  const named = credentialParameters(u);
  if (named.length > 0)
    ctx.addIssue({
      code: "custom",
      message:
        `must not hold credentials (the query parameter${named.length === 1 ? "" : "s"} ${named.map((n) => `${n}=`).join(", ")}): ${why}; ` +
        "give the endpoint's credentials in the keys made for them, or reach it through a proxy that adds them",
    });
});
export const email = z.email({ error: "must be an email address" });
const PROJECT_DIRECTORY_MESSAGE =
  "a directory inside the project, relative to Pulumi.yaml, such as team or team/production (letters, digits, '.', '_', '-' and '/', without '..')";
export const projectDirectory = matching(
  /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/,
  PROJECT_DIRECTORY_MESSAGE,
);
export const replicas = z
  .number({ error: "must be a whole number" })
  .min(1, "must be at least 1")
  .max(INT32_MAX, `must be at most ${INT32_MAX} (Kubernetes counts replicas in 32 bits)`)
  .int("must be a whole number");
/** How many nodes the stack's pods can be scheduled on (nodes): the replicas of a workload never outnumber them. */
export const nodeCount = z
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
export const hostPort = z
  .number({ error: "must be a port number 1024-65535" })
  .int("must be a port number 1024-65535")
  .min(1024, "must be at least 1024: node-exporter runs without privileges, which cannot listen below 1024")
  .max(65535, "must be a port number 1024-65535")
  .refine((p) => !NODE_RESERVED_PORTS.includes(p), {
    message: `must not be a port Kubernetes or k3s listen on themselves (${NODE_RESERVED_PORTS.join(", ")})`,
  });
/** A count Prometheus takes as an unsigned limit (0 would mean none): a whole number from 1, at most 2^31 - 1. */
export const positiveCount = (what: string) =>
  z
    .number({ error: `must be a whole number of ${what}, at least 1` })
    .int(`must be a whole number of ${what}, at least 1`)
    .min(1, `must be a whole number of ${what}, at least 1 (0 would mean no limit)`)
    .max(INT32_MAX, `must be at most ${INT32_MAX}`);
export const positiveNumber = z.number({ error: "must be a number such as 0.5" }).positive("must be greater than 0");
/** A number as a hint writes it: without binary fractions showing (0.999 × 100 is 99.9, not 99.89999999999999). */
const hintNumber = (n: number) => Number(n.toPrecision(10));
/**
 * An objective in percent that is plausible, from `min` to below 100: a value under `min` is most
 * likely a ratio written where a percent is asked (0.999 for 99.9 %), which would quietly change
 * what pages (an availability objective of 0.999 % never burns its budget).
 */
export const plausiblePercent = (what: string, min: number) =>
  z.number({ error: `must be a number (${what})` }).refine((v) => v >= min && v < 100, {
    error: (issue) => {
      const given = issue.input as number;
      const meant = hintNumber(given * 100);
      const ratio = given < 1 && meant >= min && meant < 100;
      return `must be a percent from ${min} to below 100 (${what})${ratio ? `, not a ratio: did you mean ${meant}?` : ""}`;
    },
  });
/** The longest latency an objective or an alert threshold may give: beyond it, a figure in milliseconds is the likely mistake. */
export const LATENCY_MAX_SECONDS = 60;
/** A latency in seconds, greater than 0 and at most LATENCY_MAX_SECONDS. */
export const latencyInSeconds = positiveNumber.refine((v) => v <= LATENCY_MAX_SECONDS, {
  error: (issue) =>
    `must be at most ${LATENCY_MAX_SECONDS}: it is in seconds, not milliseconds: did you mean ${hintNumber((issue.input as number) / 1000)}?`,
});
/** What a secret map takes, and how to give it: entry by entry, by path (`key.<name>`). */
export const secretMapMessage = (key: string, name: string, value: string) =>
  `must be a map of ${name} to ${value}, set one entry at a time: pulumi config set --secret --path '${key}.<${name.replace(/ /g, "-")}>' <value>`;
/** The error of a map that is not one; its names and values say their own. */
export const notAMap = (message: string) => ({ error: (issue: { code: string }) => (issue.code === "invalid_type" ? message : undefined) });
/** A Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 letters, digits, '-', '_', '.'. */
const KUBE_LABEL_KEY =
  /^((?=[^/]{1,253}\/)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const KUBE_LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
/** A map of Kubernetes label keys to values, possibly empty. */
export const kubeLabelMap = z.record(
  matching(
    KUBE_LABEL_KEY,
    "a Kubernetes label key such as app.kubernetes.io/name (an optional prefix and '/', then at most 63 characters)",
  ),
  matching(
    KUBE_LABEL_VALUE,
    "a Kubernetes label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
  ),
  notAMap("must be a map of Kubernetes label keys to values, such as app.kubernetes.io/name: traefik"),
);
/** Kubernetes labels that pick pods (all must match), such as app.kubernetes.io/name: traefik. */
export const kubeLabels = kubeLabelMap.refine((m) => Object.keys(m).length > 0, {
  message: "must name at least one label: without one every pod of the namespace would be scraped",
});
export const labelMap = z.record(
  labelName,
  z.string({ error: "must be a label value (text)" }),
  notAMap("must be a map of label names to values"),
);

export const resources = z.strictObject({
  requests: z.strictObject({ cpu: cpuQuantity.optional(), memory: bytesQuantity.optional() }).optional(),
  limits: z.strictObject({ cpu: cpuQuantity.optional(), memory: bytesQuantity.optional() }).optional(),
});
export const storage = z.strictObject({
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
      'For one deployment: a new size or StorageClass makes the claims anew, once their data is moved out (docs/operations.md, "Changing volumes").',
    ),
});

/** Whether a URL carries a user or password. */
/**
 * Whether a URL query parameter's name says it carries a credential: once lower-cased and stripped of `-`, `_` and
 * `.`, it is one of CREDENTIAL_PARAMETERS, or ends with one of CREDENTIAL_SUFFIXES (`X-Amz-Signature`,
 * `client_secret`, `x-api-key`, `access_token`).
 */
export function isCredentialParameter(name: string): boolean {
  const n = name.toLowerCase().replace(/[-_.]/g, "");
  return CREDENTIAL_PARAMETERS.has(n) || CREDENTIAL_SUFFIXES.some((suffix) => n.endsWith(suffix));
}
export const CREDENTIAL_PARAMETERS: ReadonlySet<string> = new Set([
  "key",
  "sig",
  "auth",
  "authorization",
  "pwd",
  "passwd",
  "credential",
  "credentials",
  "pass",
]);
export const CREDENTIAL_SUFFIXES = ["token", "secret", "password", "apikey", "accesskey", "signature", "privatekey"];

/** The names of the query parameters of `url` that carry a credential (isCredentialParameter), in order, once each. */
export function credentialParameters(url: string): string[] {
  try {
    return [...new Set([...new URL(url).searchParams.keys()].filter(isCredentialParameter))];
  } catch {
    return [];
  }
}

function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== "" || u.password !== "";
  } catch {
    return false;
  }
}

export const PORT_MESSAGE = "must be a port number 1-65535 or a port name (at most 15 of a-z, 0-9 and '-', with a letter)";

// Plain scrape targets and probes: what their schemas share.
export const portNumber = z
  .number({ error: "must be a port number 1-65535" })
  .int("must be a port number 1-65535")
  .min(1, "must be a port number 1-65535")
  .max(65535, "must be a port number 1-65535");
export const portName = z
  .string({ error: "must be the name of a Service port (at most 15 of a-z, 0-9 and '-', with a letter)" })
  .regex(PORT_NAME, "must be the name of a Service port (at most 15 of a-z, 0-9 and '-', with a letter); a port number goes in targetPort");
export const urlPath = z
  .string({ error: "must be a path such as /metrics" })
  .startsWith("/", "must start with /, such as /metrics")
  .refine((p) => !/[?#]/.test(p), { message: "must be a path without a query or fragment (? or #): Prometheus would escape them" });
export const statusCodes = z
  .array(z.number({ error: "must be an HTTP status code 100-599" }).int("must be an HTTP status code 100-599").min(100).max(599), {
    error: "must be a list of HTTP status codes such as [200, 204]",
  })
  .min(1, "must name at least one status code");
export const existingSecretKey = z.strictObject({
  name: dnsSubdomain("a Secret name"),
  key: matching(SECRET_DATA_KEY, "a Secret key: at most 253 of letters, digits, '-', '_' and '.', not '.' and not starting with '..'"),
});
/** base64 of PEM certificates, as kubeconfig's certificate-authority-data: one line in the stack file. */
export const pemCertificates = z
  .string({ error: "must be base64 of PEM certificates (base64 -w0 ca.crt)" })
  .refine(
    (v) =>
      /^[A-Za-z0-9+/]+=*$/.test(v) &&
      /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(Buffer.from(v, "base64").toString("utf8")),
    {
      message: "must be base64 of PEM certificates (-----BEGIN CERTIFICATE----- ...), one line: base64 -w0 ca.crt",
    },
  );
export const latencySeconds = latencyInSeconds.describe(
  "ProbeSlow fires when probes take longer than this on average over 5 minutes; default 1.",
);

export const slackChannel = matching(/^#?[a-z0-9_-]+$/, "a Slack channel such as #alerts: lower-case letters, digits, - and _");

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
export const matcher = z.string({ error: `${MATCHER_MESSAGE}` }).superRefine((text, ctx) => {
  const parsed = parseMatcher(text);
  if ("problem" in parsed) ctx.addIssue({ code: "custom", message: parsed.problem, input: text });
});
/** host:port of an SMTP server: Alertmanager refuses a smarthost without its port. */
export const smarthost = z.string({ error: "must be host:port such as smtp.example.com:587 (the port is required)" }).refine(
  (s) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?):(\d{1,5})$/.exec(s);
    return m !== null && Number(m[3]) >= 1 && Number(m[3]) <= 65535;
  },
  { message: "must be host:port such as smtp.example.com:587 (the port is required, 1-65535)" },
);

/** A value written into grafana.ini, which cannot quote a backquote. */
export const iniValue = (what: string) =>
  nonEmpty(what).refine((v) => !v.includes("`"), { message: "must not contain a backquote (`): grafana.ini cannot quote it" });

/** An IPv4 or IPv6 CIDR, as a NetworkPolicy's ipBlock takes it. */
function isCidr(text: string): boolean {
  const [address, prefix, ...rest] = text.split("/");
  if (rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  if (isIPv4(address)) return Number(prefix) <= 32;
  return isIPv6(address) && Number(prefix) <= 128;
}
const CIDR_MESSAGE = "must be a CIDR: an address and a prefix length such as 10.0.0.0/8 or fd00::/8";
export const cidrList = z
  .array(z.string({ error: CIDR_MESSAGE }).refine(isCidr, { message: CIDR_MESSAGE }), {
    error: "must be a list of CIDRs such as [10.0.0.0/8]",
  })
  .min(1, "must list at least one CIDR");
export const portList = z
  .array(portNumber, { error: "must be a list of port numbers such as [5432]" })
  .min(1, "must list at least one port");
export const extraEgressList = z.array(
  z.strictObject({
    ports: portList.describe("TCP ports the pods may connect to."),
    cidrs: cidrList.optional().describe("Where; default any address and any pod."),
  }),
  { error: "must be a list of destinations such as [{ ports: [5432], cidrs: [10.0.0.0/8] }]" },
);
