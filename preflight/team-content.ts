/**
 * A team's own rules and dashboards: one directory of the project (`teamContent`, default
 * `team/`), shipped with the built-in ones.
 *
 *   <dir>/rules/*.yml               Prometheus rule files (alerting and recording rules)
 *   <dir>/rules/tests/*.yml         promtool unit tests of them (run by `npm run check`)
 *   <dir>/rules/logs/*.yml          LogQL alerting rules for Loki's ruler (same file shape; LogQL parsed by `npm run check`)
 *   <dir>/dashboards/<folder>/*.json Grafana dashboards; each folder a Grafana folder
 *
 * The program reads it before any resource exists and refuses, naming the file, what
 * Prometheus or Grafana would refuse or silently drop: a file that does not parse, a rule
 * file of another shape, an alert or recording rule of the same name as a built-in one, a
 * dashboard without uid or title, or with the uid or title of another. Checks that need the
 * exact binaries (promtool) or the query parsers are `npm run check`'s (scripts/check.ts).
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ConfigError, ConfigProblem } from "../config";
import {
  CONFIGMAP_DATA_BUDGET,
  CONFIGMAP_MAX_BYTES,
  DEFAULT_DASHBOARDS_DIR,
  DashboardFile,
  dashboardEntryBytes,
  dashboardKey,
  readDashboards,
} from "../components/grafana/dashboards";
import type { TeamContent, TeamRuleFile } from "../components/stack/team";
import { DEFAULT_RULES_DIR } from "../components/prometheus/args";
import { durationSeconds } from "../components/kit/units";
import { DEFAULT_LOKI_RULES_DIR, teamLogRuleKey } from "../components/loki/rules";
import { yamlErrors } from "../components/kit/file-errors";

/** The directory read when `teamContent` is not set; absent, the stack has no content of its own. */
export const TEAM_CONTENT_DEFAULT = "team";
/**
 * The project's tests set this to the project's directory (jest.config.js): there the program
 * leaves a team's directory (`team/`, or the one `teamContent` names) unread, but for the
 * project's own (under test/ and examples/, or outside the project: a test's scratch directory), so that the tests run on the shipped content and a
 * team's own never makes them fail. A render,
 * `pulumi preview`/`up` and `npm run check`, which do not set it, read it and hold it to the same
 * budgets as the shipped content (teamDashboardProblems).
 */
export const SHIPPED_CONTENT_ONLY_ENV = "MONITORING_SHIPPED_CONTENT_ONLY";
/** The folders of the project whose team directories are its own content (the tests' fixtures, the examples), read under its tests all the same. */
const PROJECT_TEAM_FOLDERS = ["test", "examples"];

/** Whether `dir` is a team's own directory of the project whose tests are running (SHIPPED_CONTENT_ONLY_ENV), which they leave unread. */
function leftUnreadByTests(root: string, dir: string): boolean {
  const project = process.env[SHIPPED_CONTENT_ONLY_ENV];
  if (!project || path.resolve(project) !== path.resolve(root)) return false;
  const relative = path.relative(path.resolve(root), dir);
  // A directory outside the project (a test's scratch directory) is the test's own content.
  if (relative.startsWith("..") || path.isAbsolute(relative)) return false;
  return !PROJECT_TEAM_FOLDERS.some((folder) => relative === folder || relative.startsWith(`${folder}${path.sep}`));
}

/** What a team directory may hold. */
export const TEAM_CONTENT_PARTS = ["rules", "dashboards"] as const;
/** The ConfigMap key of a team rule file: `team.<name>.yml`, apart from the built-in and generated ones. */
export const teamRuleKey = (file: string): string => `team.${file.replace(/\.ya?ml$/, "")}.yml`;

