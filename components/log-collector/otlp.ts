/**
 * The apps' OTLP endpoint in the collector's config.alloy (alloy.ts writes it after the log pipeline):
 * the receiver, the memory limiter, the deletion of what a sender claims of its pod, the pod lookup, the
 * drop of what no pod sent, the stack's labels, the batches and the exporters, and the span metrics.
 */
import { AlloyBlock, AlloyExpr, AlloyValue } from "./alloy-syntax";
import { OTLP_PORTS } from "../kit/services";
import { validBytes } from "../kit/units";
import { STACK_JOBS, stackJobsRegex } from "../kit/stack-jobs";

/** Where the OTLP pipeline sends each signal. */
export interface AlloyOtlpArgs {
  /** host:port of the traces backend's OTLP gRPC receiver; none: spans are refused (no traces backend). */
  tracesEndpoint?: string;
  /** Prometheus' OTLP base URL (`…/api/v1/otlp`; the exporter adds /v1/metrics). */
  prometheusOtlpUrl: string;
  /** Loki's OTLP base URL (`…/otlp`; the exporter adds /v1/logs). */
  lokiOtlpUrl: string;
  /**
   * How often the span metrics go to Prometheus: the stack's scrape interval, so that a panel's
   * rate window (`$__rate_interval`, four scrape intervals at least) always holds several of them.
   */
  spanMetricsInterval: string;
  /** What the apps' OTLP may take of Alloy's Go heap (otlpMemoryLimiter): refused beyond it, before it reaches any other component. */
  memoryLimiter: OtlpMemoryLimiter;
  /**
   * The apps that send OTLP (apps[] with otlp), by the namespace they send from and their name: one named like a job of
   * the stack's (config allows it when that component is off) keeps its job from its own namespace (otlpJobStatements).
   * Default none.
   */
  apps?: ReadonlyArray<{ namespace: string; name: string }>;
}

/** otelcol.processor.memory_limiter's bounds, in whole MiB. */
export interface OtlpMemoryLimiter {
  /** `limit`: heap in use above which the receiver refuses data (apps get a retryable error). */
  limitMiB: number;
  /** `spike_limit`: how far under `limit` the collector starts pushing back (the soft limit is limit - spike_limit). */
  spikeLimitMiB: number;
}

/**
 * What Alloy's memory outside its Go heap takes, measured by npm run bench (2026-11-22, args.ts):
 * 224 MiB resident of which 42 MiB heap, the rest the 400 MB binary's mapped pages and the runtime.
 * The memory limiter compares the Go heap in use (runtime.MemStats.Alloc), not the container's memory.
 */
export const ALLOY_NON_HEAP_MIB = 192;

/** The share of the container's memory limit the heap and the rest may reach: the last fifth is the margin before an OOM kill. */
const MEMORY_LIMITER_SHARE = 0.8;

/**
 * The OTLP path's memory limiter for a container with this memory limit: 80 % of it, less what
 * Alloy takes outside its heap (ALLOY_NON_HEAP_MIB), at least 32 MiB; the spike limit a fifth of
 * that (Alloy's own default ratio). Staging's 464Mi gives 179 MiB of heap for the OTLP data and the
 * log pipeline together, production's 688Mi 358 MiB.
 */
export function otlpMemoryLimiter(memoryLimit: string): OtlpMemoryLimiter {
  const limitMiB = Math.max(32, Math.floor((validBytes(memoryLimit) / 2 ** 20) * MEMORY_LIMITER_SHARE) - ALLOY_NON_HEAP_MIB);
  return { limitMiB, spikeLimitMiB: Math.floor(limitMiB / 5) };
}

/**
 * What a sender may not claim of its resource, deleted before the pod lookup: every `k8s.*` attribute (the
 * k8sattributes processor only fills those that are missing or empty, so a client's `k8s.namespace.name`
 * would win over its pod's) and the labels the stack sets from the lookup (a `node` the lookup leaves unset
 * would stay the client's). Upstream: processor/k8sattributesprocessor's setResourceAttribute.
 */
export const CLIENT_CLAIMS_STATEMENTS = [
  // [.]: a literal dot with no escape for Alloy's and OTTL's strings to read.
  `delete_matching_keys(attributes, "^k8s[.]")`,
  ...["namespace", "pod", "app", "node", "job"].map((key) => `delete_key(attributes, ${JSON.stringify(key)})`),
];

