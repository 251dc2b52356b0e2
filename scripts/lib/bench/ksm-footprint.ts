/**
 * kube-state-metrics once or twice on a node that runs both stack files (issue 35): the real
 * kube-state-metrics binary (.tools/bin, the release the stack deploys) against a local control
 * plane (scripts/lib/cluster: a real API server, kwok as the kubelet) holding both stacks' rendered
 * objects, both teams' workloads and k3s's own, run three ways at once, each with the flags of a
 * render:
 *
 * - production's, narrowed to production's namespaces (its render's `--namespaces`);
 * - staging's, narrowed to staging's;
 * - one instance watching both stacks' namespaces (production's flags, the union of the two lists),
 *   as one shared kube-state-metrics would.
 *
 * Each is scraped every `scrapeSeconds` as Prometheus scrapes it (the scrape is part of its memory:
 * it renders its whole output each time); its resident memory is sampled every `sampleSeconds`
 * after `warmupSeconds`. The answer is the sum of the two narrowed instances against the shared
 * one, and what sharing costs the stack that would scrape the other's: the series it parses on
 * every scrape only to drop them.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { down as clusterDown, up as clusterUp } from "../cluster";
import { residentBytes } from "../cluster/processes";
import { expectedLogNamespaces } from "../../../preflight/shared-logs";
import { kubectlApply, kubectlJson } from "./kubectl";
import { httpGet } from "../local/http";
import { stackBinary } from "../local/binaries";
import { LOOPBACK, LocalRun, freePorts, sleep } from "../local/processes";
import { containerArgs } from "../local/rendered";
import { metricValues } from "../local/text-format";
import type { Rendered } from "../render";
import { renderStack } from "../render-stack";
import type { StackConfig } from "../../../config";
import { ROOT } from "../stackfile";
import { containersOf } from "./deployed";
import { markdownTable, median } from "./figures";

export interface KsmPlan {
  /** Deployments in each team's namespace (shop, shop-staging), each with a Service. */
  deploymentsPerTeam: number;
  replicas: number;
  /** Finished Jobs in each team's namespace (a CronJob's history, migrations). */
  jobsPerTeam: number;
  warmupSeconds: number;
  measureSeconds: number;
  sampleSeconds: number;
  scrapeSeconds: number;
}

/** About the bench's live workload (some 100 pods on the node) for each team, over both stacks' own. */
export const KSM_PLAN: KsmPlan = {
  deploymentsPerTeam: 20,
  replicas: 2,
  jobsPerTeam: 6,
  warmupSeconds: 60,
  measureSeconds: 180,
  sampleSeconds: 5,
  scrapeSeconds: 15,
};
export const KSM_QUICK_PLAN: KsmPlan = { ...KSM_PLAN, warmupSeconds: 20, measureSeconds: 40 };

export type KsmRun = "production" | "staging" | "shared";

export interface KsmInstance {
  run: KsmRun;
  namespaces: string[];
  /** Median and highest resident memory over the measured time. */
  rssBytes: number;
  peakRssBytes: number;
  /**
   * Median anonymous resident memory (RssAnon): its own, which no other process shares. The rest
   * of its RSS is the binary's mapped pages, which a second instance of the same image on the node
   * may find in the page cache, but which the container that faults them in is charged for.
   */
  anonBytes: number;
  /** Median Go heap in use (its telemetry port). */
  heapBytes: number;
  /** Series (sample lines) and bytes of one scrape of its /metrics. */
  series: number;
  scrapeBytes: number;
}

export interface KsmFootprint {
  plan: KsmPlan;
  /** Objects in the cluster, by kind, at the measurement (every namespace). */
  objects: Record<string, number>;
  instances: Record<KsmRun, KsmInstance>;
  /** production + staging, narrowed, against the shared one. */
  twoNarrowedBytes: number;
  sharedBytes: number;
  /** What staging's Prometheus would parse and drop at every scrape of a shared instance: production's series. */
  droppedSeriesPerScrape: number;
  /**
   * What sharing costs the stack that scrapes the other's: two Prometheus of the release the stack
   * deploys, each with one job, `own` scraping staging's narrowed instance, `sharing` the shared one
   * keeping staging's namespaces only (metric relabelling, as a namespace filter would): median RSS
   * and the series each stores.
   */
  prometheus: Record<"own" | "sharing", { rssBytes: number; headSeries: number }>;
}

