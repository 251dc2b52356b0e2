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
 * - Loki and Alloy with the rendered configs, fed pod log files that keep growing, and the k3s
 *   node's journal (a journal file written by systemd-journal-remote, growing too: support/node-journal.ts),
 *   which the rendered journal source reads in place of this machine's.
 * - Alertmanager with the rendered routing, delivering to a local sink.
 * - The blackbox exporter with the rendered config, probing the first app's health endpoint
 *   (apps[0].probe) and an HTTPS site served here (probes[]), whose certificate it trusts as a
 *   system root (SSL_CERT_FILE), so that the Uptime dashboard has every series it shows.
 * - An app with a small sample limit (apps[] entry `flood`, `limits.sampleLimit`), healthy
 *   until a test makes it serve far more series than that (issue 32: a target that explodes its
 *   series).
 * - Jaeger with the rendered config, Alloy's rendered OTLP endpoint for apps, and an app that
 *   speaks OpenTelemetry (apps[] entry `checkout`, `otlp: true`, with a pod in the team's
 *   namespace on the k3s node): the official SDK sending traces, metrics and logs to Alloy, which
 *   looks its pod up in the local control plane (lab/local/tracing.ts says how). Jaeger
 *   and the endpoint are in the render because of that app: the stack file's own apps send no
 *   OTLP, and tracing.enabled, which it does not set, follows the apps.
 * - Two apps whose /metrics break the contract their apps[] entry states (CONTRACT_APPS, issue
 *   35): `ledger` labels its status code `code` (a Go promhttp service) while its entry keeps the
 *   default `status`, `mailer` names its latency histogram otherwise than its entry's `duration`.
 * - A namesake of the app the scripted faults stop (NAMESAKE, issue 35): a pod in another
 *   namespace, annotated for scraping and labelled `app: web`, served here and up throughout, so
 *   that job kubernetes-pods scrapes a second `app="web"` which AppDown must not take for web.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { blackboxAddress } from "../../../components/blackbox-exporter";
import { StackConfig, parseStackConfig } from "../../../config";
import type { AppTarget } from "../../../components/prometheus/args";
import { quantityBytes } from "../../../components/kit/units";
import { down as clusterDown, exitReports, up as clusterUp } from "../../../lab/cluster";
import { LocalPostgres, LocalRedis } from "../../../lab/local/databases";
import type { Rendered } from "../../../cli/render";
import { readStackConfig } from "../../../cli/stackfile";
import { createTeamWorkloads } from "../../cluster/support/apps";
import { KubeObject, apply } from "../../cluster/support/kube";
import { stackBinary } from "../../../lab/local/binaries";
import { LoopbackServer, selfSignedCertificate } from "../../../lab/local/http";
import { LOOPBACK, freePorts, reservePort } from "../../../lab/ports";
import { ManagedProcess } from "../../../lab/processes/children";
import { TargetGroup, podTargets, renderedEndpoints } from "../../../lab/local/prometheus";
import { containerArgs } from "../../../lab/local/rendered";
import { LocalStack, appEndpoint, nodeTargets, onLoopback } from "../../../lab/local/stack";
import { LabPod, SyntheticApp, SyntheticNode, catalogueMetricsText } from "../../../lab/local/synthetic";
import { startOtlpApp } from "../../../lab/local/otlp-app";
import { render } from "../../support/render";
import { LAB_BASIC_AUTH, LabTraefik, startLabTraefik } from "./traefik";
import { bootOrStop, podsRunning } from "./booting";
import { startNodeJournal } from "./node-journal";

