/**
 * Two stacks on one node, live (issue 35): production and staging rendered from the shipped stack
 * files with production's log collector serving staging (logCollector.shareWith / sharedFrom, as
 * the cluster tier deploys them) and its kube-state-metrics too and the lab's intervals and sinks (LAB_TIMING, each stack its own
 * sink), run on the exact binaries on 127.0.0.1, every process bounded in time:
 *
 * - each stack's Prometheus (rendered config and rules; Kubernetes discovery swapped for file
 *   discovery of its own Services, served here), Alertmanager (rendered routing, to its own sink)
 *   and Loki (rendered config);
 * - one kube-state-metrics, production's, shared with staging (kubeStateMetrics.shareWith /
 *   sharedFrom, the answer of npm run bench's measurement): its rendered flags (both stacks'
 *   namespaces) against one local control plane holding both stacks' objects and both teams'
 *   workloads; staging's Prometheus scrapes it through production's Service, keeping its own
 *   namespaces' series, production's keeping its own;
 * - one set of agents, production's: ONE Alloy (production's rendered config, which sends the
 *   shared namespaces' lines to staging's Loki) tailing the pod log files of both stacks' and
 *   both teams' pods, and ONE node-exporter (production's flags and web config);
 * - one synthetic kubelet (k3s's shape) for the node, which both Prometheus scrape, as both stacks'
 *   kubelet and cAdvisor jobs do on one node;
 * - Grafana's metrics for each stack (no Grafana binary here).
 *
 * The database exporters of the stack files are rendered but not run (no Service of theirs is
 * discovered: their jobs have no target), nor the cluster's Traefik.
 */
import * as path from "path";
import { StackConfig } from "../../../config";
import { expectedLogNamespaces } from "../../../preflight/shared-logs";
import { down as clusterDown, exitReports, up as clusterUp } from "../../../lab/cluster";
import { stackBinary } from "../../../lab/local/binaries";
import { LoopbackServer, SelfSigned, selfSignedCertificate } from "../../../lab/local/http";
import { LOOPBACK } from "../../../lab/ports";
import { ManagedProcess } from "../../../lab/processes/children";
import { renderedEndpoints } from "../../../lab/local/prometheus";
import { containerArgs } from "../../../lab/local/rendered";
import { LocalStack, nodeTargets } from "../../../lab/local/stack";
import { SyntheticNode, catalogueMetricsText } from "../../../lab/local/synthetic";
import { renderStack } from "../../../cli/render-stack";
import { createTeamWorkloads } from "../../cluster/support/apps";
import { KubeObject, apply, kubectl } from "../../cluster/support/kube";
import { K3S_NODE, LAB_TIMING, SinkMessage, podsByNode } from "./lab";
import { bootOrStop, podsRunning } from "./booting";

export type StackName = "production" | "staging";

/** One stack of the pair: its boot, its render and config, what its sink received. */
export interface RunningStack {
  name: StackName;
  stack: LocalStack<"kubelet">;
  config: StackConfig;
  messages: SinkMessage[];
  /** Its processes, as started: prometheus, alertmanager, loki (and production's kube-state-metrics, alloy, node_exporter). */
  processes: ManagedProcess[];
}

/** What the stacks' pods log, one line a second each: the namespace in the line, so that a line found in a Loki says where it came from. */
export function logLine(namespace: string, n: number): string {
  return `level=info msg="tick" origin=${namespace} n=${n}`;
}

export class TwoStacks {
  readonly stacks = {} as Record<StackName, RunningStack>;
  /** The node's kubelet (and cAdvisor), served once: both Prometheus scrape it. */
  kubelet!: { server: LoopbackServer; node: SyntheticNode; port: number; tls: SelfSigned };
  /** The cluster's pods once every one runs. */
  pods: KubeObject[] = [];
  private clusterStarted = false;
  private kubeconfig = "";

  static async start(): Promise<TwoStacks> {
    const lab = new TwoStacks();
    return bootOrStop(lab, () => lab.boot());
  }

  url(stack: StackName, what: "prometheus" | "alertmanager" | "loki" | "alloy"): string {
    return this.stacks[stack].stack.url(what);
  }

  /** What every process printed, and the cluster's processes that ended, to explain a failure. */
  diagnostics(): string {
    const cluster = exitReports();
    return [
      ...(cluster.length ? [`the local cluster's processes that ended:\n${cluster.join("\n")}`] : []),
      ...Object.values(this.stacks).map((s) => `=== ${s.name}\n${s.stack.diagnostics(25)}`),
    ].join("\n");
  }

