/**
 * Ports for the servers that tests and local clusters start on 127.0.0.1, chosen so that nothing
 * else takes one between its choice and its server's bind.
 *
 * Two things did when the kernel chose (a listen on port 0, closed at once): the live tier's labs,
 * side by side beside the cluster tier, saw staging's Prometheus fail with "bind: address already
 * in use" (2026-11-24). The kernel picks port 0's port in its ephemeral range, where every outgoing
 * connection also takes its local port, and another process (a jest worker beside this one, the
 * cluster tier) may be handed the same port before either has bound it. So a port here is:
 *   - below the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), or above it where that
 *     leaves more room: no outgoing connection takes it;
 *   - free when chosen (a listen on it succeeds);
 *   - reserved across processes: a file named by the port in a directory of the machine's temp
 *     dir, created exclusively, holding the pid of the process that reserved it. A reservation is
 *     that process's while it lives; once it is gone another process takes it over (a server
 *     still listening on the port keeps it out: the listen fails first).
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { alive, readIfThere } from "./processes/proc";

export const LOOPBACK = "127.0.0.1";

/** Ports from `low` to `high`, `high` excluded. */
export interface PortRange {
  low: number;
  high: number;
}

const EPHEMERAL_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range";
/** Linux' default ephemeral range, where the file cannot be read. */
const LINUX_EPHEMERAL: PortRange = { low: 32768, high: 61000 };
/** Below it: the registered services' ports. */
const LOWEST = 10000;
/** Fewer ports than this on either side of the ephemeral range would make the reservations collide. */
const ENOUGH = 1000;
/** How many ports one reservation tries before it gives up. */
const TRIES = 500;

/** The directory of every process' reservations on this machine. */
export const RESERVATIONS_DIR = path.join(os.tmpdir(), "k8s-monitoring-ports");

/** The kernel's ephemeral range, from the text of ip_local_port_range ("32768\t60999"). */
export function ephemeralRange(text: string | undefined = readIfThere(EPHEMERAL_RANGE_FILE)): PortRange {
  const bounds = (text ?? "").trim().split(/\s+/).map(Number);
  if (bounds.length !== 2 || !bounds.every((n) => Number.isInteger(n) && n > 0 && n < 65536) || bounds[0] > bounds[1]) {
    return LINUX_EPHEMERAL;
  }
  return { low: bounds[0], high: bounds[1] + 1 };
}

/** Where servers' ports are chosen: the larger side of the ephemeral range. */
export function listenRange(ephemeral: PortRange = ephemeralRange()): PortRange {
  const below = { low: LOWEST, high: Math.max(LOWEST, ephemeral.low) };
  const above = { low: Math.max(LOWEST, ephemeral.high), high: 65536 };
  const wider = below.high - below.low >= above.high - above.low ? below : above;
  if (wider.high - wider.low < ENOUGH) {
    throw new Error(
      `${EPHEMERAL_RANGE_FILE} is ${ephemeral.low}-${ephemeral.high - 1}: it leaves fewer than ${ENOUGH} ports from ${LOWEST} ` +
        `to 65535 outside it for the servers tests start; narrow it (e.g. sysctl net.ipv4.ip_local_port_range="32768 60999")`,
    );
  }
  return wider;
}

/** The ports freePort has reserved for this process: the only ones its servers listen on (listenOnLoopback). */
const reservedHere = new Set<number>();

/** A port on 127.0.0.1 that nothing listens on and that no live process has reserved, now reserved by this one. */
export async function freePort(range: PortRange = listenRange(), dir: string = RESERVATIONS_DIR): Promise<number> {
  fs.mkdirSync(dir, { recursive: true });
  const size = range.high - range.low;
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < Math.min(size, TRIES); i++) {
    const port = range.low + ((start + i) % size);
    if ((await canListen(port)) && reserve(port, dir)) {
      reservedHere.add(port);
      return port;
    }
  }
  throw new Error(
    `no free port on ${LOOPBACK} from ${range.low} to ${range.high - 1} after ${Math.min(size, TRIES)} tries ` +
      `(each in use, or reserved in ${dir} by a process that still runs)`,
  );
}

/**
 * Reserves a given port for this process, as freePort reserves the ones it chooses: for a server
 * whose port the render fixes (an app's Service targetPort, which the rendered job scrapes by
 * address). Throws, naming the port, when it is in use or a live process holds its reservation.
 */
export async function reservePort(port: number, dir: string = RESERVATIONS_DIR): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  if (reservedHere.has(port)) return;
  if (!(await canListen(port)) || !reserve(port, dir)) {
    throw new Error(`port ${port} on ${LOOPBACK} is in use, or reserved in ${dir} by a process that still runs`);
  }
  reservedHere.add(port);
}

/** Distinct free ports, each reserved. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) ports.push(await freePort());
  return ports;
}

/**
 * Starts `server` (HTTP, HTTPS, the SMTP sink: every server the lab runs in its own process) on
 * 127.0.0.1:`port`, a port freePort reserved for this process; any other (a fixed number, the
 * kernel's choice of port 0) is refused before the bind, for nothing would keep another process
 * off it meanwhile. Rejects when the bind fails (the port taken).
 */
export function listenOnLoopback(server: net.Server, port: number): Promise<void> {
  if (!reservedHere.has(port)) {
    return Promise.reject(new Error(`port ${port} was not reserved by this process: a server's port comes from freePort (lab/ports.ts)`));
  }
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, LOOPBACK, () => resolve());
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.on("error", () => resolve(false));
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Creates the port's reservation; false when a live process holds it (one that is gone loses it). */
function reserve(port: number, dir: string): boolean {
  const file = path.join(dir, String(port));
  if (create(file)) return true;
  const text = readIfThere(file);
  if (text === undefined) return false;
  const holder = Number(text.trim());
  if (Number.isInteger(holder) && holder > 0 ? holder === process.pid || alive(holder) : justCreated(file)) return false;
  // Its process is gone: the reservation is taken over. Two processes doing so at the same instant
  // could both hold it: a window of microseconds, where the kernel's choice left seconds.
  fs.rmSync(file, { force: true });
  return create(file);
}

/** The reservation's file, created only if there is none, with this process' pid. */
function create(file: string): boolean {
  try {
    fs.writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return false;
  }
}

/** A reservation without its pid yet: its process is between creating the file and writing it. */
function justCreated(file: string): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs < 60_000;
  } catch {
    return true;
  }
}
