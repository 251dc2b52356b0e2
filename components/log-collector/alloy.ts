/**
 * Grafana Alloy's configuration for the log collector: the streams of this node's pods
 * (a field selector on the node name), labelled by components/log-collector/relabelling.ts,
 * their CRI lines parsed, written in Alloy's own configuration syntax (alloy-syntax.ts).
 */
import { POD_LOGS_DIR, podLogRelabelling } from "./relabelling";
import { AlloyBlock, AlloyExpr, alloySyntax, ruleBlock } from "./alloy-syntax";
import { AlloyOtlpArgs, otlpBlocks } from "./otlp";
import { eventsBlocks } from "./events";
import { JOURNAL_COMMENT, journalBlocks } from "./journal";
import { AlloyExternalLoki, externalLokiBlocks, externalLokiComment } from "./external-loki";
import { programmingError } from "../kit/problems";

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
/**
 * Alloy's arguments: its config file, its HTTP address, its state directory, and no more of its HTTP server than
 * the stack uses (the DaemonSet's container; the lab runs the same with local paths).
 * - No usage report: Alloy reports anonymous usage to Grafana Labs unless told not to, and a monitoring stack
 *   phones nobody.
 * - No `/debug/pprof` and no `/-/support`: a collector that scrapes the operator's monitors sends a GET
 *   wherever a tenant's monitor points it, its own loopback and its peers' port 12345 included (their
 *   NetworkPolicy admits the collector's pods, for the cluster's gossip), with the monitor's `params`. Alloy
 *   1.19 serves both by GET: a CPU profile or an execution trace of as many seconds as asked, and a support
 *   bundle that profiles it and holds its config. The stack reads neither; Prometheus scrapes `/metrics`.
 */
export function alloyRunArgs(configFile: string, listenAddress: string, storagePath: string): string[] {
  return [
    "run",
    configFile,
    `--server.http.listen-addr=${listenAddress}`,
    `--storage.path=${storagePath}`,
    "--disable-reporting",
    "--server.http.enable-pprof=false",
    "--server.http.disable-support-bundle",
  ];
}

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

export {
  ALLOY_NON_HEAP_MIB,
  CLIENT_CLAIMS_STATEMENTS,
  DATAPOINT_CLAIMS_STATEMENTS,
  UNKNOWN_POD_CONDITION,
  otlpBlocks,
  otlpJobStatements,
  otlpMemoryLimiter,
} from "./otlp";
export type { AlloyOtlpArgs, OtlpMemoryLimiter } from "./otlp";
