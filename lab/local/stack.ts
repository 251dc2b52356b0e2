/**
 * One boot of the local stack, for the live lab (test/live/) and the benchmark
 * (lab/bench/): a rendered stack run on the exact binaries it deploys, on 127.0.0.1
 * only, every process bounded in time. Real: Prometheus (rendered config and rules, Kubernetes
 * discovery swapped for file discovery of the local addresses), Alertmanager (rendered
 * routing, to a local sink), Loki and Alloy (rendered configs, pod log files that grow; Alloy's
 * OTLP endpoint for apps when rendered), Jaeger (rendered config, Badger in the run's directory),
 * node-exporter, postgres-exporter with PostgreSQL and redis_exporter with Redis (Debian
 * packages), each with the flags the stack passes. Synthetic: the kubelets and their
 * cAdvisors, Grafana's metrics (no Grafana binary can be built here). The caller starts the
 * rest (apps, kube-state-metrics or its output) and says what discovery reports.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { WEB_CONFIG_FILE } from "../../components/kit/web";
import type { Rendered } from "../../cli/render";
import { localAlertmanagerArgs, writeAlertmanagerFiles } from "./alertmanager";
import { localNodeExporterArgs } from "./node-exporter";
import { stackBinary } from "./binaries";
import { LocalPostgres, LocalRedis, preparePostgres, prepareRedis } from "./databases";
import { LoopbackServer, SelfSigned, isReady, metricsHandler, sinkHandler, SinkRequest } from "./http";
import { localAlloyArgs, localLokiArgs, lokiReady } from "./logs";
import { LOOPBACK, freePorts } from "../ports";
import { LocalRun, ManagedProcess } from "../processes/children";
import { waitFor } from "../processes/supervision";
import {
  LocalEndpoint,
  ParsedConfig,
  Role,
  TargetGroup,
  fileDiscovery,
  layOutContainer,
  localPrometheusArgs,
  rerooted,
} from "./prometheus";
import { containerArgs } from "./rendered";
import { SyntheticNode } from "./synthetic";
import { OTLP_RECEIVER_BLOCK, localJaegerConfig } from "./tracing";

/** The ports of the stack's processes and servers. */
const STACK_PORTS = [
  "sink",
  "prometheus",
  "alertmanager",
  "alertmanagerMesh",
  "loki",
  "lokiGrpc",
  "alloy",
  "nodeExporter",
  "postgres",
  "postgresExporter",
  "redis",
  "redisExporter",
  "grafana",
  "kubeStateMetrics",
  "kubeStateMetricsTelemetry",
  "jaegerOtlp",
  "jaegerQuery",
  "jaegerMetrics",
  "jaegerHealth",
  "jaegerQueryGrpc",
  "otlpGrpc",
  "otlpHttp",
] as const;
export type StackPorts = Record<(typeof STACK_PORTS)[number], number>;

/** A pod whose containers log to files under the pod log directory, as the kubelet lays them out. */
export interface LoggingPod {
  namespace: string;
  pod: string;
  uid: string;
  node: string;
  /** The pod's `app` label. */
  app: string;
  containers: Array<{ name: string }>;
}

/** A container's log file, and whether it logs JSON lines (an app) or logfmt. */
export interface LogFile {
  file: string;
  json: boolean;
}

