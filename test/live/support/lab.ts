/**
 * The live lab: the staging stack file rendered as a user deploys it (with faster
 * intervals and notifications pointed at a local sink, through `--set`), run on the
 * exact binaries the stack deploys, on 127.0.0.1 only, every process bounded in time.
 *
 * - Prometheus with the rendered prometheus.yml and rule files. Its scrape jobs, their
 *   relabelling and names are the rendered ones; only Kubernetes discovery is swapped
 *   for file discovery of the lab's addresses, with the `__meta_kubernetes_*` labels
 *   Kubernetes would report for the rendered Services (the database exporters' among
 *   them) and the nodes.
 * - Real node-exporter (this machine), real postgres-exporter with PostgreSQL and
 *   redis_exporter with Redis (Debian packages), each with the flags the stack passes.
 * - Synthetic apps in both dialects of the staging stack file's apps[] with traffic,
 *   synthetic kubelets and cAdvisors in both shapes k3s emits, Grafana's metrics.
 * - Loki and Alloy with the rendered configs, fed pod log files that keep growing.
 * - Alertmanager with the rendered routing, delivering to a local sink.
 * - The blackbox exporter with the rendered config, probing the first app's health endpoint
 *   (apps[0].probe) and an HTTPS site served here (probes[]), whose certificate it trusts as a
 *   system root (SSL_CERT_FILE), so that the Uptime dashboard has every series it shows.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { blackboxAddress } from "../../../components/blackbox-exporter";
import { AppTarget, StackConfig, parseStackConfig } from "../../../config";
import { EXPORTER_KINDS } from "../../../components/kit/database-exporters";
import { quantityBytes } from "../../../components/kit/units";
import { kubeStateMetricsFlags } from "../../../components/exporters/kube-state-metrics";
import { nodeExporterFlags } from "../../../components/exporters/node-exporter";
import { down as clusterDown, up as clusterUp } from "../../../scripts/lib/cluster";
import { LocalPostgres, LocalRedis, localPrometheusArgs, preparePostgres, prepareRedis } from "../../../scripts/lib/local-servers";
import { WEB_CONFIG_FILE } from "../../../components/kit/web";
import type { Rendered } from "../../../scripts/lib/render";
import { readStackConfig } from "../../../scripts/lib/stackfile";
import { createTeamWorkloads } from "../../cluster/support/apps";
import { KubeObject, apply, list } from "../../cluster/support/kube";
import { localAlertmanagerArgs, writeAlertmanagerFiles } from "../../support/amtool";
import { stackBinary } from "../../support/binaries";
import { localAlloyArgs, localLokiArgs, lokiReady } from "../../support/logs";
import { CheckableJob, KubernetesSd, TargetGroup, layOutContainer, rerooted } from "../../support/prometheus-files";
import {
  LOOPBACK,
  LoopbackServer,
  ManagedProcess,
  freePorts,
  httpGet,
  LocalRun,
  selfSignedCertificate,
  waitFor,
} from "../../support/processes";
import { objectOf, render } from "../../support/render";
import { CATALOG_FILE, LabPod, SyntheticApp, SyntheticNode, catalogueMetricsText } from "../../../scripts/lib/synthetic";

export const LAB_STACK = "staging";
/** The local cluster's nodes: the server's cAdvisor has k3s's shape (no container or image labels), the agent's the usual one. */
export const K3S_NODE = "k3s-server";
export const OTHER_NODE = "k3s-agent-1";
/** Intervals a user would set to see things quickly; everything else is the stack file's. */
export const LAB_TIMING = { scrapeInterval: "2s", scrapeTimeout: "1s", evaluationInterval: "2s", groupWait: "1s", groupInterval: "2s" };

export interface SinkMessage {
  channel: string;
  receivedAt: number;
  body: { embeds?: Array<{ title?: string; description?: string }>; text?: string };
}

interface Ports {
  sink: number;
  prometheus: number;
  alertmanager: number;
  alertmanagerMesh: number;
  loki: number;
  lokiGrpc: number;
  alloy: number;
  nodeExporter: number;
  postgres: number;
  postgresExporter: number;
  redis: number;
  redisExporter: number;
  grafana: number;
  kubeStateMetrics: number;
  kubeStateMetricsTelemetry: number;
  blackbox: number;
  probedSite: number;
  kubelets: Record<string, number>;
  apps: Record<string, number>;
}

