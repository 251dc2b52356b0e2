/**
 * Real servers for end-to-end tests: child processes on 127.0.0.1 that are always
 * stopped (afterAll, or at exit if a test runner dies first), free ports, bounded
 * waits and small HTTP helpers. Loopback only: nothing here listens elsewhere.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";

// One implementation of loopback ports for every server a test or the local cluster starts.
export { LOOPBACK, freePort, freePorts } from "./cluster/processes";
import { LOOPBACK } from "./cluster/processes";

const running = new Set<ChildProcess>();
process.once("exit", () => {
  // Last resort when a test run is torn down without afterAll: never leave servers behind.
  for (const child of running) child.kill("SIGKILL");
});

/** How long a test's server may run at most (longer than any test file's own timeout). */
const DEFAULT_LIFETIME_MS = 20 * 60_000;

/** A child process with its recent output kept for failure messages, killed at the latest after its lifetime. */
export class ManagedProcess {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private exited: Promise<void>;
  public exitCode: number | null = null;

  constructor(
    public readonly name: string,
    command: string,
    args: string[],
    options: { cwd?: string; env?: Record<string, string>; lifetimeMs?: number; user?: { uid: number; gid: number } } = {},
  ) {
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      uid: options.user?.uid,
      gid: options.user?.gid,
    });
    running.add(this.child);
    // Bounded in time whatever happens to the test: a server never outlives its lifetime.
    const lifetime = setTimeout(() => this.child.kill("SIGKILL"), options.lifetimeMs ?? DEFAULT_LIFETIME_MS);
    lifetime.unref();
    const keep = (chunk: Buffer) => {
      this.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      if (this.lines.length > 200) this.lines.splice(0, this.lines.length - 200);
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code) => {
        this.exitCode = code;
        clearTimeout(lifetime);
        running.delete(this.child);
        resolve();
      });
      this.child.once("error", (err) => {
        this.lines.push(`spawn error: ${err.message}`);
        running.delete(this.child);
        resolve();
      });
    });
  }

  /** The process id, while it runs. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return running.has(this.child);
  }

  /** The last lines it printed, for a failure message. */
  output(last = 40): string {
    return `--- ${this.name} (last ${last} lines) ---\n${this.lines.slice(-last).join("\n")}`;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (Alertmanager may take 10 s to leave its cluster). */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
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
 * Polls `check` every `everyMs` until it returns a value other than undefined, or
 * fails after `timeoutMs` with `what` and the last error seen.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
}

/** GET a URL on the loopback; resolves with the status and body. */
export function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

/** GET a JSON document; fails on a non-2xx status. */
export async function httpGetJson<T>(url: string): Promise<T> {
  const { status, body } = await httpGet(url);
  if (status < 200 || status >= 300) throw new Error(`GET ${url}: HTTP ${status}`);
  return JSON.parse(body) as T;
}

/** An HTTP (or, given a key and certificate, HTTPS) server on the loopback that can be closed and opened again on the same port. */
export class LoopbackServer {
  private server: http.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    public readonly port: number,
    private readonly handler: http.RequestListener,
    private readonly tls?: { key: string; cert: string },
  ) {}

  async start(): Promise<void> {
    if (this.server) return;
    const server = this.tls ? https.createServer(this.tls, this.handler) : http.createServer(this.handler);
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, LOOPBACK, () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and drops open connections: to a client it is down at once. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A self-signed certificate and its key, as files and as text. */
export interface SelfSigned {
  keyFile: string;
  certFile: string;
  key: string;
  cert: string;
}

/**
 * A self-signed certificate for servers on the loopback (`<dir>/<name>.crt` and `.key`), valid
 * for `days` and for `altNames` (subjectAltName entries, default the loopback address). Needs
 * openssl (Debian's `openssl`).
 */
export function selfSignedCertificate(dir: string, name: string, days: number, altNames: string[] = [`IP:${LOOPBACK}`]): SelfSigned {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", String(days)];
  execFileSync("openssl", [...args, "-subj", `/CN=${name}`, "-addext", `subjectAltName=${altNames.join(",")}`], { stdio: "ignore" });
  return { keyFile, certFile, key: fs.readFileSync(keyFile, "utf8"), cert: fs.readFileSync(certFile, "utf8") };
}

/** The processes and loopback servers of one local run (the live lab, the benchmark), started and stopped together. */
export class LocalRun {
  readonly processes: ManagedProcess[] = [];
  readonly servers: LoopbackServer[] = [];

  /** `lifetimeMs`: how long any process may live, whatever happens to the run. */
  constructor(private readonly lifetimeMs: number) {}

  start(
    name: string,
    binary: string,
    args: string[],
    opts: { env?: Record<string, string>; user?: { uid: number; gid: number }; cwd?: string } = {},
  ): ManagedProcess {
    const proc = new ManagedProcess(name, binary, args, { ...opts, lifetimeMs: this.lifetimeMs });
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

  async stop(): Promise<void> {
    await stopAll(this.processes);
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
