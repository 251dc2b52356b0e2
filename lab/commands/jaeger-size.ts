/**
 * How Jaeger's store grows: Jaeger on the binary the stack deploys, with the rendered
 * jaeger.yaml (Badger on disk, the profile's retention as its TTL), fed by the rendered OTLP
 * pipeline (Alloy) from the benchmark's app (lab/local/otlp-app.ts) at a stated rate of
 * spans, for a stated time, on 127.0.0.1 only. Every minute it samples:
 *
 * - the size on disk of Badger's directories (`du`: keys, the LSM tree; values, the value log);
 * - what Jaeger caused to be written to storage (/proc/<pid>/io write_bytes);
 * - Jaeger's own metrics about its store (every series whose name holds `badger`), and the spans
 *   it accepted and stored (otelcol_receiver_accepted_spans, otelcol_exporter_sent_spans);
 * - what the app sent (its status file), so that the achieved rate is the one reported.
 *
 *   npm run jaeger-size -- --spans <per second> --minutes <n> [--stack staging] [--ttl <duration>] [--out <dir>]
 *
 * --ttl replaces the rendered retention (Badger's TTL) with a shorter one, such as 10m, to see
 * within a run whether the store levels off once spans expire.
 *
 * Each sample is a JSON line in <out>/samples.jsonl (default out/jaeger-size/<spans>/), the
 * summary in <out>/summary.json. Two runs at once need nothing more: each takes its own free
 * ports and its own directory. Alloy's metrics and logs go to a sink that answers as Prometheus'
 * OTLP receiver and Loki would: only the traces are measured. docs/benchmark.md ("Jaeger's store over an hour") has the figures.
 * Its arguments, what it reads of Jaeger's metrics and its summary are lab/bench/jaeger-size.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { LOOPBACK } from "../ports";
import { ManagedProcess } from "../processes/children";
import { sleep, waitFor } from "../processes/supervision";
import { LocalStack } from "../local/stack";
import { httpGet, isReady, sinkHandler } from "../local/http";
import { readOtlpAppStatus, startOtlpApp } from "../local/otlp-app";
import { metricValues, sum } from "../local/text-format";
import { renderStack } from "../../cli/render-stack";
import { SPANS_PER_REQUEST, SizeSample, badgerSeries, parseArgs, summarize } from "../bench/jaeger-size";
import { JAEGER_PATHS } from "../../components/tracing/jaeger-config";

const APP = "checkout";
const JAEGER_FILE = "tracing/jaeger.yaml";

/** Bytes on disk under `dir` (du -sb counts apparent sizes; -s -B1 counts allocated blocks, what a volume holds). */
export function diskBytes(dir: string): number {
  const du = spawnSync("du", ["-s", "-B1", dir], { encoding: "utf8" });
  if (du.status !== 0) return 0;
  return Number(du.stdout.split(/\s+/)[0]);
}

/** write_bytes of a process. */
function writtenBytes(pid: number): number {
  const m = /^write_bytes:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"));
  return m ? Number(m[1]) : 0;
}

export async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });
  const samplesFile = path.join(args.out, "samples.jsonl");
  fs.writeFileSync(samplesFile, "");
  const stack = new LocalStack("jaeger-size-", (args.minutes + 10) * 60_000);
  // Stopped early (kill <pid>): the stack's processes stop with it.
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void stack.stop().finally(() => process.exit(1)));
  try {
    await stack.allocatePorts([]);
    // The app that sends OTLP, in the namespace its spans come from: Jaeger runs because of it (tracing.enabled follows the apps).
    stack.rendered = await renderStack({
      stack: args.stack,
      sets: [`apps[2]={name: ${APP}, namespace: shop-staging, otlp: true}`],
      showSecrets: true,
    });
    if (args.ttl) {
      const config = YAML.parse(stack.rendered.files.get(JAEGER_FILE) ?? "") as {
        extensions: { jaeger_storage: { backends: Record<string, { badger: { ttl: { spans: string } } }> } };
      };
      for (const backend of Object.values(config.extensions.jaeger_storage.backends)) backend.badger.ttl.spans = args.ttl;
      stack.rendered.files.set(JAEGER_FILE, YAML.stringify(config));
    }
    // Prometheus' OTLP receiver and Loki's push: a sink on their ports (OTLP/HTTP's empty answer is an empty message).
    for (const port of [stack.ports.prometheus, stack.ports.loki])
      await stack.local.serve(
        port,
        sinkHandler(() => ({ status: 200 })),
      );
    const jaeger = await stack.startJaeger();
    stack.writeLogTargets([], () => false);
    const alloy = stack.startAlloy("k3s-server");
    await waitFor("Alloy ready", () => isReady(stack.url("alloy")), 60_000, 500, [alloy]);
    const statusFile = path.join(stack.tmp, "app.json");
    const requests = args.spans / SPANS_PER_REQUEST;
    const app = startOtlpApp(stack.local, {
      endpoint: stack.url("otlp"),
      service: APP,
      namespace: "shop-staging",
      pod: `${APP}-7d9c5b6f4-x2x7z`,
      podUid: "00000000-0000-4000-8000-000000000001",
      rate: requests,
      seconds: args.minutes * 60 + 30,
      metricIntervalMs: 15_000,
      statusFile,
    });
    const started = Date.now();
    // localJaegerConfig puts the pod's paths under <run>/jaeger.
    const keysDir = path.join(stack.tmp, "jaeger", JAEGER_PATHS.data, "keys");
    const valuesDir = path.join(path.dirname(keysDir), "values");
    const jaegerMetrics = `http://${LOOPBACK}:${stack.ports.jaegerMetrics}/metrics`;
    const sample = async (minute: number): Promise<SizeSample> => {
      const procs: ManagedProcess[] = [jaeger, alloy, app];
      for (const p of procs) if (!p.alive) throw new Error(`${p.name} exited\n${p.output(30)}`);
      const text = (await httpGet(jaegerMetrics, 10_000)).body;
      return {
        minute,
        keysBytes: diskBytes(keysDir),
        valuesBytes: diskBytes(valuesDir),
        writtenBytes: writtenBytes(jaeger.pid ?? 0),
        sentSpans: readOtlpAppStatus(statusFile)?.spans ?? 0,
        acceptedSpans: sum(metricValues(text, "otelcol_receiver_accepted_spans_total")),
        storedSpans: sum(metricValues(text, "otelcol_exporter_sent_spans_total")),
        badger: badgerSeries(text),
      };
    };
    process.stdout.write(
      `jaeger-size: ${args.spans} spans/s (${requests.toFixed(2)} requests/s) for ${args.minutes} min; Badger in ${path.dirname(keysDir)}; samples in ${samplesFile}\n`,
    );
    const samples: SizeSample[] = [];
    for (let minute = 1; minute <= args.minutes; minute++) {
      await sleep(Math.max(0, started + minute * 60_000 - Date.now()));
      const s = await sample(minute);
      samples.push(s);
      fs.appendFileSync(samplesFile, `${JSON.stringify(s)}\n`);
      process.stdout.write(
        `min ${minute}: keys ${(s.keysBytes / 2 ** 20).toFixed(1)} MiB, values ${(s.valuesBytes / 2 ** 20).toFixed(1)} MiB, written ${(s.writtenBytes / 2 ** 20).toFixed(1)} MiB, sent ${s.sentSpans} stored ${s.storedSpans} spans\n`,
      );
    }
    const summary = summarize(args, samples);
    fs.writeFileSync(path.join(args.out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    await app.stop();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${stack.diagnostics(30)}\n`);
    process.exitCode = 1;
  } finally {
    await stack.stop();
  }
}
