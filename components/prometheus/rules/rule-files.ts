/**
 * The rule files Prometheus evaluates: the repository's and the team's, read and edited here (the
 * stack's thresholds and runbook links applied; a file that cannot be read or edited is refused),
 * the app contract's, the probes' and the databases'.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { appRuleRuns } from "./app-rules";
import type { ProbeSpec } from "../../kit/probes";
import { atLeastDuration, durationSeconds } from "../../kit/units";
import { yamlErrors } from "../../kit/file-errors";
import {
  Measure,
  THRESHOLD_LEVELS,
  THRESHOLD_NAMES,
  THRESHOLD_SPECS,
  ThresholdLevel,
  ThresholdLevelName,
  ThresholdSpec,
  Thresholds,
  defaultThresholds,
} from "./thresholds";
import { APP_RULES_KEY, AppTarget, numberedKey } from "../args";
import { YAML_OPTIONS, toYaml } from "../files";

/**
 * Where the rule files' `runbook` annotations point: this repository's runbooks, as
 * `docs/runbooks.md#<alert name in lower case>`. The project has no public home that
 * every installation could link to, so an alert carries a `runbook_url` link only when
 * `prometheus.runbookBaseUrl` says where the user publishes that file.
 */
export const RUNBOOK_PATH = "docs/runbooks.md";

/** The probes' thresholds as series, for ProbeSlow (rules/probes.yml): `probe:alert_threshold_latency_seconds{probe}`. */
export function probeRules(probes: ProbeSpec[], evaluationInterval: string): { groups: unknown[] } {
  if (probes.length === 0) return { groups: [] };
  return {
    groups: [
      {
        name: "probe-thresholds",
        interval: evaluationInterval,
        rules: probes.map((p) => ({
          record: "probe:alert_threshold_latency_seconds",
          expr: String(p.latencySeconds),
          labels: { probe: p.name },
        })),
      },
    ],
  };
}

/** The series BackupTooOld (rules/backup.yml) doubles: the backups' longest wait, in seconds, for the stack's namespace. */
export const BACKUP_WAIT_SERIES = "backup:schedule_longest_wait_seconds";

/**
 * The backups' schedule as a series, for BackupTooOld (rules/backup.yml): its longest wait between two
 * runs, labelled with the namespace of the CronJobs and the stack. Recorded at each evaluation, so the
 * alert never looks back further than the present sample, whatever Prometheus' retention.
 */
export function backupRules(namespace: string, stack: string, longestWaitSeconds: number, evaluationInterval: string): { groups: unknown[] } {
  return {
    groups: [
      {
        name: "backup-schedule",
        interval: evaluationInterval,
        rules: [{ record: BACKUP_WAIT_SERIES, expr: String(longestWaitSeconds), labels: { namespace, stack } }],
      },
    ],
  };
}

/**
 * A rule file's text with a `runbook_url` link added beside every `runbook` annotation
 * that names a section of this repository's runbooks (`docs/runbooks.md#<anchor>` becomes
 * `<runbookBaseUrl>#<anchor>`), unless the alert has a `runbook_url` of its own. Without
 * a base URL the text is returned as it is. Comments and layout are kept. Throws on
 * invalid YAML.
 */
export function linkRunbooks(text: string, runbookBaseUrl: string | undefined, file = "rule file"): string {
  const doc = parsedRuleFile(text, file);
  return runbookLinksInto(doc, runbookBaseUrl) ? doc.toString(YAML_OPTIONS) : text;
}

/** A rule file's text parsed, with its layout; throws when it is not YAML or has no `groups` list. */
function parsedRuleFile(text: string, file: string): YAML.Document {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`${file} ${yamlErrors(doc)[0]}`);
  if (!YAML.isSeq(doc.get("groups"))) throw new Error(`${file} has no "groups" list: it is not a Prometheus rule file`);
  return doc;
}

/** linkRunbooks on a parsed rule file, edited in place: whether anything changed. */
function runbookLinksInto(doc: YAML.Document, runbookBaseUrl: string | undefined): boolean {
  if (runbookBaseUrl === undefined) return false;
  const prefix = `${RUNBOOK_PATH}#`;
  let changed = false;
  YAML.visit(doc, {
    Map(_, map) {
      const ref = map.get("runbook");
      if (typeof ref === "string" && ref.startsWith(prefix) && !map.has("runbook_url")) {
        map.set("runbook_url", `${runbookBaseUrl}#${ref.slice(prefix.length)}`);
        changed = true;
      }
    },
  });
  return changed;
}

