/**
 * Process supervision for the local cluster: detached children that outlive the
 * command that started them but not their time limit, with their output in a log
 * file and their pid in a pid file, found again and stopped by another process.
 *
 * Every child runs under coreutils `timeout`: after the cluster's TTL it gets
 * SIGTERM, and SIGKILL 10 s later, even if nobody ever runs `down`. The pid on record
 * is the one of `timeout` (it forwards signals to the component and exits with it);
 * the component is its only child. A small `sh` waits for `timeout` and writes its exit
 * status to pids/<name>.exit, so that whoever looks later (status, the next `up`, a test
 * after a failure) can say how a component ended: code or signal, and its log's last
 * lines. A pid only counts as ours if its command line names the state directory, so a
 * pid reused by an unrelated process is never signalled.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import { describeExit, sleep, tail, Watched } from "../supervision";
import { onPath, MissingToolError, StateDir } from "./paths";
import { alive, processIds, readProc } from "../proc";

// Every server's port is chosen and reserved there.
export { LOOPBACK, freePort, freePorts } from "../ports";

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

/** The path of coreutils `timeout`, which bounds every component's lifetime. */
export function timeoutCommand(): string {
  const found = onPath("timeout");
  if (!found) throw new MissingToolError("`timeout` not found: install coreutils (apt-get install coreutils)");
  return found;
}

/** A path as one word of a POSIX shell script. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Starts `binary args` detached, in its own session, with stdout and stderr appended to
 * logs/<name>.log, the pid of its `timeout` wrapper in pids/<name>.pid, its exit status in
 * pids/<name>.exit when it ends, and killed after `ttlSeconds` whatever happens to the caller.
 */
