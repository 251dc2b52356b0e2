/**
 * A team's own rules and dashboards (preflight/team-content.ts, `npm run check`): what the
 * program refuses before any resource exists, what the check adds with promtool and the query
 * grammars, and that the stack ships them beside the built-in ones.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../../config";
import { builtinNames, readTeamContent, teamRuleFileProblems } from "../../preflight/team-content";
import { ROOT } from "../../scripts/lib/stackfile";
import { checkTeamContent } from "../../scripts/lib/team-check";
import { objectsOf, render } from "../support/render";

const EXAMPLES = ["tumulte", "deployment-system", "gauzian"];
const builtin = builtinNames();
const aBuiltinAlert = [...builtin.alerts.keys()][0];
const aBuiltinRecord = [...builtin.records.keys()][0];

const GOOD_RULES = `groups:
  - name: shop
    rules:
      - alert: ShopOrdersStalled
        expr: sum(rate(shop_orders_total[15m])) == 0
        for: 15m
        labels: { severity: warning, team: shop }
        annotations: { summary: "No order for 15 minutes" }
`;

function dashboardJson(overrides: Record<string, unknown> = {}, expr = "sum(rate(shop_orders_total[5m]))"): string {
  const ds = { type: "prometheus", uid: "${datasource}" };
  const dashboard = {
    uid: "shop-orders",
    title: "Shop orders",
    templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus" }] },
    panels: [
      {
        id: 1,
        type: "timeseries",
        title: "Orders",
        datasource: ds,
        gridPos: { x: 0, y: 0, w: 12, h: 8 },
        targets: [{ refId: "A", datasource: ds, expr }],
      },
    ],
    ...overrides,
  };
  return JSON.stringify(dashboard, null, 2);
}

/** A promtool unit test of GOOD_RULES that expects no alert at 35 minutes, for the orders series given. */
function quietShopTest(orders: string): string {
  return [
    "rule_files: [../shop.yml]",
    "evaluation_interval: 1m",
    "tests:",
    "  - interval: 1m",
    "    input_series:",
    "      - series: shop_orders_total",
    `        values: ${orders}`,
    "    alert_rule_test:",
    "      - eval_time: 35m",
    "        alertname: ShopOrdersStalled",
    "        exp_alerts: []",
    "",
  ].join("\n");
}

/** A team directory in a fresh project-like root: files by path under it. */
function teamDir(files: Record<string, string>): { root: string; dir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "team-content-"));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, "team", file)), { recursive: true });
    fs.writeFileSync(path.join(root, "team", file), text);
  }
  return { root, dir: "team" };
}