export class LocalStack<Extra extends string = never> {
  readonly tmp: string;
  /** Every process and loopback server of the run. */
  readonly local: LocalRun;
  ports!: StackPorts & Record<Extra, number>;
  rendered!: Rendered;
  postgres!: { local: LocalPostgres; proc: ManagedProcess };
  redis!: { local: LocalRedis; proc: ManagedProcess };
  /** The pod log files Alloy tails, by pod uid and container. */
  logFiles = new Map<string, LogFile>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Directories of the run outside `tmp` (Alertmanager's config files, one per start), removed at `stop`. */
  private readonly outside: string[] = [];

  /** `prefix`: of the run's temporary directory; `lifetimeMs`: how long any process may live. */
  constructor(
    private readonly prefix: string,
    lifetimeMs: number,
  ) {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.local = new LocalRun(lifetimeMs);
  }

  /** Free ports for the stack's processes and the caller's own `extra` ones. */
  async allocatePorts(extra: readonly Extra[]): Promise<void> {
    const names = [...STACK_PORTS, ...extra];
    const free = await freePorts(names.length);
    this.ports = Object.fromEntries(names.map((n, i) => [n, free[i]])) as StackPorts & Record<Extra, number>;
  }

  url(what: "prometheus" | "alertmanager" | "loki" | "alloy" | "jaeger" | "otlp"): string {
    const port = what === "jaeger" ? this.ports.jaegerQuery : what === "otlp" ? this.ports.otlpHttp : this.ports[what];
    return `http://${LOOPBACK}:${port}`;
  }

  /** The `--set`s that point every notification at the local sink, one channel (path) per webhook. */
  notificationSets(): string[] {
    const sink = (channel: string) => `http://${LOOPBACK}:${this.ports.sink}/${channel}`;
    return [
      `discordWebhookUrl=${sink("monitoring")}`,
      `discordCriticalWebhookUrl=${sink("critical")}`,
      `deadMansSwitchUrl=${sink("deadmans-switch")}`,
    ];
  }

  /** The sink every notification goes to: `record` gets each request and answers its status. */
  async serveSink(record: (req: SinkRequest) => number): Promise<void> {
    await this.local.serve(
      this.ports.sink,
      sinkHandler((req) => ({ status: record(req) })),
    );
  }

  /** Runs `every` each `ms` until the stack stops. */
  every(ms: number, every: () => void): NodeJS.Timeout {
    const timer = setInterval(every, ms);
    timer.unref();
    this.timers.push(timer);
    return timer;
  }

  /** A synthetic kubelet (and its cAdvisor) over HTTPS, accepting the service account's `token`. */
  async serveKubelet(port: number, node: SyntheticNode, token: string, tls: SelfSigned): Promise<LoopbackServer> {
    const kubelet = metricsHandler(() => node.kubeletText());
    const cadvisor = metricsHandler(() => node.cadvisorText());
    return this.local.serve(
      port,
      (req, res) => {
        const p = (req.url ?? "").split("?")[0];
        if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
        if (p === "/metrics") return kubelet(req, res);
        if (p === "/metrics/cadvisor") return cadvisor(req, res);
        res.writeHead(404).end();
      },
      tls,
    );
  }

  /** Grafana's metrics (`text`: catalogueMetricsText("grafana"), made once or at every scrape), on `metricsPath` or every path. */
  async serveGrafana(text: () => string, metricsPath?: string): Promise<void> {
    await this.local.serve(this.ports.grafana, metricsHandler(text, metricsPath));
  }

  /** PostgreSQL with a database `shop` that has a table, Redis with a few keys, and their exporters with the stack's flags (startDatabaseExporters). */
  async startDatabases(): Promise<{ postgresExporter: ManagedProcess; redisExporter: ManagedProcess }> {
    const pg = preparePostgres(path.join(this.tmp, "postgres"), this.ports.postgres);
    const pgProc = this.local.start("postgres", pg.command.binary, pg.command.args, { user: pg.command.user });
    this.postgres = { local: pg, proc: pgProc };
    await waitFor("PostgreSQL accepting connections", async () => (pg.psql("SELECT 1").trim() === "1" ? true : undefined), 60_000, 500);
    pg.psql("CREATE DATABASE shop");
    pg.psql(
      "CREATE TABLE orders (id serial PRIMARY KEY, total numeric); INSERT INTO orders (total) SELECT g FROM generate_series(1, 500) g;",
      "shop",
    );

    const redis = prepareRedis(path.join(this.tmp, "redis"), this.ports.redis);
    this.redis = { local: redis, proc: this.local.start("redis", redis.command.binary, redis.command.args) };
    await waitFor("Redis answering", async () => (redis.cli("PING").trim() === "PONG" ? true : undefined), 30_000, 300);
    for (let i = 0; i < 50; i++) redis.cli("SET", `cart:${i}`, String(i));
    return this.startDatabaseExporters();
  }

  /** postgres-exporter and redis_exporter with the stack's flags, on the databases startDatabases started (again after a restart). */
  startDatabaseExporters(): { postgresExporter: ManagedProcess; redisExporter: ManagedProcess } {
    const postgresExporter = this.local.start(
      "postgres_exporter",
      stackBinary("postgres_exporter"),
      onLoopback(DATABASE_KINDS.postgres.args, this.ports.postgresExporter),
      {
        env: { DATA_SOURCE_NAME: this.postgres.local.dsn("shop") },
      },
    );
    const redisExporter = this.local.start(
      "redis_exporter",
      stackBinary("redis_exporter"),
      onLoopback(DATABASE_KINDS.redis.args, this.ports.redisExporter),
      {
        env: { REDIS_ADDR: this.redis.local.address },
      },
    );
    return { postgresExporter, redisExporter };
  }

  /**
   * node-exporter with the rendered flags and web config (TLS and basic auth, as Prometheus' rendered
   * job scrapes it); the host paths are this machine's own (no /host/root mount here).
   */
  startNodeExporter(): ManagedProcess {
    const args = localNodeExporterArgs(this.rendered, path.join(this.tmp, "node-exporter"), this.ports.nodeExporter);
    return this.local.start("node_exporter", stackBinary("node_exporter"), args);
  }

  /** Loki with the rendered config, made local; waits until it is ready. */
  async startLoki(): Promise<ManagedProcess> {
    const args = localLokiArgs(this.rendered.files.get("loki/loki.yaml") ?? "", this.tmp, {
      http: this.ports.loki,
      grpc: this.ports.lokiGrpc,
    });
    const loki = this.local.start("loki", stackBinary("loki"), args);
    await lokiReady(loki, this.url("loki"));
    return loki;
  }

  /**
   * Every container of `pods` logs to its file under the pod log directory; Alloy discovers them
   * from a file of the labels Kubernetes would give (replaced whole: Alloy may be reading it).
   */
  writeLogTargets(pods: LoggingPod[], json: (container: string) => boolean): void {
    const targets: TargetGroup[] = [];
    const files = new Map<string, LogFile>();
    for (const pod of pods) {
      for (const c of pod.containers) {
        const dir = path.join(this.tmp, "pods", `${pod.namespace}_${pod.pod}_${pod.uid}`, c.name);
        fs.mkdirSync(dir, { recursive: true });
        files.set(`${pod.uid}/${c.name}`, { file: path.join(dir, "0.log"), json: json(c.name) });
        targets.push({
          targets: [LOOPBACK],
          labels: {
            __meta_kubernetes_namespace: pod.namespace,
            __meta_kubernetes_pod_name: pod.pod,
            __meta_kubernetes_pod_uid: pod.uid,
            __meta_kubernetes_pod_container_name: c.name,
            __meta_kubernetes_pod_node_name: pod.node,
            __meta_kubernetes_pod_label_app: pod.app,
          },
        });
      }
    }
    this.logFiles = files;
    const file = path.join(this.tmp, "pod-targets.json");
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(targets));
    fs.renameSync(`${file}.tmp`, file);
  }

