/**
 * The operator's objects under the exact binaries the stack deploys: the collector's config with
 * the monitors (Alloy's prometheus.operator.* components) accepted by `alloy validate` and left
 * as they are by `alloy fmt`; charts' PrometheusRules (test/fixtures/operator-objects/) turned into
 * rule files that `promtool check rules` accepts, one of their alerts firing on a fault in
 * `promtool test rules`; and PrometheusRuleNotLoaded firing exactly for an object kube-state-metrics
 * reports that the stack has not loaded, or loaded at an earlier generation.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { EXISTING_METRIC, PrometheusRuleObject } from "../../components/prometheus/rules/operator-rules";
import { runBinary, promtool } from "../../lab/local/binaries";
import { operatorRuleFiles } from "../../preflight/operator-rules";
import { tenantRulePolicy } from "../../preflight/tenant-policy";
import { parse } from "../config/support";
import { render } from "../support/render";

const FIXTURES = path.join(__dirname, "..", "fixtures", "operator-objects");
const fixture = (file: string, namespace: string, generation: number): PrometheusRuleObject => {
  const o = YAML.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8")) as { metadata: { name: string }; spec: unknown };
  return { namespace, name: o.metadata.name, generation, spec: o.spec };
};

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "monitors-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the collector's config with the monitors, under the deployed Alloy", () => {
  let file: string;
  beforeAll(async () => {
    const rendered = await render("staging", ["monitors.enabled=true", "monitors.selector={release: shop}"]);
    file = path.join(dir, "config.alloy");
    fs.writeFileSync(file, rendered.files.get("log-collector/config.alloy") ?? "");
  });

  test("alloy validate accepts it, and alloy fmt leaves it as it is", () => {
    const text = fs.readFileSync(file, "utf8");
    // One set of watchers per namespace read, each forwarding through the relabelling that holds its namespace.
    for (const kind of ["servicemonitors", "podmonitors", "probes"])
      expect(text).toMatch(new RegExp(`prometheus\\.operator\\.${kind} "monitors_\\w+"`));
    expect(text).toMatch(/prometheus\.relabel "monitors_\w+"/);
    const validated = runBinary("alloy", ["validate", file]);
    expect(validated.output).toBe("");
    expect(validated.ok).toBe(true);
    expect(runBinary("alloy", ["fmt", file]).output).toBe(text);
  });

  test("alloy validate refuses an argument the operator components do not take, so the check above can fail", () => {
    const broken = path.join(dir, "broken.alloy");
    fs.writeFileSync(broken, fs.readFileSync(file, "utf8").replace("kubernetes_role", "kubernetes_roles"));
    const result = runBinary("alloy", ["validate", broken]);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/kubernetes_roles/);
  });
});

describe("charts' PrometheusRules under the deployed promtool", () => {
  const objects = [
    fixture("cnpg-prometheusrule.yaml", "cnpg-system", 2),
    fixture("kube-prometheus-alertmanager-prometheusrule.yaml", "monitoring", 1),
  ];
  let files: Array<[string, string]>;
  beforeAll(() => {
    files = operatorRuleFiles(
      objects,
      tenantRulePolicy(parse("staging", { profile: "staging", environment: "staging", monitors: { enabled: true } }).config),
      [],
      "monitoring:monitors.rules",
    ).files;
    for (const [key, text] of files) fs.writeFileSync(path.join(dir, key), text);
  });

  test("promtool check rules accepts every file", () => {
    for (const [key] of files) {
      const result = promtool(["check", "rules", path.join(dir, key)]);
      expect({ key, output: result.output, ok: result.ok }).toMatchObject({ key, ok: true });
    }
  });

  test("a chart's alert fires on its fault; PrometheusRuleNotLoaded only for what was not loaded", () => {
    const tests = {
      rule_files: files.map(([key]) => key),
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            // CloudNativePG: a transaction running for 400 s, past its 300 s threshold.
            { series: 'cnpg_backends_max_tx_duration_seconds{namespace="cnpg-system", pod="db-1"}', values: "400x20" },
            // kube-state-metrics: both objects at the generation loaded, and one the stack never loaded.
            { series: `${EXISTING_METRIC}{namespace="cnpg-system", name="cnpg-default-alerts"}`, values: "2x30" },
            { series: `${EXISTING_METRIC}{namespace="monitoring", name="alertmanager-main-rules"}`, values: "1x30" },
            { series: `${EXISTING_METRIC}{namespace="shop", name="added-after-up"}`, values: "1x30" },
          ],
          alert_rule_test: [
            {
              eval_time: "5m",
              alertname: "LongRunningTransaction",
              exp_alerts: [
                {
                  exp_labels: { severity: "warning", namespace: "cnpg-system", pod: "db-1" },
                  exp_annotations: {
                    description: "Pod db-1 is taking more than 5 minutes (300 seconds) for a query.",
                    summary: "A query is taking longer than 5 minutes.",
                  },
                },
              ],
            },
            {
              eval_time: "20m",
              alertname: "PrometheusRuleNotLoaded",
              exp_alerts: [
                // kube-prometheus' Alertmanager rules name an alert like a built-in one: refused at up, so never loaded.
                {
                  exp_labels: { severity: "warning", namespace: "monitoring", name: "alertmanager-main-rules" },
                  exp_annotations: {
                    summary: "A PrometheusRule exists that Prometheus has not loaded.",
                    description:
                      "The PrometheusRule monitoring/alertmanager-main-rules exists (generation 1) but the running stack has not loaded it, or loaded an earlier generation: " +
                      "PrometheusRules are read at pulumi up. Run pulumi up; if it still fires, pulumi up's warnings name what keeps the object out.",
                    runbook: "docs/runbooks.md#prometheusrulenotloaded",
                  },
                },
                {
                  exp_labels: { severity: "warning", namespace: "shop", name: "added-after-up" },
                  exp_annotations: {
                    summary: "A PrometheusRule exists that Prometheus has not loaded.",
                    description:
                      "The PrometheusRule shop/added-after-up exists (generation 1) but the running stack has not loaded it, or loaded an earlier generation: " +
                      "PrometheusRules are read at pulumi up. Run pulumi up; if it still fires, pulumi up's warnings name what keeps the object out.",
                    runbook: "docs/runbooks.md#prometheusrulenotloaded",
                  },
                },
              ],
            },
          ],
        },
        {
          interval: "1m",
          // The object changed after up (generation 3, loaded 2): fires too.
          input_series: [{ series: `${EXISTING_METRIC}{namespace="cnpg-system", name="cnpg-default-alerts"}`, values: "3x30" }],
          alert_rule_test: [
            {
              eval_time: "20m",
              alertname: "PrometheusRuleNotLoaded",
              exp_alerts: [
                {
                  exp_labels: { severity: "warning", namespace: "cnpg-system", name: "cnpg-default-alerts" },
                  exp_annotations: {
                    summary: "A PrometheusRule exists that Prometheus has not loaded.",
                    description:
                      "The PrometheusRule cnpg-system/cnpg-default-alerts exists (generation 3) but the running stack has not loaded it, or loaded an earlier generation: " +
                      "PrometheusRules are read at pulumi up. Run pulumi up; if it still fires, pulumi up's warnings name what keeps the object out.",
                    runbook: "docs/runbooks.md#prometheusrulenotloaded",
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const testFile = path.join(dir, "operator-rules.test.yml");
    fs.writeFileSync(testFile, YAML.stringify(tests));
    const result = promtool(["test", "rules", testFile], dir);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.ok).toBe(true);
    // The same test with the object loaded fails: the alert did not fire for it, so the test can fail.
    fs.writeFileSync(
      testFile,
      YAML.stringify(tests)
        .replace(/added-after-up/g, "cnpg-default-alerts")
        .replace(/namespace: shop/g, "namespace: cnpg-system"),
    );
    expect(promtool(["test", "rules", testFile], dir).ok).toBe(false);
  });
});
