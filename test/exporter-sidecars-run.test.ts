/**
 * A sidecar must never take its database out of service: Kubernetes counts every container's
 * readiness in the pod's, so the exporter container has to keep running whatever is wrong with
 * its DSN. This runs the exact exporter releases the stack deploys (.tools/bin) as the kubelet
 * would start the sidecar container of components/exporter-sidecars.ts, with the environment
 * the kubelet would give it when the DSN Secret or its key is missing, or when the database
 * cannot be reached, and checks that each keeps running and reports the database down.
 */
import { ChildProcess, spawn } from "child_process";
import * as http from "http";
import type * as k8s from "@pulumi/kubernetes";
import { DatabaseType, EXPORTER_KINDS, exporterSidecarContainer } from "../components/exporter-sidecars";
import { LOOPBACK, freePort } from "../scripts/lib/cluster/processes";
import { StackBinary, stackBinary } from "./support/binaries";

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
 * The environment the kubelet gives a container, for the Secrets that exist (`secrets`, by
 * name and key): an optional reference to a missing Secret or key sets nothing, and a
 * `$(VAR)` reference to a variable that is not set stays as it is written.
 */
function kubeletEnv(env: EnvVar[], secrets: Record<string, Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const ref = (e.valueFrom as { secretKeyRef?: { name: string; key: string; optional?: boolean } } | undefined)?.secretKeyRef;
    if (ref) {
      const value = secrets[ref.name]?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new Error(`the kubelet would not start the container: Secret ${ref.name} has no key ${ref.key} (CreateContainerConfigError)`);
      }
      out[e.name as string] = value;
    } else {
      out[e.name as string] = String(e.value ?? "").replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (ref2, name: string) => out[name] ?? ref2);
    }
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts the sidecar container's exporter as the kubelet would (its args, with the listen
 * address on a free loopback port, and the kubelet's environment), waits a few seconds, and
 * says whether it still runs and what it reports.
 */
async function runSidecar(
  type: DatabaseType,
  secrets: Record<string, Record<string, string>>,
): Promise<{ running: boolean; output: string; up?: string }> {
  const container = exporterSidecarContainer({ name: "db", type, dsnSecret: { name: "dsn", key: "DSN" } });
  const port = await freePort();
  const args = (container.args as string[]).map((a) =>
    a.startsWith("--web.listen-address=") ? `--web.listen-address=${LOOPBACK}:${port}` : a,
  );
  // Nothing of this process's own environment: only what the kubelet would set.
  const child = spawn(stackBinary(BINARIES[type]), args, {
    env: kubeletEnv((container.env ?? []) as EnvVar[], secrets),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString("utf8")));
  let exited = false;
  child.once("exit", () => (exited = true));
  try {
    await sleep(3000);
    if (exited) return { running: false, output };
    const metrics = await get(`http://${LOOPBACK}:${port}/metrics`);
    const up = metrics.body.split("\n").find((l) => l.startsWith(`${UP[type]} `) || l.startsWith(`${UP[type]}{`));
    return { running: !exited, output, up };
  } finally {
    child.kill("SIGKILL");
    running.delete(child);
  }
}

describe.each(Object.keys(EXPORTER_KINDS) as DatabaseType[])("the %s sidecar keeps running, and says the database is down", (type) => {
  test("when its DSN Secret is missing", async () => {
    const result = await runSidecar(type, {});
    expect({ running: result.running, output: result.running ? "" : result.output }).toEqual({ running: true, output: "" });
    expect(result.up).toMatch(new RegExp(`^${UP[type]}(\\{[^}]*\\})? 0$`));
  }, 60_000);

  test("when the Secret lacks its key", async () => {
    const result = await runSidecar(type, { dsn: { OTHER: "x" } });
    expect(result.running).toBe(true);
    expect(result.up).toMatch(new RegExp(`^${UP[type]}(\\{[^}]*\\})? 0$`));
  }, 60_000);

  test("when the database cannot be reached", async () => {
    const result = await runSidecar(type, { dsn: { DSN: UNREACHABLE[type] } });
    expect(result.running).toBe(true);
    expect(result.up).toMatch(new RegExp(`^${UP[type]}(\\{[^}]*\\})? 0$`));
  }, 60_000);
});

test("the kubelet's environment, as the test builds it, is what Kubernetes documents", () => {
  const env: EnvVar[] = [
    { name: "A", valueFrom: { secretKeyRef: { name: "s", key: "k", optional: true } } },
    { name: "B", value: "$(A)" },
  ];
  expect(kubeletEnv(env, {})).toEqual({ B: "$(A)" });
  expect(kubeletEnv(env, { s: { k: "dsn" } })).toEqual({ A: "dsn", B: "dsn" });
  expect(() => kubeletEnv([{ name: "A", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }], {})).toThrow(/CreateContainerConfigError/);
});
