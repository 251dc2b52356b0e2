/**
 * Process supervision for the local cluster: detached children that outlive the
 * command that started them but not their time limit, with their output in a log
 * file and their pid in a pid file, found again and stopped by another process.
 *
 * Every child runs under coreutils `timeout`: after the cluster's TTL it gets
 * SIGTERM, and SIGKILL 10 s later, even if nobody ever runs `down`. The pid on record
 * is the one of `timeout` (it forwards signals to the component and exits with it);
 * the component is its only child. A pid only counts as ours if its command line names
 * the state directory, so a pid reused by an unrelated process is never signalled.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import { onPath, MissingToolError, StateDir } from "./paths";

export const LOOPBACK = "127.0.0.1";

/** How long a component has to exit after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 10_000;

export interface ProcessRecord {
  name: string;
  /** The pid of the `timeout` wrapper, which is also the process group of the component. */
  pid: number;
  binary: string;
  args: string[];
  log: string;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nobody listens on right now on 127.0.0.1 (the kernel's choice; released before use, so bind soon). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let attempts = 0; ports.size < n; attempts++) {
    if (attempts > n * 10) throw new Error(`could not find ${n} free ports on ${LOOPBACK}`);
    ports.add(await freePort());
  }
  return [...ports];
}

/** The path of coreutils `timeout`, which bounds every component's lifetime. */
export function timeoutCommand(): string {
  const found = onPath("timeout");
  if (!found) throw new MissingToolError("`timeout` not found: install coreutils (apt-get install coreutils)");
  return found;
}

/**
 * Starts `binary args` detached, in its own session and process group, with stdout and
 * stderr appended to logs/<name>.log, its pid in pids/<name>.pid, and killed after
 * `ttlSeconds` whatever happens to the caller.
 */
export function startDetached(
  state: StateDir,
  name: string,
  binary: string,
  args: string[],
  opts: { ttlSeconds: number; env?: NodeJS.ProcessEnv },
): ProcessRecord {
  fs.mkdirSync(state.logs, { recursive: true });
  fs.mkdirSync(state.pids, { recursive: true });
  const log = state.logFile(name);
  const fd = fs.openSync(log, "a");
  try {
    const child = spawn(timeoutCommand(), ["--kill-after=10s", `${Math.max(1, Math.floor(opts.ttlSeconds))}s`, binary, ...args], {
      cwd: state.root,
      detached: true,
      stdio: ["ignore", fd, fd],
      env: opts.env ?? process.env,
    });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${binary})`);
    child.unref();
    fs.writeFileSync(state.pidFile(name), `${child.pid}\n`);
    return { name, pid: child.pid, binary, args, log };
  } finally {
    fs.closeSync(fd);
  }
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs, is not a zombie, and is one of ours (its command line names the state directory). */
export function isOurs(pid: number, state: StateDir): boolean {
  const cmdline = readProc(pid, "cmdline");
  if (cmdline === undefined || !cmdline.includes(state.root)) return false;
  const stat = readProc(pid, "stat");
  // Field 3 (after the parenthesised command) is the state; Z and X are dead.
  const procState = stat?.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return procState !== undefined && procState !== "Z" && procState !== "X";
}

/** The children of `pid` (by scanning /proc: /proc/<pid>/task/<pid>/children is not always there). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(Number(entry), "stat");
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

/** Resident memory of a process in bytes (VmRSS), or 0 when it is gone. */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readProc(pid, "status") ?? "");
  return match ? Number(match[1]) * 1024 : 0;
}

/** The pid files in the state directory, by component name. */
export function readPidFiles(state: StateDir): Array<{ name: string; pid: number }> {
  let files: string[];
  try {
    files = fs.readdirSync(state.pids);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith(".pid"))
    .map((f) => ({ name: f.slice(0, -".pid".length), pid: Number(fs.readFileSync(`${state.pids}/${f}`, "utf8").trim()) }))
    .filter((p) => Number.isInteger(p.pid) && p.pid > 0);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Stops one component: SIGTERM to the `timeout` wrapper (it passes it on), then, if it
 * has not exited after the grace period, SIGKILL to its whole process group.
 */
export async function stopProcess(pid: number, state: StateDir, graceMs = STOP_GRACE_MS): Promise<void> {
  if (!isOurs(pid, state)) return;
  signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurs(pid, state)) return;
    await sleep(50);
  }
  signal(-pid, "SIGKILL");
  signal(pid, "SIGKILL");
  while (isOurs(pid, state)) await sleep(50);
}

/** The last `lines` lines of a log file, for an error message. */
export function tail(file: string, lines = 30): string {
  try {
    const text = fs.readFileSync(file, "utf8").trimEnd().split("\n");
    return text.slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function lockHolder(lockFile: string): number {
  try {
    return Number(fs.readFileSync(lockFile, "utf8").trim()) || 0;
  } catch {
    return 0;
  }
}

/** Thrown by a `waitFor` check to stop waiting at once (a process died: no point in polling on). */
export class GiveUp extends Error {}

/**
 * Polls `check` every `everyMs` until it returns a value other than undefined, or
 * fails after `timeoutMs` (or at once when the check throws GiveUp) with `what`, the
 * last error seen and `context()` (a log tail).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  opts: { everyMs?: number; context?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      last = "";
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
      if (err instanceof GiveUp) break;
    }
    if (Date.now() >= deadline) {
      last = `timed out after ${Math.round(timeoutMs / 1000)} s${last ? `; last error: ${last}` : ""}`;
      break;
    }
    await sleep(opts.everyMs ?? 250);
  }
  const context = opts.context ? `\n${opts.context()}` : "";
  throw new Error(`waiting for ${what}: ${last}${context}`);
}

/**
 * Runs `fn` holding an exclusive lock file, so that two `up`s (two test runs, say) do
 * not race. A lock left by a process that died is taken over.
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, "wx");
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = lockHolder(lockFile);
      let holderAlive = false;
      if (holder > 0) {
        try {
          process.kill(holder, 0);
          holderAlive = true;
        } catch {
          holderAlive = false;
        }
      }
      if (!holderAlive) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another cluster command (pid ${holder}) holds ${lockFile}`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}
