/** The rule files Prometheus evaluates: the repository's (thresholds and runbook links applied), the app contract's, the probes' and the databases'. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { appRecordingRules } from "./app-rules";
import type { ProbeSpec } from "../../kit/probes";
import { THRESHOLD_LEVELS, THRESHOLD_NAMES, THRESHOLD_SPECS, Thresholds, defaultThresholds, thresholdsInto } from "./thresholds";
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
  if (doc.errors.length > 0) throw new Error(`${file} is not valid YAML: ${doc.errors[0].message}`);
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

/**
 * Every `*.yml` of a directory but those `without` names, by file name, with the stack's thresholds
 * (components/prometheus/rules/thresholds.ts) and runbook links into `runbookBaseUrl` when it is given.
 * Thresholds that change an alert none of the files holds are an error: the stack would believe it
 * tuned something. A file left out still counts: its alert exists, it is off with its component.
 * Each file is parsed once (parsing is most of a render's time spent on rules).
 */
export function loadRuleFiles(
  dir: string,
  runbookBaseUrl: string | undefined,
  thresholds?: Thresholds,
  without: readonly string[] = [],
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
    const text = fs.readFileSync(where, "utf8");
    const doc = parsedRuleFile(text, where);
    const alerts = alertNames(doc);
    const tuned = thresholdsInto(doc, levels, where);
    const linked = runbookLinksInto(doc, runbookBaseUrl);
    if (!without.includes(file)) files[file] = tuned || linked ? doc.toString(YAML_OPTIONS) : text;
    for (const name of THRESHOLD_NAMES) if (alerts.has(THRESHOLD_SPECS[name].alert)) seen.add(name);
  }
  const defaults = defaultThresholds();
  for (const name of THRESHOLD_NAMES.filter((n) => !seen.has(n))) {
    const level = THRESHOLD_LEVELS.find((l) => JSON.stringify(levels[name][l]) !== JSON.stringify(defaults[name][l]));
    if (level) throw new Error(`thresholds.${name}.${level}: no rule file of ${dir} has the alert ${THRESHOLD_SPECS[name].alert}`);
  }
  return files;
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

export const DATABASE_RULES_HEADER = "Alerts on a database exporter that vanished: generated from databases[] by components/prometheus/rules/database-rules.ts.";

/**
 * The generated app rules, one file per group (each bounded: components/prometheus/rules/app-rules.ts), so that
 * no file holds a rule twice: apps.rules.yml, then apps-2.rules.yml, ... No apps: apps.rules.yml
 * with no groups.
 */
export function appRuleFiles(apps: AppTarget[], evaluationInterval: string): Array<[string, string]> {
  const { groups } = appRecordingRules(apps, evaluationInterval);
  const runs = groups.length === 0 ? [[]] : groups.map((g) => [g]);
  return runs.map((run, i) => [numberedKey(APP_RULES_KEY, i), toYaml({ groups: run }, APP_RULES_HEADER)]);
}
