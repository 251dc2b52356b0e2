/**
 * Grafana Alloy's configuration for the log collector: the streams of this node's pods
 * (a field selector on the node name), labelled by components/log-collector/relabelling.ts,
 * their CRI lines parsed, written in Alloy's own configuration syntax (alloy-syntax.ts).
 */
import { POD_LOGS_DIR, podLogRelabelling } from "./relabelling";
import { AlloyBlock, AlloyExpr, AlloyValue, alloySyntax, ruleBlock } from "./alloy-syntax";
import { eventsBlocks } from "./events";
import { JOURNAL_COMMENT, journalBlocks } from "./journal";
import { AlloyExternalLoki, externalLokiBlocks, externalLokiComment } from "./external-loki";
import { OTLP_PORTS } from "../kit/services";
import { programmingError } from "../kit/problems";
import { validBytes } from "../kit/units";

/** Alloy's HTTP port (/metrics, /-/ready, /-/healthy). */
export const ALLOY_PORT = 12345;

/** Where the pod sees its files. */
export const ALLOY_PATHS = {
  config: "/etc/alloy",
  /** Alloy's data directory (the tailed files' positions among it): a host directory, see the volume. */
  storage: "/var/lib/alloy",
};
export const ALLOY_CONFIG_FILE = "config.alloy";

export interface AlloyConfigArgs {
  /** The push URL of the stack's Loki. */
  lokiPushUrl: string;
  /**
   * Other stacks on the cluster this collector serves (logCollector.shareWith): the pod logs of
   * `namespaces` go to the Loki at `lokiPushUrl` (that stack's), not to this stack's. Default none.
   */
  shares?: AlloyShare[];
  /** The OTLP endpoint for apps (otlpBlocks); none: Alloy only tails pod logs. */
  otlp?: AlloyOtlpArgs;
  /** The namespaces whose pods' logs it collects (the stack's watched ones); none: every namespace's. */
  namespaces?: readonly string[];
  /**
   * Ship the Kubernetes events of the same namespaces (and of the served stacks') as log lines
   * (eventsBlocks): one collector pod of the DaemonSet's Alloy cluster watches each namespace. Default false.
   */
  events?: boolean;
  /** With `events` and `namespaces`: namespaces whose events it reads beyond those (the Nodes' events are in `default`). */
  eventsAlsoIn?: readonly string[];
  /**
   * Read the node's journal (journal.ts): k3s's, containerd's, the kubelet's and the kernel's entries, to this stack's
   * Loki (or its external endpoint), never a served stack's. Default false.
   */
  journal?: boolean;
  /** Further pipelines of their own file (monitors.ts), written after the rest, each with its line of the heading comment. Default none. */
  extra?: { blocks: AlloyBlock[]; comment: string | string[] };
  /**
   * A Loki-compatible endpoint outside the cluster that the stack's own pod logs also go to (externalLokiBlocks);
   * with `only`, the stack runs no Loki and they go there alone. Default none.
   */
  external?: AlloyExternalLoki;
}

/**
 * config.alloy: discover this node's pods, label them, tail their files, parse the
 * runtime's CRI lines, push to Loki with retries.
 */