/** What cAdvisor reports for a container: modest, steady usage, set by its kind of workload. */
function usageOf(name: string): { cpuCores: number; memoryMi: number } {
  if (/prometheus$/.test(name)) return { cpuCores: 0.12, memoryMi: 420 };
  if (/loki|postgres$|grafana/.test(name)) return { cpuCores: 0.05, memoryMi: 180 };
  return { cpuCores: 0.01 + (name.length % 5) / 100, memoryMi: 20 + (name.length % 7) * 10 };
}

/** The cluster's pods by node, as the synthetic kubelets report them. */
function podsByNode(pods: KubeObject[]): Record<string, LabPod[]> {
  const out: Record<string, LabPod[]> = { [K3S_NODE]: [], [OTHER_NODE]: [] };
  for (const pod of pods) {
    const node = String((pod.spec as { nodeName?: string } | undefined)?.nodeName ?? "");
    // A finished pod (the Job's) has no cgroup left: the kubelet reports only running ones.
    if (!out[node] || (pod.status as { phase?: string } | undefined)?.phase !== "Running") continue;
    const containers = (
      (pod.spec as { containers?: Array<{ name: string; image: string; resources?: { limits?: { memory?: string } } }> }).containers ?? []
    ).map((c) => {
      const usage = usageOf(c.name);
      const limit = c.resources?.limits?.memory;
      return {
        name: c.name,
        image: c.image,
        cpuCores: usage.cpuCores,
        memoryBytes: usage.memoryMi * 2 ** 20,
        limitBytes: limit ? quantityBytes(limit) : undefined,
      };
    });
    const claims = ((pod.spec as { volumes?: Array<{ persistentVolumeClaim?: { claimName: string } }> }).volumes ?? [])
      .filter((v) => v.persistentVolumeClaim)
      .map((v) => ({ name: v.persistentVolumeClaim?.claimName ?? "", capacityBytes: 10 * 2 ** 30, usedBytes: 1.5 * 2 ** 30 }));
    out[node].push({
      namespace: pod.metadata.namespace ?? "",
      pod: pod.metadata.name ?? "",
      uid: String((pod.metadata as { uid?: string }).uid ?? ""),
      containers,
      claims,
    });
  }
  return out;
}

/** A CronJob that runs every minute, a Job, an autoscaler and a quota in the team's namespace. */
function teamExtras(namespace: string): object[] {
  const pod = (name: string) => ({
    metadata: { labels: { "app.kubernetes.io/name": name } },
    spec: { restartPolicy: "OnFailure", containers: [{ name, image: "example.com/shop/jobs:1.0.0" }] },
  });
  return [
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      // Every minute, so that it has run (and its status times exist) by the time the lab checks.
      metadata: { name: "report", namespace },
      spec: { schedule: "* * * * *", successfulJobsHistoryLimit: 1, jobTemplate: { spec: { template: pod("report") } } },
    },
    { apiVersion: "batch/v1", kind: "Job", metadata: { name: "migrate", namespace }, spec: { template: pod("migrate") } },
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "api", namespace },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }],
      },
    },
    { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "team", namespace }, spec: { hard: { pods: "50", services: "20" } } },
  ];
}

/** The lab's sink: records every notification, answers as Discord does. */
function sinkHandler(messages: SinkMessage[]): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        messages.push({
          channel: (req.url ?? "/").slice(1),
          receivedAt: Date.now(),
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        });
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  };
}

const metaName = (prefix: string, name: string) => `${prefix}${name.replace(/[^a-zA-Z0-9_]/g, "_")}`;

export class Lab {
  readonly messages: SinkMessage[] = [];
  /** Every process and loopback server of the lab. */
  readonly local = new LocalRun(30 * 60_000);
  readonly apps = new Map<string, { app: SyntheticApp; server: LoopbackServer; target: AppTarget }>();
  readonly nodes: SyntheticNode[] = [];
  readonly startedAt = Date.now();
  rendered!: Rendered;
  config!: StackConfig;
  ports!: Ports;
  postgres!: { local: LocalPostgres; proc: ManagedProcess };
  redis!: { local: LocalRedis; proc: ManagedProcess };
  /** A small filesystem node-exporter watches, for the filesystem-filling fault. */
  filesystem: { mountPoint: string; image: string } | undefined;
  private traffic: NodeJS.Timeout | undefined;
  private clusterStarted = false;
  private logWriter: NodeJS.Timeout | undefined;