/**
 * A data point's own attributes that would stand beside or in place of the stack's labels: Prometheus' OTLP
 * receiver makes a data point's `job` and `instance` the series' when the resource gives no service.name or
 * service.instance.id, and joins a promoted resource attribute and a data point's of the same name with ';'.
 */
export const DATAPOINT_CLAIMS_STATEMENTS = ["job", "instance", "namespace", "pod", "app"].map(
  (key) => `delete_key(attributes, ${JSON.stringify(key)})`,
);

/**
 * The resources whose pod the lookup did not find (a sender that is no pod of this node, or that the
 * collector cannot see): dropped, rather than kept with no namespace or one the sender claims.
 */
export const UNKNOWN_POD_CONDITION = `resource.attributes["k8s.namespace.name"] == nil or resource.attributes["k8s.pod.name"] == nil`;

/**
 * Prometheus makes `job` of service.namespace and service.name (`<service.namespace>/<service.name>`, or
 * service.name alone). A service named like a job of the stack's own (components/kit/stack-jobs.ts) with no
 * service.namespace would give its series that job, counted with the stack's own by the built-in rules: it
 * gets its pod's namespace as service.namespace, so its job is `<namespace>/<name>`, as a monitor's is. An app
 * of apps[] with otlp named so (its component off) keeps its name from its own namespace.
 */
export function otlpJobStatements(apps: ReadonlyArray<{ namespace: string; name: string }> = []): string[] {
  const own = apps
    .filter((app) => STACK_JOBS.includes(app.name))
    .map(
      (app) =>
        ` and not (attributes["namespace"] == ${JSON.stringify(app.namespace)} and attributes["service.name"] == ${JSON.stringify(app.name)})`,
    )
    .join("");
  return [
    `set(attributes["service.namespace"], attributes["namespace"]) where attributes["service.namespace"] == nil and IsMatch(attributes["service.name"], "^(${stackJobsRegex()})$")${own}`,
  ];
}

/** The labels a scraped app's series and a pod's log streams carry, as resource attributes of an OTLP app. */
const STACK_LABEL_STATEMENTS = [
  // namespace and pod from the pod the connection came from (k8sattributes; the sender's own claims deleted before it), as on scraped series.
  `set(attributes["namespace"], attributes["k8s.namespace.name"])`,
  `set(attributes["pod"], attributes["k8s.pod.name"])`,
  // app is the service's name, which an app in apps[] sets to its name (OTEL_SERVICE_NAME): Prometheus makes it the job.
  `set(attributes["app"], attributes["service.name"])`,
  // A scraped app's instance is its pod; an SDK that sets no instance id gets the same.
  `set(attributes["service.instance.id"], attributes["k8s.pod.name"]) where attributes["service.instance.id"] == nil`,
];

/** The OTLP exporters' retries: about the pod logs' (0.5 s doubling to 30 s, for 3.5 minutes), then the batch is dropped. */
const RETRY: AlloyBlock = {
  name: "retry_on_failure",
  attributes: [
    ["initial_interval", "500ms"],
    ["max_interval", "30s"],
    ["max_elapsed_time", "3m30s"],
  ],
};

/** An OTLP exporter to an in-cluster endpoint, plain HTTP or gRPC without TLS (`insecure`: gRPC's default is TLS), retried as RETRY says. */
function exporter(name: string, label: string, endpoint: string, insecure = false): AlloyBlock {
  const client: AlloyBlock = { name: "client", attributes: [["endpoint", endpoint]] };
  if (insecure) client.blocks = [{ name: "tls", attributes: [["insecure", true]] }];
  return { name, label, blocks: [client, RETRY] };
}

const input = (component: string) => new AlloyExpr(`${component}.input`);

/** A transform's statements of one signal (`trace_statements`, …) on the resource. */
const resourceStatements = (block: string, statements: string[]): AlloyBlock => ({
  name: block,
  attributes: [
    ["context", "resource"],
    ["statements", statements],
  ],
});

