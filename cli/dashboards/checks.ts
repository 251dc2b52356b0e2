/** What is checked of a dashboard, and of the set of them: each check returns problems (strings naming file, panel and query) instead of throwing. */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { loadCatalog } from "../catalog";
import { logqlProblem, promqlMetricNames, promqlProblem } from "../promql";
import { variableNameOfUid, CORE_PANEL_TYPES, DASHBOARD_BYTES_LIMIT, DASHBOARD_FOLDERS, DATASOURCE_VARIABLES, DashboardFile, JsonObject, PROVISIONED_DATASOURCES, RULES_DIR, SCHEMA_VERSION, SHARED_TAG, asArray, asString, datasourceRefs, isObject, resolveDatasourceType, templateVariables, walkPanels } from "./files";
import { dashboardQueries, substituteVariables } from "./queries";

const UID_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const UID_MAX_LENGTH = 40;
const FILE_NAME_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*\.json$/;
const EXPORT_CRUFT = ["__inputs", "__requires", "__elements"];
const MIN_REFRESH_SECONDS = 10;

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

/**
 * What `npm run check` asks of a team's dashboard (cli/team-check.ts), beyond what the
 * program refuses at preview: errors, its datasources and queries; warnings, its panels.
 */
export function teamDashboardCheck(dashboard: unknown): { errors: string[]; warnings: string[] } {
  if (!isObject(dashboard)) return { errors: [], warnings: [] };
  return { errors: [...datasourceProblems(dashboard), ...queryProblems(dashboard)], warnings: panelProblems(dashboard) };
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
