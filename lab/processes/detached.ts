/**
 * The lab's processes that outlive the command that started them (the local cluster's
 * components): detached, bounded by their time limit, with their output in a log file and
 * their pid in a pid file, found again and stopped by another process. The children of one
 * run are children.ts; what both share (the bound, the signals, the exit reports, the waits)
 * is supervision.ts.
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
import type { StateDir } from "../cluster/paths";
import { alive, processIds, readProc } from "./proc";
import { bounded, describeExit, signalProcess, sleep, tail, Watched } from "./supervision";

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
    const [timeout, bounds] = bounded(opts.ttlSeconds, binary, args, STOP_GRACE_MS / 1000);
    const child = spawn("sh", ["-c", script, name, timeout, ...bounds], {
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
    // The wrapper's sh writes the status once it has reaped the process: on a busy machine a moment
    // after the pid is gone. While that sh runs, the status is still to come (its file may exist, still
    // empty: the shell opens it before `echo` writes). Asked first: once the sh has ended, what it wrote
    // is all it writes, where a status read before asking could be read empty and the sh gone by then.
    if (wrapperRuns(this.state.exitFile(this.name))) return undefined;
    let status = "";
    try {
      status = fs.readFileSync(this.state.exitFile(this.name), "utf8").trim();
    } catch {
      // Not written (the sh that writes it was killed too).
    }
    if (/^\d+$/.test(status)) return describeExit(this.name, this.binary, Number(status));
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

/**
 * Stops one component: SIGTERM to the `timeout` wrapper (it passes it on), then, if it
 * has not exited after the grace period, SIGKILL to its whole process group.
 */
export async function stopProcess(pid: number, state: StateDir, graceMs = STOP_GRACE_MS): Promise<void> {
  if (!isOurs(pid, state)) return;
  signalProcess(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isOurs(pid, state)) await sleep(50);
  if (isOurs(pid, state)) {
    signalProcess(pid, "SIGKILL", { group: true });
    signalProcess(pid, "SIGKILL");
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