  constructor(readonly tmp: string) {}

  static async start(): Promise<Lab> {
    const lab = new Lab(fs.mkdtempSync(path.join(os.tmpdir(), "live-lab-")));
    try {
      await lab.boot();
    } catch (err) {
      const message = `${err instanceof Error ? err.message : String(err)}\n${lab.diagnostics()}`;
      await lab.stop();
      throw new Error(message);
    }
    return lab;
  }

  url(what: "prometheus" | "alertmanager" | "loki" | "alloy"): string {
    const port = {
      prometheus: this.ports.prometheus,
      alertmanager: this.ports.alertmanager,
      loki: this.ports.loki,
      alloy: this.ports.alloy,
    }[what];
    return `http://${LOOPBACK}:${port}`;
  }

  /** What every process printed, to explain a failure. */
  diagnostics(): string {
    return this.local.diagnostics(25);
  }

  private start(...args: Parameters<LocalRun["start"]>): ManagedProcess {
    return this.local.start(...args);
  }

  private serve(...args: Parameters<LocalRun["serve"]>): Promise<LoopbackServer> {
    return this.local.serve(...args);
  }

  private async boot(): Promise<void> {
    const names = [
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
      "blackbox",
      "probedSite",
    ] as const;
    const free = await freePorts(names.length + 2);
    const named = Object.fromEntries(names.map((n, i) => [n, free[i]])) as Record<(typeof names)[number], number>;
    const sink = named.sink;
    const sinkUrl = (channel: string) => `http://${LOOPBACK}:${sink}/${channel}`;
    const sets = [
      `prometheus.scrapeInterval=${LAB_TIMING.scrapeInterval}`,
      `prometheus.scrapeTimeout=${LAB_TIMING.scrapeTimeout}`,
      `prometheus.evaluationInterval=${LAB_TIMING.evaluationInterval}`,
      `alertmanager.groupWait=${LAB_TIMING.groupWait}`,
      `alertmanager.groupInterval=${LAB_TIMING.groupInterval}`,
      `discordWebhookUrl=${sinkUrl("monitoring")}`,
      `discordCriticalWebhookUrl=${sinkUrl("critical")}`,
      `deadMansSwitchUrl=${sinkUrl("deadmans-switch")}`,
      // Health probes, as a user adds them: the first app's health endpoint and a site over HTTPS.
      "apps[0].probe={path: /health}",
      `probes=[{name: lab-site, url: "https://${LOOPBACK}:${named.probedSite}/"}]`,
    ];
    const input = readStackConfig(LAB_STACK, sets);
    this.config = parseStackConfig({ project: input.project, stack: LAB_STACK, values: input.config, secretKeys: input.secretKeys }).config;
    this.rendered = await render(LAB_STACK, sets);

    // Apps: the stack file's apps[], each served in its own dialect. A Service port given by
    // number (targetPort) is the pods' port, which the rendered job keeps by address: the lab
    // serves such an app on that very port.
    const appPorts: Record<string, number> = {};
    const appFree = await freePorts(this.config.apps.length);
    this.config.apps.forEach((a, i) => {
      appPorts[a.name] = a.service?.targetPort ?? appFree[i];
    });
    this.ports = {
      ...named,
      kubelets: { [K3S_NODE]: free[names.length], [OTHER_NODE]: free[names.length + 1] },
      apps: appPorts,
    };
    await this.serve(sink, sinkHandler(this.messages));
    for (const [i, target] of this.config.apps.entries()) {
      // The second app sends no Content-Type, as many hand-written /metrics endpoints do.
      const app = new SyntheticApp(target.name, target.metrics, i === 0, i + 1);
      const server = await this.serve(appPorts[target.name], (req, res) => {
        if ((req.url ?? "").split("?")[0] === "/health") return void res.writeHead(200, { "Content-Type": "text/plain" }).end("ok\n");
        if ((req.url ?? "").split("?")[0] !== target.path) return void res.writeHead(404).end();
        res.writeHead(200, app.headers()).end(app.metricsText());
      }).catch((err: Error) => {
        throw new Error(`app ${target.name} needs port ${appPorts[target.name]} on ${LOOPBACK} (its targetPort): ${err.message}`);
      });
      this.apps.set(target.name, { app, server, target });
    }
    this.traffic = setInterval(() => this.apps.forEach(({ app }) => app.serve(10)), 200);
    this.traffic.unref();

    // The local control plane with the stack and the team's workloads deployed: what
    // kube-state-metrics reports and what the kubelets run.
    const pods = await this.deployToCluster();

    // Kubelets, in both shapes.
    const tls = selfSignedCertificate(this.tmp, "kubelet", 1);
    const byNode = podsByNode(pods);
    for (const [name, shape] of [
      [K3S_NODE, "k3s-unlabelled"],
      [OTHER_NODE, "labelled"],
    ] as const) {
      const node = new SyntheticNode(name, shape, byNode[name]);
      this.nodes.push(node);
      await this.serve(
        this.ports.kubelets[name],
        (req, res) => {
          const p = (req.url ?? "").split("?")[0];
          if (req.headers.authorization !== "Bearer lab-token") return void res.writeHead(401).end();
          if (p === "/metrics") return void res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(node.kubeletText());
          if (p === "/metrics/cadvisor")
            return void res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(node.cadvisorText());
          res.writeHead(404).end();
        },
        tls,
      );
    }
    await this.serve(named.grafana, (req, res) => {
      if ((req.url ?? "").split("?")[0] !== "/metrics") return void res.writeHead(404).end();
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(catalogueMetricsText(CATALOG_FILE("grafana")));
    });

    await this.startDatabases();
    this.startNodeExporter();
    await this.startProbes();
    await this.startLogs();
    await this.startAlertmanager();
    await this.startPrometheus(tls.cert);
  }

