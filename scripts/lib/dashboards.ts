/**
 * Grafana dashboards under dashboards/<folder>/<name>.json: loading, walking and checking.
 *
 * Loading (`loadDashboards`, `dashboardsByFolder`) is plain fs work with no test framework in it,
 * so the Grafana component can ship the same files (one ConfigMap per folder). The checks return
 * lists of problems (strings naming the file, panel and query) instead of throwing, so a test can
 * assert both that the real dashboards have none and that a broken dashboard is reported.
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { loadCatalog } from "./catalog";
import { logqlProblem, promqlMetricNames, promqlProblem } from "./promql";

export const DASHBOARDS_DIR = path.join(__dirname, "..", "..", "dashboards");
export const RULES_DIR = path.join(__dirname, "..", "..", "rules");

/** Each folder becomes a Grafana folder of the same name. */
export const DASHBOARD_FOLDERS = ["applications", "infrastructure", "databases", "logs", "monitoring"] as const;
/** Tag carried by every dashboard (the folder name is the second, area tag). */
export const SHARED_TAG = "monitoring-stack";
/** Dashboard schema written by Grafana 12.1. */
export const SCHEMA_VERSION = 41;
/** Datasources provisioned by the Grafana component with fixed uids: uid -> plugin type. */
export const PROVISIONED_DATASOURCES: Readonly<Record<string, string>> = {
  prometheus: "prometheus",
  loki: "loki",
  alertmanager: "alertmanager",
};
/** The datasource variables: name -> plugin type. `datasource` is required everywhere, `loki_datasource` where Loki is queried. */
export const DATASOURCE_VARIABLES: Readonly<Record<string, string>> = { datasource: "prometheus", loki_datasource: "loki" };
/** A ConfigMap holds at most 1 MiB and a dashboard cannot be split across two: keep each file well under it. */
export const DASHBOARD_BYTES_LIMIT = 512 * 1024;
/** Panel types of Grafana 12's core plugins; anything else would need a plugin install. */
export const CORE_PANEL_TYPES = new Set([
  "row",
  "timeseries",
  "stat",
  "gauge",
  "bargauge",
  "table",
  "logs",
  "text",
  "piechart",
  "state-timeline",
  "status-history",
  "barchart",
  "heatmap",
  "histogram",
  "alertlist",
  "dashlist",
]);

const UID_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const UID_MAX_LENGTH = 40;
const FILE_NAME_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*\.json$/;
const EXPORT_CRUFT = ["__inputs", "__requires", "__elements"];
const MIN_REFRESH_SECONDS = 10;

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

// ---------------------------------------------------------------------------
// Loading

export interface DashboardFile {
  /** Grafana folder: the directory under dashboards/. */
  folder: string;
  /** File name, e.g. app-overview.json. */
  name: string;
  /** Path relative to the dashboards directory, e.g. applications/app-overview.json. */
  relPath: string;
  /** Absolute path. */
  path: string;
  /** The file as stored (what a ConfigMap carries). */
  text: string;
  /** The parsed dashboard, when the text is a JSON object. */
  dashboard?: JsonObject;
  /** Why the text is not a JSON object. */
  parseError?: string;
}

/** Every dashboards/<folder>/*.json file, sorted by folder then name. Files directly under dashboards/ are reported with folder "". */
export function loadDashboards(dir: string = DASHBOARDS_DIR): DashboardFile[] {
  const files: DashboardFile[] = [];
  const read = (folder: string, name: string) => {
    const abs = path.join(dir, folder, name);
    const text = fs.readFileSync(abs, "utf8");
    const file: DashboardFile = { folder, name, relPath: path.posix.join(folder, name), path: abs, text };
    try {
      const parsed: unknown = JSON.parse(text);
      if (isObject(parsed)) file.dashboard = parsed;
      else file.parseError = "the file is JSON but not an object";
    } catch (err) {
      file.parseError = (err as Error).message;
    }
    files.push(file);
  };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory()) {
      for (const name of fs.readdirSync(path.join(dir, entry.name)).sort()) {
        if (name.endsWith(".json")) read(entry.name, name);
      }
    } else if (entry.name.endsWith(".json")) {
      read("", entry.name);
    }
  }
  return files;
}

