/**
 * The benchmark's arithmetic, apart from the binaries it runs (tested offline by
 * test/scripts/bench-figures.test.ts): samples to steady and peak figures, CPU-seconds to
 * millicores, requests and limits from measurements with stated headroom, the ratio of two
 * Prometheus runs, the bound on alert latency a config sets, the rule files of another
 * stack (--compare-rules), the render target, and the report's readable table.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { durationSeconds, formatBytes } from "../../components/kit/units";
import { metricValues, sum } from "../local/text-format";

const MIB = 1024 * 1024;

// ---------------------------------------------------------------------------
// Samples

/** One sample of one process: resident memory, Go heap in use, CPU-seconds used so far, bytes written so far. */
export interface Sample {
  at: number;
  rssBytes: number;
  heapBytes?: number;
  cpuSeconds: number;
  writtenBytes: number;
}

/** What a phase of the run says of one process. */
export interface PhaseFigures {
  seconds: number;
  /** Median over the phase. */
  rssBytes: number;
  heapBytes?: number;
  /** Highest over the phase. */
  peakRssBytes: number;
  peakHeapBytes?: number;
  /** CPU-seconds used over the phase per second of wall time, in millicores: contention on the machine changes it little. */
  millicores: number;
  /** The highest CPU between two consecutive samples, in millicores (a compaction, a reload, an evaluation of many rules). */
  peakMillicores: number;
  /** Bytes written to storage over the phase, per day at that rate. */
  writtenBytesPerDay: number;
  /** How fast the Go heap grew over the phase (least-squares slope), in bytes per second: what a longer run would add. */
  heapSlopeBytesPerSecond?: number;
}

/** Least-squares slope of y over x; 0 for fewer than two distinct x. */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  if (sxx === 0) return 0;
  return points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Figures of a phase from its samples, in time order (at least two: CPU and writes are differences). */
export function phaseFigures(samples: Sample[]): PhaseFigures {
  if (samples.length < 2) throw new Error(`a phase needs at least 2 samples, got ${samples.length}`);
  const first = samples[0];
  const last = samples[samples.length - 1];
  const seconds = (last.at - first.at) / 1000;
  if (seconds <= 0) throw new Error("the samples of a phase must span some time");
  const heaps = samples.map((s) => s.heapBytes).filter((h): h is number => h !== undefined);
  return {
    seconds,
    rssBytes: median(samples.map((s) => s.rssBytes)),
    peakRssBytes: Math.max(...samples.map((s) => s.rssBytes)),
    ...(heaps.length
      ? {
          heapBytes: median(heaps),
          peakHeapBytes: Math.max(...heaps),
          heapSlopeBytesPerSecond: slope(samples.filter((s) => s.heapBytes !== undefined).map((s) => [s.at / 1000, s.heapBytes as number])),
        }
      : {}),
    millicores: ((last.cpuSeconds - first.cpuSeconds) / seconds) * 1000,
    peakMillicores: Math.max(
      ...samples.slice(1).map((s, i) => ((s.cpuSeconds - samples[i].cpuSeconds) / Math.max(0.001, (s.at - samples[i].at) / 1000)) * 1000),
    ),
    writtenBytesPerDay: ((last.writtenBytes - first.writtenBytes) / seconds) * 86_400,
  };
}

// ---------------------------------------------------------------------------
// Requests and limits

/** Requests come from the steady figures, memory limits from the peaks, each times its headroom. */
export interface Headroom {
  /** Steady CPU × this = CPU request. */
  cpuRequest: number;
  /** Steady resident memory × this = memory request. */
  memoryRequest: number;
  /**
   * Peak resident memory × this = memory limit. The workload has no dashboard queries: a
   * query over days of samples loads them into memory, which this factor leaves room for.
   */
  memoryLimit: number;
}

/**
 * Staging: requests a quarter over what it uses steadily, memory limits twice the worst
 * seen. Production: half again on requests and three times the worst seen, as an incident
 * there, and the queries it brings, matter more. CPU limits are not sized here: they
 * reserve nothing on the node and only throttle, and the bench has none of what makes CPU
 * burst (queries, a restart's WAL replay), so the profiles keep theirs.
 */
export const HEADROOM: Record<"staging" | "production", Headroom> = {
  staging: { cpuRequest: 1.25, memoryRequest: 1.25, memoryLimit: 2 },
  production: { cpuRequest: 1.5, memoryRequest: 1.5, memoryLimit: 3 },
};

