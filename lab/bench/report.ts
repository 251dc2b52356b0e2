import * as fs from "fs";
import * as path from "path";
/**
 * The live run's report: per component its steady and peak figures, the requests and
 * limits they call for in each profile, the comparison of two rule sets, and readable
 * tables. Pure: it reads a LiveResult, runs nothing (tested offline).
 */
import type { LiveResult } from "./live";
import { DashboardRun, SLOW_PANEL_SECONDS, ViewSide, viewFigures } from "./dashboard-timing";
import type { Component, PrometheusFigures } from "./sampling";
import {
  HEADROOM,
  PhaseFigures,
  Sizing,
  bytesCell,
  cycleShare,
  markdownTable,
  mebibytesQuantity,
  millicoresCell,
  millicoresQuantity,
  ratioCell,
  ratios,
  sizeFrom,
} from "./figures";

/** Where a component's requests and limits live in the profiles (config/index.ts). */
export const PROFILE_KEY: Record<Exclude<Component, "prometheus-compare">, string> = {
  prometheus: "prometheus.resources",
  alertmanager: "alertmanager.resources",
  loki: "loki.resources",
  alloy: "logCollector.resources (Alloy)",
  jaeger: "tracing.resources",
  "node-exporter": "nodeExporter.resources",
  "postgres-exporter": "EXPORTER_RESOURCES",
  "redis-exporter": "EXPORTER_RESOURCES",
};

/**
 * Loki's ingester keeps a stream's chunks in memory until they are max_chunk_age old (2 h,
 * Loki's default, which the rendered config keeps) unless the stream goes idle or a chunk
 * fills up; the workload's streams never do within a run of minutes. Its memory therefore
 * keeps growing for two hours: the sizing adds what those two hours of chunks take.
 */
export const LOKI_MAX_CHUNK_AGE_SECONDS = 2 * 3600;

export interface ComponentSummary {
  steadyRssBytes: number;
  steadyHeapBytes?: number;
  steadyMillicores: number;
  /** Highest over the steady phase and the burst (CPU: between two samples). */
  peakRssBytes: number;
  peakHeapBytes?: number;
  peakMillicores: number;
  burstMillicores: number;
  writtenBytesPerDay: number;
  burstWrittenBytesPerDay: number;
  /** Memory the run was too short to see, added to the steady and peak figures for sizing (Loki's two hours of chunks). */
  longRunAllowanceBytes: number;
}

const maxDefined = (...values: Array<number | undefined>) => {
  const v = values.filter((x): x is number => x !== undefined);
  return v.length ? Math.max(...v) : undefined;
};

/** Steady and peak of one component, from the steady phase and the burst. */
export function summarize(steady: PhaseFigures, burst: PhaseFigures, longRunAllowanceBytes = 0): ComponentSummary {
  const peakHeap = maxDefined(steady.peakHeapBytes, burst.peakHeapBytes);
  return {
    steadyRssBytes: steady.rssBytes,
    ...(steady.heapBytes !== undefined ? { steadyHeapBytes: steady.heapBytes } : {}),
    steadyMillicores: steady.millicores,
    peakRssBytes: Math.max(steady.peakRssBytes, burst.peakRssBytes),
    ...(peakHeap !== undefined ? { peakHeapBytes: peakHeap } : {}),
    peakMillicores: Math.max(steady.peakMillicores, burst.peakMillicores),
    burstMillicores: burst.millicores,
    writtenBytesPerDay: steady.writtenBytesPerDay,
    burstWrittenBytesPerDay: burst.writtenBytesPerDay,
    longRunAllowanceBytes,
  };
}

/** Go's collector lets the heap reach twice the live data before it collects (GOGC=100): live bytes added cost up to twice as much resident memory. */
export const GO_HEAP_GROWTH = 2;

/**
 * What Loki's ingester adds until its chunks are max_chunk_age old: the bytes it receives
 * per second (steady), compressed as its flushed chunks were, for the time the run did not
 * reach, times the Go heap's growth. Without a flush measurement, the bytes uncompressed
 * (an upper bound).
 */