  /** Appends CRI-format lines to every pod log file: `line(file)` gives each one's lines (stream and text). */
  writeLogLines(lines: (file: LogFile) => Array<{ stderr: boolean; text: string }>): void {
    const now = new Date().toISOString().replace("Z", "000000Z");
    for (const f of this.logFiles.values()) {
      fs.appendFileSync(
        f.file,
        lines(f)
          .map((l) => `${now} ${l.stderr ? "stderr" : "stdout"} F ${l.text}\n`)
          .join(""),
      );
    }
  }

  /** Jaeger with the rendered config, made local; waits until it is ready. */
  async startJaeger(): Promise<ManagedProcess> {
    const p = this.ports;
    const ports = {
      otlp: p.jaegerOtlp,
      query: p.jaegerQuery,
      metrics: p.jaegerMetrics,
      health: p.jaegerHealth,
      queryGrpc: p.jaegerQueryGrpc,
    };
    const file = path.join(this.tmp, "jaeger.yaml");
    const rendered = this.rendered.files.get("tracing/jaeger.yaml") ?? "";
    fs.writeFileSync(file, YAML.stringify(localJaegerConfig(rendered, path.join(this.tmp, "jaeger"), ports)));
    const jaeger = this.local.start("jaeger", stackBinary("jaeger"), [`--config=${file}`]);
    await waitFor("Jaeger ready", () => isReady(`http://${LOOPBACK}:${ports.health}`, "/status"), 60_000, 500, [jaeger]);
    return jaeger;
  }