  /**
   * Starts the local control plane (two nodes) unless one runs, applies the rendered
   * stack's objects and the
   * team's workloads, waits for every pod to run, and starts kube-state-metrics on it.
   * Returns the pods.
   */
  private async deployToCluster(): Promise<KubeObject[]> {
    const cluster = await clusterUp({ nodes: 2, ttlSeconds: 3600, log: (m) => process.stderr.write(`live lab: cluster: ${m}\n`) });
    this.clusterStarted = !cluster.alreadyRunning;
    process.env.KUBECONFIG = cluster.kubeconfig;
    if (!cluster.nodes.includes(OTHER_NODE))
      throw new Error(
        `the running cluster has nodes ${cluster.nodes.join(", ")}; the lab needs ${K3S_NODE} and ${OTHER_NODE} (npm run cluster -- down, then run again)`,
      );
    const objects = this.rendered.kubernetes.filter((o) => !o.patch).map((o) => o.object);
    const rank = (kind: string) => (kind === "Namespace" ? 0 : kind === "CustomResourceDefinition" ? 1 : 2);
    for (const obj of [...objects].sort((a, b) => rank(a.kind) - rank(b.kind))) await apply(obj);
    const teamNamespace = this.config.apps.map((a) => a.service?.namespace).find(Boolean) ?? "shop-staging";
    await createTeamWorkloads(teamNamespace);
    // What teams also run, so that kube-state-metrics reports every kind the alerts read: a
    // CronJob and a Job, an autoscaler, a quota.
    for (const obj of teamExtras(teamNamespace)) await apply(obj);
    const namespaces = new Set([this.config.namespace, `${this.config.namespace}-agents`, teamNamespace]);
    const pods = await waitFor(
      "every pod of the stack and the team running",
      async () => {
        const all = (await list("pods")).filter((p) => namespaces.has(p.metadata.namespace ?? ""));
        // Running, or done (the Job's pod).
        const pending = all.filter((p) => !["Running", "Succeeded"].includes(String((p.status as { phase?: string } | undefined)?.phase)));
        return all.length > 0 && pending.length === 0 ? all : undefined;
      },
      180_000,
      2000,
    );
    const flags = kubeStateMetricsFlags().filter((f) => !/^--(port|telemetry-port)=/.test(f));
    this.start("kube-state-metrics", stackBinary("kube-state-metrics"), [
      ...flags,
      `--port=${this.ports.kubeStateMetrics}`,
      `--telemetry-port=${this.ports.kubeStateMetricsTelemetry}`,
      `--host=${LOOPBACK}`,
      `--telemetry-host=${LOOPBACK}`,
      `--kubeconfig=${cluster.kubeconfig}`,
    ]);
    return pods;
  }