const RULE_FILE_NAME = /^[A-Za-z0-9][-A-Za-z0-9_.]*\.ya?ml$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const DASHBOARD_UID = /^[A-Za-z0-9_-]{1,40}$/;
// What Prometheus' rule file format takes, field by field: it refuses any other.
const FILE_KEYS = ["groups"];
const GROUP_KEYS = ["name", "interval", "query_offset", "limit", "rules", "labels"];
const RULE_KEYS = ["alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"];

/** Names the team's content may not take: the built-in alerts, recording rules and dashboards. */
export interface BuiltinNames {
  /** Alert name to the built-in file that defines it. */
  alerts: Map<string, string>;
  /** Recorded metric name to the built-in file that records it. */
  records: Map<string, string>;
  dashboards: DashboardFile[];
}

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const describe = (v: unknown): string => (Array.isArray(v) ? "a list" : v === null ? "nothing" : isMap(v) ? "a map" : JSON.stringify(v));

/** The alerts and recorded metrics a parsed rule file names (groups[].rules[].alert and .record), in order. */
export function ruleNamesOf(doc: unknown): { alerts: string[]; records: string[] } {
  const names = { alerts: [] as string[], records: [] as string[] };
  for (const group of isMap(doc) && Array.isArray(doc.groups) ? doc.groups : []) {
    for (const rule of isMap(group) && Array.isArray(group.rules) ? group.rules : []) {
      if (!isMap(rule)) continue;
      if (typeof rule.alert === "string") names.alerts.push(rule.alert);
      if (typeof rule.record === "string") names.records.push(rule.record);
    }
  }
  return names;
}

/** Every alert and recorded metric of a directory of rule files (the built-in rules/). */
export function builtinNames(
  rulesDir: string = DEFAULT_RULES_DIR,
  dashboardsDir: string = DEFAULT_DASHBOARDS_DIR,
  logRulesDir: string = DEFAULT_LOKI_RULES_DIR,
): BuiltinNames {
  const alerts = new Map<string, string>();
  const records = new Map<string, string>();
  // Prometheus' rule files, then the shipped LogQL ones (rules/logs/): an alert name means one alert, whichever evaluates it.
  for (const [dir, shown] of [
    [rulesDir, "rules"],
    [logRulesDir, "rules/logs"],
  ] as const) {
    if (!fs.existsSync(dir)) continue;
    for (const file of fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()) {
      const names = ruleNamesOf(YAML.parse(fs.readFileSync(path.join(dir, file), "utf8")));
      for (const alert of names.alerts) alerts.set(alert, `${shown}/${file}`);
      for (const record of names.records) records.set(record, `${shown}/${file}`);
    }
  }
  return { alerts, records, dashboards: readDashboards(dashboardsDir) };
}

function unknownKeys(where: string, map: Json, allowed: readonly string[]): string[] {
  return Object.keys(map)
    .filter((k) => !allowed.includes(k))
    .map((k) => `${where}: unknown field "${k}" (Prometheus takes ${allowed.join(", ")})`);
}

function stringMapProblems(where: string, value: unknown, checkNames: boolean): string[] {
  if (value === undefined) return [];
  if (!isMap(value)) return [`${where} must be a map of names to text, not ${describe(value)}`];
  const problems: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (checkNames && !LABEL_NAME.test(k))
      problems.push(`${where}: "${k}" is not a label name (letters, digits and _, not starting with a digit)`);
    if (typeof v !== "string") problems.push(`${where}.${k} must be text, not ${describe(v)} (quote it)`);
  }
  return problems;
}

function durationProblem(where: string, value: unknown): string[] {
  if (value === undefined) return [];
  return typeof value === "string" && durationSeconds(value) !== undefined
    ? []
    : [`${where} must be a Prometheus duration such as 30s, 5m or 1h, not ${describe(value)}`];
}

/**
 * What Prometheus would refuse in a rule file, or what would clash with the built-in rules.
 * Expressions are not parsed here (promtool does it in `npm run check`).
 */
