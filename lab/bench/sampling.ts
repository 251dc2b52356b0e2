/**
 * The benchmark's measurements of the processes it runs (lab/bench/live.ts): their
 * resident memory, CPU time and writes from /proc, and their own figures from /metrics,
 * sampled over a phase.
 */
import * as fs from "fs";
import * as path from "path";
import { residentBytes } from "../processes/proc";
import { httpGet } from "../local/http";
import { ManagedProcess } from "../processes/children";
import { sleep } from "../processes/supervision";
import { metricValues, sum } from "../local/text-format";
import {
  PhaseFigures,
  Sample,
  median,
  meanRuleCycleSeconds,
  medianByKey,
  phaseFigures,
  ruleCycleSeconds,
  ruleGroupDurations,
  ruleGroupIntervals,
  workloadProblems,
} from "./figures";

/** The processes measured, as the report names them. */
export type Component =
  | "prometheus"
  | "prometheus-compare"
  | "alertmanager"
  | "loki"
  | "alloy"
  | "jaeger"
  | "node-exporter"
  | "postgres-exporter"
  | "redis-exporter";

export interface PrometheusFigures {
  /** Series in the head at the end of the phase. */
  headSeries: number;
  /** Series created over the phase (churn). */
  seriesCreated: number;
  /**
   * Median over the phase of one evaluation cycle: every rule group's last evaluation time, a group evaluated
   * less often than the global evaluation interval counting its share of a cycle (figures.ts ruleCycleSeconds).
   */
  ruleEvaluationSeconds: number;
  /** Median over the phase of each group's last evaluation time (`<file>;<group>`): where the cycle goes. */
  ruleGroupSeconds?: Record<string, number>;
  /**
   * One cycle as the mean of every evaluation over the phase: the seconds Prometheus spent evaluating rule groups
   * (`prometheus_rule_group_duration_seconds_sum`, every group's every evaluation) per second, times the cycle.
   * Unlike the median, an evaluation stalled by the machine counts, and a group evaluated once a minute counts
   * each time it runs.
   */
  meanRuleEvaluationSeconds?: number;
  /** Each group's evaluation interval in seconds, at the end of the phase. */
  ruleGroupIntervalSeconds?: Record<string, number>;
  /** The global evaluation interval a cycle stands for, in seconds. */
  cycleSeconds?: number;
  /**
   * Median over the phase of each rule's last evaluation time (`<group>: <record or alert>`, from
   * /api/v1/rules; rules of one name in one group summed): where a costly group's time goes.
   */
  ruleSeconds?: Record<string, number>;
  rules: number;
  ruleGroups: number;
  /** Head compactions over the phase. */
  compactions: number;
}

export interface LivePhase {
  name: string;
  shape: { apps: number; pods: number; linesPerSecond: number };
  components: Partial<Record<Component, PhaseFigures>>;
  prometheus: Partial<Record<"prometheus" | "prometheus-compare", PrometheusFigures>>;
  loki: { linesPerSecond: number; bytesPerSecond: number };
}

/** A process the benchmark measures, and where its /metrics is. */
export interface Measured {
  name: Component;
  proc: ManagedProcess;
  metricsUrl: string;
  /** How to read its /metrics when a plain GET of metricsUrl cannot (node-exporter: TLS and basic auth). */
  scrape?: () => Promise<string>;
}

/** utime + stime of a process, in seconds (100 clock ticks a second on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Bytes the process caused to be written to storage (write_bytes), or written at all when storage accounting is off. */
function writtenBytes(pid: number): number {
  const io = fs.readFileSync(`/proc/${pid}/io`, "utf8");
  const m = /^write_bytes:\s+(\d+)/m.exec(io);
  return m ? Number(m[1]) : 0;
}

/** One sample of every measured process: /proc figures, and its /metrics text. */
async function sampleAll(measured: Measured[]): Promise<{ samples: Map<Component, Sample>; texts: Map<Component, string> }> {
  const samples = new Map<Component, Sample>();
  const texts = new Map<Component, string>();
  await Promise.all(
    measured.map(async (m) => {
      const pid = m.proc.pid;
      if (!m.proc.alive || pid === undefined) throw new Error(`${m.name} exited\n${m.proc.output()}`);
      const text = (await (m.scrape ? m.scrape() : httpGet(m.metricsUrl, 5000).then((r) => r.body)).catch(() => undefined)) ?? "";
      texts.set(m.name, text);
      const heap = metricValues(text, "go_memstats_heap_inuse_bytes")[0];
      samples.set(m.name, {
        at: Date.now(),
        rssBytes: residentBytes(pid),
        ...(heap !== undefined ? { heapBytes: heap } : {}),
        cpuSeconds: cpuSeconds(pid),
        writtenBytes: writtenBytes(pid),
      });
    }),
  );
  return { samples, texts };
}