  private async boot(): Promise<void> {
    const production = new LocalStack<"kubelet">("two-stacks-production-", 20 * 60_000);
    const staging = new LocalStack<"kubelet">("two-stacks-staging-", 20 * 60_000);
    await production.allocatePorts(["kubelet"]);
    await staging.allocatePorts(["kubelet"]);
    const timing = [
      `prometheus.scrapeInterval=${LAB_TIMING.scrapeInterval}`,
      `prometheus.scrapeTimeout=${LAB_TIMING.scrapeTimeout}`,
      `prometheus.evaluationInterval=${LAB_TIMING.evaluationInterval}`,
      `alertmanager.groupWait=${LAB_TIMING.groupWait}`,
      `alertmanager.groupInterval=${LAB_TIMING.groupInterval}`,
    ];
    // As the cluster tier deploys them: production's collector serves staging's namespaces (the
    // ones staging watches), staging runs none; only production watches the node (the files' default).
    const stagingRender = await renderStack({
      stack: "staging",
      sets: [
        ...timing,
        ...staging.notificationSets(),
        "logCollector.sharedFrom=monitoring-production",
        "kubeStateMetrics.sharedFrom=monitoring-production",
      ],
      showSecrets: true,
    });
    // What staging watches of its own (its namespace and its apps'): production's collector sends their
    // logs to staging's Loki, production's kube-state-metrics reports their objects for staging too.
    const share = [{ namespace: stagingRender.config.namespace, namespaces: expectedLogNamespaces(stagingRender.config) }];
    const productionRender = await renderStack({
      stack: "production",
      sets: [
        ...timing,
        ...production.notificationSets(),
        `logCollector.shareWith=${JSON.stringify(share)}`,
        `kubeStateMetrics.shareWith=${JSON.stringify(share)}`,
      ],
      showSecrets: true,
    });
    production.rendered = productionRender;
    staging.rendered = stagingRender;
    for (const [name, stack, config] of [
      ["production", production, productionRender.config],
      ["staging", staging, stagingRender.config],
    ] as const) {
      const messages: SinkMessage[] = [];
      await stack.serveSink((req) => {
        try {
          messages.push({ channel: req.url.slice(1), receivedAt: req.receivedAt, body: JSON.parse(req.body) });
          return 204;
        } catch {
          return 400;
        }
      });
      this.stacks[name] = { name, stack, config, messages, processes: [] };
    }

    await this.deployToCluster();

    // The node's kubelet, once, on production's port; both stacks' Prometheus accept its certificate.
    const tls = selfSignedCertificate(production.tmp, "kubelet", 1);
    const node = new SyntheticNode(K3S_NODE, "k3s-unlabelled", podsByNode(this.pods)[K3S_NODE] ?? []);
    const server = await production.serveKubelet(production.ports.kubelet, node, "lab-token", tls);
    this.kubelet = { server, node, port: production.ports.kubelet, tls };

    for (const s of Object.values(this.stacks)) {
      await s.stack.serveGrafana(() => catalogueMetricsText("grafana"), "/metrics");
      s.processes.push(await s.stack.startLoki());
    }
    // One kube-state-metrics, production's, shared with staging.
    this.stacks.production.processes.push(this.startKubeStateMetrics(this.stacks.production));
    // One set of agents, production's.
    this.stacks.production.processes.push(production.startNodeExporter());
    this.startLogs();
    for (const s of Object.values(this.stacks)) {
      s.processes.push(await s.stack.startAlertmanager());
      s.processes.push(await this.startPrometheus(s));
    }
  }

  /**
   * Starts the local control plane unless one runs, applies both renders' objects and both teams'
   * workloads, and waits for every pod of theirs to run.
   */
  private async deployToCluster(): Promise<void> {
    const cluster = await clusterUp({ ttlSeconds: 1800, owned: true, log: (m) => process.stderr.write(`two stacks: cluster: ${m}\n`) });
    this.clusterStarted = !cluster.alreadyRunning;
    this.kubeconfig = cluster.kubeconfig;
    process.env.KUBECONFIG = cluster.kubeconfig;
    const rank = (kind: string) => (kind === "Namespace" ? 0 : kind === "CustomResourceDefinition" ? 1 : 2);
    // The teams' namespaces exist before the stacks, as a team's do: each collector's read access to their events is bound in them.
    for (const team of this.teams()) await createTeamWorkloads(team);
    for (const s of Object.values(this.stacks)) {
      const objects = s.stack.rendered.kubernetes.filter((o) => !o.patch).map((o) => o.object);
      for (const obj of [...objects].sort((a, b) => rank(a.kind) - rank(b.kind))) await apply(obj);
    }
    const namespaces = new Set(this.namespaces());
    this.pods = await podsRunning("every pod of both stacks and both teams running", namespaces);
  }

  /** Each stack's team namespace (its apps'). */
  teams(): string[] {
    return Object.values(this.stacks).map((s) => s.config.apps.map((a) => a.service?.namespace).find(Boolean) ?? "");
  }

  /** Every namespace of both stacks and teams. */
  namespaces(): string[] {
    return Object.values(this.stacks).flatMap((s) => [s.config.namespace, `${s.config.namespace}-agents`, ...this.teams()]);
  }

  /** The cluster's pod of a workload in a namespace. */
  podOf(workload: string, namespace: string): KubeObject {
    const pod = this.pods.find((p) => p.metadata.namespace === namespace && p.metadata.name.startsWith(`${workload}-`));
    if (!pod) throw new Error(`no pod of ${workload} in ${namespace}`);
    return pod;
  }