/** The smallest requests and limits the stack ever sets: below them, a quantity means nothing to the scheduler. */
const FLOOR = { millicores: 5, bytes: 16 * MIB };

export interface Sizing {
  cpuRequestMillicores: number;
  memoryRequestBytes: number;
  memoryLimitBytes: number;
}

/** Up to the next multiple of `step`. */
const roundUp = (value: number, step: number) => Math.ceil(value / step) * step;

/**
 * Requests and the memory limit for a component from what it used: CPU in steps of 5m,
 * memory in steps of 16 MiB, never under the floor, and a limit never under its request.
 */
export function sizeFrom(measured: { steadyMillicores: number; steadyRssBytes: number; peakRssBytes: number }, headroom: Headroom): Sizing {
  const memoryRequest = Math.max(FLOOR.bytes, roundUp(measured.steadyRssBytes * headroom.memoryRequest, 16 * MIB));
  return {
    cpuRequestMillicores: Math.max(FLOOR.millicores, roundUp(measured.steadyMillicores * headroom.cpuRequest, 5)),
    memoryRequestBytes: memoryRequest,
    memoryLimitBytes: Math.max(memoryRequest, roundUp(measured.peakRssBytes * headroom.memoryLimit, 16 * MIB)),
  };
}

/** A Kubernetes quantity of a sizing's figure: "35m", "192Mi". */
export const millicoresQuantity = (m: number) => `${m}m`;
export const mebibytesQuantity = (bytes: number) => `${Math.round(bytes / MIB)}Mi`;

// ---------------------------------------------------------------------------
// Two stacks side by side

