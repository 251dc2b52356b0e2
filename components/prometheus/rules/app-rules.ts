/**
 * The app contract: recording rules, generated from each app's config, that turn
 * whatever an app calls its metrics into one fixed set of `app:*` series. Alert
 * rules (rules/apps.yml, rules/slo.yml) and dashboards only ever read these
 * series, so a new app with its own metric names needs config, not rule edits.
 *
 * Series produced for every app, each carrying `app="<name>"`:
 * - app:own_targets:info{job, namespace}: where the app's own series come from, one series
 *   per origin: its scrape job (`job="<name>"`, with its Service's namespace, none for a URL)
 *   and its OTLP pushes (`job="<name>"` from OTEL_SERVICE_NAME, with apps[].namespace). Every
 *   other series reads the app's metrics only through it (`and on (job, namespace)`), and
 *   AppDown its `up` and `target_info`: a pod of another namespace or job that carries the same
 *   `app` label, or sends OTLP under the same service name, changes none of them;
 * - app:http_requests_by_status:rate5m{<status label>, code, method, <method label>} and
 *   app:http_requests_by_status:rate1h{<status label>}: the app's request counter read once per
 *   window (5m, and the raw window 1h), by its own status label: the request rates and the 5xx
 *   below are sums of these, so no rule reads the raw series twice;
 * - app:http_requests:rate5m{code, method}: request rate by status code and method;
 * - app:http_request_duration_seconds_bucket:rate5m{le, route}: latency histogram;
 * - app:http_connections_active:sum: open connections;
 * - app:slo_requests:rate5m, app:slo_errors:rate5m: requests and 5xx responses per second
 *   over 5 minutes (0 errors, not none, for an app with requests and no 5xx);
 * - app:slo_errors_per_request:ratio_rate<window>: share of 5xx responses, for every
 *   window of the multi-window burn-rate alerts (SLO_WINDOWS). The 5m ratio divides the two
 *   series above. The window a page fires on first (1h: RAW_WINDOWS) divides the raw
 *   counter's 5xx rate over the window by its requests (recorded first as app:slo_requests:rate1h,
 *   which the ratio reads twice), both from app:http_requests_by_status:rate1h. The others (30m, 2h, 6h, 1d, 3d) divide the sums of the two 5m
 *   series above over the window instead (sum_over_time: each 5 minutes weighted by its traffic),
 *   one series per app instead of every series of the app's request metric over up to 3 days,
 *   which churns with its pods. An average of 5m rates runs 2.5 minutes behind the window's own
 *   rate, so a burst reaches it later: minutes late on the 1h window of a page that fires 2
 *   minutes after, a rounding error on a window of hours that a burn needs hours to fill, and on
 *   a short window that only says a burn goes on (see RAW_WINDOWS). The
 *   2h, 1d and 3d ratios, which only warnings evaluated once a minute read, are recorded once a
 *   minute (MINUTE_WINDOWS, group `app-contract-every-minute`);
 * - app:slo_availability_target:ratio, app:slo_latency_target_seconds,
 *   app:slo_min_throughput:rps (only when configured),
 *   app:alert_threshold_latency_p95_seconds, app:alert_threshold_error_ratio: the
 *   app's objectives and thresholds as series, so one alert rule compares every
 *   app with its own numbers;
 * - app:contract_requests:count, app:contract_requests_with_status:count,
 *   app:contract_duration_histograms:count: how many series of the app's request metric it
 *   exposes, how many of them carry its status label, and how many series its latency
 *   histogram has (counted by their `+Inf` bucket, which every classic histogram series
 *   exposes: one series read per histogram, not one per bucket); with
 *   app:contract:info{requests, duration, status_label, config} (the
 *   app's metric names and its config key), AppStatusLabelMissing and
 *   AppLatencyHistogramMissing (rules/apps.yml) tell when the config does not match the app.
 *   The counts are recorded once a minute (group `app-contract-every-minute`): those warnings
 *   wait 10 minutes, and fire at most a minute later for it.
 *
 * Apps that name their metrics alike share their rules: one rule per series selects all of
 * them by `job` and keeps them apart by `app`, so the rules grow with the number of naming
 * schemes, not of apps; apps named otherwise join the same rule through `or`. Only the
 * origins and objectives are per app. The apps are cut, in config order, into groups of bounded size
 * (APP_GROUP_BUDGET), each with one rule per normalised series: the Prometheus component
 * writes each group to a file of its own, so that no file holds a rule twice (promtool's
 * duplicate-rule check) and no file or ConfigMap grows without bound, whatever the number of apps.
 */
