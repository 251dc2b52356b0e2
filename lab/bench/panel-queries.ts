/**
 * A dashboard's panel queries as Grafana sends them to Prometheus when the dashboard opens (the
 * bench's dashboard timing, lab/bench/dashboard-timing.ts): the dashboard's default time range,
 * each panel's interval and step, Grafana's built-in variables, and the template variables once
 * their values are known. Pure (tested offline by test/scripts/bench-panel-queries.test.ts against
 * Grafana's documented behaviour):
 *
 * - `$__interval`: the time range divided by the panel's max data points (its width in pixels),
 *   rounded to one of Grafana's round intervals, never under the panel's min interval or else the
 *   data source's scrape interval ("Query options" in Grafana's documentation).
 * - The step of a range query: the query's min step when it has one, else that interval; never under
 *   the range divided by 11,000 points; times the query's resolution factor (1/2 → ×2); start and end
 *   aligned down to a multiple of the step.
 * - `$__rate_interval`: max($__interval + scrape interval, 4 × scrape interval), the scrape interval
 *   being the query's min step when set, else the data source's ("Prometheus template variables").
 * - `$__range` (seconds, rounded), `$__range_s`, `$__range_ms`, `$__interval_ms`, `$__rate_interval_ms`.
 * - Template variables as the Prometheus data source formats them: a single value as is (quotes and
 *   backslashes escaped) when the variable is neither multi-value nor has "All"; otherwise regex-escaped,
 *   several values as `(a|b)`, "All" as its custom all value or every option.
 */
import { JsonObject, asArray, asString, isObject, templateVariables, walkPanels } from "../../cli/dashboards/files";
import { durationSeconds } from "../../components/kit/units";

/** The browser window the bench opens dashboards in: a panel of the full 24-column width is this many pixels wide. */
export const DASHBOARD_WIDTH_PX = 1920;
/** Grafana's bound on the points of one range query: the step is never under range / this. */
export const SAFE_RESOLUTION = 11_000;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Grafana's round intervals: a computed interval becomes the value of the first bound it is under.
 * [upper bound (exclusive), rounded value], in milliseconds.
 */
const ROUND_INTERVALS: Array<[number, number]> = [
  [10, 1],
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1_500, SECOND],
  [3_500, 2 * SECOND],
  [7_500, 5 * SECOND],
  [12_500, 10 * SECOND],
  [17_500, 15 * SECOND],
  [25_000, 20 * SECOND],
  [45_000, 30 * SECOND],
  [90_000, MINUTE],
  [210_000, 2 * MINUTE],
  [450_000, 5 * MINUTE],
  [750_000, 10 * MINUTE],
  [1_050_000, 15 * MINUTE],
  [1_500_000, 20 * MINUTE],
  [2_700_000, 30 * MINUTE],
  [5_400_000, HOUR],
  [9_000_000, 2 * HOUR],
  [16_200_000, 3 * HOUR],
  [32_400_000, 6 * HOUR],
  [86_400_000, 12 * HOUR],
  [604_800_000, DAY],
  [1_814_400_000, 7 * DAY],
  [3_628_800_000, 30 * DAY],
];

/** Grafana's rounding of a computed interval, in milliseconds. */
export function roundInterval(ms: number): number {
  for (const [under, value] of ROUND_INTERVALS) if (ms < under) return value;
  return 365 * DAY;
}

/** A duration in Prometheus' form, largest units first ("1m15s", "2h", "500ms"). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`not a duration: ${ms} ms`);
  if (ms === 0) return "0s";
  const units: Array<[string, number]> = [
    ["d", DAY],
    ["h", HOUR],
    ["m", MINUTE],
    ["s", SECOND],
    ["ms", 1],
  ];
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/** Milliseconds of a Grafana interval setting ("15s", "1m", "<30s", a bare number of seconds); undefined when empty or a variable. */
export function intervalSettingMs(setting: unknown): number | undefined {
  const text = asString(setting)?.trim().replace(/^[<>]/, "");
  if (!text || text.includes("$")) return undefined;
  const seconds = /^\d+$/.test(text) ? Number(text) : durationSeconds(text);
  if (seconds === undefined) throw new Error(`not a Grafana interval: ${JSON.stringify(setting)}`);
  return seconds * 1000;
}

/** A dashboard's time range as it opens: `now-<duration>` to `now`, in epoch milliseconds. */
export function dashboardRange(time: unknown, now: number): { from: number; to: number } {
  const t = isObject(time) ? time : { from: "now-6h", to: "now" };
  const edge = (value: unknown, which: string) => {
    const text = asString(value) ?? "";
    if (text === "now") return now;
    const m = /^now-(\S+)$/.exec(text);
    const seconds = m ? durationSeconds(m[1]) : undefined;
    if (seconds === undefined) throw new Error(`the dashboard's time.${which} is not now or now-<duration>: ${JSON.stringify(value)}`);
    return now - seconds * 1000;
  };
  const range = { from: edge(t.from ?? "now-6h", "from"), to: edge(t.to ?? "now", "to") };
  if (range.to <= range.from) throw new Error(`the dashboard's time range is empty: ${JSON.stringify(time)}`);
  return range;
}

