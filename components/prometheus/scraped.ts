/**
 * The entries of the lists Prometheus scrapes: apps[] (with their probe), targets[] and probes[]
 * (which it scrapes through the blackbox exporter). config/schema.ts lists them among the stack's
 * keys through the registry; lists.ts resolves them, and config/checks/names.ts keeps their names apart.
 */
import { z } from "zod";
import {
  PORT_MESSAGE,
  PORT_NAME,
  bool,
  dnsLabel,
  dnsSubdomain,
  duration,
  existingSecretKey,
  labelMap,
  labelName,
  latencySeconds,
  matching,
  metricName,
  pemCertificates,
  latencyInSeconds,
  plausiblePercent,
  plainHttpUrl,
  portName,
  portNumber,
  positiveCount,
  positiveNumber,
  statusCodes,
  urlPath,
  userName,
} from "../kit/fields";

/**
 * Prometheus' limits of one scrape job, each a whole number from 1 (Prometheus reads 0 as no limit):
 * `prometheus.scrapeLimits` (every app's and target's job), `apps[].limits`, `targets[].limits`.
 */
export const scrapeLimitsSchema = z.strictObject({
  sampleLimit: positiveCount("samples")
    .optional()
    .describe("Samples one scrape may return (sample_limit); more fail the scrape: up is 0 and nothing of it is stored."),
  labelLimit: positiveCount("labels")
    .optional()
    .describe("Labels one series may carry, its name and the target labels included (label_limit); more fail the scrape."),
  labelNameLengthLimit: positiveCount("characters")
    .optional()
    .describe("Characters of a label name (label_name_length_limit); a longer one fails the scrape."),
  labelValueLengthLimit: positiveCount("characters")
    .optional()
    .describe("Characters of a label value (label_value_length_limit); a longer one fails the scrape."),
  targetLimit: positiveCount("targets")
    .optional()
    .describe("Targets the job may have after relabelling (target_limit); more drop every target of the job."),
});

/**
 * What one scrape job may take in, each limit set: `prometheus.scrapeLimits` over its defaults
 * (section.ts), an app's or target's `limits` over those. More samples in one scrape, more labels on
 * one series or a longer label name or value fail the whole scrape (`up` 0, nothing of it stored);
 * more targets than `targetLimit` drop every target of the job.
 */
export type ScrapeLimits = Required<z.output<typeof scrapeLimitsSchema>>;

/** `apps[].probe`: the app's health endpoint, probed by the blackbox exporter. */
const appProbeSchema = z.strictObject({
  path: urlPath.optional().describe("Health path; default /health."),
  port: portName.optional().describe("Service port name to probe; default the app's port (Service apps)."),
  targetPort: portNumber.optional().describe("Pod port number to probe instead of port (Service apps)."),
  expectStatus: statusCodes.optional().describe("Status codes that count as up; default any 2xx."),
  interval: duration.optional().describe("Probe interval; default prometheus.scrapeInterval."),
  latencySeconds: latencySeconds.optional(),
});

export const appSchema = z.strictObject({
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
      availability: plausiblePercent("such as 99.9", 50).optional().describe("Availability objective in percent; default 99.9."),
      latencyP95Seconds: latencyInSeconds.optional().describe("p95 latency objective; default 0.5."),
      minRequestsPerSecond: positiveNumber.optional().describe("Alert when throughput falls below."),
    })
    .optional(),
  alerts: z
    .strictObject({
      latencyP95Seconds: latencyInSeconds.optional().describe("p95 latency alert threshold; default 1."),
      errorRatePercent: plausiblePercent("such as 5", 0.1).optional().describe("5xx ratio alert threshold; default 5."),
    })
    .optional(),
  probe: appProbeSchema.optional().describe("Probe the app's health endpoint (blackbox exporter): availability, latency and TLS alerts."),
  otlp: bool
    .optional()
    .describe(
      'The app sends OTLP to the collector (docs/operations.md, "Traces and OTLP"), with OTEL_SERVICE_NAME its name; beside `service`/`url`, or instead (not scraped, the metric names default to OpenTelemetry\'s HTTP server ones).',
    ),
  limits: scrapeLimitsSchema.optional().describe("This app's scrape limits, over prometheus.scrapeLimits."),
});

/** `targets[]`: plain scrape targets, with no HTTP contract (no app rules, no HTTP alerts). */
export const scrapeTargetSchema = z.strictObject({
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
      username: userName().optional().describe("Basic-auth user; the credential is the password."),
      secretRef: existingSecretKey
        .optional()
        .describe("Existing Secret in the stack namespace holding the credential; otherwise secret targetCredentials.<name>."),
    })
    .optional(),
  limits: scrapeLimitsSchema.optional().describe("This target's scrape limits, over prometheus.scrapeLimits."),
});

/** `probes[]`: any URL (or host:port), probed by the blackbox exporter. */
export const probeSchema = z.strictObject({
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