export function teamRuleFileProblems(
  text: string,
  builtin: Pick<BuiltinNames, "alerts" | "records">,
  ruler: "prometheus" | "loki" = "prometheus",
): string[] {
  const doc = YAML.parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return yamlErrors(doc);
  const root: unknown = doc.toJS();
  if (!isMap(root) || !Array.isArray(root.groups)) return ["must be a Prometheus rule file: a map with a list `groups:`"];
  const problems = unknownKeys("the file", root, FILE_KEYS);
  const groupNames = new Set<string>();
  root.groups.forEach((group: unknown, g: number) => {
    const at = `groups[${g}]`;
    if (!isMap(group)) {
      problems.push(`${at} must be a map with name and rules, not ${describe(group)}`);
      return;
    }
    problems.push(...unknownKeys(at, group, GROUP_KEYS));
    if (typeof group.name !== "string" || group.name.trim() === "") problems.push(`${at}: name is missing`);
    else if (groupNames.has(group.name)) problems.push(`${at}: the group name "${group.name}" is used twice in this file`);
    else groupNames.add(group.name);
    problems.push(...durationProblem(`${at}.interval`, group.interval), ...durationProblem(`${at}.query_offset`, group.query_offset));
    problems.push(...stringMapProblems(`${at}.labels`, group.labels, true));
    if (!Array.isArray(group.rules) || group.rules.length === 0) {
      problems.push(`${at}: rules must be a list of at least one rule`);
      return;
    }
    group.rules.forEach((rule: unknown, r: number) => {
      const where = `${at}.rules[${r}]`;
      if (!isMap(rule)) {
        problems.push(`${where} must be a map with alert or record, and expr, not ${describe(rule)}`);
        return;
      }
      problems.push(...unknownKeys(where, rule, RULE_KEYS));
      const { alert, record, expr } = rule;
      if (ruler === "loki") {
        // Loki's ruler writes recorded series only through a remote write, which the stack does not configure.
        if (record !== undefined) problems.push(`${where}: a LogQL rule file takes alerting rules only (alert, not record)`);
        else if (alert === undefined) problems.push(`${where}: alert is missing`);
      } else if ((alert === undefined) === (record === undefined)) problems.push(`${where}: give exactly one of alert and record`);
      if (typeof expr !== "string" && typeof expr !== "number") problems.push(`${where}: expr is missing`);
      else if (String(expr).trim() === "") problems.push(`${where}: expr is empty`);
      if (alert !== undefined) {
        if (typeof alert !== "string" || alert.trim() === "") problems.push(`${where}: alert must be a name`);
        else {
          const own = builtin.alerts.get(alert);
          if (own) {
            problems.push(
              `${where}: alert ${alert} is a built-in alert (${own}); name yours differently (thresholds of the built-in node alerts are config keys)`,
            );
          }
        }
        problems.push(...durationProblem(`${where}.for`, rule.for), ...durationProblem(`${where}.keep_firing_for`, rule.keep_firing_for));
        problems.push(...stringMapProblems(`${where}.annotations`, rule.annotations, false));
      }
      if (record !== undefined) {
        if (typeof record !== "string" || !METRIC_NAME.test(record)) {
          problems.push(`${where}: record must be a metric name (letters, digits, _ and :), not ${describe(record)}`);
        } else {
          const own = builtin.records.get(record);
          if (own) problems.push(`${where}: ${record} is already recorded by a built-in rule (${own}); record another name`);
        }
        for (const field of ["for", "keep_firing_for", "annotations"]) {
          if (field in rule) problems.push(`${where}: a recording rule takes no ${field}`);
        }
      }
      problems.push(...stringMapProblems(`${where}.labels`, rule.labels, true));
    });
  });
  return problems;
}