export async function startDetached(
  state: StateDir,
  name: string,
  binary: string,
  args: string[],
  opts: { ttlSeconds: number; env?: NodeJS.ProcessEnv },
): Promise<ProcessRecord> {
  fs.mkdirSync(state.logs, { recursive: true });
  fs.mkdirSync(state.pids, { recursive: true });
  const log = state.logFile(name);
  const pidFile = state.pidFile(name);
  for (const f of [pidFile, state.exitFile(name)]) fs.rmSync(f, { force: true });
  // `timeout` in the background (it makes its own process group, which `stopProcess` signals), its pid
  // written at once, its status when it ends. "$@" is timeout's command line, after $0 (the name).
  const script = `"$@" & echo $! > ${shellQuote(`${pidFile}.new`)} && mv ${shellQuote(`${pidFile}.new`)} ${shellQuote(pidFile)}; wait $!; echo $? > ${shellQuote(state.exitFile(name))}`;
  const fd = fs.openSync(log, "a");
  try {
    const ttl = `${Math.max(1, Math.floor(opts.ttlSeconds))}s`;
    const child = spawn("sh", ["-c", script, name, timeoutCommand(), "--kill-after=10s", ttl, binary, ...args], {
      cwd: state.root,
      detached: true,
      stdio: ["ignore", fd, fd],
      env: opts.env ?? process.env,
    });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${binary})`);
    child.unref();
  } finally {
    fs.closeSync(fd);
  }
  const pid = await (async () => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(10)) {
      const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").trim() : "";
      if (/^\d+$/.test(text)) return Number(text);
    }
    throw new Error(`could not start ${name} (${binary}): no pid after 10 s\n${tail(log)}`);
  })();
  return { name, pid, binary, args, log };
}

/** A component of the cluster as a process a wait can depend on: alive while its pid is ours, then its recorded exit. */
export class DetachedProcess implements Watched {
  constructor(
    private readonly state: StateDir,
    public readonly name: string,
    private readonly pid: number,
    private readonly binary: string,
  ) {}

  exitReport(): string | undefined {
    if (isOurs(this.pid, this.state)) return undefined;
    let status = "";
    try {
      status = fs.readFileSync(this.state.exitFile(this.name), "utf8").trim();
    } catch {
      // Not written (yet, or the sh that writes it was killed too).
    }
    if (/^\d+$/.test(status)) return describeExit(this.name, this.binary, Number(status));
    // The wrapper's sh writes the status once it has reaped the process: on a busy machine a moment
    // after the pid is gone. While that sh runs, the status is still to come.
    if (wrapperRuns(this.state.exitFile(this.name))) return undefined;
    return `${this.name} (${this.binary}, pid ${this.pid}) is gone; its exit status was not recorded`;
  }

  output(lines = 30): string {
    const log = this.state.logFile(this.name);
    return `--- ${log} (last ${lines} lines) ---\n${tail(log, lines)}`;
  }
}

/** Whether the sh that startDetached left to record a status in `exitFile` still runs (its script names the file). */
function wrapperRuns(exitFile: string): boolean {
  return processIds().some((pid) => readProc(pid, "cmdline")?.includes(exitFile) && alive(pid));
}

/** Whether `pid` runs, is not a zombie, and is one of ours (its command line names the state directory). */
export function isOurs(pid: number, state: StateDir): boolean {
  const cmdline = readProc(pid, "cmdline");
  if (cmdline === undefined || !cmdline.includes(state.root)) return false;
  return alive(pid);
}

/** The children of `pid` (by scanning /proc: /proc/<pid>/task/<pid>/children is not always there). */
export function childPids(pid: number): number[] {
  return processIds().filter((candidate) => {
    const stat = readProc(candidate, "stat");
    // Field 4 (the second after the parenthesised command) is the parent's pid.
    return stat !== undefined && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
  });
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
  while (Date.now() < deadline && isOurs(pid, state)) await sleep(50);
  if (isOurs(pid, state)) {
    signal(-pid, "SIGKILL");
    signal(pid, "SIGKILL");
    while (isOurs(pid, state)) await sleep(50);
  }
  // The sh that waited for it writes its status next; let it, before anyone removes the directory.
  for (const until = Date.now() + 2000; Date.now() < until && !exitRecorded(state, pid);) await sleep(20);
}

/** Whether the component whose wrapper had `pid` has its exit status written. */
function exitRecorded(state: StateDir, pid: number): boolean {
  const entry = readPidFiles(state).find((p) => p.pid === pid);
  return entry === undefined || fs.existsSync(state.exitFile(entry.name));
}

/** A process as /proc knows it: a reused pid has another start time, so it is never taken for this one. */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot. */
  startTime: string;
  /** Its command line, to name it in a message. */
  command: string;
}

function startTimeOf(pid: number): string | undefined {
  const stat = readProc(pid, "stat");
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (the state): a zombie has ended.
  return fields[0] === "Z" || fields[0] === "X" ? undefined : fields[19];
}

/** This process (or `pid`) as a ProcessIdentity. */
export function identityOf(pid: number = process.pid): ProcessIdentity {
  const command = (readProc(pid, "cmdline") ?? "").split("\0").filter(Boolean).join(" ");
  return { pid, startTime: startTimeOf(pid) ?? "", command: command.length > 200 ? `${command.slice(0, 200)}...` : command };
}

/** Whether the process still runs (same pid, same start time). */
export function stillRunning(id: ProcessIdentity): boolean {
  const startTime = startTimeOf(id.pid);
  return startTime !== undefined && (id.startTime === "" || startTime === id.startTime);
}

/** Whose a thing is (a cluster's owner): nobody's, this process's, a process that still runs, or one that has ended. */
export function ownerState(owner: ProcessIdentity | undefined): "none" | "self" | "running" | "ended" {
  if (owner === undefined) return "none";
  if (owner.pid === process.pid && stillRunning(owner)) return "self";
  return stillRunning(owner) ? "running" : "ended";
}

/** Who holds a lock file, when it says (a bare pid from an older version counts too). */
function lockHolder(lockFile: string): ProcessIdentity | undefined {
  let text: string;
  try {
    text = fs.readFileSync(lockFile, "utf8").trim();
  } catch {
    return undefined;
  }
  if (/^\d+$/.test(text)) return { pid: Number(text), startTime: "", command: "" };
  try {
    const id = JSON.parse(text) as ProcessIdentity;
    return Number.isInteger(id.pid) && id.pid > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The command that clears what a stuck holder left: stop it, then the cluster. */
export function clearCommand(pid: number): string {
  return `kill ${pid} && npm run cluster -- down`;
}

/**
 * Runs `fn` holding an exclusive lock file, so that two `up`s (two test runs, say) do not
 * race. A lock whose holder has ended (an aborted run) is removed, and `log` says so; one whose
 * holder still runs is waited for, up to `timeoutMs`, then refused with the command that clears it.
 */
export async function withLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; log?: (message: string) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, "wx");
      fs.writeSync(fd, `${JSON.stringify(identityOf())}\n`);
      fs.closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = lockHolder(lockFile);
      // A lock being written has no holder yet for a moment; one without a holder for longer is stale too.
      const age = Date.now() - (fs.statSync(lockFile, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if ((holder === undefined && age > 2000) || (holder !== undefined && !stillRunning(holder))) {
        fs.rmSync(lockFile, { force: true });
        const who = holder ? `pid ${holder.pid}${holder.command ? ` (${holder.command})` : ""}` : "a process that did not say";
        opts.log?.(`removed the stale lock ${lockFile}: ${who} no longer runs (an aborted run)`);
        continue;
      }
      if (Date.now() > deadline) {
        const who = holder ? `pid ${holder.pid}${holder.command ? ` (${holder.command})` : ""}` : "another process";
        throw new Error(
          `${lockFile} is held by ${who}, still running: another cluster command or test run of this checkout. ` +
            `Wait for it to end; if it is stuck, clear it with: ${holder ? clearCommand(holder.pid) : "npm run cluster -- down"}`,
        );
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}
