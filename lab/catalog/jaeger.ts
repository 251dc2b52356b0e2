/** The catalogue of Jaeger: the stack's jaeger.yaml made local, spans received over OTLP, stored in Badger and queried back. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { jaegerConfig } from "../../components/tracing/jaeger-config";
import { pinnedBinary } from "../local/binaries";
import { getOk } from "../local/http";
import { LOOPBACK } from "../ports";
import { ManagedProcess } from "../processes/children";
import { sleep, waitFor } from "../processes/supervision";
import { scrapeTwice } from "../local/text-format";
import { JaegerPorts, localJaegerConfig } from "../local/tracing";
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
 * Jaeger with jaegerConfig() (retention 2d) made local as the live lab makes the rendered one
 * (localJaegerConfig: every listener on 127.0.0.1 at a free port, the Badger directories under
 * <tmp>); its OTLP receiver also takes HTTP, for a sender without gRPC. `quick`: Badger's
 * maintenance (every 5 minutes) and its metrics' update (every 10 s) every second.
 */
export async function startJaeger(r: Run, quick = false): Promise<LocalJaeger> {
  const ports: JaegerPorts = {
    otlp: await r.port(),
    query: await r.port(),
    metrics: await r.port(),
    health: await r.port(),
    queryGrpc: await r.port(),
  };
  const rendered = YAML.stringify(jaegerConfig({ retention: "2d" }));
  const made = localJaegerConfig(rendered, r.dir("jaeger", "data"), ports) as {
    receivers: { otlp: { protocols: Record<string, unknown> } };
    extensions: { jaeger_storage: { backends: Record<string, { badger: Record<string, unknown> }> } };
  };
  if (quick) {
    for (const backend of Object.values(made.extensions.jaeger_storage.backends))
      Object.assign(backend.badger, { maintenance_interval: "1s", metrics_update_interval: "1s" });
  }
  const httpPort = await r.port();
  made.receivers.otlp.protocols.http = { endpoint: `${LOOPBACK}:${httpPort}` };
  const file = path.join(r.dir("jaeger"), "jaeger.yaml");
  fs.writeFileSync(file, YAML.stringify(made));
  const command = { binary: pinnedBinary("jaeger"), args: [`--config=${file}`] };
  const proc = r.start("jaeger", command);
  const query = `http://${LOOPBACK}:${ports.query}`;
  await waitFor("Jaeger's query API", () => getOk(`${query}/api/services`), 60_000, 250, [proc]);
  return {
    proc,
    command,
    otlpGrpc: `${LOOPBACK}:${ports.otlp}`,
    otlpHttp: `http://${LOOPBACK}:${httpPort}`,
    query,
    metrics: `http://${LOOPBACK}:${ports.metrics}/metrics`,
  };
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
