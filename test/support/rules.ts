import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { RUNBOOK_PATH } from "../../components/prometheus/rules/rule-files";

/**
 * Loaders for the Prometheus rule files under rules/ and their promtool unit tests
 * under test/rules/, typed, with the file each rule comes from. They check the
 * shape they rely on and throw with the file's name otherwise; promtool remains
 * the judge of everything else.
 */
export const RULES_DIR = path.join(__dirname, "..", "..", "rules");
export const RULE_TESTS_DIR = path.join(__dirname, "..", "rules");
export const RUNBOOKS_FILE = path.join(__dirname, "..", "..", "docs", "runbooks.md");

/**
 * Where every alert's `runbook` annotation points in rules/: this repository's
 * docs/runbooks.md (the Prometheus component adds a `runbook_url` link beside it when
 * `prometheus.runbookBaseUrl` is set).
 */
export { RUNBOOK_PATH };

/** The runbook an alert must name: docs/runbooks.md and the GitHub anchor of its `## Name` section. */
export function runbookRef(alertName: string): string {
  return `${RUNBOOK_PATH}#${alertName.toLowerCase()}`;
}

interface RuleCommon {
  expr: string;
  labels: Record<string, string>;
  /** Base name of the rule file, e.g. "nodes.yml". */
  file: string;
  group: string;
}

export interface AlertRule extends RuleCommon {
  kind: "alert";
  alert: string;
  /** The `for` duration as written, e.g. "5m"; undefined when absent. */
  for?: string;
  annotations: Record<string, string>;
}

export interface RecordingRule extends RuleCommon {
  kind: "record";
  record: string;
}

export type Rule = AlertRule | RecordingRule;

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export interface RuleFile {
  /** Base name, e.g. "nodes.yml". */
  file: string;
  /** Absolute path. */
  path: string;
  groups: RuleGroup[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(where: string, what: string): never {
  throw new Error(`${where}: ${what}`);
}

function obj(v: unknown, where: string): Obj {
  return isObj(v) ? v : fail(where, "expected a mapping");
}

function list(v: unknown, where: string): unknown[] {
  return Array.isArray(v) ? v : fail(where, "expected a list");
}

function str(v: unknown, where: string): string {
  return typeof v === "string" ? v : fail(where, `expected a string, got ${JSON.stringify(v)}`);
}

function optStr(v: unknown, where: string): string | undefined {
  return v === undefined ? undefined : str(v, where);
}

/** A map of strings; label values must be quoted strings in YAML (Prometheus reads `true` as a bool). */
function strMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v, where))) out[k] = str(val, `${where}.${k}`);
  return out;
}

function parseYamlFile(file: string): unknown {
  return YAML.parse(fs.readFileSync(file, "utf8"));
}

/** The rule files' absolute paths, sorted. */
export function ruleFilePaths(dir: string = RULES_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
    .sort()
    .map((f) => path.join(dir, f));
}

function toRule(raw: unknown, file: string, group: string, where: string): Rule {
  const r = obj(raw, where);
  const common = { expr: str(r.expr, `${where}.expr`), labels: strMap(r.labels, `${where}.labels`), file, group };
  if (typeof r.alert === "string") {
    return {
      kind: "alert",
      alert: r.alert,
      for: optStr(r.for, `${where}.for`),
      annotations: strMap(r.annotations, `${where}.annotations`),
      ...common,
    };
  }
  return { kind: "record", record: str(r.record, `${where}.record`), ...common };
}

/** Parses one rule file (Prometheus' `groups:` format). */
export function loadRuleFile(filePath: string): RuleFile {
  const file = path.basename(filePath);
  const doc = obj(parseYamlFile(filePath), file);
  const groups = list(doc.groups, `${file}: groups`).map((g, i) => {
    const gw = `${file}: groups[${i}]`;
    const go = obj(g, gw);
    const name = str(go.name, `${gw}.name`);
    return {
      name,
      interval: optStr(go.interval, `${gw}.interval`),
      rules: list(go.rules, `${gw}.rules`).map((r, j) => toRule(r, file, name, `${gw}.rules[${j}]`)),
    };
  });
  return { file, path: filePath, groups };
}

/** Every rule file under rules/ (or `dir`), parsed. */
export function loadRuleFiles(dir: string = RULES_DIR): RuleFile[] {
  return ruleFilePaths(dir).map(loadRuleFile);
}

/** All rules of the given files, in file and group order. */
export function allRules(files: RuleFile[] = loadRuleFiles()): Rule[] {
  return files.flatMap((f) => f.groups.flatMap((g) => g.rules));
}

