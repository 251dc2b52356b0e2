/**
 * The app contract: the generated recording rules turn each app's own metric names
 * into the `app:*` series (test/e2e/app-rules.test.ts checks them with promtool and a
 * promtool unit test that proves the normalisation itself).
 */
import { APP_GROUP_BUDGET, APP_SERIES, appRecordingRules } from "../../components/prometheus/rules/app-rules";
import { promqlProblem } from "../../cli/promql";
import { loadCatalog } from "../../cli/catalog";
import { app, shop } from "../support/apps";
import { appNameProblems } from "../../components/prometheus/problems";
import { problems as configProblems, problemsOfWire } from "../config/support";

describe("appRecordingRules", () => {
  const normalised = [
    "app:http_requests_by_status:rate5m",
    "app:http_requests:rate5m",
    "app:http_request_duration_seconds_bucket:rate5m",
    "app:http_connections_active:sum",
    "app:slo_requests:rate5m",
    "app:slo_errors:rate5m",
    "app:slo_errors_per_request:ratio_rate5m",
    "app:slo_errors_per_request:ratio_rate30m",
    "app:http_requests_by_status:rate1h",
    "app:slo_requests:rate1h",
    "app:slo_errors_per_request:ratio_rate1h",
    "app:slo_errors_per_request:ratio_rate6h",
  ];
  /**
   * What only warnings evaluated once a minute read, in the group that follows: the ratios over hours and days, and
   * the contract's counts (AppStatusLabelMissing and AppLatencyHistogramMissing, rules/apps.yml's apps-every-minute).
   */
  const everyMinute = [
    "app:slo_errors_per_request:ratio_rate2h",
    "app:slo_errors_per_request:ratio_rate1d",
    "app:slo_errors_per_request:ratio_rate3d",
    "app:contract_requests:count",
    "app:contract_requests_with_status:count",
    "app:contract_duration_histograms:count",
  ];

  test("catalog/app-contract.txt lists every app:* series the rules record, and no other", () => {
    // shop sets a minimum throughput, the one objective recorded only when configured.
    const recorded = new Set(appRecordingRules([shop, app("web")], "15s").groups.flatMap((g) => g.rules.map((r) => r.record)));
    const listed = [...loadCatalog()]
      .filter(([name, source]) => source === "app-contract" && name.startsWith("app:"))
      .map(([name]) => name);
    expect(recorded.has(APP_SERIES.minThroughput)).toBe(true);
    expect(listed.sort()).toEqual([...recorded].sort());
  });

  test("each app's origins, then one rule per normalised series serves every app, then each app's objectives, in one group; the ratios of hours and days and the contract's counts read once a minute in a second", () => {
    const file = appRecordingRules([shop, app("web"), app("api")], "30s");

    expect(file.groups.map((g) => [g.name, g.interval])).toEqual([
      ["app-contract", "30s"],
      ["app-contract-every-minute", "1m"],
    ]);
    expect(file.groups[1].rules.map((r) => r.record)).toEqual(everyMinute);
    for (const rule of file.groups[1].rules) expect(promqlProblem(rule.expr)).toBeUndefined();
    // A stack that evaluates less often than once a minute evaluates that group as seldom as the rest, not more often.
    expect(appRecordingRules([shop], "2m").groups.map((g) => g.interval)).toEqual(["2m", "2m"]);
    const [{ rules }] = file.groups;
    expect(rules.map((r) => (r.labels ? `${r.record}{app=${r.labels.app}}` : r.record))).toEqual([
      "app:own_targets:info{app=shop}",
      "app:own_targets:info{app=web}",
      "app:own_targets:info{app=api}",
      ...normalised,
      "app:slo_availability_target:ratio{app=shop}",
      "app:slo_latency_target_seconds{app=shop}",
      "app:slo_min_throughput:rps{app=shop}",
      "app:alert_threshold_latency_p95_seconds{app=shop}",
      "app:alert_threshold_error_ratio{app=shop}",
      "app:contract:info{app=shop}",
      ...["web", "api"].flatMap((name) => [
        `app:slo_availability_target:ratio{app=${name}}`,
        `app:slo_latency_target_seconds{app=${name}}`,
        `app:alert_threshold_latency_p95_seconds{app=${name}}`,
        `app:alert_threshold_error_ratio{app=${name}}`,
        `app:contract:info{app=${name}}`,
      ]),
    ]);
    for (const rule of rules) expect(promqlProblem(rule.expr)).toBeUndefined();
  });

  test("selects the apps' own series by their jobs, under their own metric and label names, summed by app", () => {
    const rules = appRecordingRules([shop], "15s").groups.flatMap((g) => g.rules);
    const expr = (record: string) => rules.find((r) => r.record === record)?.expr;

    const own = "and on (job, namespace) app:own_targets:info";
    // The raw series summed by app, job and namespace (and the labels kept or copied) before the join
    // and the copies, which then see one series per app and label values, not one per pod.
    const rate = (selector: string, window: string, by = "app, job, namespace") => `sum by (${by}) (rate(${selector}[${window}]))`;
    // The request counter read once per window, by the app's own status label (and for 5m the labels the contract copies).
    expect(expr(APP_SERIES.requestsByStatus("5m"))).toBe(
      `sum by (app, status_code, code, method, verb) (${rate('shop_http_requests_total{job="shop"}', "5m", "app, job, namespace, status_code, code, method, verb")} ${own})`,
    );
    expect(expr(APP_SERIES.requests)).toBe(
      `sum by (app, code, method) (label_replace(label_replace(app:http_requests_by_status:rate5m{app="shop"}, "code", "$1", "status_code", "(.+)"), "method", "$1", "verb", "(.+)"))`,
    );
    expect(expr(APP_SERIES.durationBuckets)).toBe(
      `sum by (app, le, route) (label_replace(${rate('shop_http_request_duration_seconds_bucket{job="shop"}', "5m", "app, job, namespace, le, route, handler")} ${own}, "route", "$1", "handler", "(.+)"))`,
    );
    expect(expr(APP_SERIES.activeConnections)).toBe(
      `sum by (app) (sum by (app, job, namespace) (shop_open_connections{job="shop"}) ${own})`,
    );
    // The SLO's rates once, from the recorded requests and their 5xx series; the 30m window and those of hours and
    // days from those alone, the 1h window (the 14.4x page's) from the raw counter read once over the hour, with no
    // 2.5-minute lag: by status, recorded just before the window's requests and its ratio, which read it.
    expect(expr(APP_SERIES.sloRequests)).toBe('sum by (app) (app:http_requests:rate5m{app="shop"})');
    expect(expr(APP_SERIES.sloErrors)).toBe(
      'sum by (app) (app:http_requests_by_status:rate5m{app="shop", status_code=~"5.."}) or 0 * app:slo_requests:rate5m{app="shop"}',
    );
    expect(expr(APP_SERIES.errorRatio("5m"))).toBe('app:slo_errors:rate5m{app="shop"} / app:slo_requests:rate5m{app="shop"}');
    expect(expr(APP_SERIES.requestsByStatus("1h"))).toBe(
      `sum by (app, status_code) (${rate('shop_http_requests_total{job="shop"}', "1h", "app, job, namespace, status_code")} ${own})`,
    );
    expect(expr(APP_SERIES.windowRequests("1h"))).toBe('sum by (app) (app:http_requests_by_status:rate1h{app="shop"})');
    expect(expr(APP_SERIES.errorRatio("1h"))).toBe(
      '(sum by (app) (app:http_requests_by_status:rate1h{app="shop", status_code=~"5.."}) or 0 * app:slo_requests:rate1h{app="shop"})\n' +
        '/\napp:slo_requests:rate1h{app="shop"}',
    );
    for (const window of ["30m", "2h", "6h", "1d", "3d"] as const) {
      expect(expr(APP_SERIES.errorRatio(window))).toBe(
        `sum_over_time(app:slo_errors:rate5m{app="shop"}[${window}]) / sum_over_time(app:slo_requests:rate5m{app="shop"}[${window}])`,
      );
    }
    const raw = rules.filter((r) => r.expr.includes("shop_http_requests_total{")).map((r) => r.record);
    // Once per window, and for the contract's counts (once a minute).
    expect(raw).toEqual([
      APP_SERIES.requestsByStatus("5m"),
      APP_SERIES.requestsByStatus("1h"),
      APP_SERIES.contractRequests,
      APP_SERIES.contractRequestsWithStatus,
    ]);
    // Counted per origin before the join (one series per app, job and namespace), then summed by app.
    const counted = (selector: string) => `sum by (app) (count by (app, job, namespace) (${selector}) ${own})`;
    expect(expr(APP_SERIES.contractRequests)).toBe(counted('shop_http_requests_total{job="shop"}'));
    expect(expr(APP_SERIES.contractRequestsWithStatus)).toBe(counted('shop_http_requests_total{job="shop", status_code!=""}'));
    expect(expr(APP_SERIES.contractDurationHistograms)).toBe(counted('shop_http_request_duration_seconds_bucket{job="shop", le="+Inf"}'));
    expect(rules.filter((r) => r.record === APP_SERIES.ownTargets)).toEqual([
      { record: APP_SERIES.ownTargets, expr: "vector(1)", labels: { app: "shop", job: "shop", namespace: "shop" } },
    ]);
    expect(rules.find((r) => r.record === APP_SERIES.contractInfo)?.labels).toEqual({
      app: "shop",
      requests: "shop_http_requests_total",
      duration: "shop_http_request_duration_seconds",
      status_label: "status_code",
      config: "monitoring:apps[0].metrics",
    });
    expect(rules.find((r) => r.record === APP_SERIES.availabilityTarget)).toEqual({
      record: APP_SERIES.availabilityTarget,
      expr: "vector(0.995)",
      labels: { app: "shop" },
    });
    expect(expr(APP_SERIES.errorRatioThreshold)).toBe("vector(0.1)");
  });

  test("apps named alike share a selector; apps named otherwise join the same rule with `or`", () => {
    const [{ rules }] = appRecordingRules([app("web"), shop, app("api")], "15s").groups;
    expect(rules.find((r) => r.record === APP_SERIES.activeConnections)?.expr).toBe(
      '(\nsum by (app) (sum by (app, job, namespace) (http_connections_active{job=~"web|api"}) and on (job, namespace) app:own_targets:info)\n)\nor\n(\nsum by (app) (sum by (app, job, namespace) (shop_open_connections{job="shop"}) and on (job, namespace) app:own_targets:info)\n)',
    );
  });

  test("an app's origins: its job in its Service's namespace, its URL's job without one, its OTLP pushes from its namespace", () => {
    const url = app("status", { service: undefined, url: "https://status.example.com/metrics" });
    const otlpOnly = app("mailer", { service: undefined, otlp: true, otlpNamespace: "mail" });
    const urlAndOtlp = app("edge", { service: undefined, url: "https://edge.example.com/metrics", otlp: true, otlpNamespace: "edge" });
    const serviceAndOtlp = app("api", { service: { namespace: "prod", name: "api", port: "http" }, otlp: true, otlpNamespace: "prod" });
    const origins = appRecordingRules([url, otlpOnly, urlAndOtlp, serviceAndOtlp], "15s")
      .groups.flatMap((g) => g.rules)
      .filter((r) => r.record === APP_SERIES.ownTargets)
      .map((r) => r.labels);
    expect(origins).toEqual([
      { app: "status", job: "status" },
      { app: "mailer", job: "mailer", namespace: "mail" },
      { app: "edge", job: "edge" },
      { app: "edge", job: "edge", namespace: "edge" },
      { app: "api", job: "api", namespace: "prod" },
    ]);
  });

  test("the contract info names each app's config key by its position in apps[], across groups", () => {
    const many = Array.from({ length: 3000 }, (_, i) => app(`app-${i}`));
    const { groups } = appRecordingRules(many, "15s");
    expect(groups.length).toBeGreaterThan(1);
    const keys = groups.flatMap((g) => g.rules.filter((r) => r.record === APP_SERIES.contractInfo).map((r) => r.labels?.config));
    expect(keys).toEqual(many.map((_, i) => `monitoring:apps[${i}].metrics`));
  });

  test("records the throughput objective only for apps that set one", () => {
    const rules = appRecordingRules([shop, app("web")], "15s").groups.flatMap((g) => g.rules);
    expect(rules.filter((r) => r.record === APP_SERIES.minThroughput).map((r) => r.labels)).toEqual([{ app: "shop" }]);
  });

  test("many apps are cut, in order, into groups of bounded size; the normalisation grows with the naming schemes, not the apps", () => {
    const many = Array.from({ length: 3000 }, (_, i) => app(`app-${i}`, i % 2 ? { metrics: shop.metrics } : {}));
    const { groups } = appRecordingRules(many, "15s");
    expect(groups.length).toBeGreaterThan(1);
    // Each run of apps in a group and its group evaluated once a minute.
    expect(groups.map((g) => g.name)).toEqual(
      groups.map((_, i) => `${i < 2 ? "app-contract" : `app-contract-${(i >> 1) + 1}`}${i % 2 ? "-every-minute" : ""}`),
    );
    for (const [i, group] of groups.entries()) {
      expect(Buffer.byteLength(JSON.stringify(group))).toBeLessThanOrEqual(APP_GROUP_BUDGET);
      // Two naming schemes: the same normalising rules per group, whatever its number of apps.
      expect(group.rules.filter((r) => !r.labels).map((r) => r.record)).toEqual(i % 2 ? everyMinute : normalised);
    }
    // Every app once, in config order.
    const apps = groups.flatMap((g) => g.rules.filter((r) => r.record === APP_SERIES.availabilityTarget).map((r) => r.labels?.app));
    expect(apps).toEqual(many.map((a) => a.name));
  });

  test("no apps is an empty, valid rule file; a repeated app name is refused once, by Prometheus' problems(), before any rule", () => {
    expect(appRecordingRules([], "15s")).toEqual({ groups: [] });
    expect(appNameProblems([app("web"), app("api"), app("web")])).toEqual([
      { key: "apps[2].name", message: 'app name "web" is used more than once (first at apps[0]); names must be unique' },
    ]);
    // Config reports it (the apps section, components/prometheus/lists.ts), and the component's constructor refuses it (plan.ts).
    const web = (host: string) => ({ name: "web", url: `http://${host}/metrics` });
    expect(configProblems("staging", { apps: [web("a.example.com"), web("b.example.com")] })).toEqual([
      'monitoring:apps[1].name: app name "web" is used more than once (first at apps[0]); names must be unique',
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
