/**
 * Alloy's OTLP endpoint for apps (components/log-collector/alloy.ts, otlpBlocks) on the loopback:
 * a span, a counter point and a log line sent to its HTTP receiver, spans to a local Jaeger,
 * metrics (the app's and the span metrics) to a local Prometheus' OTLP receiver, logs to a sink;
 * or, `failing`, every destination refusing or gone. For the catalogues of Alloy (its otelcol_*
 * metrics) and of the span metrics as Prometheus stores them.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { otlpBlocks, otlpMemoryLimiter } from "../../components/log-collector/alloy";
import { AlloyBlock, alloySyntax } from "../../components/log-collector/alloy-syntax";
import { LOG_COLLECTOR_DEFAULTS } from "../../components/log-collector/args";
import { OTLP_PROMOTED_ATTRIBUTES } from "../../components/prometheus/scrape-config";
import { pinnedBinary } from "../local/binaries";
import { getOk, httpGetJson } from "../local/http";
import { alloyRunArgs } from "../local/logs";
import { LOOPBACK } from "../ports";
import { sleep, waitFor } from "../processes/supervision";
import { scrapeTwice } from "../local/text-format";
import { startJaeger, storedService } from "./jaeger";
import { sendOtlp } from "./otlp";
import { Command, Run } from "./run";

export const OTLP_SERVICE = "catalog";

export interface OtlpPipelineRun {
  commands: Command[];
  /** Alloy's own /metrics. */
  alloy: Set<string>;
  /** The series names Prometheus stored from the pipeline's pushes (none when failing). */
  stored: Set<string>;
  /** The label names of the span metrics' calls counter as stored. */
  spanMetricLabels: string[];
  /** The label names of the exemplars stored with the span duration histogram (trace_id, span_id). */
  exemplarLabels: string[];
}