  /**
   * Alloy with the rendered config, made local, on `node`: it tails the pod log files and pushes
   * to the local Loki; with the OTLP endpoint for apps rendered, it receives OTLP on `url("otlp")`
   * and sends on to the local Jaeger, Prometheus and Loki. `lookup`: a local control plane runs,
   * which the pod lookup asks (lab/local/tracing.ts says how the pod is found here). `journal`: a directory of journal
   * files the rendered journal source reads as the node's journal (lab/local/journal.ts); without, the journal blocks
   * are left out, so that this machine's own journal is never shipped.
   */
  startAlloy(node: string, lookup = false, journal?: string): ManagedProcess {
    const config = this.rendered.files.get("log-collector/config.alloy") ?? "";
    const otlp = config.includes(OTLP_RECEIVER_BLOCK)
      ? {
          grpcPort: this.ports.otlpGrpc,
          httpPort: this.ports.otlpHttp,
          tracesEndpoint: `${LOOPBACK}:${this.ports.jaegerOtlp}`,
          prometheusOtlpUrl: `${this.url("prometheus")}/api/v1/otlp`,
          lokiOtlpUrl: `${this.url("loki")}/otlp`,
          lookup,
        }
      : undefined;
    const args = localAlloyArgs(config, this.tmp, {
      targetsFile: path.join(this.tmp, "pod-targets.json"),
      podLogs: path.join(this.tmp, "pods"),
      pushUrl: `${this.url("loki")}/loki/api/v1/push`,
      port: this.ports.alloy,
      ...(otlp ? { otlp } : {}),
      // With the lab's control plane (lookup), the events source watches it; without, it is left out.
      ...(lookup && process.env.KUBECONFIG ? { kubeconfig: process.env.KUBECONFIG } : {}),
      ...(journal === undefined ? {} : { journal }),
    });
    return this.local.start("alloy", stackBinary("alloy"), args, { env: { HOSTNAME: node } });
  }

  /** Alertmanager with the rendered files and args, made local (one replica); waits until it is ready. */
  async startAlertmanager(): Promise<ManagedProcess> {
    const files = writeAlertmanagerFiles(this.rendered, `${this.prefix}am-`);
    this.outside.push(files.dir);
    const storage = path.join(this.tmp, "alertmanager");
    fs.mkdirSync(storage, { recursive: true });
    const args = localAlertmanagerArgs(containerArgs(this.rendered, "StatefulSet", "alertmanager"), {
      config: files.config,
      storage,
      web: this.ports.alertmanager,
      mesh: this.ports.alertmanagerMesh,
      peers: [],
    });
    const proc = this.local.start("alertmanager", stackBinary("alertmanager"), args);
    await waitFor("Alertmanager ready", () => isReady(this.url("alertmanager")), 60_000, 500);
    return proc;
  }

  /**
   * Where the stack's own Services are served here: `backing` names the pod (and node) behind a
   * workload of the stack; `databases` are the stack's database exporters (no MongoDB server here).
   */
  stackEndpoints(
    namespace: string,
    databases: Array<{ type: string; name: string }>,
    backing: (workload: string, namespace: string) => { pod: string; node: string },
  ): Record<string, LocalEndpoint> {
    const at = (port: number, workload: string, ns = namespace) => ({ address: `${LOOPBACK}:${port}`, ...backing(workload, ns) });
    const agents = `${namespace}-agents`;
    return {
      [`${namespace}/prometheus/http`]: at(this.ports.prometheus, "prometheus"),
      [`${namespace}/alertmanager/http`]: at(this.ports.alertmanager, "alertmanager"),
      [`${namespace}/loki/http`]: at(this.ports.loki, "loki"),
      [`${namespace}/grafana/http`]: at(this.ports.grafana, "grafana"),
      [`${namespace}/kube-state-metrics/http-metrics`]: at(this.ports.kubeStateMetrics, "kube-state-metrics"),
      [`${namespace}/kube-state-metrics/telemetry`]: at(this.ports.kubeStateMetricsTelemetry, "kube-state-metrics"),
      [`${agents}/node-exporter/metrics`]: at(this.ports.nodeExporter, "node-exporter", agents),
      [`${agents}/alloy/http-metrics`]: at(this.ports.alloy, "alloy", agents),
      [`${namespace}/jaeger/metrics`]: at(this.ports.jaegerMetrics, "jaeger"),
      // The database exporters' Services, each to the local exporter of its type.
      ...Object.fromEntries(
        databases
          .filter((db) => db.type === "postgres" || db.type === "redis")
          .map((db) => [
            `${namespace}/${db.name}-exporter/metrics`,
            at(db.type === "postgres" ? this.ports.postgresExporter : this.ports.redisExporter, `${db.name}-exporter`),
          ]),
      ),
    };
  }

