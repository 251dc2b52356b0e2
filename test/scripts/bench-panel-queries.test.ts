/**
 * The bench's panel queries as Grafana sends them (lab/bench/panel-queries.ts), offline, against
 * Grafana's documented behaviour: `$__interval` from the time range and the panel's width, never
 * under the min interval or the data source's scrape interval; the step (min step, resolution, the
 * 11,000-point bound, aligned start and end); `$__rate_interval` = max($__interval + scrape interval,
 * 4 × scrape interval), the scrape interval being the query's min step when set; the built-in range
 * variables; template variables as the Prometheus data source formats them.
 */
import {
  IntervalInputs,
  alignedRange,
  builtIns,
  chooseValue,
  dashboardRange,
  formatDuration,
  formatVariable,
  interpolate,
  panelInterval,
  panelQueries,
  parseVariableQuery,
  queryStep,
  rateInterval,
  roundInterval,
  targetRequests,
  variableOptions,
  VariableValue,
} from "../../lab/bench/panel-queries";
import { DashboardTiming, viewFigures } from "../../lab/bench/dashboard-timing";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const NOW = Date.UTC(2026, 10, 25, 11, 0, 7, 300);
const inputs = (hours: number, widthPx: number, extra: Partial<IntervalInputs> = {}): IntervalInputs => ({
  from: NOW - hours * H,
  to: NOW,
  maxDataPoints: widthPx,
  scrapeIntervalMs: 15 * S,
  ...extra,
});

describe("intervals and steps", () => {
  test("Grafana's round intervals", () => {
    expect([1875, 2 * S, 4 * S, 9 * S, 16 * S, 22.5 * S, 40 * S, 100 * S, 315 * S, 50 * M, 8 * H].map(roundInterval)).toEqual([
      2 * S,
      2 * S,
      5 * S,
      10 * S,
      15 * S,
      20 * S,
      30 * S,
      2 * M,
      5 * M,
      H,
      6 * H,
    ]);
  });

  test("$__interval: range over the panel's pixels, rounded, never under the scrape interval or the panel's min interval", () => {
    // 1 h over 1,920 px: 1.875 s, rounded to 2 s, raised to the data source's 15 s.
    expect(panelInterval(inputs(1, 1920))).toBe(15 * S);
    // 6 h over 960 px (half the width): 22.5 s → 20 s.
    expect(panelInterval(inputs(6, 960))).toBe(20 * S);
    // 7 days over 1,920 px: 315 s → 5 m.
    expect(panelInterval(inputs(24 * 7, 1920))).toBe(5 * M);
    // A panel's min interval of 1m (the kubernetes-mixin's panels) wins over the data source's.
    expect(panelInterval(inputs(1, 1920, { panelMinIntervalMs: M }))).toBe(M);
  });

  test("$__rate_interval = max($__interval + scrape interval, 4 × scrape interval)", () => {
    expect(rateInterval(inputs(1, 1920))).toBe(M);
    expect(rateInterval(inputs(24 * 7, 1920))).toBe(5 * M + 15 * S);
    expect(rateInterval(inputs(1, 1920, { panelMinIntervalMs: M }))).toBe(M + 15 * S);
    // A query's min step stands for the scrape interval.
    expect(rateInterval(inputs(1, 1920, { minStepMs: 2 * M }))).toBe(8 * M);
    // The resolution changes the step, not the rate interval.
    expect(rateInterval(inputs(6, 960, { intervalFactor: 2 }))).toBe(M);
  });

  test("the step: min step, else the interval; times the resolution; never more than 11,000 points", () => {
    expect(queryStep(inputs(1, 1920))).toBe(15 * S);
    expect(queryStep(inputs(6, 960))).toBe(20 * S);
    expect(queryStep(inputs(1, 1920, { minStepMs: 2 * M }))).toBe(2 * M);
    expect(queryStep(inputs(6, 960, { intervalFactor: 2 }))).toBe(40 * S);
    // 30 days asked at 100,000 points: 25.9 s a point, but at most 11,000 points: 235.6 s → 5 m.
    expect(queryStep(inputs(24 * 30, 100_000))).toBe(5 * M);
  });

  test("start and end aligned down to a multiple of the step", () => {
    const { start, end } = alignedRange(NOW - H, NOW, 15 * S);
    expect(start % (15 * S)).toBe(0);
    expect(end % (15 * S)).toBe(0);
    expect(end).toBeLessThanOrEqual(NOW);
    expect(NOW - end).toBeLessThan(15 * S);
    expect(NOW - H - start).toBeLessThan(15 * S);
  });

  test("the built-in range variables; durations in Prometheus' form", () => {
    const b = builtIns(inputs(3, 1920, { panelMinIntervalMs: M }));
    expect(b).toEqual({
      __interval: "1m",
      __interval_ms: "60000",
      __rate_interval: "1m15s",
      __rate_interval_ms: "75000",
      __range: "10800s",
      __range_s: "10800",
      __range_ms: "10800000",
    });
    expect(formatDuration(90 * M + 500)).toBe("1h30m500ms");
  });

  test("a dashboard's default range: now-<duration> to now", () => {
    expect(dashboardRange({ from: "now-3h", to: "now" }, NOW)).toEqual({ from: NOW - 3 * H, to: NOW });
    expect(dashboardRange({ from: "now-7d", to: "now" }, NOW).from).toBe(NOW - 7 * 24 * H);
    expect(() => dashboardRange({ from: "2026-01-01", to: "now" }, NOW)).toThrow(/time.from is not now or now-<duration>/);
  });
});

