/**
 * Dashboards timed as a person opens them (issue 48): every Prometheus query of every panel, as
 * Grafana sends it (lab/bench/panel-queries.ts), against the Prometheus the dashboard reads: our
 * rendered dashboards against our Prometheus with our rules, kube-prometheus' views (the anchor
 * folder given to --compare-rules, its dashboards beside it) against the compared Prometheus with
 * theirs. The template variables are resolved first, as Grafana does, from that Prometheus.
 *
 * The queries run one after the other (the time of each is what Prometheus alone takes for it),
 * each `repeats` times, its median kept; a panel's time is the sum of its queries', a dashboard's
 * the sum of its panels'. Prometheus' own statistics (`stats=all`) give the samples each query
 * touched; its result the series it returned.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { durationSeconds } from "../../components/kit/units";
import { JsonObject, asString, isObject, templateVariables } from "../../cli/dashboards/files";
import { httpRequest } from "../local/http";
import { median } from "./figures";
import {
  PromRequest,
  VariableValue,
  chooseValue,
  dashboardRange,
  panelQueries,
  parseVariableQuery,
  interpolate,
  isPrometheus,
  targetRequests,
  variableOptions,
} from "./panel-queries";

/** A panel above this many seconds has its queries in the report, with the series and samples they touch. */
export const SLOW_PANEL_SECONDS = 0.5;

/**
 * The views a person opens, ours and kube-prometheus' (the anchor folder's README lists the pairs), and the variables
 * each is about (`scope`): opened on the bench's workload in that view, on both sides, as a person looking at a
 * namespace picks it, even where the dashboard would open on "All" (our Networking and Workloads dashboards, their
 * namespace-by-pod). The cluster and the stack's health are about everything.
 */
export const VIEWS: ReadonlyArray<{ view: string; ours: string[]; theirs: string[]; scope: string[] }> = [
  {
    view: "cluster",
    ours: ["infrastructure/cluster", "infrastructure/networking"],
    theirs: ["k8s-resources-cluster", "cluster-total"],
    scope: [],
  },
  {
    view: "namespaces",
    ours: ["infrastructure/workloads", "infrastructure/networking"],
    theirs: ["k8s-resources-namespace", "namespace-by-pod"],
    scope: ["namespace"],
  },
  {
    view: "pod",
    ours: ["infrastructure/pod", "infrastructure/networking"],
    theirs: ["k8s-resources-pod", "pod-total"],
    scope: ["namespace", "workload", "pod"],
  },
  {
    view: "workloads",
    ours: ["infrastructure/workloads", "infrastructure/networking"],
    theirs: ["k8s-resources-workload", "k8s-resources-workloads-namespace", "workload-total"],
    scope: ["namespace", "workload"],
  },
  { view: "nodes", ours: ["infrastructure/nodes"], theirs: ["node-rsrc-use", "nodes", "k8s-resources-node"], scope: ["node", "instance"] },
  { view: "kubelet", ours: ["infrastructure/kubelet"], theirs: ["kubelet"], scope: ["node", "instance"] },
  { view: "volumes", ours: ["infrastructure/volumes"], theirs: ["persistentvolumesusage"], scope: ["namespace"] },
  { view: "stack health", ours: ["monitoring/stack-health"], theirs: ["prometheus", "alertmanager-overview"], scope: [] },
];

/** Grafana's scrape interval for a Prometheus data source that sets none (kube-prometheus' sets none). */
export const GRAFANA_DEFAULT_SCRAPE_INTERVAL_MS = 15_000;

export interface QueryTiming {
  refId: string;
  path: string;
  query: string;
  seconds: number;
  series: number;
  samples?: number;
  error?: string;
}

export interface PanelTiming {
  panel: string;
  seconds: number;
  queries: number;
  series: number;
  samples: number;
  /** Only for a panel over SLOW_PANEL_SECONDS: each query with what it touched. */
  detail?: QueryTiming[];
}