export function lokiAllowance(
  bytesPerSecond: number,
  secondsSinceStart: number,
  flush?: { receivedBytes: number; chunkBytes: number },
): number {
  const compression = flush && flush.chunkBytes > 0 ? Math.max(1, flush.receivedBytes / flush.chunkBytes) : 1;
  return (GO_HEAP_GROWTH * Math.max(0, bytesPerSecond) * Math.max(0, LOKI_MAX_CHUNK_AGE_SECONDS - secondsSinceStart)) / compression;
}

export interface LiveReport {
  components: Partial<Record<Component, ComponentSummary>>;
  /** Requests and limits per profile and profile key; the exporters share one (the larger of the two). */
  sizing: Record<"staging" | "production", Record<string, Sizing & { quantities: string }>>;
  growth: Array<{
    phase: string;
    apps: number;
    pods: number;
    headSeries?: number;
    ruleEvaluationSeconds?: number;
    meanRuleEvaluationSeconds?: number;
    prometheusRssBytes?: number;
    prometheusMillicores?: number;
    lokiLinesPerSecond: number;
  }>;
  /** Per timing of the dashboards (steady, and at 100 apps and 500 pods): each view, ours and kube-prometheus'. */
  dashboardViews: Array<{ phase: string; apps: number; pods: number; views: ReturnType<typeof viewFigures> }>;
  comparison?: {
    ours: Record<string, number | undefined>;
    theirs: Record<string, number | undefined>;
    ratio: Record<string, number>;
  };
}

function phase(result: LiveResult, name: string) {
  const p = result.phases.find((x) => x.name === name);
  if (!p) throw new Error(`the run has no ${name} phase`);
  return p;
}

/** Figures of one Prometheus, for the side by side. */
function prometheusFigures(s: ComponentSummary | undefined, steady?: PrometheusFigures, burst?: PrometheusFigures) {
  return {
    steadyRssBytes: s?.steadyRssBytes,
    steadyHeapBytes: s?.steadyHeapBytes,
    peakRssBytes: s?.peakRssBytes,
    steadyMillicores: s?.steadyMillicores,
    burstMillicores: s?.burstMillicores,
    headSeries: steady?.headSeries,
    burstHeadSeries: burst?.headSeries,
    ruleEvaluationSeconds: steady?.ruleEvaluationSeconds,
    burstRuleEvaluationSeconds: burst?.ruleEvaluationSeconds,
    meanRuleEvaluationSeconds: steady?.meanRuleEvaluationSeconds,
    burstMeanRuleEvaluationSeconds: burst?.meanRuleEvaluationSeconds,
    rules: steady?.rules,
    writtenBytesPerDay: s?.writtenBytesPerDay,
  };
}

export function buildLiveReport(result: LiveResult): LiveReport {
  const steady = phase(result, "steady");
  const burst = phase(result, "burst");
  const components: LiveReport["components"] = {};
  for (const c of Object.keys(steady.components) as Component[]) {
    const s = steady.components[c];
    const b = burst.components[c];
    const sinceStart = result.plan.warmupSeconds + result.plan.steadySeconds;
    if (s && b) components[c] = summarize(s, b, c === "loki" ? lokiAllowance(steady.loki.bytesPerSecond, sinceStart, result.lokiFlush) : 0);
  }
  const sizing = { staging: {}, production: {} } as LiveReport["sizing"];
  for (const profile of ["staging", "production"] as const) {
    const byKey = new Map<string, ComponentSummary>();
    for (const [c, s] of Object.entries(components) as Array<[Component, ComponentSummary]>) {
      if (c === "prometheus-compare") continue;
      const key = PROFILE_KEY[c];
      const prev = byKey.get(key);
      byKey.set(
        key,
        prev
          ? {
              ...prev,
              steadyRssBytes: Math.max(prev.steadyRssBytes, s.steadyRssBytes),
              peakRssBytes: Math.max(prev.peakRssBytes, s.peakRssBytes),
              steadyMillicores: Math.max(prev.steadyMillicores, s.steadyMillicores),
              peakMillicores: Math.max(prev.peakMillicores, s.peakMillicores),
            }
          : s,
      );
    }
    for (const [key, s] of byKey) {
      const size = sizeFrom(
        { ...s, steadyRssBytes: s.steadyRssBytes + s.longRunAllowanceBytes, peakRssBytes: s.peakRssBytes + s.longRunAllowanceBytes },
        HEADROOM[profile],
      );
      sizing[profile][key] = {
        ...size,
        quantities: `requests ${millicoresQuantity(size.cpuRequestMillicores)}/${mebibytesQuantity(size.memoryRequestBytes)}, memory limit ${mebibytesQuantity(size.memoryLimitBytes)}`,
      };
    }
  }
  const growth = result.phases.map((p) => ({
    phase: p.name,
    apps: p.shape.apps,
    pods: p.shape.pods,
    headSeries: p.prometheus.prometheus?.headSeries,
    ruleEvaluationSeconds: p.prometheus.prometheus?.ruleEvaluationSeconds,
    meanRuleEvaluationSeconds: p.prometheus.prometheus?.meanRuleEvaluationSeconds,
    prometheusRssBytes: p.components.prometheus?.rssBytes,
    prometheusMillicores: p.components.prometheus?.millicores,
    lokiLinesPerSecond: p.loki.linesPerSecond,
  }));
  const dashboardViews = (result.dashboards ?? []).map((run) => ({
    phase: run.phase,
    apps: run.apps,
    pods: run.pods,
    views: viewFigures(run),
  }));
  const report: LiveReport = { components, sizing, growth, dashboardViews };
  if (components["prometheus-compare"]) {
    const ours = prometheusFigures(components.prometheus, steady.prometheus.prometheus, burst.prometheus.prometheus);
    const theirs = prometheusFigures(
      components["prometheus-compare"],
      steady.prometheus["prometheus-compare"],
      burst.prometheus["prometheus-compare"],
    );
    report.comparison = { ours, theirs, ratio: ratios(ours, theirs) };
  }
  return report;
}

