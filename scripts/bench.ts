/**
 * Benchmark: measures what users feel and checks it against the project's targets.
 * Speed, size and latency are checked here, never by timed assertions in tests.
 *
 *   npm run bench [-- --runs <n>] [--json <file>]
 *
 * - render time of each stack (median of n in-process renders);
 * - size of the render and of the largest ConfigMap/Secret (Kubernetes refuses objects over 1 MiB);
 * - render time and largest object with 1 and with 1,000 apps (staging), every object under 512 KiB;
 * - CPU and memory the stack requests from the cluster ("light");
 * - alert delivery latency measured by the end-to-end alerting test, when it has run
 *   (it writes out/bench/alerting-e2e.json);
 * - the log collector's memory and CPU (Alloy, and Promtail for comparison) on the binary
 *   the stack deploys, tailing 50 growing pod log files into a real Loki, against the
 *   limits the staging profile gives it (needs `npm run tools`; `--no-collectors` skips it).
 * Exits non-zero when a target is missed.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { formatBytes } from "../components/units";
import { measureCollector } from "./lib/collector-footprint";
import { kubernetesYaml, requestedResources } from "./lib/render";
import { renderStack } from "./lib/render-stack";
import { manyApps } from "../test/support/many-apps";

interface Measurement {
  name: string;
  value: number;
  unit: string;
  target: number;
  /** "max": the value must stay at or below the target. */
  kind: "max";
  display?: string;
}

const MIB = 1024 * 1024;

/** The targets, per stack profile. Light means a small k3s node can run it next to the apps. */
const TARGETS = {
  renderSeconds: 15,
  largestObjectBytes: 0.9 * MIB,
  /** Whatever the number of apps, every object stays at half the API server's limit. */
  appsLargestObjectBytes: 512 * 1024,
  staging: { millicores: 1500, bytes: 3 * 1024 * MIB },
  production: { millicores: 4000, bytes: 10 * 1024 * MIB },
};

