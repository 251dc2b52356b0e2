/**
 * What every process the lab starts shares, whoever started it (a run's children in
 * children.ts, the cluster's detached components in detached.ts): the time limit coreutils
 * `timeout` holds it to even when its starter is killed outright, how it is signalled (alone or
 * with its process group), how an exit is told (the binary, its exit code or signal), the last
 * lines of its output, and one bounded wait that fails at once, naming the process, when one it
 * depends on exits early, instead of a "connection refused" or a timeout later.
 */
import * as fs from "fs";
import * as os from "os";
import { MissingToolError, onPath } from "../cluster/paths";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The path of coreutils `timeout`, which bounds a process's lifetime. */
export function timeoutCommand(): string {
  const found = onPath("timeout");
  if (!found) throw new MissingToolError("`timeout` not found: install coreutils (apt-get install coreutils)");
  return found;
}

/**
 * `binary args` under coreutils `timeout`, as a command and its arguments: SIGTERM after
 * `ttlSeconds`, SIGKILL `killAfterSeconds` later. `timeout` makes its own process group, which
 * signalProcess(pid, sig, { group: true }) reaches whole (`timeout`, the binary and its forks).
 */
export function bounded(ttlSeconds: number, binary: string, args: string[], killAfterSeconds: number): [string, string[]] {
  const ttl = `${Math.max(1, Math.floor(ttlSeconds))}s`;
  return [timeoutCommand(), [`--kill-after=${killAfterSeconds}s`, ttl, binary, ...args]];
}

/** Signals a process, or with `group` the process group it leads; one already gone is no error. */
export function signalProcess(pid: number, signal: NodeJS.Signals, opts: { group?: boolean } = {}): void {
  try {
    process.kill(opts.group ? -pid : pid, signal);
  } catch {
    // Already gone.
  }
}

/** A process a wait depends on. */
export interface Watched {
  readonly name: string;
  /** How it ended when it exited by itself (not stopped on purpose); undefined while it runs. */
  exitReport(): string | undefined;
  /** Its last lines of output, headed by its name, for a failure message. */
  output(lines?: number): string;
}

/** The name of a signal number (9 is SIGKILL). */
function signalName(signal: number): string {
  const found = Object.entries(os.constants.signals).find(([, n]) => n === signal);
  return found ? found[0] : `signal ${signal}`;
}

/**
 * How a process ended, from Node's (code, signal) or a shell's status (128+N for signal N):
 * "kwok (/x/bin/kwok) exited with code 3", "... was killed by SIGKILL". `timeout` exits 124 when
 * the time limit it enforces passes.
 */
export function describeExit(name: string, command: string, code: number | null, signal: NodeJS.Signals | number | null = null): string {
  const who = `${name} (${command})`;
  if (signal !== null) return `${who} was killed by ${typeof signal === "number" ? signalName(signal) : signal}`;
  if (code === null) return `${who} exited (status unknown)`;
  if (code === 124) return `${who} exited with code 124: its time limit passed (coreutils timeout stopped it)`;
  if (code > 128 && code < 128 + 65) return `${who} was killed by ${signalName(code - 128)}`;
  return `${who} exited with code ${code}`;
}

/** The last `lines` lines of a log file. */
export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Polls `check` every `everyMs` until it returns a value other than undefined, or fails after
 * `timeoutMs` with `what` and the last error seen. A process of `watch` that exits meanwhile
 * fails the wait at once, with how it ended and its last output (a timeout shows theirs too).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 250,
  watch: Watched[] = [],
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    for (const p of watch) {
      const report = p.exitReport();
      if (report !== undefined) throw new Error(`${report} while waiting for ${what}\n${p.output(25)}`);
    }
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) break;
    await sleep(everyMs);
  }
  const outputs = watch.map((p) => `\n${p.output(25)}`).join("");
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? ` (last error: ${last})` : ""}${outputs}`);
}
