/**
 * The benchmark's arithmetic, offline (lab/bench/figures.ts, report.ts, workload.ts):
 * what turns samples into figures, figures into requests and limits, two runs into a ratio,
 * a config into an alert-latency bound, a directory into a rule set. The binaries run only
 * under `npm run bench`.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import {
  HEADROOM,
  RENDER_PROCESS_SECONDS,
  Sample,
  alertFor,
  alertLatencyBound,
  cpuSecondsOfTimes,
  median,
  medianByKey,
  parseBenchArgs,
  meanRuleCycleSeconds,
  ruleCycleSeconds,
  ruleGroupDurations,
  workloadProblems,
  phaseFigures,
  ratios,
  slope,
  readRuleSet,
  sizeFrom,
} from "../../lab/bench/figures";
import type { LiveResult } from "../../lab/bench/live";
import { type DashboardRun, type DashboardTiming, type QueryTiming, SLOW_PANEL_SECONDS } from "../../lab/bench/dashboard-timing";
import { metricValues } from "../../lab/local/text-format";
import {
  GO_HEAP_GROWTH,
  LOKI_MAX_CHUNK_AGE_SECONDS,
  buildLiveReport,
  liveTables,
  lokiAllowance,
  writeLiveOnlyReport,
} from "../../lab/bench/report";
import { COMPARED_SHARE, waitTargets } from "../../lab/bench/wait-targets";
import { benchApps, benchPods, kubeStateMetricsText } from "../../lab/bench/workload";
import { PROFILE_DEFAULTS } from "../../config";
import { EXPORTER_RESOURCES } from "../../components/database-exporters/kinds";
import type { ResourceRequirements } from "../../components/kit/resources";

const MIB = 1024 * 1024;

function samples(n: number, every: number, f: (i: number) => Partial<Sample>): Sample[] {
  return Array.from({ length: n }, (_, i) => ({ at: i * every * 1000, rssBytes: 0, cpuSeconds: 0, writtenBytes: 0, ...f(i) }));
}

describe("phase figures", () => {
  test("median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no values/);
  });

  test("CPU is CPU-seconds over wall seconds, writes are extrapolated to a day, memory is median and peak", () => {
    // 11 samples 10 s apart: 100 s; 25 CPU-seconds used (250m); 1 MiB written (864 × 1 MiB a day).
    const s = samples(11, 10, (i) => ({
      rssBytes: (i === 7 ? 300 : 100 + i) * MIB,
      heapBytes: (50 + i) * MIB,
      cpuSeconds: 4 + i * 2.5,
      writtenBytes: i * 0.1 * MIB,
    }));
    const f = phaseFigures(s);
    expect(f.seconds).toBe(100);
    expect(f.millicores).toBeCloseTo(250, 6);
    expect(f.peakMillicores).toBeCloseTo(250, 6);
    expect(f.writtenBytesPerDay).toBeCloseTo(864 * MIB, 0);
    expect(f.rssBytes).toBe(105 * MIB);
    expect(f.peakRssBytes).toBe(300 * MIB);
    expect(f.heapBytes).toBe(55 * MIB);
    expect(f.peakHeapBytes).toBe(60 * MIB);
  });

  test("the heap's growth is the least-squares slope of its samples", () => {
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBeCloseTo(2, 9);
    expect(
      slope([
        [0, 10],
        [1, 0],
        [2, 10],
        [3, 0],
      ]),
    ).toBeCloseTo(-2, 9);
    expect(slope([[5, 1]])).toBe(0);
    const f = phaseFigures(samples(5, 10, (i) => ({ heapBytes: 100 * MIB + i * 10 * 1024 })));
    expect(f.heapSlopeBytesPerSecond).toBeCloseTo(1024, 6);
  });

  test("Loki's allowance: what it receives until its chunks are max_chunk_age old, compressed as its flushed chunks", () => {
    const rest = LOKI_MAX_CHUNK_AGE_SECONDS - 600;
    expect(lokiAllowance(1000, 600, { receivedBytes: 4e6, chunkBytes: 1e6 })).toBeCloseTo((GO_HEAP_GROWTH * 1000 * rest) / 4, 6);
    // No flush measured: uncompressed, an upper bound; a flush that grew the bytes never counts as less than 1:1.
    expect(lokiAllowance(1000, 600)).toBe(GO_HEAP_GROWTH * 1000 * rest);
    expect(lokiAllowance(1000, 600, { receivedBytes: 1e6, chunkBytes: 2e6 })).toBe(GO_HEAP_GROWTH * 1000 * rest);
    expect(lokiAllowance(1000, LOKI_MAX_CHUNK_AGE_SECONDS + 1)).toBe(0);
  });

  test("a process without a Go heap has no heap figures; one sample is not a phase", () => {
    const f = phaseFigures(samples(3, 5, (i) => ({ rssBytes: MIB * (i + 1), cpuSeconds: i })));
    expect(f.heapBytes).toBeUndefined();
    expect(() => phaseFigures(samples(1, 5, () => ({})))).toThrow(/at least 2 samples/);
  });
});

describe("requests and limits from measurements", () => {
  test("requests are steady × headroom, the memory limit peak × headroom, rounded up to 5m and 16 MiB", () => {
    const size = sizeFrom(
      { steadyMillicores: 41, steadyRssBytes: 200 * MIB, peakRssBytes: 300 * MIB },
      { cpuRequest: 1.25, memoryRequest: 1.25, memoryLimit: 1.5 },
    );
    expect(size).toEqual({ cpuRequestMillicores: 55, memoryRequestBytes: 256 * MIB, memoryLimitBytes: 464 * MIB }); // 51.25 → 55, 250 → 256, 450 → 464
  });

  test("never under the floor, and a limit never under its request", () => {
    const size = sizeFrom({ steadyMillicores: 0.2, steadyRssBytes: MIB, peakRssBytes: MIB }, HEADROOM.staging);
    expect(size).toEqual({ cpuRequestMillicores: 5, memoryRequestBytes: 16 * MIB, memoryLimitBytes: 16 * MIB });
    // A peak under the steady figure's request (headroom on requests above the limit's): the limit is the request.
    expect(
      sizeFrom(
        { steadyMillicores: 1, steadyRssBytes: 96 * MIB, peakRssBytes: 96 * MIB },
        { cpuRequest: 1, memoryRequest: 2, memoryLimit: 1 },
      ).memoryLimitBytes,
    ).toBe(192 * MIB);
  });

  test("production's headroom is at least staging's on every figure", () => {
    for (const k of Object.keys(HEADROOM.staging) as Array<keyof typeof HEADROOM.staging>) {
      expect(HEADROOM.production[k]).toBeGreaterThanOrEqual(HEADROOM.staging[k]);
      expect(HEADROOM.staging[k]).toBeGreaterThanOrEqual(1);
    }
  });
});

describe("two stacks side by side", () => {
  test("each figure of theirs over ours; missing or zero figures are left out", () => {
    expect(ratios({ rss: 100, cpu: 20, rules: 0, heap: undefined, series: 10 }, { rss: 250, cpu: 10, rules: 5, heap: 3 })).toEqual({
      rss: 2.5,
      cpu: 0.5,
    });
  });
});

describe("the workload after the warm-up", () => {
  test("a Prometheus without a target up, or Loki without a line, is named; a measured workload has no problem", () => {
    const up = { health: "up" };
    const down = { health: "down" };
    expect(workloadProblems([{ name: "prometheus", targets: [up, down] }], 10)).toEqual([]);
    const problems = workloadProblems(
      [
        { name: "prometheus", targets: [down] },
        { name: "prometheus-compare", targets: [] },
      ],
      0,
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^prometheus: 1 targets discovered, none up: the workload is not scraped/);
    expect(problems[1]).toMatch(/^prometheus-compare: 0 targets discovered, none up/);
    expect(problems[2]).toMatch(/^loki: no log line received/);
  });
});

describe("rule groups", () => {
  test("each group's last evaluation from /metrics, keyed by its file's name and its name", () => {
    const text = [
      "# TYPE prometheus_rule_group_last_duration_seconds gauge",
      'prometheus_rule_group_last_duration_seconds{rule_group="/tmp/run-1/rules/apps.yml;apps"} 0.004',
      'prometheus_rule_group_last_duration_seconds{rule_group="/tmp/run-1/rules/stack.yml;stack"} 2.5e-3',
      'prometheus_rule_group_last_evaluation_samples{rule_group="/tmp/run-1/rules/apps.yml;apps"} 99',
    ].join("\n");
    expect(ruleGroupDurations(text)).toEqual({ "apps.yml;apps": 0.004, "stack.yml;stack": 0.0025 });
  });

  test("one cycle of the global interval: a group evaluated every minute counts a quarter of its time in a 15 s cycle", () => {
    const text = [
      'prometheus_rule_group_interval_seconds{rule_group="/tmp/r/apps.yml;apps"} 15',
      'prometheus_rule_group_interval_seconds{rule_group="/tmp/r/kubernetes.yml;kubernetes-usage"} 60',
      'prometheus_rule_group_last_duration_seconds{rule_group="/tmp/r/apps.yml;apps"} 0.004',
      'prometheus_rule_group_last_duration_seconds{rule_group="/tmp/r/kubernetes.yml;kubernetes-usage"} 0.008',
      // A group whose interval is not in the text counts whole.
      'prometheus_rule_group_last_duration_seconds{rule_group="/tmp/r/stack.yml;stack"} 0.001',
    ].join("\n");
    expect(ruleCycleSeconds(text, 15)).toBeCloseTo(0.004 + 0.008 / 4 + 0.001, 9);
    // A cycle as long as the slow group's interval counts every group whole.
    expect(ruleCycleSeconds(text, 60)).toBeCloseTo(0.013, 9);
  });

  test("one cycle as the mean of every evaluation: the seconds spent evaluating groups per second, times the cycle", () => {
    const text = (spent: number, count: number) =>
      [
        "# TYPE prometheus_rule_group_duration_seconds summary",
        'prometheus_rule_group_duration_seconds{quantile="0.99"} 0.5',
        `prometheus_rule_group_duration_seconds_sum ${spent}`,
        `prometheus_rule_group_duration_seconds_count ${count}`,
      ].join("\n");
    // 3 s spent over 60 s: 50 ms a second, 750 ms in each 15 s cycle; the quantile and the count count for nothing.
    expect(meanRuleCycleSeconds(text(10, 100), text(13, 400), 60, 15)).toBeCloseTo(0.75, 9);
  });

  test("the median of each group over the samples, a group missing from a sample left out of it", () => {
    expect(medianByKey([{ a: 1, b: 10 }, { a: 3 }, { a: 2, b: 30 }])).toEqual({ a: 2, b: 20 });
  });
});

describe("alert latency bound", () => {
  test("scrape + evaluation + for + evaluation + group_wait + slack, from the config's durations", () => {
    expect(alertLatencyBound({ scrapeInterval: "15s", evaluationInterval: "15s", for: "1m", groupWait: "30s", slackSeconds: 5 })).toBe(140);
    expect(alertLatencyBound({ scrapeInterval: "2s", evaluationInterval: "1s", for: "0s", groupWait: "500ms", slackSeconds: 0 })).toBe(4.5);
    expect(() =>
      alertLatencyBound({ scrapeInterval: "soon", evaluationInterval: "15s", for: "1m", groupWait: "30s", slackSeconds: 5 }),
    ).toThrow(/scrape interval/);
  });

  test("the for of an alert comes from the rule files; an alert without one fires at once", () => {
    const files = [
      YAML.stringify({ groups: [{ name: "a", rules: [{ record: "x:y", expr: "1" }] }] }),
      YAML.stringify({
        groups: [
          {
            name: "b",
            rules: [
              { alert: "Slow", expr: "1", for: "10m" },
              { alert: "Now", expr: "1" },
            ],
          },
        ],
      }),
    ];
    expect(alertFor(files, "Slow")).toBe("10m");
    expect(alertFor(files, "Now")).toBe("0s");
    expect(() => alertFor(files, "Missing")).toThrow(/Missing/);
  });
});

describe("--compare-rules", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "compare-rules-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A rule file of `alerts` alerts and `records` recording rules in `groups` groups. */
  function ruleFile(name: string, groups: number, alerts: number, records: number): void {
    const list = Array.from({ length: groups }, (_, g) => ({ name: `${name}-${g}`, rules: [] as object[] }));
    for (let i = 0; i < alerts; i++) list[i % groups].rules.push({ alert: `Alert${name}${i}`, expr: `up{job="j${i}"} == 0`, for: "5m" });
    for (let i = 0; i < records; i++) list[i % groups].rules.push({ record: `job:rec${i}:sum`, expr: `sum by (job) (up)` });
    fs.writeFileSync(path.join(dir, name), YAML.stringify({ groups: list }));
  }

  test("counts the alerts, recording rules and groups of every .yml and .yaml file, sorted, absolute", () => {
    ruleFile("b.yaml", 3, 40, 7);
    ruleFile("a.yml", 2, 9, 30);
    fs.writeFileSync(path.join(dir, "README.md"), "not rules");
    const set = readRuleSet(dir);
    expect(set).toEqual({
      dir: path.resolve(dir),
      files: [path.join(dir, "a.yml"), path.join(dir, "b.yaml")],
      groups: 5,
      alerts: 49,
      records: 37,
    });
  });

  test("refuses what Prometheus would not load, naming the file and group", () => {
    expect(() => readRuleSet(path.join(dir, "none"))).toThrow(/not a directory/);
    expect(() => readRuleSet(dir)).toThrow(/no \.yml or \.yaml/);
    fs.writeFileSync(path.join(dir, "x.yml"), "rules: []\n");
    expect(() => readRuleSet(dir)).toThrow(/x\.yml has no groups/);
    fs.writeFileSync(path.join(dir, "x.yml"), YAML.stringify({ groups: [{ name: "g", rules: [{ alert: "A" }] }] }));
    expect(() => readRuleSet(dir)).toThrow(/x\.yml, group g: a rule has no expr/);
    fs.writeFileSync(path.join(dir, "x.yml"), YAML.stringify({ groups: [{ name: "g", rules: [{ expr: "1" }] }] }));
    expect(() => readRuleSet(dir)).toThrow(/neither an alert nor a record/);
  });

  test("the command line takes the directory, --quick and the older options", () => {
    expect(parseBenchArgs(["--quick", "--compare-rules", dir])).toEqual({
      runs: 3,
      collectors: true,
      live: true,
      quick: true,
      smoke: false,
      compareRules: dir,
    });
    // CI's smoke run: quick, one render each unless --runs says otherwise.
    expect(parseBenchArgs(["--smoke"])).toEqual({ runs: 1, collectors: true, live: true, quick: true, smoke: true });
    expect(parseBenchArgs(["--smoke", "--runs", "2"]).runs).toBe(2);
    expect(parseBenchArgs(["--runs", "1", "--no-collectors", "--no-live"])).toEqual({
      runs: 1,
      collectors: false,
      live: false,
      quick: false,
      smoke: false,
    });
    expect(() => parseBenchArgs(["--compare-rules"])).toThrow(/needs a value/);
    expect(() => parseBenchArgs(["--compare-rules", dir, "--no-live"])).toThrow(/drop --no-live/);
    expect(() => parseBenchArgs(["--runs", "0"])).toThrow(/at least 1/);
    expect(() => parseBenchArgs(["--fast"])).toThrow(/unknown argument "--fast"/);
    // The live phase alone: what a change to the rules or dashboards is measured with.
    expect(parseBenchArgs(["--live-only", "--no-collectors"])).toEqual({
      runs: 3,
      collectors: false,
      live: true,
      quick: false,
      smoke: false,
      liveOnly: true,
    });
    expect(() => parseBenchArgs(["--live-only", "--no-live"])).toThrow(/drop --no-live/);
  });
});

