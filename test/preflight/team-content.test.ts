/**
 * A team's own rules and dashboards (preflight/team-content.ts): what the program refuses
 * before any resource exists, and that the stack ships them beside the built-in ones. What
 * `npm run check` adds with promtool and the query grammars is in test/e2e/team-content.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../../config";
import { builtinNames, readTeamContent, teamRuleFileProblems } from "../../preflight/team-content";
import { objectsOf, render } from "../support/render";
import { GOOD_RULES, dashboardJson, teamDir } from "../support/team-content";

const builtin = builtinNames();
const aBuiltinAlert = [...builtin.alerts.keys()][0];
const aBuiltinRecord = [...builtin.records.keys()][0];

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
    [
      "a file that is not YAML, with the line and column",
      { "rules/a.yml": "groups:\n  - name: a\n    rules: [\n" },
      /team\/rules\/a\.yml: is not valid YAML at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a \]/,
    ],
    [
      "a key given twice, where it is",
      { "rules/a.yml": "groups:\n  - name: a\n    name: b\n    rules: []\n" },
      /team\/rules\/a\.yml: is not valid YAML at line 3, column 5: Map keys must be unique/,
    ],
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

const LOG_RULE = `groups:
  - name: shop-logs
    rules:
      - alert: ShopPaymentsDeclined
        expr: sum(count_over_time({namespace="shop"} |= "payment declined" [5m])) > 10
        labels: { severity: warning }
        annotations: { summary: "Payments declined" }
`;

describe("a team's LogQL rules (rules/logs/)", () => {
  test("become team.<name>.yml for Loki's ruler, apart from the Prometheus rules", () => {
    const { root } = teamDir({ "rules/shop.yml": GOOD_RULES, "rules/logs/shop.yml": LOG_RULE });
    const team = readTeamContent(root, undefined, builtin);
    expect(team.rules.map((r) => [r.key, r.source])).toEqual([["team.shop.yml", "team/rules/shop.yml"]]);
    expect(team.logRules.map((r) => [r.key, r.source])).toEqual([["team.shop.yml", "team/rules/logs/shop.yml"]]);
    expect(team.logRules[0].text).toBe(LOG_RULE);
  });

  test.each([
    [
      "a recording rule (Loki's ruler would need a remote write)",
      { "rules/logs/a.yml": 'groups:\n  - name: a\n    rules:\n      - record: a:b\n        expr: sum(rate({a="b"}[1m]))\n' },
      /team\/rules\/logs\/a\.yml: groups\[0\]\.rules\[0\]: a LogQL rule file takes alerting rules only \(alert, not record\)/,
    ],
    [
      "an alert named like a shipped LogQL alert",
      { "rules/logs/a.yml": LOG_RULE.replace("ShopPaymentsDeclined", "KubePodBackOff") },
      /team\/rules\/logs\/a\.yml: groups\[0\]\.rules\[0\]: alert KubePodBackOff is a built-in alert \(rules\/logs\/events\.yml\)/,
    ],
    [
      "a Prometheus alert named like a shipped LogQL alert",
      { "rules/a.yml": GOOD_RULES.replace("ShopOrdersStalled", "KubeNodeSystemOom") },
      /team\/rules\/a\.yml: groups\[0\]\.rules\[0\]: alert KubeNodeSystemOom is a built-in alert \(rules\/logs\/events\.yml\)/,
    ],
    [
      "a folder in it",
      { "rules/logs/more/a.yml": LOG_RULE },
      /team\/rules\/logs\/more: unknown folder; rules\/logs\/ holds LogQL rule files only/,
    ],
    ["a file of another shape", { "rules/logs/a.yml": "alerts: []\n" }, /team\/rules\/logs\/a\.yml: must be a Prometheus rule file/],
  ])("refuses %s, naming the key and the file", (_what, files, message) => {
    const text = refusal(files as Record<string, string>);
    expect(text).toMatch(/monitoring:teamContent: team\//);
    expect(text).toMatch(message);
  });

  test("the stack ships them in Loki's rules ConfigMap beside the shipped ones", async () => {
    const rendered = await render("staging", ["teamContent=test/fixtures/team-log-rules"]);
    const data = objectsOf(rendered, "ConfigMap", "loki-rules")[0].data as Record<string, string>;
    expect(Object.keys(data)).toEqual(["events.yml", "team.shop.yml"]);
    expect(data["team.shop.yml"]).toBe(
      fs.readFileSync(path.join(__dirname, "..", "fixtures", "team-log-rules", "rules", "logs", "shop.yml"), "utf8"),
    );
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