export interface IntervalInputs {
  from: number;
  to: number;
  /** The panel's max data points: its width in pixels unless it sets one. */
  maxDataPoints: number;
  /** The panel's min interval ("Min interval" in its query options), in ms. */
  panelMinIntervalMs?: number;
  /** The data source's scrape interval (jsonData.timeInterval), in ms. */
  scrapeIntervalMs: number;
  /** The query's min step (its `interval`), in ms. */
  minStepMs?: number;
  /** The query's resolution: 1 for 1/1, 2 for 1/2… */
  intervalFactor?: number;
}

/** `$__interval` of a panel, in ms. */
export function panelInterval(i: IntervalInputs): number {
  const lowLimit = i.panelMinIntervalMs ?? i.scrapeIntervalMs;
  return Math.max(roundInterval((i.to - i.from) / i.maxDataPoints), lowLimit);
}

/** The step of a range query, in ms. */
export function queryStep(i: IntervalInputs): number {
  const interval = panelInterval(i);
  const min = i.minStepMs ?? interval;
  const raw = (i.to - i.from) / i.maxDataPoints;
  const calculated = raw < min ? min : roundInterval(raw);
  const safe = roundInterval((i.to - i.from) / SAFE_RESOLUTION);
  return Math.max(calculated, safe) * Math.max(1, i.intervalFactor ?? 1);
}

/** `$__rate_interval` of a query, in ms. */
export function rateInterval(i: IntervalInputs): number {
  const scrape = i.minStepMs ?? i.scrapeIntervalMs;
  return Math.max(panelInterval(i) + scrape, 4 * scrape);
}

/** Start and end of a range query: aligned down to a multiple of the step (UTC). */
export function alignedRange(from: number, to: number, stepMs: number): { start: number; end: number } {
  return { start: Math.floor(from / stepMs) * stepMs, end: Math.floor(to / stepMs) * stepMs };
}

// ---------------------------------------------------------------------------
// Template variables

/** A template variable's value once chosen: one value, several, or "All". */
export interface VariableValue {
  values: string[];
  all: boolean;
  multi: boolean;
  includeAll: boolean;
  /** The variable's custom all value (allValue), if any. */
  allValue?: string;
}

/** Escapes what PromQL's string literals and RE2 treat specially, for a value inside a regex matcher. */
function regexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|{}[\]]/g, (c) => `\\\\${c}`);
}

/** Escapes backslashes and single quotes, as the Prometheus data source does for a plain value. */
function plainEscape(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/'/g, "\\'");
}

/** A variable's text in a Prometheus query, as the Prometheus data source formats it (`format`: a `${var:format}` suffix). */
export function formatVariable(v: VariableValue, format?: string): string {
  if (v.all && v.allValue !== undefined && format === undefined) return v.allValue;
  const values = v.values;
  switch (format) {
    case undefined:
      if (!v.multi && !v.includeAll) return plainEscape(values[0] ?? "");
      return values.length === 1 ? regexEscape(values[0]) : `(${values.map(regexEscape).join("|")})`;
    case "raw":
      return values.join(",");
    case "regex":
      return values.length === 1 ? regexEscape(values[0]) : `(${values.map(regexEscape).join("|")})`;
    case "pipe":
      return values.join("|");
    case "csv":
      return values.join(",");
    default:
      throw new Error(`variable format :${format} is not one the bench expands (raw, regex, pipe, csv)`);
  }
}

const VARIABLE = /\$\{([A-Za-z_]\w*)(?::([^}]*))?\}|\[\[([A-Za-z_]\w*)(?::([^\]]*))?\]\]|\$([A-Za-z_]\w*)/g;

/** Grafana's built-in variables of one query, from its interval inputs. */
export function builtIns(i: IntervalInputs): Record<string, string> {
  const interval = panelInterval(i);
  const rate = rateInterval(i);
  const rangeMs = i.to - i.from;
  const rangeS = Math.round(rangeMs / 1000);
  return {
    __interval: formatDuration(interval),
    __interval_ms: String(interval),
    __rate_interval: formatDuration(rate),
    __rate_interval_ms: String(rate),
    __range: `${rangeS}s`,
    __range_s: String(rangeS),
    __range_ms: String(rangeMs),
  };
}

