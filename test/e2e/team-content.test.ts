/**
 * `npm run check` on a team's own rules and dashboards (cli/team-check.ts,
 * scripts/check.ts): promtool's checks and unit tests of the Prometheus release the stack
 * deploys, and the query grammars, on the examples and on team directories made here (what the
 * program itself refuses is in test/preflight/team-content.test.ts).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { builtinNames } from "../../preflight/team-content";
import { ROOT } from "../../cli/stackfile";
import { checkTeamContent } from "../../cli/team-check";
import { promtool } from "../../lab/local/binaries";
import { GOOD_RULES, dashboardJson, quietShopTest, teamDir } from "../support/team-content";
import { scriptArguments } from "../support/npm-script";

const EXAMPLES = ["tumulte", "deployment-system", "gauzian"];
const builtin = builtinNames();
const aBuiltinAlert = [...builtin.alerts.keys()][0];

describe("npm run check", () => {
  test.each(EXAMPLES)("the %s example passes: promtool check and unit tests, dashboards' datasources and queries", (example) => {
    const result = checkTeamContent(promtool, ROOT, `examples/${example}/team`, builtin);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.checked.ruleFiles).toBeGreaterThan(0);
    expect(result.checked.testFiles).toBeGreaterThan(0);
    expect(result.checked.dashboards).toBeGreaterThan(0);
  });

  test("promtool's parse error names the file and the rule", () => {
    const { root } = teamDir({ "rules/shop.yml": GOOD_RULES.replace("[15m]))", "[15m])") });
    const result = checkTeamContent(promtool, root, "team", builtin);
    expect(result.errors.join("\n")).toMatch(/^team\/rules\/shop.yml: promtool: .*ShopOrdersStalled.*could not parse expression/m);
  });

  test("a failing unit test fails the check, with promtool's account", () => {
    const { root } = teamDir({
      "rules/shop.yml": GOOD_RULES,
      // Orders stop: the alert fires, and the test that says it does not fails.
      "rules/tests/shop.test.yml": quietShopTest("5x40"),
    });
    const result = checkTeamContent(promtool, root, "team", builtin);
    expect(result.checked.testFiles).toBe(1);
    expect(result.errors.join("\n")).toMatch(/team\/rules\/tests\/shop.test.yml: promtool test rules failed:[\s\S]*ShopOrdersStalled/);
  });

  test("a passing unit test passes", () => {
    const { root } = teamDir({
      "rules/shop.yml": GOOD_RULES,
      "rules/tests/shop.test.yml": quietShopTest("0+1x40"),
    });
    expect(checkTeamContent(promtool, root, "team", builtin).errors).toEqual([]);
  });

  test("a dashboard query that does not parse, or an unknown datasource, is an error naming the panel", () => {
    const { root } = teamDir({
      "dashboards/shop/orders.json": dashboardJson({}, "sum(rate(shop_orders_total[5m])"),
      "dashboards/shop/stock.json": dashboardJson({ uid: "shop-stock", title: "Stock" }).replace(/\$\{datasource\}/g, "${DS_PROMETHEUS}"),
    });
    const errors = checkTeamContent(promtool, root, "team", builtin).errors.join("\n");
    expect(errors).toMatch(/team\/dashboards\/shop\/orders.json: .*Orders.*PromQL does not parse/);
    expect(errors).toMatch(/team\/dashboards\/shop\/stock.json: .*datasource uid \$\{DS_PROMETHEUS\}/);
  });

  test("an alert without severity or summary is a warning, not an error", () => {
    const { root } = teamDir({ "rules/shop.yml": GOOD_RULES.replace("severity: warning, ", "").replace(/annotations: .*\n/, "") });
    const result = checkTeamContent(promtool, root, "team", builtin);
    expect(result.errors).toEqual([]);
    expect(result.warnings.join("\n")).toMatch(/ShopOrdersStalled has no severity label: it reaches only the default receiver/);
    expect(result.warnings.join("\n")).toMatch(/ShopOrdersStalled has neither summary nor description/);
  });
});

describe("the npm run check command", () => {
  const check = (args: string[]) =>
    spawnSync(process.execPath, [...scriptArguments("check"), ...args], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
    });

  test("reports a directory's counts and exits 0 when it passes", () => {
    const result = check(["--dir", "examples/gauzian/team"]);
    expect(result.stdout).toMatch(
      /^--dir examples\/gauzian\/team: examples\/gauzian\/team\/ — 1 rule file\(s\), 3 rule\(s\), 1 unit test file\(s\), 1 dashboard\(s\): OK$/m,
    );
    expect(result.status).toBe(0);
  });

  test("prints each error with its file and exits 1; a wrong argument exits 2 with the usage", () => {
    const { root } = teamDir({ "rules/shop.yml": GOOD_RULES.replace("ShopOrdersStalled", aBuiltinAlert) });
    const relative = path.relative(ROOT, path.join(root, "team"));
    const failed = check(["--dir", relative]);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain(`  error: ${relative}/rules/shop.yml: groups[0].rules[0]: alert ${aBuiltinAlert} is a built-in alert`);
    const wrong = check(["--stacks", "production"]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain("usage: npm run check");
  });
});
