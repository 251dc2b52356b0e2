/**
 * What every process the scripts start shares, whoever started it (the local run's children in
 * local/processes.ts, the cluster's detached components in cluster/processes.ts): how an exit is
 * told (the binary, its exit code or signal), the last lines of its output, and one bounded wait
 * that fails at once, naming the process, when one it depends on exits early, instead of a
 * "connection refused" or a timeout later.
 */
import * as fs from "fs";
import * as os from "os";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
