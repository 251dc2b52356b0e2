/**
 * kube-state-metrics once or twice on a node that runs both stack files (issue 35): the real
 * kube-state-metrics binary (.tools/bin, the release the stack deploys) against a local control
 * plane (lab/cluster: a real API server, kwok as the kubelet) holding both stacks' rendered
 * objects, both teams' workloads and k3s's own, run three ways at once, each with the flags of a
 * render:
 *
 * - production's, narrowed to production's namespaces (its render's `--namespaces`);
 * - staging's, narrowed to staging's;
 * - one for both, as production renders it with kubeStateMetrics.shareWith (its namespaces and staging's).
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
import { residentBytes } from "../processes/proc";
import { kubectlApply, kubectlJson } from "./kubectl";
import { httpGet } from "../local/http";
import { stackBinary } from "../local/binaries";
import { LOOPBACK, freePorts } from "../ports";
import { LocalRun } from "../processes/children";
import { sleep } from "../processes/supervision";
import { containerArgs } from "../local/rendered";
import { metricValues } from "../local/text-format";
import { ROOT } from "../../cli/stackfile";
import { median } from "./figures";
import { KsmFootprint, KsmInstance, KsmPlan, KsmRun, flag, keptOf, sharedNodeRenders, sharingRenders } from "./ksm-figures";
import { applyBatches, teamNamespaces } from "./ksm-objects";

/** Anonymous resident memory of a process (RssAnon), 0 when it is gone. */
function anonBytes(pid: number): number {
  try {
    const m = /^RssAnon:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A Prometheus config of one job scraping `target`, with the rendered job's metric relabelling when given. */
function scrapeConfig(target: string, scrapeSeconds: number, keep?: unknown[]): string {
  return JSON.stringify({
    global: { scrape_interval: `${scrapeSeconds}s`, scrape_timeout: `${Math.min(10, scrapeSeconds)}s` },
    scrape_configs: [
      {
        job_name: "kube-state-metrics",
        honor_labels: true,
        static_configs: [{ targets: [target] }],
        ...(keep ? { metric_relabel_configs: keep } : {}),
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
  // One for both, as the stack renders it: production's flags with staging's namespaces, staging's job keeping its own.
  const sharing = await sharingRenders();
  const sharedFlags = containerArgs(sharing.production, "Deployment", "kube-state-metrics");
  const shared = (flag(sharedFlags, "namespaces") ?? "").split(",").filter(Boolean);
  const stagingKeeps = keptOf(sharing.staging);
  if (!stagingKeeps)
    throw new Error("staging's render with kubeStateMetrics.sharedFrom keeps every series of the shared kube-state-metrics");
  const teams = teamNamespaces([production.config, staging.config]);

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
    for (const objects of applyBatches([production, staging], teams, plan)) {
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
        args: sharedFlags,
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
      fs.writeFileSync(config, scrapeConfig(target, plan.scrapeSeconds, which === "sharing" ? stagingKeeps : undefined));
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