/** Each figure of `theirs` divided by ours: above 1, theirs costs more. Figures either lacks, or zero in ours, are left out. */
export function ratios(ours: Record<string, number | undefined>, theirs: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, mine] of Object.entries(ours)) {
    const other = theirs[key];
    if (mine === undefined || other === undefined || mine === 0) continue;
    out[key] = other / mine;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The workload, checked after the warm-up

/**
 * What is wrong with a run whose workload is not measured: a Prometheus that discovered no target
 * or scrapes none (file discovery that could not watch its files discovers nothing, silently, until
 * a reload), and Loki that received no line. Empty when the workload is there.
 */
export function workloadProblems(
  prometheus: Array<{ name: string; targets: Array<{ health: string }> }>,
  lokiLinesReceived: number,
): string[] {
  const out: string[] = [];
  for (const p of prometheus) {
    const up = p.targets.filter((t) => t.health === "up").length;
    if (up === 0)
      out.push(
        `${p.name}: ${p.targets.length} targets discovered, none up: the workload is not scraped (file discovery needs an inotify instance: fs.inotify.max_user_instances; its log says why)`,
      );
  }
  if (lokiLinesReceived === 0) out.push("loki: no log line received: the collector does not ship the pods' logs");
  return out;
}

// ---------------------------------------------------------------------------
// Rule groups

/**
 * Each rule group's last evaluation time from a Prometheus /metrics text
 * (`prometheus_rule_group_last_duration_seconds`, or another per-group `metric`), keyed
 * `<rule file's name>;<group>` (the file's directory left out: it is the run's temporary one).
 */
export function ruleGroupDurations(text: string, metric = "prometheus_rule_group_last_duration_seconds"): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\}\\s+(\\S+)`, "gm"))) {
    const group = /(?:^|,)rule_group="([^"]*)"/.exec(m[1])?.[1];
    if (group === undefined) continue;
    const [file, name] = group.includes(";")
      ? [group.slice(0, group.lastIndexOf(";")), group.slice(group.lastIndexOf(";") + 1)]
      : ["", group];
    out[`${path.basename(file)};${name}`] = Number(m[2]);
  }
  return out;
}

/** Each rule group's evaluation interval (`prometheus_rule_group_interval_seconds`), keyed as ruleGroupDurations keys it. */
export function ruleGroupIntervals(text: string): Record<string, number> {
  return ruleGroupDurations(text, "prometheus_rule_group_interval_seconds");
}

/**
 * The share of a group's evaluation that one cycle of `cycleSeconds` (the global evaluation interval) holds: a
 * group run every `intervalSeconds` counts `cycleSeconds / intervalSeconds` of it (a quarter of a group run once a
 * minute in a 15-second cycle). Without a cycle or an interval, the whole of it.
 */
export function cycleShare(cycleSeconds: number | undefined, intervalSeconds: number | undefined): number {
  return cycleSeconds && intervalSeconds ? Math.min(1, cycleSeconds / intervalSeconds) : 1;
}

/**
 * What one cycle of `cycleSeconds` (the global evaluation interval) costs in rule evaluation: each group's last
 * evaluation time times its cycleShare. With every group at the global interval, or without a cycle, the sum of
 * their last evaluations. A group whose interval is not in the text counts whole.
 */
export function ruleCycleSeconds(text: string, cycleSeconds?: number): number {
  const intervals = ruleGroupIntervals(text);
  return Object.entries(ruleGroupDurations(text)).reduce(
    (total, [group, seconds]) => total + seconds * cycleShare(cycleSeconds, intervals[group]),
    0,
  );
}

/**
 * One cycle of `cycleSeconds` as the mean of every evaluation between two /metrics texts `seconds` apart: the
 * seconds spent evaluating rule groups (`prometheus_rule_group_duration_seconds_sum`, a summary over every group's
 * every evaluation) per second, times the cycle.
 */
export function meanRuleCycleSeconds(before: string, after: string, seconds: number, cycleSeconds: number): number {
  const spent = (text: string) => sum(metricValues(text, "prometheus_rule_group_duration_seconds_sum"));
  return ((spent(after) - spent(before)) / seconds) * cycleSeconds;
}

/** The median of each key over samples (a key missing from a sample is left out of that sample). */
export function medianByKey(samples: Array<Record<string, number>>): Record<string, number> {
  const keys = new Set(samples.flatMap((s) => Object.keys(s)));
  return Object.fromEntries([...keys].map((k) => [k, median(samples.flatMap((s) => (s[k] === undefined ? [] : [s[k]])))]));
}

// ---------------------------------------------------------------------------
// Alert latency

/** Seconds of a Prometheus/Alertmanager duration the stack rendered; anything else is a bug worth stopping on. */
function seconds(text: string, what: string): number {
  const s = durationSeconds(text);
  if (s === undefined) throw new Error(`${what}: not a duration: ${JSON.stringify(text)}`);
  return s;
}

/**
 * The longest a target going down may take to reach a receiver, from the config: the failed
 * scrape comes within a scrape interval; the next evaluation sees it, the alert stays pending
 * for its `for` and fires at the evaluation after; Alertmanager waits group_wait before the
 * first notification of a group. `slackSeconds` is what no config bounds (scheduling, HTTP).
 */
export function alertLatencyBound(c: {
  scrapeInterval: string;
  evaluationInterval: string;
  for: string;
  groupWait: string;
  slackSeconds: number;
}): number {
  const scrape = seconds(c.scrapeInterval, "scrape interval");
  const evaluation = seconds(c.evaluationInterval, "evaluation interval");
  return scrape + evaluation + seconds(c.for, "for") + evaluation + seconds(c.groupWait, "group_wait") + c.slackSeconds;
}

/** The `for` of an alert in Prometheus rule files' text ("0s" when it has none); an error when no file has it. */
export function alertFor(ruleFiles: string[], alert: string): string {
  for (const text of ruleFiles) {
    const doc = YAML.parse(text) as { groups?: Array<{ rules?: Array<{ alert?: string; for?: string }> }> } | null;
    for (const group of doc?.groups ?? []) for (const rule of group.rules ?? []) if (rule.alert === alert) return rule.for ?? "0s";
  }
  throw new Error(`no rule file has the alert ${alert}`);
}

// ---------------------------------------------------------------------------
// --compare-rules

export interface RuleSet {
  dir: string;
  /** Absolute paths of the rule files, sorted. */
  files: string[];
  groups: number;
  alerts: number;
  records: number;
}

/**
 * The Prometheus rule files of a directory (*.yml, *.yaml, not recursive): each must hold
 * `groups:` of rules, each rule an `alert` or a `record` with an `expr`. Errors name the file
 * and the group.
 */
export function readRuleSet(dir: string): RuleSet {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--compare-rules: ${dir} is not a directory`);
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.resolve(dir, f));
  if (files.length === 0) throw new Error(`--compare-rules: ${dir} has no .yml or .yaml rule files`);
  const counts = { groups: 0, alerts: 0, records: 0 };
  for (const file of files) {
    let doc: unknown;
    try {
      doc = YAML.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
      throw new Error(`--compare-rules: ${file} is not YAML: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      countRuleDoc(doc, file, counts);
    } catch (err) {
      throw new Error(`--compare-rules: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { dir: path.resolve(dir), files, ...counts };
}

/** Groups, alerts and recording rules of rule files' texts. */
export function countRules(texts: string[]): { groups: number; alerts: number; records: number } {
  const counts = { groups: 0, alerts: 0, records: 0 };
  texts.forEach((t, i) => countRuleDoc(YAML.parse(t), `rule file #${i + 1}`, counts));
  return counts;
}

function countRuleDoc(doc: unknown, file: string, counts: { groups: number; alerts: number; records: number }): void {
  const list = (doc as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(list)) throw new Error(`${file} has no groups: list (not a Prometheus rule file)`);
  for (const [i, group] of list.entries()) {
    const g = group as { name?: unknown; rules?: unknown };
    const where = `${file}, group ${typeof g.name === "string" ? g.name : `#${i}`}`;
    if (!Array.isArray(g.rules)) throw new Error(`${where} has no rules: list`);
    counts.groups++;
    for (const rule of g.rules as Array<{ alert?: unknown; record?: unknown; expr?: unknown }>) {
      if (typeof rule.expr !== "string" && typeof rule.expr !== "number") throw new Error(`${where}: a rule has no expr`);
      if (typeof rule.alert === "string") counts.alerts++;
      else if (typeof rule.record === "string") counts.records++;
      else throw new Error(`${where}: a rule is neither an alert nor a record`);
    }
  }
}

// ---------------------------------------------------------------------------
// Targets

/**
 * The render target: `npm run render -- --stack <name>` as a whole process, what a person waits
 * for in the edit–render loop (npm's and Node's start, loading the program and the SDK,
 * rendering, writing), median of the bench's runs. docs/benchmark.md states it.
 */
export const RENDER_PROCESS_SECONDS = 3;

// ---------------------------------------------------------------------------
// Command line

export interface BenchArgs {
  runs: number;
  json?: string;
  collectors: boolean;
  /** Run the stack's binaries on the workload (the footprint); off with --no-live. */
  live: boolean;
  /** Short phases and the live lab's fast intervals: checks the harness, its figures size nothing. */
  quick: boolean;
  /**
   * CI's short form: --quick with one render each, without `npm run test:quick` (CI runs it
   * already), every phase run and timed, no target held: it fails only when a phase fails.
   */
  smoke: boolean;
  compareRules?: string;
  /**
   * Only the live phase (`--live-only`): the rule-evaluation cycle, per group, and the dashboards'
   * queries, without the other phases; what a change to the rules or dashboards is measured with.
   */
  liveOnly?: true;
}

export const USAGE =
  "usage: npm run bench [-- --quick | --smoke] [--compare-rules <dir>] [--runs <n>] [--json <file>] [--no-collectors] [--no-live | --live-only]";

export function parseBenchArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { runs: 3, collectors: true, live: true, quick: false, smoke: false };
  const value = (i: number, flag: string) => {
    const v = argv[i];
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value; ${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") args.runs = Number(value(++i, a));
    else if (a === "--json") args.json = value(++i, a);
    else if (a === "--compare-rules") args.compareRules = value(++i, a);
    else if (a === "--no-collectors") args.collectors = false;
    else if (a === "--no-live") args.live = false;
    else if (a === "--live-only") args.liveOnly = true;
    else if (a === "--quick") args.quick = true;
    else if (a === "--smoke") {
      args.smoke = true;
      args.quick = true;
      if (!argv.includes("--runs")) args.runs = 1;
    } else throw new Error(`unknown argument "${a}"; ${USAGE}`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error(`--runs takes a whole number of at least 1, got ${args.runs}`);
  if (args.liveOnly && !args.live) throw new Error("--live-only runs the live phase alone: drop --no-live");
  if (args.compareRules && !args.live) throw new Error("--compare-rules runs a second Prometheus on the live workload: drop --no-live");
  return args;
}

// ---------------------------------------------------------------------------
// Readable table

/** A Markdown table; every cell already a string. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export const bytesCell = (b: number | undefined) => (b === undefined ? "–" : formatBytes(b));
export const millicoresCell = (m: number | undefined) => (m === undefined ? "–" : `${m.toFixed(m < 10 ? 1 : 0)}m`);
export const ratioCell = (r: number | undefined) => (r === undefined ? "–" : `${r.toFixed(2)}×`);

/** The CPU-seconds of a line of bash's `times` ("1m2.345s 0m0.678s": user, system); undefined for another line. */
export function cpuSecondsOfTimes(line: string): number | undefined {
  const parts = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(line.trim());
  if (!parts) return undefined;
  const [, um, us, sm, ss] = parts.map(Number);
  return um * 60 + us + sm * 60 + ss;
}
