/**
 * The traces backend's and the OTLP pipeline's footprint, on the binaries the stack deploys, on
 * 127.0.0.1: the staging stack rendered with an app that sends OTLP (apps[] `checkout`), Jaeger
 * with its rendered config, Alloy with its rendered config (its OTLP endpoint for apps; no control
 * plane here, so its pod lookup passes signals through: lab/local/tracing.ts), Prometheus
 * with its rendered flags (its OTLP receiver) and no scrape job, so that it holds only what the
 * app pushes, and Loki. The app (lab/local/otlp-app.ts, the official SDK) sends at each
 * rate in turn, after an idle phase; every phase is measured from /proc after a warm-up.
 *
 * Then the same app at the highest rate with its metrics sent the other way the issue weighs:
 * Alloy turning them into remote writes (otelcol.exporter.prometheus into prometheus.remote_write,
 * with its write-ahead log) to Prometheus' remote-write receiver, instead of OTLP to its OTLP
 * receiver; traces and logs unchanged. Both ways are measured on Alloy and Prometheus.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { cpuMillicores, quantityBytes } from "../../components/kit/units";
import { OTLP_RECEIVER_BLOCK } from "../local/tracing";
import { OTLP_BENCH_APP, OTLP_SETS } from "./deployed";
import { LocalStack } from "../local/stack";
import { LOOPBACK } from "../ports";
import { ManagedProcess } from "../processes/children";
import { sleep, waitFor } from "../processes/supervision";
import { httpGet, isReady } from "../local/http";
import { alloyRunArgs } from "../local/logs";
import { readOtlpAppStatus, startOtlpApp } from "../local/otlp-app";
import { stackBinary } from "../local/binaries";
import { metricValues, sum } from "../local/text-format";
import { renderStack } from "../../cli/render-stack";
import { PhaseFigures, bytesCell, markdownTable, millicoresCell } from "./figures";
import { Measured, measurePhase } from "./sampling";

const APP = OTLP_BENCH_APP;
const NODE = "k3s-server";

/** One phase: the load, and what each process used. */
export interface OtlpPhase {
  name: string;
  /** What the app sent, per second, measured over the phase. */
  requestsPerSecond: number;
  spansPerSecond: number;
  logsPerSecond: number;
  /** Samples Prometheus appended per second over the phase (the app's metrics). */
  samplesPerSecond: number;
  components: Partial<Record<"alloy" | "jaeger" | "prometheus" | "loki", PhaseFigures>>;
}

export interface OtlpFootprint {
  phases: OtlpPhase[];
  /** The staging profile's limits for the two containers measured against them. */
  limits: Record<"alloy" | "jaeger", { bytes: number; millicores: number }>;
}

export interface OtlpPlan {
  /** Requests a second of each loaded phase (the app makes about 3.7 spans a request). */
  rates: number[];
  warmupSeconds: number;
  seconds: number;
  sampleSeconds: number;
}

export const OTLP_PLAN: OtlpPlan = { rates: [25, 135], warmupSeconds: 20, seconds: 60, sampleSeconds: 5 };
export const OTLP_QUICK_PLAN: OtlpPlan = { rates: [25], warmupSeconds: 10, seconds: 20, sampleSeconds: 5 };

/** The container limits the render gives a workload. */
function limitsOf(stack: LocalStack, kind: string, name: string): { bytes: number; millicores: number } {
  const spec = stack.rendered.kubernetes.find((o) => o.object.kind === kind && o.object.metadata.name === name)?.object.spec as
    { template: { spec: { containers: Array<{ resources: { limits: { cpu: string; memory: string } } }> } } } | undefined;
  const limits = spec?.template.spec.containers[0].resources.limits;
  const bytes = quantityBytes(limits?.memory ?? "");
  const millicores = cpuMillicores(limits?.cpu ?? "");
  if (bytes === undefined || millicores === undefined) throw new Error(`the render has no limits for ${kind} ${name}`);
  return { bytes, millicores };
}

/** The OTLP pipeline with every metric it sends (the apps', the span metrics) turned into remote writes to `writeUrl`, everything else as it was. */
export function remoteWriteVariant(config: string, writeUrl: string): string {
  const at = config.indexOf(OTLP_RECEIVER_BLOCK);
  const toReceiver = "metrics = [otelcol.exporter.otlphttp.prometheus.input]";
  if (at < 0 || !config.includes(toReceiver)) throw new Error("config.alloy sends no OTLP metrics to Prometheus' receiver");
  // The apps' metrics and the span metrics Alloy derives from their spans alike.
  return `${config.replaceAll(toReceiver, "metrics = [otelcol.exporter.prometheus.bench.input]")}
otelcol.exporter.prometheus "bench" {
\tforward_to = [prometheus.remote_write.bench.receiver]
}

prometheus.remote_write "bench" {
\tendpoint {
\t\turl = ${JSON.stringify(writeUrl)}
\t}
}
`;
}

