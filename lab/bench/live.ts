/**
 * The stack's footprint on its exact binaries (built by `npm run tools`), on 127.0.0.1 only,
 * without a control plane: the staging stack rendered as a user deploys it, with the
 * benchmark's apps (lab/bench/workload.ts), Kubernetes discovery swapped for file
 * discovery of the workload. Real: Prometheus (rendered config and rules), Alertmanager
 * (rendered routing, to a local sink), Loki and Alloy (rendered configs, pod log files that
 * grow), node-exporter, postgres-exporter with PostgreSQL and redis_exporter with Redis.
 * Synthetic: the apps with traffic, the kubelet and cAdvisor of one node, kube-state-metrics'
 * output for the node's pods, Grafana's metrics (no binary of those two is measured).
 *
 * Phases: warm-up (not measured), steady, burst (5 generations of pods: series churn, and
 * 5× the log lines), then growth (20 and 100 apps, 500 pods) while an app is taken down to
 * measure alert latency; at the end Loki flushes its chunks, which gives their compression.
 * With `compareRules`, a second Prometheus of the same release scrapes the same targets with
 * the other stack's rule files instead of ours.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { durationSeconds } from "../../components/kit/units";
import { catalogFile } from "../../cli/catalog";
import { LoopbackServer, httpGet, httpRequest, metricsHandler, selfSignedCertificate } from "../local/http";
import { LOOPBACK, freePorts } from "../ports";
import { ManagedProcess } from "../processes/children";
import { sleep, waitFor } from "../processes/supervision";
import { TargetGroup, renderedEndpoints } from "../local/prometheus";
import { LocalStack, appEndpoint, nodeTargets } from "../local/stack";
import { nodeExporterGet } from "../local/node-exporter";
import { SyntheticApp, SyntheticNode, catalogueMetricsText } from "../local/synthetic";
import { metricValues, sum } from "../local/text-format";
import type { Rendered } from "../../cli/render";
import { renderStack } from "../../cli/render-stack";
import { alertFor, alertLatencyBound, countRules, RuleSet } from "./figures";
import { DashboardRun, anchorDashboards, anchorDashboardsDir, timeStackDashboards } from "./dashboard-timing";
import { anchorJobLabels } from "./anchor-scrapes";
import type { JsonObject } from "../../cli/dashboards/files";
import { BENCH_STACK_SETS, benchDatabases } from "./deployed";
import { Component, LivePhase, Measured, checkWorkload, dirBytes, measurePhase } from "./sampling";
import { BENCH_NODE, BenchPod, WorkloadShape, benchApps, benchPods, kubeStateMetricsText } from "./workload";

const STACK = "staging";
/** The live lab's fast intervals, for --quick only: a quick run checks the harness, its figures size nothing. */
const QUICK_TIMING = [
  "prometheus.scrapeInterval=2s",
  "prometheus.scrapeTimeout=1s",
  "prometheus.evaluationInterval=2s",
  "alertmanager.groupWait=1s",
];
/**
 * Prometheus cuts a block from its head once the head spans 1.5 × the minimum block
 * duration (2 h by default: the first compaction after 3 h). The bench shortens it to 5
 * minutes (a hidden Prometheus flag) so that a run of minutes goes through head compactions;
 * the head then holds at most 7.5 minutes instead of 3 hours of samples (see docs/benchmark.md).
 */
export const BENCH_BLOCK_DURATION = "5m";

export interface LivePlan {
  quick: boolean;
  warmupSeconds: number;
  steadySeconds: number;
  burstSeconds: number;
  growthSeconds: number;
  sampleSeconds: number;
  apps: number;
  pods: number;
  /** Log lines per second per container, steady; the burst multiplies it by 5. */
  linesPerSecond: number;
}

export const FULL_PLAN: LivePlan = {
  quick: false,
  warmupSeconds: 120,
  steadySeconds: 420,
  burstSeconds: 150,
  growthSeconds: 90,
  sampleSeconds: 5,
  apps: 5,
  pods: 100,
  linesPerSecond: 2,
};
export const QUICK_PLAN: LivePlan = {
  ...FULL_PLAN,
  quick: true,
  warmupSeconds: 15,
  steadySeconds: 40,
  burstSeconds: 20,
  growthSeconds: 15,
  sampleSeconds: 2,
};