export function alloyConfig(args: AlloyConfigArgs): string {
  const shares = args.shares ?? [];
  const external = args.external ? externalLokiBlocks(args.external, lokiWrite("external", args.external.url)) : undefined;
  const forwardTo =
    shares.length > 0 ? shareRouting(shares, external?.ownTo).forwardTo : (external?.ownTo ?? [new AlloyExpr("loki.write.loki.receiver")]);
  return alloySyntax(
    [
      {
        name: "logging",
        attributes: [
          ["level", "info"],
          ["format", "logfmt"],
        ],
      },
      {
        name: "discovery.kubernetes",
        label: "pods",
        attributes: [["role", "pod"]],
        blocks: [
          // Only the pods of the namespaces the stack watches, and of those it sends to the other stacks it
          // serves: another stack's logs on the same node are that stack's.
          ...(args.namespaces
            ? [{ name: "namespaces", attributes: [["names", discovered(args.namespaces, shares)]] } satisfies AlloyBlock]
            : []),
          {
            name: "selectors",
            attributes: [
              ["role", "pod"],
              // HOSTNAME is the node's name (the DaemonSet sets it from spec.nodeName).
              ["field", new AlloyExpr(`"spec.nodeName=" + sys.env("HOSTNAME")`)],
            ],
          },
        ],
      },
      {
        name: "discovery.relabel",
        label: "pod_logs",
        attributes: [["targets", new AlloyExpr("discovery.kubernetes.pods.targets")]],
        blocks: podLogRelabelling().map(ruleBlock),
      },
      { name: "local.file_match", label: "pod_logs", attributes: [["path_targets", new AlloyExpr("discovery.relabel.pod_logs.output")]] },
      {
        name: "loki.source.file",
        label: "pod_logs",
        attributes: [
          ["targets", new AlloyExpr("local.file_match.pod_logs.targets")],
          ["forward_to", [new AlloyExpr("loki.process.pod_logs.receiver")]],
        ],
      },
      {
        name: "loki.process",
        label: "pod_logs",
        attributes: [["forward_to", forwardTo]],
        blocks: [
          // containerd (and k3s) write "<time> <stream> <P|F> <line>": the line, its own
          // timestamp, the `stream` label (stdout/stderr), partial lines joined back.
          { name: "stage.cri" },
          // The file name (<restart>.log) would start a new stream at every container restart.
          { name: "stage.label_drop", attributes: [["values", ["filename"]]] },
        ],
      },
      ...(args.events
        ? eventsBlocks(args.namespaces ? discovered([...args.namespaces, ...(args.eventsAlsoIn ?? [])], shares) : undefined, forwardTo)
        : []),
      ...(args.journal ? journalBlocks(external?.ownTo ?? [new AlloyExpr("loki.write.loki.receiver")]) : []),
      ...(args.external?.only ? [] : [lokiWrite("loki", args.lokiPushUrl)]),
      ...(external?.blocks ?? []),
      ...(shares.length > 0 ? shareRouting(shares, external?.ownTo).blocks : []),
      ...(args.otlp ? otlpBlocks(args.otlp) : []),
      ...(args.extra?.blocks ?? []),
    ],
    [
      "The monitoring stack's log collector (components/log-collector/alloy.ts): the pod logs of this node,",
      `from ${POD_LOGS_DIR}, labelled namespace, pod, container, app, node, job and stream, pushed to Loki.`,
      ...(args.events
        ? [
            "Kubernetes events of the same namespaces, labelled namespace, kind, name, reason, type and job, each namespace",
            "watched by one collector of the cluster (clustering), not by one per node.",
          ]
        : []),
      ...shares.map(
        (share) =>
          `The ${args.events ? "pod logs and events" : "pod logs"} of ${share.namespaces.join(", ")} go to the Loki of the stack in ${share.stackNamespace} instead.`,
      ),
      ...(args.journal ? [JOURNAL_COMMENT] : []),
      ...(args.external ? [externalLokiComment(args.external)] : []),
      ...(args.otlp ? ["Apps' OTLP: traces to the traces backend, metrics to Prometheus, logs to Loki, with the same labels."] : []),
      ...(args.extra ? [args.extra.comment].flat() : []),
    ],
  );
}

/** The namespaces whose pods the collector discovers: the watched ones and the served stacks', each once, sorted. */
function discovered(watched: readonly string[], shares: readonly AlloyShare[]): string[] {
  return [...new Set([...watched, ...shares.flatMap((share) => share.namespaces)])].sort();
}

/** Another stack on the cluster whose namespaces' pod logs this collector sends to that stack's Loki. */
export interface AlloyShare {
  /** The other stack's namespace: names its writer (`loki.write "to_<namespace>"`, in Alloy's metrics' component_id). */
  stackNamespace: string;
  /** The push URL of that stack's Loki. */
  lokiPushUrl: string;
  /** The namespaces whose pods' logs go there. */
  namespaces: string[];
}

/** A namespace list as a relabelling regex: Kubernetes names are lower-case letters, digits and '-', nothing to escape. */
function namespacesRegex(namespaces: readonly string[]): string {
  for (const ns of namespaces) if (!/^[a-z0-9-]+$/.test(ns)) programmingError(`not a namespace name: ${JSON.stringify(ns)}`);
  return [...namespaces].sort().join("|");
}

