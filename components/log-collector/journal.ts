/**
 * The node's own logs in the log collector (logCollector.journal), apart from alloy.ts so that the other additions to
 * its pipeline merge around it: Alloy's loki.source.journal reads the node's systemd journal (the host's
 * /var/log/journal and /run/log/journal, mounted read-only) and keeps the entries of the units a k3s node runs its
 * Kubernetes with, and the kernel's, labelled `unit`, `node` and `priority`.
 */
import { AlloyBlock, AlloyExpr, ruleBlock } from "./alloy-syntax";
import type { RelabelRule } from "./relabelling";

/** The job label of the journal's streams (a pod's streams have `<namespace>/<app>`, the events `kubernetes-events`). */
export const JOURNAL_JOB = "node-journal";

/**
 * The units whose entries are kept: k3s (server, or agent on a worker), and, on a node that runs them as units of their
 * own, containerd and the kubelet (k3s runs both inside its own process: their lines are k3s.service's). The kernel's
 * messages carry no unit: they are kept as `unit="kernel"`.
 */
export const JOURNAL_UNITS = ["k3s.service", "k3s-agent.service", "containerd.service", "kubelet.service"] as const;

/** The `unit` of the kernel's messages (journal transport `kernel`, no systemd unit). */
export const KERNEL_UNIT = "kernel";

/** The labels a journal stream carries besides `job`. */
export const JOURNAL_LABELS = ["unit", "node", "priority"] as const;

/** Where the pod sees the host's journal and its machine ID (mounted read-only; logCollector.journal). */
export const JOURNAL_HOST_PATHS = {
  persistent: "/var/log/journal",
  volatile: "/run/log/journal",
  machineId: "/etc/machine-id",
} as const;

/**
 * How far back the journal is read when the collector has no position yet (its first start on a node): Alloy's own
 * default, written out. Later starts resume from the position kept in the collector's state directory.
 */
export const JOURNAL_MAX_AGE = "7h";

/**
 * The journal's fields as labels (loki.source.journal's `__journal_<field>`, lower-cased), then kept or dropped:
 * - `unit`: the unit that wrote the entry (`_SYSTEMD_UNIT`); for systemd's own messages about a unit (PID 1:
 *   "Started", "Main process exited", "Scheduled restart job"), the unit they are about (`UNIT`), as `journalctl -u`
 *   shows them; for the kernel's, `kernel`. Entries of any other unit are dropped.
 * - `priority`: syslog's keyword of the entry's priority (emerg … debug).
 * - `job`: JOURNAL_JOB, in place of the source's own component name.
 * The node comes from the pod's HOSTNAME (its node's name, as on the pod logs), in the source's `labels`.
 */
export function journalRelabelling(): RelabelRule[] {
  const escaped = [...JOURNAL_UNITS, KERNEL_UNIT].map((u) => u.replace(/[.]/g, "\\.")).join("|");
  return [
    { source_labels: ["__journal__systemd_unit"], target_label: "unit" },
    { source_labels: ["__journal__pid", "__journal_unit"], separator: ";", regex: "1;(.+)", target_label: "unit", replacement: "$1" },
    { source_labels: ["__journal__transport"], regex: "kernel", target_label: "unit", replacement: KERNEL_UNIT },
    { source_labels: ["unit"], regex: escaped, action: "keep" },
    { source_labels: ["__journal_priority_keyword"], target_label: "priority" },
    { target_label: "job", replacement: JOURNAL_JOB },
  ];
}

/**
 * The journal's blocks: the rules (a `loki.relabel` that receives nothing: loki.source.journal takes its rules from
 * it), and the source, which sends to `forwardTo` (the stack's own Loki, or its external endpoint; never a served
 * stack's: the node is this stack's).
 */
export function journalBlocks(forwardTo: AlloyExpr[]): AlloyBlock[] {
  return [
    {
      name: "loki.relabel",
      label: "journal",
      attributes: [["forward_to", []]],
      blocks: journalRelabelling().map(ruleBlock),
    },
    {
      name: "loki.source.journal",
      label: "node",
      attributes: [
        ["max_age", JOURNAL_MAX_AGE],
        ["relabel_rules", new AlloyExpr("loki.relabel.journal.rules")],
        ["labels", new AlloyExpr(`{node = sys.env("HOSTNAME")}`)],
        ["forward_to", forwardTo],
      ],
    },
  ];
}

/** The line of config.alloy's heading comment that says what the journal blocks do. */
export const JOURNAL_COMMENT =
  `The node's journal: the entries of ${JOURNAL_UNITS.join(", ")} and the kernel's, ` +
  `labelled unit, node, priority and job="${JOURNAL_JOB}".`;

/**
 * The collector's mounts of the host's journal, read-only: the persistent and the volatile journal (sd_journal_open
 * reads both), and the machine ID, by which it finds this host's files among them (without it, the source runs and
 * reads nothing). The pod runs as root already (the pod logs, index.ts): the journal's files (root, mode 0640) need
 * no capability.
 */
export function journalMounts(): Array<{ name: string; mountPath: string; readOnly: true }> {
  return [
    { name: "journal", mountPath: JOURNAL_HOST_PATHS.persistent, readOnly: true },
    { name: "journal-runtime", mountPath: JOURNAL_HOST_PATHS.volatile, readOnly: true },
    { name: "machine-id", mountPath: JOURNAL_HOST_PATHS.machineId, readOnly: true },
  ];
}

/**
 * The host paths of journalMounts. A node keeps its journal in one of the two directories (persistent where
 * /var/log/journal exists, as on Debian 12 and Ubuntu; in /run otherwise): the other may be missing, and is then
 * created empty (DirectoryOrCreate) rather than keeping the pod from starting. The machine ID exists on every systemd
 * host (File: a node without one is refused at the pod's start, naming the path).
 */
export function journalVolumes(): Array<{ name: string; hostPath: { path: string; type: string } }> {
  return [
    { name: "journal", hostPath: { path: JOURNAL_HOST_PATHS.persistent, type: "DirectoryOrCreate" } },
    { name: "journal-runtime", hostPath: { path: JOURNAL_HOST_PATHS.volatile, type: "DirectoryOrCreate" } },
    { name: "machine-id", hostPath: { path: JOURNAL_HOST_PATHS.machineId, type: "File" } },
  ];
}