const secondsCell = (s: number | undefined) => (s === undefined ? "–" : s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);
const countCell = (n: number | undefined) => (n === undefined ? "–" : Math.round(n).toLocaleString("en-US"));

/** The readable tables of a live run. */
export function liveTables(result: LiveResult, report: LiveReport): string {
  const out: string[] = [];
  out.push(
    "### Footprint per component (steady, and peak over steady + burst)",
    "",
    markdownTable(
      [
        "component",
        "RSS steady",
        "RSS peak",
        "Go heap steady",
        "Go heap peak",
        "CPU steady",
        "CPU burst",
        "CPU peak",
        "written/day",
        "added for sizing",
      ],
      (Object.entries(report.components) as Array<[Component, ComponentSummary]>).map(([c, s]) => [
        c,
        bytesCell(s.steadyRssBytes),
        bytesCell(s.peakRssBytes),
        bytesCell(s.steadyHeapBytes),
        bytesCell(s.peakHeapBytes),
        millicoresCell(s.steadyMillicores),
        millicoresCell(s.burstMillicores),
        millicoresCell(s.peakMillicores),
        bytesCell(s.writtenBytesPerDay),
        s.longRunAllowanceBytes ? `${bytesCell(s.longRunAllowanceBytes)} (2 h of chunks)` : "–",
      ]),
    ),
    "",
    "### Requests and memory limits from the measurement (steady × headroom, peak × headroom: lab/bench/figures.ts)",
    "",
    markdownTable(
      ["profile", "key", "request CPU", "request memory", "limit memory"],
      (["staging", "production"] as const).flatMap((profile) =>
        Object.entries(report.sizing[profile]).map(([key, s]) => [
          profile,
          key,
          millicoresQuantity(s.cpuRequestMillicores),
          mebibytesQuantity(s.memoryRequestBytes),
          mebibytesQuantity(s.memoryLimitBytes),
        ]),
      ),
    ),
    "",
    "### Growth",
    "",
    markdownTable(
      ["phase", "apps", "pods", "head series", "rule evaluation / cycle", "(mean)", "Prometheus RSS", "Prometheus CPU", "log lines/s"],
      report.growth.map((g) => [
        g.phase,
        String(g.apps),
        String(g.pods),
        countCell(g.headSeries),
        secondsCell(g.ruleEvaluationSeconds),
        secondsCell(g.meanRuleEvaluationSeconds),
        bytesCell(g.prometheusRssBytes),
        millicoresCell(g.prometheusMillicores),
        g.lokiLinesPerSecond.toFixed(0),
      ]),
    ),
  );
  if (result.alertLatency) {
    const a = result.alertLatency;
    out.push(
      "",
      `Alert latency: ${a.app} down → ${a.alert} delivered ${a.deliveredAfterSeconds === undefined ? "NOT delivered" : `after ${a.deliveredAfterSeconds.toFixed(1)} s`} (bound from the config: ${a.boundSeconds} s).`,
    );
  }
  if (report.comparison && result.compareRules) {
    const c = report.comparison;
    const r = result.compareRules;
    const rows: Array<[string, string, (v: number | undefined) => string]> = [
      ["rules", "rules", countCell],
      ["RSS steady", "steadyRssBytes", bytesCell],
      ["RSS peak", "peakRssBytes", bytesCell],
      ["Go heap steady", "steadyHeapBytes", bytesCell],
      ["CPU steady", "steadyMillicores", millicoresCell],
      ["CPU burst", "burstMillicores", millicoresCell],
      ["head series steady", "headSeries", countCell],
      ["head series after burst", "burstHeadSeries", countCell],
      ["rule evaluation / cycle, steady", "ruleEvaluationSeconds", secondsCell],
      ["rule evaluation / cycle, burst", "burstRuleEvaluationSeconds", secondsCell],
      ["rule evaluation / cycle, mean of every evaluation, steady", "meanRuleEvaluationSeconds", secondsCell],
      ["rule evaluation / cycle, mean of every evaluation, burst", "burstMeanRuleEvaluationSeconds", secondsCell],
      ["written/day", "writtenBytesPerDay", bytesCell],
    ];
    out.push(
      "",
      `### Side by side: our rules (${result.ourRules.alerts} alerts, ${result.ourRules.records} recording rules in ${result.ourRules.groups} groups) and ${r.dir} (${r.alerts} alerts, ${r.records} recording rules in ${r.groups} groups), same Prometheus, same workload`,
      "",
      markdownTable(
        ["figure", "ours", "theirs", "theirs / ours"],
        rows.map(([label, key, cell]) => [label, cell(c.ours[key]), cell(c.theirs[key]), ratioCell(c.ratio[key])]),
      ),
    );
  }
  out.push("", ruleGroupTable(result));
  for (const run of result.dashboards ?? []) out.push("", dashboardTables(run, result.anchorDashboards));
  return out.join("\n");
}

