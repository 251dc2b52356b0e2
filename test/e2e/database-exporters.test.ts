/**
 * A database exporter runs in a pod of its own (components/database-exporters/index.ts), so whatever
 * it does touches only its own target; what matters is that it says plainly what is wrong.
 * This runs the exact exporter releases the stack deploys (.tools/bin) as the kubelet would
 * start the container exporterContainer describes (its args, the environment the kubelet gives
 * it, its TCP probe on the metrics port), against a real PostgreSQL and Redis (Debian
 * packages) and against a database out of reach, and checks what the pod and Prometheus see:
 * - without its DSN Secret the kubelet does not start it (the reference is not optional);
 * - with the database down or out of reach it keeps running, passes its probes (the pod
 *   stays Ready, the target up) and reports the database down (`*_up 0`, which alerts);
 * - with the database up, `*_up 1`, and a database that stops under it flips that to 0.
 */
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type * as k8s from "@pulumi/kubernetes";
import { DATABASE_TYPES, DatabaseType } from "../../components/kit/database-exporters";
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { exporterContainer } from "../../components/database-exporters";
import { preparePostgres, prepareRedis } from "../../lab/local/databases";
import { LOOPBACK, freePort } from "../../lab/ports";
import { sleep } from "../../lab/processes/supervision";
import { StackBinary, stackBinary } from "../../lab/local/binaries";
import { localRun } from "./support/local-run";

const BINARIES: Record<DatabaseType, StackBinary> = {
  postgres: "postgres_exporter",
  redis: "redis_exporter",
  mongodb: "mongodb_exporter",
};
/** The series each exporter reports the database's state with. */
const UP: Record<DatabaseType, string> = { postgres: "pg_up", redis: "redis_up", mongodb: "mongodb_up" };
/** A DSN of each type that reaches nothing (a closed port on the loopback). */
const UNREACHABLE: Record<DatabaseType, string> = {
  postgres: "postgresql://exporter:pw@127.0.0.1:1/postgres?sslmode=disable",
  redis: "redis://127.0.0.1:1",
  mongodb: "mongodb://127.0.0.1:1/admin?serverSelectionTimeoutMS=500",
};

type EnvVar = k8s.types.input.core.v1.EnvVar;

/**
 * The environment the kubelet gives the container, for the Secrets that exist (`secrets`, by
 * name and key); a reference that is not optional to a missing Secret or key keeps the
 * container from starting (CreateContainerConfigError), and the kubelet tries again later.
 */
function kubeletEnv(env: EnvVar[], secrets: Record<string, Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const ref = (e.valueFrom as { secretKeyRef?: { name: string; key: string; optional?: boolean } } | undefined)?.secretKeyRef;
    if (!ref) {
      out[e.name as string] = String(e.value ?? "");
      continue;
    }
    const value = secrets[ref.name]?.[ref.key];
    if (value !== undefined) out[e.name as string] = value;
    else if (!ref.optional) throw new Error(`CreateContainerConfigError: Secret ${ref.name} has no key ${ref.key}`);
  }
  return out;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 20_000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: timed out`)));
    req.on("error", reject);
  });
}

/** The container's TCP probe: a connection to the port, within its timeout. */
function tcpProbe(port: number, timeoutSeconds: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    socket.setTimeout(timeoutSeconds * 1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Every exporter and database server of this file, stopped after its tests. */
const run = localRun();

interface Observation {
  running: boolean;
  output: string;
  /** The readiness probe's answer. */
  ready: boolean;
  up?: string;
}

/** An exporter started as the kubelet would start the container, on a free loopback port. */
async function startExporter(type: DatabaseType, secrets: Record<string, Record<string, string>>) {
  const container = exporterContainer({ name: "db", type, dsnSecret: { name: "dsn", key: "DSN" } });
  const port = await freePort();
  const args = (container.args as string[]).map((a) =>
    a.startsWith("--web.listen-address=") ? `--web.listen-address=${LOOPBACK}:${port}` : a,
  );
  // Nothing of this process's own environment: only what the kubelet would set.
  const proc = run.start(BINARIES[type], stackBinary(BINARIES[type]), args, {
    env: kubeletEnv((container.env ?? []) as EnvVar[], secrets),
    inheritEnv: false,
  });
  const probe = container.readinessProbe as { tcpSocket: { port: string }; timeoutSeconds: number };
  expect(probe.tcpSocket.port).toBe(DATABASE_KINDS[type].portName);
  /** What the kubelet and Prometheus see of it now. */
  const observe = async (): Promise<Observation> => {
    if (!proc.alive) return { running: false, output: proc.output(), ready: false };
    const ready = await tcpProbe(port, probe.timeoutSeconds);
    const metrics = await get(`http://${LOOPBACK}:${port}/metrics`);
    const up = metrics.body.split("\n").find((l) => l.startsWith(`${UP[type]} `) || l.startsWith(`${UP[type]}{`));
    return { running: proc.alive, output: "", ready, up };
  };
  await sleep(3000);
  return { observe, stop: () => proc.kill() };
}

