/**
 * The children of one run (the tests, the live lab, the benchmark and the catalogue): processes
 * that are always stopped (afterAll, at the end of a run, or at exit if a runner dies first)
 * and bounded in time, with their last output kept for a failure message. What they share with
 * the cluster's detached processes (detached.ts) is supervision.ts; their ports come from
 * lab/ports.ts. Loopback only: nothing here listens elsewhere.
 */
import { ChildProcess, spawn } from "child_process";
import * as http from "http";
import { LoopbackServer } from "../local/http";
import { inotifyInstances } from "./proc";
import { Watched, bounded, describeExit, signalProcess, waitFor } from "./supervision";

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
  /** false: the process gets `env` alone, nothing of this process's environment (what a kubelet would give a container). */
  inheritEnv?: boolean;
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
export class ManagedProcess implements Watched {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private readonly group: boolean;
  private exited: Promise<void>;
  public exitCode: number | null = null;
  public exitSignal: NodeJS.Signals | null = null;
  /** Set when `stop` (or its lifetime) ends it: its exit is then no failure of its own. */
  private stopping = false;
  private spawnError: string | undefined;
  /** Its first line that says it ran out of a system resource (kept however much it prints after). */
  private starvedLine: string | undefined;

  constructor(
    public readonly name: string,
    private readonly command: string,
    args: string[],
    options: ProcessOptions = {},
  ) {
    this.group = options.groupTtlSeconds !== undefined;
    const [file, argv] = options.groupTtlSeconds !== undefined ? bounded(options.groupTtlSeconds, command, args, 5) : [command, args];
    this.child = spawn(file, argv, {
      cwd: options.cwd,
      env: options.inheritEnv === false ? { ...options.env } : { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: this.group,
      uid: options.user?.uid,
      gid: options.user?.gid,
    });
    running.add(this);
    // Bounded in time whatever happens to the test: a server never outlives its lifetime.
    const lifetime = setTimeout(() => {
      this.lines.push(`(killed: its lifetime of ${options.lifetimeMs ?? DEFAULT_LIFETIME_MS} ms passed)`);
      this.signal("SIGKILL");
    }, options.lifetimeMs ?? DEFAULT_LIFETIME_MS);
    lifetime.unref();
    const keepLines = options.keepLines ?? 200;
    const keep = (chunk: Buffer) => {
      const fresh = chunk.toString("utf8").split("\n").filter(Boolean);
      this.starvedLine ??= fresh.find((line) => exhausted(line) !== undefined);
      this.lines.push(...fresh);
      if (this.lines.length > keepLines) this.lines.splice(0, this.lines.length - keepLines);
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        clearTimeout(lifetime);
        // Its last lines may still be in the pipes: gone once they are read (or 200 ms on, if a child of its own holds them).
        const gone = () => {
          running.delete(this);
          resolve();
        };
        const late = setTimeout(gone, 200);
        this.child.once("close", () => {
          clearTimeout(late);
          gone();
        });
      });
      this.child.once("error", (err) => {
        this.lines.push(`spawn error: ${err.message}`);
        this.spawnError = err.message;
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

  /** How it ended, once it has; undefined while it runs. */
  ended(): string | undefined {
    if (this.alive) return undefined;
    if (this.spawnError !== undefined) return `${this.name} (${this.command}) could not start: ${this.spawnError}`;
    return describeExit(this.name, this.command, this.exitCode, this.exitSignal);
  }

  /** How it ended when it exited by itself (not stopped); undefined while it runs. */
  exitReport(): string | undefined {
    return this.stopping ? undefined : this.ended();
  }

  /** Its first line that says it ran out of a system resource, if one has. */
  starved(): string | undefined {
    return this.starvedLine;
  }

  /** The last lines it printed, headed by how it ended if it has, for a failure message. */
  output(last = 40): string {
    const ended = this.ended();
    return `--- ${this.name}${ended ? `: ${ended}` : ""} (last ${last} lines) ---\n${this.lines.slice(-last).join("\n")}`;
  }

  /** Signals the process, or its whole process group when it runs in one. */
  signal(signal: NodeJS.Signals): void {
    if (!this.alive || this.child.pid === undefined) return;
    if (this.group) signalProcess(this.child.pid, signal, { group: true });
    else this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (Alertmanager may take 10 s to leave its cluster). */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.stopping = true;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL at once, as a crash or the OOM killer would end it (no failure of its own); resolves once it has exited. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.stopping = true;
    this.signal("SIGKILL");
    await this.exited;
  }
}

/**
 * What a line of output says its process ran out of: an inotify instance (Go's fsnotify, which
 * Prometheus' file discovery, Loki and Alloy use, says "too many open files" when the user's
 * fs.inotify.max_user_instances are all held, with descriptors to spare), or file descriptors.
 */
export function exhausted(line: string): "inotify" | "descriptors" | undefined {
  if (!/too many open files/i.test(line)) return undefined;
  return /inotify|file watcher/i.test(line) ? "inotify" : "descriptors";
}

/** Stops every process, concurrently. */
export async function stopAll(processes: ManagedProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.stop()));
}

/** A server a run starts and stops with its processes: a loopback server, the SMTP sink. */
export interface RunServer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The processes and servers of one local run (the live lab, the benchmark, a catalogue source,
 * an end-to-end test), started and stopped together: each process is bounded in time, a wait
 * fails at once when one of them exits, and a failure shows what each printed.
 */
export class LocalRun {
  readonly processes: ManagedProcess[] = [];
  readonly servers: RunServer[] = [];