/** A view's panels, and how many of them answered no series: a side that reads nothing answers fast. */
const panelsCell = (side: ViewSide) => (side.emptyPanels > 0 ? `${side.panels} (${side.emptyPanels} without data)` : String(side.panels));

/** One timing of the dashboards: every dashboard, the views side by side, and the panels over the bound with their queries. */
export function dashboardTables(run: DashboardRun, anchorDir?: string): string {
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  const rows = [...run.ours.map((d) => ["ours", d] as const), ...(run.theirs ?? []).map((d) => ["kube-prometheus", d] as const)];
  const out = [
    `### Dashboards at ${run.phase} (${run.apps} apps, ${run.pods} pods): every panel's queries as Grafana sends them, one at a time`,
    "",
    markdownTable(
      ["side", "dashboard", "panels", "queries", "panels without data", "errors", "total", "slowest panel"],
      rows.map(([side, d]) => [
        side,
        d.view
          ? `${d.dashboard}, for the ${d.view} view (${Object.entries(d.variables)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ")})`
          : d.dashboard,
        String(d.panels),
        String(d.queries),
        String(d.emptyPanels),
        String(d.errors),
        ms(d.seconds),
        d.slowest ? `${ms(d.slowest.seconds)} (${d.slowest.panel})` : "–",
      ]),
    ),
  ];
  const views = viewFigures(run);
  if (run.theirs) {
    out.push(
      "",
      `Views side by side (ours against our rules, kube-prometheus' against theirs${anchorDir ? `, from ${anchorDir}` : ""}):`,
      "",
      markdownTable(
        ["view", "ours", "panels", "total", "slowest panel", "kube-prometheus", "panels", "total", "slowest panel", "theirs / ours"],
        views.map((v) => [
          v.view,
          v.ours.dashboards.join(", "),
          panelsCell(v.ours),
          ms(v.ours.seconds),
          ms(v.ours.slowestSeconds),
          v.theirs?.dashboards.join(", ") ?? "–",
          v.theirs ? panelsCell(v.theirs) : "–",
          v.theirs ? ms(v.theirs.seconds) : "–",
          v.theirs ? ms(v.theirs.slowestSeconds) : "–",
          ratioCell(v.ratio),
        ]),
      ),
    );
  }
  const slow = rows.flatMap(([side, d]) => d.slowPanels.filter((p) => p.seconds > SLOW_PANEL_SECONDS).map((p) => ({ side, d, p })));
  out.push("", `Panels over ${ms(SLOW_PANEL_SECONDS)}: ${slow.length === 0 ? "none" : ""}`);
  for (const { side, d, p } of slow) {
    out.push(`- ${side} ${d.dashboard}, ${p.panel}: ${ms(p.seconds)}`);
    for (const q of p.detail ?? [])
      out.push(`  - ${ms(q.seconds)}, ${q.series} series, ${q.samples ?? "?"} samples (${q.path.replace("/api/v1/", "")}): \`${q.query}\``);
  }
  return out.join("\n");
}