import type { AppTarget } from "../args";
import { atLeastDuration } from "../../kit/units";

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

/**
 * The windows whose ratio reads the raw counters: the 1h window of the 14.4x page (`for: 2m`), where the
 * 2.5-minute lag of summed 5m rates would page 3 minutes later. The others sum the recorded 5m rates:
 * 30m, the short window of the 6x page, which says a burn goes on and never fires it first (the page's 6h
 * window, which a burn between 6 and 14.4 times the budget takes 2.5 to 6 hours to fill, passes its
 * threshold hours after the 30m one), so that the page resolves about 2 minutes later once the errors stop
 * and fires no later; 2h, the short window of a warning with `for: 1h`; 6h, the long window of the 6x page and
 * the short one of a warning with `for: 3h`; 1d and 3d, the warnings'. What a raw window costs grows with
 * its length and with every series the app's pods leave behind; a summed one reads one series per app.
 */
export const RAW_WINDOWS: ReadonlySet<RawWindow> = new Set(["1h"]);
type RawWindow = "1h";
const isRaw = (window: (typeof SLO_WINDOWS)[number]): window is RawWindow => (RAW_WINDOWS as ReadonlySet<string>).has(window);

/**
 * The windows whose ratio only warnings evaluated once a minute read (rules/slo.yml's `slo-every-minute`: the 3x
 * burn on 1d and 2h, the 1x on 3d and 6h; 6h is also the 6x page's, which stays at the evaluation interval): recorded
 * once a minute too, in a group of their own (`app-contract-every-minute`). Each reads hours or days of its two 5m
 * series, whose sum over a day moves by a rounding error in a minute.
 */
export const MINUTE_WINDOWS: ReadonlySet<(typeof SLO_WINDOWS)[number]> = new Set(["2h", "1d", "3d"]);

/** The name of a group evaluated once a minute is its area's with this suffix (docs/alerts.md, "Evaluated once a minute"). */
export const MINUTE_SUFFIX = "-every-minute";

/** The interval of the groups evaluated once a minute: a minute, or the stack's evaluation interval when it is longer. */
export function everyMinute(evaluationInterval: string): string {
  return atLeastDuration("1m", evaluationInterval);
}

