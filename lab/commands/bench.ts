/**
 * Benchmark: measures what users feel and checks it against the project's targets.
 * Speed, size and latency are checked here, never by timed assertions in tests.
 *
 *   npm run bench [-- --quick | --smoke] [--compare-rules <dir>] [--runs <n>] [--json <file>] [--no-collectors] [--no-live]
 *
 * --smoke is CI's short form (.ci/bench-smoke): --quick with one render each and without
 * `npm run test:quick`, every phase run and timed, no target held; it fails when a phase fails.
 *
 * - the footprint of the stack's exact binaries on a small cluster's workload (lab/bench/live.ts:
 *   about 18 minutes; --quick: 4 minutes at the live lab's fast intervals, which checks the harness and
 *   sizes nothing): per component steady and peak memory (RSS, Go heap), CPU (CPU-seconds per second),
 *   disk written per day; Prometheus' series and rule evaluation time; Loki's ingestion; growth at 20
 *   and 100 apps and 500 pods; alert latency against the bound from the config; the requests and
 *   limits they call for (steady × headroom, peak × headroom: lab/bench/figures.ts);
 * - with --compare-rules <dir>, a second Prometheus of the same release with that directory's rule
 *   files instead of ours on the same workload, both reported side by side with their ratio;
 *
 * - render time of each stack (median of n in-process renders), and of `npm run render` as a whole
 *   process (what a person waits for: Node's start, loading the program and the SDK, rendering, writing);
 * - `npm run test:quick` as a whole process (the folders of test/ that run no binary), against 60 s, and its CPU-seconds;
 * - size of the render and of the largest ConfigMap/Secret (Kubernetes refuses objects over 1 MiB);
 * - render time and largest object with 1 and with 1,000 apps (staging), every object under 512 KiB;
 * - CPU and memory the stack requests from the cluster ("light");
 * - alert delivery latency measured by the end-to-end alerting test, when it has run
 *   (it writes out/bench/alerting-e2e.json);
 * - the log collector's memory and CPU (Alloy) on the binary
 *   the stack deploys, tailing 50 growing pod log files into a real Loki, against the
 *   limits the staging profile gives it (needs `npm run tools`; `--no-collectors` skips it);
 * - kube-state-metrics once or twice on a node with both stack files (lab/bench/ksm-footprint.ts;
 *   about 5 minutes, skipped with the live footprint): the real binary against a local control plane
 *   holding both stacks and both teams' workloads, production's and staging's narrowed instances against
 *   one watching both, and what the sharing costs the Prometheus that scrapes the other's;
 * - the traces backend's and the OTLP pipeline's (Jaeger's and Alloy's) at stated span rates from
 *   an app on the OpenTelemetry SDK, against the same limits, and the app's metrics through
 *   Prometheus' OTLP receiver against Alloy's remote write (lab/bench/otlp-footprint.ts;
 *   about 6 minutes, skipped with the collector's).
 * Everything goes to out/bench/report.json and out/bench/report.md. Exits non-zero when a target is missed.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { formatBytes } from "../../components/kit/units";
import { adminProxyMeasurements, adminProxyTable, measureAdminProxy } from "../bench/admin-proxy";
import { measureCollector } from "../bench/collector-footprint";
import { KSM_PLAN, KSM_QUICK_PLAN, ksmTable } from "../bench/ksm-figures";
import { Measurement } from "../bench/measurement";
import { ksmMeasurements, measureSharedNode } from "../bench/shared-node";
import { measureKubeStateMetrics } from "../bench/ksm-footprint";
import { OTLP_PLAN, OTLP_QUICK_PLAN, OtlpFootprint, measureOtlp, otlpTable } from "../bench/otlp-footprint";
import { BenchArgs, RENDER_PROCESS_SECONDS, parseBenchArgs, readRuleSet } from "../bench/figures";
import { measureQuickTests } from "../bench/quick-tier";
import { FULL_PLAN, LiveResult, QUICK_PLAN, runLive } from "../bench/live";
import { LiveReport, buildLiveReport, liveTables, writeLiveOnlyReport } from "../bench/report";
import { waitTargets } from "../bench/wait-targets";
import { BENCH_STACK_SETS, deployedContainer } from "../bench/deployed";
import type { Component } from "../bench/sampling";
import { kubernetesYaml, requestedResources } from "../../cli/render";
import { renderStack } from "../../cli/render-stack";
import { ROOT } from "../../cli/stackfile";
import { manyApps } from "../local/many-apps";

const MIB = 1024 * 1024;

/** The targets, per stack profile. Light means a small k3s node can run it next to the apps. */
const TARGETS = {
  /** A preview must stay quick: a stack rendered in the bench's process, the program and the SDK already loaded. */
  renderSeconds: 2.5,
  renderProcessSeconds: RENDER_PROCESS_SECONDS,
  /** `npm run test:quick`, the edit–check loop's tests (the folders of test/ that run no binary), as a whole process. */
  quickTestsSeconds: 60,
  manyAppsRenderSeconds: 6,
  largestObjectBytes: 0.9 * MIB,
  /** Whatever the number of apps, every object stays at half the API server's limit. */
  appsLargestObjectBytes: 512 * 1024,
  // What the stack requests on one node, from the profiles npm run bench sized (docs/benchmark.md, "Footprint"):
  // staging 215m and 1.2 GiB, production 320m and 1.48 GiB (no Jaeger: no app of the stack files sends OTLP;
  // with it, 20m/192Mi and 30m/256Mi more); the targets leave room above.
  // The goals were staging in 0.5 CPU and 1 GiB, production in 1.5 CPU and 3 GiB: production
  // meets them; staging's memory cannot without requesting less than its processes use.
  staging: { millicores: 300, bytes: 1.5 * 1024 * MIB },
  production: { millicores: 400, bytes: 2 * 1024 * MIB },
  /**
   * Both stack files on one node, production's log collector serving staging (logCollector.shareWith
   * and sharedFrom, docs/operations.md "One collector for two stacks"): what a small VPS holds.
   */
  sharedNode: { staging: 1024 * MIB, production: 1.5 * 1024 * MIB },
  /**
   * What the proxy in front of Prometheus (while backups turn its admin API on) adds to one query's median, in ms:
   * docs/benchmark.md, "The admin API's proxy", measured 0.6 ms; the bound leaves room for a busier machine.
   */
  adminProxyAddedMs: 2,
};