/**
 * Request rate, errors and duration of every service from its spans (the application dashboards'
 * trace panels), to Prometheus beside the apps' own metrics: traces_span_metrics_calls_total and
 * traces_span_metrics_duration_seconds_* by span name, kind and status code, with the span's
 * resource attributes (namespace, pod, app; job from service.name), the others dropped
 * (SPAN_METRICS_RESOURCE). Flushed every `flushInterval` (the stack's scrape interval: a scraped
 * app's series get a sample as often); a series not updated for 5 minutes is dropped, so a span
 * name that stops does not linger. Each duration bucket keeps exemplars (trace ids) that Grafana
 * links to the trace.
 */
const spanMetrics = (flushInterval: string): AlloyBlock => ({
  name: "otelcol.connector.spanmetrics",
  label: "apps",
  attributes: [
    ["metrics_flush_interval", flushInterval],
    ["metrics_expiration", "5m"],
  ],
  blocks: [
    {
      name: "histogram",
      attributes: [["unit", "s"]],
      blocks: [
        {
          name: "explicit",
          attributes: [["buckets", ["5ms", "10ms", "25ms", "50ms", "100ms", "250ms", "500ms", "1s", "2.5s", "5s", "10s"]]],
        },
      ],
    },
    { name: "exemplars", attributes: [["enabled", true]] },
    { name: "output", attributes: [["metrics", [input("otelcol.processor.transform.span_metrics")]]] },
  ],
});

/**
 * The span metrics' resource keeps only the attributes that make job, instance and the stack's
 * labels. Prometheus writes one target_info per resource: were it the app's own resource (SDK,
 * host, process attributes), the span metrics' and the app's pushes would write the same
 * target_info series at their own times, and one arriving after a later sample is refused as out
 * of order, with the whole request (the collector drops a refused batch).
 */
const SPAN_METRICS_RESOURCE: AlloyBlock = {
  name: "otelcol.processor.transform",
  label: "span_metrics",
  attributes: [["error_mode", "ignore"]],
  blocks: [
    {
      name: "metric_statements",
      attributes: [
        ["context", "resource"],
        ["statements", [`keep_keys(attributes, ["service.name", "service.namespace", "service.instance.id", "namespace", "pod", "app"])`]],
      ],
    },
    { name: "output", attributes: [["metrics", [input("otelcol.exporter.otlphttp.prometheus")]]] },
  ],
};

/**
 * An OTLP endpoint for apps on every node (gRPC and HTTP): what the sender claims of its pod is
 * deleted (CLIENT_CLAIMS_STATEMENTS), the pod that sent is looked up by its address (only this
 * node's pods, as for the logs), data whose pod is not found is dropped (UNKNOWN_POD_CONDITION), its
 * namespace, pod and app become resource attributes, a service named like a job of the stack's gets
 * its namespace (otlpJobStatements), batched, then traces go to the traces backend, metrics to
 * Prometheus' OTLP receiver and logs to Loki's OTLP ingestion. Every signal passes each step.
 */