/** Both stack files as they run on one node: production's collector serving staging (docs/operations.md). */
export async function sharedNodeRenders(): Promise<Record<"staging" | "production", Rendered & { config: StackConfig }>> {
  const staging = await renderStack({ stack: "staging", sets: ["logCollector.sharedFrom=monitoring-production"] });
  const namespaces = expectedLogNamespaces(staging.config);
  const production = await renderStack({
    stack: "production",
    sets: [`logCollector.shareWith=${JSON.stringify([{ namespace: staging.config.namespace, namespaces }])}`],
  });
  return { staging, production };
}

/** The value of a flag in a list of `--name=value` flags. */
function flag(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const labelsOf = (name: string) => ({ "app.kubernetes.io/name": name });

/** A team's workloads: `plan.deploymentsPerTeam` Deployments with Services, finished Jobs, a CronJob, autoscalers, budgets, a quota. */
function teamObjects(namespace: string, plan: KsmPlan): object[] {
  const objects: object[] = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }];
  for (let i = 0; i < plan.deploymentsPerTeam; i++) {
    const name = `svc-${i}`;
    const labels = labelsOf(name);
    objects.push(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace, labels },
        spec: {
          replicas: plan.replicas,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name,
                  image: `example.com/team/${name}:1.${i}.0`,
                  ports: [{ name: "http", containerPort: 8080 }],
                  resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace, labels },
        spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
      },
    );
    if (i % 5 === 0) {
      objects.push(
        {
          apiVersion: "autoscaling/v2",
          kind: "HorizontalPodAutoscaler",
          metadata: { name, namespace },
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
            minReplicas: plan.replicas,
            maxReplicas: plan.replicas * 2,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }],
          },
        },
        {
          apiVersion: "policy/v1",
          kind: "PodDisruptionBudget",
          metadata: { name, namespace },
          spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
        },
      );
    }
  }
  const jobPod = (name: string) => ({
    metadata: { labels: labelsOf(name) },
    spec: { restartPolicy: "OnFailure", containers: [{ name, image: "example.com/team/jobs:1.0.0" }] },
  });
  for (let i = 0; i < plan.jobsPerTeam; i++) {
    objects.push({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: `job-${i}`, namespace },
      spec: { template: jobPod(`job-${i}`) },
    });
  }
  objects.push(
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "report", namespace },
      spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: jobPod("report") } } },
    },
    { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "team", namespace }, spec: { hard: { pods: "200", services: "50" } } },
  );
  return objects;
}

/** What k3s runs in kube-system on one node: CoreDNS, the metrics server, the local-path provisioner, Traefik (each a Deployment of one pod). */
function k3sObjects(): object[] {
  return ["coredns", "metrics-server", "local-path-provisioner", "traefik"].flatMap((name) => {
    const labels = labelsOf(name);
    return [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: "kube-system", labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name, image: `rancher/${name}:1` }] } },
        },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace: "kube-system", labels },
        spec: { selector: labels, ports: [{ port: 80 }] },
      },
    ];
  });
}

/** The rendered stack's objects, Namespaces first (as the live lab applies them). */
function renderedObjects(rendered: Rendered): object[] {
  const rank = (kind: string) => (kind === "Namespace" ? 0 : kind === "CustomResourceDefinition" ? 1 : 2);
  return rendered.kubernetes
    .filter((o) => !o.patch)
    .map((o) => o.object)
    .sort((a, b) => rank(a.kind) - rank(b.kind));
}

