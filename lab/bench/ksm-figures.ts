/**
 * kube-state-metrics once or twice (lab/bench/ksm-footprint.ts measures it): the plan, the
 * figures and their table, and the renders the measurement runs, without a binary (the offline
 * tests read them).
 */
import * as YAML from "yaml";
import type { StackConfig } from "../../config";
import { expectedLogNamespaces } from "../../preflight/shared-logs";
import type { Rendered } from "../../cli/render";
import { renderStack } from "../../cli/render-stack";
import { containersOf } from "./deployed";
import { markdownTable } from "./figures";

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
   * with the metric relabelling staging renders with kubeStateMetrics.sharedFrom (its namespaces'
   * series kept): median RSS and the series each stores.
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

/**
 * The same with one kube-state-metrics for both (kubeStateMetrics.shareWith / sharedFrom,
 * docs/operations.md "One kube-state-metrics for two stacks"): production's reports staging's
 * namespaces too, staging runs none and keeps its namespaces' series of production's.
 */
export async function sharingRenders(): Promise<Record<"staging" | "production", Rendered & { config: StackConfig }>> {
  const staging = await renderStack({
    stack: "staging",
    sets: ["logCollector.sharedFrom=monitoring-production", "kubeStateMetrics.sharedFrom=monitoring-production"],
  });
  const share = JSON.stringify([{ namespace: staging.config.namespace, namespaces: expectedLogNamespaces(staging.config) }]);
  const production = await renderStack({
    stack: "production",
    sets: [`logCollector.shareWith=${share}`, `kubeStateMetrics.shareWith=${share}`],
  });
  return { staging, production };
}

/** The metric relabelling of a render's kube-state-metrics job: what the stack keeps of what it scrapes. */
export function keptOf(rendered: Rendered): unknown[] | undefined {
  const config = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as {
    scrape_configs: Array<{ job_name: string; metric_relabel_configs?: unknown[] }>;
  };
  return config.scrape_configs.find((j) => j.job_name === "kube-state-metrics")?.metric_relabel_configs;
}

/** The value of a flag in a list of `--name=value` flags. */
export function flag(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
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
