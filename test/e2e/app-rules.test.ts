/**
 * The app contract under the deployed promtool: the generated recording rules pass
 * `promtool check rules`, and a promtool unit test that feeds an app's raw series under
 * custom names and reads back the normalised `app:*` values proves the normalisation itself.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { APP_SERIES, SLO_WINDOWS, appRecordingRules } from "../../components/prometheus/rules/app-rules";
import { parseStackConfig } from "../../config";
import { readStackConfig } from "../../cli/stackfile";
import { promtool } from "../../lab/local/binaries";
import { ROOT } from "../../lab/tools/tools";
import { app, shop } from "../support/apps";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "app-rules-"));
}

/**
 * promtool, on the app contract of one app (web) and rules/slo.yml,
 * evaluated every minute in `order`: with its 200 and 500 counters' `values` (promtool's notation, a
 * sample a minute), AppErrorBudgetBurn is quiet at minute `fires - 1` and is `alert` alone at `fires`; with
 * `resolves`, that alert (its ALERTS series, from its labels) still fires at minute `resolves - 1` and no longer at
 * `resolves` (the warnings a long burn fires meanwhile are left out).
 */
function burnPages(
  order: string[],
  [ok, failed]: [string, string],
  fires: number,
  alert: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> },
  resolves?: number,
): void {
  const firing = `ALERTS{${Object.entries({ alertname: "AppErrorBudgetBurn", alertstate: "firing", ...alert.exp_labels })
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")}}`;
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "apps.rules.yml"), YAML.stringify(appRecordingRules([app("web")], "1m")));
  fs.copyFileSync(path.join(ROOT, "rules", "slo.yml"), path.join(dir, "slo.yml"));
  const labels = 'app="web", job="web", namespace="shop", method="GET"';
  const tests = {
    rule_files: ["apps.rules.yml", "slo.yml"],
    evaluation_interval: "1m",
    group_eval_order: order,
    tests: [
      {
        interval: "1m",
        input_series: [
          { series: `http_requests_total{${labels}, status="200"}`, values: ok },
          { series: `http_requests_total{${labels}, status="500"}`, values: failed },
        ],
        alert_rule_test: [
          { eval_time: `${fires - 1}m`, alertname: "AppErrorBudgetBurn", exp_alerts: [] },
          { eval_time: `${fires}m`, alertname: "AppErrorBudgetBurn", exp_alerts: [alert] },
        ],
        promql_expr_test:
          resolves === undefined
            ? []
            : [
                { expr: firing, eval_time: `${resolves - 1}m`, exp_samples: [{ labels: firing, value: 1 }] },
                { expr: firing, eval_time: `${resolves}m`, exp_samples: [] },
              ],
      },
    ],
  };
  fs.writeFileSync(path.join(dir, "burn.test.yml"), YAML.stringify(tests));
  const result = promtool(["test", "rules", "burn.test.yml"], dir);
  expect(result.output).toContain("SUCCESS");
  expect(result.ok).toBe(true);
  fs.rmSync(dir, { recursive: true, force: true });
}

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
    // - two instances of shop with 3 and 4 open connections, and latency buckets by handler;
    // - api's series under its own job in another namespace (a pod of staging sending OTLP as
    //   service api), which must stay out of api's results as well;
    // - gosvc, a Go promhttp service whose counter says `code` where its config says `status`.
    const dir = tempDir();
    // `web`, `api` and `gosvc` name their metrics alike: one rule serves them, and keeps them apart.
    const apps = [shop, app("web"), app("api"), app("gosvc")];
    fs.writeFileSync(path.join(dir, "apps.rules.yml"), YAML.stringify(appRecordingRules(apps, "1m")));
    // One sample and one evaluation every 3 minutes: still two samples in the shortest (5m) window,
    // and a ninth of the work of a 1-minute step, which costs promtool about a minute of CPU
    // for the day- and three-day windows.
    const step = 3;
    const steps = (3 * 24 * 60) / step;
    const daySteps = (24 * 60) / step;
    const steady = (perMinute: number) => `0+${perMinute * step}x${steps}`;
    const lastDayOnly = (perMinute: number) => `0x${steps - daySteps - 1} 0+${perMinute * step}x${daySteps}`;
    const shopLabels = 'app="shop", job="shop", namespace="shop"';
    const tests = {
      rule_files: ["apps.rules.yml"],
      evaluation_interval: `${step}m`,
      tests: [
        {
          interval: `${step}m`,
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
            { series: `shop_open_connections{${shopLabels}, pod="shop-a"}`, values: `3x${steps}` },
            { series: `shop_open_connections{${shopLabels}, pod="shop-b"}`, values: `4x${steps}` },
            { series: 'http_requests_total{app="web", job="web", namespace="shop", status="200", method="GET"}', values: steady(60) },
            { series: 'http_requests_total{app="api", job="api", namespace="shop", status="200", method="GET"}', values: steady(180) },
            { series: 'http_requests_total{app="api", job="api", namespace="shop", status="502", method="GET"}', values: steady(60) },
            { series: 'http_requests_total{app="api", job="kubernetes-pods", status="500", method="GET"}', values: steady(600) },
            { series: 'http_requests_total{app="api", job="api", namespace="staging", status="500", method="GET"}', values: steady(600) },
            {
              series: 'http_request_duration_seconds_bucket{app="api", job="api", namespace="shop", endpoint="/", le="+Inf"}',
              values: steady(240),
            },
            {
              series: 'http_request_duration_seconds_bucket{app="api", job="api", namespace="staging", endpoint="/", le="+Inf"}',
              values: steady(600),
            },
            { series: 'http_requests_total{app="gosvc", job="gosvc", namespace="shop", code="200", method="GET"}', values: steady(60) },
            // A second code: with its absent `status` copied over `code` (blank), the two series would collide.
            { series: 'http_requests_total{app="gosvc", job="gosvc", namespace="shop", code="500", method="GET"}', values: steady(60) },
            {
              series: 'http_request_duration_seconds_bucket{app="gosvc", job="gosvc", namespace="shop", endpoint="/", le="+Inf"}',
              values: steady(60),
            },
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
            {
              // The SLO's two rates: shop's requests and its 5xx (by its own status label); web has requests
              // and no 5xx at all, and 0 errors rather than none.
              expr: `{__name__=~"${APP_SERIES.sloRequests}|${APP_SERIES.sloErrors}", app=~"shop|web"}`,
              eval_time: "3d",
              exp_samples: [
                { labels: `${APP_SERIES.sloRequests}{app="shop"}`, value: 11 },
                { labels: `${APP_SERIES.sloRequests}{app="web"}`, value: 1 },
                { labels: `${APP_SERIES.sloErrors}{app="shop"}`, value: 2 },
                { labels: `${APP_SERIES.sloErrors}{app="web"}`, value: 0 },
              ],
            },
            // Errors happened during the last day only: every window up to 1d sees 2 of 11 requests
            // failing, the 3-day window a third of that rate (2/3 of 9 2/3). To a thousandth: the 30m window
            // and those of 2h and more sum the recorded 5m rates, and the first of them after the errors start sees
            // one step of them (1.2/s of the 2/s), which the 1d and 3d windows keep (0.1817, 0.0689).
            ...SLO_WINDOWS.map((window) => ({
              expr: `round(${APP_SERIES.errorRatio(window)}{app="shop"}, 0.001)`,
              eval_time: "3d",
              exp_samples: [{ labels: '{app="shop"}', value: window === "3d" ? 0.069 : 0.182 }],
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
              // A promhttp app whose config says `status`: its rate keeps its own `code` labels, one series each.
              expr: `${APP_SERIES.requests}{app="gosvc"}`,
              eval_time: "3d",
              exp_samples: [
                { labels: `${APP_SERIES.requests}{app="gosvc", code="200", method="GET"}`, value: 1 },
                { labels: `${APP_SERIES.requests}{app="gosvc", code="500", method="GET"}`, value: 1 },
              ],
            },
            // An app without errors reads 0 rather than nothing, over every window; one with errors its own ratio.
            ...SLO_WINDOWS.map((window) => ({
              expr: `round(${APP_SERIES.errorRatio(window)}{app=~"web|api"}, 0.001)`,
              eval_time: "3d",
              exp_samples: [
                { labels: '{app="api"}', value: 0.25 },
                { labels: '{app="web"}', value: 0 },
              ],
            })),
            // The raw window's requests (the 14.4x page's hour), recorded for its ratio: each app's own, from the raw counter.
            {
              expr: `round(${APP_SERIES.windowRequests("1h")}{app=~"shop|web|api"}, 0.001)`,
              eval_time: "3d",
              exp_samples: [
                { labels: '{app="api"}', value: 4 },
                { labels: '{app="shop"}', value: 11 },
                { labels: '{app="web"}', value: 1 },
              ],
            },
            {
              // Only api's own namespace feeds its latency, not its namesake's in staging.
              expr: `${APP_SERIES.durationBuckets}{app="api"}`,
              eval_time: "3d",
              exp_samples: [{ labels: `${APP_SERIES.durationBuckets}{app="api", le="+Inf", route="/"}`, value: 4 }],
            },
            {
              // The contract checked on the apps' own series only: api's 2 (not its namesakes' of
              // kubernetes-pods and staging) carry its status label, gosvc's one does not
              // (AppStatusLabelMissing); web has no bucket (AppLatencyHistogramMissing).
              expr: `${APP_SERIES.contractRequests}`,
              eval_time: "3d",
              exp_samples: [
                { labels: `${APP_SERIES.contractRequests}{app="shop"}`, value: 2 },
                { labels: `${APP_SERIES.contractRequests}{app="web"}`, value: 1 },
                { labels: `${APP_SERIES.contractRequests}{app="api"}`, value: 2 },
                { labels: `${APP_SERIES.contractRequests}{app="gosvc"}`, value: 2 },
              ],
            },
            {
              expr: `${APP_SERIES.contractRequestsWithStatus}`,
              eval_time: "3d",
              exp_samples: [
                { labels: `${APP_SERIES.contractRequestsWithStatus}{app="shop"}`, value: 2 },
                { labels: `${APP_SERIES.contractRequestsWithStatus}{app="web"}`, value: 1 },
                { labels: `${APP_SERIES.contractRequestsWithStatus}{app="api"}`, value: 2 },
              ],
            },
            {
              // Histogram series, by their +Inf bucket: shop-a's (shop-b exposes a bucket without one, no histogram).
              expr: `${APP_SERIES.contractDurationHistograms}`,
              eval_time: "3d",
              exp_samples: [
                { labels: `${APP_SERIES.contractDurationHistograms}{app="shop"}`, value: 1 },
                { labels: `${APP_SERIES.contractDurationHistograms}{app="api"}`, value: 1 },
                { labels: `${APP_SERIES.contractDurationHistograms}{app="gosvc"}`, value: 1 },
              ],
            },
            {
              expr: `${APP_SERIES.contractInfo}{app="gosvc"}`,
              eval_time: "1m",
              exp_samples: [
                {
                  labels: `${APP_SERIES.contractInfo}{app="gosvc", config="monitoring:apps[3].metrics", duration="http_request_duration_seconds", requests="http_requests_total", status_label="status"}`,
                  value: 1,
                },
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

  // Prometheus evaluates each group on its own schedule, so at a given moment the alert's group (slo) may read what
  // the recordings' group (app-contract) recorded at this evaluation or at the one before: both orders, pinned with
  // promtool's group_eval_order (without it promtool takes them in a random order).
  test.each([
    { order: ["app-contract", "slo"], fires: 124, after: 4, why: "the recordings' group first" },
    { order: ["slo", "app-contract"], fires: 125, after: 5, why: "the alert's group first: one evaluation behind" },
  ])(
    "a burst of 5xx pages as soon as the raw counters' 1h and 5m windows say so: the 14.4x burn fires $after minutes after it starts, not later ($why)",
    ({ order, fires }) => {
      // web serves 1 request/s with no error for 2 hours; from 2h, half its requests fail (30 of
      // its 60 a minute). Over the raw counters, the 1h window's ratio passes 1.44 % (14.4 times a
      // 0.1 % budget) once 0.5 t / 3600 s does: t > 104 s, the evaluation at 2h2m; the 5m one
      // long before. Pending from 2h2m, `for: 2m`: firing at 2h4m (a minute later when the alert's group reads the
      // recordings of the evaluation before). A 1h window that averaged the
      // recorded 5m rates instead would lag them by 2.5 minutes and page 3 minutes later. At 2h4m the
      // hour holds 4 minutes of the new 5xx series, extrapolated to its zero point: 3.737 %.
      burnPages(order, ["0+60x120 7230+30x10", "_x120 30+30x10"], fires, {
        exp_labels: { severity: "critical", long_window: "1h", short_window: "5m", app: "web" },
        exp_annotations: {
          summary: "An app is burning its error budget 14.4 times too fast.",
          description:
            "App web failed 3.737% of its requests over the last hour and still fails them over the last 5 minutes: more than 14.4 times its error budget of 0.1%. At this rate the 30-day budget is gone in about 2 days.",
          runbook: "docs/runbooks.md#apperrorbudgetburn",
        },
      });
    },
  );

  // The 6x page's windows sum the recorded 5m rates (RAW_WINDOWS): behind the raw counters' own rates by about 2.5
  // minutes, on a long window that a burn under 14.4x (a faster one pages on the 1h window) takes hours to fill, and a
  // short one that says the burn goes on: the page resolves on it once the errors stop.
  test.each([
    { order: ["app-contract", "slo"], fires: 832, resolves: 914, why: "the recordings' group first" },
    { order: ["slo", "app-contract"], fires: 833, resolves: 915, why: "the alert's group first: one evaluation behind" },
  ])(
    "a 10x burn pages on the 6h and 30m windows at minute $fires and, stopped at minute 900, resolves at $resolves: 2 minutes after the raw counters would, both ($why)",
    ({ order, fires, resolves }) => {
      // web serves 1 request/s with no error for 10 hours; from 10h (minute 600), 1 % of its requests
      // fail (0.6 of its 60 a minute): 10 times a 0.1 % budget, under the 14.4x page's threshold. The
      // 6h window's ratio passes 0.6 % once 1 % of t / 6 h does, t > 216 minutes. Over the raw counters
      // (rate extrapolating the new 5xx series a minute back to its zero) that is the evaluation at
      // minute 815, pending for `for: 15m`, firing at 830; the sums of 5m rates, whose first ones see
      // the errors only in part, pass it at 817 and fire at 832. The 30m window passed long before.
      // The warnings stay quiet until then: the 3-day window (10 hours of data) passes 0.1 % at about minute 670
      // and its alert waits 3 hours; the day window passes 0.3 % at about minute 857 and its alert waits an hour.
      // From minute 900 web fails none of its requests. The 6h window stays above 0.6 % until about minute 1044; the
      // 30m one drops under it once fewer than 18 of its 30 minutes hold errors. Over the raw counters (rate
      // extrapolating to the window's edges) the page's last evaluation firing is minute 911; a sum of 5m rates, whose
      // last 5 minutes of errors fade over 5 more minutes, keeps it 2 more.
      burnPages(
        order,
        ["0+60x600 36000+59.4x300 53880+60x300", "_x600 0.6+0.6x300 180.6+0x300"],
        fires,
        {
          exp_labels: { severity: "critical", long_window: "6h", short_window: "30m", app: "web" },
          exp_annotations: {
            summary: "An app is burning its error budget 6 times too fast.",
            description:
              "App web failed 0.642% of its requests over the last 6 hours and still fails them over the last 30 minutes: more than 6 times its error budget of 0.1%. At this rate the 30-day budget is gone in 5 days.",
            runbook: "docs/runbooks.md#apperrorbudgetburn",
          },
        },
        resolves,
      );
    },
  );

  test("the unit test above can fail: a wrong expected value is reported", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "apps.rules.yml"), YAML.stringify(appRecordingRules([shop], "1m")));
    const tests = {
      rule_files: ["apps.rules.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            {
              series: 'shop_http_requests_total{app="shop", job="shop", namespace="shop", status_code="200", verb="GET"}',
              values: "0+60x10",
            },
          ],
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
