/**
 * The stack's footprint on its exact binaries (built by `npm run tools`), on 127.0.0.1 only,
 * without a control plane: the staging stack rendered as a user deploys it, with the
 * benchmark's apps (scripts/lib/bench/workload.ts), Kubernetes discovery swapped for file
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
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { EXPORTER_KINDS } from "../../../components/kit/database-exporters";
import { nodeExporterFlags } from "../../../components/exporters/node-exporter";
import { durationSeconds } from "../../../components/kit/units";
import { localAlertmanagerArgs, writeAlertmanagerFiles } from "../../../test/support/amtool";
import { CheckableJob, KubernetesSd, TargetGroup, layOutContainer, rerooted } from "../../../test/support/prometheus-files";
import { residentBytes } from "../cluster/processes";
import { localAlloyArgs, localLokiArgs, lokiReady } from "../local-logs";
import { localPrometheusArgs, preparePostgres, prepareRedis } from "../local-servers";
import { WEB_CONFIG_FILE } from "../../../components/kit/web";
import {
  LOOPBACK,
  LocalRun,
  LoopbackServer,
  ManagedProcess,
  freePorts,
  httpGet,
  selfSignedCertificate,
  sleep,
  waitFor,
} from "../processes";
import type { Rendered } from "../render";
import { renderStack } from "../render-stack";
import { CATALOG_FILE, SyntheticApp, SyntheticNode, catalogueMetricsText } from "../synthetic";
import { binPath } from "../tools";
import { alertFor, alertLatencyBound, countRules, PhaseFigures, phaseFigures, RuleSet, Sample, median } from "./figures";
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
 * the head then holds at most 7.5 minutes instead of 3 hours of samples (see the README).
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

/** The processes measured, as the report names them. */
export type Component =
  "prometheus" | "prometheus-compare" | "alertmanager" | "loki" | "alloy" | "node-exporter" | "postgres-exporter" | "redis-exporter";

export interface PrometheusFigures {
  /** Series in the head at the end of the phase. */
  headSeries: number;
  /** Series created over the phase (churn). */
  seriesCreated: number;
  /** Median over the phase of the sum of every rule group's last evaluation time: one evaluation cycle. */
  ruleEvaluationSeconds: number;
  rules: number;
  ruleGroups: number;
  /** Head compactions over the phase. */
  compactions: number;
}

export interface LivePhase {
  name: string;
  shape: { apps: number; pods: number; linesPerSecond: number };
  components: Partial<Record<Component, PhaseFigures>>;
  prometheus: Partial<Record<"prometheus" | "prometheus-compare", PrometheusFigures>>;
  loki: { linesPerSecond: number; bytesPerSecond: number };
}

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
  ourRules: { groups: number; alerts: number; records: number };
  blockDuration: string;
}

/** utime + stime of a process, in seconds (100 clock ticks a second on Linux). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Bytes the process caused to be written to storage (write_bytes), or written at all when storage accounting is off. */
function writtenBytes(pid: number): number {
  const io = fs.readFileSync(`/proc/${pid}/io`, "utf8");
  const m = /^write_bytes:\s+(\d+)/m.exec(io);
  return m ? Number(m[1]) : 0;
}

/** A metric's values in a /metrics text (every series of the name, labels ignored). */
export function metricValues(text: string, name: string): number[] {
  const out: number[] = [];
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "gm");
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(Number(m[1]));
  return out;
}
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

interface Measured {
  name: Component;
  proc: ManagedProcess;
  metricsUrl: string;
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
  private readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-live-"));
  private readonly local = new LocalRun(60 * 60_000);
  private readonly measured: Measured[] = [];
  private readonly apps = new Map<string, { app: SyntheticApp; server: LoopbackServer; port: number }>();
  private readonly sinkMessages: Array<{ at: number; text: string }> = [];
  private timers: NodeJS.Timeout[] = [];
  private ports!: Record<string, number>;
  private shape!: WorkloadShape;
  private pods: BenchPod[] = [];
  private node!: SyntheticNode;
  private rendered!: Rendered;
  private logFiles = new Map<string, { file: string; json: boolean }>();
  private linesPerSecond: number;
  private lineCounter = 0;
  private readonly promRoot = path.join(this.tmp, "prometheus-root");