/** The log collector's footprint against the limits the staging profile sets for it. */
async function collectorMeasurements(): Promise<Measurement[]> {
  const f = await measureCollector();
  const load = `${f.linesPerSecond} lines/s from ${f.files} files`;
  return [
    {
      name: `alloy: peak memory (${load})`,
      value: f.peakBytes,
      unit: "B",
      target: f.limitBytes,
      kind: "max",
      display: `${formatBytes(f.peakBytes)} (steady ${formatBytes(f.steadyBytes)}; limit ${formatBytes(f.limitBytes)})`,
    },
    {
      name: `alloy: CPU (${load})`,
      value: f.millicores,
      unit: "m",
      target: f.limitMillicores,
      kind: "max",
      display: `${f.millicores.toFixed(0)}m (limit ${f.limitMillicores}m)`,
    },
  ];
}

/** Jaeger's and Alloy's footprint at the highest span rate, against the staging profile's limits. */
function otlpMeasurements(f: OtlpFootprint): Measurement[] {
  const loaded = f.phases.filter((p) => p.spansPerSecond > 0 && /OTLP receiver/.test(p.name));
  const top = loaded[loaded.length - 1];
  if (!top) return [];
  const load = `${top.spansPerSecond.toFixed(0)} spans/s`;
  return (["jaeger", "alloy"] as const).flatMap((c) => {
    const p = top.components[c];
    if (!p) return [];
    return [
      {
        name: `${c}: peak memory (${load}, OTLP)`,
        value: p.peakRssBytes,
        unit: "B",
        target: f.limits[c].bytes,
        kind: "max" as const,
        display: `${formatBytes(p.peakRssBytes)} (median ${formatBytes(p.rssBytes)}; limit ${formatBytes(f.limits[c].bytes)})`,
      },
      {
        name: `${c}: CPU (${load}, OTLP)`,
        value: p.millicores,
        unit: "m",
        target: f.limits[c].millicores,
        kind: "max" as const,
        display: `${p.millicores.toFixed(0)}m (limit ${f.limits[c].millicores}m)`,
      },
    ];
  });
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

/**
 * `npm run render` of a stack file as a whole process, median of `runs` after one run that may
 * transpile what changed since the last (cli/fast-start.js).
 */
function measureRenderProcess(stack: "staging" | "production", runs: number): Measurement {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `bench-render-${stack}-`));
  const once = (): number => {
    const start = process.hrtime.bigint();
    const result = spawnSync("npm", ["run", "--silent", "render", "--", "--stack", stack, "--out", out], { cwd: ROOT, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`npm run render -- --stack ${stack} failed:\n${result.stderr}`);
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  try {
    const first = once();
    const seconds = Array.from({ length: runs }, once);
    return {
      name: `${stack}: npm run render, whole process (median of ${runs})`,
      value: median(seconds),
      unit: "s",
      target: TARGETS.renderProcessSeconds,
      kind: "max",
      display: `${median(seconds).toFixed(2)} s (first run ${first.toFixed(2)} s)`,
    };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
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
      target: count > 1 ? TARGETS.manyAppsRenderSeconds : TARGETS.renderSeconds,
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
  const file = path.join(__dirname, "..", "..", "out", "bench", "alerting-e2e.json");
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

/** The live run against the staging profile: what each process used steadily within its request, its peak within its limit, alert latency within its bound. */
async function liveMeasurements(result: LiveResult, report: LiveReport): Promise<Measurement[]> {
  // The staging stack as the live phase ran it (BENCH_STACK_SETS: with node-exporter, whose container is compared too).
  const rendered = await renderStack({ stack: "staging", sets: [...BENCH_STACK_SETS] });
  const out: Measurement[] = [];
  for (const [component, s] of Object.entries(report.components)) {
    // Where it runs in the staging render, found by its image (lab/bench/deployed.ts); not the compared Prometheus.
    const r = s ? deployedContainer(rendered, component as Component) : undefined;
    if (!r || !s) continue;
    const within = (rss: string, value: number, bound: string, target: number): Measurement => ({
      name: `staging ${component}: ${rss} RSS within its ${bound}`,
      value,
      unit: "B",
      target,
      kind: "max",
      display: `${formatBytes(value)} (${bound} ${formatBytes(target)})`,
    });
    out.push(within("steady", s.steadyRssBytes, "request", r.requestBytes), within("peak", s.peakRssBytes, "limit", r.limitBytes));
  }
  // What a person waits for: the rule cycle and the views against kube-prometheus' (with --compare-rules), our slowest panel.
  out.push(...waitTargets(result, report));
  const a = result.alertLatency;
  if (a)
    out.push({
      name: `alerting: ${a.app} down → ${a.alert} delivered`,
      value: a.deliveredAfterSeconds ?? Infinity,
      unit: "s",
      target: a.boundSeconds,
      kind: "max",
      display: `${a.deliveredAfterSeconds === undefined ? "not delivered" : `${a.deliveredAfterSeconds.toFixed(1)} s`} (bound ${a.boundSeconds} s)`,
    });
  return out;
}

/** The machine while the bench ran: the figures are CPU-seconds, but a loaded machine still stretches latencies. */
function machine(): Record<string, unknown> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryBytes: os.totalmem(),
    loadAverage: os.loadavg(),
    kernel: os.release(),
  };
}

/** A phase of the run: its name, how long it took, and why it failed when it did. */
export interface BenchPhase {
  name: string;
  seconds: number;
  error?: string;
}

export async function main(): Promise<void> {
  const args: BenchArgs = parseBenchArgs(process.argv.slice(2));
  const compare = args.compareRules ? readRuleSet(args.compareRules) : undefined;
  const startedAt = new Date().toISOString();
  const machineAtStart = machine();
  const outDir = path.join(__dirname, "..", "..", "out", "bench");
  fs.mkdirSync(outDir, { recursive: true });
  // Each phase is timed; one that fails is named with its error, and the run goes on to the others
  // (one run shows every broken phase), then exits non-zero.
  const phases: BenchPhase[] = [];
  const phase = async <T>(name: string, run: () => Promise<T> | T): Promise<T | undefined> => {
    const t0 = Date.now();
    const stamp = () => `[${new Date().toISOString().slice(11, 19)}] phase ${name}`;
    try {
      const value = await run();
      phases.push({ name, seconds: (Date.now() - t0) / 1000 });
      console.log(`${stamp()}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      return value;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      phases.push({ name, seconds: (Date.now() - t0) / 1000, error });
      console.error(`${stamp()}: FAILED after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${error}`);
      return undefined;
    }
  };
  let live: { result: LiveResult; report: LiveReport; tables: string } | undefined;
  if (args.live) {
    const plan = args.quick ? QUICK_PLAN : FULL_PLAN;
    live = await phase("live footprint", async () => {
      const result = await runLive(plan, compare, (m) => console.log(`[${new Date().toISOString().slice(11, 19)}] live: ${m}`));
      const report = buildLiveReport(result);
      return { result, report, tables: liveTables(result, report) };
    });
    if (live) console.log(`\n${live.tables}\n`);
    // A dashboard whose variable or query Prometheus refused fails the run as a phase of its own.
    const refused = (live?.result.dashboards ?? []).flatMap((run) =>
      [...run.ours, ...(run.theirs ?? [])].flatMap((d) => (d.errorMessages ?? []).map((m) => `${run.phase} ${d.dashboard}: ${m}`)),
    );
    if (refused.length > 0) {
      phases.push({ name: "dashboards", seconds: 0, error: refused.join("\n") });
      console.error(`phase dashboards: FAILED: ${refused.length} queries or variables refused:\n${refused.join("\n")}`);
    }
  }
  if (args.liveOnly) {
    // The live phase alone: its report, no other phase and no target.
    writeLiveOnlyReport(outDir, { startedAt, machine: { atStart: machineAtStart, atEnd: machine() }, phases, live });
    console.log(`\nphases: ${phases.map((p) => `${p.name} ${p.seconds.toFixed(0)} s${p.error ? " FAILED" : ""}`).join(", ")}`);
    if (phases.some((p) => p.error)) process.exit(1);
    return;
  }
  const otlp = args.collectors ? await phase("traces and OTLP", () => measureOtlp(args.quick ? OTLP_QUICK_PLAN : OTLP_PLAN)) : undefined;
  if (otlp) console.log(`\n${otlpTable(otlp)}\n`);
  const ksm = args.live
    ? await phase("kube-state-metrics once or twice", () =>
        measureKubeStateMetrics(args.quick ? KSM_QUICK_PLAN : KSM_PLAN, (m) =>
          console.log(`[${new Date().toISOString().slice(11, 19)}] ksm: ${m}`),
        ),
      )
    : undefined;
  if (ksm) console.log(`\n${ksmTable(ksm)}\n`);
  const adminProxy = args.collectors ? await phase("the admin API's proxy", () => measureAdminProxy(args.quick ? 200 : 2000)) : undefined;
  if (adminProxy) console.log(`\n${adminProxyTable(adminProxy)}\n`);
  const measured = async (name: string, run: () => Promise<Measurement[]> | Measurement[]) => (await phase(name, run)) ?? [];
  const measurements = [
    ...(await measured("staging render", () => measureStack("staging", args.runs))),
    ...(await measured("production render", () => measureStack("production", args.runs))),
    ...(await measured("two stacks on one node", () => measureSharedNode(TARGETS.sharedNode))),
    ...(await measured("npm run render, whole process", () => [
      measureRenderProcess("staging", args.runs),
      measureRenderProcess("production", args.runs),
    ])),
    // CI runs npm run test:quick itself: its smoke run does not run it again.
    ...(args.smoke ? [] : await measured("npm run test:quick, whole process", () => [measureQuickTests(TARGETS.quickTestsSeconds)])),
    ...(await measured("1 app", () => measureApps(1, args.runs))),
    ...(await measured("1,000 apps", () => measureApps(1000, args.runs))),
    ...alertingMeasurements(),
    ...(args.collectors ? await measured("the log collector", () => collectorMeasurements()) : []),
    ...(otlp && !args.quick ? otlpMeasurements(otlp) : []),
    ...(adminProxy && !args.quick ? adminProxyMeasurements(adminProxy, TARGETS.adminProxyAddedMs) : []),
    ...(ksm && !args.quick ? await measured("kube-state-metrics figures", () => ksmMeasurements(ksm)) : []),
    // A quick run's figures come from fast intervals and short phases: they size nothing and are no target.
    ...(live && !args.quick ? await measured("live figures", () => liveMeasurements(live.result, live.report)) : []),
  ];
  const width = Math.max(0, ...measurements.map((m) => m.name.length));
  let failed = 0;
  for (const m of measurements) {
    const ok = m.value <= m.target;
    if (!ok) failed += 1;
    console.log(`${ok ? "ok  " : "FAIL"}  ${m.name.padEnd(width)}  ${m.display ?? `${m.value} ${m.unit}`}`);
  }
  const broken = phases.filter((p) => p.error);
  const report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { atStart: machineAtStart, atEnd: machine() },
    quick: args.quick,
    smoke: args.smoke,
    phases,
    targets: measurements.map((m) => ({ ...m, met: m.value <= m.target })),
    ...(live ? { live: { ...live.result, report: live.report } } : {}),
    ...(otlp ? { otlp } : {}),
    ...(ksm ? { kubeStateMetrics: ksm } : {}),
    ...(adminProxy ? { adminProxy } : {}),
  };
  fs.writeFileSync(path.join(outDir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(
    path.join(outDir, "report.md"),
    `# npm run bench, ${startedAt}\n\nMachine: ${JSON.stringify(report.machine)}\n\n### Phases\n\n${phases
      .map((p) => `- ${p.error ? "FAILED" : "ok"} ${p.name}: ${p.seconds.toFixed(0)} s${p.error ? ` (${p.error.split("\n")[0]})` : ""}`)
      .join(
        "\n",
      )}\n\n${live?.tables ?? ""}\n\n${otlp ? `### Traces and OTLP\n\n${otlpTable(otlp)}\n\n` : ""}${ksm ? `### kube-state-metrics once or twice\n\n${ksmTable(ksm)}\n\n` : ""}${adminProxy ? `### The admin API's proxy\n\n${adminProxyTable(adminProxy)}\n\n` : ""}### Targets${args.smoke ? " (a smoke run holds none)" : ""}\n\n${measurements
      .map((m) => `- ${m.value <= m.target ? "ok" : "FAIL"} ${m.name}: ${m.display ?? `${m.value} ${m.unit}`}`)
      .join("\n")}\n`,
  );
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify(measurements, null, 2)}\n`);
  console.log(`\nphases: ${phases.map((p) => `${p.name} ${p.seconds.toFixed(0)} s${p.error ? " FAILED" : ""}`).join(", ")}`);
  if (broken.length > 0) console.log(`${broken.length} of ${phases.length} phases failed: ${broken.map((p) => p.name).join(", ")}`);
  if (args.smoke) {
    console.log(
      `smoke run: ${phases.length - broken.length} of ${phases.length} phases ran; targets not held (${failed} of ${measurements.length} missed)`,
    );
    if (broken.length > 0) process.exit(1);
    return;
  }
  console.log(failed === 0 ? `\nall ${measurements.length} targets met` : `\n${failed} of ${measurements.length} targets missed`);
  if (failed > 0 || broken.length > 0) process.exit(1);
}
