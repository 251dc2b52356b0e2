/** The dashboards Grafana ships: read from the repository's (and the team's) folders, packed into ConfigMaps. */
import * as fs from "fs";
import * as path from "path";
import { jsonError } from "../kit/file-errors";

/** Kubernetes refuses objects over 1 MiB (etcd's request limit, enforced on ConfigMap data). */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;

/** Room left for the rest of a dashboards ConfigMap: metadata, labels, the managed-fields entry of each key. */
export const CONFIGMAP_METADATA_MARGIN = 64 * 1024;

/** What the data of one dashboards ConfigMap may weigh, serialised. */
export const CONFIGMAP_DATA_BUDGET = CONFIGMAP_MAX_BYTES - CONFIGMAP_METADATA_MARGIN;

/** The repository's dashboards, read when the program runs. */
export const DEFAULT_DASHBOARDS_DIR = path.resolve(__dirname, "..", "..", "dashboards");

/** One dashboard file. */
export interface DashboardFile {
  /** Its directory under dashboards/: the Grafana folder. */
  folder: string;
  /** File name, e.g. node.json. */
  file: string;
  /** Where it comes from, for error messages, e.g. dashboards/infrastructure/node.json. */
  source: string;
  /** The file's text, shipped as is. */
  content: string;
}

/** One dashboards ConfigMap to create. */
export interface DashboardConfigMapPlan {
  folder: string;
  /** grafana-dashboards-<folder>-<n>, n from 1. */
  name: string;
  /** ConfigMap key (`<folder>__<file>`) to dashboard JSON. */
  data: Record<string, string>;
}

const NAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/**
 * Reads every `<dir>/<folder>/*.json`. A JSON file outside a folder, a nested
 * folder or a file that is not JSON would not reach Grafana, so each is an error.
 */
