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
import { LoopbackServer } from "../../../lab/local/http";

export class InterceptingProxy extends LoopbackServer {
  /** Each CONNECT's target (`api.pushover.net:443`), in order. */
  readonly tunnels: string[] = [];

  constructor(
    port: number,
    private readonly certificate: { key: string; cert: string },
    handler: http.RequestListener,
  ) {
    super(port, handler);
  }

  protected create(): http.Server {
    const inner = https.createServer(this.certificate, this.handler);
    const server = http.createServer((_req, res) => res.writeHead(405).end("CONNECT only"));
    server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      this.tunnels.push(req.url ?? "");
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) socket.unshift(head);
      // The TLS server takes the tunnel as one more connection of its own: the handshake, then the requests.
      inner.emit("connection", socket);
    });
    return server;
  }
}