  /** kube-state-metrics with the stack's rendered flags (its namespaces and those it reports for the other stack), on its own ports. */
  private startKubeStateMetrics(s: RunningStack): ManagedProcess {
    const flags = containerArgs(s.stack.rendered, "Deployment", "kube-state-metrics").filter((f) => !/^--(port|telemetry-port)=/.test(f));
    return s.stack.local.start("kube-state-metrics", stackBinary("kube-state-metrics"), [
      ...flags,
      `--port=${s.stack.ports.kubeStateMetrics}`,
      `--telemetry-port=${s.stack.ports.kubeStateMetricsTelemetry}`,
      `--host=${LOOPBACK}`,
      `--telemetry-host=${LOOPBACK}`,
      `--kubeconfig=${this.kubeconfig}`,
    ]);
  }

  /**
   * Production's Alloy, the one collector: it tails the log files of every pod of both stacks and
   * both teams on the node, and sends staging's namespaces to staging's Loki (its rendered push
   * URL, `loki.monitoring-staging.svc` on its push port, pointed at the local one: the push port's proxy, which lets
   * those pushes through as they are, is test/e2e/loki-push-proxy.test.ts's).
   */
  private startLogs(): void {
    const production = this.stacks.production.stack;
    const stagingPush = `http://loki.${this.stacks.staging.config.namespace}.svc:3101/loki/api/v1/push`;
    const config = production.rendered.files.get("log-collector/config.alloy") ?? "";
    if (!config.includes(JSON.stringify(stagingPush))) throw new Error(`production's collector does not send to ${stagingPush}`);
    production.rendered.files.set(
      "log-collector/config.alloy",
      config.split(JSON.stringify(stagingPush)).join(JSON.stringify(`${this.url("staging", "loki")}/loki/api/v1/push`)),
    );
    const pods = (podsByNode(this.pods)[K3S_NODE] ?? []).map((p) => ({
      ...p,
      node: K3S_NODE,
      app: p.pod.replace(/-[a-z0-9]+-[a-z0-9]+$|-\d+$/, ""),
    }));
    production.writeLogTargets(pods, () => false);
    let n = 0;
    const write = () => {
      production.writeLogLines((f) => [{ stderr: false, text: logLine(namespaceOfLogFile(f.file), n) }]);
      n++;
    };
    write();
    production.every(1000, write);
    this.stacks.production.processes.push(production.startAlloy(K3S_NODE));
  }

  /** The stack's Prometheus on its rendered config, discovering its own Services (served here) and the node's kubelet. */
  private async startPrometheus(s: RunningStack): Promise<ManagedProcess> {
    const ns = s.config.namespace;
    const local = s.stack.stackEndpoints(ns, [], (workload, namespace) => {
      const pod = this.pods.find((p) => p.metadata.namespace === namespace && p.metadata.name.startsWith(`${workload}-`));
      return { pod: pod?.metadata.name ?? `${workload}-0`, node: K3S_NODE };
    });
    // The agents (node-exporter, Alloy) are production's: staging renders no Service of theirs, so only production's Prometheus finds them.
    // Staging scrapes production's kube-state-metrics (kubeStateMetrics.sharedFrom): its Service, in production's namespace.
    const shared =
      s.name === "staging"
        ? renderedEndpoints(this.stacks.production.stack.rendered, {
            [`${this.stacks.production.config.namespace}/kube-state-metrics/http-metrics`]: {
              address: `${LOOPBACK}:${this.stacks.production.stack.ports.kubeStateMetrics}`,
              pod: this.podOf("kube-state-metrics", this.stacks.production.config.namespace).metadata.name,
              node: K3S_NODE,
            },
          })
        : [];
    const fixtures = {
      endpoints: [...renderedEndpoints(s.stack.rendered, local), ...shared],
      pod: [],
      node: nodeTargets([{ name: K3S_NODE, port: this.kubelet.port }]),
    };
    s.stack.writePrometheusConfig(fixtures, { token: "lab-token", caCert: this.kubelet.tls.cert });
    return s.stack.startPrometheus("prometheus", path.join(s.stack.tmp, "prometheus.yml"), s.stack.ports.prometheus);
  }

  /**
   * Staging goes as a destroy takes it: every process and server of its own stopped, its namespace
   * deleted from the cluster. Production's agents stay (they are production's).
   */
  async stopStaging(): Promise<void> {
    await this.stacks.staging.stack.stop();
    await kubectl(["delete", "namespace", this.stacks.staging.config.namespace, "--wait=false"]);
  }

  /** Stops both stacks, and the cluster if this run started it. */
  async stop(): Promise<void> {
    const stacks = Object.values(this.stacks);
    for (const [i, s] of stacks.entries()) {
      await s.stack.stop(async () => {
        if (i === stacks.length - 1 && this.clusterStarted) await clusterDown();
      });
    }
    if (stacks.length === 0 && this.clusterStarted) await clusterDown();
  }
}

/** The namespace of a pod log file, from its directory (`<namespace>_<pod>_<uid>/<container>/0.log`). */
export function namespaceOfLogFile(file: string): string {
  return path.basename(path.dirname(path.dirname(file))).split("_")[0];
}