export function otlpBlocks(args: AlloyOtlpArgs): AlloyBlock[] {
  const signals = (to: { traces?: AlloyExpr | AlloyExpr[]; metrics: AlloyExpr; logs: AlloyExpr }): AlloyBlock => ({
    name: "output",
    attributes: [
      ["metrics", [to.metrics]],
      ["logs", [to.logs]],
      ...(to.traces ? ([["traces", [to.traces].flat()]] as Array<[string, AlloyValue]>) : []),
    ],
  });
  const traces = args.tracesEndpoint !== undefined;
  const jobStatements = otlpJobStatements(args.apps);
  const next = (component: string) => ({
    traces: traces ? input(component) : undefined,
    metrics: input(component),
    logs: input(component),
  });
  return [
    {
      name: "otelcol.receiver.otlp",
      label: "apps",
      blocks: [
        { name: "grpc", attributes: [["endpoint", `0.0.0.0:${OTLP_PORTS.grpc}`]] },
        { name: "http", attributes: [["endpoint", `0.0.0.0:${OTLP_PORTS.http}`]] },
        signals(next("otelcol.processor.memory_limiter.apps")),
      ],
    },
    // First after the receiver: above its limit, the receiver refuses what apps send (they retry)
    // instead of the collector growing into its container's memory limit.
    {
      name: "otelcol.processor.memory_limiter",
      label: "apps",
      attributes: [
        ["check_interval", "1s"],
        ["limit", `${args.memoryLimiter.limitMiB}MiB`],
        ["spike_limit", `${args.memoryLimiter.spikeLimitMiB}MiB`],
      ],
      blocks: [signals(next("otelcol.processor.transform.client_claims"))],
    },
    // What the sender says of its pod is deleted before the lookup fills it in from the connection.
    {
      name: "otelcol.processor.transform",
      label: "client_claims",
      attributes: [["error_mode", "ignore"]],
      blocks: [
        ...(traces ? [resourceStatements("trace_statements", CLIENT_CLAIMS_STATEMENTS)] : []),
        resourceStatements("metric_statements", CLIENT_CLAIMS_STATEMENTS),
        {
          name: "metric_statements",
          attributes: [
            ["context", "datapoint"],
            ["statements", DATAPOINT_CLAIMS_STATEMENTS],
          ],
        },
        resourceStatements("log_statements", CLIENT_CLAIMS_STATEMENTS),
        signals(next("otelcol.processor.k8sattributes.apps")),
      ],
    },
    {
      name: "otelcol.processor.k8sattributes",
      label: "apps",
      blocks: [
        { name: "extract", attributes: [["metadata", ["k8s.namespace.name", "k8s.pod.name", "k8s.node.name"]]] },
        { name: "filter", attributes: [["node", new AlloyExpr(`sys.env("HOSTNAME")`)]] },
        // The pod is the one whose address opened the connection (apps send to their node's Alloy).
        { name: "pod_association", blocks: [{ name: "source", attributes: [["from", "connection"]] }] },
        signals(next("otelcol.processor.filter.unknown_pods")),
      ],
    },
    // A condition that cannot be evaluated refuses the request (propagate) rather than let it through.
    {
      name: "otelcol.processor.filter",
      label: "unknown_pods",
      attributes: [["error_mode", "propagate"]],
      blocks: [
        ...(traces ? [{ name: "traces", attributes: [["span", [UNKNOWN_POD_CONDITION]]] } as AlloyBlock] : []),
        { name: "metrics", attributes: [["metric", [UNKNOWN_POD_CONDITION]]] },
        { name: "logs", attributes: [["log_record", [UNKNOWN_POD_CONDITION]]] },
        signals(next("otelcol.processor.transform.apps")),
      ],
    },
    {
      name: "otelcol.processor.transform",
      label: "apps",
      attributes: [["error_mode", "ignore"]],
      blocks: [
        ...(traces ? [resourceStatements("trace_statements", [...STACK_LABEL_STATEMENTS, ...jobStatements])] : []),
        resourceStatements("metric_statements", [...STACK_LABEL_STATEMENTS, ...jobStatements]),
        {
          name: "log_statements",
          attributes: [
            ["context", "resource"],
            [
              "statements",
              [
                ...STACK_LABEL_STATEMENTS,
                // A pod's log streams carry node and job (namespace/app): the same for its OTLP logs.
                `set(attributes["node"], attributes["k8s.node.name"])`,
                `set(attributes["job"], Concat([attributes["namespace"], attributes["app"]], "/"))`,
              ],
            ],
          ],
        },
        signals(next("otelcol.processor.batch.apps")),
      ],
    },
    {
      name: "otelcol.processor.batch",
      label: "apps",
      blocks: [
        signals({
          traces: traces ? [input("otelcol.exporter.otlp.traces"), input("otelcol.connector.spanmetrics.apps")] : undefined,
          metrics: input("otelcol.exporter.otlphttp.prometheus"),
          logs: input("otelcol.exporter.otlphttp.loki"),
        }),
      ],
    },
    ...(traces
      ? [
          spanMetrics(args.spanMetricsInterval),
          SPAN_METRICS_RESOURCE,
          exporter("otelcol.exporter.otlp", "traces", args.tracesEndpoint as string, true),
        ]
      : []),
    exporter("otelcol.exporter.otlphttp", "prometheus", args.prometheusOtlpUrl),
    exporter("otelcol.exporter.otlphttp", "loki", args.lokiOtlpUrl),
  ];
}
