/**
 * The gossip path of clustered Alertmanager peers, through proxies the test can cut: each peer
 * listens on an address of its own (127.0.0.x, as a pod has its IP) and advertises its proxy's
 * (127.0.0.1, as a Service would front it), so that every packet and stream another peer sends
 * it (memberlist's UDP gossip and probes, its TCP push/pull and fallback probes) goes through
 * the proxy. `split` drops whatever crosses between the sides it is given, both ways; `heal`
 * lets it all through again.
 *
 * Who sent: a UDP packet comes from the sender's own listen address (memberlist sends from the
 * socket it listens on); a TCP stream comes from 127.0.0.1 at a port the kernel chose, so its
 * sender is the process that holds the stream's other end (socketOwner: /proc/net/tcp's inode,
 * found among the peers' open files).
 */
import * as dgram from "dgram";
import * as fs from "fs";
import * as net from "net";
import { LOOPBACK, listenOnLoopback } from "../../../lab/ports";
import type { RunServer } from "../../../lab/processes/children";

/** A peer of the mesh: its name, where it listens for gossip, its proxy's port (on 127.0.0.1), and its process id while it runs. */
export interface MeshPeer {
  name: string;
  listen: { host: string; port: number };
  proxyPort: number;
  pid: () => number | undefined;
}

/** /proc/net/tcp's hex form of 127.0.0.1:port ("0100007F:1F90"). */
function hexAddress(host: string, port: number): string {
  const ip = host
    .split(".")
    .map((o) => Number(o).toString(16).padStart(2, "0").toUpperCase())
    .reverse()
    .join("");
  return `${ip}:${port.toString(16).padStart(4, "0").toUpperCase()}`;
}

/**
 * Which of `pids` holds the TCP socket whose own end is `local` and whose other end is `remote`
 * (a client's end of a stream a server of this process accepted): its inode in /proc/net/tcp,
 * looked for among each process's open files. Undefined when none does.
 */
export function socketOwner(
  local: { host: string; port: number },
  remote: { host: string; port: number },
  pids: number[],
): number | undefined {
  const want = `${hexAddress(local.host, local.port)} ${hexAddress(remote.host, remote.port)}`;
  const line = fs
    .readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .find((f) => `${f[1]} ${f[2]}` === want);
  const inode = line?.[9];
  if (!inode || inode === "0") return undefined;
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** What crossed or was dropped, by kind, for the report and for a failure's message. */
export interface MeshCounts {
  udpForwarded: number;
  udpDropped: number;
  tcpForwarded: number;
  tcpRefused: number;
  tcpCut: number;
  tcpUnknown: number;
}

/** The proxies in front of every peer of a mesh. */
export class GossipMesh implements RunServer {
  readonly counts: MeshCounts = { udpForwarded: 0, udpDropped: 0, tcpForwarded: 0, tcpRefused: 0, tcpCut: 0, tcpUnknown: 0 };
  /** The side of each peer while split; empty when healed. */
  private side = new Map<string, number>();
  private readonly servers: net.Server[] = [];
  private readonly udp: dgram.Socket[] = [];
  private readonly streams = new Set<{ from: string | undefined; to: string; sockets: net.Socket[] }>();

  constructor(private readonly peers: MeshPeer[]) {}

  /** The address a peer advertises (its proxy). */
  advertised(peer: MeshPeer): string {
    return `${LOOPBACK}:${peer.proxyPort}`;
  }

  /** Whether traffic from `from` to `to` is cut. */
  private blocked(from: string | undefined, to: string | undefined): boolean {
    if (from === undefined || to === undefined || this.side.size === 0) return false;
    return this.side.get(from) !== this.side.get(to);
  }

  /** Cuts the peers of each side from those of the others (peers named in no side are left alone). */
  split(sides: string[][]): void {
    this.side = new Map(sides.flatMap((names, i) => names.map((n) => [n, i] as const)));
    for (const stream of [...this.streams]) {
      if (!this.blocked(stream.from, stream.to) && !this.blocked(stream.to, stream.from)) continue;
      this.counts.tcpCut++;
      stream.sockets.forEach((s) => s.destroy());
      this.streams.delete(stream);
    }
  }

  heal(): void {
    this.side = new Map();
  }

  async start(): Promise<void> {
    for (const peer of this.peers) {
      // TCP: each stream to the proxy, from its sender's process, on to the peer.
      const server = net.createServer((client) => {
        const pids = new Map(this.peers.map((p) => [p.pid(), p.name] as const));
        const pid = socketOwner(
          { host: client.remoteAddress ?? LOOPBACK, port: client.remotePort ?? 0 },
          { host: LOOPBACK, port: peer.proxyPort },
          [...pids.keys()].filter((p): p is number => p !== undefined),
        );
        const from = pid === undefined ? undefined : pids.get(pid);
        if (from === undefined) this.counts.tcpUnknown++;
        if (this.blocked(from, peer.name)) {
          this.counts.tcpRefused++;
          client.destroy();
          return;
        }
        this.counts.tcpForwarded++;
        const upstream = net.connect(peer.listen.port, peer.listen.host);
        const stream = { from, to: peer.name, sockets: [client, upstream] };
        this.streams.add(stream);
        const end = () => {
          client.destroy();
          upstream.destroy();
          this.streams.delete(stream);
        };
        client.on("error", end).on("close", end);
        upstream.on("error", end).on("close", end);
        client.pipe(upstream).pipe(client);
      });
      await listenOnLoopback(server, peer.proxyPort);
      this.servers.push(server);

      // UDP: each packet, from the sender's listen address, on to the peer (memberlist answers at the sender's advertised address).
      const socket = dgram.createSocket("udp4");
      socket.on("message", (msg, rinfo) => {
        const from = this.peers.find((p) => p.listen.host === rinfo.address && p.listen.port === rinfo.port)?.name;
        // A packet from the peer itself (an answer to its proxy's address) has nowhere to go.
        if (from === undefined || from === peer.name || this.blocked(from, peer.name)) {
          this.counts.udpDropped++;
          return;
        }
        this.counts.udpForwarded++;
        socket.send(msg, peer.listen.port, peer.listen.host);
      });
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        // The port freePort reserved for the proxy (its TCP side above), on 127.0.0.1 too.
        socket.bind(peer.proxyPort, LOOPBACK, () => resolve());
      });
      this.udp.push(socket);
    }
  }

  async stop(): Promise<void> {
    for (const stream of this.streams) stream.sockets.forEach((s) => s.destroy());
    this.streams.clear();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await Promise.all(this.udp.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
    this.udp.length = 0;
  }
}