/** Anonymous resident memory of a process (RssAnon), 0 when it is gone. */
function anonBytes(pid: number): number {
  try {
    const m = /^RssAnon:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A Prometheus config of one job scraping `target`, keeping the series of `keep` namespaces when given. */
function scrapeConfig(target: string, scrapeSeconds: number, keep?: string[]): string {
  return JSON.stringify({
    global: { scrape_interval: `${scrapeSeconds}s`, scrape_timeout: `${Math.min(10, scrapeSeconds)}s` },
    scrape_configs: [
      {
        job_name: "kube-state-metrics",
        honor_labels: true,
        static_configs: [{ targets: [target] }],
        ...(keep ? { metric_relabel_configs: [{ source_labels: ["namespace"], regex: keep.join("|"), action: "keep" }] } : {}),
      },
    ],
  });
}

/** Sample lines of a text exposition. */
function seriesIn(text: string): number {
  return text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
}

/**
 * Runs the measurement. Starts its own local control plane in `.bench/.cluster` of the checkout
 * (LOCAL_CLUSTER_DIR for the run's duration) and stops it at the end.
 */
export async function measureKubeStateMetrics(plan: KsmPlan, log: (m: string) => void = () => undefined): Promise<KsmFootprint> {
  const { staging, production } = await sharedNodeRenders();
  const flags = {
    production: containerArgs(production, "Deployment", "kube-state-metrics"),
    staging: containerArgs(staging, "Deployment", "kube-state-metrics"),
  };
  const namespaces = {
    production: (flag(flags.production, "namespaces") ?? "").split(",").filter(Boolean),
    staging: (flag(flags.staging, "namespaces") ?? "").split(",").filter(Boolean),
  };
  const shared = [...new Set([...namespaces.production, ...namespaces.staging])].sort();
  const teams = [production.config, staging.config].flatMap((c) => c.apps.map((a) => a.service?.namespace).filter((n): n is string => !!n));

  const savedDir = process.env.LOCAL_CLUSTER_DIR;
  const savedKubeconfig = process.env.KUBECONFIG;
  process.env.LOCAL_CLUSTER_DIR = path.join(ROOT, ".bench", ".cluster");
  const run = new LocalRun(30 * 60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-ksm-"));
  let started = false;
  try {
    const cluster = await clusterUp({ nodes: 1, ttlSeconds: 3600, owned: true, log: (m) => log(`cluster: ${m}`) });
    started = !cluster.alreadyRunning;
    process.env.KUBECONFIG = cluster.kubeconfig;
    log("applying both stacks' objects, both teams' workloads and k3s's own");
    for (const objects of [
      renderedObjects(production),
      renderedObjects(staging),
      k3sObjects(),
      ...[...new Set(teams)].map((t) => teamObjects(t, plan)),
    ]) {
      await kubectlApply(objects);
    }
    const expectedPods = 2 * plan.deploymentsPerTeam * plan.replicas;
    await waitForPods(expectedPods, log);

    const ports = await freePorts(6);
    const runs: Array<{ run: KsmRun; args: string[]; namespaces: string[]; port: number; telemetry: number }> = [
      { run: "production", args: flags.production, namespaces: namespaces.production, port: ports[0], telemetry: ports[1] },
      { run: "staging", args: flags.staging, namespaces: namespaces.staging, port: ports[2], telemetry: ports[3] },
      {
        run: "shared",
        args: flags.production.map((a) => (a.startsWith("--namespaces=") ? `--namespaces=${shared.join(",")}` : a)),
        namespaces: shared,
        port: ports[4],
        telemetry: ports[5],
      },
    ];
    const procs = runs.map((r) =>
      run.start(`kube-state-metrics (${r.run})`, stackBinary("kube-state-metrics"), [
        ...r.args.filter((a) => !/^--(port|telemetry-port)=/.test(a)),
        `--port=${r.port}`,
        `--telemetry-port=${r.telemetry}`,
        `--host=${LOOPBACK}`,
        `--telemetry-host=${LOOPBACK}`,
        `--kubeconfig=${cluster.kubeconfig}`,
      ]),
    );
    const metricsUrl = (r: (typeof runs)[number]) => `http://${LOOPBACK}:${r.port}/metrics`;
    await run.waitFor(
      "every kube-state-metrics serving",
      async () => {
        const ok = await Promise.all(
          runs.map((r) =>
            httpGet(metricsUrl(r), 10_000).then(
              (x) => x.status === 200 && seriesIn(x.body) > 0,
              () => false,
            ),
          ),
        );
        return ok.every(Boolean) ? true : undefined;
      },
      120_000,
      1000,
    );
    // What sharing costs the scraping stack: its Prometheus parses the whole shared output.
    const promPorts = await freePorts(2);
    const proms = (["own", "sharing"] as const).map((which, i) => {
      const target = `${LOOPBACK}:${(which === "own" ? runs[1] : runs[2]).port}`;
      const config = path.join(dir, `${which}.yml`);
      fs.writeFileSync(config, scrapeConfig(target, plan.scrapeSeconds, which === "sharing" ? namespaces.staging : undefined));
      const proc = run.start(`prometheus (${which})`, stackBinary("prometheus"), [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, `${which}-data`)}`,
        `--web.listen-address=${LOOPBACK}:${promPorts[i]}`,
      ]);
      return { which, proc, url: `http://${LOOPBACK}:${promPorts[i]}` };
    });
    const lastText = new Map<KsmRun, string>();
    const scrapeAll = async () => Promise.all(runs.map(async (r) => lastText.set(r.run, (await httpGet(metricsUrl(r), 15_000)).body)));
    log(`warming up ${plan.warmupSeconds} s (scraped every ${plan.scrapeSeconds} s)`);
    const scraper = setInterval(() => void scrapeAll().catch(() => undefined), plan.scrapeSeconds * 1000);
    try {
      await scrapeAll();
      await sleep(plan.warmupSeconds * 1000);
      log(`measuring ${plan.measureSeconds} s`);
      const rss = new Map<KsmRun, number[]>(runs.map((r) => [r.run, []]));
      const heap = new Map<KsmRun, number[]>(runs.map((r) => [r.run, []]));
      const anon = new Map<KsmRun, number[]>(runs.map((r) => [r.run, []]));
      const promRss = new Map<string, number[]>(proms.map((p) => [p.which, []]));
      const begin = Date.now();
      while (Date.now() - begin < plan.measureSeconds * 1000) {
        for (const [i, r] of runs.entries()) {
          const pid = procs[i].pid;
          if (!procs[i].alive || pid === undefined) throw new Error(`kube-state-metrics (${r.run}) exited\n${procs[i].output()}`);
          rss.get(r.run)?.push(residentBytes(pid));
          anon.get(r.run)?.push(anonBytes(pid));
          const telemetry = await httpGet(`http://${LOOPBACK}:${r.telemetry}/metrics`, 5000).then(
            (x) => x.body,
            () => "",
          );
          const h = metricValues(telemetry, "go_memstats_heap_inuse_bytes")[0];
          if (h !== undefined) heap.get(r.run)?.push(h);
        }
        for (const p of proms) {
          if (!p.proc.alive || p.proc.pid === undefined) throw new Error(`${p.proc.name} exited\n${p.proc.output()}`);
          promRss.get(p.which)?.push(residentBytes(p.proc.pid));
        }
        await sleep(plan.sampleSeconds * 1000);
      }
      await scrapeAll();
      const headSeries = async (url: string) =>
        metricValues((await httpGet(`${url}/metrics`, 10_000)).body, "prometheus_tsdb_head_series")[0] ?? 0;
      const prometheus = Object.fromEntries(
        await Promise.all(
          proms.map(
            async (p) => [p.which, { rssBytes: median(promRss.get(p.which) ?? [0]), headSeries: await headSeries(p.url) }] as const,
          ),
        ),
      ) as KsmFootprint["prometheus"];
      const instances = Object.fromEntries(
        runs.map((r) => {
          const text = lastText.get(r.run) ?? "";
          const samples = rss.get(r.run) ?? [];
          return [
            r.run,
            {
              run: r.run,
              namespaces: r.namespaces,
              rssBytes: median(samples),
              peakRssBytes: Math.max(...samples),
              anonBytes: median(anon.get(r.run) ?? [0]),
              heapBytes: median(heap.get(r.run) ?? [0]),
              series: seriesIn(text),
              scrapeBytes: Buffer.byteLength(text),
            },
          ];
        }),
      ) as Record<KsmRun, KsmInstance>;
      const objects = await countObjects();
      return {
        plan,
        objects,
        instances,
        twoNarrowedBytes: instances.production.rssBytes + instances.staging.rssBytes,
        sharedBytes: instances.shared.rssBytes,
        droppedSeriesPerScrape: instances.shared.series - instances.staging.series,
        prometheus,
      };
    } finally {
      clearInterval(scraper);
    }
  } finally {
    await run.stop();
    if (started) await clusterDown();
    if (savedDir === undefined) delete process.env.LOCAL_CLUSTER_DIR;
    else process.env.LOCAL_CLUSTER_DIR = savedDir;
    if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedKubeconfig;
    fs.rmSync(path.join(ROOT, ".bench"), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function waitForPods(atLeast: number, log: (m: string) => void): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const pods = (await kubectlJson<{ items: Array<{ status?: { phase?: string } }> }>(["get", "pods", "-A", "-o", "json"])).items;
    const running = pods.filter((p) => ["Running", "Succeeded"].includes(p.status?.phase ?? "")).length;
    if (running >= atLeast && running === pods.length) {
      log(`${running} pods running or done`);
      return;
    }
    if (Date.now() > deadline)
      throw new Error(`pods: ${running} of ${pods.length} running or done after 5 minutes (wanted at least ${atLeast})`);
    await sleep(2000);
  }
}

const COUNTED = [
  "pods",
  "deployments",
  "replicasets",
  "statefulsets",
  "daemonsets",
  "services",
  "jobs",
  "cronjobs",
  "persistentvolumeclaims",
  "namespaces",
];

async function countObjects(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const kind of COUNTED) out[kind] = (await kubectlJson<{ items: unknown[] }>(["get", kind, "-A", "-o", "json"])).items.length;
  return out;
}

/** The memory kube-state-metrics requests in a render (0 when the render runs none). */
export function ksmRequestBytes(rendered: Pick<Rendered, "kubernetes">): number {
  return containersOf(rendered, "kubeStateMetrics")[0]?.requestBytes ?? 0;
}

/** The figures as a Markdown table: one row per instance, then the Prometheus pair. */
export function ksmTable(f: KsmFootprint): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const objects = `${f.objects.pods ?? 0} pods, ${f.objects.deployments ?? 0} Deployments, ${f.objects.services ?? 0} Services, ${f.objects.jobs ?? 0} Jobs`;
  const rows = (["production", "staging", "shared"] as const).map((r) => {
    const i = f.instances[r];
    return [r, i.namespaces.join(", "), mib(i.rssBytes), mib(i.peakRssBytes), mib(i.anonBytes), mib(i.heapBytes), String(i.series)];
  });
  return [
    `Cluster: ${objects}.`,
    "",
    markdownTable(["kube-state-metrics", "namespaces", "RSS steady", "RSS peak", "anonymous", "Go heap", "series"], rows),
    "",
    `Two narrowed: ${mib(f.twoNarrowedBytes)}; one for both: ${mib(f.sharedBytes)}. A Prometheus scraping staging's own: ` +
      `${mib(f.prometheus.own.rssBytes)} (${f.prometheus.own.headSeries} series); scraping the shared one, keeping staging's namespaces: ` +
      `${mib(f.prometheus.sharing.rssBytes)} (${f.prometheus.sharing.headSeries} series; ${f.droppedSeriesPerScrape} series parsed and dropped a scrape).`,
  ].join("\n");
}
