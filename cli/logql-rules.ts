/** The LogQL rule files of Loki's ruler (rules/logs/ and a team's), checked without a binary: Grafana's LogQL grammar. */
import * as YAML from "yaml";
import { parser as logqlParser } from "@grafana/lezer-logql";
import { isObject } from "./dashboards/files";
import { logqlProblem } from "./promql";

/**
 * The LogQL of a rule file for Loki's ruler: each rule's expr parsed with Grafana's grammar, and a
 * metric query (count_over_time, rate, … compared or not), since the ruler alerts on the series a
 * metric query returns; a log query ({…} |= "…") returns lines, which the ruler refuses.
 */
export function logqlRuleProblems(text: string): string[] {
  const doc: unknown = YAML.parse(text);
  const problems: string[] = [];
  const groups = isObject(doc) && Array.isArray(doc.groups) ? doc.groups : [];
  groups.forEach((group: unknown, g: number) => {
    const rules = isObject(group) && Array.isArray(group.rules) ? group.rules : [];
    rules.forEach((rule: unknown, r: number) => {
      if (!isObject(rule) || rule.expr === undefined) return;
      const expr = String(rule.expr).trim();
      const where = `groups[${g}].rules[${r}]${typeof rule.alert === "string" ? ` (${rule.alert})` : ""}`;
      const problem = logqlProblem(expr);
      if (problem) {
        problems.push(
          `${where}: LogQL does not parse at character ${problem.at + 1}: ${JSON.stringify(expr.slice(problem.at, problem.at + 30))}`,
        );
        return;
      }
      const kind = logqlParser.parse(expr).topNode.firstChild?.firstChild?.name;
      if (kind !== "MetricExpr") {
        problems.push(`${where}: is a log query, which returns lines: an alert needs a metric query such as count_over_time({…}[5m]) > 0`);
      }
    });
  });
  return problems;
}
