/**
 * Why a tenant's series may never carry a job of the stack's own (components/kit/stack-jobs.ts), under
 * the deployed promtool on the production stack's rendered rules: a busy node (its CPUs, memory and root
 * filesystem full, the root filesystem read-only) and kube-state-metrics down fire seven alerts; six
 * series of namespace shop wearing node-exporter's and kube-state-metrics' jobs (three idle CPUs, much
 * free memory, a writable root, kube-state-metrics' up) silence all seven, since the rules count by
 * `job, instance` and `max by (job)`; the same series as the collector now writes them, under
 * `shop/<job>` (tenantJobRename, test/e2e/monitors-live.test.ts on the real Alloy), leave all seven firing.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { tenantJobRename } from "../../components/log-collector/monitors";
import { promtool } from "../../lab/local/binaries";
import { render } from "../support/render";

const RULE_FILES = ["nodes.yml", "stack.yml", "apps.rules.yml"];
const NODE = 'job="node-exporter",instance="node1",namespace="monitoring-production-agents"';

/** The stack's own series: node1 busy and full, kube-state-metrics down. */
const REAL = [
  { series: `node_cpu_seconds_total{${NODE},cpu="0",mode="idle"}`, values: "0+0.15x80" },
  { series: `node_cpu_seconds_total{${NODE},cpu="0",mode="user"}`, values: "0+14.85x80" },
  { series: `node_memory_MemAvailable_bytes{${NODE}}`, values: "2x80" },
  { series: `node_memory_MemTotal_bytes{${NODE}}`, values: "100x80" },
  ...["avail", "size"].map((what, i) => ({
    series: `node_filesystem_${what}_bytes{${NODE},device="/dev/sda1",mountpoint="/",fstype="ext4"}`,
    values: i === 0 ? "2x80" : "100x80",
  })),
  { series: `node_filesystem_readonly{${NODE},device="/dev/sda1",mountpoint="/",fstype="ext4"}`, values: "0x80" },
  { series: 'up{job="kube-state-metrics",instance="10.0.0.5:8080",namespace="monitoring-production"}', values: "0x80" },
];

/** A tenant's six series of namespace shop, each with the job `job` makes of the stack's. */
const tenant = (job: (stackJob: string) => string) => {
  const node = `job="${job("node-exporter")}",instance="node1",namespace="shop"`;
  return [
    ...["f1", "f2", "f3"].map((cpu) => ({ series: `node_cpu_seconds_total{${node},cpu="${cpu}",mode="idle"}`, values: "0x80" })),
    { series: `node_memory_MemAvailable_bytes{${node}}`, values: "1000x80" },
    { series: `node_filesystem_readonly{${node},device="/dev/sda1",mountpoint="/"}`, values: "1x80" },
    { series: `up{job="${job("kube-state-metrics")}",instance="10.9.9.9:8080",namespace="shop"}`, values: "1x80" },
  ];
};

/** What the collector's last rule makes of a monitor's job in shop (Prometheus' relabelling: anchored regex, ${1}). */
const renamed = (job: string) => {
  const rule = tenantJobRename("shop");
  const m = new RegExp(`^(?:${rule.regex})$`).exec(job);
  return m ? (rule.replacement ?? "").replace("${1}", m[1]) : job;
};

const SEVEN = [
  ["NodeCpuHighUsage", "critical"],
  ["NodeCpuHighUsage", "warning"],
  ["NodeFilesystemAlmostFull", "critical"],
  ["NodeFilesystemAlmostFull", "warning"],
  ["NodeMemoryHighUsage", "critical"],
  ["NodeMemoryHighUsage", "warning"],
  ["PrometheusJobDown", "critical"],
].map(([alertname, severity]) => ({ labels: `{alertname="${alertname}", severity="${severity}"}`, value: 1 }));

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-jobs-"));
  const rendered = await render("production");
  for (const file of RULE_FILES) fs.writeFileSync(path.join(dir, file), rendered.files.get(`prometheus/${file}`) ?? "");
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** promtool test rules: the seven alerts firing at 15 minutes with these input series. */
function sevenFire(name: string, inputSeries: Array<{ series: string; values: string }>) {
  const file = path.join(dir, `${name}.test.yml`);
  fs.writeFileSync(
    file,
    YAML.stringify({
      rule_files: RULE_FILES,
      evaluation_interval: "15s",
      tests: [
        {
          name,
          interval: "15s",
          input_series: inputSeries,
          promql_expr_test: [
            {
              expr: 'count by (alertname, severity) (ALERTS{alertstate="firing", alertname=~"NodeCpuHighUsage|NodeMemoryHighUsage|NodeFilesystemAlmostFull|PrometheusJobDown"})',
              eval_time: "15m",
              exp_samples: SEVEN,
            },
          ],
        },
      ],
    }),
  );
  return promtool(["test", "rules", path.basename(file)], dir);
}

test("the stack's own series fire the seven alerts", () => {
  const result = sevenFire("real", REAL);
  expect(result.output).toContain("SUCCESS");
  expect(result.ok).toBe(true);
});

test("beside them, a tenant's series under shop/<job>, as the collector writes them, leave all seven firing", () => {
  expect(renamed("node-exporter")).toBe("shop/node-exporter");
  expect(renamed("kube-state-metrics")).toBe("shop/kube-state-metrics");
  const result = sevenFire("renamed", [...REAL, ...tenant(renamed)]);
  expect(result.output).toContain("SUCCESS");
  expect(result.ok).toBe(true);
});

test("the same series wearing the stack's jobs, as a monitor could before, silence them: the check above can fail", () => {
  const result = sevenFire("worn", [...REAL, ...tenant((job) => job)]);
  expect(result.ok).toBe(false);
  expect(result.output).toMatch(/FAILED/);
});
