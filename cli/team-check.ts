/**
 * `npm run check`: a team's own rules and dashboards (preflight/team-content.ts), checked as
 * the stack will run them. First what the program itself refuses at preview time, then what
 * needs the exact binaries and the query grammars:
 *
 * - each rule file with `promtool check rules` of the Prometheus release the stack deploys;
 * - each unit test file under rules/tests/ with `promtool test rules`;
 * - each LogQL rule file under rules/logs/ (Loki's ruler): every expr with Grafana's LogQL grammar,
 *   and a metric query (a log query returns lines, never an alert);
 * - each dashboard's datasources (the provisioned uids or a datasource variable), its PromQL and
 *   LogQL (Prometheus' and Grafana's own grammars) and its template variables.
 *
 * Problems are errors (the stack would not deploy, or a panel could never show data); advice is
 * a warning (an alert without a severity reaches only the default receiver). Each names its file.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ConfigError } from "../config";
import { namespacedStackConfig } from "../preflight/stack-file";
import { parseYamlFile } from "./yaml-file";
import { BuiltinNames, TEAM_CONTENT_DEFAULT, builtinNames, readTeamContent } from "../preflight/team-content";
import type { TeamContent } from "../components/stack/team";
import { teamDashboardCheck } from "./dashboards/checks";
import { isObject } from "./dashboards/files";
import { logqlRuleProblems } from "./logql-rules";

/** The severities the built-in routing sends somewhere of their own. */
export const ROUTED_SEVERITIES = ["critical", "warning", "info"];

export interface TeamCheckResult {
  /** The directory, from the project's directory. */
  directory: string;
  /** Whether the directory exists (the default one may not). */
  present: boolean;
  errors: string[];
  warnings: string[];
  /** What was checked: counts, for the summary line. */
  checked: { ruleFiles: number; rules: number; testFiles: number; dashboards: number; logRuleFiles: number };
}

/** promtool's complaint, without its banner lines. */
function promtoolProblems(output: string): string[] {
  return output
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^(Checking |SUCCESS|FAILED:?$|Unit Testing:)/.test(l));
}

function ruleAdvice(source: string, text: string): { warnings: string[]; rules: number } {
  const doc: unknown = YAML.parse(text);
  const warnings: string[] = [];
  let rules = 0;
  const groups = isObject(doc) && Array.isArray(doc.groups) ? doc.groups : [];
  for (const group of groups) {
    for (const rule of isObject(group) && Array.isArray(group.rules) ? group.rules : []) {
      if (!isObject(rule)) continue;
      rules++;
      if (typeof rule.alert !== "string") continue;
      const labels = isObject(rule.labels) ? rule.labels : {};
      const severity = labels.severity;
      if (severity === undefined) {
        warnings.push(`${source}: alert ${rule.alert} has no severity label: it reaches only the default receiver`);
      } else if (!ROUTED_SEVERITIES.includes(String(severity))) {
        warnings.push(
          `${source}: alert ${rule.alert} has severity "${String(severity)}", which no built-in route takes (${ROUTED_SEVERITIES.join(", ")})`,
        );
      }
      const annotations = isObject(rule.annotations) ? rule.annotations : {};
      if (annotations.summary === undefined && annotations.description === undefined) {
        warnings.push(`${source}: alert ${rule.alert} has neither summary nor description: its notification says only its name`);
      }
    }
  }
  return { warnings, rules };
}

/**
 * promtool of the Prometheus release the stack deploys, run with these arguments in `cwd`. The
 * caller hands it in (lab/local/binaries.ts's `promtool`, the pinned build of .tools/bin), so that
 * the command's code does not reach into the lab that builds the tools.
 */
export type Promtool = (args: string[], cwd?: string) => { ok: boolean; output: string };

/** Checks one team directory; `configured` as for readTeamContent (undefined: the default, which may be absent). */
export function checkTeamContent(
  promtool: Promtool,
  root: string,
  configured: string | undefined,
  builtin: BuiltinNames = builtinNames(),
  key = "monitoring:teamContent",
): TeamCheckResult {
  const result: TeamCheckResult = {
    directory: configured ?? TEAM_CONTENT_DEFAULT,
    present: false,
    errors: [],
    warnings: [],
    checked: { ruleFiles: 0, rules: 0, testFiles: 0, dashboards: 0, logRuleFiles: 0 },
  };
  let content: TeamContent;
  try {
    content = readTeamContent(root, configured, builtin, key);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    result.errors.push(...err.problems.map((p) => p.message));
    return result;
  }
  result.directory = content.directory;
  result.present = content.present;
  if (!content.present) return result;

  for (const rule of content.rules) {
    result.checked.ruleFiles++;
    const file = path.join(root, rule.source);
    const checked = promtool(["check", "rules", file]);
    if (!checked.ok) {
      result.errors.push(...promtoolProblems(checked.output).map((p) => `${rule.source}: promtool: ${p.replace(`${file}: `, "")}`));
      continue;
    }
    const advice = ruleAdvice(rule.source, rule.text);
    result.checked.rules += advice.rules;
    result.warnings.push(...advice.warnings);
  }

  for (const rule of content.logRules) {
    result.checked.logRuleFiles++;
    const problems = logqlRuleProblems(rule.text);
    result.errors.push(...problems.map((p) => `${rule.source}: ${p}`));
    if (problems.length > 0) continue;
    const advice = ruleAdvice(rule.source, rule.text);
    result.checked.rules += advice.rules;
    result.warnings.push(...advice.warnings);
  }

  for (const test of content.ruleTests) {
    result.checked.testFiles++;
    const file = path.join(root, test);
    const run = promtool(["test", "rules", path.basename(file)], path.dirname(file));
    if (!run.ok) result.errors.push(`${test}: promtool test rules failed:\n    ${promtoolProblems(run.output).join("\n    ")}`);
  }

  for (const d of content.dashboards) {
    result.checked.dashboards++;
    const { errors, warnings } = teamDashboardCheck(JSON.parse(d.content));
    result.errors.push(...errors.map((p) => `${d.source}: ${p}`));
    result.warnings.push(...warnings.map((p) => `${d.source}: ${p}`));
  }
  return result;
}

/** The `teamContent` of a stack file, as written (undefined when the stack leaves it to the default). */
export function stackTeamContent(root: string, stack: string, project: string): string | undefined {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  const doc = (parseYamlFile(fs.readFileSync(file, "utf8"), path.relative(process.cwd(), file) || file) ?? {}) as {
    config?: Record<string, unknown>;
  };
  const value = namespacedStackConfig(project, doc.config ?? {}).config[`${project}:teamContent`];
  return typeof value === "string" ? value.replace(/\/$/, "") : undefined;
}

/** The report of a check, as `npm run check` prints it. */
export function formatTeamCheck(r: TeamCheckResult, label: string): string {
  const c = r.checked;
  if (!r.present && r.errors.length === 0) return `${label}: no ${r.directory}/ directory: the built-in rules and dashboards only`;
  const lines = [
    `${label}: ${r.directory}/ — ${c.ruleFiles} rule file(s), ${c.logRuleFiles > 0 ? `${c.logRuleFiles} LogQL rule file(s), ` : ""}${c.rules} rule(s), ${c.testFiles} unit test file(s), ${c.dashboards} dashboard(s): ` +
      (r.errors.length === 0 ? "OK" : `${r.errors.length} error(s)`),
  ];
  for (const e of r.errors) lines.push(`  error: ${e}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines.join("\n");
}
