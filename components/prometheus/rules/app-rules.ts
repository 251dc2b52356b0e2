/**
 * The app contract: recording rules, generated from each app's config, that turn
 * whatever an app calls its metrics into one fixed set of `app:*` series. Alert
 * rules (rules/apps.yml, rules/slo.yml) and dashboards only ever read these
 * series, so a new app with its own metric names needs config, not rule edits.
 *
 * Series produced for every app, each carrying `app="<name>"`:
 * - app:http_requests:rate5m{code, method}: request rate by status code and method;
 * - app:http_request_duration_seconds_bucket:rate5m{le, route}: latency histogram;
 * - app:http_connections_active:sum: open connections;
 * - app:slo_errors_per_request:ratio_rate<window>: share of 5xx responses, for every
 *   window of the multi-window burn-rate alerts (SLO_WINDOWS);
 * - app:slo_availability_target:ratio, app:slo_latency_target_seconds,
 *   app:slo_min_throughput:rps (only when configured),
 *   app:alert_threshold_latency_p95_seconds, app:alert_threshold_error_ratio: the
 *   app's objectives and thresholds as series, so one alert rule compares every
 *   app with its own numbers.
 *
 * Apps that name their metrics alike share their rules: one rule per series selects all of
 * them by `job` and keeps them apart by `app`, so the rules grow with the number of naming
 * schemes, not of apps; apps named otherwise join the same rule through `or`. Only the
 * objectives are per app. The apps are cut, in config order, into groups of bounded size
 * (APP_GROUP_BUDGET), each with one rule per normalised series: the Prometheus component
 * writes each group to a file of its own, so that no file holds a rule twice (promtool's
 * duplicate-rule check) and no file or ConfigMap grows without bound, whatever the number of apps.
 */
import type { AppTarget } from "../args";

/** A recording rule as Prometheus reads it. */
export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

/** A rule group as Prometheus reads it. */
export interface RecordingRuleGroup {
  name: string;
  interval?: string;
  rules: RecordingRule[];
}

/** A rule file: what `promtool check rules` and Prometheus' rule_files read. */
export interface RecordingRuleFile {
  groups: RecordingRuleGroup[];
}

/** The windows of the error ratio: those of the multi-window, multi-burn-rate SLO alerts. */
export const SLO_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;

/** Names of the normalised series, for the rules and dashboards that read them. */
export const APP_SERIES = {
  requests: "app:http_requests:rate5m",
  durationBuckets: "app:http_request_duration_seconds_bucket:rate5m",
  activeConnections: "app:http_connections_active:sum",
  errorRatio: (window: (typeof SLO_WINDOWS)[number]) => `app:slo_errors_per_request:ratio_rate${window}`,
  availabilityTarget: "app:slo_availability_target:ratio",
  latencyTarget: "app:slo_latency_target_seconds",
  minThroughput: "app:slo_min_throughput:rps",
  latencyThreshold: "app:alert_threshold_latency_p95_seconds",
  errorRatioThreshold: "app:alert_threshold_error_ratio",
} as const;

/** Status codes that count as errors against the availability objective. */
const SERVER_ERROR = "5..";

/** A PromQL string literal. Label values here are DNS labels and regexes without quotes; JSON's escaping is PromQL's. */
function quote(value: string): string {
  return JSON.stringify(value);
}

/**
 * A PromQL number: the shortest form that reads back as the same float. Finite: the schema takes
 * numbers only (zod refuses Infinity and NaN), and the ratios config derives from them are finite too.
 */
function number(value: number): string {
  return String(value);
}

/**
 * Bytes (as JSON) one group may take: its rules list the jobs of its apps and their objectives.
 * About a thousand apps named alike, or some fifty each named its own way, fit in one.
 */
export const APP_GROUP_BUDGET = 128 * 1024;

/** What an app's normalisation depends on: apps whose metrics are named alike share their rules. */
function namingOf(app: AppTarget): string {
  const m = app.metrics;
  return JSON.stringify([m.requests, m.duration, m.statusLabel, m.methodLabel, m.routeLabel, m.activeConnections]);
}

/**
 * The normalisation of apps that name their metrics alike (`apps`, all with the same
 * `metrics`), one expression per series, in APP_SERIES order: each series keeps its own app's
 * `app` label, so one expression serves them all.
 */
function normalisationExprs(apps: readonly AppTarget[]): Array<{ record: string; expr: string }> {
  const m = apps[0].metrics;
  // The apps' own jobs: every app target carries job="<name>" and app="<name>", and the
  // job keeps out a second copy of an app's series scraped by another job (e.g. a pod
  // that is also annotated for scraping), which carries the same `app`.
  const own = apps.length === 1 ? `job=${quote(apps[0].name)}` : `job=~${quote(apps.map((a) => a.name).join("|"))}`;
  const requests = (window: string, extra = "") => `${m.requests}{${own}${extra}}[${window}]`;
  // label_replace copies the app's label into the contract's name; when the names are the same it changes nothing.
  const copyLabel = (expr: string, to: string, from: string) => `label_replace(${expr}, ${quote(to)}, "$1", ${quote(from)}, "(.*)")`;
  return [
    {
      record: APP_SERIES.requests,
      expr: `sum by (app, code, method) (${copyLabel(copyLabel(`rate(${requests("5m")})`, "code", m.statusLabel), "method", m.methodLabel)})`,
    },
    {
      record: APP_SERIES.durationBuckets,
      expr: `sum by (app, le, route) (${copyLabel(`rate(${m.duration}_bucket{${own}}[5m])`, "route", m.routeLabel)})`,
    },
    { record: APP_SERIES.activeConnections, expr: `sum by (app) (${m.activeConnections}{${own}})` },
    ...SLO_WINDOWS.map((window) => ({
      record: APP_SERIES.errorRatio(window),
      // `or 0 * ...`: an app with requests but no 5xx at all has a ratio of 0, not a missing
      // series (dashboards show 0 %, not "No data"); an app without requests has none.
      expr:
        `(sum by (app) (rate(${requests(window, `, ${m.statusLabel}=~${quote(SERVER_ERROR)}`)})) or 0 * sum by (app) (rate(${requests(window)})))\n` +
        `/\nsum by (app) (rate(${requests(window)}))`,
    })),
  ];
}

