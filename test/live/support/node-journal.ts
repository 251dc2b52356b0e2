/**
 * The k3s node's journal in the live lab: what the rendered journal source (logCollector.journal, on with watch.cluster)
 * reads there in place of the host's journal. One journal file, written by systemd's own tool (systemd-journal-remote,
 * lab/local/journal.ts) and kept growing as the pod log files are: the entries of the units a node runs its Kubernetes
 * with (k3s, and containerd and the kubelet as units of their own, as on a node that runs them so) and the kernel's, at
 * the priorities info, notice, warning and error. No restart of a unit among them: NodeServiceRestartLoop has nothing to
 * fire on (the lab's Loki evaluates no rules).
 */
import * as fs from "fs";
import { JournalEntry, JournalMachine, appendJournal, writeJournal } from "../../../lab/local/journal";

/** How often the node writes a round of entries; how far back the first write goes (the panels read the last 5 minutes). */
export const JOURNAL_ROUND_MS = 5000;
const BACKFILL_ROUNDS = 24;

/** The units the node's entries carry, as the collector labels them (`kernel` for the kernel's). */
export const NODE_JOURNAL_UNITS = ["containerd.service", "k3s.service", "kernel", "kubelet.service"] as const;

/** The priorities the node's entries carry, as syslog's keywords (the collector's `priority`). */
export const NODE_JOURNAL_PRIORITIES = ["error", "info", "notice", "warning"] as const;

/** Text the error lines hold (k3s failing to reach the other node), for the Journal panel's search. */
export const JOURNAL_SEARCH = "connection refused";

const PRIORITY = { error: "3", warning: "4", notice: "5", info: "6" } as const;

/**
 * Round `n`'s entries, a millisecond apart, the last at `at` (never after it: systemd-journal-remote appends to no file
 * whose last entry is in the future): every round k3s and the kubelet, every other containerd, and so on.
 */
export function journalRound(n: number, at: number): JournalEntry[] {
  const fields: Array<Record<string, string>> = [];
  const unit = (name: string, pid: string, priority: keyof typeof PRIORITY, message: string) =>
    fields.push({
      _SYSTEMD_UNIT: name,
      _TRANSPORT: "stdout",
      _PID: pid,
      SYSLOG_IDENTIFIER: name.replace(/\.service$/, ""),
      PRIORITY: PRIORITY[priority],
      MESSAGE: message,
    });
  const kernel = (priority: keyof typeof PRIORITY, message: string) =>
    fields.push({ _TRANSPORT: "kernel", SYSLOG_IDENTIFIER: "kernel", PRIORITY: PRIORITY[priority], MESSAGE: message });

  unit("k3s.service", "812", "info", `level=info msg="Handling backend connection request [k3s-agent-1]" round=${n}`);
  unit("kubelet.service", "1104", "info", `"SyncLoop (probe)" probe="readiness" status="ready" pod="shop-staging/api" round=${n}`);
  if (n % 2 === 0)
    unit("containerd.service", "640", "info", `level=info msg="ImageCreate event name:\\"example.com/shop/api:1.0.0\\"" round=${n}`);
  if (n % 3 === 0) kernel("info", `cni0: port 3(veth${(4096 + n).toString(16)}) entered forwarding state`);
  if (n % 4 === 0) {
    unit("containerd.service", "640", "warning", `level=warning msg="cleaning up after shim disconnected" namespace=k8s.io round=${n}`);
    kernel("notice", `audit: type=1400 apparmor="STATUS" operation="profile_replace" name="cri-containerd.apparmor.d" round=${n}`);
  }
  if (n % 6 === 0)
    unit(
      "k3s.service",
      "812",
      "error",
      `level=error msg="Failed to connect to proxy" error="dial tcp 10.42.1.1:10250: connect: ${JOURNAL_SEARCH}" round=${n}`,
    );
  if (n % 8 === 0)
    unit("kubelet.service", "1104", "warning", `"Nameserver limits exceeded" err="some nameservers have been omitted" round=${n}`);
  return fields.map((f, i) => ({ at: new Date(at - (fields.length - 1 - i)), fields: f }));
}

/**
 * Starts the node's journal in `dir`: the last two minutes' rounds written at once, then a round every JOURNAL_ROUND_MS
 * by `every` (the lab's timer, which stops with it), appended one after the other without blocking the lab's servers.
 * A failed later write is kept in `failure`, for the check that reads the journal to name (a timer has no caller to
 * throw to); the first write throws.
 */
export function startNodeJournal(
  dir: string,
  machine: Omit<JournalMachine, "bootedAt">,
  every: (ms: number, run: () => void) => void,
): { dir: string; failure?: string } {
  fs.mkdirSync(dir, { recursive: true });
  const start = Date.now();
  const node: JournalMachine = { ...machine, bootedAt: start - 3_600_000 };
  const round = (n: number) => journalRound(n, start + (n - BACKFILL_ROUNDS) * JOURNAL_ROUND_MS);
  const backfill = Array.from({ length: BACKFILL_ROUNDS }, (_, n) => round(n)).flat();
  writeJournal(dir, "system", backfill, node);
  const journal: { dir: string; failure?: string } = { dir };
  let n = BACKFILL_ROUNDS;
  let writing: Promise<unknown> = Promise.resolve();
  every(JOURNAL_ROUND_MS, () => {
    const entries = journalRound(n++, Date.now());
    writing = writing
      .then(() => appendJournal(dir, "system", entries, node))
      .catch((err: Error) => {
        journal.failure ??= err.message;
      });
  });
  return journal;
}