  /** The name of the cluster's pod with this app.kubernetes.io/name (and namespace), if it runs. */
  podNamed(name: string, namespace?: string): { pod: string; node: string } | undefined {
    for (const node of this.nodes) {
      const pod = node.pods.find(
        (p) => (namespace === undefined || p.namespace === namespace) && (p.pod === name || p.pod.startsWith(`${name}-`)),
      );
      if (pod) return { pod: pod.pod, node: node.name };
    }
    return undefined;
  }

  private async startDatabases(): Promise<void> {
    const pg = preparePostgres(path.join(this.tmp, "postgres"), this.ports.postgres);
    const pgProc = this.start("postgres", pg.command.binary, pg.command.args, { user: pg.command.user });
    this.postgres = { local: pg, proc: pgProc };
    await waitFor("PostgreSQL accepting connections", async () => (pg.psql("SELECT 1").trim() === "1" ? true : undefined), 60_000, 500);
    pg.psql("CREATE DATABASE shop");
    pg.psql(
      "CREATE TABLE orders (id serial PRIMARY KEY, total numeric); INSERT INTO orders (total) SELECT g FROM generate_series(1, 500) g;",
      "shop",
    );
    this.start(
      "postgres_exporter",
      stackBinary("postgres_exporter"),
      this.localListen(EXPORTER_KINDS.postgres.args, this.ports.postgresExporter),
      {
        env: { DATA_SOURCE_NAME: pg.dsn("shop") },
      },
    );

    const redis = prepareRedis(path.join(this.tmp, "redis"), this.ports.redis);
    const redisProc = this.start("redis", redis.command.binary, redis.command.args);
    this.redis = { local: redis, proc: redisProc };
    await waitFor("Redis answering", async () => (redis.cli("PING").trim() === "PONG" ? true : undefined), 30_000, 300);
    for (let i = 0; i < 50; i++) redis.cli("SET", `cart:${i}`, String(i));
    this.start("redis_exporter", stackBinary("redis_exporter"), this.localListen(EXPORTER_KINDS.redis.args, this.ports.redisExporter), {
      env: { REDIS_ADDR: redis.address },
    });
  }

  /** The stack's exporter flags with the listen address on the loopback. */
  private localListen(args: readonly string[], port: number): string[] {
    return [...args.filter((a) => !a.startsWith("--web.listen-address=")), `--web.listen-address=${LOOPBACK}:${port}`];
  }

  private startNodeExporter(): void {
    // The stack's flags; the host paths are this machine's own (no /host/root mount here).
    const flags = nodeExporterFlags().filter((f) => !f.startsWith("--path.rootfs=") && !f.startsWith("--path.udev.data="));
    this.start("node_exporter", stackBinary("node_exporter"), this.localListen(flags, this.ports.nodeExporter));
  }

  /** A small ext4 filesystem under the lab directory (loop device), for the filesystem-filling fault. */
  mountFilesystem(): { mountPoint: string } {
    const image = path.join(this.tmp, "fill.img");
    const mountPoint = path.join(this.tmp, "fill");
    fs.mkdirSync(mountPoint, { recursive: true });
    execFileSync("truncate", ["-s", "64M", image]);
    execFileSync("mkfs.ext4", ["-q", "-F", image], { stdio: "ignore" });
    execFileSync("mount", ["-o", "loop", image, mountPoint], { stdio: "pipe" });
    this.filesystem = { mountPoint, image };
    return { mountPoint };
  }

  /** The probed site (HTTPS, a certificate valid for 60 days) and the blackbox exporter with the rendered config, trusting that certificate. */
  private async startProbes(): Promise<void> {
    const site = selfSignedCertificate(this.tmp, "probed-site", 60);
    await this.serve(
      this.ports.probedSite,
      (_req, res) => void res.writeHead(200, { "Content-Type": "text/html" }).end("<p>up</p>\n"),
      site,
    );
    const config = path.join(this.tmp, "blackbox.yml");
    fs.writeFileSync(config, this.rendered.files.get("blackbox-exporter/blackbox.yml") ?? "");
    const deployment = objectOf(this.rendered, "Deployment", "blackbox-exporter").spec as {
      template: { spec: { containers: Array<{ args: string[] }> } };
    };
    const args = deployment.template.spec.containers[0].args.filter((a) => !a.startsWith("--config.file="));
    this.start(
      "blackbox_exporter",
      stackBinary("blackbox_exporter"),
      [`--config.file=${config}`, ...this.localListen(args, this.ports.blackbox)],
      {
        env: { SSL_CERT_FILE: site.certFile },
      },
    );
  }