  constructor(
    private readonly plan: LivePlan,
    private readonly compare: RuleSet | undefined,
    private readonly log: (m: string) => void,
  ) {
    this.linesPerSecond = plan.linesPerSecond;
  }

  diagnostics(): string {
    return this.local.diagnostics(15);
  }

  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    await this.local.stop();
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  private start(...args: Parameters<LocalRun["start"]>): ManagedProcess {
    return this.local.start(...args);
  }

  private serve(...args: Parameters<LocalRun["serve"]>): Promise<LoopbackServer> {
    return this.local.serve(...args);
  }

  private sets(apps: number): string[] {
    const sink = (c: string) => `http://${LOOPBACK}:${this.ports.sink}/${c}`;
    return [
      ...(this.plan.quick ? QUICK_TIMING : []),
      `discordWebhookUrl=${sink("monitoring")}`,
      `discordCriticalWebhookUrl=${sink("critical")}`,
      `deadMansSwitchUrl=${sink("deadmans-switch")}`,
      `apps=${JSON.stringify(benchApps(apps))}`,
    ];
  }

  async run(): Promise<LiveResult> {
    const names = [
      "sink",
      "prometheus",
      "compare",
      "alertmanager",
      "mesh",
      "loki",
      "lokiGrpc",
      "alloy",
      "nodeExporter",
      "postgres",
      "postgresExporter",
      "redis",
      "redisExporter",
      "grafana",
      "ksm",
      "ksmTelemetry",
      "kubelet",
    ];
    const free = await freePorts(names.length);
    this.ports = Object.fromEntries(names.map((n, i) => [n, free[i]]));
    await this.serve(this.ports.sink, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.sinkMessages.push({ at: Date.now(), text: `${req.url} ${Buffer.concat(chunks).toString("utf8")}` });
        res.writeHead(204).end();
      });
    });
    this.rendered = await renderStack({ stack: STACK, sets: this.sets(this.plan.apps), showSecrets: true });
    const databases = this.databases();
    this.shape = { namespace: this.namespace(), apps: this.plan.apps, pods: this.plan.pods, generation: 0, databases };
    this.pods = benchPods(this.shape);
    await this.startApps(this.plan.apps);
    await this.startNode();
    await this.startDatabases();
    this.start("node-exporter", binPath("node_exporter"), [
      ...nodeExporterFlags().filter((f) => !/^--(path\.rootfs|path\.udev\.data|web\.listen-address)=/.test(f)),
      `--web.listen-address=${LOOPBACK}:${this.ports.nodeExporter}`,
    ]);
    this.measure("node-exporter", this.ports.nodeExporter, "/metrics");
    await this.startLogs();
    await this.startAlertmanager();
    await this.startPrometheus();
    this.log(`all up; warm-up ${this.plan.warmupSeconds} s`);
    await sleep(this.plan.warmupSeconds * 1000);

    const ourRules = this.ruleCount();
    const phases: LivePhase[] = [];
    phases.push(await this.phase("steady", this.plan.steadySeconds));

    // The burst: pods replaced 5 times over the phase, 5× the log lines.
    this.linesPerSecond = this.plan.linesPerSecond * 5;
    this.apps.forEach(({ app }) => (app.errorRatio = 0.02));
    const generations = 5;
    const churn = setInterval(() => this.repod({ generation: this.shape.generation + 1 }), (this.plan.burstSeconds * 1000) / generations);
    this.timers.push(churn);
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

  /** The stack file's databases: their type and name, from the exporters the render runs for them. */
  private databases(): WorkloadShape["databases"] {
    const out: WorkloadShape["databases"] = [];
    for (const { object } of this.rendered.kubernetes) {
      if (object.kind !== "Deployment" || !object.metadata.name?.endsWith("-exporter")) continue;
      const containers = (
        (object.spec as { template?: { spec?: { containers?: Array<{ name: string }> } } })?.template?.spec?.containers ?? []
      ).map((c) => c.name);
      const type = containers.includes("postgres-exporter") ? "postgres" : containers.includes("redis-exporter") ? "redis" : undefined;
      if (type) out.push({ type, name: object.metadata.name.slice(0, -"-exporter".length) });
    }
    if (out.length === 0) throw new Error("the staging stack file has no PostgreSQL or Redis exporter");
    return out;
  }

  private measure(name: Component, port: number, metricsPath: string): void {
    const proc = this.local.processes[this.local.processes.length - 1];
    this.measured.push({ name, proc, metricsUrl: `http://${LOOPBACK}:${port}${metricsPath}` });
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
      const server = await this.serve(ports[i], (req, res) => {
        if ((req.url ?? "").split("?")[0] !== "/metrics") return void res.writeHead(404).end();
        res.writeHead(200, app.headers()).end(app.metricsText());
      });
      this.apps.set(name, { app, server, port: ports[i] });
    }
    if (this.timers.length === 0) this.timers.push(setInterval(() => this.apps.forEach(({ app }) => app.serve(10)), 200));
  }

  private async startNode(): Promise<void> {
    const tls = selfSignedCertificate(this.tmp, "kubelet", 1);
    this.node = new SyntheticNode(BENCH_NODE, "k3s-unlabelled", [...this.pods]);
    const ksmCatalog = CATALOG_FILE("kube-state-metrics");
    const grafanaText = catalogueMetricsText(CATALOG_FILE("grafana"));
    await this.serve(
      this.ports.kubelet,
      (req, res) => {
        const p = (req.url ?? "").split("?")[0];
        if (req.headers.authorization !== "Bearer bench-token") return void res.writeHead(401).end();
        if (p === "/metrics") return void res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(this.node.kubeletText());
        if (p === "/metrics/cadvisor")
          return void res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(this.node.cadvisorText());
        res.writeHead(404).end();
      },
      tls,
    );
    fs.writeFileSync(path.join(this.tmp, "kubelet-ca.crt"), tls.cert);
    await this.serve(this.ports.ksm, (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(kubeStateMetricsText(this.pods, BENCH_NODE, ksmCatalog));
    });
    await this.serve(this.ports.ksmTelemetry, (_req, res) => {
      res
        .writeHead(200, { "Content-Type": "text/plain; version=0.0.4" })
        .end("# TYPE kube_state_metrics_build_info gauge\nkube_state_metrics_build_info 1\n");
    });
    await this.serve(this.ports.grafana, (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(grafanaText);
    });
  }

  private async startDatabases(): Promise<void> {
    const pg = preparePostgres(path.join(this.tmp, "postgres"), this.ports.postgres);
    this.start("postgres", pg.command.binary, pg.command.args, { user: pg.command.user });
    await waitFor("PostgreSQL", async () => (pg.psql("SELECT 1").trim() === "1" ? true : undefined), 60_000, 500);
    pg.psql("CREATE DATABASE shop");
    pg.psql(
      "CREATE TABLE orders (id serial PRIMARY KEY, total numeric); INSERT INTO orders (total) SELECT g FROM generate_series(1, 500) g;",
      "shop",
    );
    const listen = (args: readonly string[], port: number) => [
      ...args.filter((a) => !a.startsWith("--web.listen-address=")),
      `--web.listen-address=${LOOPBACK}:${port}`,
    ];
    this.start("postgres-exporter", binPath("postgres_exporter"), listen(EXPORTER_KINDS.postgres.args, this.ports.postgresExporter), {
      env: { DATA_SOURCE_NAME: pg.dsn("shop") },
    });
    this.measure("postgres-exporter", this.ports.postgresExporter, "/metrics");
    const redis = prepareRedis(path.join(this.tmp, "redis"), this.ports.redis);
    this.start("redis", redis.command.binary, redis.command.args);
    await waitFor("Redis", async () => (redis.cli("PING").trim() === "PONG" ? true : undefined), 30_000, 300);
    for (let i = 0; i < 50; i++) redis.cli("SET", `cart:${i}`, String(i));
    this.start("redis-exporter", binPath("redis_exporter"), listen(EXPORTER_KINDS.redis.args, this.ports.redisExporter), {
      env: { REDIS_ADDR: redis.address },
    });
    this.measure("redis-exporter", this.ports.redisExporter, "/metrics");
  }

  /** Every container of the node's pods logs to its file; Alloy discovers them from a file of the labels Kubernetes would give. */
  private writeLogTargets(): void {
    const podLogs = path.join(this.tmp, "pods");
    const targets: TargetGroup[] = [];
    const files = new Map<string, { file: string; json: boolean }>();
    for (const pod of this.pods) {
      for (const c of pod.containers) {
        const dir = path.join(podLogs, `${pod.namespace}_${pod.pod}_${pod.uid}`, c.name);
        fs.mkdirSync(dir, { recursive: true });
        files.set(`${pod.uid}/${c.name}`, { file: path.join(dir, "0.log"), json: c.name.startsWith("app-") });
        targets.push({
          targets: [LOOPBACK],
          labels: {
            __meta_kubernetes_namespace: pod.namespace,
            __meta_kubernetes_pod_name: pod.pod,
            __meta_kubernetes_pod_uid: pod.uid,
            __meta_kubernetes_pod_container_name: c.name,
            __meta_kubernetes_pod_node_name: BENCH_NODE,
            __meta_kubernetes_pod_label_app: pod.owner.name,
          },
        });
      }
    }
    this.logFiles = files;
    const file = path.join(this.tmp, "pod-targets.json");
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(targets));
    fs.renameSync(`${file}.tmp`, file);
  }

  private writeLogLines(): void {
    const now = new Date().toISOString().replace("Z", "000000Z");
    for (const f of this.logFiles.values()) {
      let chunk = "";
      for (let k = 0; k < this.linesPerSecond; k++) {
        const n = this.lineCounter++;
        const level = n % 29 === 0 ? "error" : n % 11 === 0 ? "warn" : "info";
        const line = f.json
          ? JSON.stringify({ level, msg: level === "error" ? "payment failed: timeout" : "request served", path: "/cart", n })
          : `level=${level} msg="${level === "error" ? "lost connection" : "tick"}" n=${n}`;
        chunk += `${now} ${level === "error" ? "stderr" : "stdout"} F ${line}\n`;
      }
      fs.appendFileSync(f.file, chunk);
    }
  }

  private async startLogs(): Promise<void> {
    const lokiArgs = localLokiArgs(this.rendered.files.get("loki/loki.yaml") ?? "", this.tmp, {
      http: this.ports.loki,
      grpc: this.ports.lokiGrpc,
    });
    const loki = this.start("loki", binPath("loki"), lokiArgs);
    this.measure("loki", this.ports.loki, "/metrics");
    await lokiReady(loki, `http://${LOOPBACK}:${this.ports.loki}`);
    this.writeLogTargets();
    this.writeLogLines();
    this.timers.push(setInterval(() => this.writeLogLines(), 1000));
    const alloyArgs = localAlloyArgs(this.rendered.files.get("log-collector/config.alloy") ?? "", this.tmp, {
      targetsFile: path.join(this.tmp, "pod-targets.json"),
      podLogs: path.join(this.tmp, "pods"),
      pushUrl: `http://${LOOPBACK}:${this.ports.loki}/loki/api/v1/push`,
      port: this.ports.alloy,
    });
    this.start("alloy", binPath("alloy"), alloyArgs, { env: { HOSTNAME: BENCH_NODE } });
    this.measure("alloy", this.ports.alloy, "/metrics");
  }

  private async startAlertmanager(): Promise<void> {
    const files = writeAlertmanagerFiles(this.rendered, "bench-am-");
    const sts = this.rendered.kubernetes.find((o) => o.object.kind === "StatefulSet" && o.object.metadata.name === "alertmanager")?.object
      .spec as { template: { spec: { containers: Array<{ name: string; args: string[] }> } } };
    const rendered = sts.template.spec.containers.find((c) => c.name === "alertmanager")?.args ?? [];
    const storage = path.join(this.tmp, "alertmanager");
    fs.mkdirSync(storage);
    const args = localAlertmanagerArgs(rendered, {
      config: files.config,
      storage,
      web: this.ports.alertmanager,
      mesh: this.ports.mesh,
      peers: [],
    });
    this.start("alertmanager", binPath("alertmanager"), args);
    this.measure("alertmanager", this.ports.alertmanager, "/metrics");
    await waitFor(
      "Alertmanager ready",
      async () =>
        (await httpGet(`http://${LOOPBACK}:${this.ports.alertmanager}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined,
      60_000,
      500,
    );
  }

  /** What Kubernetes discovery would report, by role. */
  private fixtures(): Record<"endpoints" | "pod" | "node", TargetGroup[]> {
    const at = (port: number) => `${LOOPBACK}:${port}`;
    const ns = this.shape.namespace;
    const podOf = (prefix: string) => this.pods.find((p) => p.pod.startsWith(prefix))?.pod ?? `${prefix}-0`;
    const stack: Record<string, { address: string; pod: string }> = {
      [`${ns}/prometheus/http`]: { address: at(this.ports.prometheus), pod: "prometheus-0" },
      [`${ns}/alertmanager/http`]: { address: at(this.ports.alertmanager), pod: "alertmanager-0" },
      [`${ns}/loki/http`]: { address: at(this.ports.loki), pod: "loki-0" },
      [`${ns}/grafana/http`]: { address: at(this.ports.grafana), pod: podOf("grafana") },
      [`${ns}/kube-state-metrics/http-metrics`]: { address: at(this.ports.ksm), pod: podOf("kube-state-metrics") },
      [`${ns}/kube-state-metrics/telemetry`]: { address: at(this.ports.ksmTelemetry), pod: podOf("kube-state-metrics") },
      [`${ns}-agents/node-exporter/metrics`]: { address: at(this.ports.nodeExporter), pod: podOf("node-exporter") },
      [`${ns}-agents/alloy/http-metrics`]: { address: at(this.ports.alloy), pod: podOf("alloy") },
      // The database exporters' Services, each to the lab's exporter of its type.
      ...Object.fromEntries(
        this.shape.databases.map((db) => [
          `${ns}/${db.name}-exporter/metrics`,
          {
            address: at(db.type === "postgres" ? this.ports.postgresExporter : this.ports.redisExporter),
            pod: podOf(`${db.name}-exporter`),
          },
        ]),
      ),
    };
    const endpoints: TargetGroup[] = [];
    for (const { object: svc } of this.rendered.kubernetes.filter((o) => o.object.kind === "Service")) {
      const svcNs = svc.metadata.namespace ?? "";
      for (const port of (svc.spec as { ports?: Array<{ name?: string }> }).ports ?? []) {
        const where = stack[`${svcNs}/${svc.metadata.name}/${port.name}`];
        if (!where) continue;
        endpoints.push({
          targets: [where.address],
          labels: {
            __meta_kubernetes_namespace: svcNs,
            __meta_kubernetes_service_name: svc.metadata.name ?? "",
            ...Object.fromEntries(
              Object.entries(svc.metadata.labels ?? {}).map(([k, v]) => [
                `__meta_kubernetes_service_label_${k.replace(/[^a-zA-Z0-9_]/g, "_")}`,
                v,
              ]),
            ),
            __meta_kubernetes_endpoint_port_name: port.name ?? "",
            __meta_kubernetes_endpoint_ready: "true",
            __meta_kubernetes_pod_name: where.pod,
            __meta_kubernetes_pod_node_name: BENCH_NODE,
          },
        });
      }
    }
    for (const a of benchApps(this.shape.apps)) {
      const name = String(a.name);
      const port = this.apps.get(name)?.port;
      if (port === undefined) continue;
      for (const pod of this.pods.filter((p) => p.owner.kind === "Deployment" && p.owner.name === name))
        endpoints.push({
          targets: [at(port)],
          labels: {
            __meta_kubernetes_namespace: String(a.namespace),
            __meta_kubernetes_service_name: name,
            __meta_kubernetes_service_label_app: name,
            __meta_kubernetes_endpoint_port_name: "http",
            __meta_kubernetes_endpoint_ready: "true",
            __meta_kubernetes_pod_name: pod.pod,
            __meta_kubernetes_pod_node_name: BENCH_NODE,
          },
        });
    }
    // No annotated pod: the database exporters are scraped through their Services above.
    const pods: TargetGroup[] = [];
    const node = [
      {
        targets: [at(this.ports.kubelet)],
        labels: { __meta_kubernetes_node_name: BENCH_NODE, __meta_kubernetes_node_label_kubernetes_io_hostname: BENCH_NODE },
      },
    ];
    return { endpoints, pod: pods, node };
  }

  /** prometheus.yml for the render and the current workload (rule files: ours, or the compared stack's); writes the discovery files. */
  private writePrometheusConfig(): { ours: string; theirs?: string } {
    layOutContainer(this.rendered, this.promRoot);
    const sa = path.join(this.promRoot, "var/run/secrets/kubernetes.io/serviceaccount");
    fs.mkdirSync(sa, { recursive: true });
    fs.writeFileSync(path.join(sa, "token"), "bench-token");
    fs.copyFileSync(path.join(this.tmp, "kubelet-ca.crt"), path.join(sa, "ca.crt"));
    const config = rerooted(this.rendered.files.get("prometheus/prometheus.yml") ?? "", this.promRoot);
    const fixtures = this.fixtures();
    const sdDir = path.join(this.tmp, "discovery");
    fs.mkdirSync(sdDir, { recursive: true });
    const swap = (holder: CheckableJob, id: string) => {
      if (!holder.kubernetes_sd_configs) return;
      holder.file_sd_configs = holder.kubernetes_sd_configs.map((sd: KubernetesSd, i: number) => {
        const groups = fixtures[sd.role].filter(
          (g) => !sd.namespaces || sd.namespaces.names.includes(g.labels.__meta_kubernetes_namespace),
        );
        const file = path.join(sdDir, `${id.replace(/[^a-z0-9-]/gi, "_")}-${i}.json`);
        fs.writeFileSync(`${file}.tmp`, JSON.stringify(groups));
        fs.renameSync(`${file}.tmp`, file);
        return { files: [file] };
      });
      delete holder.kubernetes_sd_configs;
    };
    config.scrape_configs.forEach((job) => swap(job, job.job_name));
    (config.alerting?.alertmanagers ?? []).forEach((am, i) => swap(am, `alertmanagers-${i}`));
    const ours = path.join(this.tmp, "prometheus.yml");
    fs.writeFileSync(ours, YAML.stringify(config));
    if (!this.compare) return { ours };
    // The same scrapes with the other stack's rules, and no Alertmanager: their alerts are evaluated, not delivered.
    const theirs = path.join(this.tmp, "prometheus-compare.yml");
    const other: Record<string, unknown> = { ...config, rule_files: this.compare.files };
    delete other.alerting;
    fs.writeFileSync(theirs, YAML.stringify(other));
    return { ours, theirs };
  }

  private prometheusArgs(config: string, data: string, port: number): string[] {
    const sts = this.rendered.kubernetes.find((o) => o.object.kind === "StatefulSet" && o.object.metadata.name === "prometheus")?.object
      .spec as { template: { spec: { containers: Array<{ name: string; args: string[] }> } } };
    const rendered = sts.template.spec.containers.find((c) => c.name === "prometheus")?.args ?? [];
    return [
      ...localPrometheusArgs(rendered, this.rendered.files.get(`prometheus/${WEB_CONFIG_FILE}`), { config, data, port, dir: this.tmp }),
      `--storage.tsdb.min-block-duration=${BENCH_BLOCK_DURATION}`,
      `--storage.tsdb.max-block-duration=${BENCH_BLOCK_DURATION}`,
    ];
  }

  private async startPrometheus(): Promise<void> {
    const files = this.writePrometheusConfig();
    const runs: Array<[Component, string, number]> = [["prometheus", files.ours, this.ports.prometheus]];
    if (files.theirs) runs.push(["prometheus-compare", files.theirs, this.ports.compare]);
    for (const [name, config, port] of runs) {
      this.start(name, binPath("prometheus"), this.prometheusArgs(config, path.join(this.tmp, `${name}-data`), port), {
        env: { POD_NAME: "prometheus-0" },
      });
      this.measure(name, port, "/metrics");
      await waitFor(
        `${name} ready`,
        async () => ((await httpGet(`http://${LOOPBACK}:${port}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
        60_000,
        500,
      );
    }
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
      this.rendered = await renderStack({ stack: STACK, sets: this.sets(change.apps), showSecrets: true });
    }
    this.repod(change);
    for (const m of this.measured.filter((x) => x.name.startsWith("prometheus"))) if (m.proc.pid) process.kill(m.proc.pid, "SIGHUP");
  }

  private alertBound(alert: string): number {
    const prom = YAML.parse(this.rendered.files.get("prometheus/prometheus.yml") ?? "") as {
      global: { scrape_interval: string; evaluation_interval: string };
    };
    const am = YAML.parse(this.rendered.files.get("alertmanager/alertmanager.yml") ?? "") as { route: Route };
    const rules = [...this.rendered.files]
      .filter(([f]) => f.startsWith("prometheus/") && f.endsWith(".yml") && f !== "prometheus/prometheus.yml")
      .map(([, t]) => t);
    // The longest group_wait of any route: a bound whichever route the alert takes.
    const waits: string[] = [];
    const walk = (r: Route) => {
      if (r.group_wait) waits.push(r.group_wait);
      (r.routes ?? []).forEach(walk);
    };
    walk(am.route);
    const longest = waits.reduce((a, b) => (toSeconds(b) > toSeconds(a) ? b : a), "0s");
    return alertLatencyBound({
      scrapeInterval: prom.global.scrape_interval,
      evaluationInterval: prom.global.evaluation_interval,
      for: alertFor(rules, alert),
      groupWait: longest,
      slackSeconds: 5,
    });
  }

  /** Flushes Loki's in-memory chunks to disk; returns the bytes it received and the bytes its chunks take. */
  private async flushLoki(): Promise<LiveResult["lokiFlush"]> {
    const base = `http://${LOOPBACK}:${this.ports.loki}`;
    const text = (await httpGet(`${base}/metrics`, 5000)).body;
    const receivedBytes = sum(metricValues(text, "loki_distributor_bytes_received_total"));
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${base}/flush`, { method: "POST", timeout: 10_000 }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      });
      req.on("error", reject);
      req.end();
    });
    // Flushed once no chunk is left in memory.
    await waitFor(
      "Loki's chunks flushed",
      async () =>
        sum(metricValues((await httpGet(`${base}/metrics`, 5000)).body, "loki_ingester_memory_chunks")) === 0 ? true : undefined,
      60_000,
      1000,
    ).catch(() => undefined);
    const chunkBytes = dirBytes(path.join(this.tmp, "loki"), (dir) => path.basename(dir) === "chunks");
    return chunkBytes > 0 ? { receivedBytes, chunkBytes } : undefined;
  }

  /** Our rule files as rendered for the steady workload. */
  private ruleCount(): LiveResult["ourRules"] {
    return countRules(
      [...this.rendered.files]
        .filter(([f]) => f.startsWith("prometheus/") && f.endsWith(".yml") && f !== "prometheus/prometheus.yml")
        .map(([, t]) => t),
    );
  }

  private async sampleAll(): Promise<{ samples: Map<Component, Sample>; texts: Map<Component, string> }> {
    const samples = new Map<Component, Sample>();
    const texts = new Map<Component, string>();
    await Promise.all(
      this.measured.map(async (m) => {
        const pid = m.proc.pid;
        if (!m.proc.alive || pid === undefined) throw new Error(`${m.name} exited\n${m.proc.output()}`);
        const text = (await httpGet(m.metricsUrl, 5000).catch(() => undefined))?.body ?? "";
        texts.set(m.name, text);
        const heap = metricValues(text, "go_memstats_heap_inuse_bytes")[0];
        samples.set(m.name, {
          at: Date.now(),
          rssBytes: residentBytes(pid),
          ...(heap !== undefined ? { heapBytes: heap } : {}),
          cpuSeconds: cpuSeconds(pid),
          writtenBytes: writtenBytes(pid),
        });
      }),
    );
    return { samples, texts };
  }

  private async phase(name: string, seconds: number): Promise<LivePhase> {
    this.log(
      `phase ${name}: ${seconds} s (${this.shape.apps} apps, ${this.shape.pods} pods, ${this.linesPerSecond} lines/s per container)`,
    );
    const series = new Map<Component, Sample[]>();
    const ruleTimes = new Map<Component, number[]>();
    const firstTexts: Map<Component, string>[] = [];
    let lastTexts = new Map<Component, string>();
    const started = Date.now();
    for (;;) {
      const { samples, texts } = await this.sampleAll();
      if (firstTexts.length === 0) firstTexts.push(texts);
      lastTexts = texts;
      for (const [c, s] of samples) series.set(c, [...(series.get(c) ?? []), s]);
      for (const c of ["prometheus", "prometheus-compare"] as const) {
        const t = texts.get(c);
        if (t) ruleTimes.set(c, [...(ruleTimes.get(c) ?? []), sum(metricValues(t, "prometheus_rule_group_last_duration_seconds"))]);
      }
      if (Date.now() - started >= seconds * 1000) break;
      await sleep(this.plan.sampleSeconds * 1000);
    }
    const first = firstTexts[0];
    const delta = (c: Component, metric: string) =>
      sum(metricValues(lastTexts.get(c) ?? "", metric)) - sum(metricValues(first.get(c) ?? "", metric));
    const components: LivePhase["components"] = {};
    for (const [c, s] of series) components[c] = phaseFigures(s);
    const prometheus: LivePhase["prometheus"] = {};
    for (const c of ["prometheus", "prometheus-compare"] as const) {
      const t = lastTexts.get(c);
      if (!t) continue;
      prometheus[c] = {
        headSeries: sum(metricValues(t, "prometheus_tsdb_head_series")),
        seriesCreated: delta(c, "prometheus_tsdb_head_series_created_total"),
        ruleEvaluationSeconds: median(ruleTimes.get(c) ?? [0]),
        rules: sum(metricValues(t, "prometheus_rule_group_rules")),
        ruleGroups: metricValues(t, "prometheus_rule_group_rules").length,
        compactions: delta(c, "prometheus_tsdb_compactions_total"),
      };
    }
    const elapsed = (Date.now() - started) / 1000;
    return {
      name,
      shape: { apps: this.shape.apps, pods: this.shape.pods, linesPerSecond: this.linesPerSecond },
      components,
      prometheus,
      loki: {
        linesPerSecond: delta("loki", "loki_distributor_lines_received_total") / elapsed,
        bytesPerSecond: delta("loki", "loki_distributor_bytes_received_total") / elapsed,
      },
    };
  }
}

/** Bytes of the files under the directories of `root` that `pick` selects (and their subdirectories). */
function dirBytes(root: string, pick: (dir: string) => boolean, picked = false): number {
  let total = 0;
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) total += dirBytes(full, pick, picked || pick(full));
    else if (picked && entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

interface Route {
  group_wait?: string;
  routes?: Route[];
}

const toSeconds = (d: string) => durationSeconds(d) ?? 0;
