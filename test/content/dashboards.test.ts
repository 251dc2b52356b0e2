/**
 * The Grafana dashboards under dashboards/: plain JSON that Grafana 12 provisions as is, with a stable
 * uid, the shared tags and datasource variables, queries that parse with the official PromQL and LogQL
 * grammars, and only metrics the catalogue or a recording rule provides.
 */
import {
  DASHBOARD_FOLDERS,
  SHARED_TAG,
  asArray,
  canonicalDashboardText,
  isObject,
  datasourceRefs,
  loadDashboards,
  resolveDatasourceType,
  templateVariables,
  walkPanels,
  type DashboardFile,
  type JsonObject,
} from "../../cli/dashboards/files";
import {
  dashboardProblems,
  dashboardSetProblems,
  datasourceProblems,
  knownMetrics,
  panelProblems,
  queryProblems,
  structureProblems,
  variableProblems,
} from "../../cli/dashboards/checks";
import { dashboardQueries, substituteVariables } from "../../cli/dashboards/queries";
import { POD_CGROUP_ID, POD_CGROUP_LABEL } from "../../components/prometheus/scrape-jobs";
import { durationSeconds } from "../../components/kit/units";
import { shippedDashboard } from "../support/dashboards";

const FILES = loadDashboards();
const KNOWN = knownMetrics();
const knownMetric = (name: string) => KNOWN.has(name);

/** The dashboards this project ships: removing or renaming one is a decision, not an accident. */
const EXPECTED = [
  "applications/app-overview.json",
  "applications/slo.json",
  "applications/uptime.json",
  "databases/mongodb.json",
  "databases/postgres.json",
  "databases/redis.json",
  "infrastructure/cluster.json",
  "infrastructure/kubelet.json",
  "infrastructure/networking.json",
  "infrastructure/nodes.json",
  "infrastructure/pod.json",
  "infrastructure/traefik.json",
  "infrastructure/volumes.json",
  "infrastructure/workloads.json",
  "logs/logs.json",
  "monitoring/stack-health.json",
];

function parsed(file: DashboardFile): JsonObject {
  if (!file.dashboard) throw new Error(`${file.relPath}: ${file.parseError ?? "not parsed"}`);
  return file.dashboard;
}

describe("the dashboards directory", () => {
  test("holds the expected dashboards, one folder per Grafana folder", () => {
    expect(FILES.map((f) => f.relPath)).toEqual(EXPECTED);
    for (const file of FILES) expect(DASHBOARD_FOLDERS).toContain(file.folder);
  });

  test("uids and titles are unique, file names kebab-case, each file small enough for a ConfigMap", () => {
    expect(dashboardSetProblems(FILES)).toEqual([]);
  });

  test("the metric catalogue is there to check against", () => {
    // Without it every metric check below would be vacuous.
    expect(KNOWN.size).toBeGreaterThan(100);
  });
});

describe.each(FILES.map((f) => [f.relPath, f] as const))("%s", (_relPath, file) => {
  test("is a JSON object written as Grafana saves it (sorted keys, two-space indentation, final newline)", () => {
    expect(file.parseError).toBeUndefined();
    expect(file.text).toBe(canonicalDashboardText(parsed(file)));
  });

  test("has a stable uid, a title, the shared and area tags, id null, a version and Grafana 12's schema", () => {
    const d = parsed(file);
    expect(structureProblems(d, { folder: file.folder })).toEqual([]);
    expect(d.tags).toEqual(expect.arrayContaining([SHARED_TAG, file.folder]));
  });

  test("defines the datasource variables it needs", () => {
    expect(variableProblems(parsed(file))).toEqual([]);
  });

  test("references only its datasource variables or the provisioned uids", () => {
    const d = parsed(file);
    expect(datasourceRefs(d).length).toBeGreaterThan(0);
    expect(datasourceProblems(d)).toEqual([]);
  });

  test("panels have unique ids, a gridPos on the 24-column grid without overlap, a core type and explicit datasources", () => {
    expect(panelProblems(parsed(file))).toEqual([]);
  });

  test("every PromQL and LogQL expression parses, uses defined variables and catalogued or recorded metrics", () => {
    const d = parsed(file);
    expect(dashboardQueries(d).queries.length).toBeGreaterThan(0);
    expect(queryProblems(d, { knownMetric })).toEqual([]);
  });

  test("a time series of 5-minute recorded rates steps by a minute at least (its min interval), not by the scrape interval", () => {
    expect(fineSteppedRatePanels(parsed(file))).toEqual([]);
  });

  test("a stat or gauge that shows its last value and no sparkline asks Prometheus for that value only (an instant query)", () => {
    expect(rangeForOneValue(parsed(file))).toEqual([]);
  });

  test("a Prometheus variable's All is .*, read only by regex matchers, and a LogQL selector reading it still requires the label", () => {
    expect(allValueProblems(parsed(file))).toEqual([]);
  });
});