  /**
   * Lays out Prometheus' container files (the service account's `token` and `caCert`, as the
   * kubelets here accept them) and writes prometheus.yml with file discovery of `fixtures`;
   * `edit` may change it before it is written. Returns the config, as written to `prometheus.yml`.
   */
  writePrometheusConfig(
    fixtures: Record<Role, TargetGroup[]>,
    sa: { token: string; caCert: string },
    edit: (config: ParsedConfig) => void = () => undefined,
  ): ParsedConfig {
    const root = path.join(this.tmp, "prometheus-root");
    layOutContainer(this.rendered, root);
    const saDir = path.join(root, "var/run/secrets/kubernetes.io/serviceaccount");
    fs.mkdirSync(saDir, { recursive: true });
    fs.writeFileSync(path.join(saDir, "token"), sa.token);
    fs.writeFileSync(path.join(saDir, "ca.crt"), sa.caCert);
    const config = rerooted(this.rendered.files.get("prometheus/prometheus.yml") ?? "", root);
    fileDiscovery(config, path.join(this.tmp, "discovery"), fixtures);
    edit(config);
    fs.writeFileSync(path.join(this.tmp, "prometheus.yml"), YAML.stringify(config));
    return config;
  }

  /** A Prometheus with the rendered args, made local, on `config`; waits until it is ready. */
  async startPrometheus(name: string, config: string, port: number, extraArgs: string[] = []): Promise<ManagedProcess> {
    const args = localPrometheusArgs(
      containerArgs(this.rendered, "StatefulSet", "prometheus"),
      this.rendered.files.get(`prometheus/${WEB_CONFIG_FILE}`),
      { config, data: path.join(this.tmp, `${name}-data`), port, dir: this.tmp },
    );
    const proc = this.local.start(name, stackBinary("prometheus"), [...args, ...extraArgs], { env: { POD_NAME: "prometheus-0" } });
    await waitFor(`${name} ready`, () => isReady(`http://${LOOPBACK}:${port}`), 60_000, 500);
    return proc;
  }

  /** What every process printed, to explain a failure. */
  diagnostics(lines: number): string {
    return this.local.diagnostics(lines);
  }

  /** Stops every timer, process and server, then runs `after` (the caller's own cleanup), and removes the directory. */
  async stop(after: () => Promise<void> = async () => undefined): Promise<void> {
    this.timers.forEach(clearInterval);
    await this.local.stop();
    await after();
    for (const dir of [this.tmp, ...this.outside]) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What node discovery reports for kubelets served here. */
export function nodeTargets(nodes: Array<{ name: string; port: number }>): TargetGroup[] {
  return nodes.map((n) => ({
    targets: [`${LOOPBACK}:${n.port}`],
    labels: { __meta_kubernetes_node_name: n.name, __meta_kubernetes_node_label_kubernetes_io_hostname: n.name },
  }));
}

/** What endpoints discovery reports for an app's Service port served here, backed by `pod` on `node`. */
export function appEndpoint(app: {
  namespace: string;
  service: string;
  name: string;
  portName: string;
  port: number;
  pod: string;
  node: string;
}): TargetGroup {
  return {
    targets: [`${LOOPBACK}:${app.port}`],
    labels: {
      __meta_kubernetes_namespace: app.namespace,
      __meta_kubernetes_service_name: app.service,
      __meta_kubernetes_service_label_app: app.name,
      __meta_kubernetes_endpoint_port_name: app.portName,
      __meta_kubernetes_endpoint_ready: "true",
      __meta_kubernetes_pod_name: app.pod,
      __meta_kubernetes_pod_node_name: app.node,
    },
  };
}

/** The stack's flags with the listen address on the loopback (added when the stack passes none). */
export function onLoopback(args: readonly string[], port: number): string[] {
  const listen = `--web.listen-address=${LOOPBACK}:${port}`;
  return args.some((a) => a.startsWith("--web.listen-address="))
    ? args.map((a) => (a.startsWith("--web.listen-address=") ? listen : a))
    : [...args, listen];
}