/** A dashboard's own problems: those Grafana's provisioning would trip on, or that would hide another dashboard. */
export function teamDashboardProblems(dashboard: DashboardFile, others: readonly DashboardFile[]): string[] {
  const parsed = JSON.parse(dashboard.content) as Json;
  const problems: string[] = [];
  const uid = parsed.uid;
  if (typeof uid !== "string" || uid === "") problems.push("uid is missing: give it a stable one, which its links and the export keep");
  else if (!DASHBOARD_UID.test(uid)) problems.push(`uid "${uid}" must be 1-40 letters, digits, _ and -`);
  if (typeof parsed.title !== "string" || parsed.title.trim() === "") problems.push("title is missing");
  // The folder's dashboards are packed into as many ConfigMaps as they need (components/grafana/dashboards.ts),
  // so a folder of any size fits; one dashboard must fit one ConfigMap on its own.
  const bytes = dashboardEntryBytes(dashboardKey(dashboard), dashboard.content);
  if (bytes > CONFIGMAP_DATA_BUDGET) {
    problems.push(
      `weighs ${bytes} bytes in a ConfigMap of folder ${dashboard.folder}, more than one ConfigMap carries ` +
        `(${CONFIGMAP_DATA_BUDGET} bytes of data, under Kubernetes' ${CONFIGMAP_MAX_BYTES}-byte limit on an object; ` +
        `the folder's other dashboards go into ConfigMaps of their own): shrink the dashboard (fewer panels, a repeated panel ` +
        `or row instead of copies) or split it into two dashboards`,
    );
  }
  if ("__inputs" in parsed || "__requires" in parsed) {
    problems.push(
      'is an export "for sharing externally" (__inputs): its datasources are ${DS_…} placeholders that nothing fills in; ' +
        "bring it in with npm run dashboard:import, which maps them onto the stack's datasources (or export it again without that option)",
    );
  }
  for (const other of others) {
    if (other === dashboard) continue;
    const o = JSON.parse(other.content) as Json;
    if (typeof uid === "string" && o.uid === uid) problems.push(`uid ${uid} is already the uid of ${other.source}`);
    if (typeof parsed.title === "string" && o.title === parsed.title && other.folder === dashboard.folder) {
      problems.push(`title "${parsed.title}" is already the title of ${other.source}, in the same folder`);
    }
    if (other.folder === dashboard.folder && other.file === dashboard.file) {
      problems.push(`${other.source} already ships a dashboard of this folder and file name`);
    }
  }
  return problems;
}

/**
 * Reads a team's directory. `configured` is the `teamContent` key as given (undefined: the
 * default, which may be absent). Every problem is a ConfigError naming the key and the file.
 * `given`: the names the team may not take (builtinNames() of the repository's when not given).
 */