const upIs = (type: DatabaseType, value: 0 | 1) => new RegExp(`^${UP[type]}(\\{[^}]*\\})? ${value}$`);

describe.each([...DATABASE_TYPES])("the %s exporter in its own pod", (type) => {
  test("is not started by the kubelet until its DSN Secret and key exist", () => {
    const { env } = exporterContainer({ name: "db", type, dsnSecret: { name: "dsn", key: "DSN" } });
    expect(() => kubeletEnv(env as EnvVar[], {})).toThrow(/CreateContainerConfigError: Secret dsn has no key DSN/);
    expect(() => kubeletEnv(env as EnvVar[], { dsn: { OTHER: "x" } })).toThrow(/CreateContainerConfigError/);
    expect(kubeletEnv(env as EnvVar[], { dsn: { DSN: UNREACHABLE[type] } })).toEqual({ [DATABASE_KINDS[type].dsnEnv]: UNREACHABLE[type] });
  });

  test("with its database out of reach, keeps running, passes its probe and reports the database down", async () => {
    const exporter = await startExporter(type, { dsn: { DSN: UNREACHABLE[type] } });
    try {
      const seen = await exporter.observe();
      expect({ running: seen.running, output: seen.output, ready: seen.ready }).toEqual({ running: true, output: "", ready: true });
      expect(seen.up).toMatch(upIs(type, 0));
    } finally {
      await exporter.stop();
    }
  }, 60_000);
});

/** A throwaway database server of `type` on a free loopback port, and the DSN its Secret would hold; `stop` kills it, as a crash would. */
async function startDatabase(type: "postgres" | "redis", dir: string): Promise<{ dsn: string; stop: () => Promise<void> }> {
  const port = await freePort();
  if (type === "postgres") {
    const pg = preparePostgres(path.join(dir, "postgres"), port);
    const server = run.start("postgres", pg.command.binary, pg.command.args, { user: pg.command.user, inheritEnv: false });
    await run.waitFor("PostgreSQL accepting connections", () => (pg.psql("SELECT 1").trim() === "1" ? true : undefined), 30_000, 300);
    return { dsn: pg.dsn(), stop: () => server.kill() };
  }
  const redis = prepareRedis(path.join(dir, "redis"), port);
  const server = run.start("redis", redis.command.binary, redis.command.args, { inheritEnv: false });
  await run.waitFor("Redis answering", () => (redis.cli("PING").trim() === "PONG" ? true : undefined), 30_000, 300);
  return { dsn: redis.address, stop: () => server.kill() };
}

describe.each(["postgres", "redis"] as const)("the %s exporter against a real server", (type) => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `exporter-run-${type}-`));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("reports it up, and when it stops, keeps running and passing its probe while reporting it down", async () => {
    const database = await startDatabase(type, dir);
    try {
      const exporter = await startExporter(type, { dsn: { DSN: database.dsn } });
      try {
        const before = await exporter.observe();
        expect({ running: before.running, ready: before.ready }).toEqual({ running: true, ready: true });
        expect(before.up).toMatch(upIs(type, 1));
        await database.stop();
        await sleep(1000);
        const after = await exporter.observe();
        expect({ running: after.running, output: after.output, ready: after.ready }).toEqual({ running: true, output: "", ready: true });
        expect(after.up).toMatch(upIs(type, 0));
      } finally {
        await exporter.stop();
      }
    } finally {
      await database.stop();
    }
  }, 90_000);
});

test("the kubelet's environment, as the test builds it, is what Kubernetes documents", () => {
  expect(kubeletEnv([{ name: "A", valueFrom: { secretKeyRef: { name: "s", key: "k", optional: true } } }], {})).toEqual({});
  expect(kubeletEnv([{ name: "A", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }], { s: { k: "dsn" } })).toEqual({ A: "dsn" });
  expect(() => kubeletEnv([{ name: "A", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }], {})).toThrow(/CreateContainerConfigError/);
});