export interface DashboardTiming {
  dashboard: string;
  title: string;
  /** Panels with a Prometheus query. */
  panels: number;
  queries: number;
  seconds: number;
  slowest?: { panel: string; seconds: number };
  /** Panels whose every query returned no series (on the bench's workload). */
  emptyPanels: number;
  errors: number;
  /** What failed: a variable Prometheus did not resolve, a query it refused ("<panel>: <error>"). */
  errorMessages?: string[];
  variables: Record<string, string>;
  slowPanels: PanelTiming[];
  /** Set on a timing made for a view (its scope's variables on the workload); without it, the dashboard as it opens. */
  view?: string;
}

interface PromAnswer {
  status: string;
  error?: string;
  data?: { result?: unknown[]; stats?: { samples?: { totalQueryableSamples?: number } } } | string[];
}

/**
 * One request to Prometheus: queries by POST with a form (Grafana's Prometheus data source's default
 * method), label values by GET (the only method that endpoint takes).
 */
async function ask(
  base: string,
  path_: string,
  params: Record<string, string | string[]>,
): Promise<{ seconds: number; answer: PromAnswer }> {
  const form = Object.entries(params)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`))
    .join("&");
  const get = path_.startsWith("/api/v1/label/");
  const start = process.hrtime.bigint();
  const reply = await httpRequest(get ? "GET" : "POST", get ? `${base}${path_}?${form}` : `${base}${path_}`, {
    ...(get ? {} : { body: form, headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
    timeoutMs: 120_000,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  let answer: PromAnswer;
  try {
    answer = JSON.parse(reply.body) as PromAnswer;
  } catch {
    answer = { status: "error", error: `HTTP ${reply.status}: ${reply.body.slice(0, 200)}` };
  }
  return { seconds, answer };
}

/** The options of a query variable, asked of Prometheus as Grafana asks (over the dashboard's range). */
async function variableValues(
  base: string,
  query: unknown,
  variables: ReadonlyMap<string, VariableValue>,
  range: { from: number; to: number },
): Promise<string[]> {
  const q = parseVariableQuery(query);
  const window = { start: String(range.from / 1000), end: String(range.to / 1000) };
  const none = {};
  if (q.kind === "label_values") {
    const match: Record<string, string> = q.match ? { "match[]": interpolate(q.match, variables, none) } : {};
    const { answer } = await ask(base, `/api/v1/label/${encodeURIComponent(q.label)}/values`, { ...match, ...window });
    if (answer.status !== "success") throw new Error(`label_values(${q.match ?? ""}, ${q.label}): ${answer.error ?? "failed"}`);
    return (answer.data as string[]) ?? [];
  }
  if (q.kind === "metrics") {
    const { answer } = await ask(base, "/api/v1/label/__name__/values", window);
    const re = new RegExp(q.regex);
    return ((answer.data as string[]) ?? []).filter((n) => re.test(n));
  }
  const { answer } = await ask(base, "/api/v1/query", { query: interpolate(q.expr, variables, none), time: window.end });
  const result = ((answer.data as { result?: Array<{ metric: Record<string, string>; value: [number, string] }> })?.result ?? []).map(
    ({ metric, value }) => {
      const { __name__: name = "", ...labels } = metric;
      return `${name}{${Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(", ")}} ${value[1]} ${value[0] * 1000}`;
    },
  );
  return result;
}

/** The template variables' values, in their order (each may read the ones before). */
async function resolveVariables(
  base: string,
  dashboard: JsonObject,
  range: { from: number; to: number },
  preferred: readonly string[],
  scope: readonly string[] = [],
): Promise<Map<string, VariableValue>> {
  const values = new Map<string, VariableValue>();
  for (const { variable, name } of templateVariables(dashboard)) {
    const type = asString(variable.type);
    // Data source variables name no value in a query; Loki's variables serve Loki's panels, which are not timed here.
    if (type === "datasource" || (type === "query" && !isPrometheus(dashboard, variable.datasource))) continue;
    let options: string[];
    if (type === "query") {
      options = variableOptions(
        await variableValues(base, variable.query, values, range),
        asString(variable.regex) || undefined,
        typeof variable.sort === "number" ? variable.sort : 0,
      );
    } else if (type === "custom") {
      options = (asString(variable.query) ?? "").split(",").map((s) => s.trim());
    } else if (type === "constant" || type === "textbox") {
      options = [asString(variable.query) ?? ""];
    } else {
      throw new Error(`variable ${name}: type ${type ?? "unknown"} is not one the bench resolves (query, custom, constant, textbox)`);
    }
    values.set(name, chooseValue(variable, options, preferred, scope.includes(name)));
  }
  return values;
}

function countSeries(answer: PromAnswer): number {
  const data = answer.data;
  if (!data || Array.isArray(data)) return 0;
  const result = data.result as unknown;
  return Array.isArray(result) ? result.length : result === undefined ? 0 : 1;
}

/** Times one dashboard against one Prometheus. */
export async function timeDashboard(
  prometheus: { url: string; scrapeIntervalMs: number },
  name: string,
  dashboard: JsonObject,
  opts: { now: number; preferred: readonly string[]; repeats: number; scope?: readonly string[] },
): Promise<DashboardTiming> {
  const range = dashboardRange(dashboard.time, opts.now);
  const messages: string[] = [];
  const variables = await resolveVariables(prometheus.url, dashboard, range, opts.preferred, opts.scope).catch((err: unknown) => {
    messages.push(`variables: ${err instanceof Error ? err.message : String(err)}`);
    return new Map<string, VariableValue>();
  });
  const panels: PanelTiming[] = [];
  for (const panel of panelQueries(dashboard)) {
    const timings: QueryTiming[] = [];
    for (const target of panel.targets) {
      let requests: PromRequest[];
      try {
        requests = targetRequests(panel, target, range, prometheus.scrapeIntervalMs, variables);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        messages.push(`${panel.id} ${target.refId}: ${error}`);
        timings.push({ refId: target.refId, path: "", query: target.expr, seconds: 0, series: 0, error });
        continue;
      }
      for (const r of requests) {
        const seconds: number[] = [];
        let last: PromAnswer = { status: "error" };
        for (let i = 0; i < opts.repeats; i++) {
          const { seconds: s, answer } = await ask(prometheus.url, r.path, { ...r.params, stats: "all" });
          seconds.push(s);
          last = answer;
        }
        const stats = !last.data || Array.isArray(last.data) ? undefined : last.data.stats?.samples?.totalQueryableSamples;
        if (last.status !== "success") messages.push(`${panel.id} ${target.refId}: ${last.error ?? "failed"}`);
        timings.push({
          refId: target.refId,
          path: r.path,
          query: r.params.query,
          seconds: median(seconds),
          series: countSeries(last),
          ...(stats !== undefined ? { samples: stats } : {}),
          ...(last.status !== "success" ? { error: last.error ?? "failed" } : {}),
        });
      }
    }
    const seconds = timings.reduce((a, t) => a + t.seconds, 0);
    panels.push({
      panel: panel.id,
      seconds,
      queries: timings.length,
      series: timings.reduce((a, t) => a + t.series, 0),
      samples: timings.reduce((a, t) => a + (t.samples ?? 0), 0),
      ...(seconds > SLOW_PANEL_SECONDS || timings.some((t) => t.error) ? { detail: timings } : {}),
    });
  }
  const slowest = panels.reduce<PanelTiming | undefined>((a, p) => (!a || p.seconds > a.seconds ? p : a), undefined);
  const shown = new Map([...variables].map(([k, v]) => [k, v.all ? "All" : v.values.join(",")]));
  return {
    dashboard: name,
    title: asString(dashboard.title) ?? name,
    panels: panels.length,
    queries: panels.reduce((a, p) => a + p.queries, 0),
    seconds: panels.reduce((a, p) => a + p.seconds, 0),
    ...(slowest ? { slowest: { panel: slowest.panel, seconds: slowest.seconds } } : {}),
    emptyPanels: panels.filter((p) => p.series === 0).length,
    errors: messages.length,
    ...(messages.length ? { errorMessages: messages } : {}),
    variables: Object.fromEntries(shown),
    slowPanels: panels.filter((p) => p.detail),
  };
}

/** Our rendered dashboards: `grafana/<folder>__<name>.json` of the render, named `<folder>/<name>`. */
export function renderedDashboards(files: ReadonlyMap<string, string>): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  for (const [file, text] of files) {
    const m = /^grafana\/([a-z0-9-]+)__([a-z0-9-]+)\.json$/.exec(file);
    if (!m) continue;
    const doc = JSON.parse(text) as unknown;
    if (isObject(doc)) out.set(`${m[1]}/${m[2]}`, doc);
  }
  return out;
}

/** The anchor's dashboards of the views: `<dir>/<name>.json`; an error names a view's dashboard the folder lacks. */
export function anchorDashboards(dir: string): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  for (const name of new Set(VIEWS.flatMap((v) => v.theirs))) {
    const file = path.join(dir, `${name}.json`);
    if (!fs.existsSync(file))
      throw new Error(`--compare-rules: the anchor dashboards ${dir} have no ${name}.json (a view the bench compares)`);
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
    if (isObject(doc)) out.set(name, doc);
  }
  return out;
}

/** The anchor dashboards beside an anchor rule folder: `…/anchor-rules/<name>` → `…/anchor-dashboards/<name>`, when it exists. */
export function anchorDashboardsDir(rulesDir: string): string | undefined {
  const dir = path.join(path.dirname(path.dirname(rulesDir)), "anchor-dashboards", path.basename(rulesDir));
  return path.basename(path.dirname(rulesDir)) === "anchor-rules" && fs.existsSync(dir) ? dir : undefined;
}

export interface DashboardRun {
  phase: string;
  apps: number;
  pods: number;
  ours: DashboardTiming[];
  theirs?: DashboardTiming[];
}

/** One side of a view: its dashboards, their panels (and those of them that answered no series), total and slowest panel's time. */
export interface ViewSide {
  dashboards: string[];
  panels: number;
  emptyPanels: number;
  seconds: number;
  slowestSeconds: number;
}

/** Per view: our dashboards' time and theirs, and theirs / ours (above 1, theirs take longer). */
export function viewFigures(run: DashboardRun): Array<{
  view: string;
  ours: ViewSide;
  theirs?: ViewSide;
  ratio?: number;
}> {
  const sum = (list: DashboardTiming[] | undefined, names: string[], view: string): ViewSide | undefined => {
    // The view's own timing of a dashboard where it made one, else the dashboard as it opens.
    const found = names.flatMap((name) => {
      const timings = (list ?? []).filter((d) => d.dashboard === name);
      const chosen = timings.find((d) => d.view === view) ?? timings.find((d) => d.view === undefined);
      return chosen ? [chosen] : [];
    });
    if (found.length === 0) return undefined;
    return {
      dashboards: found.map((d) => d.dashboard),
      panels: found.reduce((a, d) => a + d.panels, 0),
      emptyPanels: found.reduce((a, d) => a + d.emptyPanels, 0),
      seconds: found.reduce((a, d) => a + d.seconds, 0),
      slowestSeconds: Math.max(0, ...found.map((d) => d.slowest?.seconds ?? 0)),
    };
  };
  return VIEWS.flatMap((v) => {
    const ours = sum(run.ours, v.ours, v.view);
    if (!ours) return [];
    const theirs = sum(run.theirs, v.theirs, v.view);
    return [{ view: v.view, ours, ...(theirs ? { theirs, ratio: ours.seconds > 0 ? theirs.seconds / ours.seconds : undefined } : {}) }];
  });
}

/** The scrape interval a rendered Grafana gives its Prometheus data source (jsonData.timeInterval), in ms; Grafana's default when it sets none. */
export function renderedScrapeIntervalMs(files: ReadonlyMap<string, string>): number {
  const doc = YAML.parse(files.get("grafana/datasources.yaml") ?? "") as {
    datasources?: Array<{ type?: string; jsonData?: { timeInterval?: string } }>;
  } | null;
  const setting = doc?.datasources?.find((d) => d.type === "prometheus")?.jsonData?.timeInterval;
  const seconds = setting ? durationSeconds(setting) : undefined;
  return seconds === undefined ? GRAFANA_DEFAULT_SCRAPE_INTERVAL_MS : seconds * 1000;
}

/**
 * Our rendered dashboards against our Prometheus and, when comparing, kube-prometheus' views against
 * theirs (the live bench calls it between two phases, so that the queries' CPU is counted in neither).
 */
export async function timeStackDashboards(a: {
  phase: string;
  apps: number;
  pods: number;
  files: ReadonlyMap<string, string>;
  ours: string;
  theirs?: { url: string; dashboards: Map<string, JsonObject> };
  preferred: readonly string[];
  repeats: number;
  log: (m: string) => void;
}): Promise<DashboardRun> {
  const began = Date.now();
  const opts = { now: Date.now(), preferred: a.preferred, repeats: a.repeats };
  const time = async (
    prometheus: { url: string; scrapeIntervalMs: number },
    dashboards: ReadonlyMap<string, JsonObject>,
    side: "ours" | "theirs",
  ) => {
    const out: DashboardTiming[] = [];
    for (const [name, dashboard] of dashboards) out.push(await timeDashboard(prometheus, name, dashboard, opts));
    // Again for each view about a workload whose scope changes how the dashboard opens (a variable of its scope that
    // has "All"); a timing made with the same variables serves every view that needs it.
    const made = new Map<string, DashboardTiming>();
    for (const view of VIEWS) {
      for (const name of view[side]) {
        const dashboard = dashboards.get(name);
        if (!dashboard) continue;
        const scoped = templateVariables(dashboard)
          .filter(({ variable, name: v }) => view.scope.includes(v) && variable.includeAll === true)
          .map(({ name: v }) => v);
        if (scoped.length === 0) continue;
        const key = `${name} ${scoped.join(",")}`;
        const timing = made.get(key) ?? (await timeDashboard(prometheus, name, dashboard, { ...opts, scope: scoped }));
        made.set(key, timing);
        out.push({ ...timing, view: view.view });
      }
    }
    return out;
  };
  const ours = await time({ url: a.ours, scrapeIntervalMs: renderedScrapeIntervalMs(a.files) }, renderedDashboards(a.files), "ours");
  const theirs = a.theirs
    ? await time({ url: a.theirs.url, scrapeIntervalMs: GRAFANA_DEFAULT_SCRAPE_INTERVAL_MS }, a.theirs.dashboards, "theirs")
    : [];
  const opened = (list: DashboardTiming[]) => list.filter((d) => d.view === undefined);
  const total = (list: Array<{ seconds: number }>) => list.reduce((x, d) => x + d.seconds, 0).toFixed(2);
  a.log(
    `dashboards at ${a.phase}: ours ${opened(ours).length} in ${total(opened(ours))} s of queries${a.theirs ? `, kube-prometheus' ${opened(theirs).length} in ${total(opened(theirs))} s` : ""}, then ${ours.length + theirs.length - opened(ours).length - opened(theirs).length} again for their views (${((Date.now() - began) / 1000).toFixed(0)} s)`,
  );
  return { phase: a.phase, apps: a.apps, pods: a.pods, ours, ...(a.theirs ? { theirs } : {}) };
}