describe("template variables", () => {
  const one = (value: string, extra: Partial<VariableValue> = {}): VariableValue => ({
    values: [value],
    all: false,
    multi: false,
    includeAll: false,
    ...extra,
  });

  test("a single value as is, quotes escaped; multi-value or All regex-escaped, several as (a|b)", () => {
    expect(formatVariable(one("shop-staging"))).toBe("shop-staging");
    expect(formatVariable(one("it's"))).toBe("it\\'s");
    expect(formatVariable(one("10.0.0.1:9100", { multi: true }))).toBe("10\\\\.0\\\\.0\\\\.1:9100");
    expect(formatVariable({ values: ["a.b", "c"], all: false, multi: true, includeAll: false })).toBe("(a\\\\.b|c)");
    expect(formatVariable({ values: ["a", "b"], all: true, multi: false, includeAll: true, allValue: ".+" })).toBe(".+");
    expect(formatVariable({ values: ["a", "b"], all: true, multi: false, includeAll: true })).toBe("(a|b)");
  });

  test("$var, ${var}, [[var]] and ${var:format}; built-ins; an unknown variable is an error", () => {
    const vars = new Map<string, VariableValue>([
      ["namespace", one("shop")],
      ["pod", { values: ["p-1", "p-2"], all: false, multi: true, includeAll: false }],
    ]);
    const b = builtIns(inputs(1, 1920));
    expect(interpolate('rate(x{namespace="$namespace", pod=~"${pod}"}[$__rate_interval])', vars, b)).toBe(
      'rate(x{namespace="shop", pod=~"(p-1|p-2)"}[1m])',
    );
    expect(interpolate('x{n="[[namespace]]", p=~"${pod:pipe}"}', vars, b)).toBe('x{n="shop", p=~"p-1|p-2"}');
    expect(() => interpolate('x{n="$cluster"}', vars, b)).toThrow(/no variable cluster/);
  });

  test("Grafana's variable queries", () => {
    expect(parseVariableQuery({ qryType: 1, query: 'label_values(up{job="kubelet"}, instance)' })).toEqual({
      kind: "label_values",
      match: 'up{job="kubelet"}',
      label: "instance",
    });
    expect(parseVariableQuery("label_values(namespace)")).toEqual({ kind: "label_values", label: "namespace" });
    expect(parseVariableQuery("query_result(topk(3, up))")).toEqual({ kind: "query_result", expr: "topk(3, up)" });
    expect(() => parseVariableQuery("label_names()")).toThrow(/not one of Grafana's Prometheus variable queries/);
  });

  test("options: the variable's regex (first group), then its sort", () => {
    expect(variableOptions(["b", "a", "c", "a"], undefined, 1)).toEqual(["a", "b", "c"]);
    expect(variableOptions(["b", "a"], undefined, 2)).toEqual(["b", "a"]);
    expect(variableOptions(["node-10", "node-9"], undefined, 7)).toEqual(["node-9", "node-10"]);
    expect(variableOptions(["10.0.0.1:9100", "10.0.0.2:9100"], "/(.*):9100/", 0)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  test("the value a variable opens with: saved, else the workload's, else All, else the first option", () => {
    expect(chooseValue({ current: { value: "b" } }, ["a", "b"]).values).toEqual(["b"]);
    expect(chooseValue({ current: { value: "gone" } }, ["a", "b"], ["b"]).values).toEqual(["b"]);
    expect(chooseValue({}, ["a", "b"]).values).toEqual(["a"]);
    expect(chooseValue({ includeAll: true, multi: true }, ["a", "b"], ["b"])).toMatchObject({ all: true, values: ["a", "b"] });
    expect(chooseValue({ current: { value: ["$__all"] }, includeAll: true }, ["a"])).toMatchObject({ all: true });
    expect(chooseValue({}, []).values).toEqual([""]);
  });

  test("a variable the view is about takes the workload's value, over All and over a saved value; else as unscoped", () => {
    expect(chooseValue({ includeAll: true, multi: true }, ["a", "b"], ["b"], true)).toMatchObject({ all: false, values: ["b"] });
    expect(chooseValue({ current: { value: "a" } }, ["a", "b"], ["b"], true).values).toEqual(["b"]);
    expect(chooseValue({ includeAll: true }, ["a"], ["b"], true)).toMatchObject({ all: true });
  });
});

describe("a dashboard's panels", () => {
  const dashboard = {
    time: { from: "now-1h", to: "now" },
    templating: {
      list: [
        { name: "datasource", type: "datasource", query: "prometheus" },
        { name: "loki_datasource", type: "datasource", query: "loki" },
      ],
    },
    panels: [
      {
        id: 1,
        type: "timeseries",
        title: "half width",
        gridPos: { w: 12 },
        datasource: { type: "prometheus", uid: "${datasource}" },
        targets: [
          { refId: "A", expr: "rate(a[$__rate_interval])" },
          { refId: "B", expr: "b", hide: true },
          { refId: "C", expr: "c", instant: true },
          { refId: "D", expr: "d", instant: true, range: true, interval: "1m", intervalFactor: 2 },
        ],
      },
      {
        id: 2,
        type: "row",
        title: "collapsed",
        panels: [{ id: 3, type: "stat", title: "nested", gridPos: { w: 6 }, datasource: "$datasource", targets: [{ expr: "e" }] }],
      },
      { id: 4, type: "logs", title: "logs", datasource: { uid: "${loki_datasource}" }, targets: [{ expr: '{app="x"}' }] },
      { id: 5, type: "text", title: "text" },
    ],
  };

  test("Prometheus targets only, hidden ones left out, nested panels included, width in pixels as max data points", () => {
    const panels = panelQueries(dashboard);
    expect(panels.map((p) => [p.title, p.maxDataPoints, p.targets.map((t) => t.refId)])).toEqual([
      ["half width", 960, ["A", "C", "D"]],
      ["nested", 480, ["A"]],
    ]);
  });

  test("the requests: a range query with its aligned range and step, an instant query at the end, both for a target that asks both", () => {
    const [panel] = panelQueries(dashboard);
    const range = dashboardRange(dashboard.time, NOW);
    const [a, c, d] = panel.targets.map((t) => targetRequests(panel, t, range, 15 * S, new Map()));
    expect(a).toEqual([
      {
        path: "/api/v1/query_range",
        params: {
          query: "rate(a[1m])",
          start: String(Math.floor((NOW - H) / (15 * S)) * 15),
          end: String(Math.floor(NOW / (15 * S)) * 15),
          step: "15",
        },
      },
    ]);
    expect(c).toEqual([{ path: "/api/v1/query", params: { query: "c", time: String(NOW / 1000) } }]);
    expect(d.map((r) => [r.path, r.params.step])).toEqual([
      ["/api/v1/query_range", "120"],
      ["/api/v1/query", undefined],
    ]);
  });
});

test("a view sums its dashboards as timed for it (their scope on the workload), else as they open", () => {
  const timing = (dashboard: string, seconds: number, view?: string): DashboardTiming => ({
    dashboard,
    title: dashboard,
    panels: 1,
    queries: 1,
    seconds,
    emptyPanels: 0,
    errors: 0,
    variables: {},
    slowPanels: [],
    ...(view ? { view } : {}),
  });
  const views = viewFigures({
    phase: "steady",
    apps: 5,
    pods: 100,
    ours: [
      timing("infrastructure/cluster", 0.2),
      timing("infrastructure/networking", 1),
      timing("infrastructure/workloads", 0.5),
      timing("infrastructure/networking", 0.1, "namespaces"),
      timing("infrastructure/workloads", 0.05, "namespaces"),
    ],
  });
  const seconds = (view: string) => views.find((v) => v.view === view)?.ours.seconds;
  expect(seconds("cluster")).toBeCloseTo(1.2);
  expect(seconds("namespaces")).toBeCloseTo(0.15);
  // Timed for another view, or as it opens: the workloads view has none of its own here.
  expect(seconds("workloads")).toBeCloseTo(1.5);
});