  private async startLogs(): Promise<void> {
    const lokiArgs = localLokiArgs(this.rendered.files.get("loki/loki.yaml") ?? "", this.tmp, {
      http: this.ports.loki,
      grpc: this.ports.lokiGrpc,
    });
    await lokiReady(this.start("loki", stackBinary("loki"), lokiArgs), this.url("loki"));

    // Every lab pod on this node logs: JSON lines with levels for the apps, logfmt for the others, errors among them.
    const podLogs = path.join(this.tmp, "pods");
    const targets: TargetGroup[] = [];
    const files: Array<{ file: string; json: boolean; name: string }> = [];
    for (const pod of this.nodes.flatMap((n) => n.pods.map((p) => ({ ...p, node: n.name })))) {
      for (const c of pod.containers) {
        const dir = path.join(podLogs, `${pod.namespace}_${pod.pod}_${pod.uid}`, c.name);
        fs.mkdirSync(dir, { recursive: true });
        files.push({ file: path.join(dir, "0.log"), json: this.apps.has(c.name), name: c.name });
        targets.push({
          targets: [LOOPBACK],
          labels: {
            __meta_kubernetes_namespace: pod.namespace,
            __meta_kubernetes_pod_name: pod.pod,
            __meta_kubernetes_pod_uid: pod.uid,
            __meta_kubernetes_pod_container_name: c.name,
            __meta_kubernetes_pod_node_name: pod.node,
            __meta_kubernetes_pod_label_app: pod.pod.replace(/-[a-z0-9]+-[a-z0-9]+$|-\d+$/, ""),
          },
        });
      }
    }
    let n = 0;
    const writeLines = () => {
      const now = new Date().toISOString().replace("Z", "000000Z");
      for (const f of files) {
        const level = n % 7 === 0 ? "error" : n % 5 === 0 ? "warn" : "info";
        const line = f.json
          ? JSON.stringify({ level, msg: level === "error" ? "payment failed: timeout" : "request served", n })
          : `level=${level} msg="${level === "error" ? "panic: lost connection" : "tick"}" n=${n}`;
        fs.appendFileSync(f.file, `${now} ${level === "error" ? "stderr" : "stdout"} F ${line}\n`);
      }
      n++;
    };
    writeLines();
    this.logWriter = setInterval(writeLines, 1000);
    this.logWriter.unref();
    const targetsFile = path.join(this.tmp, "pod-targets.json");
    fs.writeFileSync(targetsFile, JSON.stringify(targets));
    const alloyArgs = localAlloyArgs(this.rendered.files.get("log-collector/config.alloy") ?? "", this.tmp, {
      targetsFile,
      podLogs,
      pushUrl: `${this.url("loki")}/loki/api/v1/push`,
      port: this.ports.alloy,
    });
    this.start("alloy", stackBinary("alloy"), alloyArgs, { env: { HOSTNAME: K3S_NODE } });
  }

