/**
 * The pod view's CPU, throttling and memory panels under the deployed promtool, on both shapes of
 * cAdvisor's series (docs/dashboards.md, "Both cAdvisor shapes"): a pod whose container series carry
 * `container` is drawn per container, its pause container left out; a k3s pod whose container series do
 * not is drawn as a whole pod, from its own cgroup alone (cgroupfs and systemd ids), never summed with
 * its containers' cgroups nor with the QoS class's cgroup above it. The panels' queries are read from
 * dashboards/infrastructure/pod.json and expanded as Grafana expands them.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import type { JsonObject } from "../../cli/dashboards/files";
import { interpolate, panelQueries, type VariableValue } from "../../lab/bench/panel-queries";
import { promtool } from "../../lab/local/binaries";
import { shippedDashboard } from "../support/dashboards";
import { tempDirs } from "../support/temp";

const tempDir = tempDirs("pod-view");

/** dashboards/infrastructure/pod.json, parsed. */
const podView = (): JsonObject => shippedDashboard("infrastructure/pod.json");

/** The view's query reading `metric` from cAdvisor (the one target of its panel that does). */
function cadvisorQuery(metric: string): string {
  const found = panelQueries(podView())
    .flatMap((p) => p.targets.map((t) => t.expr))
    .filter((e) => e.includes(`${metric}{job="cadvisor"`) && e.includes("whole pod"));
  if (found.length !== 1) throw new Error(`the pod view has ${found.length} cAdvisor queries of ${metric} with a whole-pod fallback`);
  return found[0];
}

const one = (value: string): VariableValue => ({ values: [value], all: false, multi: false, includeAll: false });
/** The Container variable at All (the view's own allValue), or one container. */
const containerVar = (value?: string): VariableValue => {
  if (value !== undefined) return { values: [value], all: false, multi: true, includeAll: true };
  const list = (podView().templating as { list?: Array<{ name?: string; allValue?: string }> } | undefined)?.list ?? [];
  const allValue = list.find((v) => v.name === "container")?.allValue;
  if (allValue === undefined) throw new Error("the pod view's container variable has no allValue");
  return { values: [], all: true, multi: true, includeAll: true, allValue };
};

/** A query of the view for one pod of namespace shop, `$__rate_interval` at 2m (one sample a minute). */
function expand(expr: string, pod: string, container?: string): string {
  const variables = new Map([
    ["namespace", one("shop")],
    ["pod", one(pod)],
    ["container", containerVar(container)],
  ]);
  return interpolate(expr, variables, { __rate_interval: "2m" });
}

/** The node's series, a sample a minute: counters as per-second rates, gauges as values. */
interface Cgroup {
  labels: string;
  cpu: number;
  throttled: number;
  periods: number;
  memory: number;
}

const MI = 2 ** 20;
const cgroup = (labels: string, cpu: number, throttled: number, periods: number, memory: number): Cgroup => ({
  labels,
  cpu,
  throttled,
  periods,
  memory,
});

const LABELLED = "/kubepods/burstable/pod11111111";
const K3S = "/kubepods/burstable/pod22222222";
const SYSTEMD = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod33333333.slice";
const at = (pod: string, container: string, id: string) =>
  `job="cadvisor", namespace="shop", pod="${pod}", container="${container}", image="", id="${id}"`;

const NODE: Cgroup[] = [
  // A labelled node's pod: its own cgroup, two containers and the pause container.
  cgroup(at("web-labelled", "", LABELLED), 1.0, 1, 20, 420 * MI),
  cgroup(at("web-labelled", "app", `${LABELLED}/aaa`), 0.75, 1, 10, 300 * MI),
  cgroup(at("web-labelled", "sidecar", `${LABELLED}/bbb`), 0.25, 0, 10, 100 * MI),
  cgroup(at("web-labelled", "POD", `${LABELLED}/pause`), 0, 0, 0, 1 * MI),
  // A k3s pod: its containers' cgroups carry neither container nor image. Its own cgroup as the cadvisor job stores it
  // (cgroup="pod": test/e2e/cadvisor-cgroup.test.ts); the other pods' as they were stored before that label, as the
  // hour before an upgrade holds them: the view reads both alike.
  cgroup(`${at("web-k3s", "", K3S)}, cgroup="pod"`, 0.6, 2, 10, 500 * MI),
  cgroup(at("web-k3s", "", `${K3S}/ccc`), 0.4, 5, 10, 300 * MI),
  cgroup(at("web-k3s", "", `${K3S}/ddd`), 0.2, 5, 10, 200 * MI),
  // A k3s pod on the systemd cgroup driver.
  cgroup(at("web-systemd", "", SYSTEMD), 0.3, 3, 10, 64 * MI),
  cgroup(at("web-systemd", "", `${SYSTEMD}/cri-containerd-eee.scope`), 0.3, 0, 10, 60 * MI),
  // The QoS class's cgroup above the pods, and another namespace's pod of the same name.
  cgroup(`job="cadvisor", container="", image="", id="/kubepods/burstable"`, 1.6, 0, 0, 920 * MI),
  cgroup(
    `job="cadvisor", namespace="other", pod="web-k3s", container="", image="", id="/kubepods/burstable/pod44444444"`,
    5,
    5,
    10,
    999 * MI,
  ),
];

