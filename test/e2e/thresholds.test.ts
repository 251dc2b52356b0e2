/**
 * Per-stack thresholds of the node alerts, run by the deployed promtool: seed 000's thresholds
 * reach the rules Prometheus loads, pass `promtool check rules`, and fire where the stack says,
 * as a promtool unit test shows (test/components/thresholds.test.ts checks the transformation
 * itself, without a binary).
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { promtool } from "../../lab/local/binaries";
import { render } from "../support/render";
import { RULES_DIR } from "../support/rules";
import { tempDirs } from "../support/temp";

const NODES = fs.readFileSync(path.join(RULES_DIR, "nodes.yml"), "utf8");

/** Seed 000's node alerts: CPU over 80 % for 10 minutes (a warning, no critical), RAM under 10 % available critical, disk under 15 %. */
const SEED_000 = {
  nodeCpu: { warning: { percent: 80, for: "10m" }, critical: { enabled: false } },
  nodeMemory: { warning: { percent: 80 }, critical: { percent: 90 } },
  nodeDisk: { warning: { percent: 15 } },
};

const tempDir = tempDirs("thresholds");

describe("seed 000's thresholds, with the deployed promtool", () => {
  const dir = tempDir();
  const seedRules = path.join(dir, "seed-000.yml");
  const defaultRules = path.join(dir, "defaults.yml");

  beforeAll(async () => {
    // nodes.yml ships with node-exporter, in the stack that watches the cluster (watch.cluster).
    const rendered = await render("staging", ["watch.cluster=true", `thresholds=${JSON.stringify(SEED_000)}`]);
    const shipped = [...rendered.files.entries()].find(([key]) => key.endsWith("/nodes.yml"));
    if (!shipped) throw new Error("the render ships no nodes.yml");
    fs.writeFileSync(seedRules, shipped[1]);
    fs.writeFileSync(defaultRules, NODES);
  });

  test("the rendered rules pass promtool check rules", () => {
    const { ok, output } = promtool(["check", "rules", seedRules]);
    expect(output).toContain("SUCCESS");
    expect(ok).toBe(true);
  });

  /**
   * node-a's CPU works 51 s of every 60 (85 %) and 92 % of its memory is used, from 0m. Seed 000's
   * CPU warning (80 %, 10m) holds from 5m (the rate's window full) and fires at 15m; its memory
   * critical (90 %, 2m) fires at 2m. At the defaults (CPU 90 %, memory warning 90 % for 5m,
   * critical 95 %), CPU never fires and memory fires its warning only, at 5m.
   */
  const series = [
    { series: 'node_cpu_seconds_total{job="node-exporter", instance="node-a", cpu="0", mode="user"}', values: "0+51x20" },
    { series: 'node_cpu_seconds_total{job="node-exporter", instance="node-a", cpu="0", mode="idle"}', values: "0+9x20" },
    { series: 'node_memory_MemTotal_bytes{job="node-exporter", instance="node-a"}', values: "16e9x20" },
    { series: 'node_memory_MemAvailable_bytes{job="node-exporter", instance="node-a"}', values: "1.28e9x20" },
  ];
  const labels = { job: "node-exporter", instance: "node-a" };
  const cpu = (description: string) => ({
    exp_labels: { severity: "warning", ...labels },
    exp_annotations: { summary: "A node's CPU is nearly saturated.", description, runbook: "docs/runbooks.md#nodecpuhighusage" },
  });
  const memory = (severity: string, summary: string, description: string) => ({
    exp_labels: { severity, ...labels },
    exp_annotations: { summary, description, runbook: "docs/runbooks.md#nodememoryhighusage" },
  });

  function unitTest(ruleFile: string, alerts: unknown[]): string {
    const file = path.join(dir, `${path.basename(ruleFile, ".yml")}.test.yml`);
    fs.writeFileSync(
      file,
      YAML.stringify({
        rule_files: [ruleFile],
        evaluation_interval: "1m",
        tests: [{ interval: "1m", input_series: series, alert_rule_test: alerts }],
      }),
    );
    return file;
  }

  test("seed 000's levels fire at their thresholds, with annotations that quote them", () => {
    const file = unitTest(seedRules, [
      { eval_time: "14m", alertname: "NodeCpuHighUsage", exp_alerts: [] },
      {
        eval_time: "15m",
        alertname: "NodeCpuHighUsage",
        exp_alerts: [cpu("Node node-a has been 85% busy (5-minute average) for 10 minutes.")],
      },
      { eval_time: "1m", alertname: "NodeMemoryHighUsage", exp_alerts: [] },
      {
        eval_time: "2m",
        alertname: "NodeMemoryHighUsage",
        exp_alerts: [
          memory(
            "critical",
            "A node is almost out of memory.",
            "Node node-a uses 92% of its memory; less than 10 % is available and the OOM killer is near.",
          ),
        ],
      },
    ]);
    const { ok, output } = promtool(["test", "rules", file]);
    expect(output).toContain("SUCCESS");
    expect(ok).toBe(true);
  });

  test("the same series at the default levels: no CPU alert, and only the memory warning, later", () => {
    const file = unitTest(defaultRules, [
      { eval_time: "20m", alertname: "NodeCpuHighUsage", exp_alerts: [] },
      { eval_time: "4m", alertname: "NodeMemoryHighUsage", exp_alerts: [] },
      {
        eval_time: "5m",
        alertname: "NodeMemoryHighUsage",
        exp_alerts: [
          memory("warning", "A node is running low on memory.", "Node node-a uses 92% of its memory; less than 10 % is available."),
        ],
      },
    ]);
    const { ok, output } = promtool(["test", "rules", file]);
    expect(output).toContain("SUCCESS");
    expect(ok).toBe(true);
  });

  test("and the seed's rules fail the default expectations: the difference is the thresholds", () => {
    const file = unitTest(seedRules, [{ eval_time: "20m", alertname: "NodeCpuHighUsage", exp_alerts: [] }]);
    const { ok, output } = promtool(["test", "rules", file]);
    expect(output).toMatch(/NodeCpuHighUsage/);
    expect(ok).toBe(false);
  });
});
