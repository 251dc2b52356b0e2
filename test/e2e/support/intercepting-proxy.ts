/**
 * An HTTP proxy on 127.0.0.1 that answers an HTTPS CONNECT itself: it accepts the tunnel, ends its
 * TLS with a certificate the test made for the requested host (which the client is told to trust,
 * through http_config.tls_config.ca_file) and hands the requests inside to a handler. For an
 * integration whose API address Alertmanager fixes in its code (Pushover's), the one way to have
 * the real notifier deliver to a local sink: http_config.proxy_url pointed here.
 */
import * as http from "http";
import * as https from "https";
import * as net from "net";
import { listenOnLoopback } from "../../../lab/ports";
import { closeNow } from "../../../lab/local/http";
import type { RunServer } from "../../../lab/processes/children";

export class InterceptingProxy implements RunServer {
  /** Each CONNECT's target (`api.pushover.net:443`), in order. */
  readonly tunnels: string[] = [];
  private server: http.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    public readonly port: number,
    private readonly tls: { key: string; cert: string },
    private readonly handler: http.RequestListener,
  ) {}

  async start(): Promise<void> {
    const inner = https.createServer(this.tls, this.handler);
    const server = http.createServer((_req, res) => res.writeHead(405).end("CONNECT only"));
    server.on("connection", (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      this.tunnels.push(req.url ?? "");
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) socket.unshift(head);
      // The TLS server takes the tunnel as one more connection of its own: the handshake, then the requests.
      inner.emit("connection", socket);
    });
    await listenOnLoopback(server, this.port);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeNow(server, this.sockets);
  }
}