export function alertRules(files: RuleFile[] = loadRuleFiles()): AlertRule[] {
  return allRules(files).filter((r): r is AlertRule => r.kind === "alert");
}

export function recordingRules(files: RuleFile[] = loadRuleFiles()): RecordingRule[] {
  return allRules(files).filter((r): r is RecordingRule => r.kind === "record");
}

/** Names of the series the rules record. */
export function recordedMetricNames(files: RuleFile[] = loadRuleFiles()): Set<string> {
  return new Set(recordingRules(files).map((r) => r.record));
}

/** A Prometheus duration ("1h30m", "90s", "1d") in milliseconds. */
export function parseDuration(d: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
  const re = /(\d+)(ms|s|m|h|d|w|y)/g;
  let total = 0;
  let consumed = 0;
  for (const m of d.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * units[m[2]];
    consumed += m[0].length;
  }
  if (d.length === 0 || consumed !== d.length) throw new Error(`not a Prometheus duration: ${JSON.stringify(d)}`);
  return total;
}

// ---------------------------------------------------------------------------
// promtool unit tests

export interface ExpectedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface AlertTestCase {
  /** Evaluation time in milliseconds from the start of the test. */
  evalTime: number;
  alertname: string;
  /** Empty: the alert must not be firing at evalTime. */
  expAlerts: ExpectedAlert[];
}

export interface RuleTestGroup {
  /** Index of the group in its file, for messages. */
  index: number;
  alertTests: AlertTestCase[];
}

export interface RuleTestFile {
  /** Base name, e.g. "nodes.test.yml". */
  file: string;
  path: string;
  /** The rule files it loads, resolved to absolute paths. */
  ruleFiles: string[];
  /** evaluation_interval in milliseconds (promtool's default is 1m). */
  evaluationInterval: number;
  tests: RuleTestGroup[];
}

/** The promtool unit-test files' absolute paths, sorted. */
export function ruleTestFilePaths(dir: string = RULE_TESTS_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".test.yml"))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Parses one promtool unit-test file (the parts the checks need: alert tests). */
export function loadRuleTestFile(filePath: string): RuleTestFile {
  const file = path.basename(filePath);
  const doc = obj(parseYamlFile(filePath), file);
  const ruleFiles = list(doc.rule_files, `${file}: rule_files`).map((r, i) =>
    path.resolve(path.dirname(filePath), str(r, `${file}: rule_files[${i}]`)),
  );
  const interval = optStr(doc.evaluation_interval, `${file}: evaluation_interval`);
  const tests = list(doc.tests, `${file}: tests`).map((t, index) => {
    const tw = `${file}: tests[${index}]`;
    const to = obj(t, tw);
    const raw = to.alert_rule_test === undefined ? [] : list(to.alert_rule_test, `${tw}.alert_rule_test`);
    const alertTests = raw.map((a, j) => {
      const aw = `${tw}.alert_rule_test[${j}]`;
      const ao = obj(a, aw);
      const exp = ao.exp_alerts === undefined || ao.exp_alerts === null ? [] : list(ao.exp_alerts, `${aw}.exp_alerts`);
      return {
        evalTime: parseDuration(str(ao.eval_time, `${aw}.eval_time`)),
        alertname: str(ao.alertname, `${aw}.alertname`),
        expAlerts: exp.map((e, k) => {
          const eo = obj(e, `${aw}.exp_alerts[${k}]`);
          return {
            labels: strMap(eo.exp_labels, `${aw}.exp_alerts[${k}].exp_labels`),
            annotations: strMap(eo.exp_annotations, `${aw}.exp_alerts[${k}].exp_annotations`),
          };
        }),
      };
    });
    return { index, alertTests };
  });
  return { file, path: filePath, ruleFiles, evaluationInterval: interval ? parseDuration(interval) : 60_000, tests };
}

/** Every promtool unit-test file under test/rules/ (or `dir`), parsed. */
export function loadRuleTestFiles(dir: string = RULE_TESTS_DIR): RuleTestFile[] {
  return ruleTestFilePaths(dir).map(loadRuleTestFile);
}

/** Whether an expected alert belongs to a rule: same static labels (severity, windows...). */
export function expectedAlertMatchesRule(exp: ExpectedAlert, rule: AlertRule): boolean {
  return Object.entries(rule.labels).every(([k, v]) => exp.labels[k] === v);
}

/** `## Name` headings of docs/runbooks.md. */
export function runbookSections(file: string = RUNBOOKS_FILE): Set<string> {
  const text = fs.readFileSync(file, "utf8");
  return new Set([...text.matchAll(/^## +(\S+) *$/gm)].map((m) => m[1]));
}