/** Names of the normalised series, for the rules and dashboards that read them. */
export const APP_SERIES = {
  requestsByStatus: (window: "5m" | RawWindow) => `app:http_requests_by_status:rate${window}`,
  requests: "app:http_requests:rate5m",
  durationBuckets: "app:http_request_duration_seconds_bucket:rate5m",
  activeConnections: "app:http_connections_active:sum",
  sloRequests: "app:slo_requests:rate5m",
  sloErrors: "app:slo_errors:rate5m",
  errorRatio: (window: (typeof SLO_WINDOWS)[number]) => `app:slo_errors_per_request:ratio_rate${window}`,
  windowRequests: (window: (typeof SLO_WINDOWS)[number]) => `app:slo_requests:rate${window}`,
  availabilityTarget: "app:slo_availability_target:ratio",
  latencyTarget: "app:slo_latency_target_seconds",
  minThroughput: "app:slo_min_throughput:rps",
  latencyThreshold: "app:alert_threshold_latency_p95_seconds",
  errorRatioThreshold: "app:alert_threshold_error_ratio",
  ownTargets: "app:own_targets:info",
  contractInfo: "app:contract:info",
  contractRequests: "app:contract_requests:count",
  contractRequestsWithStatus: "app:contract_requests_with_status:count",
  contractDurationHistograms: "app:contract_duration_histograms:count",
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

/** The labels that name where an app's own series come from: app:own_targets:info carries these. */
const ORIGIN_LABELS = ["job", "namespace"] as const;

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
  // The same apps among the series already recorded (by `app`: no other group records them).
  const recordedApps = apps.length === 1 ? `app=${quote(apps[0].name)}` : `app=~${quote(apps.map((a) => a.name).join("|"))}`;
  // ...and of those, only the series of the app's own origins (OWN_TARGETS): its job in its namespace.
  // An origin is a job in a namespace: the labels the join matches on, and those every sum keeps for it.
  const origin = ORIGIN_LABELS.join(", ");
  const mine = (expr: string) => `${expr} and on (${origin}) ${APP_SERIES.ownTargets}`;
  // The app's series summed first by what the join and the label copies read (`app`, `job` and
  // `namespace`, and the labels named), so that they see one series per app and label values
  // rather than one per pod: a sum of those sums is the sum of the series, the value unchanged.
  const summed = (expr: string, ...labels: string[]) => `sum by (${[...new Set(["app", ...ORIGIN_LABELS, ...labels])].join(", ")}) (${expr})`;
  const counted = (selector: string) => `sum by (app) (${mine(`count by (app, ${origin}) (${selector})`)})`;
  // label_replace copies the app's label into the contract's name; when the names are the same it changes nothing.
  // "(.+)": a series without the label keeps the one it has (a promhttp app's own `code` when its
  // statusLabel names another): copying an absent label would blank it, and series differing only
  // by it would collide (promtool: "vector cannot contain metrics with the same labelset").
  const copyLabel = (expr: string, to: string, from: string) => `label_replace(${expr}, ${quote(to)}, "$1", ${quote(from)}, "(.+)")`;
  // The request counter's rate over a window, of the app's own series, by its status label and `labels`: what
  // requestsByStatus records, the app's only read of the counter in a window.
  const byStatus = (window: string, ...labels: string[]) =>
    `sum by (${[...new Set(["app", m.statusLabel, ...labels])].join(", ")}) (${mine(summed(`rate(${m.requests}{${own}}[${window}])`, m.statusLabel, ...labels))})`;
  // The 5xx series of a window's requestsByStatus, by the app's own status label.
  const serverErrors = (window: "5m" | RawWindow) =>
    `${APP_SERIES.requestsByStatus(window)}{${recordedApps}, ${m.statusLabel}=~${quote(SERVER_ERROR)}}`;
  return [
    // The raw counter read once per window: by the app's own status label (as its config names it),
    // so that the requests and the 5xx among them are both sums of what is recorded (the 5m also by
    // the labels the contract's code and method copy), with no second pass over its series.
    {
      record: APP_SERIES.requestsByStatus("5m"),
      expr: byStatus("5m", "code", "method", m.methodLabel),
    },
    {
      record: APP_SERIES.requests,
      expr: `sum by (app, code, method) (${copyLabel(copyLabel(`${APP_SERIES.requestsByStatus("5m")}{${recordedApps}}`, "code", m.statusLabel), "method", m.methodLabel)})`,
    },
    {
      record: APP_SERIES.durationBuckets,
      expr: `sum by (app, le, route) (${copyLabel(mine(summed(`rate(${m.duration}_bucket{${own}}[5m])`, "le", "route", m.routeLabel)), "route", m.routeLabel)})`,
    },
    { record: APP_SERIES.activeConnections, expr: `sum by (app) (${mine(summed(`${m.activeConnections}{${own}}`))})` },
    // The SLO's two rates, once per evaluation: the requests from the rate just recorded (the same
    // series summed by app), the errors from its 5xx series (by the app's own status label).
    { record: APP_SERIES.sloRequests, expr: `sum by (app) (${APP_SERIES.requests}{${recordedApps}})` },
    {
      record: APP_SERIES.sloErrors,
      // `or 0 * ...`: an app with requests but no 5xx at all has 0 errors, not a missing
      // series (its ratios read 0 %, not "No data"); an app without requests has none.
      expr: `sum by (app) (${serverErrors("5m")}) or 0 * ${APP_SERIES.sloRequests}{${recordedApps}}`,
    },
    ...SLO_WINDOWS.flatMap((window) => {
      if (window === "5m")
        return [{ record: APP_SERIES.errorRatio(window), expr: `${APP_SERIES.sloErrors}{${recordedApps}} / ${APP_SERIES.sloRequests}{${recordedApps}}` }];
      if (!isRaw(window))
        return [
          {
            record: APP_SERIES.errorRatio(window),
            expr: `sum_over_time(${APP_SERIES.sloErrors}{${recordedApps}}[${window}]) / sum_over_time(${APP_SERIES.sloRequests}{${recordedApps}}[${window}])`,
          },
        ];
      // A raw window: the counter's rates over the window by status, recorded first, so that the
      // ratio reads every series of the request metric over the window once.
      const windowRequests = `${APP_SERIES.windowRequests(window)}{${recordedApps}}`;
      return [
        { record: APP_SERIES.requestsByStatus(window), expr: byStatus(window) },
        { record: APP_SERIES.windowRequests(window), expr: `sum by (app) (${APP_SERIES.requestsByStatus(window)}{${recordedApps}})` },
        {
          record: APP_SERIES.errorRatio(window),
          // `or 0 * ...`: as the 5m errors above, 0 for an app with requests and no 5xx.
          expr: `(sum by (app) (${serverErrors(window)}) or 0 * ${windowRequests})\n/\n${windowRequests}`,
        },
      ];
    }),
    // The contract checked on the app's own series: a request metric without the status label
    // (a Go promhttp service's is `code`) leaves the error ratio at 0 for ever, a histogram of
    // another name leaves the latency alerts without data. Counted by app, job and namespace
    // before the join, as the rates are summed: the join sees one series per origin, not one
    // per pod, and a sum of the origins' counts is the count of their series.
    { record: APP_SERIES.contractRequests, expr: counted(`${m.requests}{${own}}`) },
    { record: APP_SERIES.contractRequestsWithStatus, expr: counted(`${m.requests}{${own}, ${m.statusLabel}!=""}`) },
    { record: APP_SERIES.contractDurationHistograms, expr: counted(`${m.duration}_bucket{${own}, le="+Inf"}`) },
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

/**
 * Where the series of one app come from, as series labelled with it: its scrape job (in its
 * Service's namespace; a URL has none) and its OTLP pushes (from apps[].namespace, which config
 * requires of an app that sends OTLP). An app scraped from a Service and sending OTLP from the
 * same namespace has one origin.
 */
function ownTargetRules(app: AppTarget): RecordingRule[] {
  const origins: Array<Record<string, string>> = [];
  if (app.service) origins.push({ namespace: app.service.namespace });
  else if (app.url !== undefined) origins.push({});
  if (app.otlp && app.otlpNamespace !== undefined && app.otlpNamespace !== app.service?.namespace) {
    origins.push({ namespace: app.otlpNamespace });
  }
  return origins.map((where) => ({ record: APP_SERIES.ownTargets, expr: "vector(1)", labels: { app: app.name, job: app.name, ...where } }));
}

/** The objectives and thresholds of one app (the `index`th of apps[]), as series labelled with it. */
function objectiveRules(app: AppTarget, index: number): RecordingRule[] {
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
    // What the contract alerts name: the app's metrics as configured, and where to change them.
    {
      record: APP_SERIES.contractInfo,
      expr: "vector(1)",
      labels: {
        ...labels,
        requests: app.metrics.requests,
        duration: app.metrics.duration,
        status_label: app.metrics.statusLabel,
        config: `monitoring:apps[${index}].metrics`,
      },
    },
  );
  return rules;
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

/** An app and its position in apps[] (its config key). */
interface Indexed {
  app: AppTarget;
  index: number;
}

/**
 * The contract's counts (app:contract_*:count): only AppStatusLabelMissing and AppLatencyHistogramMissing read them,
 * which wait 10 minutes for a config that does not match the app, and each reads every series of the app's request
 * metric or histogram, which churn with its pods.
 */
const CONTRACT_COUNTS: ReadonlySet<string> = new Set([
  APP_SERIES.contractRequests,
  APP_SERIES.contractRequestsWithStatus,
  APP_SERIES.contractDurationHistograms,
]);

/** Whether a normalised series is recorded once a minute: a ratio over one of MINUTE_WINDOWS, or a contract count. */
const minuteRecord = (record: string) => CONTRACT_COUNTS.has(record) || [...MINUTE_WINDOWS].some((w) => record === APP_SERIES.errorRatio(w));

/**
 * The two groups of `apps`, their normalisation written once for both:
 * - `name`, every `evaluationInterval`: where each one's series come from (first: the normalisation reads it in the
 *   same evaluation), their normalisation but what minuteRecord keeps for the other, then each one's objectives;
 * - `name` + MINUTE_SUFFIX, once a minute: the ratios over MINUTE_WINDOWS, which read the 5m series of the first,
 *   and the contract's counts (CONTRACT_COUNTS), which read the origins the first records.
 */
function groupsOf(name: string, apps: readonly Indexed[], evaluationInterval: string): [RecordingRuleGroup, RecordingRuleGroup] {
  const normalised = normalisationRules(apps.map(({ app }) => app));
  return [
    {
      name,
      interval: evaluationInterval,
      rules: [
        ...apps.flatMap(({ app }) => ownTargetRules(app)),
        ...normalised.filter((r) => !minuteRecord(r.record)),
        ...apps.flatMap(({ app, index }) => objectiveRules(app, index)),
      ],
    },
    { name: `${name}${MINUTE_SUFFIX}`, interval: everyMinute(evaluationInterval), rules: normalised.filter((r) => minuteRecord(r.record)) },
  ];
}

/**
 * The apps, in order, cut into runs whose group stays within APP_GROUP_BUDGET. Each app's
 * share is its objectives, its job in every selector, and a naming scheme new to the run;
 * a run that still comes out larger (the shares are estimates) is cut again.
 */
function runsOf(apps: readonly Indexed[], evaluationInterval: string): Indexed[][] {
  const selectors = normalisationExprs([apps[0].app]).length + 2 * SLO_WINDOWS.length;
  const runs: Indexed[][] = [];
  let run: Indexed[] = [];
  let namings = new Set<string>();
  let used = 0;
  for (const entry of apps) {
    const { app, index } = entry;
    const fresh = !namings.has(namingOf(app));
    const share =
      jsonBytes([...ownTargetRules(app), ...objectiveRules(app, index)]) +
      selectors * (app.name.length + 1) +
      (fresh ? jsonBytes(normalisationExprs([app])) : 0);
    if (run.length > 0 && used + share > APP_GROUP_BUDGET) {
      runs.push(run);
      [run, namings, used] = [[], new Set(), 0];
      // In a new run the app's naming is new again.
      used += share + (fresh ? 0 : jsonBytes(normalisationExprs([app])));
    } else {
      used += share;
    }
    run.push(entry);
    namings.add(namingOf(app));
  }
  if (run.length > 0) runs.push(run);
  const fits = (r: Indexed[]) => r.length === 1 || jsonBytes(groupsOf("", r, evaluationInterval)[0]) <= APP_GROUP_BUDGET;
  const split = (r: Indexed[]): Indexed[][] =>
    fits(r) ? [r] : [...split(r.slice(0, r.length >> 1)), ...split(r.slice(r.length >> 1))];
  return runs.flatMap(split);
}

/**
 * The recording rules of the app contract: groups `app-contract`, `app-contract-2`, ... (as
 * many as the apps need, see APP_GROUP_BUDGET), each evaluated every `evaluationInterval`,
 * with each app's origins, one rule per normalised series for its apps, then each app's
 * objectives, in config order; each followed by its `…-every-minute` group, the ratios over
 * MINUTE_WINDOWS and the contract's counts of the same apps. No apps: no groups, still a valid rule file. The apps have names of their own
 * (problems.ts appNameProblems, which config and the component run first).
 */
export function appRecordingRules(apps: readonly AppTarget[], evaluationInterval: string): RecordingRuleFile {
  return { groups: appRuleRuns(apps, evaluationInterval).flat() };
}

/** appRecordingRules' groups by run of apps: each run's two groups (groupsOf), which components/prometheus/rules/rule-files.ts writes to a file of their own. */
export function appRuleRuns(apps: readonly AppTarget[], evaluationInterval: string): RecordingRuleGroup[][] {
  if (apps.length === 0) return [];
  return runsOf(
    apps.map((app, index) => ({ app, index })),
    evaluationInterval,
  ).map((run, i) => groupsOf(i === 0 ? "app-contract" : `app-contract-${i + 1}`, run, evaluationInterval));
}