/**
 * One rule per normalised series for `apps`: the expressions of each naming scheme, in the
 * order its first app appears, joined by `or` (their apps, hence their `app` labels, differ).
 */
function normalisationRules(apps: readonly AppTarget[]): RecordingRule[] {
  const byNaming = new Map<string, AppTarget[]>();
  for (const app of apps) byNaming.set(namingOf(app), [...(byNaming.get(namingOf(app)) ?? []), app]);
  const schemes = [...byNaming.values()].map(normalisationExprs);
  return schemes[0].map(({ record }, i) => ({
    record,
    expr: schemes.length === 1 ? schemes[0][i].expr : schemes.map((s) => `(\n${s[i].expr}\n)`).join("\nor\n"),
  }));
}

/** The objectives and thresholds of one app, as series labelled with it. */
function objectiveRules(app: AppTarget): RecordingRule[] {
  const labels = { app: app.name };
  const rules: RecordingRule[] = [
    { record: APP_SERIES.availabilityTarget, expr: `vector(${number(app.slo.availabilityRatio)})`, labels },
    { record: APP_SERIES.latencyTarget, expr: `vector(${number(app.slo.latencyP95Seconds)})`, labels },
  ];
  if (app.slo.minRequestsPerSecond !== undefined) {
    rules.push({ record: APP_SERIES.minThroughput, expr: `vector(${number(app.slo.minRequestsPerSecond)})`, labels });
  }
  rules.push(
    { record: APP_SERIES.latencyThreshold, expr: `vector(${number(app.alerts.latencyP95Seconds)})`, labels },
    { record: APP_SERIES.errorRatioThreshold, expr: `vector(${number(app.alerts.errorRatio)})`, labels },
  );
  return rules;
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

/** The group of `apps`: their normalisation, then each one's objectives. */
function groupOf(name: string, apps: readonly AppTarget[], evaluationInterval: string): RecordingRuleGroup {
  return { name, interval: evaluationInterval, rules: [...normalisationRules(apps), ...apps.flatMap(objectiveRules)] };
}

/**
 * The apps, in order, cut into runs whose group stays within APP_GROUP_BUDGET. Each app's
 * share is its objectives, its job in every selector, and a naming scheme new to the run;
 * a run that still comes out larger (the shares are estimates) is cut again.
 */
function runsOf(apps: readonly AppTarget[], evaluationInterval: string): AppTarget[][] {
  const selectors = normalisationExprs([apps[0]]).length + 2 * SLO_WINDOWS.length;
  const runs: AppTarget[][] = [];
  let run: AppTarget[] = [];
  let namings = new Set<string>();
  let used = 0;
  for (const app of apps) {
    const fresh = !namings.has(namingOf(app));
    const share = jsonBytes(objectiveRules(app)) + selectors * (app.name.length + 1) + (fresh ? jsonBytes(normalisationExprs([app])) : 0);
    if (run.length > 0 && used + share > APP_GROUP_BUDGET) {
      runs.push(run);
      [run, namings, used] = [[], new Set(), 0];
      // In a new run the app's naming is new again.
      used += share + (fresh ? 0 : jsonBytes(normalisationExprs([app])));
    } else {
      used += share;
    }
    run.push(app);
    namings.add(namingOf(app));
  }
  if (run.length > 0) runs.push(run);
  const fits = (r: AppTarget[]) => r.length === 1 || jsonBytes(groupOf("", r, evaluationInterval)) <= APP_GROUP_BUDGET;
  const split = (r: AppTarget[]): AppTarget[][] =>
    fits(r) ? [r] : [...split(r.slice(0, r.length >> 1)), ...split(r.slice(r.length >> 1))];
  return runs.flatMap(split);
}

/**
 * The recording rules of the app contract: groups `app-contract`, `app-contract-2`, ... (as
 * many as the apps need, see APP_GROUP_BUDGET), each evaluated every `evaluationInterval`,
 * with one rule per normalised series for its apps, then each app's objectives, in config
 * order. No apps: no groups, still a valid rule file. The apps have names of their own
 * (problems.ts appNameProblems, which config and the component run first).
 */
export function appRecordingRules(apps: readonly AppTarget[], evaluationInterval: string): RecordingRuleFile {
  if (apps.length === 0) return { groups: [] };
  return {
    groups: runsOf(apps, evaluationInterval).map((run, i) =>
      groupOf(i === 0 ? "app-contract" : `app-contract-${i + 1}`, run, evaluationInterval),
    ),
  };
}