/** The expression with every variable replaced; an error names a variable that has no value. */
export function interpolate(expr: string, variables: ReadonlyMap<string, VariableValue>, builtin: Record<string, string>): string {
  return expr.replace(VARIABLE, (match, braced?: string, format?: string, bracketed?: string, bracketFormat?: string, bare?: string) => {
    const name = braced ?? bracketed ?? bare ?? "";
    if (builtin[name] !== undefined) return builtin[name];
    const v = variables.get(name);
    if (!v) throw new Error(`${match}: no variable ${name} and not one of Grafana's built-in variables the bench expands`);
    return formatVariable(v, format ?? bracketFormat);
  });
}

/** What Grafana asks Prometheus for a query variable, parsed from its query (label_values, query_result, metrics). */
export type VariableQuery =
  { kind: "label_values"; label: string; match?: string } | { kind: "query_result"; expr: string } | { kind: "metrics"; regex: string };

export function parseVariableQuery(query: unknown): VariableQuery {
  const text = (isObject(query) ? asString(query.query) : asString(query))?.trim();
  if (!text) throw new Error(`a query variable without a query: ${JSON.stringify(query)}`);
  let m = /^label_values\(\s*(.+?)\s*,\s*([a-zA-Z_]\w*)\s*\)$/s.exec(text);
  if (m) return { kind: "label_values", match: m[1], label: m[2] };
  m = /^label_values\(\s*([a-zA-Z_]\w*)\s*\)$/.exec(text);
  if (m) return { kind: "label_values", label: m[1] };
  m = /^query_result\(\s*(.+)\s*\)$/s.exec(text);
  if (m) return { kind: "query_result", expr: m[1] };
  m = /^metrics\(\s*(.*?)\s*\)$/s.exec(text);
  if (m) return { kind: "metrics", regex: m[1] };
  throw new Error(`not one of Grafana's Prometheus variable queries: ${text}`);
}

/** A variable's options from what Prometheus answered: its regex applied (the first capture group, or `value`), then its sort. */
export function variableOptions(raw: string[], regex: string | undefined, sort: number): string[] {
  let values = raw;
  if (regex) {
    const m = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
    const re = m ? new RegExp(m[1], m[2].replace("g", "")) : new RegExp(regex);
    values = raw.flatMap((r) => {
      const found = re.exec(r);
      if (!found) return [];
      return [found.groups?.value ?? found[1] ?? found[0]];
    });
  }
  values = [...new Set(values)];
  const natural = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
  const byNumber = (a: string, b: string) =>
    (Number(/-?\d+(\.\d+)?/.exec(a)?.[0] ?? NaN) || 0) - (Number(/-?\d+(\.\d+)?/.exec(b)?.[0] ?? NaN) || 0);
  const sorts: Record<number, (a: string, b: string) => number> = {
    1: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    2: (a, b) => (a < b ? 1 : a > b ? -1 : 0),
    3: byNumber,
    4: (a, b) => byNumber(b, a),
    5: (a, b) => a.toLowerCase().localeCompare(b.toLowerCase()),
    6: (a, b) => b.toLowerCase().localeCompare(a.toLowerCase()),
    7: natural,
    8: (a, b) => natural(b, a),
  };
  return sort && sorts[sort] ? [...values].sort(sorts[sort]) : values;
}

/**
 * The value a variable opens with: the saved current value when it is still an option (or "All"),
 * else the first of `preferred` among the options when the variable takes one value (the bench's
 * workload: its team namespace, its largest workload, one of its pods, its node), else "All" when the
 * variable has it, else the first option ("" when there is none). A `scoped` variable (one a view
 * is about: the namespaces view's namespace) takes the first of `preferred` among its options before
 * anything else, as a person picks it.
 */
export function chooseValue(variable: JsonObject, options: string[], preferred: readonly string[] = [], scoped = false): VariableValue {
  const multi = variable.multi === true;
  const includeAll = variable.includeAll === true;
  const allValue = asString(variable.allValue) || undefined;
  const base = { multi, includeAll, ...(allValue !== undefined ? { allValue } : {}) };
  const all: VariableValue = { ...base, values: options, all: true };
  const wanted = preferred.find((p) => options.includes(p));
  if (scoped && wanted !== undefined) return { ...base, values: [wanted], all: false };
  const current = isObject(variable.current) ? variable.current.value : undefined;
  const saved = (Array.isArray(current) ? current : current === undefined || current === "" ? [] : [current]).map(String);
  if (saved.length > 0) {
    if (saved.includes("$__all") && includeAll) return all;
    const kept = saved.filter((s) => options.includes(s));
    if (kept.length === saved.length) return { ...base, values: kept, all: false };
  }
  if (wanted !== undefined && !includeAll) return { ...base, values: [wanted], all: false };
  if (includeAll) return all;
  return { ...base, values: options.length ? [options[0]] : [""], all: false };
}

// ---------------------------------------------------------------------------
// Panels

export interface PanelTarget {
  refId: string;
  expr: string;
  /** Range query, instant query, or both (a target with both asks twice). */
  range: boolean;
  instant: boolean;
  minStepMs?: number;
  intervalFactor?: number;
}

