/**
 * The app contract: the generated recording rules turn each app's own metric names
 * into the `app:*` series. Checked by promtool (syntax) and by a promtool unit test
 * that feeds an app's raw series under custom names and reads back the normalised
 * values, which proves the normalisation itself.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { APP_GROUP_BUDGET, APP_SERIES, SLO_WINDOWS, appRecordingRules } from "../../components/prometheus/rules/app-rules";
import { parseStackConfig } from "../../config";
import { appNameProblems } from "../../components/prometheus/problems";
import { problems as configProblems, problemsOfWire } from "../config/support";
import type { AppTarget } from "../../components/prometheus/args";
import { readStackConfig } from "../../scripts/lib/stackfile";
import { promtool } from "../../scripts/lib/local/binaries";
import { promqlProblem } from "../../scripts/lib/promql";

/** An app as config.ts resolves it, with everything overridable. */
function app(name: string, overrides: Partial<AppTarget> = {}): AppTarget {
  return {
    name,
    service: { namespace: "shop", name, port: "http" },
    path: "/metrics",
    scheme: "http",
    labels: {},
    metrics: {
      requests: "http_requests_total",
      duration: "http_request_duration_seconds",
      statusLabel: "status",
      methodLabel: "method",
      routeLabel: "endpoint",
      activeConnections: "http_connections_active",
    },
    slo: { availabilityRatio: 0.999, latencyP95Seconds: 0.5 },
    alerts: { latencyP95Seconds: 1, errorRatio: 0.05 },
    ...overrides,
  };
}

/** An app that names everything its own way, with its own objectives. */
const shop = app("shop", {
  metrics: {
    requests: "shop_http_requests_total",
    duration: "shop_http_request_duration_seconds",
    statusLabel: "status_code",
    methodLabel: "verb",
    routeLabel: "handler",
    activeConnections: "shop_open_connections",
  },
  slo: { availabilityRatio: 0.995, latencyP95Seconds: 0.25, minRequestsPerSecond: 2 },
  alerts: { latencyP95Seconds: 0.75, errorRatio: 0.1 },
});

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "app-rules-"));
}