/** Where one rule-evaluation cycle goes, steady and in the burst: the costliest groups of each Prometheus (median of each group's last evaluation). */
export function ruleGroupTable(result: LiveResult, top = 8): string {
  const steady = phase(result, "steady").prometheus;
  const burst = phase(result, "burst").prometheus;
  const rows: string[][] = [];
  for (const [c, side] of [
    ["prometheus", "ours"],
    ["prometheus-compare", "kube-prometheus"],
  ] as const) {
    const inBurst = burst[c]?.ruleGroupSeconds;
    if (!inBurst) continue;
    // Each group's share of a cycle: a group evaluated less often than the global interval counts its part of it.
    const intervals = burst[c]?.ruleGroupIntervalSeconds ?? {};
    const perCycle = Object.entries(inBurst).map(([group, seconds]): [string, number] => [
      group,
      seconds * cycleShare(burst[c]?.cycleSeconds, intervals[group]),
    ]);
    const total = perCycle.reduce((a, [, b]) => a + b, 0);
    for (const [group, seconds] of perCycle.sort((a, b) => b[1] - a[1]).slice(0, top))
      rows.push([
        side,
        group,
        intervals[group] ? `${intervals[group]} s` : "–",
        secondsCell(steady[c]?.ruleGroupSeconds?.[group]),
        secondsCell(inBurst[group]),
        `${((100 * seconds) / (total || 1)).toFixed(0)} %`,
      ]);
  }
  if (rows.length === 0) return "";
  const ruleRows: string[][] = [];
  for (const [c, side] of [
    ["prometheus", "ours"],
    ["prometheus-compare", "kube-prometheus"],
  ] as const) {
    const inBurst = burst[c]?.ruleSeconds;
    if (!inBurst) continue;
    for (const [rule, seconds] of Object.entries(inBurst)
      .sort((a, b) => b[1] - a[1])
      .slice(0, top))
      ruleRows.push([side, rule, secondsCell(steady[c]?.ruleSeconds?.[rule]), secondsCell(seconds)]);
  }
  return [
    `### Rule groups: the ${top} costliest per cycle in the burst (median of each group's last evaluation; a group evaluated every minute counts a quarter of it in a 15 s cycle)`,
    "",
    markdownTable(["side", "file;group", "every", "steady", "burst", "share of the burst's cycle"], rows),
    ...(ruleRows.length > 0
      ? [
          "",
          `### Rules: the ${top} costliest in the burst (median of each rule's last evaluation)`,
          "",
          markdownTable(["side", "group: rule", "steady", "burst"], ruleRows),
        ]
      : []),
  ].join("\n");
}

/** `npm run bench -- --live-only`: the live phase's report alone (out/bench/report.json and report.md), no other phase, no target. */
export function writeLiveOnlyReport(
  outDir: string,
  run: {
    startedAt: string;
    machine: unknown;
    phases: Array<{ name: string; seconds: number; error?: string }>;
    live?: { result: LiveResult; report: LiveReport; tables: string };
  },
): void {
  const { live, ...rest } = run;
  const report = {
    ...rest,
    finishedAt: new Date().toISOString(),
    liveOnly: true,
    ...(live ? { live: { ...live.result, report: live.report } } : {}),
  };
  fs.writeFileSync(path.join(outDir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, "report.md"), `# npm run bench -- --live-only, ${run.startedAt}\n\n${live?.tables ?? ""}\n`);
}