export interface LiveResult {
  plan: LivePlan;
  phases: LivePhase[];
  alertLatency?: { alert: string; app: string; deliveredAfterSeconds?: number; boundSeconds: number };
  /**
   * Loki's chunks flushed at the end of the run (POST /flush): what it had received and what
   * its chunks take on disk. Their ratio is the compression its in-memory chunks have too.
   */
  lokiFlush?: { receivedBytes: number; chunkBytes: number };
  compareRules?: RuleSet;
  /** Our dashboards' (with --compare-rules, kube-prometheus' views') panel queries timed (lab/bench/dashboard-timing.ts). */
  dashboards: DashboardRun[];
  anchorDashboards?: string;
  ourRules: { groups: number; alerts: number; records: number };
  blockDuration: string;
}

export async function runLive(plan: LivePlan, compare: RuleSet | undefined, log: (m: string) => void): Promise<LiveResult> {
  const bench = new LiveBench(plan, compare, log);
  try {
    return await bench.run();
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${bench.diagnostics()}`);
  } finally {
    await bench.stop();
  }
}

class LiveBench {
  /** The stack, booted on 127.0.0.1: its processes and servers, ports and render. */
  private readonly stack = new LocalStack<"compare" | "kubelet">("bench-live-", 60 * 60_000);
  private readonly measured: Measured[] = [];
  private readonly apps = new Map<string, { app: SyntheticApp; server: LoopbackServer; port: number }>();
  private readonly sinkMessages: Array<{ at: number; text: string }> = [];
  private traffic: NodeJS.Timeout | undefined;
  private shape!: WorkloadShape;
  private pods: BenchPod[] = [];
  private node!: SyntheticNode;
  private kubeletCa = "";
  private linesPerSecond: number;
  private lineCounter = 0;
  private readonly dashboardRuns: DashboardRun[] = [];
  /** kube-prometheus' dashboards beside the compared rules, read before anything starts. */
  private readonly anchors: { dir: string; dashboards: Map<string, JsonObject> } | undefined;

  constructor(
    private readonly plan: LivePlan,
    private readonly compare: RuleSet | undefined,
    private readonly log: (m: string) => void,
  ) {
    this.linesPerSecond = plan.linesPerSecond;
    const dir = compare ? anchorDashboardsDir(compare.dir) : undefined;
    this.anchors = dir ? { dir, dashboards: anchorDashboards(dir) } : undefined;
  }

  diagnostics(): string {
    return this.stack.diagnostics(15);
  }

  async stop(): Promise<void> {
    await this.stack.stop();
  }

  private get rendered(): Rendered {
    return this.stack.rendered;
  }

  private sets(apps: number): string[] {
    return [
      ...BENCH_STACK_SETS,
      ...(this.plan.quick ? QUICK_TIMING : []),
      ...this.stack.notificationSets(),
      `apps=${JSON.stringify(benchApps(apps))}`,
    ];
  }

  async run(): Promise<LiveResult> {
    const stack = this.stack;
    await stack.allocatePorts(["compare", "kubelet"]);
    await stack.serveSink((req) => {
      this.sinkMessages.push({ at: req.receivedAt, text: `${req.url} ${req.body}` });
      return 204;
    });
    stack.rendered = await renderStack({ stack: STACK, sets: this.sets(this.plan.apps), showSecrets: true });
    const databases = this.databases();
    this.shape = { namespace: this.namespace(), apps: this.plan.apps, pods: this.plan.pods, generation: 0, databases };
    this.pods = benchPods(this.shape);
    await this.startApps(this.plan.apps);
    await this.startNode();
    const exporters = await stack.startDatabases();
    this.measure("postgres-exporter", exporters.postgresExporter, stack.ports.postgresExporter);
    this.measure("redis-exporter", exporters.redisExporter, stack.ports.redisExporter);
    // With the rendered web config, as deployed (TLS and basic auth): Prometheus scrapes it with the rendered job, the sampler as Prometheus does.
    this.measure("node-exporter", stack.startNodeExporter(), stack.ports.nodeExporter, async () => {
      const reply = await nodeExporterGet(stack.rendered, stack.ports.nodeExporter);
      return reply.body;
    });
    this.measure("loki", await stack.startLoki(), stack.ports.loki);
    this.writeLogTargets();
    this.writeLogLines();
    stack.every(1000, () => this.writeLogLines());
    this.measure("alloy", stack.startAlloy(BENCH_NODE), stack.ports.alloy);
    this.measure("alertmanager", await stack.startAlertmanager(), stack.ports.alertmanager);
    await this.startPrometheus();
    this.log(`all up; warm-up ${this.plan.warmupSeconds} s`);
    await sleep(this.plan.warmupSeconds * 1000);
    // Every Prometheus scrapes the workload and Loki receives its lines, or the run stops here, saying why.
    const proms: Array<[string, string]> = [["prometheus", stack.url("prometheus")]];
    if (this.compare) proms.push(["prometheus-compare", `http://${LOOPBACK}:${stack.ports.compare}`]);
    this.log(`workload: ${await checkWorkload(proms, stack.url("loki"))}`);

    const ourRules = countRules(this.ruleFiles());
    const phases: LivePhase[] = [];
    phases.push(await this.phase("steady", this.plan.steadySeconds));
    await this.timeDashboards("steady");

    // The burst: pods replaced 5 times over the phase, 5× the log lines.
    this.linesPerSecond = this.plan.linesPerSecond * 5;
    this.apps.forEach(({ app }) => (app.errorRatio = 0.02));
    const generations = 5;
    const churn = setInterval(() => this.repod({ generation: this.shape.generation + 1 }), (this.plan.burstSeconds * 1000) / generations);
    phases.push(await this.phase("burst", this.plan.burstSeconds));
    clearInterval(churn);
    this.linesPerSecond = this.plan.linesPerSecond;
    this.apps.forEach(({ app }) => (app.errorRatio = 0.0005));

    // An app goes down: its scrapes fail from now on (alert latency, measured while the workload grows).
    const downApp = "app-0";
    const bound = this.alertBound("AppDown");
    const downAt = Date.now();
    await this.apps.get(downApp)?.server.stop();
    this.log(`${downApp} down; growth phases`);
    for (const [name, change] of [
      ["apps-20", { apps: 20 }],
      ["apps-100", { apps: 100 }],
      ["apps-100-pods-500", { pods: 500 }],
    ] as const) {
      await this.grow(change);
      phases.push(await this.phase(name, this.plan.growthSeconds));
    }
    // Not in a quick run: at its 2-second evaluation 100 apps' rules keep the cores busy; the queries would time the queue.
    if (!this.plan.quick) await this.timeDashboards("apps-100-pods-500");
    const delivered = await waitFor(
      "the AppDown notification",
      async () => this.sinkMessages.find((m) => m.at >= downAt && m.text.includes("AppDown") && m.text.includes(downApp)),
      Math.max(1000, downAt + (bound + 30) * 1000 - Date.now()),
      500,
    ).catch(() => undefined);
    const lokiFlush = await this.flushLoki().catch((err: unknown) => {
      this.log(`Loki flush failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
    return {
      ...(lokiFlush ? { lokiFlush } : {}),
      plan: this.plan,
      phases,
      alertLatency: {
        alert: "AppDown",
        app: downApp,
        ...(delivered ? { deliveredAfterSeconds: (delivered.at - downAt) / 1000 } : {}),
        boundSeconds: bound,
      },
      ...(this.compare ? { compareRules: this.compare } : {}),
      dashboards: this.dashboardRuns,
      ...(this.anchors ? { anchorDashboards: this.anchors.dir } : {}),
      ourRules,
      blockDuration: BENCH_BLOCK_DURATION,
    };
  }

  private namespace(): string {
    const ns = this.rendered.kubernetes.find((o) => o.object.kind === "StatefulSet" && o.object.metadata.name === "prometheus")?.object
      .metadata.namespace;
    if (!ns) throw new Error("the render has no prometheus StatefulSet");
    return ns;
  }

  /** The stack file's PostgreSQL and Redis databases (the bench runs those two): their type and name, from the exporters the render runs for them. */
  private databases(): WorkloadShape["databases"] {
    const out = benchDatabases(this.rendered);
    if (out.length === 0) throw new Error("the staging stack file has no PostgreSQL or Redis exporter");
    return out;
  }

  private measure(name: Component, proc: ManagedProcess, port: number, scrape?: () => Promise<string>): void {
    this.measured.push({ name, proc, metricsUrl: `http://${LOOPBACK}:${port}/metrics`, ...(scrape ? { scrape } : {}) });
  }

  private async startApps(count: number): Promise<void> {
    const wanted = benchApps(count);
    const ports = await freePorts(wanted.length);
    for (const [i, a] of wanted.entries()) {
      const name = String(a.name);
      if (this.apps.has(name)) continue;
      const metrics = (a.metrics ?? {}) as Record<string, string>;
      const app = new SyntheticApp(
        name,
        {
          requests: metrics.requests ?? "http_requests_total",
          duration: metrics.duration ?? "http_request_duration_seconds",
          statusLabel: metrics.statusLabel ?? "status",
          methodLabel: "method",
          routeLabel: "endpoint",
          activeConnections: "http_connections_active",
        },
        true,
        i + 1,
      );
      const server = await this.stack.local.serve(ports[i], (req, res) => {
        if ((req.url ?? "").split("?")[0] !== "/metrics") return void res.writeHead(404).end();
        res.writeHead(200, app.headers()).end(app.metricsText());
      });
      this.apps.set(name, { app, server, port: ports[i] });
    }
    this.traffic ??= this.stack.every(200, () => this.apps.forEach(({ app }) => app.serve(10)));
  }

  private async startNode(): Promise<void> {
    const tls = selfSignedCertificate(this.stack.tmp, "kubelet", 1);
    this.kubeletCa = tls.cert;
    this.node = new SyntheticNode(BENCH_NODE, "k3s-unlabelled", [...this.pods]);
    const ksmCatalog = catalogFile("kube-state-metrics");
    await this.stack.serveKubelet(this.stack.ports.kubelet, this.node, "bench-token", tls);
    await this.stack.local.serve(
      this.stack.ports.kubeStateMetrics,
      metricsHandler(() => kubeStateMetricsText(this.pods, BENCH_NODE, ksmCatalog)),
    );
    await this.stack.local.serve(
      this.stack.ports.kubeStateMetricsTelemetry,
      metricsHandler(() => "# TYPE kube_state_metrics_build_info gauge\nkube_state_metrics_build_info 1\n"),
    );
    const grafanaText = catalogueMetricsText("grafana");
    await this.stack.serveGrafana(() => grafanaText);
  }

  /** Every container of the node's pods logs to its file; Alloy discovers them from a file of the labels Kubernetes would give. */
  private writeLogTargets(): void {
    this.stack.writeLogTargets(
      this.pods.map((p) => ({ ...p, node: BENCH_NODE, app: p.owner.name })),
      (container) => container.startsWith("app-"),
    );
  }

  private writeLogLines(): void {
    this.stack.writeLogLines((f) =>
      Array.from({ length: this.linesPerSecond }, () => {
        const n = this.lineCounter++;
        const level = n % 29 === 0 ? "error" : n % 11 === 0 ? "warn" : "info";
        const text = f.json
          ? JSON.stringify({ level, msg: level === "error" ? "payment failed: timeout" : "request served", path: "/cart", n })
          : `level=${level} msg="${level === "error" ? "lost connection" : "tick"}" n=${n}`;
        return { stderr: level === "error", text };
      }),
    );
  }

  /** What Kubernetes discovery would report, by role. */
  private fixtures(): Record<"endpoints" | "pod" | "node", TargetGroup[]> {
    const podOf = (prefix: string) => this.pods.find((p) => p.pod.startsWith(prefix))?.pod ?? `${prefix}-0`;
    const local = this.stack.stackEndpoints(this.shape.namespace, this.shape.databases, (workload) => ({
      pod: ["prometheus", "alertmanager", "loki"].includes(workload) ? `${workload}-0` : podOf(workload),
      node: BENCH_NODE,
    }));
    const endpoints = renderedEndpoints(this.rendered, local);
    for (const a of benchApps(this.shape.apps)) {
      const name = String(a.name);
      const port = this.apps.get(name)?.port;
      if (port === undefined) continue;
      for (const pod of this.pods.filter((p) => p.owner.kind === "Deployment" && p.owner.name === name))
        endpoints.push(
          appEndpoint({ namespace: String(a.namespace), service: name, name, portName: "http", port, pod: pod.pod, node: BENCH_NODE }),
        );
    }
    // No annotated pod: the database exporters are scraped through their Services above.
    return { endpoints, pod: [], node: nodeTargets([{ name: BENCH_NODE, port: this.stack.ports.kubelet }]) };
  }

  /** prometheus.yml for the render and the current workload (rule files: ours, or the compared stack's); writes the discovery files. */
  private writePrometheusConfig(): { ours: string; theirs?: string } {
    const config = this.stack.writePrometheusConfig(this.fixtures(), { token: "bench-token", caCert: this.kubeletCa });
    const ours = path.join(this.stack.tmp, "prometheus.yml");
    if (!this.compare) return { ours };
    // The same scrapes with the other stack's rules, and no Alertmanager: their alerts are evaluated, not delivered.
    const theirs = path.join(this.stack.tmp, "prometheus-compare.yml");
    const other: Record<string, unknown> = { ...config, rule_files: this.compare.files, scrape_configs: anchorJobLabels(config) };
    delete other.alerting;
    fs.writeFileSync(theirs, YAML.stringify(other));
    return { ours, theirs };
  }

  private async startPrometheus(): Promise<void> {
    const files = this.writePrometheusConfig();
    const runs: Array<[Component, string, number]> = [["prometheus", files.ours, this.stack.ports.prometheus]];
    if (files.theirs) runs.push(["prometheus-compare", files.theirs, this.stack.ports.compare]);
    const blocks = [
      `--storage.tsdb.min-block-duration=${BENCH_BLOCK_DURATION}`,
      `--storage.tsdb.max-block-duration=${BENCH_BLOCK_DURATION}`,
    ];
    for (const [name, config, port] of runs) this.measure(name, await this.stack.startPrometheus(name, config, port, blocks), port);
  }

  /** New pods (a new generation, or more of them): kubelet, kube-state-metrics, discovery and log files follow. */
  private repod(change: Partial<WorkloadShape>): void {
    this.shape = { ...this.shape, ...change };
    this.pods = benchPods(this.shape);
    this.node.pods.splice(0, this.node.pods.length, ...this.pods);
    this.writeLogTargets();
    this.writePrometheusConfig();
  }

  /** More apps (a new render: their jobs and rules) or more pods; Prometheus reloads. */
  private async grow(change: { apps?: number; pods?: number }): Promise<void> {
    if (change.apps) {
      await this.startApps(change.apps);
      this.stack.rendered = await renderStack({ stack: STACK, sets: this.sets(change.apps), showSecrets: true });
    }
    this.repod(change);
    for (const m of this.measured.filter((x) => x.name.startsWith("prometheus"))) if (m.proc.pid) process.kill(m.proc.pid, "SIGHUP");
  }

  /** The rendered Prometheus' global intervals (evaluation_interval: what one rule-evaluation cycle stands for). */
  private promGlobal(): PromGlobal {
    return (YAML.parse(this.rendered.files.get("prometheus/prometheus.yml") ?? "") as { global: PromGlobal }).global;
  }

  private alertBound(alert: string): number {
    const global = this.promGlobal();
    const am = YAML.parse(this.rendered.files.get("alertmanager/alertmanager.yml") ?? "") as { route: Route };
    const rules = this.ruleFiles();
    // The longest group_wait of any route: a bound whichever route the alert takes.
    const waits: string[] = [];
    const walk = (r: Route) => {
      if (r.group_wait) waits.push(r.group_wait);
      (r.routes ?? []).forEach(walk);
    };
    walk(am.route);
    const longest = waits.reduce((a, b) => (toSeconds(b) > toSeconds(a) ? b : a), "0s");
    return alertLatencyBound({
      scrapeInterval: global.scrape_interval,
      evaluationInterval: global.evaluation_interval,
      for: alertFor(rules, alert),
      groupWait: longest,
      slackSeconds: 5,
    });
  }

  /** Flushes Loki's in-memory chunks to disk; returns the bytes it received and the bytes its chunks take. */
  private async flushLoki(): Promise<LiveResult["lokiFlush"]> {
    const base = this.stack.url("loki");
    const text = (await httpGet(`${base}/metrics`, 5000)).body;
    const receivedBytes = sum(metricValues(text, "loki_distributor_bytes_received_total"));
    await httpRequest("POST", `${base}/flush`, { timeoutMs: 10_000 });
    // Flushed once no chunk is left in memory.
    await waitFor(
      "Loki's chunks flushed",
      async () =>
        sum(metricValues((await httpGet(`${base}/metrics`, 5000)).body, "loki_ingester_memory_chunks")) === 0 ? true : undefined,
      60_000,
      1000,
    ).catch(() => undefined);
    const chunkBytes = dirBytes(path.join(this.stack.tmp, "loki"), (dir) => path.basename(dir) === "chunks");
    return chunkBytes > 0 ? { receivedBytes, chunkBytes } : undefined;
  }

  /**
   * Our rendered dashboards against our Prometheus and, when comparing, kube-prometheus' views against
   * theirs: between two phases, so that the queries' CPU is counted in neither.
   */
  private async timeDashboards(phase: string): Promise<void> {
    const app = this.pods.find((p) => p.owner.name === "app-1");
    const run = await timeStackDashboards({
      phase,
      apps: this.shape.apps,
      pods: this.shape.pods,
      files: this.rendered.files,
      ours: this.stack.url("prometheus"),
      ...(this.anchors ? { theirs: { url: `http://${LOOPBACK}:${this.stack.ports.compare}`, dashboards: this.anchors.dashboards } } : {}),
      // The app's Deployment where a dashboard lists Deployments, its ReplicaSet where one lists pods' owners.
      preferred: ["team-1", "app-1", ...[app?.replicaSet, app?.pod].filter((v): v is string => v !== undefined), BENCH_NODE],
      repeats: this.plan.quick ? 1 : 3,
      log: this.log,
    });
    this.dashboardRuns.push(run);
  }

  private async phase(name: string, seconds: number): Promise<LivePhase> {
    this.log(
      `phase ${name}: ${seconds} s (${this.shape.apps} apps, ${this.shape.pods} pods, ${this.linesPerSecond} lines/s per container)`,
    );
    const figures = await measurePhase(this.measured, seconds, this.plan.sampleSeconds, toSeconds(this.promGlobal().evaluation_interval));
    return { name, shape: { apps: this.shape.apps, pods: this.shape.pods, linesPerSecond: this.linesPerSecond }, ...figures };
  }

  /** Our rule files as rendered (for the steady workload, when counted before the growth). */
  private ruleFiles(): string[] {
    return [...this.rendered.files]
      .filter(([f]) => f.startsWith("prometheus/") && f.endsWith(".yml") && f !== "prometheus/prometheus.yml")
      .map(([, t]) => t);
  }
}

type PromGlobal = { scrape_interval: string; evaluation_interval: string };

interface Route {
  group_wait?: string;
  routes?: Route[];
}

const toSeconds = (d: string) => durationSeconds(d) ?? 0;