export const LAB_STACK = "staging";
/** The local cluster's nodes: the server's cAdvisor has k3s's shape (no container or image labels), the agent's the usual one. */
export const K3S_NODE = "k3s-server";
export const OTHER_NODE = "k3s-agent-1";
/** The k3s node as its journal names it: its boot, its machine ID, its host name. */
const NODE_MACHINE = { bootId: "5c3a1e0f9b2d4c6e8a7b1d3f5e9c2a4b", machineId: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", hostname: K3S_NODE };
/** The app that speaks OpenTelemetry: its apps[] name, its requests a second, how often it pushes its metrics. */
export const OTLP_APP = { name: "checkout", rate: 5, metricIntervalMs: 2000 } as const;
/**
 * The app that explodes its series: its apps[] name, the sample limit its entry sets (its healthy
 * /metrics serves about a hundred samples, well under it), and how many series of one metric,
 * each with its own label value, it adds once told to explode: twenty times the limit.
 */
export const FLOOD_APP = { name: "flood", sampleLimit: 500, explodedSeries: 10_000, metric: "flood_user_sessions_total" } as const;

/** `count` series of FLOOD_APP's metric, one per user: what a label with unbounded values does. */
export function explodedSeries(count: number): string {
  if (count === 0) return "";
  const lines = [`# TYPE ${FLOOD_APP.metric} counter`];
  for (let i = 0; i < count; i++) lines.push(`${FLOOD_APP.metric}{user_id="u${i}"} ${i}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The apps whose metrics do not match their apps[] entry: each serves the default dialect but
 * for `serves` (what the app really exposes), and its entry keeps the defaults. `alert` is what
 * must tell, naming the app and `key` (under its `monitoring:apps[<i>].metrics`).
 */
export const CONTRACT_APPS = [
  { name: "ledger", alert: "AppStatusLabelMissing", key: "statusLabel", serves: { statusLabel: "code" } },
  { name: "mailer", alert: "AppLatencyHistogramMissing", key: "duration", serves: { duration: "mailer_send_duration_seconds" } },
] as const;

/**
 * A pod of another namespace that carries the `app` label of the stack file's app `web` (the
 * one the scripted faults stop): a copy of it in a preview namespace, annotated for scraping,
 * serving web's metrics. Job kubernetes-pods scrapes it as `app="web"` in its own namespace.
 */
export const NAMESAKE = { app: "web", namespace: "shop-preview" } as const;

/** Intervals a user would set to see things quickly; everything else is the stack file's. */
export const LAB_TIMING = { scrapeInterval: "2s", scrapeTimeout: "1s", evaluationInterval: "2s", groupWait: "1s", groupInterval: "2s" };

export interface SinkMessage {
  channel: string;
  receivedAt: number;
  body: { embeds?: Array<{ title?: string; description?: string }>; text?: string };
}

/** The lab's own ports, beside the stack's. */
const LAB_PORTS = [
  "blackbox",
  "probedSite",
  "k3sKubelet",
  "otherKubelet",
  "traefikWeb",
  "traefikWebsecure",
  "traefikMetrics",
  "traefikPing",
  "flood",
  "ledger",
  "mailer",
  "namesake",
] as const;

/** How many apps the stack file lists: the lab's OTLP app comes after them. */
function stackFileApps(): number {
  const apps = JSON.parse(readStackConfig(LAB_STACK).config["monitoring:apps"] ?? "[]") as unknown[];
  return apps.length;
}

/** What cAdvisor reports for a container: modest, steady usage, set by its kind of workload. */
function usageOf(name: string): { cpuCores: number; memoryMi: number } {
  if (/prometheus$/.test(name)) return { cpuCores: 0.12, memoryMi: 420 };
  if (/loki|postgres$|grafana/.test(name)) return { cpuCores: 0.05, memoryMi: 180 };
  return { cpuCores: 0.01 + (name.length % 5) / 100, memoryMi: 20 + (name.length % 7) * 10 };
}

/** The cluster's pods by node, as the synthetic kubelets report them (the two-stacks lab's too). */
export function podsByNode(pods: KubeObject[]): Record<string, LabPod[]> {
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

/** A Deployment of one pod on the k3s node, as the lab's own apps run: the lab serves what it serves. */
function onePodDeployment(
  namespace: string,
  name: string,
  image: string,
  pod: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): object {
  const labels = pod.labels ?? { "app.kubernetes.io/name": name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, ...(pod.annotations ? { annotations: pod.annotations } : {}) },
        spec: { nodeName: K3S_NODE, containers: [{ name, image }] },
      },
    },
  };
}

/** The namesake's pod: labelled `app: <NAMESAKE.app>` (no app.kubernetes.io/name), annotated for scraping on `port` and `metricsPath`. */
function namesakePod(port: number, metricsPath: string): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: { app: NAMESAKE.app },
    annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(port), "prometheus.io/path": metricsPath },
  };
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
    // The app that explodes its series, a pod like the others on the k3s node (the lab serves its /metrics).
    onePodDeployment(namespace, FLOOD_APP.name, "example.com/shop/flood:1.0.0"),
    // The app that sends OTLP, on the node whose Alloy it sends to (the collector looks up only its own node's pods).
    onePodDeployment(namespace, OTLP_APP.name, "example.com/shop/checkout:1.0.0"),
    // The apps that break their contract.
    ...CONTRACT_APPS.map((a) => onePodDeployment(namespace, a.name, `example.com/shop/${a.name}:1.0.0`)),
  ];
}

export class Lab {
  readonly messages: SinkMessage[] = [];
  /** The stack, booted on 127.0.0.1: its processes and servers, ports and render. */
  readonly stack = new LocalStack<(typeof LAB_PORTS)[number]>("live-lab-", 30 * 60_000);
  readonly apps = new Map<string, { app: SyntheticApp; server: LoopbackServer; target: AppTarget }>();
  readonly nodes: SyntheticNode[] = [];
  readonly startedAt = Date.now();
  config!: StackConfig;
  /** Ports of the apps, by name. */
  appPorts: Record<string, number> = {};
  /** A small filesystem node-exporter watches, for the filesystem-filling fault. */
  filesystem: { mountPoint: string; image: string } | undefined;
  /** The app that speaks OpenTelemetry: its pod in the cluster, its process, its status file (lab/local/otlp-app.ts). */
  otlpApp!: { name: string; namespace: string; pod: string; uid: string; proc: ManagedProcess; statusFile: string };
  /** How many series FLOOD_APP adds to its healthy /metrics: 0 until a test makes it explode. */
  floodSeries = 0;
  /** The cluster's Traefik, serving the stack's routes from the control plane (test/live/support/traefik.ts). */
  traefik!: LabTraefik;
  /** The namesake of NAMESAKE.app: its metrics, its server, its pod in the cluster (the lab serves it on its annotated port). */
  namesake!: { app: SyntheticApp; server: LoopbackServer; pod: string };
  /** The k3s node's journal: its directory, and the first write that failed, if one did (support/node-journal.ts). */
  journal!: { dir: string; failure?: string };
  /** When Prometheus answered ready: the contract apps' alerts wait their `for` from then. */
  prometheusReadyAt = 0;
  private clusterStarted = false;

  get tmp(): string {
    return this.stack.tmp;
  }

  get rendered(): Rendered {
    return this.stack.rendered;
  }

  get postgres(): { local: LocalPostgres; proc: ManagedProcess } {
    return this.stack.postgres;
  }

  get redis(): { local: LocalRedis; proc: ManagedProcess } {
    return this.stack.redis;
  }

  static async start(): Promise<Lab> {
    const lab = new Lab();
    return bootOrStop(lab, () => lab.boot());
  }

  url(what: "prometheus" | "alertmanager" | "loki" | "alloy" | "jaeger"): string {
    return this.stack.url(what);
  }

  /**
   * The lab's processes and the cluster's components that ended by themselves, each with its
   * binary, exit code or signal and last lines: why a check meets "connection refused".
   */
  earlyExits(): string[] {
    const local = this.stack.local.processes.flatMap((p) => {
      const report = p.exitReport();
      return report === undefined ? [] : [`${report}\n${p.output(15)}`];
    });
    return [...local, ...exitReports()];
  }

  /** What every process printed, to explain a failure. */
  diagnostics(): string {
    const cluster = exitReports();
    return [
      ...(cluster.length ? [`the local cluster's processes that ended:\n${cluster.join("\n")}`] : []),
      this.stack.diagnostics(25),
    ].join("\n");
  }

  private async boot(): Promise<void> {
    const stack = this.stack;
    await stack.allocatePorts(LAB_PORTS);
    const sets = [
      // The lab's staging stack is alone on its cluster: it watches the cluster's nodes too (watch.cluster), for its node checks.
      "watch.cluster=true",
      // The namesake's namespace is watched, so that its annotated pod is scraped: a namesake the stack never sees would prove nothing.
      `watch.namespaces=[${NAMESAKE.namespace}]`,
      `prometheus.scrapeInterval=${LAB_TIMING.scrapeInterval}`,
      `prometheus.scrapeTimeout=${LAB_TIMING.scrapeTimeout}`,
      `prometheus.evaluationInterval=${LAB_TIMING.evaluationInterval}`,
      `alertmanager.groupWait=${LAB_TIMING.groupWait}`,
      `alertmanager.groupInterval=${LAB_TIMING.groupInterval}`,
      ...stack.notificationSets(),
      // Health probes, as a user adds them: the first app's health endpoint and a site over HTTPS.
      "apps[0].probe={path: /health}",
      `probes=[{name: lab-site, url: "https://${LOOPBACK}:${stack.ports.probedSite}/"}]`,
      // An app that speaks OpenTelemetry, after the stack file's apps.
      `apps[${stackFileApps()}]={name: ${OTLP_APP.name}, namespace: shop-staging, otlp: true}`,
      // The app that will explode its series, with a sample limit of its own (its pods' port by number).
      `apps[${stackFileApps() + 1}]={name: ${FLOOD_APP.name}, namespace: shop-staging, service: ${FLOOD_APP.name}, ` +
        `targetPort: ${stack.ports.flood}, limits: {sampleLimit: ${FLOOD_APP.sampleLimit}}}`,
      // The apps that break their contract, their entries as a user writes them: the default metric names.
      ...CONTRACT_APPS.map(
        (a, i) =>
          `apps[${stackFileApps() + 2 + i}]={name: ${a.name}, namespace: shop-staging, service: ${a.name}, targetPort: ${stack.ports[a.name]}}`,
      ),
    ];
    const input = readStackConfig(LAB_STACK, sets);
    this.config = parseStackConfig({ project: input.project, stack: LAB_STACK, values: input.config, secretKeys: input.secretKeys }).config;
    stack.rendered = await render(LAB_STACK, sets);

    // Apps: the stack file's apps[], each served in its own dialect. A Service port given by
    // number (targetPort) is the pods' port, which the rendered job keeps by address: the lab
    // serves such an app on that very port.
    // The apps that are scraped: the OTLP one is not.
    const scraped = this.config.apps.filter((a) => a.service || a.url);
    const appFree = await freePorts(scraped.length);
    for (const [i, a] of scraped.entries()) {
      const fixed = a.service?.targetPort;
      // A fixed port is reserved like the chosen ones: the allocator lets a server listen on no other.
      if (fixed !== undefined) await reservePort(fixed);
      this.appPorts[a.name] = fixed ?? appFree[i];
    }
    // The lab's sink: records every notification, answers as Discord does.
    await stack.serveSink((req) => {
      try {
        this.messages.push({ channel: req.url.slice(1), receivedAt: req.receivedAt, body: JSON.parse(req.body) });
        return 204;
      } catch {
        return 400;
      }
    });
    for (const [i, target] of scraped.entries()) {
      // The second app sends no Content-Type, as many hand-written /metrics endpoints do. A
      // contract app serves other names than its entry says.
      const serves = CONTRACT_APPS.find((a) => a.name === target.name)?.serves ?? {};
      const app = new SyntheticApp(target.name, { ...target.metrics, ...serves }, i === 0, i + 1);
      const server = await stack.local
        .serve(this.appPorts[target.name], (req, res) => {
          if ((req.url ?? "").split("?")[0] === "/health") return void res.writeHead(200, { "Content-Type": "text/plain" }).end("ok\n");
          if ((req.url ?? "").split("?")[0] !== target.path) return void res.writeHead(404).end();
          const flood = target.name === FLOOD_APP.name ? explodedSeries(this.floodSeries) : "";
          res.writeHead(200, app.headers()).end(app.metricsText() + flood);
        })
        .catch((err: Error) => {
          throw new Error(`app ${target.name} needs port ${this.appPorts[target.name]} on ${LOOPBACK} (its targetPort): ${err.message}`);
        });
      this.apps.set(target.name, { app, server, target });
    }
    // The namesake serves the metrics of the app whose `app` label its pod carries, with traffic of
    // its own, and says what it serves (job kubernetes-pods has no fallback protocol, as apps' jobs do).
    const original = this.apps.get(NAMESAKE.app)?.target;
    if (!original) throw new Error(`the stack file has no app ${NAMESAKE.app} for the namesake to borrow the label of`);
    const namesake = new SyntheticApp(`${NAMESAKE.app} in ${NAMESAKE.namespace}`, original.metrics, true, 99);
    const namesakeServer = await stack.local.serve(stack.ports.namesake, (req, res) => {
      if ((req.url ?? "").split("?")[0] !== original.path) return void res.writeHead(404).end();
      res.writeHead(200, namesake.headers()).end(namesake.metricsText());
    });
    stack.every(200, () => {
      this.apps.forEach(({ app }) => app.serve(10));
      namesake.serve(10);
    });

    // The local control plane with the stack and the team's workloads deployed: what
    // kube-state-metrics reports and what the kubelets run.
    const pods = await this.deployToCluster();
    const namesakePodName = pods.find((p) => p.metadata.namespace === NAMESAKE.namespace)?.metadata.name;
    if (!namesakePodName) throw new Error(`the cluster runs no pod in ${NAMESAKE.namespace}`);
    this.namesake = { app: namesake, server: namesakeServer, pod: namesakePodName };

    // Kubelets, in both shapes.
    const tls = selfSignedCertificate(this.tmp, "kubelet", 1);
    const byNode = podsByNode(pods);
    for (const [name, shape, port] of [
      [K3S_NODE, "k3s-unlabelled", stack.ports.k3sKubelet],
      [OTHER_NODE, "labelled", stack.ports.otherKubelet],
    ] as const) {
      const node = new SyntheticNode(name, shape, byNode[name]);
      this.nodes.push(node);
      await stack.serveKubelet(port, node, "lab-token", tls);
    }
    await stack.serveGrafana(() => catalogueMetricsText("grafana"), "/metrics");

    await stack.startDatabases();
    stack.startNodeExporter();
    await this.startProbes();
    await this.startLogs();
    await stack.startAlertmanager();
    await this.startTraefik();
    await this.startPrometheus(tls.cert);
  }

  /**
   * Starts the local control plane (two nodes) unless one runs, applies the rendered
   * stack's objects and the
   * team's workloads, waits for every pod to run, and starts kube-state-metrics on it.
   * Returns the pods.
   */
  private async deployToCluster(): Promise<KubeObject[]> {
    const cluster = await clusterUp({
      nodes: 2,
      ttlSeconds: 3600,
      owned: true,
      log: (m) => process.stderr.write(`live lab: cluster: ${m}\n`),
    });
    this.clusterStarted = !cluster.alreadyRunning;
    process.env.KUBECONFIG = cluster.kubeconfig;
    if (!cluster.nodes.includes(OTHER_NODE))
      throw new Error(
        `the running cluster has nodes ${cluster.nodes.join(", ")}; the lab needs ${K3S_NODE} and ${OTHER_NODE} (npm run cluster -- down, then run again)`,
      );
    const objects = this.rendered.kubernetes.filter((o) => !o.patch).map((o) => o.object);
    const rank = (kind: string) => (kind === "Namespace" ? 0 : kind === "CustomResourceDefinition" ? 1 : 2);
    const teamNamespace = this.config.apps.map((a) => a.service?.namespace).find(Boolean) ?? "shop-staging";
    // The namespaces the stack watches exist before it, as a team's do: the collector's read access to their events is bound in them.
    await createTeamWorkloads(teamNamespace);
    await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESAKE.namespace } });
    for (const obj of [...objects].sort((a, b) => rank(a.kind) - rank(b.kind))) await apply(obj);
    // What teams also run, so that kube-state-metrics reports every kind the alerts read: a
    // CronJob and a Job, an autoscaler, a quota.
    for (const obj of teamExtras(teamNamespace)) await apply(obj);
    // The namesake: a copy of an app in a preview namespace, annotated for scraping.
    const original = this.apps.get(NAMESAKE.app)?.target;
    await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESAKE.namespace } });
    await apply(
      onePodDeployment(
        NAMESAKE.namespace,
        NAMESAKE.app,
        `example.com/shop/${NAMESAKE.app}:1.1.0-preview`,
        namesakePod(this.stack.ports.namesake, original?.path ?? "/metrics"),
      ),
    );
    const namespaces = new Set([this.config.namespace, `${this.config.namespace}-agents`, teamNamespace, NAMESAKE.namespace]);
    const pods = await podsRunning("every pod of the stack and the team running", namespaces);
    // As rendered (the namespaces the stack watches among them), on the lab's own ports.
    const flags = containerArgs(this.rendered, "Deployment", "kube-state-metrics").filter((f) => !/^--(port|telemetry-port)=/.test(f));
    this.stack.local.start("kube-state-metrics", stackBinary("kube-state-metrics"), [
      ...flags,
      `--port=${this.stack.ports.kubeStateMetrics}`,
      `--telemetry-port=${this.stack.ports.kubeStateMetricsTelemetry}`,
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
    await this.stack.local.serve(
      this.stack.ports.probedSite,
      (_req, res) => void res.writeHead(200, { "Content-Type": "text/html" }).end("<p>up</p>\n"),
      site,
    );
    const config = path.join(this.tmp, "blackbox.yml");
    fs.writeFileSync(config, this.rendered.files.get("blackbox-exporter/blackbox.yml") ?? "");
    const args = containerArgs(this.rendered, "Deployment", "blackbox-exporter").filter((a) => !a.startsWith("--config.file="));
    this.stack.local.start(
      "blackbox_exporter",
      stackBinary("blackbox_exporter"),
      [`--config.file=${config}`, ...onLoopback(args, this.stack.ports.blackbox)],
      {
        env: { SSL_CERT_FILE: site.certFile },
      },
    );
  }

  private async startLogs(): Promise<void> {
    await this.stack.startLoki();
    // Every lab pod on this node logs: JSON lines with levels for the apps, logfmt for the others, errors among them.
    this.stack.writeLogTargets(
      this.nodes.flatMap((n) => n.pods.map((p) => ({ ...p, node: n.name, app: p.pod.replace(/-[a-z0-9]+-[a-z0-9]+$|-\d+$/, "") }))),
      (container) => this.apps.has(container),
    );
    let n = 0;
    const writeLines = () => {
      const level = n % 7 === 0 ? "error" : n % 5 === 0 ? "warn" : "info";
      this.stack.writeLogLines((f) => [
        {
          stderr: level === "error",
          text: f.json
            ? JSON.stringify({ level, msg: level === "error" ? "payment failed: timeout" : "request served", n })
            : `level=${level} msg="${level === "error" ? "panic: lost connection" : "tick"}" n=${n}`,
        },
      ]);
      n++;
    };
    writeLines();
    this.stack.every(1000, writeLines);
    // The k3s node's journal, growing too: the rendered journal source (watch.cluster turns it on) reads it.
    this.journal = startNodeJournal(path.join(this.tmp, "journal"), NODE_MACHINE, (ms, run) => this.stack.every(ms, run));
    await this.stack.startJaeger();
    this.stack.startAlloy(K3S_NODE, true, this.journal.dir);
    this.startOtlpApp();
  }

  /** The app that speaks OpenTelemetry, as its pod in the cluster: its resource names that pod (the Downward API's fields). */
  private startOtlpApp(): void {
    const pod = this.nodes.flatMap((n) => n.pods).find((p) => p.pod.startsWith(`${OTLP_APP.name}-`));
    if (!pod) throw new Error(`the cluster runs no pod of ${OTLP_APP.name}`);
    const statusFile = path.join(this.tmp, "otlp-app.json");
    const proc = startOtlpApp(this.stack.local, {
      endpoint: this.stack.url("otlp"),
      service: OTLP_APP.name,
      namespace: pod.namespace,
      pod: pod.pod,
      podUid: pod.uid,
      rate: OTLP_APP.rate,
      // Longer than any lab run: the lab stops it.
      seconds: 30 * 60,
      metricIntervalMs: OTLP_APP.metricIntervalMs,
      statusFile,
    });
    this.otlpApp = { name: OTLP_APP.name, namespace: pod.namespace, pod: pod.pod, uid: pod.uid, proc, statusFile };
  }

  /**
   * k3s's Traefik on the control plane, routing to the lab's Prometheus, Alertmanager and
   * Grafana metrics server, with steady traffic: logged in, refused (401), and Grafana's 404s.
   */
  private async startTraefik(): Promise<void> {
    const ports = this.stack.ports;
    const backends = { prometheus: ports.prometheus, alertmanager: ports.alertmanager, grafana: ports.grafana };
    const own = { web: ports.traefikWeb, websecure: ports.traefikWebsecure, metrics: ports.traefikMetrics, traefik: ports.traefikPing };
    this.traefik = await startLabTraefik(this.stack.local, this.tmp, process.env.KUBECONFIG ?? "", this.config.namespace, backends, own);
    const host = (service: "prometheus" | "alertmanager" | "grafana") => this.config.hostnames[service] ?? "";
    this.stack.every(1000, () => {
      const requests = [
        this.traefik.request(host("prometheus"), "/api/v1/status/buildinfo", LAB_BASIC_AUTH),
        this.traefik.request(host("alertmanager"), "/api/v2/status", LAB_BASIC_AUTH),
        this.traefik.request(host("prometheus"), "/api/v1/status/buildinfo"),
        this.traefik.request(host("grafana"), "/login"),
      ];
      for (const r of requests) r.catch(() => undefined);
    });
  }

  /** What Kubernetes discovery would report in the lab, role by role. */
  private fixtures(): Record<"endpoints" | "pod" | "node", TargetGroup[]> {
    const ns = this.config.namespace;
    // The stack's own Services to the lab's processes, backed by the cluster's pods.
    const local = {
      ...this.stack.stackEndpoints(
        ns,
        this.config.databases,
        (workload, namespace) => this.podNamed(workload, namespace) ?? { pod: `${workload}-0`, node: K3S_NODE },
      ),
      [`${ns}/blackbox-exporter/http`]: {
        address: `${LOOPBACK}:${this.stack.ports.blackbox}`,
        ...(this.podNamed("blackbox-exporter", ns) ?? { pod: "blackbox-exporter-0", node: K3S_NODE }),
      },
    };
    const endpoints = renderedEndpoints(this.rendered, local);
    // The apps' Services: a named port, or the pods' port by number.
    for (const [name, { target }] of this.apps) {
      endpoints.push(
        appEndpoint({
          namespace: target.service?.namespace ?? "",
          service: target.service?.name ?? name,
          name,
          portName: target.service?.port ?? "",
          port: this.appPorts[name],
          pod: this.podNamed(name, target.service?.namespace)?.pod ?? `${name}-0`,
          node: K3S_NODE,
        }),
      );
    }
    // No annotated pod of the stack's: the database exporters are scraped through their Services above.
    const nodes = nodeTargets([
      { name: K3S_NODE, port: this.stack.ports.k3sKubelet },
      { name: OTHER_NODE, port: this.stack.ports.otherKubelet },
    ]);
    // The namesake, the one annotated pod (job kubernetes-pods), served on the loopback.
    const namesake = podTargets({
      namespace: NAMESAKE.namespace,
      name: this.namesake.pod,
      ip: LOOPBACK,
      ports: [this.stack.ports.namesake],
      ...namesakePod(this.stack.ports.namesake, this.apps.get(NAMESAKE.app)?.target.path ?? "/metrics"),
    });
    // k3s's Traefik: the one pod of job traefik.
    return { endpoints, pod: [this.traefik.podTarget(K3S_NODE), ...namesake], node: nodes };
  }

  private async startPrometheus(caCert: string): Promise<void> {
    // The probe jobs ask the blackbox exporter at its Service's address: here, the lab's.
    const exporter = blackboxAddress(this.config.namespace);
    this.stack.writePrometheusConfig(this.fixtures(), { token: "lab-token", caCert }, (config) => {
      for (const job of config.scrape_configs) {
        for (const rule of (job.relabel_configs ?? []) as Array<{ target_label?: string; replacement?: string }>) {
          if (rule.target_label === "__address__" && rule.replacement === exporter)
            rule.replacement = `${LOOPBACK}:${this.stack.ports.blackbox}`;
        }
      }
    });
    await this.stack.startPrometheus("prometheus", path.join(this.tmp, "prometheus.yml"), this.stack.ports.prometheus);
    this.prometheusReadyAt = Date.now();
  }

  /** Stops every process and server, unmounts the lab filesystem, removes the directory. */
  async stop(): Promise<void> {
    await this.stack.stop(async () => {
      if (this.clusterStarted) await clusterDown();
      if (this.filesystem) {
        try {
          execFileSync("umount", [this.filesystem.mountPoint], { stdio: "ignore" });
        } catch {
          // Not mounted.
        }
      }
    });
  }
}
