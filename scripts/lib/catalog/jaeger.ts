/** The catalogue of Jaeger: the stack's jaeger.yaml made local, spans received over OTLP, stored in Badger and queried back. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { OTLP_PORTS, TRACES_QUERY_PORT } from "../../../components/kit/services";
import { JAEGER_PATHS, jaegerConfig } from "../../../components/tracing/jaeger-config";
import { pinnedBinary } from "../local/binaries";
import { getOk } from "../local/http";
import { LOOPBACK, ManagedProcess, sleep, waitFor } from "../local/processes";
import { scrapeTwice } from "../local/text-format";
import { sendOtlp } from "./otlp";
import { Command, Generated, Run } from "./run";

/** A running Jaeger on the loopback: where it receives OTLP (gRPC host:port, HTTP base URL), its query API and its metrics. */
export interface LocalJaeger {
  proc: ManagedProcess;
  command: Command;
  otlpGrpc: string;
  otlpHttp: string;
  query: string;
  metrics: string;
}

/**
 * Jaeger with jaegerConfig() (retention 2d) where every address is 127.0.0.1 on a free port and
 * the Badger directories are under <tmp>; its OTLP receiver also takes HTTP, for a sender without gRPC.
 * `quick`: Badger's maintenance (every 5 minutes) and its metrics' update (every 10 s) every second.
 */
export async function startJaeger(r: Run, quick = false): Promise<LocalJaeger> {
  const config = jaegerConfig({ retention: "2d" });
  const ports = new Map<string, number>();
  const local = async (endpoint: string) => {
    const [, port] = endpoint.split(":");
    if (!ports.has(port)) ports.set(port, await r.port());
    return `${LOOPBACK}:${ports.get(port)}`;
  };
  const data = r.dir("jaeger", "data");
  const walk = async (node: unknown): Promise<unknown> => {
    if (typeof node === "string") {
      if (/^0\.0\.0\.0:\d+$/.test(node)) return local(node);
      return node.startsWith(JAEGER_PATHS.data) ? path.join(data, node.slice(JAEGER_PATHS.data.length)) : node;
    }
    if (Array.isArray(node)) return Promise.all(node.map(walk));
    if (node && typeof node === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = await walk(v);
      return out;
    }
    return node;
  };
  const made = (await walk(config)) as { receivers: { otlp: { protocols: Record<string, unknown> } }; service: unknown };
  // The metrics reader names its host and port apart.
  const telemetry = (
    made.service as { telemetry: { metrics: { readers: Array<{ pull: { exporter: { prometheus: { host: string; port: number } } } }> } } }
  ).telemetry.metrics.readers[0].pull.exporter.prometheus;
  const metricsPort = await r.port();
  Object.assign(telemetry, { host: LOOPBACK, port: metricsPort });
  if (quick) {
    const badger = (
      made as unknown as { extensions: { jaeger_storage: { backends: Record<string, { badger: Record<string, unknown> }> } } }
    ).extensions.jaeger_storage.backends;
    for (const backend of Object.values(badger))
      Object.assign(backend.badger, { maintenance_interval: "1s", metrics_update_interval: "1s" });
  }
  const httpPort = await r.port();
  made.receivers.otlp.protocols.http = { endpoint: `${LOOPBACK}:${httpPort}` };
  const file = path.join(r.dir("jaeger"), "jaeger.yaml");
  fs.writeFileSync(file, YAML.stringify(made));
  const command = { binary: pinnedBinary("jaeger"), args: [`--config=${file}`] };
  const proc = r.start("jaeger", command);
  const grpc = await local(`0.0.0.0:${OTLP_PORTS.grpc}`);
  const query = `http://${await local(`0.0.0.0:${TRACES_QUERY_PORT}`)}`;
  const metrics = `http://${LOOPBACK}:${metricsPort}/metrics`;
  await waitFor("Jaeger's query API", () => getOk(`${query}/api/services`), 60_000, 250, [proc]);
  return { proc, command, otlpGrpc: grpc, otlpHttp: `http://${LOOPBACK}:${httpPort}`, query, metrics };
}

/** Waits until Jaeger's query API lists `service` (its spans were stored). */
export async function storedService(jaeger: LocalJaeger, service: string): Promise<void> {
  await waitFor(
    `Jaeger storing spans of ${service}`,
    async () => ((await getOk(`${jaeger.query}/api/services`)).includes(`"${service}"`) ? true : undefined),
    60_000,
    250,
    [jaeger.proc],
  );
}

export async function jaeger(r: Run): Promise<Generated> {
  const j = await startJaeger(r, true);
  await sendOtlp(j.otlpHttp, "catalog", ["traces"]);
  await storedService(j, "catalog");
  await getOk(`${j.query}/api/traces?service=catalog&limit=10`);
  await sendOtlp(j.otlpHttp, "catalog", ["traces"]);
  // Past a maintenance pass and a metrics update.
  await sleep(3000);
  const { names } = await scrapeTwice(j.metrics);
  return {
    notes: [
      "Its own /metrics (service.telemetry, level detailed) with the jaeger.yaml of components/tracing/jaeger-config.ts (jaegerConfig, retention 2d): every address on 127.0.0.1 (free ports), the Badger directories under <tmp>, its maintenance (free space, value-log cleaning: every 5 minutes) and metrics update (every 10 s) every second, and an HTTP protocol beside the OTLP receiver's gRPC, which the generator sends to (the receiver's metrics are the same for both). Spans of one service were sent, stored and queried back by service and by trace.",
    ],
    commands: [j.command],
    names,
  };
}
