/**
 * A node's journal for the tests that run the real Alloy on it: journal files written by systemd's own tool
 * (systemd-journal-remote, from the journal's export format), and the rendered journal source made to read them.
 */
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** One journal entry: its fields as journald records them (MESSAGE, PRIORITY, _SYSTEMD_UNIT, _TRANSPORT, _PID, UNIT …). */
export interface JournalEntry {
  at: Date;
  fields: Readonly<Record<string, string>>;
}

/**
 * The machine a journal's entries come from: its boot, machine ID and host name. With `bootedAt` (ms since the epoch),
 * an entry's monotonic time is the time since then, so that entries written later to the same file go on from the
 * earlier ones (systemd-journal-remote refuses an entry whose monotonic time goes back on the same boot, and starts a
 * new file); without, the entries of one write count from 1 s.
 */
export interface JournalMachine {
  bootId: string;
  machineId: string;
  hostname: string;
  bootedAt?: number;
}

/** Where Debian and Ubuntu install systemd-journal-remote (it is not on PATH: a daemon's binary). */
const JOURNAL_REMOTE = ["/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"];

/** systemd-journal-remote, or an error naming the package that installs it. */
export function journalRemoteBinary(): string {
  const found = JOURNAL_REMOTE.find((f) => fs.existsSync(f));
  if (!found) throw new Error(`systemd-journal-remote is missing (${JOURNAL_REMOTE.join(" or ")}): apt-get install systemd-journal-remote`);
  return found;
}

/**
 * The entries in the journal's export format (systemd's "Journal Export Format"): each field a `NAME=value` line, an
 * entry ended by an empty line; the time of each its __REALTIME_TIMESTAMP (µs), one boot, one machine.
 */
export function exportFormat(entries: readonly JournalEntry[], machine: JournalMachine): string {
  return entries
    .map((e, i) => {
      const since = machine.bootedAt === undefined ? (i + 1) * 1000 : e.at.getTime() - machine.bootedAt;
      if (since <= 0) throw new Error(`a journal entry at ${e.at.toISOString()} before the machine's boot`);
      const fields: Record<string, string> = {
        __REALTIME_TIMESTAMP: String(e.at.getTime() * 1000),
        __MONOTONIC_TIMESTAMP: String(since * 1000),
        _BOOT_ID: machine.bootId,
        _MACHINE_ID: machine.machineId,
        _HOSTNAME: machine.hostname,
        ...e.fields,
      };
      for (const [k, v] of Object.entries(fields)) if (v.includes("\n")) throw new Error(`${k}: a multi-line value needs the binary form`);
      return `${Object.entries(fields)
        .map(([k, v]) => `${k}=${v}`)
        .join("\n")}\n\n`;
    })
    .join("");
}

/**
 * Writes `entries` to `<dir>/<name>.journal` with systemd-journal-remote (export format on its stdin); returns the file.
 * An existing file is appended to, as journald appends to its own: the entries then follow its last ones in time
 * (a machine with `bootedAt`), and that last one is not in the future. Otherwise the tool puts the file aside and starts
 * another (a new file each write, 8 MiB each): refused here, naming why.
 */
export function writeJournal(dir: string, name: string, entries: readonly JournalEntry[], machine: JournalMachine): string {
  const file = path.join(dir, `${name}.journal`);
  const result = spawnSync(journalRemoteBinary(), ["-o", file, "-"], { input: exportFormat(entries, machine), encoding: "utf8" });
  return written(file, result.status, result.stderr);
}

/**
 * writeJournal without blocking the process (the tool takes 0.1–0.5 s, most of it syncing the file as it closes it): for
 * a journal written while servers of the same process answer. Bounded: the tool is stopped after 30 s.
 */
export function appendJournal(dir: string, name: string, entries: readonly JournalEntry[], machine: JournalMachine): Promise<string> {
  const file = path.join(dir, `${name}.journal`);
  const input = exportFormat(entries, machine);
  return new Promise((resolve, reject) => {
    const child = execFile(journalRemoteBinary(), ["-o", file, "-"], { encoding: "utf8", timeout: 30_000 }, (err, _stdout, stderr) => {
      try {
        resolve(written(file, err ? (typeof err.code === "number" ? err.code : null) : 0, stderr));
      } catch (failed) {
        reject(failed as Error);
      }
    });
    child.stdin?.end(input);
  });
}

/** The journal file systemd-journal-remote wrote, or why it did not append to it. */
function written(file: string, status: number | null, stderr: string): string {
  if (status !== 0) throw new Error(`systemd-journal-remote failed (${status ?? "killed"}): ${stderr}`);
  if (/renaming and replacing/.test(stderr))
    throw new Error(
      `systemd-journal-remote started a new ${file}: its last entry is in the future, or these go back in time (${stderr.trim()})`,
    );
  return file;
}

/** The journal's blocks of config.alloy (components/log-collector/journal.ts): its rules and its source. */
const JOURNAL_RULES = /^loki\.relabel "journal" \{\n[\s\S]*?\n\}\n\n/m;
const JOURNAL_SOURCE = /^loki\.source\.journal "node" \{\n/m;
const JOURNAL_SOURCE_BLOCK = /^loki\.source\.journal "node" \{\n[\s\S]*?\n\}\n\n/m;

/**
 * The rendered journal source, which reads the host's journal, reading `dir` instead; without a directory the journal
 * blocks are left out, so that a test of the pod logs never ships the journal of the machine it runs on.
 */
export function localJournal(text: string, dir: string | undefined): string {
  if (!JOURNAL_SOURCE.test(text)) {
    if (dir !== undefined) throw new Error('config.alloy has no loki.source.journal "node" block');
    return text;
  }
  if (dir === undefined) return text.replace(JOURNAL_SOURCE_BLOCK, "").replace(JOURNAL_RULES, "");
  if (/^loki\.source\.journal "node" \{\n(?:\t.*\n|\n)*?\tpath\s/m.test(text)) throw new Error("the journal source already names a path");
  return text.replace(JOURNAL_SOURCE, (head) => `${head}\tpath = ${JSON.stringify(dir)}\n`);
}