  /** `lifetimeMs`: how long any process may live, whatever happens to the run; `process`: options every process gets. */
  constructor(
    private readonly lifetimeMs: number,
    private readonly process: Pick<ProcessOptions, "groupTtlSeconds" | "keepLines"> = {},
  ) {}

  start(
    name: string,
    binary: string,
    args: string[],
    opts: Pick<ProcessOptions, "env" | "inheritEnv" | "user" | "cwd"> = {},
  ): ManagedProcess {
    const proc = new ManagedProcess(name, binary, args, { ...this.process, ...opts, lifetimeMs: this.lifetimeMs });
    this.processes.push(proc);
    return proc;
  }

  async serve(port: number, handler: http.RequestListener, tls?: { key: string; cert: string }): Promise<LoopbackServer> {
    return this.own(new LoopbackServer(port, handler, tls));
  }

  /** Starts a server of another kind (the SMTP sink), stopped with the run. */
  async own<S extends RunServer>(server: S): Promise<S> {
    await server.start();
    this.servers.push(server);
    return server;
  }

  /**
   * Which processes exited by themselves and how, which ran out of a system resource (a limit of
   * the machine's, not a fault of the stack's: its first such line, however long ago), then the
   * last lines of every process's output, to explain a failure.
   */
  diagnostics(lines: number): string {
    const early = this.processes.map((p) => p.exitReport()).filter((r): r is string => r !== undefined);
    const starved = this.processes.flatMap((p) => {
      const line = p.starved();
      return line === undefined ? [] : [{ name: p.name, line }];
    });
    let head = early.length > 0 ? `exited early: ${early.join("; ")}\n` : "";
    if (starved.length > 0) head += `out of a system resource: ${starved.map((s) => `${s.name}: ${s.line}`).join("; ")}\n`;
    if (starved.some((s) => exhausted(s.line) === "inotify")) {
      const { held, limit } = inotifyInstances();
      head +=
        `inotify: this machine's processes hold ${held} instances, each user may hold ${limit ?? "(unknown)"} ` +
        `(fs.inotify.max_user_instances); a process refused one watches nothing (Prometheus' file discovery finds no target): ` +
        `raise it (sysctl -w fs.inotify.max_user_instances=1024, as .ci/system-packages does)\n`;
    }
    return head + this.processes.map((p) => p.output(lines)).join("\n");
  }

  /** `step`, or its failure with what every process printed and `extra` (the caller's own state: what a sink received). */
  async explain<T>(step: Promise<T>, extra?: () => string, lines = 40): Promise<T> {
    try {
      return await step;
    } catch (err) {
      const more = extra ? `\n${extra()}` : "";
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${this.diagnostics(lines)}${more}`);
    }
  }

  /**
   * waitFor (supervision.ts) watching every process of the run: it fails at once when
   * one exits by itself, and its failure shows what every process printed and `extra`.
   */
  waitFor<T>(
    what: string,
    check: () => Promise<T | undefined> | T | undefined,
    timeoutMs: number,
    everyMs?: number,
    extra?: () => string,
  ): Promise<T> {
    return this.explain(waitFor(what, check, timeoutMs, everyMs, this.processes), extra);
  }

  async stop(graceMs?: number): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop(graceMs)));
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
