/**
 * HTTP on the loopback for local runs: requests with a bounded time, servers that can be
 * closed and opened again on the same port (HTTP or HTTPS with a self-signed certificate),
 * and a sink that records what the stack sends it (notifications, pushes, remote writes).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { LOOPBACK, listenOnLoopback } from "../ports";

export interface Reply {
  status: number;
  body: string;
}

/** A request on the loopback; resolves with the status and body, whatever the status. */
export function httpRequest(
  method: string,
  url: string,
  opts: { body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: opts.headers, timeout: opts.timeoutMs ?? 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** GET a URL on the loopback; resolves with the status and body. */
export function httpGet(url: string, timeoutMs = 2000): Promise<Reply> {
  return httpRequest("GET", url, { timeoutMs });
}

/** GET a URL; its body, or an error with the status and the start of the body when it is not 200. */
export async function getOk(url: string, timeoutMs = 5000): Promise<string> {
  const res = await httpGet(url, timeoutMs);
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  return res.body;
}

/** GET a JSON document; fails on a non-2xx status. */
export async function httpGetJson<T>(url: string): Promise<T> {
  const { status, body } = await httpGet(url);
  if (status < 200 || status >= 300) throw new Error(`GET ${url}: HTTP ${status}`);
  return JSON.parse(body) as T;
}

/** POST a JSON document; resolves with the reply, whatever its status. */
export function postJson(url: string, body: unknown, timeoutMs = 5000): Promise<Reply> {
  return httpRequest("POST", url, { body: JSON.stringify(body), headers: { "Content-Type": "application/json" }, timeoutMs });
}

/** Whether the server at `base` answers its readiness endpoint (`/-/ready` by default) with 200. */
export async function isReady(base: string, readyPath = "/-/ready"): Promise<true | undefined> {
  return (await httpGet(`${base}${readyPath}`).catch(() => undefined))?.status === 200 ? true : undefined;
}

/** An HTTP (or, given a key and certificate, HTTPS) server on the loopback that can be closed and opened again on the same port. */
export class LoopbackServer {
  private server: http.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    public readonly port: number,
    protected readonly handler: http.RequestListener,
    private readonly tls?: { key: string; cert: string },
  ) {}

  /** The server that listens: HTTP, or HTTPS given a key and certificate (a subclass may make another). */
  protected create(): http.Server {
    return this.tls ? https.createServer(this.tls, this.handler) : http.createServer(this.handler);
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = this.create();
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    await listenOnLoopback(server, this.port);
    this.server = server;
  }

  /** Stops listening and drops open connections: to a client it is down at once. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeNow(server, this.sockets);
  }
}

/** Closes a server and drops its open connections (`sockets`, kept by the caller): to a client it is down at once. */
export async function closeNow(server: net.Server | undefined, sockets: Set<net.Socket>): Promise<void> {
  if (!server) return;
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A request a sink received. */
export interface SinkRequest {
  /** The path, without the query. */
  path: string;
  /** The URL as requested. */
  url: string;
  body: string;
  receivedAt: number;
}

/**
 * A handler that records every request (read to its end) through `record`, which answers
 * with the status to send and, optionally, a body (JSON).
 */
export function sinkHandler(record: (req: SinkRequest) => { status: number; body?: string }): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "/";
      const answer = record({ path: url.split("?")[0], url, body: Buffer.concat(chunks).toString("utf8"), receivedAt: Date.now() });
      if (answer.body === undefined) return void res.writeHead(answer.status).end();
      res.writeHead(answer.status, { "Content-Type": "application/json" }).end(answer.body);
    });
  };
}

/** The handler of a server that answers `text` (Prometheus' text format) on `metricsPath` (every path when undefined). */
export function metricsHandler(text: () => string, metricsPath?: string): http.RequestListener {
  return (req, res) => {
    if (metricsPath !== undefined && (req.url ?? "").split("?")[0] !== metricsPath) return void res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(text());
  };
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
