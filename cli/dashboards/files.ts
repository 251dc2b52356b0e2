/**
 * Grafana dashboards under dashboards/<folder>/<name>.json: loading and walking them (their queries in
 * queries.ts, what is checked of them in checks.ts).
 *
 * Loading (`loadDashboards`, `dashboardsByFolder`) is plain fs work with no test framework in it,
 * so the Grafana component can ship the same files (one ConfigMap per folder). The checks return
 * lists of problems (strings naming the file, panel and query) instead of throwing, so a test can
 * assert both that the real dashboards have none and that a broken dashboard is reported.
 */
import * as fs from "fs";
import * as path from "path";

export const DASHBOARDS_DIR = path.join(__dirname, "..", "..", "dashboards");
export const RULES_DIR = path.join(__dirname, "..", "..", "rules");

/** Each folder becomes a Grafana folder of the same name. */
export const DASHBOARD_FOLDERS = ["applications", "infrastructure", "databases", "logs", "monitoring"] as const;
/** Tag carried by every dashboard (the folder name is the second, area tag). */
export const SHARED_TAG = "monitoring-stack";
/** Dashboard schema written by Grafana 12.1. */
export const SCHEMA_VERSION = 41;
/**
 * Datasources provisioned by the Grafana component with fixed uids: uid -> plugin type
 * (components/grafana/provisioning.ts; `loki` only with Loki, `traces` only with tracing).
 */
export const PROVISIONED_DATASOURCES: Readonly<Record<string, string>> = {
  prometheus: "prometheus",
  loki: "loki",
  alertmanager: "alertmanager",
  traces: "jaeger",
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


export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
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
export function variableNameOfUid(uid: string): string | undefined {
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