function refusal(files: Record<string, string>): string {
  const { root } = teamDir(files);
  try {
    readTeamContent(root, undefined, builtin);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error("the team directory was accepted");
}

describe("the program reads a team directory", () => {
  test("the default directory may be absent; a configured one must exist", () => {
    const { root } = teamDir({});
    fs.rmSync(path.join(root, "team"), { recursive: true, force: true });
    expect(readTeamContent(root, undefined, builtin)).toMatchObject({ present: false, rules: [], dashboards: [] });
    expect(() => readTeamContent(root, "teams/shop", builtin)).toThrow(/monitoring:teamContent: the directory teams\/shop does not exist/);
  });

  test("rules become team.<name>.yml, dashboards keep their folder, unit tests are found", () => {
    const { root } = teamDir({
      "rules/shop.yml": GOOD_RULES,
      "rules/tests/shop.test.yml": "rule_files: [../shop.yml]\ntests: []\n",
      "dashboards/shop/orders.json": dashboardJson(),
      "README.md": "notes are allowed",
    });
    const team = readTeamContent(root, undefined, builtin);
    expect(team.rules.map((r) => [r.key, r.source])).toEqual([["team.shop.yml", "team/rules/shop.yml"]]);
    expect(team.dashboards.map((d) => [d.folder, d.file, d.source])).toEqual([["shop", "orders.json", "team/dashboards/shop/orders.json"]]);
    expect(team.ruleTests).toEqual(["team/rules/tests/shop.test.yml"]);
  });

  test.each([
    ["a file that is not YAML", { "rules/a.yml": "groups: [\n" }, /team\/rules\/a.yml: is not valid YAML/],
    ["a file of another shape", { "rules/a.yml": "alerts: []\n" }, /team\/rules\/a.yml: must be a Prometheus rule file/],
    [
      "a field Prometheus does not know",
      { "rules/a.yml": GOOD_RULES.replace("for: 15m", "for: 15m\n        severity: warning") },
      /groups\[0\]\.rules\[0\]: unknown field "severity"/,
    ],
    [
      "a rule with both alert and record",
      { "rules/a.yml": GOOD_RULES.replace("- alert: ShopOrdersStalled", "- alert: ShopOrdersStalled\n        record: shop:x") },
      /give exactly one of alert and record/,
    ],
    ["a rule without expr", { "rules/a.yml": GOOD_RULES.replace(/ +expr: .*\n/, "") }, /rules\[0\]: expr is missing/],
    [
      "a bad duration",
      { "rules/a.yml": GOOD_RULES.replace("for: 15m", "for: 15 minutes") },
      /rules\[0\]\.for must be a Prometheus duration/,
    ],
    [
      "a label value that is not text",
      { "rules/a.yml": GOOD_RULES.replace("team: shop", "priority: 1") },
      /rules\[0\]\.labels\.priority must be text, not 1/,
    ],
    [
      "the name of a built-in alert",
      { "rules/a.yml": GOOD_RULES.replace("ShopOrdersStalled", aBuiltinAlert) },
      new RegExp(`alert ${aBuiltinAlert} is a built-in alert \\(rules/`),
    ],
    [
      "a recording of a built-in name",
      { "rules/a.yml": `groups:\n  - name: r\n    rules:\n      - record: ${aBuiltinRecord}\n        expr: vector(1)\n` },
      /is already recorded by a built-in rule/,
    ],
    ["an unknown folder", { "rule/a.yml": GOOD_RULES }, /team\/rule: unknown folder; a team directory holds rules\/ and dashboards\//],
    ["a dashboard outside a folder", { "dashboards/orders.json": dashboardJson() }, /dashboards live in a folder/],
    ["a dashboard without uid", { "dashboards/shop/orders.json": dashboardJson({ uid: undefined }) }, /orders.json: uid is missing/],
    [
      "a dashboard with a built-in dashboard's uid",
      { "dashboards/shop/orders.json": dashboardJson({ uid: JSON.parse(builtin.dashboards[0].content).uid }) },
      new RegExp(`uid ${JSON.parse(builtin.dashboards[0].content).uid} is already the uid of dashboards/`),
    ],
    [
      "an export for sharing externally",
      { "dashboards/shop/orders.json": dashboardJson({ __inputs: [{ name: "DS_PROMETHEUS" }] }) },
      /is an export "for sharing externally"/,
    ],
    [
      "a dashboard of a built-in one's folder and file",
      { [`dashboards/${builtin.dashboards[0].folder}/${builtin.dashboards[0].file}`]: dashboardJson() },
      /already ships a dashboard of this folder and file name/,
    ],
  ])("refuses %s, naming the key and the file", (_what, files, message) => {
    const text = refusal(files as Record<string, string>);
    expect(text).toMatch(/^Invalid stack configuration/);
    expect(text).toMatch(/monitoring:teamContent: team\//);
    expect(text).toMatch(message);
  });

  test("lists every problem of every file at once", () => {
    const text = refusal({
      "rules/a.yml": "groups: [\n",
      "rules/b.yml": GOOD_RULES.replace("ShopOrdersStalled", aBuiltinAlert),
      "dashboards/shop/orders.json": dashboardJson({ title: "" }),
    });
    expect(text).toMatch(/3 problems/);
  });

  test("the same rule checks apply to text alone", () => {
    expect(teamRuleFileProblems(GOOD_RULES, builtin)).toEqual([]);
    expect(teamRuleFileProblems("groups:\n  - name: a\n    rules: []\n", builtin)).toEqual([
      "groups[0]: rules must be a list of at least one rule",
    ]);
  });
});

describe("npm run check", () => {
  test.each(EXAMPLES)("the %s example passes: promtool check and unit tests, dashboards' datasources and queries", (example) => {
    const result = checkTeamContent(ROOT, `examples/${example}/team`, builtin);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.checked.ruleFiles).toBeGreaterThan(0);
    expect(result.checked.testFiles).toBeGreaterThan(0);
    expect(result.checked.dashboards).toBeGreaterThan(0);
  });

  test("promtool's parse error names the file and the rule", () => {
    const { root } = teamDir({ "rules/shop.yml": GOOD_RULES.replace("[15m]))", "[15m])") });
    const result = checkTeamContent(root, "team", builtin);
    expect(result.errors.join("\n")).toMatch(/^team\/rules\/shop.yml: promtool: .*ShopOrdersStalled.*could not parse expression/m);
  });

  test("a failing unit test fails the check, with promtool's account", () => {
    const { root } = teamDir({
      "rules/shop.yml": GOOD_RULES,
      // Orders stop: the alert fires, and the test that says it does not fails.
      "rules/tests/shop.test.yml": quietShopTest("5x40"),
    });
    const result = checkTeamContent(root, "team", builtin);
    expect(result.checked.testFiles).toBe(1);
    expect(result.errors.join("\n")).toMatch(/team\/rules\/tests\/shop.test.yml: promtool test rules failed:[\s\S]*ShopOrdersStalled/);
  });

  test("a passing unit test passes", () => {
    const { root } = teamDir({
      "rules/shop.yml": GOOD_RULES,
      "rules/tests/shop.test.yml": quietShopTest("0+1x40"),
    });
    expect(checkTeamContent(root, "team", builtin).errors).toEqual([]);
  });

  test("a dashboard query that does not parse, or an unknown datasource, is an error naming the panel", () => {
    const { root } = teamDir({
      "dashboards/shop/orders.json": dashboardJson({}, "sum(rate(shop_orders_total[5m])"),
      "dashboards/shop/stock.json": dashboardJson({ uid: "shop-stock", title: "Stock" }).replace(/\$\{datasource\}/g, "${DS_PROMETHEUS}"),
    });
    const errors = checkTeamContent(root, "team", builtin).errors.join("\n");
    expect(errors).toMatch(/team\/dashboards\/shop\/orders.json: .*Orders.*PromQL does not parse/);
    expect(errors).toMatch(/team\/dashboards\/shop\/stock.json: .*datasource uid \$\{DS_PROMETHEUS\}/);
  });

  test("an alert without severity or summary is a warning, not an error", () => {
    const { root } = teamDir({ "rules/shop.yml": GOOD_RULES.replace("severity: warning, ", "").replace(/annotations: .*\n/, "") });
    const result = checkTeamContent(root, "team", builtin);
    expect(result.errors).toEqual([]);
    expect(result.warnings.join("\n")).toMatch(/ShopOrdersStalled has no severity label: it reaches only the default receiver/);
    expect(result.warnings.join("\n")).toMatch(/ShopOrdersStalled has neither summary nor description/);
  });
});

describe("the npm run check command", () => {
  const check = (args: string[]) =>
    spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/check.ts", ...args], {
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

describe("the stack ships a team's content", () => {
  let rendered: Awaited<ReturnType<typeof render>>;
  beforeAll(async () => {
    rendered = await render("staging", ["teamContent=examples/tumulte/team"]);
  });

  test("its rule files join the rules ConfigMaps", () => {
    const data: Record<string, string> = Object.assign(
      {},
      ...objectsOf(rendered, "ConfigMap").map((m) => ((m.metadata.name ?? "").startsWith("prometheus-rules") ? m.data : {})),
    );
    expect(Object.keys(data)).toContain("team.tumulte.yml");
    expect(data["team.tumulte.yml"]).toContain("TumultePollsWithoutVotes");
  });

  test("its dashboards get a Grafana folder of their own", () => {
    const maps = objectsOf(rendered, "ConfigMap").filter((m) => (m.metadata.name ?? "").startsWith("grafana-dashboards-tumulte"));
    expect(maps).toHaveLength(1);
    expect(Object.keys(maps[0].data as Record<string, string>)).toEqual(["tumulte__polls.json"]);
  });

  test("a path out of the project is refused before anything is created", async () => {
    await expect(render("staging", ["teamContent=../elsewhere"])).rejects.toThrow(
      /monitoring:teamContent: must be a directory inside the project, relative to Pulumi.yaml/,
    );
    await expect(render("staging", ["teamContent=/etc"])).rejects.toThrow(/monitoring:teamContent: must be a directory inside the project/);
  });
});