  private async startAlertmanager(): Promise<void> {
    const files = writeAlertmanagerFiles(this.rendered, "live-lab-am-");
    const sts = objectOf(this.rendered, "StatefulSet", "alertmanager").spec as {
      template: { spec: { containers: Array<{ name: string; args: string[] }> } };
    };
    const rendered = sts.template.spec.containers.find((c) => c.name === "alertmanager")?.args ?? [];
    const storage = path.join(this.tmp, "alertmanager");
    fs.mkdirSync(storage);
    const args = localAlertmanagerArgs(rendered, {
      config: files.config,
      storage,
      web: this.ports.alertmanager,
      mesh: this.ports.alertmanagerMesh,
      peers: [],
    });
    this.start("alertmanager", stackBinary("alertmanager"), args);
    await waitFor(
      "Alertmanager ready",
      async () => ((await httpGet(`${this.url("alertmanager")}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
      60_000,
      500,
    );
  }

  /** What Kubernetes discovery would report in the lab, role by role. */
  private fixtures(): Record<"endpoints" | "pod" | "node", TargetGroup[]> {
    const at = (port: number) => `${LOOPBACK}:${port}`;
    // The stack's own Services, by namespace/name/port name, to the lab's processes, backed by the cluster's pods.
    const ns = this.config.namespace;
    const backed = (address: string, name: string, namespace: string) => ({
      address,
      ...(this.podNamed(name, namespace) ?? { pod: `${name}-0`, node: K3S_NODE }),
    });
    const stackAddresses: Record<string, { address: string; pod: string; node: string }> = {
      [`${ns}/prometheus/http`]: backed(at(this.ports.prometheus), "prometheus", ns),
      [`${ns}/alertmanager/http`]: backed(at(this.ports.alertmanager), "alertmanager", ns),
      [`${ns}/loki/http`]: backed(at(this.ports.loki), "loki", ns),
      [`${ns}/grafana/http`]: backed(at(this.ports.grafana), "grafana", ns),
      [`${ns}/kube-state-metrics/http-metrics`]: backed(at(this.ports.kubeStateMetrics), "kube-state-metrics", ns),
      [`${ns}/kube-state-metrics/telemetry`]: backed(at(this.ports.kubeStateMetricsTelemetry), "kube-state-metrics", ns),
      [`${ns}/blackbox-exporter/http`]: backed(at(this.ports.blackbox), "blackbox-exporter", ns),
      [`${ns}-agents/node-exporter/metrics`]: {
        address: at(this.ports.nodeExporter),
        ...(this.nodes
          .flatMap((n) => n.pods.filter((p) => p.pod.startsWith("node-exporter-")).map((p) => ({ pod: p.pod, node: n.name })))
          .find((p) => p.node === K3S_NODE) ?? { pod: "node-exporter", node: K3S_NODE }),
      },
      [`${ns}-agents/alloy/http-metrics`]: {
        address: at(this.ports.alloy),
        ...(this.nodes
          .flatMap((n) => n.pods.filter((p) => p.pod.startsWith("alloy-")).map((p) => ({ pod: p.pod, node: n.name })))
          .find((p) => p.node === K3S_NODE) ?? { pod: "alloy", node: K3S_NODE }),
      },
      // The database exporters' Services, each to the lab's exporter of its type (no MongoDB server here).
      ...Object.fromEntries(
        this.config.databases
          .filter((db) => db.type !== "mongodb")
          .map((db) => [
            `${ns}/${db.name}-exporter/metrics`,
            backed(at(db.type === "postgres" ? this.ports.postgresExporter : this.ports.redisExporter), `${db.name}-exporter`, ns),
          ]),
      ),
    };
    const endpoints: TargetGroup[] = [];
    const services = this.rendered.kubernetes.filter((o) => o.object.kind === "Service").map((o) => o.object);
    for (const svc of services) {
      const ns = svc.metadata.namespace ?? "";
      const ports = (svc.spec as { ports?: Array<{ name?: string }> }).ports ?? [];
      for (const port of ports) {
        const where = stackAddresses[`${ns}/${svc.metadata.name}/${port.name}`];
        if (!where) continue;
        endpoints.push({
          targets: [where.address],
          labels: {
            __meta_kubernetes_namespace: ns,
            __meta_kubernetes_service_name: svc.metadata.name ?? "",
            ...Object.fromEntries(
              Object.entries(svc.metadata.labels ?? {}).map(([k, v]) => [metaName("__meta_kubernetes_service_label_", k), v]),
            ),
            __meta_kubernetes_endpoint_port_name: port.name ?? "",
            __meta_kubernetes_endpoint_ready: "true",
            __meta_kubernetes_pod_name: where.pod,
            __meta_kubernetes_pod_node_name: where.node,
          },
        });
      }
    }
    // The apps' Services: a named port, or the pods' port by number.
    for (const [name, { target }] of this.apps) {
      const pod = this.podNamed(name, target.service?.namespace)?.pod ?? `${name}-0`;
      endpoints.push({
        targets: [at(this.ports.apps[name])],
        labels: {
          __meta_kubernetes_namespace: target.service?.namespace ?? "",
          __meta_kubernetes_service_name: target.service?.name ?? name,
          __meta_kubernetes_service_label_app: name,
          __meta_kubernetes_endpoint_port_name: target.service?.port ?? "",
          __meta_kubernetes_endpoint_ready: "true",
          __meta_kubernetes_pod_name: pod,
          __meta_kubernetes_pod_node_name: K3S_NODE,
        },
      });
    }
    // No annotated pod of the stack's: the database exporters are scraped through their Services above.
    const pods: TargetGroup[] = [];
    const nodes = this.nodes.map((n) => ({
      targets: [at(this.ports.kubelets[n.name])],
      labels: { __meta_kubernetes_node_name: n.name, __meta_kubernetes_node_label_kubernetes_io_hostname: n.name },
    }));
    return { endpoints, pod: pods, node: nodes };
  }

  private async startPrometheus(caCert: string): Promise<void> {
    const root = path.join(this.tmp, "prometheus-root");
    layOutContainer(this.rendered, root);
    // The service account's files, as the kubelets here accept them.
    const sa = path.join(root, "var/run/secrets/kubernetes.io/serviceaccount");
    fs.mkdirSync(sa, { recursive: true });
    fs.writeFileSync(path.join(sa, "token"), "lab-token");
    fs.writeFileSync(path.join(sa, "ca.crt"), caCert);
    const config = rerooted(this.rendered.files.get("prometheus/prometheus.yml") ?? "", root);
    const fixtures = this.fixtures();
    const sdDir = path.join(this.tmp, "discovery");
    fs.mkdirSync(sdDir);
    const swap = (holder: CheckableJob, id: string) => {
      if (!holder.kubernetes_sd_configs) return;
      holder.file_sd_configs = holder.kubernetes_sd_configs.map((sd: KubernetesSd, i: number) => {
        const groups = fixtures[sd.role].filter(
          (g) => !sd.namespaces || sd.namespaces.names.includes(g.labels.__meta_kubernetes_namespace),
        );
        const file = path.join(sdDir, `${id.replace(/[^a-z0-9-]/gi, "_")}-${i}.json`);
        fs.writeFileSync(file, JSON.stringify(groups));
        return { files: [file] };
      });
      delete holder.kubernetes_sd_configs;
    };
    config.scrape_configs.forEach((job) => swap(job, job.job_name));
    (config.alerting?.alertmanagers ?? []).forEach((am, i) => swap(am, `alertmanagers-${i}`));
    // The probe jobs ask the blackbox exporter at its Service's address: here, the lab's.
    const exporter = blackboxAddress(this.config.namespace);
    for (const job of config.scrape_configs) {
      for (const rule of (job.relabel_configs ?? []) as Array<{ target_label?: string; replacement?: string }>) {
        if (rule.target_label === "__address__" && rule.replacement === exporter) rule.replacement = `${LOOPBACK}:${this.ports.blackbox}`;
      }
    }
    const file = path.join(this.tmp, "prometheus.yml");
    fs.writeFileSync(file, YAML.stringify(config));

    const sts = objectOf(this.rendered, "StatefulSet", "prometheus").spec as {
      template: { spec: { containers: Array<{ name: string; args: string[] }> } };
    };
    const rendered = sts.template.spec.containers.find((c) => c.name === "prometheus")?.args ?? [];
    const args = localPrometheusArgs(rendered, this.rendered.files.get(`prometheus/${WEB_CONFIG_FILE}`), {
      config: file,
      data: path.join(this.tmp, "prometheus-data"),
      port: this.ports.prometheus,
      dir: this.tmp,
    });
    this.start("prometheus", stackBinary("prometheus"), args, { env: { POD_NAME: "prometheus-0" } });
    await waitFor(
      "Prometheus ready",
      async () => ((await httpGet(`${this.url("prometheus")}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
      60_000,
      500,
    );
  }

  /** Stops every process and server, unmounts the lab filesystem, removes the directory. */
  async stop(): Promise<void> {
    if (this.traffic) clearInterval(this.traffic);
    if (this.logWriter) clearInterval(this.logWriter);
    await this.local.stop();
    if (this.clusterStarted) await clusterDown();
    if (this.filesystem) {
      try {
        execFileSync("umount", [this.filesystem.mountPoint], { stdio: "ignore" });
      } catch {
        // Not mounted.
      }
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