/**
 * What "All" costs Prometheus (docs/dashboards.md, "All, without merging every value"). A Prometheus query variable
 * that offers All matches with `.*`, which Prometheus leaves out of a selector, not `.+`, for which it merges the
 * series of every value of the label (every pod's, every namespace's, every target's `instance`) before it keeps the
 * metric's. The two select alike where every series a panel selects carries the label, as the label of each `=~`
 * below does (the live lab compares them panel by panel); a `!~` or `=` would not. A LogQL selector reading such a
 * variable adds `<label>!=""`: Loki keeps a stream without the label at `.*` (a Node's events have no namespace).
 */
function allValueProblems(dashboard: JsonObject): string[] {
  const problems: string[] = [];
  const matchAll = new Set<string>();
  for (const { variable, name, where } of templateVariables(dashboard)) {
    const type = isObject(variable.datasource) ? variable.datasource.type : undefined;
    if (variable.type !== "query" || variable.includeAll !== true || type !== "prometheus") continue;
    if (variable.allValue === ".*") matchAll.add(name);
    else problems.push(`${where}: All is ${JSON.stringify(variable.allValue)}, not ".*"`);
  }
  for (const { panel, where } of walkPanels(dashboard)) {
    for (const target of asArray(panel.targets)) {
      if (!isObject(target) || typeof target.expr !== "string") continue;
      const loki = JSON.stringify(target.datasource ?? panel.datasource ?? "").includes("loki");
      // `${name}` and `${name:format}` as `$name`, so that a selector's braces are its own.
      const expr = target.expr.replace(/\$\{([A-Za-z_]\w*)(?::[^}]*)?\}/g, "$$$1");
      for (const selector of expr.match(/\{[^{}]*\}/g) ?? []) {
        for (const [, label, op, name] of selector.matchAll(/([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"\$([A-Za-z_]\w*)"/g)) {
          if (!matchAll.has(name)) continue;
          if (op !== "=~") problems.push(`${where}: ${label}${op}"$${name}": All (.*) selects as .+ does only in a regex matcher`);
          else if (loki && !new RegExp(`[{,]\\s*${label}\\s*!=\\s*""`).test(selector))
            problems.push(`${where}: ${selector} keeps streams without ${label} at All`);
        }
      }
    }
  }
  return problems;
}

/**
 * Stat, gauge and bar gauge panels that show each series' last value only (`lastNotNull`), with no sparkline
 * (a stat's graphMode "none"; gauges draw none), yet send a Prometheus range query: Prometheus then evaluates
 * the query at every step of the dashboard's range (240 times over an hour at 15 s) for the one value shown.
 */
function rangeForOneValue(dashboard: JsonObject): string[] {
  return walkPanels(dashboard).flatMap(({ panel, where }) => {
    if (!["stat", "gauge", "bargauge"].includes(String(panel.type))) return [];
    const options = isObject(panel.options) ? panel.options : {};
    if (panel.type === "stat" && (options.graphMode ?? "area") !== "none") return [];
    const reduce = isObject(options.reduceOptions) ? options.reduceOptions : {};
    if (JSON.stringify(reduce.calcs ?? []) !== '["lastNotNull"]') return [];
    return asArray(panel.targets)
      .filter(
        (t): t is JsonObject =>
          isObject(t) && t.instant !== true && !JSON.stringify(t.datasource ?? panel.datasource ?? "").includes("loki"),
      )
      .map((t) => `${where}: query ${String(t.refId ?? "?")} is a range query`);
  });
}

/**
 * The views that draw a line a minute: those of every pod of the cluster or of a namespace, where at hundreds of
 * pods a step of the scrape interval makes Prometheus evaluate four times over what a line a minute shows (`npm run
 * bench`'s dashboards at 500 pods); and those of the nodes, the kubelets, the volumes and the stack itself, which open
 * on 3 or 6 hours (720 or 1,080 steps at 15 s, for panels 960 pixels wide). Their stats' sparklines too: a stat
 * with a sparkline sends a range query over the whole range, and shows its last point, which a view refreshed once a
 * minute shows a minute old at most anyway. The pod's, the apps' and the databases' dashboards keep the scrape
 * interval's step: one thing is cheap to draw, and a person zooms in on it in an incident.
 */
const MINUTE_VIEWS = [
  "infrastructure/cluster.json",
  "infrastructure/networking.json",
  "infrastructure/workloads.json",
  "infrastructure/nodes.json",
  "infrastructure/kubelet.json",
  "infrastructure/volumes.json",
  "monitoring/stack-health.json",
];

/** The panels of `dashboard` that send Prometheus a range query (a time series, a stat's sparkline), with where they are. */
function prometheusRangePanels(dashboard: JsonObject): ReturnType<typeof walkPanels> {
  return walkPanels(dashboard).filter(({ panel }) =>
    asArray(panel.targets).some(
      (t) =>
        isObject(t) &&
        t.instant !== true &&
        resolveDatasourceType(dashboard, "datasource" in t ? t.datasource : panel.datasource) === "prometheus",
    ),
  );
}

/** The panels of a minute view (MINUTE_VIEWS) that send Prometheus a range query at a step under a minute. */
function underAMinuteRangePanels(dashboard: JsonObject): string[] {
  return prometheusRangePanels(dashboard).flatMap(({ panel, where }) => underAMinute(panel, where));
}

describe.each(FILES.filter((f) => MINUTE_VIEWS.includes(f.relPath)).map((f) => [f.relPath, f] as const))(
  "%s, a view drawn a line a minute",
  (_relPath, file) => {
    test("steps every Prometheus range query by a minute at least (its panel's min interval), a stat's sparkline too", () => {
      const dashboard = parsed(file);
      expect(prometheusRangePanels(dashboard).filter(({ panel }) => panel.type === "timeseries").length).toBeGreaterThan(3);
      expect(underAMinuteRangePanels(dashboard)).toEqual([]);
    });
  },
);

test("the minute views' check sees a stat's sparkline at the scrape interval's step", () => {
  const workloads = shippedDashboard("infrastructure/workloads.json", FILES);
  const stats = prometheusRangePanels(workloads).filter(({ panel }) => panel.type === "stat");
  expect(stats.length).toBeGreaterThan(3);
  // A copy whose first sparkline lost its min interval is caught, and only that one.
  const copy = JSON.parse(JSON.stringify(workloads)) as JsonObject;
  const first = prometheusRangePanels(copy).find(({ panel }) => panel.type === "stat");
  if (!first) throw new Error("no stat with a sparkline");
  delete first.panel.interval;
  expect(underAMinuteRangePanels(copy)).toEqual([`${first.where}: min interval none`]);
});

test("the views drawn a line a minute are all there", () => {
  expect(MINUTE_VIEWS.filter((v) => !FILES.some((f) => f.relPath === v))).toEqual([]);
});

/**
 * Every link of a dashboard to a dashboard, with where it is: one by address (`/d/<uid>`, in `links`, a panel's links,
 * a field's data links) and one by tag (a header link of type `dashboards`, no address).
 */
function dashboardLinks(value: unknown, where: string): Array<{ where: string; link: JsonObject }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => dashboardLinks(v, `${where}[${i}]`));
  if (!isObject(value)) return [];
  const byAddress = typeof value.url === "string" && value.url.startsWith("/d/");
  const byTag = value.type === "dashboards";
  const own = byAddress || byTag ? [{ where, link: value }] : [];
  return [...own, ...Object.entries(value).flatMap(([k, v]) => dashboardLinks(v, `${where}.${k}`))];
}