/** A percent as the ratio PromQL compares with, at least two decimals as the rule files write them (90 -> 0.90, 92.5 -> 0.925). */
export function ratioText(percent: number): string {
  const text = String(Number((percent / 100).toFixed(8)));
  const [whole, decimals = ""] = text.split(".");
  return `${whole}.${decimals.padEnd(2, "0")}`;
}

/** A `for` in words, as descriptions say it: 5m -> "5 minutes", 1h -> "1 hour", 90s -> "90 seconds", 1h30m -> "1h30m". */
export function durationWords(duration: string): string {
  const seconds = durationSeconds(duration);
  if (seconds === undefined || seconds <= 0) return duration;
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (seconds % 3600 === 0) return unit(seconds / 3600, "hour");
  if (seconds % 60 === 0) return unit(seconds / 60, "minute");
  if (Number.isInteger(seconds)) return unit(seconds, "second");
  return duration;
}

/**
 * The expression with its threshold changed: the one comparison `<op> <from>` (op `>` for a
 * share used, `<` for a share free) becomes `<op> <to>`. An expression without exactly one
 * such comparison is an error: the rule is not the one this module knows.
 */
export function withThreshold(expr: string, measure: Measure, from: number, to: number): string {
  const op = measure === "used" ? ">" : "<";
  const escaped = ratioText(from).replace(".", "\\.");
  const comparison = new RegExp(`(^|[\\s)])${op}(\\s*)${escaped}(?![0-9.])`, "g");
  const found = expr.match(comparison) ?? [];
  if (found.length !== 1) {
    throw new Error(`expected one comparison "${op} ${ratioText(from)}" in its expression, found ${found.length}`);
  }
  return expr.replace(comparison, (_, before: string, space: string) => `${before}${op}${space}${ratioText(to)}`);
}

/** Whether a level differs from what the rule file holds. */
function changed(spec: ThresholdSpec, level: ThresholdLevelName, t: ThresholdLevel): boolean {
  const d = spec.defaults[level];
  return !t.enabled || t.percent !== d.percent || t.for !== d.for || t.severity !== level;
}

/**
 * A parsed rule file with a stack's thresholds, edited in place: every rule of a tunable alert,
 * found by its name and its severity in the file (the level), gets the level's threshold, `for`,
 * severity and annotations, or is removed when the level is off. Returns whether anything
 * changed: not for a file with none of these alerts, nor for thresholds equal to the defaults.
 * Throws (naming the alert) when a rule to change is not worded as THRESHOLD_SPECS expects.
 */