/** A local Prometheus taking OTLP as components/prometheus/ does (receiver, promoted attributes, exemplars), nothing to scrape. */
async function startPrometheus(r: Run): Promise<{ command: Command; base: string }> {
  const dir = r.dir("prometheus");
  const port = await r.port();
  fs.writeFileSync(
    path.join(dir, "prometheus.yml"),
    YAML.stringify({ global: { evaluation_interval: "1s" }, otlp: { promote_resource_attributes: [...OTLP_PROMOTED_ATTRIBUTES] } }),
  );
  const command = {
    binary: pinnedBinary("prometheus"),
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=${LOOPBACK}:${port}`,
      "--web.enable-otlp-receiver",
      "--enable-feature=exemplar-storage",
    ],
  };
  const proc = r.start("prometheus", command);
  const base = `http://${LOOPBACK}:${port}`;
  await waitFor("Prometheus ready", () => getOk(`${base}/-/ready`), 60_000, 250, [proc]);
  return { command, base };
}

/**
 * otlpBlocks() with its receiver on the loopback and without k8sattributes (its pod lookup needs a
 * cluster's API: what fed it, the memory limiter, hands straight to the transform); `failing`: retries cut to a second.
 */
function localPipeline(blocks: AlloyBlock[], ports: { grpc: number; http: number }, failing: boolean): AlloyBlock[] {
  const lookup = blocks.find((b) => b.name === "otelcol.processor.k8sattributes");
  const out = lookup?.blocks?.find((b) => b.name === "output");
  const feedsLookup = (c: AlloyBlock) => c.name === "output" && JSON.stringify(c.attributes).includes("otelcol.processor.k8sattributes.");
  return blocks
    .filter((b) => b !== lookup)
    .map((b) => (b.blocks?.some(feedsLookup) ? { ...b, blocks: b.blocks.map((c) => (feedsLookup(c) ? (out as AlloyBlock) : c)) } : b))
    .map((b) => {
      if (b.name === "otelcol.receiver.otlp") {
        return {
          ...b,
          blocks: [
            { name: "grpc", attributes: [["endpoint", `${LOOPBACK}:${ports.grpc}`]] },
            { name: "http", attributes: [["endpoint", `${LOOPBACK}:${ports.http}`]] },
            ...(b.blocks ?? []).filter((c) => c.name === "output"),
          ],
        } satisfies AlloyBlock;
      }
      if (!failing || !b.name.startsWith("otelcol.exporter.")) return b;
      return {
        ...b,
        blocks: (b.blocks ?? []).map((c) =>
          c.name === "retry_on_failure"
            ? {
                name: c.name,
                attributes: [
                  ["initial_interval", "100ms"],
                  ["max_interval", "200ms"],
                  ["max_elapsed_time", "1s"],
                ],
              }
            : c,
        ),
      } satisfies AlloyBlock;
    });
}

/** How often the run's span metrics are flushed: a stack flushes at its scrape interval; a short one here. */
const SPAN_METRICS_INTERVAL = "5s";

export async function otlpPipelineRun(r: Run, failing: boolean): Promise<OtlpPipelineRun> {
  const name = failing ? "alloy-otlp-refused" : "alloy-otlp";
  const logs = await r.sink();
  logs.status = failing ? 500 : 204;
  const jaeger = failing ? undefined : await startJaeger(r);
  const prometheus = failing ? undefined : await startPrometheus(r);
  // Failing: the metrics are refused as the logs are, the spans go to a port nobody listens on.
  const tracesEndpoint = jaeger?.otlpGrpc ?? `${LOOPBACK}:${await r.port()}`;
  const blocks = otlpBlocks({
    tracesEndpoint,
    prometheusOtlpUrl: prometheus ? `${prometheus.base}/api/v1/otlp` : logs.url("/api/v1/otlp"),
    lokiOtlpUrl: logs.url("/otlp"),
    spanMetricsInterval: SPAN_METRICS_INTERVAL,
    memoryLimiter: otlpMemoryLimiter(LOG_COLLECTOR_DEFAULTS.staging.resources.limits.memory),
  });
  const [port, grpc, http] = [await r.port(), await r.port(), await r.port()];
  const dir = r.dir(name);
  const file = path.join(dir, "config.alloy");
  fs.writeFileSync(file, alloySyntax(localPipeline(blocks, { grpc, http }, failing)));
  const command = { binary: pinnedBinary("alloy"), args: alloyRunArgs(file, port, path.join(dir, "data")) };
  const proc = r.start(name, command);
  const base = `http://${LOOPBACK}:${http}`;
  await waitFor(
    `${name}'s OTLP receiver`,
    () => sendOtlp(base, OTLP_SERVICE, ["traces", "metrics", "logs"]).then(() => true),
    60_000,
    500,
    [proc],
  );
  await sendOtlp(base, OTLP_SERVICE, ["traces", "metrics", "logs"]);
  await waitFor(`${name} sending logs`, () => (logs.requests > 0 ? true : undefined), 60_000, 250, [proc]);
  let stored = new Set<string>();
  let spanMetricLabels: string[] = [];
  let exemplarLabels: string[] = [];
  if (jaeger && prometheus) {
    await storedService(jaeger, OTLP_SERVICE);
    // The span metrics are flushed every SPAN_METRICS_INTERVAL: wait for the first.
    const query = (expr: string) => `${prometheus.base}/api/v1/query?query=${encodeURIComponent(expr)}`;
    await waitFor(
      "the span metrics in Prometheus",
      async () =>
        (await httpGetJson<{ data: { result: unknown[] } }>(query("traces_span_metrics_calls_total"))).data.result.length
          ? true
          : undefined,
      90_000,
      1000,
      [proc],
    );
    const names = await httpGetJson<{ data: string[] }>(`${prometheus.base}/api/v1/label/__name__/values`);
    stored = new Set(names.data);
    const series = await httpGetJson<{ data: Array<Record<string, string>> }>(
      `${prometheus.base}/api/v1/series?match[]=${encodeURIComponent("traces_span_metrics_calls_total")}`,
    );
    spanMetricLabels = [...new Set(series.data.flatMap((s) => Object.keys(s)))].filter((l) => l !== "__name__").sort();
    const now = Date.now() / 1000;
    const exemplars = await httpGetJson<{ data: Array<{ exemplars: Array<{ labels: Record<string, string> }> }> }>(
      `${prometheus.base}/api/v1/query_exemplars?query=${encodeURIComponent("traces_span_metrics_duration_seconds_bucket")}&start=${now - 600}&end=${now + 60}`,
    );
    exemplarLabels = [...new Set(exemplars.data.flatMap((s) => s.exemplars.flatMap((e) => Object.keys(e.labels))))].sort();
  } else {
    // Past the retries (a second), the batches are dropped and counted.
    await sleep(3000);
  }
  const alloy = (await scrapeTwice(`http://${LOOPBACK}:${port}/metrics`)).names;
  await proc.stop();
  return {
    commands: [command, ...(jaeger ? [jaeger.command] : []), ...(prometheus ? [prometheus.command] : [])],
    alloy,
    stored,
    spanMetricLabels,
    exemplarLabels,
  };
}

/** Used by the generators' notes: what the pipeline's run was. */
export const OTLP_RUN_NOTE =
  "Alloy with otlpBlocks() of components/log-collector/alloy.ts (the OTLP endpoint for apps), its receiver on 127.0.0.1 and without otelcol.processor.k8sattributes (its pod lookup needs a cluster's API), sent one span, one counter point and one log line over OTLP/HTTP: spans to a local Jaeger (jaegerConfig), metrics and the span metrics to a local Prometheus' OTLP receiver (promoted attributes and exemplar storage as components/prometheus/ sets them), logs to a local sink.";
