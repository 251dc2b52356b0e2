/**
 * Servers' ports (lab/ports.ts): outside the kernel's ephemeral range, free when
 * chosen, and reserved across processes, so that two processes starting servers at once (the live
 * labs side by side, the cluster tier beside them) are never handed the same port. Real listens,
 * real processes, reservations in a scratch directory.
 */
import { spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import {
  LOOPBACK,
  PortRange,
  RESERVATIONS_DIR,
  ephemeralRange,
  freePort,
  freePorts,
  listenOnLoopback,
  listenRange,
  reservePort,
} from "../../lab/ports";

const PORTS_MODULE = path.resolve(__dirname, "../../lab/ports");
let scratch: string;
let children: ChildProcess[] = [];

beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ports-"));
});
afterEach(() => {
  for (const child of children) child.kill("SIGKILL");
  children = [];
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A port of the listen range that nothing listens on and nobody has reserved, for a range of one. */
async function onePort(): Promise<PortRange> {
  const port = await freePort(listenRange(), scratch);
  fs.rmSync(path.join(scratch, String(port)));
  return { low: port, high: port + 1 };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
}

test("the ephemeral range is read from the kernel's file, Linux' default where it cannot be", () => {
  expect(ephemeralRange("32768\t60999\n")).toEqual({ low: 32768, high: 61000 });
  expect(ephemeralRange("1024 65000")).toEqual({ low: 1024, high: 65001 });
  for (const text of [undefined, "", "32768", "60999 32768", "0 100", "a b"]) {
    expect(ephemeralRange(text)).toEqual({ low: 32768, high: 61000 });
  }
});

test("servers' ports are on the wider side of the ephemeral range, from 10000; too narrow a side is refused, naming the file", () => {
  expect(listenRange({ low: 32768, high: 61000 })).toEqual({ low: 10000, high: 32768 });
  expect(listenRange({ low: 1024, high: 61000 })).toEqual({ low: 61000, high: 65536 });
  expect(() => listenRange({ low: 10500, high: 65001 })).toThrow(
    /ip_local_port_range is 10500-65000: it leaves fewer than 1000 ports from 10000 to 65535 outside it/,
  );
});

test("every port is outside this machine's ephemeral range, free, distinct and reserved by this process", async () => {
  const ephemeral = ephemeralRange();
  const ports = await freePorts(20);
  expect(new Set(ports).size).toBe(20);
  for (const port of ports) {
    expect(port < ephemeral.low || port >= ephemeral.high).toBe(true);
    expect(port).toBeGreaterThanOrEqual(10000);
    expect(fs.readFileSync(path.join(RESERVATIONS_DIR, String(port)), "utf8")).toBe(`${process.pid}\n`);
  }
  // Each can be listened on, as the server it is for will.
  for (const port of ports.slice(0, 3)) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, LOOPBACK, () => resolve());
    });
    await new Promise((resolve) => server.close(resolve));
  }
});

test("a port something listens on is not handed out", async () => {
  const range = await onePort();
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(range.low, LOOPBACK, () => resolve()));
  try {
    await expect(freePort(range, scratch)).rejects.toThrow(`no free port on ${LOOPBACK} from ${range.low} to ${range.low} after 1 tries`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  expect(await freePort(range, scratch)).toBe(range.low);
});

test("a port reserved by a process that runs is not handed out, not even twice to the same process; once it is gone, it is", async () => {
  const range = await onePort();
  const holder = spawn("sleep", ["60"]);
  children.push(holder);
  fs.writeFileSync(path.join(scratch, String(range.low)), `${holder.pid}\n`);
  await expect(freePort(range, scratch)).rejects.toThrow(/reserved in .* by a process that still runs/);

  holder.kill("SIGKILL");
  await exited(holder);
  expect(await freePort(range, scratch)).toBe(range.low);
  expect(fs.readFileSync(path.join(scratch, String(range.low)), "utf8")).toBe(`${process.pid}\n`);
  await expect(freePort(range, scratch)).rejects.toThrow(/no free port/);
});

test("a reservation whose pid is not written yet is respected for a minute, then taken over", async () => {
  const range = await onePort();
  const file = path.join(scratch, String(range.low));
  fs.writeFileSync(file, "");
  await expect(freePort(range, scratch)).rejects.toThrow(/no free port/);
  const past = new Date(Date.now() - 61_000);
  fs.utimesSync(file, past, past);
  expect(await freePort(range, scratch)).toBe(range.low);
});

test("processes reserving at once in one small range are never handed the same port", async () => {
  // 4 × 120 ports of 600: each process scans from a random start, so without the reservations
  // their scans would overlap (nothing listens on the ports they are handed). Each stays until all
  // have reserved: a process that is gone leaves its reservations to others.
  const everyRange = listenRange();
  const low = everyRange.low + Math.floor(Math.random() * (everyRange.high - everyRange.low - 600));
  const script = `
    const { freePort } = require(${JSON.stringify(PORTS_MODULE)});
    (async () => {
      const ports = [];
      for (let i = 0; i < 120; i++) ports.push(await freePort({ low: ${low}, high: ${low + 600} }, ${JSON.stringify(scratch)}));
      process.stdout.write(JSON.stringify(ports) + "\\n");
      setTimeout(() => undefined, 120_000);
    })().catch((err) => { console.error(err.message); process.exit(1); });`;
  const runs = Array.from({ length: 4 }, () => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    return new Promise<number[]>((resolve, reject) => {
      child.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.endsWith("\n")) resolve(JSON.parse(out) as number[]);
      });
      child.once("exit", (code) => reject(new Error(`a reserving process ended (${code}) before it had reserved its ports: ${err}`)));
    });
  });
  const handed = (await Promise.all(runs)).flat();
  expect(handed).toHaveLength(480);
  expect(new Set(handed).size).toBe(480);
});

test("a server listens only on a port this process reserved: any other is refused before the bind", async () => {
  const reserved = await freePort(listenRange(), scratch);
  // Below the listen range: never handed out, so never reserved.
  const unreserved = listenRange().low - 1;
  const server = net.createServer();
  await expect(listenOnLoopback(server, unreserved)).rejects.toThrow(
    `port ${unreserved} was not reserved by this process: a server's port comes from freePort (lab/ports.ts)`,
  );
  await expect(listenOnLoopback(server, 0)).rejects.toThrow(/port 0 was not reserved/);
  expect(server.listening).toBe(false);
  await listenOnLoopback(server, reserved);
  expect(server.address()).toEqual(expect.objectContaining({ address: LOOPBACK, port: reserved }));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test("a port the render fixes (an app's targetPort) is reserved by number: then served, and refused while in use", async () => {
  // Below the listen range, as a fixed port such as 3000 is: freePort never hands it out.
  const fixed = listenRange().low - 2;
  const server = net.createServer();
  await expect(listenOnLoopback(server, fixed)).rejects.toThrow(/was not reserved by this process/);
  await reservePort(fixed, scratch);
  await listenOnLoopback(server, fixed);
  expect(server.address()).toEqual(expect.objectContaining({ address: LOOPBACK, port: fixed }));
  // Another port in use (a listener outside the allocator): its reservation is refused, naming it.
  const taken = listenRange().low - 3;
  const other = net.createServer();
  await new Promise<void>((resolve) => other.listen(taken, LOOPBACK, () => resolve()));
  await expect(reservePort(taken, scratch)).rejects.toThrow(`port ${taken} on ${LOOPBACK} is in use`);
  await new Promise<void>((resolve) => other.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