/**
 * Drill-down keeps the time range (docs/dashboards.md: "Links are `/d/<uid>?var-<variable>=…` with the time range
 * kept"): a data link carries `${__url_time_range}`, a dashboard link `keepTime`. So the pod view opened from
 * another view shows that view's range, not its own default hour.
 */
test("every link to a dashboard keeps the time range", () => {
  const links = FILES.flatMap((f) => dashboardLinks(parsed(f), f.relPath));
  expect(links.length).toBeGreaterThan(20);
  expect(links.filter(({ link }) => link.type === "dashboards").length).toBeGreaterThan(10);
  const lost = links.filter(({ link }) => !String(link.url).includes("${__url_time_range}") && link.keepTime !== true);
  expect(lost.map(({ where, link }) => `${where}: ${String(link.url || link.tags)}`)).toEqual([]);
});

/** The pod view, parsed. */
const podView = (): JsonObject => shippedDashboard("infrastructure/pod.json", FILES);

/**
 * The pod view opens on the last hour: a pod's name lasts from one rollout to the next, and the question is the
 * incident at hand (docs/dashboards.md). Its time series keep the scrape interval's step (no min interval), so that
 * the hour is drawn at the grain a person zooms in on.
 */
test("the pod view opens on the last hour, at the scrape interval's step", () => {
  const dashboard = podView();
  expect(dashboard.time).toEqual({ from: "now-1h", to: "now" });
  const series = walkPanels(dashboard).filter(({ panel }) => panel.type === "timeseries");
  expect(series.length).toBeGreaterThan(3);
  const stepped = series.flatMap(({ panel, where }) => [
    ...(panel.interval !== undefined ? [`${where}: interval ${String(panel.interval)}`] : []),
    ...asArray(panel.targets)
      .filter((t) => isObject(t) && t.interval !== undefined && t.interval !== "")
      .map((t) => `${where}: target ${String((t as JsonObject).refId)} interval ${String((t as JsonObject).interval)}`),
  ]);
  expect(stepped).toEqual([]);
});