function parseArgs(argv: string[]): { runs: number; json?: string; collectors: boolean } {
  let runs = 3;
  let json: string | undefined;
  let collectors = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--runs") runs = Number(argv[++i]);
    else if (argv[i] === "--json") json = argv[++i];
    else if (argv[i] === "--no-collectors") collectors = false;
    else throw new Error(`unknown argument "${argv[i]}"; usage: npm run bench [-- --runs <n>] [--json <file>] [--no-collectors]`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a whole number of at least 1");
  return { runs, ...(json ? { json } : {}), collectors };
}

/** The log collectors' footprint against the limits the staging profile sets for them. */
async function collectorMeasurements(): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const agent of ["alloy", "promtail"] as const) {
    const f = await measureCollector(agent);
    const load = `${f.linesPerSecond} lines/s from ${f.files} files`;
    out.push(
      {
        name: `${agent}: peak memory (${load})`,
        value: f.peakBytes,
        unit: "B",
        target: f.limitBytes,
        kind: "max",
        display: `${formatBytes(f.peakBytes)} (steady ${formatBytes(f.steadyBytes)}; limit ${formatBytes(f.limitBytes)})`,
      },
      {
        name: `${agent}: CPU (${load})`,
        value: f.millicores,
        unit: "m",
        target: f.limitMillicores,
        kind: "max",
        display: `${f.millicores.toFixed(0)}m (limit ${f.limitMillicores}m)`,
      },
    );
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measureStack(stack: "staging" | "production", runs: number): Promise<Measurement[]> {
  const seconds: number[] = [];
  let rendered: Awaited<ReturnType<typeof renderStack>> | undefined;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    rendered = await renderStack({ stack });
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  if (!rendered) throw new Error("no render");
  const largest = Math.max(
    0,
    ...rendered.kubernetes
      .filter((o) => o.object.kind === "ConfigMap" || o.object.kind === "Secret")
      .map((o) => Buffer.byteLength(YAML.stringify(o.object))),
  );
  const { millicores, bytes } = requestedResources(rendered);
  const yamlBytes = Buffer.byteLength(kubernetesYaml(rendered));
  return [
    {
      name: `${stack}: render time (median of ${runs})`,
      value: median(seconds),
      unit: "s",
      target: TARGETS.renderSeconds,
      kind: "max",
      display: `${median(seconds).toFixed(2)} s`,
    },
    {
      name: `${stack}: largest ConfigMap/Secret`,
      value: largest,
      unit: "B",
      target: TARGETS.largestObjectBytes,
      kind: "max",
      display: formatBytes(largest),
    },
    {
      name: `${stack}: CPU requested`,
      value: millicores,
      unit: "m",
      target: TARGETS[stack].millicores,
      kind: "max",
      display: `${millicores}m`,
    },
    { name: `${stack}: memory requested`, value: bytes, unit: "B", target: TARGETS[stack].bytes, kind: "max", display: formatBytes(bytes) },
    {
      name: `${stack}: kubernetes.yaml size (${rendered.kubernetes.length} objects)`,
      value: yamlBytes,
      unit: "B",
      target: 5 * MIB,
      kind: "max",
      display: formatBytes(yamlBytes),
    },
  ];
}

/** Render time and the largest object (any kind) of the staging stack with `count` apps. */
async function measureApps(count: number, runs: number): Promise<Measurement[]> {
  const sets = [`apps=${JSON.stringify(manyApps(count))}`];
  const seconds: number[] = [];
  let rendered: Awaited<ReturnType<typeof renderStack>> | undefined;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    rendered = await renderStack({ stack: "staging", sets });
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  if (!rendered) throw new Error("no render");
  const sizes = rendered.kubernetes.map((o) => ({
    id: `${o.object.kind}/${o.object.metadata.name}`,
    bytes: Buffer.byteLength(JSON.stringify(o.object)),
  }));
  const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const label = `${count} app${count === 1 ? "" : "s"}`;
  return [
    {
      name: `${label}: render time (median of ${runs})`,
      value: median(seconds),
      unit: "s",
      target: TARGETS.renderSeconds,
      kind: "max",
      display: `${median(seconds).toFixed(2)} s`,
    },
    {
      name: `${label}: largest object (${rendered.kubernetes.length} objects)`,
      value: largest.bytes,
      unit: "B",
      target: TARGETS.appsLargestObjectBytes,
      kind: "max",
      display: `${formatBytes(largest.bytes)} (${largest.id})`,
    },
  ];
}

/** The alert latency the end-to-end test measured, checked against the bound it computed from the config. */
function alertingMeasurements(): Measurement[] {
  const file = path.join(__dirname, "..", "out", "bench", "alerting-e2e.json");
  if (!fs.existsSync(file)) {
    console.log(`(no ${path.relative(process.cwd(), file)}: run the end-to-end alerting test first to include alert latency)`);
    return [];
  }
  const data = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  const out: Measurement[] = [];
  for (const [key, value] of Object.entries(data)) {
    const m = /^(.*)Ms$/.exec(key);
    const bound = data[`${m?.[1]}BoundMs`];
    if (m && !key.endsWith("BoundMs") && typeof value === "number" && typeof bound === "number") {
      out.push({
        name: `alerting: ${m[1]}`,
        value,
        unit: "ms",
        target: bound,
        kind: "max",
        display: `${(value / 1000).toFixed(1)} s (bound ${(bound / 1000).toFixed(1)} s)`,
      });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const measurements = [
    ...(await measureStack("staging", args.runs)),
    ...(await measureStack("production", args.runs)),
    ...(await measureApps(1, args.runs)),
    ...(await measureApps(1000, args.runs)),
    ...alertingMeasurements(),
    ...(args.collectors ? await collectorMeasurements() : []),
  ];
  const width = Math.max(...measurements.map((m) => m.name.length));
  let failed = 0;
  for (const m of measurements) {
    const ok = m.value <= m.target;
    if (!ok) failed += 1;
    console.log(`${ok ? "ok  " : "FAIL"}  ${m.name.padEnd(width)}  ${m.display ?? `${m.value} ${m.unit}`}`);
  }
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify(measurements, null, 2)}\n`);
  console.log(failed === 0 ? `\nall ${measurements.length} targets met` : `\n${failed} of ${measurements.length} targets missed`);
  if (failed > 0) process.exit(1);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
