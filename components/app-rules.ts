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
 */
import type { AppTarget } from "./config";

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

/** A PromQL number: the shortest form that reads back as the same float. */
function number(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return String(value);
}

/** The rules of one app. */
function rulesOf(app: AppTarget): RecordingRule[] {
  const m = app.metrics;
  // Both matchers: `app` picks the app's series, `job` keeps out a second copy of
  // them scraped by another job (e.g. a pod that is also annotated for scraping).
  const own = `app=${quote(app.name)}, job=${quote(app.name)}`;
  const labels = { app: app.name };
  const requests = (window: string, extra = "") => `${m.requests}{${own}${extra}}[${window}]`;
  // label_replace copies the app's label into the contract's name; when the names are the same it changes nothing.
  const copyLabel = (expr: string, to: string, from: string) => `label_replace(${expr}, ${quote(to)}, "$1", ${quote(from)}, "(.*)")`;

  const rules: RecordingRule[] = [
    {
      record: APP_SERIES.requests,
      expr: `sum by (code, method) (${copyLabel(copyLabel(`rate(${requests("5m")})`, "code", m.statusLabel), "method", m.methodLabel)})`,
      labels,
    },
    {
      record: APP_SERIES.durationBuckets,
      expr: `sum by (le, route) (${copyLabel(`rate(${m.duration}_bucket{${own}}[5m])`, "route", m.routeLabel)})`,
      labels,
    },
    { record: APP_SERIES.activeConnections, expr: `sum(${m.activeConnections}{${own}})`, labels },
    ...SLO_WINDOWS.map((window) => ({
      record: APP_SERIES.errorRatio(window),
      // `or vector(0)`: no 5xx at all is a ratio of 0, not a missing series (dashboards show 0 %, not "No data").
      expr:
        `(sum(rate(${requests(window, `, ${m.statusLabel}=~${quote(SERVER_ERROR)}`)})) or vector(0))\n` +
        `/\nsum(rate(${requests(window)}))`,
      labels,
    })),
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

/**
 * The recording rules of the app contract: one group per app (named `app-<name>`,
 * evaluated every `evaluationInterval`), in config order. No apps: no groups, still
 * a valid rule file.
 */
export function appRecordingRules(apps: readonly AppTarget[], evaluationInterval: string): RecordingRuleFile {
  const seen = new Set<string>();
  for (const app of apps) {
    if (seen.has(app.name)) throw new Error(`app "${app.name}" appears twice: app names must be unique`);
    seen.add(app.name);
  }
  return { groups: apps.map((app) => ({ name: `app-${app.name}`, interval: evaluationInterval, rules: rulesOf(app) })) };
}