describe("the workload", () => {
  const shape = {
    namespace: "monitoring-staging",
    apps: 5,
    pods: 100,
    generation: 0,
    databases: [
      { type: "postgres" as const, name: "shop-postgres" },
      { type: "redis" as const, name: "shop-redis" },
    ],
  };

  test("the node runs the pods asked for: the stack's, two replicas an app, the databases, workers", () => {
    const pods = benchPods(shape);
    expect(pods).toHaveLength(100);
    expect(new Set(pods.map((p) => p.uid)).size).toBe(100);
    expect(pods.filter((p) => p.owner.name === "app-3")).toHaveLength(2);
    expect(pods.some((p) => p.pod === "prometheus-0")).toBe(true);
    expect(benchApps(5).map((a) => a.name)).toEqual(["app-0", "app-1", "app-2", "app-3", "app-4"]);
  });

  test("a new generation replaces the workloads' pods (churn) and keeps the stack's", () => {
    const before = benchPods(shape);
    const after = benchPods({ ...shape, generation: 1 });
    const same = after.filter((p) => before.some((b) => b.uid === p.uid && b.pod === p.pod)).map((p) => p.pod);
    expect(same.sort()).toEqual(
      [
        "alertmanager-0",
        "alloy-pqrst",
        "grafana-6d5f7c9b8-abcde",
        "kube-state-metrics-7b9c-fghij",
        "loki-0",
        "node-exporter-klmno",
        "prometheus-0",
        "shop-postgres-0",
        // The database exporters are the stack's, in its namespace.
        "shop-postgres-exporter-6b7c8d-00008",
        "shop-redis-exporter-6b7c8d-0000a",
      ].sort(),
    );
  });

  test("kube-state-metrics' text has a series per pod in each pod family, and parses as the exposition format", () => {
    const pods = benchPods(shape);
    const text = kubeStateMetricsText(pods, "node-a");
    expect(metricValues(text, "kube_pod_info")).toHaveLength(100);
    expect(metricValues(text, "kube_pod_status_phase")).toHaveLength(500);
    expect(sumOf(metricValues(text, "kube_pod_status_phase"))).toBe(100);
    // Every sample line: a name, optional labels, a number.
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#")))
      expect(line).toMatch(/^[a-z_:][a-z0-9_:]*(\{.*\})? -?[0-9.e+]+$/i);
  });

  test("kube-state-metrics' owners are a cluster's: a Deployment's pod is owned by its ReplicaSet, the ReplicaSet by the Deployment", () => {
    const pods = benchPods(shape);
    const text = kubeStateMetricsText(pods, "node-a");
    const owned = series(text, "kube_pod_owner");
    const replicaSets = series(text, "kube_replicaset_owner");
    const deployments = new Set(series(text, "kube_deployment_spec_replicas").map((l) => `${l.namespace}/${l.deployment}`));
    expect(owned.filter((l) => l.owner_kind === "Deployment")).toEqual([]);
    const ownedByReplicaSets = owned.filter((l) => l.owner_kind === "ReplicaSet");
    // Every pod the node runs for a Deployment: the apps, the workers, the stack's Deployments.
    expect(ownedByReplicaSets).toHaveLength(pods.filter((p) => p.owner.kind === "Deployment").length);
    for (const pod of ownedByReplicaSets) {
      // The cluster names a ReplicaSet's pod after it, with a random suffix.
      expect(pod.pod.startsWith(`${pod.owner_name}-`)).toBe(true);
      const rs = replicaSets.filter((l) => l.namespace === pod.namespace && l.replicaset === pod.owner_name);
      expect(rs).toHaveLength(1);
      expect(rs[0]).toMatchObject({ owner_kind: "Deployment", owner_is_controller: "true" });
      expect(deployments.has(`${rs[0].namespace}/${rs[0].owner_name}`)).toBe(true);
    }
    const info = series(text, "kube_pod_info").find((l) => l.pod === ownedByReplicaSets[0].pod);
    expect(info).toMatchObject({ created_by_kind: "ReplicaSet", created_by_name: ownedByReplicaSets[0].owner_name });
    // A StatefulSet's and a DaemonSet's pods are their own.
    expect(owned.find((l) => l.pod === "prometheus-0")).toMatchObject({ owner_kind: "StatefulSet", owner_name: "prometheus" });
  });
});