describe("appRecordingRules", () => {
  const normalised = [
    "app:http_requests:rate5m",
    "app:http_request_duration_seconds_bucket:rate5m",
    "app:http_connections_active:sum",
    "app:slo_errors_per_request:ratio_rate5m",
    "app:slo_errors_per_request:ratio_rate30m",
    "app:slo_errors_per_request:ratio_rate1h",
    "app:slo_errors_per_request:ratio_rate2h",
    "app:slo_errors_per_request:ratio_rate6h",
    "app:slo_errors_per_request:ratio_rate1d",
    "app:slo_errors_per_request:ratio_rate3d",
  ];

  test("one rule per normalised series serves every app, then each app's objectives, in one group", () => {
    const file = appRecordingRules([shop, app("web"), app("api")], "30s");

    expect(file.groups.map((g) => [g.name, g.interval])).toEqual([["app-contract", "30s"]]);
    const [{ rules }] = file.groups;
    expect(rules.map((r) => (r.labels ? `${r.record}{app=${r.labels.app}}` : r.record))).toEqual([
      ...normalised,
      "app:slo_availability_target:ratio{app=shop}",
      "app:slo_latency_target_seconds{app=shop}",
      "app:slo_min_throughput:rps{app=shop}",
      "app:alert_threshold_latency_p95_seconds{app=shop}",
      "app:alert_threshold_error_ratio{app=shop}",
      ...["web", "api"].flatMap((name) => [
        `app:slo_availability_target:ratio{app=${name}}`,
        `app:slo_latency_target_seconds{app=${name}}`,
        `app:alert_threshold_latency_p95_seconds{app=${name}}`,
        `app:alert_threshold_error_ratio{app=${name}}`,
      ]),
    ]);
    for (const rule of rules) expect(promqlProblem(rule.expr)).toBeUndefined();
  });

  test("selects the apps' own series by their jobs, under their own metric and label names, summed by app", () => {
    const [{ rules }] = appRecordingRules([shop], "15s").groups;
    const expr = (record: string) => rules.find((r) => r.record === record)?.expr;

    expect(expr(APP_SERIES.requests)).toBe(
      'sum by (app, code, method) (label_replace(label_replace(rate(shop_http_requests_total{job="shop"}[5m]), "code", "$1", "status_code", "(.*)"), "method", "$1", "verb", "(.*)"))',
    );
    expect(expr(APP_SERIES.durationBuckets)).toBe(
      'sum by (app, le, route) (label_replace(rate(shop_http_request_duration_seconds_bucket{job="shop"}[5m]), "route", "$1", "handler", "(.*)"))',
    );
    expect(expr(APP_SERIES.activeConnections)).toBe('sum by (app) (shop_open_connections{job="shop"})');
    expect(expr(APP_SERIES.errorRatio("1h"))).toBe(
      '(sum by (app) (rate(shop_http_requests_total{job="shop", status_code=~"5.."}[1h])) or 0 * sum by (app) (rate(shop_http_requests_total{job="shop"}[1h])))\n/\nsum by (app) (rate(shop_http_requests_total{job="shop"}[1h]))',
    );
    expect(rules.find((r) => r.record === APP_SERIES.availabilityTarget)).toEqual({
      record: APP_SERIES.availabilityTarget,
      expr: "vector(0.995)",
      labels: { app: "shop" },
    });
    expect(expr(APP_SERIES.errorRatioThreshold)).toBe("vector(0.1)");
  });

  test("apps named alike share a selector; apps named otherwise join the same rule with `or`", () => {
    const [{ rules }] = appRecordingRules([app("web"), shop, app("api")], "15s").groups;
    expect(rules[2].expr).toBe(
      '(\nsum by (app) (http_connections_active{job=~"web|api"})\n)\nor\n(\nsum by (app) (shop_open_connections{job="shop"})\n)',
    );
  });

  test("records the throughput objective only for apps that set one", () => {
    const rules = appRecordingRules([shop, app("web")], "15s").groups.flatMap((g) => g.rules);
    expect(rules.filter((r) => r.record === APP_SERIES.minThroughput).map((r) => r.labels)).toEqual([{ app: "shop" }]);
  });

  test("many apps are cut, in order, into groups of bounded size; the normalisation grows with the naming schemes, not the apps", () => {
    const many = Array.from({ length: 3000 }, (_, i) => app(`app-${i}`, i % 2 ? { metrics: shop.metrics } : {}));
    const { groups } = appRecordingRules(many, "15s");
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.map((g) => g.name)).toEqual(groups.map((_, i) => (i === 0 ? "app-contract" : `app-contract-${i + 1}`)));
    for (const group of groups) {
      expect(Buffer.byteLength(JSON.stringify(group))).toBeLessThanOrEqual(APP_GROUP_BUDGET);
      // Two naming schemes: ten normalising rules per group, whatever its number of apps.
      expect(group.rules.filter((r) => !r.labels).map((r) => r.record)).toEqual(normalised);
    }
    // Every app once, in config order.
    const apps = groups.flatMap((g) => g.rules.filter((r) => r.record === APP_SERIES.availabilityTarget).map((r) => r.labels?.app));
    expect(apps).toEqual(many.map((a) => a.name));
  });

  test("no apps is an empty, valid rule file; a repeated app name is refused once, by Prometheus' problems(), before any rule", () => {
    expect(appRecordingRules([], "15s")).toEqual({ groups: [] });
    expect(appNameProblems([app("web"), app("api"), app("web")])).toEqual([
      { key: "apps", message: 'app name "web" is used more than once; names must be unique' },
    ]);
    // Config reports it (config/checks/prometheus.ts appNameChecks), and the component's constructor refuses it (plan.ts).
    const web = (host: string) => ({ name: "web", url: `http://${host}/metrics` });
    expect(configProblems("staging", { apps: [web("a.example.com"), web("b.example.com")] })).toEqual([
      'monitoring:apps: app name "web" is used more than once; names must be unique',
    ]);
  });

  test("an objective is a finite number: config refuses any other before a rule prints it", () => {
    // JSON reads 1e400 as Infinity; the schema's numbers are finite (zod refuses Infinity and NaN).
    const wire = '[{"name":"web","url":"http://web.example.com","slo":{"latencyP95Seconds":1e400},"alerts":{"errorRatePercent":1e400}}]';
    expect(problemsOfWire("staging", { "monitoring:apps": wire })).toEqual([
      expect.stringMatching(/^monitoring:apps\[0\]\.slo\.latencyP95Seconds: must be a number such as 0\.5/),
      expect.stringMatching(/^monitoring:apps\[0\]\.alerts\.errorRatePercent: must be a number/),
    ]);
  });
});