export async function measureOtlp(plan: OtlpPlan): Promise<OtlpFootprint> {
  const stack = new LocalStack("bench-otlp-", 30 * 60_000);
  try {
    await stack.allocatePorts([]);
    stack.rendered = await renderStack({
      stack: "staging",
      sets: OTLP_SETS,
      showSecrets: true,
    });
    const loki = await stack.startLoki();
    // Only what the app pushes: the rendered global settings and OTLP section, no scrape job, no rule.
    const rendered = YAML.parse(stack.rendered.files.get("prometheus/prometheus.yml") ?? "") as Record<string, unknown>;
    const config = path.join(stack.tmp, "prometheus.yml");
    fs.writeFileSync(config, YAML.stringify({ global: rendered.global, otlp: rendered.otlp }));
    const prometheus = await stack.startPrometheus("prometheus", config, stack.ports.prometheus, ["--web.enable-remote-write-receiver"]);
    const jaeger = await stack.startJaeger();
    stack.writeLogTargets([], () => false);
    let alloy = stack.startAlloy(NODE);
    await waitFor("Alloy ready", () => isReady(stack.url("alloy")), 60_000, 500, [alloy]);
    const measured = (): Measured[] => [
      { name: "alloy", proc: alloy, metricsUrl: `${stack.url("alloy")}/metrics` },
      { name: "jaeger", proc: jaeger, metricsUrl: `http://${LOOPBACK}:${stack.ports.jaegerMetrics}/metrics` },
      { name: "prometheus", proc: prometheus, metricsUrl: `${stack.url("prometheus")}/metrics` },
      { name: "loki", proc: loki, metricsUrl: `${stack.url("loki")}/metrics` },
    ];
    const appended = async () =>
      sum(metricValues((await httpGet(`${stack.url("prometheus")}/metrics`, 5000)).body, "prometheus_tsdb_head_samples_appended_total"));

    const phases: OtlpPhase[] = [];
    const phase = async (name: string, rate: number): Promise<void> => {
      const statusFile = path.join(stack.tmp, `app-${phases.length}.json`);
      let app: ManagedProcess | undefined;
      if (rate > 0) {
        app = startOtlpApp(stack.local, {
          endpoint: stack.url("otlp"),
          service: APP,
          namespace: "shop-staging",
          pod: `${APP}-7d9c5b6f4-x2x7z`,
          podUid: "00000000-0000-4000-8000-000000000001",
          rate,
          seconds: plan.warmupSeconds + plan.seconds + 30,
          metricIntervalMs: 15_000,
          statusFile,
        });
      }
      await sleep(plan.warmupSeconds * 1000);
      const before = { status: readOtlpAppStatus(statusFile), samples: await appended(), at: Date.now() };
      const figures = await measurePhase(measured(), plan.seconds, plan.sampleSeconds);
      const after = { status: readOtlpAppStatus(statusFile), samples: await appended(), at: Date.now() };
      const elapsed = (after.at - before.at) / 1000;
      const per = (pick: (s: NonNullable<typeof before.status>) => number) =>
        before.status && after.status ? (pick(after.status) - pick(before.status)) / elapsed : 0;
      phases.push({
        name,
        requestsPerSecond: per((s) => s.requests),
        spansPerSecond: per((s) => s.spans),
        logsPerSecond: per((s) => s.logs),
        samplesPerSecond: (after.samples - before.samples) / elapsed,
        components: figures.components as OtlpPhase["components"],
      });
      await app?.stop();
    };

    await phase("idle (no app)", 0);
    for (const rate of plan.rates) await phase(`${rate} requests/s, metrics to Prometheus' OTLP receiver`, rate);
    // The other way for the metrics: Alloy's remote write, at the highest rate.
    await alloy.stop();
    const variant = path.join(stack.tmp, "config-remote-write.alloy");
    fs.writeFileSync(
      variant,
      remoteWriteVariant(fs.readFileSync(path.join(stack.tmp, "config.alloy"), "utf8"), `${stack.url("prometheus")}/api/v1/write`),
    );
    // The phases above ran one after the other and are over: nothing else holds the collector this replaces.
    // eslint-disable-next-line require-atomic-updates
    alloy = stack.local.start(
      "alloy-remote-write",
      stackBinary("alloy"),
      alloyRunArgs(variant, stack.ports.alloy, path.join(stack.tmp, "alloy-rw")),
      {
        env: { HOSTNAME: NODE },
      },
    );
    await waitFor("Alloy ready (remote write)", () => isReady(stack.url("alloy")), 60_000, 500, [alloy]);
    await phase(`${Math.max(...plan.rates)} requests/s, metrics remote-written by Alloy`, Math.max(...plan.rates));
    return { phases, limits: { alloy: limitsOf(stack, "DaemonSet", "alloy"), jaeger: limitsOf(stack, "StatefulSet", "jaeger") } };
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${stack.diagnostics(20)}`);
  } finally {
    await stack.stop();
  }
}

/** The phases as a Markdown table: the load, then each process's CPU and memory (median RSS, peak RSS), and what it wrote. */
export function otlpTable(f: OtlpFootprint): string {
  const cell = (p: PhaseFigures | undefined) =>
    p
      ? `${millicoresCell(p.millicores)}, ${bytesCell(p.rssBytes)} (peak ${bytesCell(p.peakRssBytes)}), ${bytesCell(p.writtenBytesPerDay)}/day`
      : "–";
  return markdownTable(
    ["phase", "sent (requests/s, spans/s, logs/s)", "samples/s", "alloy", "jaeger", "prometheus", "loki"],
    f.phases.map((p) => [
      p.name,
      `${p.requestsPerSecond.toFixed(1)}, ${p.spansPerSecond.toFixed(0)}, ${p.logsPerSecond.toFixed(1)}`,
      p.samplesPerSecond.toFixed(1),
      cell(p.components.alloy),
      cell(p.components.jaeger),
      cell(p.components.prometheus),
      cell(p.components.loki),
    ]),
  );
}