/** The label sets of one family's samples in a text exposition. */
function series(text: string, name: string): Array<Record<string, string>> {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => Object.fromEntries([...line.slice(name.length).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]])));
}

const sumOf = (v: number[]) => v.reduce((a, b) => a + b, 0);

describe("the report", () => {
  /** A phase whose figures scale with `k`. */
  const phase = (name: string, k: number, compare: boolean) => {
    const figures = (rss: number, cpu: number) => ({
      seconds: 60,
      rssBytes: rss * MIB * k,
      peakRssBytes: rss * MIB * k * 1.2,
      heapBytes: (rss / 2) * MIB * k,
      peakHeapBytes: (rss / 2) * MIB * k * 1.3,
      millicores: cpu * k,
      peakMillicores: cpu * k * 3,
      writtenBytesPerDay: 100 * MIB * k,
    });
    const prom = (series: number, rules: number, seconds: number) => ({
      headSeries: series * k,
      seriesCreated: 0,
      ruleEvaluationSeconds: seconds * k,
      ruleGroupSeconds: { "apps.yml;apps": seconds * k * 0.75, "stack.yml;stack": seconds * k * 0.25 },
      // The stack's group every minute: a quarter of it in each 15 s cycle.
      ruleGroupIntervalSeconds: { "apps.yml;apps": 15, "stack.yml;stack": 60 },
      cycleSeconds: 15,
      ruleSeconds: { "apps: AppDown": seconds * k * 0.5, "apps: app:x:rate5m": seconds * k * 0.25, "stack: StackDown": seconds * k * 0.25 },
      rules,
      ruleGroups: 3,
      compactions: 1,
    });
    return {
      name,
      shape: { apps: 5, pods: 100, linesPerSecond: 2 },
      components: {
        prometheus: figures(300, 40),
        alertmanager: figures(30, 2),
        "postgres-exporter": figures(20, 3),
        "redis-exporter": figures(25, 1),
        ...(compare ? { "prometheus-compare": figures(450, 100) } : {}),
      },
      prometheus: { prometheus: prom(20_000, 120, 0.05), ...(compare ? { "prometheus-compare": prom(23_000, 234, 0.4) } : {}) },
      loki: { linesPerSecond: 250 * k, bytesPerSecond: 25_000 * k },
    };
  };
  const timing = (dashboard: string, panels: number[], slow?: QueryTiming[]): DashboardTiming => ({
    dashboard,
    title: dashboard,
    panels: panels.length,
    queries: panels.length,
    seconds: panels.reduce((a, b) => a + b, 0),
    slowest: { panel: "panel 1", seconds: Math.max(...panels) },
    emptyPanels: 0,
    errors: 0,
    variables: {},
    slowPanels: slow
      ? [{ panel: "panel 1", seconds: Math.max(...panels), queries: slow.length, series: 3, samples: 90, detail: slow }]
      : [],
  });
  const dashboardRun = (compare: boolean): DashboardRun => ({
    phase: "steady",
    apps: 5,
    pods: 100,
    ours: [
      timing("infrastructure/cluster", [0.01, 0.02]),
      timing("infrastructure/networking", [0.01]),
      timing("infrastructure/kubelet", [0.05]),
    ],
    ...(compare
      ? {
          theirs: [
            timing(
              "k8s-resources-cluster",
              [0.02, 0.6],
              [{ refId: "A", path: "/api/v1/query_range", query: "sum(x)", seconds: 0.6, series: 3, samples: 90 }],
            ),
            timing("cluster-total", [0.06]),
          ],
        }
      : {}),
  });
  const result = (compare: boolean): LiveResult => ({
    plan: {
      quick: false,
      warmupSeconds: 1,
      steadySeconds: 1,
      burstSeconds: 1,
      growthSeconds: 1,
      sampleSeconds: 1,
      apps: 5,
      pods: 100,
      linesPerSecond: 2,
    },
    phases: [phase("steady", 1, compare), phase("burst", 2, compare), phase("apps-20", 1.5, compare)],
    alertLatency: { alert: "AppDown", app: "app-0", deliveredAfterSeconds: 80, boundSeconds: 140 },
    lokiFlush: { receivedBytes: 5e6, chunkBytes: 1e6 },
    ...(compare ? { compareRules: { dir: "/rules", files: ["/rules/a.yml"], groups: 30, alerts: 139, records: 95 } } : {}),
    ourRules: { groups: 20, alerts: 70, records: 50 },
    blockDuration: "5m",
    dashboards: [dashboardRun(compare)],
  });

  test("steady figures from the steady phase, peaks over steady and burst; requests and limits per profile key", () => {
    const report = buildLiveReport(result(false));
    expect(report.components.prometheus?.steadyRssBytes).toBe(300 * MIB);
    expect(report.components.prometheus?.peakRssBytes).toBe(300 * MIB * 2 * 1.2);
    expect(report.components.prometheus?.peakMillicores).toBe(240);
    // Only Loki gets an allowance for what the run was too short to see.
    expect(report.components.prometheus?.longRunAllowanceBytes).toBe(0);
    const prom = report.sizing.staging["prometheus.resources"];
    expect(prom.memoryRequestBytes).toBe(
      sizeFrom({ steadyMillicores: 40, steadyRssBytes: 300 * MIB, peakRssBytes: 720 * MIB }, HEADROOM.staging).memoryRequestBytes,
    );
    // The two exporters share EXPORTER_RESOURCES: sized from the larger of each figure.
    const exporters = report.sizing.production.EXPORTER_RESOURCES;
    expect(exporters).toEqual(
      expect.objectContaining(sizeFrom({ steadyMillicores: 3, steadyRssBytes: 25 * MIB, peakRssBytes: 60 * MIB }, HEADROOM.production)),
    );
    expect(report.growth.map((g) => g.phase)).toEqual(["steady", "burst", "apps-20"]);
    expect(report.comparison).toBeUndefined();
  });

  test("with --compare-rules, both Prometheus' figures and their ratio, from the same run", () => {
    const r = result(true);
    const report = buildLiveReport(r);
    expect(report.comparison?.ratio.steadyRssBytes).toBeCloseTo(1.5, 6);
    expect(report.comparison?.ratio.rules).toBeCloseTo(234 / 120, 6);
    expect(report.comparison?.ratio.ruleEvaluationSeconds).toBeCloseTo(8, 6);
    const tables = liveTables(r, report);
    expect(tables).toMatch(/139 alerts, 95 recording rules/);
    expect(tables).toMatch(/\| rules \| 120 \| 234 \| 1\.95× \|/);
    expect(tables).toMatch(/AppDown delivered after 80\.0 s \(bound from the config: 140 s\)/);
    // Where the burst's cycle goes, per group, for each Prometheus: the burst's phase is twice the steady one's here;
    // the stack's group, evaluated every minute, counts a quarter of its time in a 15 s cycle (0.75 against 0.0625).
    expect(tables).toMatch(/\| ours \| apps\.yml;apps \| 15 s \| 37\.5 ms \| 75\.0 ms \| 92 % \|/);
    expect(tables).toMatch(/\| kube-prometheus \| stack\.yml;stack \| 60 s \| 100\.0 ms \| 200\.0 ms \| 8 % \|/);
    // ...and per rule, costliest first.
    expect(tables).toMatch(
      /costliest in the burst \(median of each rule's last evaluation\)\n\n\| side[^\n]*\n[^\n]*\n\| ours \| apps: AppDown \| 25\.0 ms \| 50\.0 ms \|/,
    );
  });

  test("--live-only writes the live phase's report alone: its figures and tables, no target", () => {
    const r = result(true);
    const report = buildLiveReport(r);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-live-only-"));
    const tables = liveTables(r, report);
    writeLiveOnlyReport(dir, {
      startedAt: "2026-11-25T14:10:00Z",
      machine: {},
      phases: [{ name: "live footprint", seconds: 1 }],
      live: { result: r, report, tables },
    });
    const json = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")) as Record<string, unknown>;
    expect(json).toMatchObject({ liveOnly: true, phases: [{ name: "live footprint", seconds: 1 }], live: { ourRules: r.ourRules } });
    expect(json.targets).toBeUndefined();
    expect(fs.readFileSync(path.join(dir, "report.md"), "utf8")).toContain(tables);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("dashboards: each view's dashboards summed, ours against kube-prometheus', and the panels over 500 ms with their queries", () => {
    const r = result(true);
    const report = buildLiveReport(r);
    const views = report.dashboardViews[0].views;
    // The cluster view: our cluster and networking dashboards (40 ms) against theirs (680 ms).
    const cluster = views.find((v) => v.view === "cluster");
    expect(cluster?.ours).toEqual({
      dashboards: ["infrastructure/cluster", "infrastructure/networking"],
      panels: 3,
      emptyPanels: 0,
      seconds: 0.04,
      slowestSeconds: 0.02,
    });
    expect(cluster?.theirs?.seconds).toBeCloseTo(0.68, 9);
    expect(cluster?.ratio).toBeCloseTo(17, 6);
    // A view whose anchor dashboards were not timed has no side and no ratio.
    expect(views.find((v) => v.view === "kubelet")).toEqual({
      view: "kubelet",
      ours: { dashboards: ["infrastructure/kubelet"], panels: 1, emptyPanels: 0, seconds: 0.05, slowestSeconds: 0.05 },
    });
    const tables = liveTables(r, report);
    expect(tables).toMatch(
      /\| cluster \| infrastructure\/cluster, infrastructure\/networking \| 3 \| 40 ms \| 20 ms \| k8s-resources-cluster, cluster-total \| 3 \| 680 ms \| 600 ms \| 17\.00× \|/,
    );
    expect(tables).toMatch(
      /- kube-prometheus k8s-resources-cluster, panel 1: 600 ms\n {2}- 600 ms, 3 series, 90 samples \(query_range\): `sum\(x\)`/,
    );
    // Without --compare-rules: ours alone, no side by side.
    expect(liveTables(result(false), buildLiveReport(result(false)))).not.toMatch(/Views side by side/);
  });

  test("what a person waits for, held: the rule cycle and each view at most half kube-prometheus', at the timing with the most pods, and no panel over the bound", () => {
    const r = result(true);
    const target = (list: ReturnType<typeof waitTargets>, name: RegExp) => list.filter((m) => name.test(m.name));
    // Ours 0.05 s a cycle against theirs 0.4 s, the burst twice both: 0.125x, under the share.
    const steady = waitTargets(r, buildLiveReport(r));
    expect(target(steady, /rule-evaluation cycle, steady/)).toEqual([
      expect.objectContaining({ value: 0.125, target: COMPARED_SHARE, display: "0.13× (50.0 ms against 400.0 ms; at most 0.5×)" }),
    ]);
    expect(target(steady, /rule-evaluation cycle, burst/)).toEqual([expect.objectContaining({ value: 0.125 })]);
    // The only timing, steady: the cluster view, 40 ms against 680 ms; the kubelet view has no side and no target.
    expect(target(steady, /view/).map((m) => m.name)).toEqual(["the cluster view at 5 apps and 100 pods: ours ÷ kube-prometheus'"]);
    expect(target(steady, /cluster view/)[0].value).toBeCloseTo(0.04 / 0.68, 9);
    expect(target(steady, /slowest panel/)).toEqual([
      expect.objectContaining({ value: 0.05, target: SLOW_PANEL_SECONDS, display: "50.0 ms (infrastructure/kubelet, panel 1)" }),
    ]);

    // A second timing with more pods is the one held: there ours take longer than half theirs, one of their
    // dashboards answered no series for two panels, and a panel of ours took 600 ms.
    const slow: DashboardRun = {
      ...dashboardRun(true),
      phase: "apps-100-pods-500",
      apps: 100,
      pods: 500,
      ours: [timing("infrastructure/cluster", [0.6, 0.1]), timing("infrastructure/networking", [0.1])],
      theirs: [{ ...timing("k8s-resources-cluster", [0.3, 0.3]), emptyPanels: 2 }, timing("cluster-total", [0.4])],
    };
    const grown = { ...r, dashboards: [dashboardRun(true), slow] };
    const held = waitTargets(grown, buildLiveReport(grown));
    const views = target(held, /view/);
    expect(views.map((m) => m.name)).toEqual(["the cluster view at 100 apps and 500 pods: ours ÷ kube-prometheus'"]);
    expect(views[0].value).toBeCloseTo(0.8 / 1.0, 9);
    expect(views[0].value).toBeGreaterThan(views[0].target);
    expect(views[0].display).toBe("0.80× (800.0 ms, against 1000.0 ms, 2 of 3 panels without data; at most 0.5×)");
    expect(target(held, /slowest panel/)).toEqual([
      expect.objectContaining({ name: "our slowest panel at 100 apps and 500 pods", value: 0.6 }),
    ]);
    // The side by side says it too.
    expect(liveTables(grown, buildLiveReport(grown))).toMatch(
      /\| k8s-resources-cluster, cluster-total \| 3 \(2 without data\) \| 1000 ms \|/,
    );

    // Without --compare-rules: no cycle and no view held, our slowest panel still.
    const alone = waitTargets(result(false), buildLiveReport(result(false)));
    expect(alone.map((m) => m.name)).toEqual(["our slowest panel at 5 apps and 100 pods"]);
  });

  test("a run without a steady or burst phase is refused", () => {
    const r = result(false);
    expect(() => buildLiveReport({ ...r, phases: r.phases.filter((p) => p.name !== "burst") })).toThrow(/no burst phase/);
  });
});

describe("docs/benchmark.md's footprint table is the profiles'", () => {
  /** The requests and limits as docs/benchmark.md writes them: "15m/176Mi, limit 1/400Mi". */
  const cell = (r: ResourceRequirements) => `${r.requests.cpu}/${r.requests.memory}, limit ${r.limits.cpu ?? "none"}/${r.limits.memory}`;
  const page = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "benchmark.md"), "utf8");
  const section = page.slice(page.indexOf("## Footprint"));
  const rows = section
    .slice(0, section.indexOf("\n\n", section.indexOf("\n|")))
    .split("\n")
    .filter((l) => l.startsWith("| ") && l.includes("`"))
    .map((l) => l.split("|").map((c) => c.trim()));

  test("every measured component's staging and production cells are the profiles' requests and limits", () => {
    const profiles = (key: string) => {
      if (key === "databases[].resources") return [EXPORTER_RESOURCES, EXPORTER_RESOURCES];
      const section = key.replace(/\.resources$/, "") as "prometheus" | "alertmanager" | "loki" | "logCollector" | "nodeExporter";
      return [PROFILE_DEFAULTS.staging[section].resources, PROFILE_DEFAULTS.production[section].resources];
    };
    const keys = rows.map((r) => /`([^`]+)`/.exec(r[2])?.[1] ?? "");
    expect(keys).toEqual([
      "prometheus.resources",
      "alertmanager.resources",
      "loki.resources",
      "logCollector.resources",
      "nodeExporter.resources",
      "databases[].resources",
    ]);
    for (const [i, key] of keys.entries()) {
      const [staging, production] = profiles(key);
      expect([key, rows[i][rows[i].length - 3], rows[i][rows[i].length - 2]]).toEqual([key, cell(staging), cell(production)]);
    }
  });
});

describe("the render target", () => {
  const doc = (name: string) => fs.readFileSync(path.join(__dirname, "..", "..", "docs", name), "utf8");

  test("is 3 s for npm run render as a whole process, and the docs that cite it say so", () => {
    expect(RENDER_PROCESS_SECONDS).toBe(3);
    expect(Number(/The render target is \*\*([\d.]+) s\*\* for `npm run render/.exec(doc("benchmark.md"))?.[1])).toBe(
      RENDER_PROCESS_SECONDS,
    );
    expect(Number(/`npm run bench` times it against ([\d.]+) s/.exec(doc("deployment.md"))?.[1])).toBe(RENDER_PROCESS_SECONDS);
  });
});

test("the quick tier's CPU-seconds are read from bash's `times` line of the children, user plus system", () => {
  expect(cpuSecondsOfTimes("1m2.345s 0m0.655s")).toBeCloseTo(63, 6);
  expect(cpuSecondsOfTimes("0m0.229s 0m0.039s\n")).toBeCloseTo(0.268, 6);
  // Anything else (jest's summary, an empty stderr) gives no figure rather than a wrong one.
  expect(cpuSecondsOfTimes("Tests:       2076 passed, 2076 total")).toBeUndefined();
  expect(cpuSecondsOfTimes("")).toBeUndefined();
});
