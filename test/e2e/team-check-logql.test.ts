/**
 * `npm run check` on a team's LogQL rules (rules/logs/): each expr parsed with Grafana's LogQL
 * grammar and required to be a metric query, each problem naming its file and rule; the shipped
 * advice (severity, summary) as for Prometheus rules. LogQL rules need no promtool, but npm run
 * check and checkTeamContent are the command that runs it on the team's Prometheus rules: end to end.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { checkTeamContent, formatTeamCheck } from "../../cli/team-check";
import { promtool } from "../../lab/local/binaries";
import { logqlRuleProblems } from "../../cli/logql-rules";
import { builtinNames } from "../../preflight/team-content";
import { teamDir } from "../support/team-content";
import { scriptArguments } from "../support/npm-script";

const ROOT = path.join(__dirname, "..", "..");
const builtin = builtinNames();

const rule = (expr: string, extra = "        labels: { severity: warning }\n        annotations: { summary: Declined }\n") =>
  `groups:\n  - name: shop-logs\n    rules:\n      - alert: ShopPaymentsDeclined\n        expr: ${JSON.stringify(expr)}\n${extra}`;

test("a metric query is accepted; one that does not parse and a log query are refused, naming the rule", () => {
  expect(logqlRuleProblems(rule('sum(count_over_time({namespace="shop"} |= "declined" [5m])) > 10'))).toEqual([]);
  expect(logqlRuleProblems(rule('sum(count_over_time({namespace="shop"} |= [5m])) > 10'))).toEqual([
    expect.stringMatching(/^groups\[0\]\.rules\[0\] \(ShopPaymentsDeclined\): LogQL does not parse at character \d+: /),
  ]);
  expect(logqlRuleProblems(rule('{namespace="shop"} |= "declined"'))).toEqual([
    "groups[0].rules[0] (ShopPaymentsDeclined): is a log query, which returns lines: an alert needs a metric query such as count_over_time({…}[5m]) > 0",
  ]);
});

test("checkTeamContent reports each file's LogQL problems and the advice of the good ones", () => {
  const { root } = teamDir({
    "rules/logs/bad.yml": rule('sum(count_over_time({namespace="shop"} |= [5m]))'),
    "rules/logs/good.yml": rule('sum(count_over_time({namespace="shop"}[5m])) > 0', ""),
  });
  const result = checkTeamContent(promtool, root, undefined, builtin);
  expect(result.checked).toEqual({ ruleFiles: 0, rules: 1, testFiles: 0, dashboards: 0, logRuleFiles: 2 });
  expect(result.errors).toEqual([
    expect.stringMatching(/^team\/rules\/logs\/bad\.yml: groups\[0\]\.rules\[0\] \(ShopPaymentsDeclined\): LogQL does not parse/),
  ]);
  expect(result.warnings).toEqual([
    "team/rules/logs/good.yml: alert ShopPaymentsDeclined has no severity label: it reaches only the default receiver",
    "team/rules/logs/good.yml: alert ShopPaymentsDeclined has neither summary nor description: its notification says only its name",
  ]);
  expect(formatTeamCheck(result, "--dir x")).toMatch(
    /^--dir x: team\/ — 0 rule file\(s\), 2 LogQL rule file\(s\), 1 rule\(s\), 0 unit test file\(s\), 0 dashboard\(s\): 1 error\(s\)$/m,
  );
});

test("npm run check exits 1 on a LogQL rule that does not parse, naming its file", () => {
  const { root } = teamDir({ "rules/logs/broken.yml": rule('count_over_time({namespace="shop"}[5m]) >') });
  const run = spawnSync(process.execPath, [...scriptArguments("check"), "--dir", path.join(root, "team")], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect({ status: run.status, out: run.stdout }).toEqual({
    status: 1,
    out: expect.stringMatching(
      /error: .*team\/rules\/logs\/broken\.yml: groups\[0\]\.rules\[0\] \(ShopPaymentsDeclined\): LogQL does not parse/,
    ),
  });
}, 150_000);