export function readDashboards(dir: string = DEFAULT_DASHBOARDS_DIR, shownAs: string = path.basename(dir)): DashboardFile[] {
  if (!fs.existsSync(dir)) return [];
  const shown = (...parts: string[]) => path.join(shownAs, ...parts);
  const found: DashboardFile[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isFile() && entry.name.endsWith(".json")) {
      throw new Error(
        `${shown(entry.name)}: dashboards live in a folder (dashboards/<folder>/<file>.json), which becomes their Grafana folder`,
      );
    }
    if (!entry.isDirectory()) continue;
    const folder = entry.name;
    for (const child of fs.readdirSync(path.join(dir, folder), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (child.isDirectory())
        throw new Error(`${shown(folder, child.name)}: nested folders are not supported; keep dashboards one level deep`);
      if (!child.isFile() || !child.name.endsWith(".json")) continue;
      const source = shown(folder, child.name);
      const content = fs.readFileSync(path.join(dir, folder, child.name), "utf8");
      let parsed: unknown;
      try {
        parsed = JSON.parse(content);
      } catch (err) {
        throw new Error(`${source} ${jsonError(content, err)}`);
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error(`${source} must hold one dashboard object`);
      found.push({ folder, file: child.name, source, content });
    }
  }
  return found;
}

type Json = { [key: string]: unknown };
const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The dashboards without those of the given uids, and without the links of the others that
 * point to them (`/d/<uid>...`: dashboard links and panel, field and override links), so that
 * none leads to a dashboard that is not there. A dashboard whose links change is written back
 * as the repository writes dashboards (two-space indentation, final newline); the others are
 * shipped byte for byte.
 */
export function withoutDashboards(dashboards: DashboardFile[], uids: readonly string[]): DashboardFile[] {
  if (uids.length === 0) return dashboards;
  // The uid a link opens: /d/<uid>, then /<slug>, ?<query> or #<anchor>, or nothing.
  const opens = (url: string) => /^\/d\/([^/?#]+)/.exec(url)?.[1];
  const dangling = (link: unknown) => isJson(link) && typeof link.url === "string" && uids.includes(opens(link.url) ?? "");
  let removed = 0;
  const prune = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(prune);
    if (!isJson(value)) return value;
    const out: Json = {};
    for (const [key, child] of Object.entries(value)) {
      // A panel's, a field's or the dashboard's links, or a field override's ({ id: "links", value: [...] }).
      if (Array.isArray(child) && (key === "links" || (key === "value" && value.id === "links"))) {
        const kept = child.filter((link) => !dangling(link));
        removed += child.length - kept.length;
        out[key] = kept.map(prune);
      } else out[key] = prune(child);
    }
    return out;
  };
  return dashboards.flatMap((d) => {
    const dashboard = JSON.parse(d.content) as Json;
    if (uids.includes(String(dashboard.uid))) return [];
    if (!mayName(d.content, uids)) return [d];
    removed = 0;
    const pruned = prune(dashboard);
    return [removed === 0 ? d : { ...d, content: `${JSON.stringify(pruned, null, 2)}\n` }];
  });
}

/**
 * Whether a dashboard's JSON text may name one of these uids: it holds one as it is, or holds an escape
 * (`\u0061`, `\/`) that could spell one otherwise. A text that cannot name any is left unparsed.
 */
function mayName(content: string, uids: readonly string[]): boolean {
  return /\\[u/]/.test(content) || uids.some((uid) => content.includes(uid));
}

/** A row of a dashboard, by the dashboard's uid and the row's title. */
export interface DashboardRow {
  dashboard: string;
  row: string;
}

type Panel = Json & { type?: string; title?: string; gridPos?: { x: number; y: number; w: number; h: number } };

/**
 * The dashboards without the given rows: each row panel and the panels below it up to the next
 * row, the panels further down moved up by the height they took. A dashboard that changes is
 * written back as the repository writes dashboards; the others are shipped byte for byte.
 */
export function withoutRows(dashboards: DashboardFile[], rows: readonly DashboardRow[]): DashboardFile[] {
  if (rows.length === 0) return dashboards;
  const uids = [...new Set(rows.map((r) => r.dashboard))];
  return dashboards.map((d) => {
    if (!mayName(d.content, uids)) return d;
    const dashboard = JSON.parse(d.content) as Json & { panels?: Panel[] };
    const titles = rows.filter((r) => r.dashboard === dashboard.uid).map((r) => r.row);
    const panels = dashboard.panels ?? [];
    const starts = panels.flatMap((p, i) => (p.type === "row" && titles.includes(p.title ?? "") ? [i] : []));
    if (starts.length === 0) return d;
    const drop = new Set<number>();
    for (const start of starts) {
      const next = panels.findIndex((p, i) => i > start && p.type === "row");
      const end = next < 0 ? panels.length : next;
      const top = panels[start].gridPos?.y ?? 0;
      const bottom = Math.max(...panels.slice(start, end).map((p) => (p.gridPos?.y ?? 0) + (p.gridPos?.h ?? 0)));
      for (let i = start; i < end; i++) drop.add(i);
      for (const p of panels.slice(end)) if (p.gridPos && p.gridPos.y >= bottom) p.gridPos.y -= bottom - top;
    }
    dashboard.panels = panels.filter((_, i) => !drop.has(i));
    return { ...d, content: `${JSON.stringify(dashboard, null, 2)}\n` };
  });
}

/** A folder name as it appears in Kubernetes names: lower case, `.` and `_` as `-`. */
export function folderSlug(folder: string): string {
  return folder.toLowerCase().replace(/[._]/g, "-");
}

/** The ConfigMap key of a dashboard; the file is named so in the container. */
export function dashboardKey(d: Pick<DashboardFile, "folder" | "file">): string {
  return `${d.folder}__${d.file}`;
}

/** Bytes a dashboard adds to a ConfigMap's serialised data: `"key":"escaped json",`. */
export function dashboardEntryBytes(key: string, content: string): number {
  return Buffer.byteLength(JSON.stringify(key), "utf8") + Buffer.byteLength(JSON.stringify(content), "utf8") + 2;
}

/** Why a folder name cannot be a dashboards folder (it names a Grafana folder, a volume and ConfigMaps), or undefined. */
export function dashboardFolderProblem(folder: string): string | undefined {
  if (!NAME_PATTERN.test(folder)) return `folder name "${folder}" may hold only letters, digits, '.', '_' and '-'`;
  // The folder's volume is named dashboards-<slug>: a DNS label of at most 63 characters.
  if (`dashboards-${folderSlug(folder)}`.length > 63) return `folder name "${folder}" is too long (at most 52 characters)`;
  return undefined;
}

/** Whether a file name can be a dashboard's (a ConfigMap key and the file's name in the container). */
export function isDashboardFileName(file: string): boolean {
  return NAME_PATTERN.test(file) && file.endsWith(".json");
}

function checkNames(dashboards: DashboardFile[]): void {
  const slugs = new Map<string, string>();
  const keys = new Set<string>();
  for (const d of dashboards) {
    const folderProblem = dashboardFolderProblem(d.folder);
    if (folderProblem) throw new Error(`${d.source}: ${folderProblem}`);
    if (!isDashboardFileName(d.file)) {
      throw new Error(`${d.source}: file name "${d.file}" may hold only letters, digits, '.', '_' and '-', and ends in .json`);
    }
    const slug = folderSlug(d.folder);
    const other = slugs.get(slug);
    if (other !== undefined && other !== d.folder)
      throw new Error(`folders "${other}" and "${d.folder}" differ only in case or punctuation; rename one`);
    slugs.set(slug, d.folder);
    const key = dashboardKey(d);
    if (key.length > 253) throw new Error(`${d.source}: folder and file names together are too long for a ConfigMap key (253 characters)`);
    if (keys.has(key)) throw new Error(`${d.source} is listed twice`);
    keys.add(key);
  }
}

/**
 * Packs each folder's dashboards into as few ConfigMaps as fit the budget: first
 * fit, largest first, so the result depends only on the files. A dashboard that
 * alone exceeds the budget is an error naming its file.
 */
export function planDashboardConfigMaps(
  dashboards: DashboardFile[],
  budgetBytes: number = CONFIGMAP_DATA_BUDGET,
): DashboardConfigMapPlan[] {
  checkNames(dashboards);
  const folders = [...new Set(dashboards.map((d) => d.folder))].sort((a, b) => a.localeCompare(b));
  const plans: DashboardConfigMapPlan[] = [];
  for (const folder of folders) {
    const entries = dashboards
      .filter((d) => d.folder === folder)
      .map((d) => ({ d, key: dashboardKey(d), bytes: dashboardEntryBytes(dashboardKey(d), d.content) }))
      .sort((a, b) => b.bytes - a.bytes || a.key.localeCompare(b.key));
    const bins: Array<{ used: number; items: typeof entries }> = [];
    for (const entry of entries) {
      if (entry.bytes > budgetBytes) {
        throw new Error(
          `${entry.d.source} weighs ${entry.bytes} bytes serialised, more than one ConfigMap holds (${budgetBytes} bytes): split or slim the dashboard`,
        );
      }
      let bin = bins.find((b) => b.used + entry.bytes <= budgetBytes);
      if (!bin) {
        bin = { used: 0, items: [] };
        bins.push(bin);
      }
      bin.used += entry.bytes;
      bin.items.push(entry);
    }
    bins.forEach((bin, i) => {
      const items = [...bin.items].sort((a, b) => a.key.localeCompare(b.key));
      plans.push({
        folder,
        name: `grafana-dashboards-${folderSlug(folder)}-${i + 1}`,
        data: Object.fromEntries(items.map((item) => [item.key, item.d.content])),
      });
    });
  }
  return plans;
}

/** The dashboards that take an `environment` variable when Grafana reads a central store (grafana.central): the apps' views. */
export const ENVIRONMENT_DASHBOARDS = ["app-overview", "app-slo", "uptime"] as const;

/** The matcher every selector of those dashboards gains: every environment the variable selects (All: any, or none). */
const ENVIRONMENT_MATCHER = 'environment=~"$environment"';

/**
 * A PromQL expression whose every selector with braces (`metric{...}`, `{...}` after a name) also matches the selected
 * environments, and whose `label_values(metric, label)` does too. A bare metric name without braces is left as it is.
 */
export function withEnvironmentMatcher(expr: string): string {
  return expr
    .replace(/([A-Za-z_:][A-Za-z0-9_:]*)\{/g, `$1{${ENVIRONMENT_MATCHER}, `)
    .replace(/label_values\(([A-Za-z_:][A-Za-z0-9_:]*)\s*,/g, `label_values($1{${ENVIRONMENT_MATCHER}},`)
    .replace(/, \}/g, "}");
}

/**
 * The dashboards with an `environment` variable (after `datasource`: the environments of the chosen datasource's `up`
 * series, several at once, All by default) and every PromQL query of theirs, panels' and variables', filtered by it, so
 * that a Grafana reading a store that several stacks write to (each series with its `environment` external label) shows
 * one environment or several. Against the stack's own Prometheus, whose series carry no `environment` (Prometheus adds
 * external labels only as series leave), All matches every series. The other dashboards are shipped byte for byte.
 */
export function withEnvironment(dashboards: DashboardFile[], uids: readonly string[] = ENVIRONMENT_DASHBOARDS): DashboardFile[] {
  const variable = {
    name: "environment",
    label: "Environment",
    type: "query",
    datasource: { type: "prometheus", uid: "${datasource}" },
    definition: "label_values(up, environment)",
    query: { qryType: 1, query: "label_values(up, environment)", refId: "PrometheusVariableQueryEditor-VariableQuery" },
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: ".*",
    current: { selected: true, text: ["All"], value: ["$__all"] },
    sort: 1,
    hide: 0,
  };
  const rewrite = (value: unknown, key?: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => rewrite(v));
    if (isJson(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, k)]));
    return typeof value === "string" && (key === "expr" || key === "query" || key === "definition") ? withEnvironmentMatcher(value) : value;
  };
  return dashboards.map((d) => {
    const dashboard = JSON.parse(d.content) as Json & { templating?: { list?: Json[] } };
    if (!uids.includes(String(dashboard.uid))) return d;
    const out = rewrite(dashboard) as Json & { templating: { list: Json[] } };
    const list = out.templating.list;
    const at = list.findIndex((v) => v.name === "datasource");
    list.splice(at + 1, 0, variable);
    return { ...d, content: `${JSON.stringify(out, null, 2)}\n` };
  });
}
