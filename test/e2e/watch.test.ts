/**
 * A stack watches its own namespaces (watch), on the deployed release of Prometheus: the rendered
 * staging stack's cAdvisor and kubelet jobs (their relabelling and metric relabelling as rendered;
 * discovery pointed at a kubelet stand-in on 127.0.0.1, over plain HTTP without the service
 * account's token) store the series of staging's namespaces and those of no namespace (the
 * node's own), and drop production's and kube-system's. The same jobs as a stack that watches
 * every namespace (watch.namespaces: ["*"]) renders them keep all of them: the series were there
 * to drop. (The renders themselves are checked without a binary in test/scenarios/watch.test.ts.)
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { metricsHandler } from "../../lab/local/http";
import { freePorts } from "../../lab/ports";
import { render } from "../support/render";
import { localKubeletJob, prometheusOnStandIn, StandInSeries, storedOnStandIn } from "./support/kubelet-stand-in";
import { localRun } from "./support/local-run";

jest.setTimeout(240_000);

/** The namespaces of the series the kubelet stand-in serves: staging's two, production's, kube-system, and none (the node's own). */
const NAMESPACES = ["shop-staging", "monitoring-staging", "shop", "kube-system", ""];

/** What a kubelet's cAdvisor reports: a container's series in each namespace, and the node's root cgroup (`id="/"`, no namespace). */
function cadvisorMetrics(): string {
  const container = (ns: string) =>
    ns === ""
      ? 'container_cpu_usage_seconds_total{id="/"} 12'
      : `container_cpu_usage_seconds_total{namespace="${ns}",pod="p-1",container="c"} 3`;
  return ["# TYPE container_cpu_usage_seconds_total counter", ...NAMESPACES.map(container), ""].join("\n");
}

/** What a kubelet's own /metrics reports: a claim's volume in each namespace, and its pod count (no namespace). */
function kubeletMetrics(): string {
  return [
    "# TYPE kubelet_volume_stats_available_bytes gauge",
    ...NAMESPACES.filter((ns) => ns !== "").map(
      (ns) => `kubelet_volume_stats_available_bytes{namespace="${ns}",persistentvolumeclaim="data"} 1024`,
    ),
    "# TYPE kubelet_running_pods gauge",
    "kubelet_running_pods 9",
    "",
  ].join("\n");
}

/** The kubelet stand-in: its cAdvisor on /metrics/cadvisor, its own metrics on /metrics. */
const kubeletStandIn: http.RequestListener = (req, res) =>
  (req.url ?? "").startsWith("/metrics/cadvisor")
    ? metricsHandler(cadvisorMetrics)(req, res)
    : metricsHandler(kubeletMetrics, "/metrics")(req, res);

describe("the kubelet's and cAdvisor's series of the namespaces a stack does not watch", () => {
  const run = localRun();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "watch-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let stored: (promql: string) => Promise<StandInSeries[]>;

  beforeAll(async () => {
    const staging = await render("staging");
    const everything = await render("staging", ['watch.namespaces=["*"]']);
    const [kubelet, prometheus] = await freePorts(2);
    await run.serve(kubelet, kubeletStandIn);
    const jobs = [
      localKubeletJob(staging, "cadvisor", dir),
      localKubeletJob(staging, "kubelet", dir),
      localKubeletJob(everything, "cadvisor", dir, "every-namespace"),
      localKubeletJob(everything, "kubelet", dir, "every-namespace"),
    ];
    stored = storedOnStandIn(run, await prometheusOnStandIn(run, staging, jobs, { kubelet, prometheus }, dir), jobs.length);
  });

  const namespaces = (series: StandInSeries[]) => series.map((s) => s.metric.namespace ?? "").sort();

  test("cAdvisor: staging's namespaces and the node's own series are stored, production's and kube-system's dropped", async () => {
    expect(namespaces(await stored('container_cpu_usage_seconds_total{job="cadvisor"}'))).toEqual([
      "",
      "monitoring-staging",
      "shop-staging",
    ]);
    // Watching every namespace, the same job keeps all five: they were there to drop.
    expect(namespaces(await stored('container_cpu_usage_seconds_total{job="cadvisor-every-namespace"}'))).toEqual([...NAMESPACES].sort());
  });

  test("the kubelet: staging's volumes and the kubelet's own series are stored, another stack's volumes dropped", async () => {
    expect(namespaces(await stored('kubelet_volume_stats_available_bytes{job="kubelet"}'))).toEqual(["monitoring-staging", "shop-staging"]);
    expect(namespaces(await stored('kubelet_running_pods{job="kubelet"}'))).toEqual([""]);
    expect(namespaces(await stored('kubelet_volume_stats_available_bytes{job="kubelet-every-namespace"}'))).toEqual([
      "kube-system",
      "monitoring-staging",
      "shop",
      "shop-staging",
    ]);
  });

  test("the drop happens in metric relabelling, after the scrape: every sample is scraped, fewer are stored", async () => {
    const samples = async (metric: string) =>
      Object.fromEntries((await stored(`${metric}{job=~"cadvisor|kubelet"}`)).map((s) => [s.metric.job, Number(s.value[1])]));
    // cAdvisor serves 5 samples, 3 kept; the kubelet 5 (4 volumes, its pod count), 3 kept.
    expect(await samples("scrape_samples_scraped")).toEqual({ cadvisor: 5, kubelet: 5 });
    expect(await samples("scrape_samples_post_metric_relabeling")).toEqual({ cadvisor: 3, kubelet: 3 });
  });
});
