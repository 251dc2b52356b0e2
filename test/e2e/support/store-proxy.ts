/**
 * A proxy on 127.0.0.1 in front of an S3 store (`rclone serve s3`) that breaks it on purpose, for
 * the backups' faults (test/e2e/backup-faults.test.ts): it passes every request through until told
 * to refuse one listing (a 403 AccessDenied, which rclone does not retry), or to stop the store
 * once so many bytes were uploaded or downloaded (every connection dropped mid-stream, then none
 * accepted: to rclone the store is gone). `start` brings the store back. It counts the bytes and
 * the listings it saw (of the folder a fault names, if it names one).
 */
import * as http from "http";
import * as net from "net";
import { closeNow } from "../../../lab/local/http";
import { LOOPBACK, listenOnLoopback } from "../../../lab/ports";
import type { RunServer } from "../../../lab/processes/children";

/** What the proxy does to the store from now on. */
export type StoreFault =
  | { kind: "none" }
  /**
   * The listing of this number (1 for the next one) answered 403 AccessDenied; the others pass.
   * With `prefix`, only the listings of that folder (their prefix starts with it) are counted; with
   * `afterManifest`, only those after a manifest (a PUT of a COMPLETE.json) went up.
   */
  | { kind: "deny-listing"; listing: number; prefix?: string; afterManifest?: boolean }
  /** The store stops once this many bytes of request bodies (uploads) went through. */
  | { kind: "stop-after-upload"; bytes: number }
  /** The store stops once this many bytes of object bodies (downloads) came back. */
  | { kind: "stop-after-download"; bytes: number }
  /** The store takes uploads' requests but never reads their bodies: an upload that hangs. */
  | { kind: "hold-uploads" };

/** A listing: a GET of the bucket with a listing's query (ListObjects, ListObjectsV2). */
export function isListing(method: string, url: URL): boolean {
  return method === "GET" && ["list-type", "prefix", "delimiter"].some((k) => url.searchParams.has(k));
}

export class StoreProxy implements RunServer {
  fault: StoreFault = { kind: "none" };
  /** Since the last `arm`: listings seen, bytes uploaded and downloaded, and whether the store stopped. */
  listings = 0;
  uploaded = 0;
  downloaded = 0;
  stopped = false;
  /** Whether a manifest (COMPLETE.json) was uploaded since the last `arm`. */
  manifest = false;
  /** Uploads held (`hold-uploads`) since the last `arm`. */
  held = 0;
  private server: http.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly upstreams = new Set<http.ClientRequest>();
  private lifetime: NodeJS.Timeout | undefined;

  /** `lifetimeMs`: the proxy stops by itself after it, whatever the test does. */
  constructor(
    public readonly port: number,
    private readonly upstreamPort: number,
    private readonly lifetimeMs = 15 * 60_000,
  ) {}

  /** A fault from now on, the counters reset. */
  arm(fault: StoreFault): void {
    this.fault = fault;
    this.listings = 0;
    this.uploaded = 0;
    this.downloaded = 0;
    this.manifest = false;
    this.held = 0;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on("connection", (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    await listenOnLoopback(server, this.port);
    this.server = server;
    this.stopped = false;
    this.lifetime ??= setTimeout(() => void this.stop(), this.lifetimeMs).unref();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const up of this.upstreams) up.destroy();
    await closeNow(server, this.sockets);
  }

  /** The store stops: every connection dropped, no new one accepted (until `start`). */
  private halt(): void {
    if (this.stopped) return;
    this.stopped = true;
    void this.stop();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", `http://${LOOPBACK}`);
    const fault = this.fault;
    if (req.method === "PUT" && url.pathname.endsWith("/COMPLETE.json")) this.manifest = true;
    const counted =
      fault.kind !== "deny-listing" ||
      ((url.searchParams.get("prefix") ?? "").startsWith(fault.prefix ?? "") && (!fault.afterManifest || this.manifest));
    if (isListing(req.method ?? "", url) && counted) {
      this.listings += 1;
      if (fault.kind === "deny-listing" && fault.listing === this.listings) {
        req.resume();
        res.writeHead(403, { "Content-Type": "application/xml" });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied (a fault of the test)</Message></Error>',
        );
        return;
      }
    }
    if (fault.kind === "hold-uploads" && (req.method === "PUT" || req.method === "POST")) {
      req.pause();
      this.held += 1;
      return;
    }
    const up = http.request(
      { host: LOOPBACK, port: this.upstreamPort, method: req.method, path: req.url, headers: req.headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on("data", (chunk: Buffer) => {
          const object = req.method === "GET" && !isListing("GET", url);
          if (object) this.downloaded += chunk.length;
          if (object && fault.kind === "stop-after-download" && this.downloaded >= fault.bytes) {
            // Half of this chunk goes out, then the store is gone.
            res.write(chunk.subarray(0, Math.floor(chunk.length / 2)));
            this.halt();
            return;
          }
          res.write(chunk);
        });
        answer.on("end", () => res.end());
        answer.on("error", () => res.destroy());
      },
    );
    this.upstreams.add(up);
    up.once("close", () => this.upstreams.delete(up));
    up.on("error", () => res.destroy());
    req.on("data", (chunk: Buffer) => {
      this.uploaded += chunk.length;
      if (fault.kind === "stop-after-upload" && this.uploaded >= fault.bytes) {
        up.write(chunk.subarray(0, Math.floor(chunk.length / 2)));
        this.halt();
        return;
      }
      up.write(chunk);
    });
    req.on("end", () => up.end());
    req.on("error", () => up.destroy());
  }
}