/** Dashboards grouped by Grafana folder: what one ConfigMap per folder carries (key: file name, value: file text). */
export function dashboardsByFolder(dir: string = DASHBOARDS_DIR): Map<string, Record<string, string>> {
  const byFolder = new Map<string, Record<string, string>>();
  for (const file of loadDashboards(dir)) {
    const data = byFolder.get(file.folder) ?? {};
    data[file.name] = file.text;
    byFolder.set(file.folder, data);
  }
  return byFolder;
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) out[key] = sortedKeys(value[key]);
  return out;
}

/**
 * The canonical text of a dashboard, as Grafana's save model writes it: keys sorted at every level,
 * two-space indentation, a final newline. A dashboard edited in the UI and exported back then diffs
 * only where something changed.
 */
export function canonicalDashboardText(dashboard: unknown): string {
  return JSON.stringify(sortedKeys(dashboard), null, 2) + "\n";
}

// ---------------------------------------------------------------------------
// Walking

export interface PanelVisit {
  panel: JsonObject;
  /** Human-readable location, e.g. `panel 3 "Latency"` or `panel 2 "Row" > panel 5 "CPU"`. */
  where: string;
  /** Inside a row's `panels` (a collapsed row). */
  nested: boolean;
}

/** Every panel, including the panels nested in rows, in document order. */
export function walkPanels(dashboard: JsonObject): PanelVisit[] {
  const visits: PanelVisit[] = [];
  const visit = (list: unknown, prefix: string, nested: boolean) => {
    asArray(list).forEach((item, index) => {
      const panel = isObject(item) ? item : {};
      const id = typeof panel.id === "number" ? panel.id : `#${index}`;
      const where = `${prefix}panel ${id} "${asString(panel.title) ?? ""}"`;
      visits.push({ panel, where, nested });
      visit(panel.panels, `${where} > `, true);
    });
  };
  visit(dashboard.panels, "", false);
  return visits;
}

export interface TemplateVariable {
  variable: JsonObject;
  name: string;
  where: string;
}

export function templateVariables(dashboard: JsonObject): TemplateVariable[] {
  const templating = isObject(dashboard.templating) ? dashboard.templating : {};
  return asArray(templating.list).map((item, index) => {
    const variable = isObject(item) ? item : {};
    const name = asString(variable.name) ?? `#${index}`;
    return { variable, name, where: `variable ${name}` };
  });
}

export interface DatasourceRefVisit {
  where: string;
  ref: unknown;
  /** The built-in "Annotations & Alerts" query, the one place Grafana's own datasource is expected. */
  builtInAnnotation: boolean;
}