export function thresholdsInto(doc: YAML.Document, thresholds: Thresholds, file = "rule file"): boolean {
  const groups = doc.get("groups");
  if (!YAML.isSeq(groups)) return false;
  let edited = false;
  for (const group of groups.items) {
    if (!YAML.isMap(group)) continue;
    const rules = group.get("rules");
    if (!YAML.isSeq(rules)) continue;
    const keep: unknown[] = [];
    for (const rule of rules.items) {
      keep.push(rule);
      if (!YAML.isMap(rule)) continue;
      const name = THRESHOLD_NAMES.find((n) => THRESHOLD_SPECS[n].alert === rule.get("alert"));
      const level = THRESHOLD_LEVELS.find((l) => l === rule.getIn(["labels", "severity"]));
      if (name === undefined || level === undefined) continue;
      const spec = THRESHOLD_SPECS[name];
      const t = thresholds[name][level];
      if (!changed(spec, level, t)) continue;
      edited = true;
      if (!t.enabled) {
        keep.pop();
        continue;
      }
      const where = `${file}: ${spec.alert} (${level})`;
      const expr = rule.get("expr");
      if (typeof expr !== "string") throw new Error(`${where} has no expression`);
      try {
        rule.set("expr", withThreshold(expr, spec.measure, spec.defaults[level].percent, t.percent));
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`);
      }
      const wording = spec.text[level];
      const d = spec.defaults[level];
      for (const [key, render] of [
        ["summary", (p: number) => wording.summary(p)],
        ["description", (p: number, f: string) => wording.description(p, f)],
      ] as const) {
        const current = rule.getIn(["annotations", key]);
        if (current !== render(d.percent, durationWords(d.for))) {
          throw new Error(`${where}: its ${key} is not worded as components/prometheus/rules/thresholds.ts expects; change both together`);
        }
        rule.setIn(["annotations", key], render(t.percent, durationWords(t.for)));
      }
      rule.set("for", t.for);
      rule.setIn(["labels", "severity"], t.severity);
    }
    rules.items = keep as typeof rules.items;
  }
  return edited;
}

/**
 * A parsed rule file without the rules of the given alerts, edited in place, each with the comment
 * above it: a group they leave empty goes too. Returns whether anything was removed.
 */
export function withoutAlertsInto(doc: YAML.Document, alerts: readonly string[]): boolean {
  const groups = doc.get("groups");
  if (alerts.length === 0 || !YAML.isSeq(groups)) return false;
  let removed = false;
  groups.items = groups.items.filter((group) => {
    const rules = YAML.isMap(group) ? group.get("rules") : undefined;
    if (!YAML.isSeq(rules)) return true;
    const kept = rules.items.filter((rule) => !(YAML.isMap(rule) && alerts.includes(String(rule.get("alert")))));
    if (kept.length === rules.items.length) return true;
    removed = true;
    // The comment above the first rule is the list's to the parser, the rule's to its reader: it goes with the rule.
    // The first rule kept takes the place of the first: no blank line above it.
    if (kept[0] !== rules.items[0]) {
      rules.commentBefore = undefined;
      if (YAML.isNode(kept[0])) kept[0].spaceBefore = false;
    }
    rules.items = kept;
    return kept.length > 0;
  });
  return removed;
}

/**
 * A parsed rule file whose groups set an interval of their own shorter than the stack's evaluation interval, edited
 * in place: those take the stack's. The shipped groups evaluated once a minute (docs/alerts.md) would otherwise run
 * more often than the rest in a stack that evaluates every two minutes. Returns whether anything changed.
 */
export function intervalsAtLeastInto(doc: YAML.Document, evaluationInterval: string): boolean {
  const groups = doc.get("groups");
  let changed = false;
  for (const group of YAML.isSeq(groups) ? groups.items : []) {
    const own = YAML.isMap(group) ? group.get("interval") : undefined;
    if (!YAML.isMap(group) || typeof own !== "string" || atLeastDuration(own, evaluationInterval) === own) continue;
    group.set("interval", evaluationInterval);
    changed = true;
  }
  return changed;
}

/**
 * Every `*.yml` of a directory but those `without` names, by file name, with the stack's thresholds
 * (components/prometheus/rules/thresholds.ts) and runbook links into `runbookBaseUrl` when it is given,
 * and without the rules of the `withoutAlerts` alerts (a file they leave with no group is left out); a group's own
 * interval shorter than `evaluationInterval` becomes it (intervalsAtLeastInto).
 * Thresholds that change an alert none of the files holds are an error: the stack would believe it
 * tuned something. A file or alert left out still counts: its alert exists, it is off with its component.
 * Each file is parsed once (parsing is most of a render's time spent on rules), and its edit kept for the next render (editedRuleFile).
 */
export function loadRuleFiles(
  dir: string,
  runbookBaseUrl: string | undefined,
  thresholds?: Thresholds,
  without: readonly string[] = [],
  withoutAlerts: readonly string[] = [],
  evaluationInterval?: string,
): Record<string, string> {
  if (!fs.existsSync(dir)) throw new Error(`rulesDir: ${dir} does not exist`);
  const files: Record<string, string> = {};
  const levels = thresholds ?? defaultThresholds();
  const seen = new Set<string>();
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yml"))
    .sort()) {
    const where = path.join(dir, file);
    const edited = editedRuleFile(where, fs.readFileSync(where, "utf8"), levels, runbookBaseUrl, withoutAlerts, evaluationInterval);
    if (!without.includes(file) && edited.text !== undefined) files[file] = edited.text;
    for (const name of THRESHOLD_NAMES) if (edited.alerts.includes(THRESHOLD_SPECS[name].alert)) seen.add(name);
  }
  const defaults = defaultThresholds();
  for (const name of THRESHOLD_NAMES.filter((n) => !seen.has(n))) {
    const level = THRESHOLD_LEVELS.find((l) => JSON.stringify(levels[name][l]) !== JSON.stringify(defaults[name][l]));
    if (level) throw new Error(`thresholds.${name}.${level}: no rule file of ${dir} has the alert ${THRESHOLD_SPECS[name].alert}`);
  }
  return files;
}

/** A rule file as loadRuleFiles ships it: its text edited (undefined when no group is left), and the alerts it held. */
interface EditedRuleFile {
  readonly text: string | undefined;
  readonly alerts: readonly string[];
}

/**
 * The last edits of each rule file this process made, by file: its text, and the edit by what it depends on
 * (thresholds, runbook base URL, alerts left out, evaluation interval). A render parses and edits every rule file, and a process that
 * renders again (both stacks in `npm run render`, a test's renders) gets the same files with the same settings:
 * an edit is a function of the text and those settings, and its result is text, so it is kept rather than done
 * again. A file whose text changed starts afresh; a file keeps its last EDITS_KEPT edits.
 */
const editedFiles = new Map<string, { text: string; edits: Map<string, EditedRuleFile> }>();
const EDITS_KEPT = 8;

function editedRuleFile(
  where: string,
  text: string,
  levels: Thresholds,
  runbookBaseUrl: string | undefined,
  withoutAlerts: readonly string[],
  evaluationInterval: string | undefined,
): EditedRuleFile {
  let file = editedFiles.get(where);
  if (file?.text !== text) {
    file = { text, edits: new Map() };
    editedFiles.set(where, file);
  }
  const settings = JSON.stringify([levels, runbookBaseUrl ?? null, withoutAlerts, evaluationInterval ?? null]);
  const kept = file.edits.get(settings);
  if (kept) return kept;
  const doc = parsedRuleFile(text, where);
  const alerts = [...alertNames(doc)];
  const tuned = thresholdsInto(doc, levels, where);
  const linked = runbookLinksInto(doc, runbookBaseUrl);
  const pruned = withoutAlertsInto(doc, withoutAlerts);
  const lifted = evaluationInterval !== undefined && intervalsAtLeastInto(doc, evaluationInterval);
  const emptied = pruned && (doc.get("groups") as YAML.YAMLSeq).items.length === 0;
  const edited: EditedRuleFile = { text: emptied ? undefined : tuned || linked || pruned || lifted ? doc.toString(YAML_OPTIONS) : text, alerts };
  if (file.edits.size >= EDITS_KEPT) file.edits.delete(file.edits.keys().next().value as string);
  file.edits.set(settings, edited);
  return edited;
}

/** The alert names of a parsed rule file. */
function alertNames(doc: YAML.Document): Set<string> {
  const names = new Set<string>();
  const groups = doc.get("groups");
  for (const group of YAML.isSeq(groups) ? groups.items : []) {
    const rules = YAML.isMap(group) ? group.get("rules") : undefined;
    for (const rule of YAML.isSeq(rules) ? rules.items : []) {
      const alert = YAML.isMap(rule) ? rule.get("alert") : undefined;
      if (typeof alert === "string") names.add(alert);
    }
  }
  return names;
}

const APP_RULES_HEADER = "The app contract: generated from the apps of the stack config by components/prometheus/rules/app-rules.ts.";

export const PROBE_RULES_HEADER = "The probes' thresholds: generated from apps[].probe and probes[] by components/prometheus/rules/rule-files.ts.";

export const BACKUP_RULES_HEADER = "The backups' longest wait between two runs: generated from backup.schedule by components/prometheus/rules/rule-files.ts.";

export const DATABASE_RULES_HEADER = "Alerts on a database exporter that vanished: generated from databases[] by components/prometheus/rules/database-rules.ts.";

/**
 * The generated app rules, one file per run of apps (its group and the group's `…-every-minute`, each bounded:
 * components/prometheus/rules/app-rules.ts), so that no file holds a rule twice: apps.rules.yml, then
 * apps-2.rules.yml, ... No apps: apps.rules.yml with no groups.
 */
export function appRuleFiles(apps: AppTarget[], evaluationInterval: string): Array<[string, string]> {
  const runs = appRuleRuns(apps, evaluationInterval);
  return (runs.length > 0 ? runs : [[]]).map((run, i) => [numberedKey(APP_RULES_KEY, i), toYaml({ groups: run }, APP_RULES_HEADER)]);
}