/** Samples every measured process each `sampleSeconds` for `seconds`; the phase's figures. */
export async function measurePhase(
  measured: Measured[],
  seconds: number,
  sampleSeconds: number,
  /** Prometheus' global evaluation interval in seconds: one cycle (without it, every group counts whole). */
  cycleSeconds?: number,
): Promise<Pick<LivePhase, "components" | "prometheus" | "loki">> {
  const series = new Map<Component, Sample[]>();
  const ruleTimes = new Map<Component, number[]>();
  const groupTimes = new Map<Component, Array<Record<string, number>>>();
  const ruleEvaluations = new Map<Component, Array<Record<string, number>>>();
  const firstTexts: Map<Component, string>[] = [];
  let lastTexts = new Map<Component, string>();
  const started = Date.now();
  let [firstAt, lastAt] = [started, started];
  for (;;) {
    const { samples, texts } = await sampleAll(measured);
    if (firstTexts.length === 0) [firstTexts[0], firstAt] = [texts, Date.now()];
    [lastTexts, lastAt] = [texts, Date.now()];
    for (const [c, s] of samples) series.set(c, [...(series.get(c) ?? []), s]);
    for (const c of ["prometheus", "prometheus-compare"] as const) {
      const t = texts.get(c);
      if (t) ruleTimes.set(c, [...(ruleTimes.get(c) ?? []), ruleCycleSeconds(t, cycleSeconds)]);
      if (t) groupTimes.set(c, [...(groupTimes.get(c) ?? []), ruleGroupDurations(t)]);
      const m = measured.find((x) => x.name === c);
      const rules = m ? await ruleDurations(m.metricsUrl.replace(/\/metrics$/, "/api/v1/rules")) : undefined;
      if (rules) ruleEvaluations.set(c, [...(ruleEvaluations.get(c) ?? []), rules]);
    }
    if (Date.now() - started >= seconds * 1000) break;
    await sleep(sampleSeconds * 1000);
  }
  const first = firstTexts[0];
  const delta = (c: Component, metric: string) =>
    sum(metricValues(lastTexts.get(c) ?? "", metric)) - sum(metricValues(first.get(c) ?? "", metric));
  const components: LivePhase["components"] = {};
  for (const [c, s] of series) components[c] = phaseFigures(s);
  const prometheus: LivePhase["prometheus"] = {};
  for (const c of ["prometheus", "prometheus-compare"] as const) {
    const t = lastTexts.get(c);
    if (!t) continue;
    prometheus[c] = {
      headSeries: sum(metricValues(t, "prometheus_tsdb_head_series")),
      seriesCreated: delta(c, "prometheus_tsdb_head_series_created_total"),
      ruleEvaluationSeconds: median(ruleTimes.get(c) ?? [0]),
      ruleGroupSeconds: medianByKey(groupTimes.get(c) ?? []),
      ruleGroupIntervalSeconds: ruleGroupIntervals(t),
      ...(cycleSeconds ? { cycleSeconds } : {}),
      ...(cycleSeconds && lastAt > firstAt
        ? {
            meanRuleEvaluationSeconds: meanRuleCycleSeconds(first.get(c) ?? "", t, (lastAt - firstAt) / 1000, cycleSeconds),
          }
        : {}),
      ruleSeconds: medianByKey(ruleEvaluations.get(c) ?? []),
      rules: sum(metricValues(t, "prometheus_rule_group_rules")),
      ruleGroups: metricValues(t, "prometheus_rule_group_rules").length,
      compactions: delta(c, "prometheus_tsdb_compactions_total"),
    };
  }
  const elapsed = (Date.now() - started) / 1000;
  return {
    components,
    prometheus,
    loki: {
      linesPerSecond: delta("loki", "loki_distributor_lines_received_total") / elapsed,
      bytesPerSecond: delta("loki", "loki_distributor_bytes_received_total") / elapsed,
    },
  };
}

/** Each rule's last evaluation time (`<group>: <name>`, rules of one name in one group summed), or undefined when Prometheus does not answer. */
async function ruleDurations(url: string): Promise<Record<string, number> | undefined> {
  const body = await httpGet(url, 5000)
    .then((r) => r.body)
    .catch(() => undefined);
  if (!body) return undefined;
  const reply = JSON.parse(body) as {
    data?: { groups?: Array<{ name: string; rules: Array<{ name: string; evaluationTime?: number }> }> };
  };
  const out: Record<string, number> = {};
  for (const g of reply.data?.groups ?? [])
    for (const r of g.rules) out[`${g.name}: ${r.name}`] = (out[`${g.name}: ${r.name}`] ?? 0) + (r.evaluationTime ?? 0);
  return out;
}

/** Bytes of the files under the directories of `root` that `pick` selects (and their subdirectories). */
export function dirBytes(root: string, pick: (dir: string) => boolean, picked = false): number {
  let total = 0;
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) total += dirBytes(full, pick, picked || pick(full));
    else if (picked && entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

/**
 * After the warm-up: each Prometheus (name, URL) has a target up and Loki has received lines, or an
 * error names what is wrong; else a line of what was found.
 */
export async function checkWorkload(prometheus: Array<[string, string]>, lokiUrl: string): Promise<string> {
  const found = await Promise.all(
    prometheus.map(async ([name, url]) => {
      const reply = JSON.parse((await httpGet(`${url}/api/v1/targets?state=active`, 10_000)).body) as {
        data?: { activeTargets?: Array<{ health: string }> };
      };
      return { name, targets: reply.data?.activeTargets ?? [] };
    }),
  );
  const lines = sum(metricValues((await httpGet(`${lokiUrl}/metrics`, 5000)).body, "loki_distributor_lines_received_total"));
  const problems = workloadProblems(found, lines);
  if (problems.length > 0) throw new Error(`the workload is not measured after the warm-up:\n${problems.join("\n")}`);
  return `${found.map((p) => `${p.name} ${p.targets.filter((t) => t.health === "up").length}/${p.targets.length} targets up`).join(", ")}, Loki ${lines} lines`;
}