/** Every datasource reference: panels, their targets (nested rows included), template variables and annotations. */
export function datasourceRefs(dashboard: JsonObject): DatasourceRefVisit[] {
  const refs: DatasourceRefVisit[] = [];
  for (const { panel, where } of walkPanels(dashboard)) {
    if ("datasource" in panel) refs.push({ where, ref: panel.datasource, builtInAnnotation: false });
    asArray(panel.targets).forEach((target, index) => {
      if (isObject(target) && "datasource" in target) {
        refs.push({ where: `${where} target ${asString(target.refId) ?? `#${index}`}`, ref: target.datasource, builtInAnnotation: false });
      }
    });
  }
  for (const { variable, where } of templateVariables(dashboard)) {
    if ("datasource" in variable) refs.push({ where, ref: variable.datasource, builtInAnnotation: false });
  }
  const annotations = isObject(dashboard.annotations) ? dashboard.annotations : {};
  asArray(annotations.list).forEach((item, index) => {
    const annotation = isObject(item) ? item : {};
    if ("datasource" in annotation) {
      refs.push({
        where: `annotation ${asString(annotation.name) ?? `#${index}`}`,
        ref: annotation.datasource,
        builtInAnnotation: annotation.builtIn === 1,
      });
    }
  });
  return refs;
}

/** The datasource variable a uid such as `${datasource}` or `$datasource` names, if it is one. */
function variableNameOfUid(uid: string): string | undefined {
  const m = /^\$\{(\w+)\}$/.exec(uid) ?? /^\$(\w+)$/.exec(uid);
  return m ? m[1] : undefined;
}

/** The plugin type a datasource reference resolves to in this dashboard, or undefined. */
export function resolveDatasourceType(dashboard: JsonObject, ref: unknown): string | undefined {
  if (!isObject(ref)) return undefined;
  const uid = asString(ref.uid);
  if (uid === undefined) return undefined;
  const varName = variableNameOfUid(uid);
  if (varName !== undefined) {
    const variable = templateVariables(dashboard).find((v) => v.name === varName);
    return variable && variable.variable.type === "datasource" ? asString(variable.variable.query) : undefined;
  }
  return PROVISIONED_DATASOURCES[uid];
}

// ---------------------------------------------------------------------------
// Queries

export type QueryLanguage = "promql" | "logql";

export interface DashboardQuery {
  where: string;
  language: QueryLanguage;
  /** The expression as written in the dashboard, Grafana variables included. */
  expr: string;
}

function languageOf(type: string | undefined): QueryLanguage | undefined {
  if (type === "prometheus") return "promql";
  if (type === "loki") return "logql";
  return undefined;
}

/**
 * The expression inside a Prometheus variable query, or a problem. Grafana's query functions:
 * label_values(selector, label), label_values(label), label_names(), metrics(regex), query_result(expr).
 */
function prometheusVariableExpr(query: string): { expr?: string; problem?: string } {
  const q = query.trim();
  let m = /^label_values\(\s*(.+)\s*,\s*[a-zA-Z_]\w*\s*\)$/s.exec(q);
  if (m) return { expr: m[1] };
  m = /^query_result\(\s*(.+)\s*\)$/s.exec(q);
  if (m) return { expr: m[1] };
  if (/^label_values\(\s*[a-zA-Z_]\w*\s*\)$/.test(q) || /^label_names\(.*\)$/s.test(q) || /^metrics\(.*\)$/s.test(q)) return {};
  return { problem: `is not one of Grafana's Prometheus variable functions: ${q}` };
}

/** Every query a dashboard runs: panel targets (nested rows included) and template variable queries, with their language. */
export function dashboardQueries(dashboard: JsonObject): { queries: DashboardQuery[]; problems: string[] } {
  const queries: DashboardQuery[] = [];
  const problems: string[] = [];
  for (const { panel, where } of walkPanels(dashboard)) {
    asArray(panel.targets).forEach((item, index) => {
      const target = isObject(item) ? item : {};
      const at = `${where} target ${asString(target.refId) ?? `#${index}`}`;
      const ref = "datasource" in target ? target.datasource : panel.datasource;
      const type = resolveDatasourceType(dashboard, ref);
      const language = languageOf(type);
      const expr = asString(target.expr);
      if (language === undefined) {
        problems.push(`${at}: datasource type ${type ?? "unknown"} is neither Prometheus nor Loki`);
      } else if (expr === undefined || expr.trim() === "") {
        problems.push(`${at}: no expr`);
      } else {
        queries.push({ where: at, language, expr });
      }
    });
  }
  for (const { variable, where } of templateVariables(dashboard)) {
    if (variable.type !== "query") continue;
    const language = languageOf(resolveDatasourceType(dashboard, variable.datasource));
    const query = variable.query;
    if (language === "promql") {
      const text = isObject(query) ? asString(query.query) : asString(query);
      if (text === undefined) {
        problems.push(`${where}: no query`);
        continue;
      }
      const { expr, problem } = prometheusVariableExpr(text);
      if (problem) problems.push(`${where}: ${problem}`);
      if (expr !== undefined) queries.push({ where, language, expr });
    } else if (language === "logql") {
      // Grafana 12's Loki variable editor stores { type, label, stream }; the stream selector is LogQL.
      const stream = isObject(query) ? asString(query.stream) : undefined;
      if (stream) queries.push({ where, language, expr: stream });
    } else {
      problems.push(`${where}: a query variable needs a Prometheus or Loki datasource`);
    }
  }
  return { queries, problems };
}

/** Grafana's built-in variables and what they stand for in a query (durations for the interval and range ones). */
const BUILT_IN_STAND_INS: Readonly<Record<string, string>> = {
  __rate_interval: "5m",
  __interval: "1m",
  __range: "1h",
  __auto: "1m",
  __interval_ms: "60000",
  __range_s: "3600",
  __range_ms: "3600000",
  __rate_interval_ms: "300000",
  __from: "1700000000000",
  __to: "1700003600000",
};

const VARIABLE_PATTERN = /\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\[\[([A-Za-z_]\w*)(?::[^\]]*)?\]\]|\$([A-Za-z_]\w*)/g;

/**
 * Replaces Grafana variables ($var, ${var}, ${var:format}, [[var]]) by valid stand-ins so the official
 * grammars can parse the expression: built-in intervals and ranges by durations or numbers, dashboard
 * variables by a plain word (valid inside a quoted matcher value, and a metric name anywhere else, so
 * a variable used as a metric name fails the catalogue check). Returns the names it did not know.
 */
export function substituteVariables(expr: string, known: ReadonlySet<string> = new Set()): { expr: string; unknown: string[] } {
  const unknown = new Set<string>();
  const out = expr.replace(VARIABLE_PATTERN, (_match, braced?: string, bracketed?: string, bare?: string) => {
    const name = braced ?? bracketed ?? bare ?? "";
    const builtIn = BUILT_IN_STAND_INS[name];
    if (builtIn !== undefined) return builtIn;
    if (!known.has(name)) unknown.add(name);
    return `grafana_var_${name}`;
  });
  return { expr: out, unknown: [...unknown].sort() };
}

// ---------------------------------------------------------------------------
// Checks

export interface CheckContext {
  /** The folder the file is in; its name must be one of the dashboard's tags. */
  folder?: string;
  /** Whether a metric name is catalogued or recorded; without it metric names are not checked. */
  knownMetric?: (name: string) => boolean;
}

/** Top-level fields: uid, title, tags, id, version, schema, time and refresh, no export cruft. */
export function structureProblems(dashboard: JsonObject, ctx: CheckContext = {}): string[] {
  const problems: string[] = [];
  const uid = asString(dashboard.uid);
  if (uid === undefined) problems.push("uid is missing");
  else if (!UID_PATTERN.test(uid) || uid.length > UID_MAX_LENGTH) {
    problems.push(`uid "${uid}" is not short kebab-case (a-z, 0-9 and '-', at most ${UID_MAX_LENGTH} characters)`);
  }
  const title = asString(dashboard.title);
  if (!title || title.trim() === "") problems.push("title is missing");
  const tags = asArray(dashboard.tags);
  if (!tags.includes(SHARED_TAG)) problems.push(`tags lack the shared tag "${SHARED_TAG}"`);
  if (ctx.folder !== undefined && !tags.includes(ctx.folder)) problems.push(`tags lack the area tag "${ctx.folder}" (the folder)`);
  if (dashboard.id !== null) problems.push("id must be null (Grafana assigns it)");
  if (typeof dashboard.version !== "number" || !Number.isInteger(dashboard.version) || dashboard.version < 1) {
    problems.push("version must be a positive integer");
  }
  if (dashboard.schemaVersion !== SCHEMA_VERSION) {
    problems.push(`schemaVersion is ${String(dashboard.schemaVersion)}, Grafana 12 writes ${SCHEMA_VERSION}`);
  }
  for (const key of EXPORT_CRUFT) {
    if (key in dashboard) problems.push(`${key} is export cruft: provisioned dashboards use the datasource variables`);
  }
  const time = isObject(dashboard.time) ? dashboard.time : {};
  if (!asString(time.from) || !asString(time.to)) problems.push("time.from and time.to are required");
  const refresh = dashboard.refresh;
  if (refresh !== "" && refresh !== false) {
    const m = typeof refresh === "string" ? /^(\d+)([smhd])$/.exec(refresh) : null;
    const seconds = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"] : undefined;
    if (seconds === undefined || seconds < MIN_REFRESH_SECONDS) {
      problems.push(`refresh "${String(refresh)}" is not a duration of at least ${MIN_REFRESH_SECONDS}s (or "" for none)`);
    }
  }
  return problems;
}

/** Template variables: unique names; `datasource` everywhere and every other datasource variable a reference names, with the right plugin types. */
export function variableProblems(dashboard: JsonObject): string[] {
  const problems: string[] = [];
  const variables = templateVariables(dashboard);
  const seen = new Set<string>();
  for (const { name } of variables) {
    if (seen.has(name)) problems.push(`variable ${name} is defined twice`);
    seen.add(name);
  }
  const referenced = new Set(
    datasourceRefs(dashboard).map(({ ref }) => (isObject(ref) ? variableNameOfUid(asString(ref.uid) ?? "") : undefined)),
  );
  for (const [name, type] of Object.entries(DATASOURCE_VARIABLES)) {
    const variable = variables.find((v) => v.name === name)?.variable;
    const required = name === "datasource" || referenced.has(name);
    if (!variable) {
      if (required) problems.push(`the datasource variable ${name} (type datasource, query ${type}) is missing`);
      continue;
    }
    if (variable.type !== "datasource" || variable.query !== type) {
      problems.push(`variable ${name} must be of type datasource with query "${type}"`);
    }
  }
  return problems;
}

/** Every datasource reference is a datasource variable of this dashboard or a provisioned uid, of the right type. */
export function datasourceProblems(dashboard: JsonObject): string[] {
  const problems: string[] = [];
  for (const { where, ref, builtInAnnotation } of datasourceRefs(dashboard)) {
    if (!isObject(ref)) {
      problems.push(`${where}: datasource ${JSON.stringify(ref)} must be an object { type, uid }`);
      continue;
    }
    const uid = asString(ref.uid);
    const type = asString(ref.type);
    if (builtInAnnotation && uid === "-- Grafana --" && type === "grafana") continue;
    if (uid === undefined) {
      problems.push(`${where}: datasource has no uid`);
      continue;
    }
    const varName = variableNameOfUid(uid);
    const expected = varName !== undefined ? undefined : PROVISIONED_DATASOURCES[uid];
    if (varName !== undefined) {
      const resolved = resolveDatasourceType(dashboard, ref);
      if (resolved === undefined) problems.push(`${where}: datasource uid ${uid} names no datasource variable of this dashboard`);
      else if (type !== resolved) problems.push(`${where}: datasource type ${String(type)} differs from ${uid}'s type ${resolved}`);
    } else if (expected === undefined) {
      problems.push(
        `${where}: datasource uid "${uid}" is neither a datasource variable nor a provisioned uid (${Object.keys(PROVISIONED_DATASOURCES).join(", ")})`,
      );
    } else if (type !== expected) {
      problems.push(`${where}: datasource type ${String(type)} differs from the provisioned ${uid}'s type ${expected}`);
    }
  }
  return problems;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function gridPosOf(panel: JsonObject): Rect | undefined {
  const g = panel.gridPos;
  if (!isObject(g)) return undefined;
  const { x, y, w, h } = g;
  const ok = [x, y, w, h].every((n) => typeof n === "number" && Number.isInteger(n) && n >= 0);
  return ok ? { x: x as number, y: y as number, w: w as number, h: h as number } : undefined;
}

/** Panels: unique integer ids, a sane gridPos without overlaps, a core type, and explicit datasources and queries. */
export function panelProblems(dashboard: JsonObject): string[] {
  const problems: string[] = [];
  const ids = new Set<number>();
  const placed: { rect: Rect; where: string }[] = [];
  const visits = walkPanels(dashboard);
  if (visits.length === 0) problems.push("the dashboard has no panels");
  for (const { panel, where, nested } of visits) {
    if (typeof panel.id !== "number" || !Number.isInteger(panel.id)) problems.push(`${where}: id must be an integer`);
    else if (ids.has(panel.id)) problems.push(`${where}: duplicate panel id ${panel.id}`);
    else ids.add(panel.id);
    const type = asString(panel.type);
    if (type === undefined || !CORE_PANEL_TYPES.has(type))
      problems.push(`${where}: panel type ${String(type)} is not a core Grafana 12 panel`);
    if (type !== "row" && !asString(panel.title)) problems.push(`${where}: title is missing`);
    const rect = gridPosOf(panel);
    if (!rect) problems.push(`${where}: gridPos { x, y, w, h } is missing or not made of non-negative integers`);
    else {
      if (rect.w < 1 || rect.h < 1 || rect.x + rect.w > 24)
        problems.push(`${where}: gridPos ${JSON.stringify(rect)} does not fit the 24-column grid`);
      // Panels inside a collapsed row are laid out when it opens; only the visible grid must not overlap.
      if (!nested) {
        const hit = placed.find(
          (o) => rect.x < o.rect.x + o.rect.w && o.rect.x < rect.x + rect.w && rect.y < o.rect.y + o.rect.h && o.rect.y < rect.y + rect.h,
        );
        if (hit) problems.push(`${where}: overlaps ${hit.where}`);
        placed.push({ rect, where });
      }
    }
    if (type === "row" || type === "text") continue;
    if (!("datasource" in panel)) problems.push(`${where}: panel has no datasource`);
    const targets = asArray(panel.targets);
    if (targets.length === 0) problems.push(`${where}: panel has no targets`);
    const refIds = new Set<string>();
    targets.forEach((item, index) => {
      const target = isObject(item) ? item : {};
      const refId = asString(target.refId);
      if (!refId) problems.push(`${where} target #${index}: refId is missing`);
      else if (refIds.has(refId)) problems.push(`${where}: duplicate refId ${refId}`);
      else refIds.add(refId);
      if (!("datasource" in target)) problems.push(`${where} target ${refId ?? `#${index}`}: target has no datasource`);
    });
  }
  return problems;
}

/** Every PromQL and LogQL expression parses after variable substitution, uses only defined variables, and (PromQL) only known metrics. */
export function queryProblems(dashboard: JsonObject, ctx: CheckContext = {}): string[] {
  const { queries, problems } = dashboardQueries(dashboard);
  const variables = new Set(templateVariables(dashboard).map((v) => v.name));
  for (const { where, language, expr } of queries) {
    const { expr: substituted, unknown } = substituteVariables(expr, variables);
    for (const name of unknown)
      problems.push(`${where}: uses $${name}, which is neither a variable of this dashboard nor a Grafana built-in`);
    const problem = language === "promql" ? promqlProblem(substituted) : logqlProblem(substituted);
    if (problem) {
      problems.push(`${where}: ${language === "promql" ? "PromQL" : "LogQL"} does not parse at ${problem.at}: ${substituted}`);
      continue;
    }
    if (language === "promql" && ctx.knownMetric) {
      for (const name of promqlMetricNames(substituted)) {
        if (!ctx.knownMetric(name)) problems.push(`${where}: metric ${name} is in no catalog/ file and no recording rule`);
      }
    }
  }
  return problems;
}

/** All the checks of one dashboard object. */
export function dashboardProblems(dashboard: unknown, ctx: CheckContext = {}): string[] {
  if (!isObject(dashboard)) return ["the dashboard is not a JSON object"];
  return [
    ...structureProblems(dashboard, ctx),
    ...variableProblems(dashboard),
    ...datasourceProblems(dashboard),
    ...panelProblems(dashboard),
    ...queryProblems(dashboard, ctx),
  ];
}

/** Checks across files: known folders and file names, unique uids and titles, each file small enough for a ConfigMap. */
export function dashboardSetProblems(files: readonly DashboardFile[]): string[] {
  const problems: string[] = [];
  const uids = new Map<string, string>();
  const titles = new Map<string, string>();
  for (const file of files) {
    if (!(DASHBOARD_FOLDERS as readonly string[]).includes(file.folder)) {
      problems.push(`${file.relPath}: folder "${file.folder}" is not one of ${DASHBOARD_FOLDERS.join(", ")}`);
    }
    if (!FILE_NAME_PATTERN.test(file.name)) problems.push(`${file.relPath}: file name is not kebab-case .json`);
    const bytes = Buffer.byteLength(file.text);
    if (bytes > DASHBOARD_BYTES_LIMIT)
      problems.push(`${file.relPath}: ${bytes} bytes, more than ${DASHBOARD_BYTES_LIMIT} (a ConfigMap holds 1 MiB)`);
    const uid = asString(file.dashboard?.uid);
    if (uid !== undefined) {
      const other = uids.get(uid);
      if (other) problems.push(`${file.relPath}: uid ${uid} is already used by ${other}`);
      else uids.set(uid, file.relPath);
    }
    const title = asString(file.dashboard?.title);
    if (title !== undefined) {
      const other = titles.get(title);
      if (other) problems.push(`${file.relPath}: title "${title}" is already used by ${other}`);
      else titles.set(title, file.relPath);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Known metrics

/** Names recorded by the `record:` rules of rules/*.yml and rules/*.yaml. */
export function recordedMetrics(dir: string = RULES_DIR): Set<string> {
  const names = new Set<string>();
  if (!fs.existsSync(dir)) return names;
  for (const file of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    const doc: unknown = parseYaml(fs.readFileSync(path.join(dir, file), "utf8"));
    for (const group of asArray(isObject(doc) ? doc.groups : undefined)) {
      for (const rule of asArray(isObject(group) ? group.rules : undefined)) {
        const record = isObject(rule) ? asString(rule.record) : undefined;
        if (record) names.add(record);
      }
    }
  }
  return names;
}

/** The metrics a dashboard may use: the catalogue (catalog/*.txt) and the recording rules. */
export function knownMetrics(): Set<string> {
  return new Set([...loadCatalog().keys(), ...recordedMetrics()]);
}