/**
 * The pod view selects one pod's series by namespace and pod and keeps the pod's own cgroup afterwards
 * (docs/dashboards.md, "Both cAdvisor shapes"): no matcher on `id`, which Prometheus would test against the `id`
 * of every cgroup of the node, merging every pod's series, before it intersects them with the pod's.
 */
test("the pod view never selects by cgroup id", () => {
  const exprs = dashboardQueries(podView()).queries.filter((q) => q.language === "promql");
  expect(exprs.filter(({ expr }) => expr.includes("whole pod")).length).toBe(3);
  expect(exprs.filter(({ expr }) => /[{,]\s*id\s*(=|!=|=~|!~)\s*"/.test(expr)).map(({ where }) => where)).toEqual([]);
});

/**
 * How each whole-pod query of `dashboard` keeps the pod's own cgroup: every `label_replace` that writes a label from
 * `id`, as written (`"<label>", "<value>", "id", "<regex>"`), and the number of its selectors of a pod's cgroups
 * (`container=""`).
 */
function podCgroupKeeps(dashboard: JsonObject): { keeps: string[]; wholePod: number } {
  const exprs = dashboardQueries(dashboard).queries.filter((q) => q.language === "promql");
  return {
    // The last four arguments of a label_replace that reads `id`: its label, its value, "id" and its regex.
    keeps: exprs.flatMap(({ expr }) => [...expr.matchAll(/("[^"]*",\s*"[^"]*",\s*"id",\s*"[^"]*")\)/g)].map((m) => m[1])),
    wholePod: exprs.reduce((n, { expr }) => n + (expr.match(/container=""/g) ?? []).length, 0),
  };
}

/**
 * The pod view keeps its pod's own cgroup by the `id` the cadvisor job recognises (POD_CGROUP_ID) and under the label
 * the job gives it (POD_CGROUP_LABEL): the view and the `kubernetes-usage` recordings then count the same cgroup as
 * the pod's, and the view reads the hours before an upgrade that brought the label the same way.
 */
test("the pod view keeps the pod's own cgroup as the cadvisor job labels it", () => {
  const keep = `"${POD_CGROUP_LABEL.name}", "${POD_CGROUP_LABEL.value}", "id", "${POD_CGROUP_ID}"`;
  const { keeps, wholePod } = podCgroupKeeps(podView());
  expect(keeps.length).toBe(4);
  expect(keeps.length).toBe(wholePod);
  expect([...new Set(keeps)]).toEqual([keep]);
  // A copy whose regex lost the systemd driver's shape (`-pod`) is caught.
  const narrowed = JSON.parse(JSON.stringify(podView()).split("[/-]pod").join("/pod")) as JsonObject;
  expect(new Set(podCgroupKeeps(narrowed).keeps)).not.toContain(keep);
});

/** What a panel's description says when the `pod` variable does not narrow it (docs/dashboards.md, the Networking view). */
const EVERY_POD_COUNTS = "Every pod of the namespace counts, whichever pods are picked";

/**
 * The panels that say every pod of the namespace counts, and those of them whose queries read the `pod` variable
 * anyway ("<where>: <refId> reads $pod"): a panel that said so and filtered by `$pod` would show a part of the
 * namespace as the whole.
 */
function everyPodPanels(dashboard: JsonObject): { said: string[]; filtered: string[] } {
  const said = walkPanels(dashboard).filter(({ panel }) => String(panel.description ?? "").includes(EVERY_POD_COUNTS));
  return {
    said: said.map(({ where }) => where),
    filtered: said.flatMap(({ panel, where }) =>
      asArray(panel.targets)
        .filter((t): t is JsonObject => isObject(t) && /\$\{?pod\b/.test(String(t.expr ?? "")))
        .map((t) => `${where}: ${String(t.refId)} reads $pod`),
    ),
  };
}

/**
 * The Networking view's panels per namespace count every pod of the namespace, whichever pods the `pod` variable picks
 * (they read the recordings per namespace, docs/dashboards.md): each says so, and none reads `$pod`.
 */
test("the Networking view's panels per namespace say every pod counts, and read no pod filter", () => {
  const networking = shippedDashboard("infrastructure/networking.json", FILES);
  const { said, filtered } = everyPodPanels(networking);
  const perNamespace = walkPanels(networking).filter(({ panel }) => / per namespace$/.test(String(panel.title)));
  expect(perNamespace.length).toBe(3);
  expect(said).toEqual(perNamespace.map(({ where }) => where));
  expect(filtered).toEqual([]);
  expect(FILES.flatMap((f) => everyPodPanels(parsed(f)).filtered)).toEqual([]);
  // A copy whose bytes per namespace are narrowed by the pod variable is caught.
  const narrowed = JSON.parse(
    JSON.stringify(networking).replace(
      /(namespace:container_network_receive_bytes:rate5m\{namespace=~\\"\$namespace\\")/,
      '$1, pod=~\\"$pod\\"',
    ),
  ) as JsonObject;
  expect(everyPodPanels(narrowed).filtered).toEqual([expect.stringMatching(/ reads \$pod$/)]);
});

/**
 * Time series panels whose queries read series recorded as 5-minute rates (`…:rate5m`), none its own rate over
 * `$__rate_interval`, without a min interval of a minute or more: a 5-minute rate holds any burst for five minutes,
 * so a step of a minute shows it, and a step of the scrape interval only makes Prometheus evaluate four times over.
 */
function fineSteppedRatePanels(dashboard: JsonObject): string[] {
  return walkPanels(dashboard).flatMap(({ panel, where }) => {
    if (panel.type !== "timeseries") return [];
    const exprs = asArray(panel.targets)
      .filter((t): t is JsonObject => isObject(t) && typeof t.expr === "string" && t.instant !== true)
      .map((t) => t.expr as string);
    if (!exprs.some((e) => /:rate5m\b/.test(e)) || exprs.some((e) => /\$__(rate_interval|interval|auto)\b/.test(e))) return [];
    return underAMinute(panel, where);
  });
}

/** A panel whose min interval is under a minute (or unset), named with it; none when it steps by a minute at least. */
function underAMinute(panel: JsonObject, where: string): string[] {
  const interval = typeof panel.interval === "string" ? durationSeconds(panel.interval) : undefined;
  return interval !== undefined && interval >= 60 ? [] : [`${where}: min interval ${String(panel.interval ?? "none")}`];
}

describe("the checker itself", () => {
  const PROM = { type: "prometheus", uid: "${datasource}" };
  const LOKI = { type: "loki", uid: "${loki_datasource}" };
  const datasourceVar = (name: string, type: string) => ({ name, type: "datasource", query: type });

  /** The smallest dashboard that passes every check: a baseline for the broken variants below. */
  function minimal(): JsonObject {
    return {
      uid: "checker-sample",
      title: "Checker sample",
      tags: [SHARED_TAG, "monitoring"],
      id: null,
      version: 1,
      schemaVersion: 41,
      refresh: "1m",
      time: { from: "now-1h", to: "now" },
      templating: {
        list: [
          datasourceVar("datasource", "prometheus"),
          datasourceVar("loki_datasource", "loki"),
          { name: "job", type: "query", datasource: PROM, query: { query: "label_values(up, job)" } },
        ],
      },
      annotations: { list: [{ builtIn: 1, name: "Annotations & Alerts", datasource: { type: "grafana", uid: "-- Grafana --" } }] },
      panels: [
        { id: 1, type: "row", title: "Row", gridPos: { x: 0, y: 0, w: 24, h: 1 }, panels: [] },
        {
          id: 2,
          type: "timeseries",
          title: "Up",
          gridPos: { x: 0, y: 1, w: 12, h: 8 },
          datasource: PROM,
          targets: [{ refId: "A", datasource: PROM, expr: 'sum by (job) (rate(up{job=~"${job:regex}"}[$__rate_interval]))' }],
        },
        {
          id: 3,
          type: "logs",
          title: "Logs",
          gridPos: { x: 12, y: 1, w: 12, h: 8 },
          datasource: LOKI,
          targets: [{ refId: "A", datasource: LOKI, expr: '{job=~"$job"} |= "error" | logfmt' }],
        },
      ],
    };
  }
  const ctx = { folder: "monitoring", knownMetric: (name: string) => name === "up" };

  test("accepts the minimal valid dashboard", () => {
    expect(dashboardProblems(minimal(), ctx)).toEqual([]);
  });

  test("reports a dashboard broken in every way it checks", () => {
    const bad = minimal();
    Object.assign(bad, { uid: "Not A Stable UID", title: "", tags: ["other"], id: 7, schemaVersion: 16, __inputs: [], refresh: "1s" });
    const panels = bad.panels as JsonObject[];
    const exported = { type: "prometheus", uid: "P1809F7CD0C75ACF3" };
    panels[1] = {
      ...panels[1],
      datasource: exported,
      targets: [
        { refId: "A", datasource: exported, expr: "up" },
        { refId: "B", datasource: PROM, expr: "sum(rate(up[5m])" },
      ],
    };
    panels[2] = { ...panels[2], id: 2, gridPos: undefined, targets: [{ refId: "A", datasource: LOKI, expr: '{job="x" |= "oops"' }] };
    panels.push({
      id: 4,
      type: "row",
      title: "Collapsed",
      gridPos: { x: 0, y: 9, w: 24, h: 1 },
      panels: [
        {
          id: 5,
          type: "stat",
          title: "Nested",
          gridPos: { x: 0, y: 10, w: 30, h: 4 },
          datasource: "Prometheus",
          targets: [{ refId: "A", datasource: PROM, expr: 'rate(no_such_metric_total{a="$undefined_var"}[5m])' }],
        },
      ],
    });

    const problems = dashboardProblems(bad, ctx).join("\n");
    for (const expected of [
      /uid "Not A Stable UID"/,
      /title is missing/,
      /shared tag "monitoring-stack"/,
      /area tag "monitoring"/,
      /id must be null/,
      /schemaVersion is 16/,
      /__inputs is export cruft/,
      /refresh "1s"/,
      /uid "P1809F7CD0C75ACF3" is neither a datasource variable nor a provisioned uid/,
      /panel 5 "Nested": datasource "Prometheus" must be an object/,
      /panel 2 "Up" target B: PromQL does not parse/,
      /panel 2 "Logs" target A: LogQL does not parse/,
      /duplicate panel id 2/,
      /panel 2 "Logs": gridPos .* is missing/,
      /panel 4 "Collapsed" > panel 5 "Nested": gridPos .* does not fit/,
      /metric no_such_metric_total is in no catalog\/ file/,
      /uses \$undefined_var/,
    ]) {
      expect(problems).toMatch(expected);
    }
  });

  test("tells a stat or gauge sending a range query for its last value from one that needs the range", () => {
    const target = { refId: "A", datasource: PROM, expr: "sum(up)" };
    const panel = (type: string, options: JsonObject, targets: JsonObject[]) => ({ id: 9, type, title: "One", options, targets });
    const last = { reduceOptions: { calcs: ["lastNotNull"] } };
    const dashboard = {
      panels: [
        panel("stat", { ...last, graphMode: "none" }, [target]),
        panel("gauge", last, [target]),
        panel("stat", { ...last, graphMode: "area" }, [target]),
        panel("stat", { reduceOptions: { calcs: ["mean"] }, graphMode: "none" }, [target]),
        panel("stat", { ...last, graphMode: "none" }, [{ ...target, instant: true, range: false }]),
      ],
    };
    expect(rangeForOneValue(dashboard)).toEqual(['panel 9 "One": query A is a range query', 'panel 9 "One": query A is a range query']);
  });

  test("reports missing or mistyped datasource variables", () => {
    const noVariable = minimal();
    (noVariable.templating as { list: unknown[] }).list.splice(0, 1);
    expect(variableProblems(noVariable).join("\n")).toMatch(
      /the datasource variable datasource \(type datasource, query prometheus\) is missing/,
    );
    expect(datasourceProblems(noVariable).join("\n")).toMatch(/uid \$\{datasource\} names no datasource variable/);
    const noLoki = minimal();
    (noLoki.templating as { list: unknown[] }).list.splice(1, 1);
    expect(variableProblems(noLoki).join("\n")).toMatch(/loki_datasource .* is missing/);
    const mistyped = minimal();
    (mistyped.templating as { list: JsonObject[] }).list[0].query = "loki";
    expect(variableProblems(mistyped).join("\n")).toMatch(/variable datasource must be of type datasource with query "prometheus"/);
  });

  test("finds panels and targets nested in collapsed rows", () => {
    const d = minimal();
    (d.panels as JsonObject[])[0].panels = [
      {
        id: 9,
        type: "stat",
        title: "Inside",
        gridPos: { x: 0, y: 1, w: 4, h: 4 },
        datasource: PROM,
        targets: [{ refId: "A", datasource: PROM, expr: "up" }],
      },
    ];
    expect(walkPanels(d).map((v) => v.where)).toContain('panel 1 "Row" > panel 9 "Inside"');
    expect(dashboardQueries(d).queries.map((q) => q.where)).toContain('panel 1 "Row" > panel 9 "Inside" target A');
  });

  test("reports reused uids and titles across files", () => {
    const file = (relPath: string): DashboardFile => {
      const [folder, name] = relPath.split("/");
      return { folder, name, relPath, path: relPath, text: "{}", dashboard: { uid: "same", title: "Same" } };
    };
    const problems = dashboardSetProblems([file("logs/a.json"), file("logs/b.json"), file("elsewhere/C.json")]).join("\n");
    expect(problems).toMatch(/uid same is already used by logs\/a.json/);
    expect(problems).toMatch(/title "Same" is already used/);
    expect(problems).toMatch(/folder "elsewhere" is not one of/);
    expect(problems).toMatch(/C.json: file name is not kebab-case/);
  });

  test("tells a Prometheus variable's All of .+, a matcher other than a regex reading .*, and a LogQL selector without the label", () => {
    const workloads = parsed(FILES.find((f) => f.relPath === "infrastructure/workloads.json") as DashboardFile);
    expect(allValueProblems(workloads)).toEqual([]);
    const text = JSON.stringify(workloads);
    const mutated = (from: string, to: string) => {
      if (!text.includes(from)) throw new Error(`the Workloads dashboard has no ${from}`);
      return allValueProblems(JSON.parse(text.split(from).join(to)) as JsonObject);
    };
    expect(mutated('"allValue":".*"', '"allValue":".+"')).toEqual(['variable namespace: All is ".+", not ".*"']);
    expect(mutated(', namespace!=\\"\\"', "")).toEqual([
      expect.stringMatching(/keeps streams without namespace at All$/),
      expect.stringMatching(/keeps streams without namespace at All$/),
    ]);
    expect(mutated('kube_pod_info{namespace=~\\"$namespace\\"', 'kube_pod_info{namespace!~\\"$namespace\\"')).toEqual([
      expect.stringContaining('namespace!~"$namespace": All (.*) selects as .+ does only in a regex matcher'),
    ]);
  });

  test("substitutes Grafana variables with stand-ins the grammars accept", () => {
    const { expr, unknown } = substituteVariables(
      'sum(rate(x{a=~"${a:regex}", b="$b", c="[[c]]"}[$__rate_interval])) / $__range_s offset $__range',
      new Set(["a", "b"]),
    );
    expect(expr).toBe('sum(rate(x{a=~"grafana_var_a", b="grafana_var_b", c="grafana_var_c"}[5m])) / 3600 offset 1h');
    expect(unknown).toEqual(["c"]);
    // A variable in place of a metric name becomes a name no catalogue has.
    expect(substituteVariables("rate($metric[5m])").expr).toBe("rate(grafana_var_metric[5m])");
    // Regex back-references are not variables.
    expect(substituteVariables('label_replace(up, "x", "$1", "job", "(.*)")').unknown).toEqual([]);
  });
});