export function readTeamContent(
  root: string,
  configured: string | undefined,
  given?: BuiltinNames,
  key = "monitoring:teamContent",
): TeamContent {
  const directory = configured ?? TEAM_CONTENT_DEFAULT;
  const absolute = path.resolve(root, directory);
  const empty: TeamContent = { directory, present: false, rules: [], logRules: [], dashboards: [], ruleTests: [] };
  const problems: ConfigProblem[] = [];
  const fail = (message: string) => problems.push({ key, message });
  if (!fs.existsSync(absolute)) {
    if (configured === undefined) return empty;
    throw new ConfigError([{ key, message: `the directory ${directory} does not exist (relative to ${root})` }]);
  }
  if (!fs.statSync(absolute).isDirectory()) throw new ConfigError([{ key, message: `${directory} is a file, not a directory` }]);
  if (leftUnreadByTests(root, absolute)) return empty;
  // Read only when there is team content to check: parsing the built-in rules costs 0.3 s of a render.
  const builtin = given ?? builtinNames();

  for (const entry of fs.readdirSync(absolute, { withFileTypes: true })) {
    if (entry.isDirectory() && !(TEAM_CONTENT_PARTS as readonly string[]).includes(entry.name)) {
      fail(`${directory}/${entry.name}: unknown folder; a team directory holds ${TEAM_CONTENT_PARTS.map((p) => `${p}/`).join(" and ")}`);
    }
  }

  const rules: TeamRuleFile[] = [];
  const logRules: TeamRuleFile[] = [];
  const ruleTests: string[] = [];
  const rulesDir = path.join(absolute, "rules");
  if (fs.existsSync(rulesDir)) {
    const keys = new Map<string, string>();
    for (const entry of fs.readdirSync(rulesDir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const source = `${directory}/rules/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name === "logs") logRules.push(...readLogRules(path.join(rulesDir, "logs"), `${directory}/rules/logs`, builtin, fail));
        else if (entry.name !== "tests") {
          fail(`${source}: unknown folder; rules/ holds rule files, tests/ (their promtool unit tests) and logs/ (LogQL rules for Loki)`);
        } else {
          for (const t of fs.readdirSync(path.join(rulesDir, "tests")).sort()) {
            if (/\.ya?ml$/.test(t)) ruleTests.push(`${directory}/rules/tests/${t}`);
          }
        }
        continue;
      }
      if (!/\.ya?ml$/.test(entry.name)) continue;
      if (!RULE_FILE_NAME.test(entry.name)) {
        fail(`${source}: a rule file's name may hold only letters, digits, '-', '_' and '.'`);
        continue;
      }
      const ruleKey = teamRuleKey(entry.name);
      const clash = keys.get(ruleKey);
      if (clash) {
        fail(`${source}: ${clash} has the same name but for its extension; rename one`);
        continue;
      }
      keys.set(ruleKey, source);
      const text = fs.readFileSync(path.join(rulesDir, entry.name), "utf8");
      const fileProblems = teamRuleFileProblems(text, builtin);
      for (const p of fileProblems) fail(`${source}: ${p}`);
      if (fileProblems.length === 0) rules.push({ key: ruleKey, source, text });
    }
  }

  let dashboards: DashboardFile[] = [];
  const dashboardsDir = path.join(absolute, "dashboards");
  if (fs.existsSync(dashboardsDir)) {
    try {
      dashboards = readDashboards(dashboardsDir, `${directory}/dashboards`);
    } catch (err) {
      fail((err as Error).message);
    }
    const all = [...builtin.dashboards, ...dashboards];
    for (const d of dashboards) for (const p of teamDashboardProblems(d, all)) fail(`${d.source}: ${p}`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return { directory, present: true, rules, logRules, dashboards, ruleTests };
}

/**
 * The LogQL rule files of a team's rules/logs/ (`shown`: that folder as messages name it): each one's
 * shape as teamRuleFileProblems checks it for Loki's ruler (alerting rules only), its problems passed
 * to `fail`. Its LogQL is parsed by `npm run check` (cli/team-check.ts).
 */
function readLogRules(dir: string, shown: string, builtin: BuiltinNames, fail: (message: string) => void): TeamRuleFile[] {
  const out: TeamRuleFile[] = [];
  const keys = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const source = `${shown}/${entry.name}`;
    if (entry.isDirectory()) {
      fail(`${source}: unknown folder; rules/logs/ holds LogQL rule files only`);
      continue;
    }
    if (!/\.ya?ml$/.test(entry.name)) continue;
    if (!RULE_FILE_NAME.test(entry.name)) {
      fail(`${source}: a rule file's name may hold only letters, digits, '-', '_' and '.'`);
      continue;
    }
    const key = teamLogRuleKey(entry.name);
    const clash = keys.get(key);
    if (clash) {
      fail(`${source}: ${clash} has the same name but for its extension; rename one`);
      continue;
    }
    keys.set(key, source);
    const text = fs.readFileSync(path.join(dir, entry.name), "utf8");
    const problems = teamRuleFileProblems(text, builtin, "loki");
    for (const p of problems) fail(`${source}: ${p}`);
    if (problems.length === 0) out.push({ key, source, text });
  }
  return out;
}
