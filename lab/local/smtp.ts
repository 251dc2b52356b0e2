/**
 * A mail server on 127.0.0.1 for end-to-end tests: just enough SMTP (RFC 5321) for
 * Alertmanager's email notifier to deliver to it — EHLO, AUTH PLAIN, MAIL, RCPT, DATA —
 * recording what arrives. It refuses mail before a successful login when it is given a
 * user, so that a wrong or missing password fails the test. It stops by itself after its
 * lifetime, like every server a test starts.
 */
import * as net from "net";
import { listenOnLoopback } from "../ports";
import { closeNow } from "./http";

export interface ReceivedMail {
  /** The user that logged in (AUTH PLAIN), if any. */
  user?: string;
  from: string;
  to: string[];
  /** The message as sent (headers and body), dot-stuffing undone, CRLF line ends. */
  data: string;
  receivedAt: number;
}

const DEFAULT_LIFETIME_MS = 10 * 60_000;

export class SmtpSink {
  public readonly mails: ReceivedMail[] = [];
  /** Logins refused, and commands out of order: each is a reason to fail. */
  public readonly refused: string[] = [];
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    public readonly port: number,
    private readonly login?: { user: string; password: string },
  ) {}

  async start(lifetimeMs = DEFAULT_LIFETIME_MS): Promise<void> {
    const server = net.createServer((socket) => this.serve(socket));
    await listenOnLoopback(server, this.port);
    this.server = server;
    setTimeout(() => void this.stop(), lifetimeMs).unref();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeNow(server, this.sockets);
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const reply = (line: string) => socket.write(`${line}\r\n`);
    let user: string | undefined;
    let from: string | undefined;
    let to: string[] = [];
    let data: string[] | undefined;
    let buffer = "";

    const command = (line: string) => {
      const verb = line.split(" ")[0].toUpperCase();
      const arg = line.slice(verb.length).trim();
      if (verb === "EHLO") {
        reply("250-sink.invalid");
        if (this.login) reply("250-AUTH PLAIN");
        reply("250 8BITMIME");
      } else if (verb === "HELO") reply("250 sink.invalid");
      else if (verb === "AUTH") {
        const [mechanism, initial] = arg.split(" ");
        const [, name, password] = Buffer.from(initial ?? "", "base64")
          .toString("utf8")
          .split("\0");
        if (mechanism?.toUpperCase() === "PLAIN" && this.login && name === this.login.user && password === this.login.password) {
          user = name;
          reply("235 2.7.0 Authentication successful");
        } else {
          this.refused.push(`login refused for ${JSON.stringify(name)}`);
          reply("535 5.7.8 Authentication credentials invalid");
        }
      } else if (verb === "MAIL") {
        if (this.login && user === undefined) {
          this.refused.push("MAIL before a login");
          reply("530 5.7.0 Authentication required");
          return;
        }
        from = /<([^>]*)>/.exec(arg)?.[1] ?? "";
        to = [];
        reply("250 2.1.0 Ok");
      } else if (verb === "RCPT") {
        to.push(/<([^>]*)>/.exec(arg)?.[1] ?? "");
        reply("250 2.1.5 Ok");
      } else if (verb === "DATA") {
        if (from === undefined || to.length === 0) {
          this.refused.push("DATA without MAIL and RCPT");
          reply("503 5.5.1 Bad sequence of commands");
          return;
        }
        data = [];
        reply("354 End data with <CR><LF>.<CR><LF>");
      } else if (verb === "RSET") {
        from = undefined;
        to = [];
        reply("250 2.0.0 Ok");
      } else if (verb === "NOOP") reply("250 2.0.0 Ok");
      else if (verb === "QUIT") {
        reply("221 2.0.0 Bye");
        socket.end();
      } else reply("502 5.5.2 Command not recognized");
    };

    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let end: number;
      while ((end = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data === undefined) {
          command(line);
        } else if (line === ".") {
          this.mails.push({ ...(user ? { user } : {}), from: from ?? "", to, data: data.join("\r\n"), receivedAt: Date.now() });
          data = undefined;
          from = undefined;
          to = [];
          reply("250 2.0.0 Ok: queued");
        } else {
          data.push(line.startsWith("..") ? line.slice(1) : line);
        }
      }
    });
    reply("220 sink.invalid ESMTP");
  }
}

/** A header of a received message (unfolded). */
export function mailHeader(mail: ReceivedMail, name: string): string | undefined {
  const head = mail.data.split("\r\n\r\n")[0].replace(/\r\n[ \t]+/g, " ");
  const line = head.split("\r\n").find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** The text/plain part of a received multipart message, quoted-printable decoded. */
export function mailText(mail: ReceivedMail): string | undefined {
  const boundary = /boundary="?([^";\s]+)"?/.exec(mail.data)?.[1];
  if (!boundary) return undefined;
  for (const part of mail.data.split(`--${boundary}`)) {
    const [head, ...body] = part.split("\r\n\r\n");
    if (!/content-type:\s*text\/plain/i.test(head)) continue;
    const text = body.join("\r\n\r\n");
    const decoded = /quoted-printable/i.test(head)
      ? Buffer.from(
          text.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
          "latin1",
        ).toString("utf8")
      : text;
    return decoded.replace(/\r\n/g, "\n").trimEnd();
  }
  return undefined;
}