function inputSeries(): Array<{ series: string; values: string }> {
  const counter = (perSecond: number) => `0+${perSecond * 60}x10`;
  return NODE.flatMap((c) => [
    { series: `container_cpu_usage_seconds_total{${c.labels}, cpu="total"}`, values: counter(c.cpu) },
    { series: `container_cpu_cfs_throttled_periods_total{${c.labels}}`, values: counter(c.throttled) },
    { series: `container_cpu_cfs_periods_total{${c.labels}}`, values: counter(c.periods) },
    { series: `container_memory_working_set_bytes{${c.labels}}`, values: `${c.memory}x10` },
  ]);
}

/** promtool's answer to each expression at minute 5: passes, or fails naming what it got. */
function expectAt5m(cases: Array<{ expr: string; exp_samples: Array<{ labels: string; value: number }> }>): void {
  const dir = tempDir();
  const tests = {
    rule_files: [],
    evaluation_interval: "1m",
    tests: [{ interval: "1m", input_series: inputSeries(), promql_expr_test: cases.map((c) => ({ ...c, eval_time: "5m" })) }],
  };
  fs.writeFileSync(path.join(dir, "pod-view.test.yml"), YAML.stringify(tests));
  const result = promtool(["test", "rules", "pod-view.test.yml"], dir);
  expect(result.output).toContain("SUCCESS");
  expect(result.ok).toBe(true);
}

const CPU = cadvisorQuery("container_cpu_usage_seconds_total");
const THROTTLING = cadvisorQuery("container_cpu_cfs_throttled_periods_total");
const MEMORY = cadvisorQuery("container_memory_working_set_bytes");

describe("the pod view on both shapes of cAdvisor's series, under promtool", () => {
  test("a labelled pod per container, the pause container left out; one container when one is chosen", () => {
    expectAt5m([
      {
        expr: expand(CPU, "web-labelled"),
        exp_samples: [
          { labels: '{container="app"}', value: 0.75 },
          { labels: '{container="sidecar"}', value: 0.25 },
        ],
      },
      {
        expr: expand(THROTTLING, "web-labelled"),
        exp_samples: [
          { labels: '{container="app"}', value: 0.1 },
          { labels: '{container="sidecar"}', value: 0 },
        ],
      },
      {
        expr: expand(MEMORY, "web-labelled"),
        exp_samples: [
          { labels: '{container="app"}', value: 300 * MI },
          { labels: '{container="sidecar"}', value: 100 * MI },
        ],
      },
      { expr: expand(CPU, "web-labelled", "sidecar"), exp_samples: [{ labels: '{container="sidecar"}', value: 0.25 }] },
    ]);
  });

  test("a k3s pod as a whole, from its own cgroup alone, on cgroupfs and systemd ids", () => {
    const whole = '{container="whole pod"}';
    expectAt5m([
      { expr: expand(CPU, "web-k3s"), exp_samples: [{ labels: whole, value: 0.6 }] },
      { expr: expand(THROTTLING, "web-k3s"), exp_samples: [{ labels: whole, value: 0.2 }] },
      { expr: expand(MEMORY, "web-k3s"), exp_samples: [{ labels: whole, value: 500 * MI }] },
      { expr: expand(CPU, "web-systemd"), exp_samples: [{ labels: whole, value: 0.3 }] },
      { expr: expand(THROTTLING, "web-systemd"), exp_samples: [{ labels: whole, value: 0.3 }] },
      { expr: expand(MEMORY, "web-systemd"), exp_samples: [{ labels: whole, value: 64 * MI }] },
    ]);
  });
});