/**
 * The writer of a Loki: it keeps retrying for about 3.5 minutes (0.5 s doubling to 30 s, 12 tries:
 * Loki restarting, a node drain) before it drops a batch.
 */
function lokiWrite(label: string, url: string): AlloyBlock {
  return {
    name: "loki.write",
    label,
    blocks: [
      {
        name: "endpoint",
        attributes: [
          ["url", url],
          ["min_backoff_period", "500ms"],
          ["max_backoff_period", "30s"],
          ["max_backoff_retries", 12],
        ],
      },
    ],
  };
}

/**
 * The parsed pod logs split by namespace: each other stack's namespaces to its Loki (a
 * `loki.relabel` keeping them, then its writer), the rest to this stack's (a `loki.relabel`
 * dropping them all). One tail of each file, whatever the number of stacks.
 */
function shareRouting(shares: readonly AlloyShare[], ownTo?: AlloyExpr[]): { forwardTo: AlloyExpr[]; blocks: AlloyBlock[] } {
  const labelOf = (share: AlloyShare) => `to_${share.stackNamespace.replace(/-/g, "_")}`;
  const relabel = (label: string, namespaces: readonly string[], action: "keep" | "drop", to: string | AlloyExpr[]): AlloyBlock => ({
    name: "loki.relabel",
    label,
    attributes: [["forward_to", typeof to === "string" ? [new AlloyExpr(`loki.write.${to}.receiver`)] : to]],
    blocks: [
      {
        name: "rule",
        attributes: [
          ["source_labels", ["namespace"]],
          ["regex", namespacesRegex(namespaces)],
          ["action", action],
        ],
      },
    ],
  });
  return {
    forwardTo: [
      new AlloyExpr("loki.relabel.own.receiver"),
      ...shares.map((share) => new AlloyExpr(`loki.relabel.${labelOf(share)}.receiver`)),
    ],
    blocks: [
      relabel(
        "own",
        shares.flatMap((share) => share.namespaces),
        "drop",
        ownTo ?? "loki",
      ),
      ...shares.flatMap((share) => [
        relabel(labelOf(share), share.namespaces, "keep", labelOf(share)),
        lokiWrite(labelOf(share), share.lokiPushUrl),
      ]),
    ],
  };
}

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

/** The labels a scraped app's series and a pod's log streams carry, as resource attributes of an OTLP app. */
const STACK_LABEL_STATEMENTS = [
  // namespace and pod from the pod the connection came from (k8sattributes), as on scraped series.
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
 * An OTLP endpoint for apps on every node (gRPC and HTTP): the pod that sent is looked up by its
 * address (only this node's pods, as for the logs), its namespace, pod and app become resource
 * attributes, batched, then traces go to the traces backend, metrics to Prometheus' OTLP receiver
 * and logs to Loki's OTLP ingestion.
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
      blocks: [signals(next("otelcol.processor.k8sattributes.apps"))],
    },
    {
      name: "otelcol.processor.k8sattributes",
      label: "apps",
      blocks: [
        { name: "extract", attributes: [["metadata", ["k8s.namespace.name", "k8s.pod.name", "k8s.node.name"]]] },
        { name: "filter", attributes: [["node", new AlloyExpr(`sys.env("HOSTNAME")`)]] },
        // The pod is the one whose address opened the connection (apps send to their node's Alloy).
        { name: "pod_association", blocks: [{ name: "source", attributes: [["from", "connection"]] }] },
        signals(next("otelcol.processor.transform.apps")),
      ],
    },
    {
      name: "otelcol.processor.transform",
      label: "apps",
      attributes: [["error_mode", "ignore"]],
      blocks: [
        ...(traces
          ? [
              {
                name: "trace_statements",
                attributes: [
                  ["context", "resource"],
                  ["statements", STACK_LABEL_STATEMENTS],
                ],
              } as AlloyBlock,
            ]
          : []),
        {
          name: "metric_statements",
          attributes: [
            ["context", "resource"],
            ["statements", STACK_LABEL_STATEMENTS],
          ],
        },
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