export interface PanelQueries {
  id: string;
  title: string;
  maxDataPoints: number;
  panelMinIntervalMs?: number;
  targets: PanelTarget[];
}

/** Whether a data source reference means Prometheus: its type, or a datasource variable of type prometheus, or none (the dashboard's default). */
export function isPrometheus(dashboard: JsonObject, ref: unknown): boolean {
  const variableType = (name: string) => {
    const v = templateVariables(dashboard).find((x) => x.name === name)?.variable;
    return v?.type === "datasource" ? asString(v.query) : undefined;
  };
  const byName = (text: string) => {
    const m = /^\$\{?([A-Za-z_]\w*)\}?$/.exec(text);
    return m ? variableType(m[1]) === "prometheus" : /prometheus/i.test(text);
  };
  if (ref === undefined || ref === null) return true;
  if (typeof ref === "string") return byName(ref);
  if (!isObject(ref)) return false;
  const type = asString(ref.type);
  if (type !== undefined) return type === "prometheus";
  const uid = asString(ref.uid);
  return uid === undefined ? true : byName(uid);
}

/**
 * The Prometheus queries of each panel of a dashboard (rows' nested panels included), as Grafana
 * runs them: hidden targets left out, each panel's width in pixels its max data points unless it
 * sets one. Panels without a Prometheus query are left out (Loki's, text, rows).
 */
export function panelQueries(dashboard: JsonObject, widthPx = DASHBOARD_WIDTH_PX): PanelQueries[] {
  const out: PanelQueries[] = [];
  for (const { panel, where } of walkPanels(dashboard)) {
    if (panel.type === "row") continue;
    const targets: PanelTarget[] = [];
    asArray(panel.targets).forEach((item, index) => {
      const t = isObject(item) ? item : {};
      if (t.hide === true) return;
      const ref = "datasource" in t ? t.datasource : panel.datasource;
      if (!isPrometheus(dashboard, ref)) return;
      const expr = asString(t.expr);
      if (!expr?.trim()) return;
      const instant = t.instant === true;
      const range = typeof t.range === "boolean" ? t.range : !instant;
      const minStepMs = intervalSettingMs(t.interval);
      const factor = typeof t.intervalFactor === "number" && t.intervalFactor > 0 ? t.intervalFactor : undefined;
      targets.push({
        refId: asString(t.refId) ?? String.fromCharCode(65 + index),
        expr,
        range,
        instant,
        ...(minStepMs !== undefined ? { minStepMs } : {}),
        ...(factor !== undefined ? { intervalFactor: factor } : {}),
      });
    });
    if (targets.length === 0) continue;
    const grid = isObject(panel.gridPos) ? panel.gridPos : {};
    const w = typeof grid.w === "number" ? grid.w : 24;
    const maxDataPoints = typeof panel.maxDataPoints === "number" ? panel.maxDataPoints : Math.round((w / 24) * widthPx);
    const panelMinIntervalMs = intervalSettingMs(panel.interval);
    out.push({
      id: where,
      title: asString(panel.title) ?? "",
      maxDataPoints,
      ...(panelMinIntervalMs !== undefined ? { panelMinIntervalMs } : {}),
      targets,
    });
  }
  return out;
}

/** One request Grafana sends Prometheus for a target. */
export interface PromRequest {
  path: "/api/v1/query_range" | "/api/v1/query";
  params: Record<string, string>;
}

/** The requests of one target: its expression expanded, a range query with its aligned range and step, an instant query at the range's end. */
export function targetRequests(
  panel: PanelQueries,
  target: PanelTarget,
  range: { from: number; to: number },
  scrapeIntervalMs: number,
  variables: ReadonlyMap<string, VariableValue>,
): PromRequest[] {
  const inputs: IntervalInputs = {
    ...range,
    maxDataPoints: panel.maxDataPoints,
    scrapeIntervalMs,
    ...(panel.panelMinIntervalMs !== undefined ? { panelMinIntervalMs: panel.panelMinIntervalMs } : {}),
    ...(target.minStepMs !== undefined ? { minStepMs: target.minStepMs } : {}),
    ...(target.intervalFactor !== undefined ? { intervalFactor: target.intervalFactor } : {}),
  };
  const query = interpolate(target.expr, variables, builtIns(inputs));
  const out: PromRequest[] = [];
  if (target.range) {
    const step = queryStep(inputs);
    const { start, end } = alignedRange(range.from, range.to, step);
    out.push({
      path: "/api/v1/query_range",
      params: { query, start: String(start / 1000), end: String(end / 1000), step: String(step / 1000) },
    });
  }
  if (target.instant) out.push({ path: "/api/v1/query", params: { query, time: String(range.to / 1000) } });
  return out;
}
