/**
 * A hostile namespace's PrometheusRule as the stack loads it, under the deployed promtool: the
 * file held to the object's namespace passes `promtool check rules`; in `promtool test rules` a
 * rule of `billing` that reads `shop`'s series sees billing's only, a count over every namespace
 * counts billing's, and an alert whose expression hands itself `watchdog="true"` reaches
 * Alertmanager without it (Prometheus drops a label its rule sets empty). The same test on the
 * object as written fails, so the test can fail.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { PrometheusRuleObject, objectRuleFileText } from "../../components/prometheus/rules/operator-rules";
import { promtool } from "../../lab/local/binaries";
import { operatorRuleFiles } from "../../preflight/operator-rules";
import { tenantRulePolicy } from "../../preflight/tenant-policy";
import { parse } from "../config/support";
import { ALERT_EXPR, QUERY_TEMPLATES, QueryTemplate, SHOP_SERIES, SHOP_VALUE } from "../support/query-templates";

const hostile: PrometheusRuleObject = {
  namespace: "billing",
  name: "reader",
  generation: 1,
  spec: {
    groups: [
      {
        name: "billing",
        rules: [
          { record: "billing:up:count", expr: "count(up)" },
          { alert: "ShopApiDown", expr: 'up{namespace="shop", job="api"} == 0', for: "1m", labels: { severity: "critical" } },
          { alert: "Sneaky", expr: 'label_replace(vector(1), "watchdog", "true", "", "")', labels: { severity: "warning" } },
        ],
      },
    ],
  },
};

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tenant-rules-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const unitTest = (ruleFile: string) => ({
  rule_files: [ruleFile],
  evaluation_interval: "1m",
  tests: [
    {
      interval: "1m",
      input_series: [
        { series: 'up{namespace="shop", job="api", instance="10.0.0.1:80"}', values: "0x10" },
        { series: 'up{namespace="billing", job="api", instance="10.0.0.2:80"}', values: "1x10" },
      ],
      promql_expr_test: [
        { expr: "billing:up:count", eval_time: "5m", exp_samples: [{ labels: 'billing:up:count{namespace="billing"}', value: 1 }] },
      ],
      alert_rule_test: [
        { eval_time: "5m", alertname: "ShopApiDown", exp_alerts: [] },
        { eval_time: "5m", alertname: "Sneaky", exp_alerts: [{ exp_labels: { severity: "warning", namespace: "billing" } }] },
      ],
    },
  ],
});

test("the file held to its namespace loads, reads billing's series only, and its alert carries no watchdog", () => {
  const policy = tenantRulePolicy(parse("staging", { profile: "staging", environment: "staging", monitors: { enabled: true } }).config);
  const { files, warnings } = operatorRuleFiles([hostile], policy, [], "monitoring:monitors.rules");
  expect(warnings).toEqual([]);
  const [key, text] = files[0];
  expect(key).toBe("operator.billing.reader.yml");
  fs.writeFileSync(path.join(dir, key), text);
  const checked = promtool(["check", "rules", path.join(dir, key)]);
  expect(checked.output).toMatch(/SUCCESS: 3 rules found/);
  expect(checked.ok).toBe(true);

  fs.writeFileSync(path.join(dir, "held.test.yml"), YAML.stringify(unitTest(key)));
  const held = promtool(["test", "rules", "held.test.yml"], dir);
  expect(held.output).toMatch(/SUCCESS/);
  expect(held.ok).toBe(true);
});

test("the object as written fails the same test: it reads shop's series, counts both namespaces, and routes to the dead man's switch", () => {
  fs.writeFileSync(path.join(dir, "as-written.yml"), objectRuleFileText(hostile));
  fs.writeFileSync(path.join(dir, "as-written.test.yml"), YAML.stringify(unitTest("as-written.yml")));
  const result = promtool(["test", "rules", "as-written.test.yml"], dir);
  expect(result.ok).toBe(false);
  expect(result.output).toMatch(/billing:up:count/);
  expect(result.output).toMatch(/ShopApiDown/);
  expect(result.output).toMatch(/watchdog="true"/);
});

test("what a template calling query reads, under promtool: shop's series for each form the stack refuses, none for each it loads", () => {
  const rules = QUERY_TEMPLATES.map((t, i) => ({ alert: `Template${i}`, expr: ALERT_EXPR, annotations: { d: t.template } }));
  fs.writeFileSync(path.join(dir, "templates.yml"), YAML.stringify({ groups: [{ name: "templates", rules }] }));
  const checked = promtool(["check", "rules", path.join(dir, "templates.yml")]);
  expect(checked.output).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
  const tests = (expansion: (t: QueryTemplate) => string) => ({
    rule_files: ["templates.yml"],
    evaluation_interval: "1m",
    tests: [
      {
        interval: "1m",
        input_series: [{ series: SHOP_SERIES, values: `${SHOP_VALUE}x10` }],
        alert_rule_test: QUERY_TEMPLATES.map((t, i) => ({
          eval_time: "5m",
          alertname: `Template${i}`,
          exp_alerts: [{ exp_labels: { query: "fielded" }, exp_annotations: { d: expansion(t) } }],
        })),
      },
    ],
  });
  fs.writeFileSync(path.join(dir, "templates.test.yml"), YAML.stringify(tests((t) => t.expansion)));
  const expanded = promtool(["test", "rules", "templates.test.yml"], dir);
  expect(expanded.output).toMatch(/SUCCESS/);
  expect(expanded.ok).toBe(true);
  // The same test with shop's value taken out of every expansion fails on each template that calls query, and only on those.
  fs.writeFileSync(path.join(dir, "blind.test.yml"), YAML.stringify(tests((t) => t.expansion.replace(String(SHOP_VALUE), ""))));
  const blind = promtool(["test", "rules", "blind.test.yml"], dir);
  expect(blind.ok).toBe(false);
  const failing = QUERY_TEMPLATES.map((t, i) => ({ t, failed: new RegExp(`alertname: Template${i}\\b`).test(blind.output) }));
  expect(failing.filter((f) => f.failed).map((f) => f.t.name)).toEqual(QUERY_TEMPLATES.filter((t) => t.calls).map((t) => t.name));
});