describe("the generated rules under promtool", () => {
  test("promtool check rules accepts the rules of both stacks' apps and of an app with custom names", () => {
    const dir = tempDir();
    const files: string[] = [];
    for (const stack of ["staging", "production"]) {
      const input = readStackConfig(stack, []);
      const { config } = parseStackConfig({ project: input.project, stack, values: input.config, secretKeys: input.secretKeys });
      expect(config.apps.length).toBeGreaterThan(0);
      const file = path.join(dir, `${stack}.rules.yml`);
      fs.writeFileSync(file, YAML.stringify(appRecordingRules(config.apps, config.prometheus.evaluationInterval)));
      files.push(file);
    }
    const custom = path.join(dir, "custom.rules.yml");
    fs.writeFileSync(custom, YAML.stringify(appRecordingRules([shop, app("web")], "15s")));
    files.push(custom);

    const result = promtool(["check", "rules", ...files]);
    expect(result.output).not.toMatch(/FAILED/);
    expect(result.ok).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("promtool test rules: an app's raw series under its own names come out as the contract's series", () => {
    // Given the rules of `shop` (custom names) and `web` (defaults), and over three days:
    // - shop serves 9 requests/s of GET 200 and, during the last day only, 2 requests/s of POST 503;
    // - a copy of shop's series scraped by another job, and series of another app under
    //   shop's metric names, both of which must stay out of shop's results;
    // - two instances of shop with 3 and 4 open connections, and latency buckets by handler.
    const dir = tempDir();
    // `web` and `api` name their metrics alike: one rule serves both, and keeps them apart.
    fs.writeFileSync(path.join(dir, "apps.rules.yml"), YAML.stringify(appRecordingRules([shop, app("web"), app("api")], "1m")));
    const minutes = 3 * 24 * 60;
    const day = 24 * 60;
    const steady = (perMinute: number) => `0+${perMinute}x${minutes}`;
    const lastDayOnly = (perMinute: number) => `0x${minutes - day - 1} 0+${perMinute}x${day}`;
    const shopLabels = 'app="shop", job="shop", namespace="shop"';
    const tests = {
      rule_files: ["apps.rules.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            { series: `shop_http_requests_total{${shopLabels}, pod="shop-a", status_code="200", verb="GET"}`, values: steady(540) },
            { series: `shop_http_requests_total{${shopLabels}, pod="shop-a", status_code="503", verb="POST"}`, values: lastDayOnly(120) },
            { series: `shop_http_requests_total{app="shop", job="kubernetes-pods", status_code="500", verb="GET"}`, values: steady(600) },
            { series: `shop_http_requests_total{app="web", job="web", status_code="500", verb="GET"}`, values: steady(600) },
            {
              series: `shop_http_request_duration_seconds_bucket{${shopLabels}, pod="shop-a", handler="/cart", le="0.25"}`,
              values: steady(300),
            },
            {
              series: `shop_http_request_duration_seconds_bucket{${shopLabels}, pod="shop-b", handler="/cart", le="0.25"}`,
              values: steady(180),
            },
            {
              series: `shop_http_request_duration_seconds_bucket{${shopLabels}, pod="shop-a", handler="/cart", le="+Inf"}`,
              values: steady(540),
            },
            { series: `shop_open_connections{${shopLabels}, pod="shop-a"}`, values: `3x${minutes}` },
            { series: `shop_open_connections{${shopLabels}, pod="shop-b"}`, values: `4x${minutes}` },
            { series: 'http_requests_total{app="web", job="web", status="200", method="GET"}', values: steady(60) },
            { series: 'http_requests_total{app="api", job="api", status="200", method="GET"}', values: steady(180) },
            { series: 'http_requests_total{app="api", job="api", status="502", method="GET"}', values: steady(60) },
            { series: 'http_requests_total{app="api", job="kubernetes-pods", status="500", method="GET"}', values: steady(600) },
          ],
          promql_expr_test: [
            {
              // When: the request rate is read through the contract. Then: status_code became code and verb became method.
              expr: `${APP_SERIES.requests}{app="shop"}`,
              eval_time: "3d",
              exp_samples: [
                { labels: `${APP_SERIES.requests}{app="shop", code="200", method="GET"}`, value: 9 },
                { labels: `${APP_SERIES.requests}{app="shop", code="503", method="POST"}`, value: 2 },
              ],
            },
            {
              expr: `${APP_SERIES.durationBuckets}{app="shop"}`,
              eval_time: "3d",
              exp_samples: [
                { labels: `${APP_SERIES.durationBuckets}{app="shop", le="0.25", route="/cart"}`, value: 8 },
                { labels: `${APP_SERIES.durationBuckets}{app="shop", le="+Inf", route="/cart"}`, value: 9 },
              ],
            },
            {
              expr: `${APP_SERIES.activeConnections}{app="shop"}`,
              eval_time: "3d",
              exp_samples: [{ labels: `${APP_SERIES.activeConnections}{app="shop"}`, value: 7 }],
            },
            // Errors happened during the last day only: every window up to 1d sees 2 of 11 requests
            // failing, the 3-day window a third of that rate (2/3 of 9 2/3).
            ...SLO_WINDOWS.map((window) => ({
              expr: `round(${APP_SERIES.errorRatio(window)}{app="shop"}, 0.0001)`,
              eval_time: "3d",
              exp_samples: [{ labels: '{app="shop"}', value: window === "3d" ? 0.069 : 0.1818 }],
            })),
            {
              // The apps named alike, each under its own app label, from its own job only.
              expr: `${APP_SERIES.requests}{app=~"web|api"}`,
              eval_time: "3d",
              exp_samples: [
                { labels: `${APP_SERIES.requests}{app="api", code="200", method="GET"}`, value: 3 },
                { labels: `${APP_SERIES.requests}{app="api", code="502", method="GET"}`, value: 1 },
                { labels: `${APP_SERIES.requests}{app="web", code="200", method="GET"}`, value: 1 },
              ],
            },
            {
              // An app without errors reads 0 rather than nothing; one with errors its own ratio.
              expr: `${APP_SERIES.errorRatio("5m")}{app=~"web|api"}`,
              eval_time: "3d",
              exp_samples: [
                { labels: `${APP_SERIES.errorRatio("5m")}{app="api"}`, value: 0.25 },
                { labels: `${APP_SERIES.errorRatio("5m")}{app="web"}`, value: 0 },
              ],
            },
            {
              // An app without traffic has no ratio rather than a made-up one.
              expr: `${APP_SERIES.errorRatio("5m")}{app="shop-without-traffic"}`,
              eval_time: "3d",
              exp_samples: [],
            },
            {
              expr: `{__name__=~"app:(slo_availability_target:ratio|slo_latency_target_seconds|slo_min_throughput:rps|alert_threshold_latency_p95_seconds|alert_threshold_error_ratio)", app="shop"}`,
              eval_time: "1m",
              exp_samples: [
                { labels: `${APP_SERIES.errorRatioThreshold}{app="shop"}`, value: 0.1 },
                { labels: `${APP_SERIES.latencyThreshold}{app="shop"}`, value: 0.75 },
                { labels: `${APP_SERIES.availabilityTarget}{app="shop"}`, value: 0.995 },
                { labels: `${APP_SERIES.latencyTarget}{app="shop"}`, value: 0.25 },
                { labels: `${APP_SERIES.minThroughput}{app="shop"}`, value: 2 },
              ],
            },
          ],
        },
      ],
    };
    fs.writeFileSync(path.join(dir, "apps.test.yml"), YAML.stringify(tests));

    const result = promtool(["test", "rules", "apps.test.yml"], dir);

    expect(result.output).toContain("SUCCESS");
    expect(result.ok).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the unit test above can fail: a wrong expected value is reported", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "apps.rules.yml"), YAML.stringify(appRecordingRules([shop], "1m")));
    const tests = {
      rule_files: ["apps.rules.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [{ series: 'shop_http_requests_total{app="shop", job="shop", status_code="200", verb="GET"}', values: "0+60x10" }],
          promql_expr_test: [
            {
              expr: APP_SERIES.requests,
              eval_time: "10m",
              exp_samples: [{ labels: `${APP_SERIES.requests}{app="shop", code="200", method="GET"}`, value: 2 }],
            },
          ],
        },
      ],
    };
    fs.writeFileSync(path.join(dir, "apps.test.yml"), YAML.stringify(tests));
    const result = promtool(["test", "rules", "apps.test.yml"], dir);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/exp: \{[^\n]*code="200"[^\n]*\} 2E\+00\s+got: \{[^\n]*\} 1E\+00/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
