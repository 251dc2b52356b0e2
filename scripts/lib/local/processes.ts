/**
 * Real processes on 127.0.0.1 for the tests, the live lab, the benchmark and the catalogue:
 * child processes that are always stopped (afterAll, at the end of a run, or at exit if a
 * runner dies first) and bounded in time, free ports, and bounded waits that report a
 * process's early exit with its last output. Loopback only: nothing here listens elsewhere.
 */
import { ChildProcess, spawn } from "child_process";
import * as http from "http";
import { LoopbackServer } from "./http";

// One implementation of loopback ports for every server a test or the local cluster starts.
export { LOOPBACK, freePort, freePorts } from "../cluster/processes";

const running = new Set<ManagedProcess>();
process.once("exit", () => {
  // Last resort when a run is torn down without its cleanup: never leave servers behind.
  for (const proc of running) proc.signal("SIGKILL");
});

/** How long a test's server may run at most (longer than any test file's own timeout). */
const DEFAULT_LIFETIME_MS = 20 * 60_000;

export interface User {
  uid: number;
  gid: number;
}

export interface ProcessOptions {
  cwd?: string;
  env?: Record<string, string>;
  lifetimeMs?: number;
  user?: User;
  /**
   * Runs the binary under coreutils `timeout` in its own process group, killed after this many
   * seconds even if this Node process is killed outright (the catalogue's generator); signals
   * go to the whole group (`timeout`, the binary and whatever it forked).
   */
  groupTtlSeconds?: number;
  /** Lines of output kept for failure messages. */
  keepLines?: number;
}

/** A child process with its recent output kept for failure messages, killed at the latest after its lifetime. */
export class ManagedProcess {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private readonly group: boolean;
  private exited: Promise<void>;
  public exitCode: number | null = null;

  constructor(
    public readonly name: string,
    command: string,
    args: string[],
    options: ProcessOptions = {},
  ) {
    this.group = options.groupTtlSeconds !== undefined;
    const [file, argv] = this.group ? ["timeout", ["--kill-after=5s", `${options.groupTtlSeconds}s`, command, ...args]] : [command, args];
    this.child = spawn(file, argv, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: this.group,
      uid: options.user?.uid,
      gid: options.user?.gid,
    });
    running.add(this);
    // Bounded in time whatever happens to the test: a server never outlives its lifetime.
    const lifetime = setTimeout(() => this.signal("SIGKILL"), options.lifetimeMs ?? DEFAULT_LIFETIME_MS);
    lifetime.unref();
    const keepLines = options.keepLines ?? 200;
    const keep = (chunk: Buffer) => {
      this.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      if (this.lines.length > keepLines) this.lines.splice(0, this.lines.length - keepLines);
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code) => {
        this.exitCode = code;
        clearTimeout(lifetime);
        running.delete(this);
        resolve();
      });
      this.child.once("error", (err) => {
        this.lines.push(`spawn error: ${err.message}`);
        running.delete(this);
        resolve();
      });
    });
  }

  /** The process id, while it runs. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return running.has(this);
  }

  /** The last lines it printed, for a failure message. */
  output(last = 40): string {
    return `--- ${this.name} (last ${last} lines) ---\n${this.lines.slice(-last).join("\n")}`;
  }

  /** Signals the process, or its whole process group when it runs in one. */
  signal(signal: NodeJS.Signals): void {
    if (!this.alive || this.child.pid === undefined) return;
    if (!this.group) {
      this.child.kill(signal);
      return;
    }
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (Alertmanager may take 10 s to leave its cluster). */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Stops every process, concurrently. */
export async function stopAll(processes: ManagedProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.stop()));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `everyMs` until it returns a value other than undefined, or fails after
 * `timeoutMs` with `what` and the last error seen. A process of `watch` that exits meanwhile
 * fails the wait at once with its last output (and a timeout shows theirs).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 250,
  watch: ManagedProcess[] = [],
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const dead = watch.find((p) => !p.alive);
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}\n${dead.output(25)}`);
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(everyMs);
  }
  const outputs = watch.map((p) => `\n${p.output(25)}`).join("");
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}${outputs}`);
}

/** The processes and loopback servers of one local run (the live lab, the benchmark, a catalogue source), started and stopped together. */
export class LocalRun {
  readonly processes: ManagedProcess[] = [];
  readonly servers: LoopbackServer[] = [];

  /** `lifetimeMs`: how long any process may live, whatever happens to the run; `process`: options every process gets. */
  constructor(
    private readonly lifetimeMs: number,
    private readonly process: Pick<ProcessOptions, "groupTtlSeconds" | "keepLines"> = {},
  ) {}

  start(
    name: string,
    binary: string,
    args: string[],
    opts: { env?: Record<string, string>; user?: User; cwd?: string } = {},
  ): ManagedProcess {
    const proc = new ManagedProcess(name, binary, args, { ...this.process, ...opts, lifetimeMs: this.lifetimeMs });
    this.processes.push(proc);
    return proc;
  }

  async serve(port: number, handler: http.RequestListener, tls?: { key: string; cert: string }): Promise<LoopbackServer> {
    const server = new LoopbackServer(port, handler, tls);
    await server.start();
    this.servers.push(server);
    return server;
  }

  /** The last lines of every process's output, to explain a failure. */
  diagnostics(lines: number): string {
    return this.processes.map((p) => p.output(lines)).join("\n");
  }

  async stop(graceMs?: number): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop(graceMs)));
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
