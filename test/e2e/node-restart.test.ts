/**
 * Fault 7 of issue 46, on the exact binaries: the node restarts. The staging stack's processes on
 * one node (lab/local/stack.ts: Prometheus, Alertmanager, Loki, Alloy and node-exporter, each with
 * its rendered config and args made local), with an app it scrapes and a pod whose log file Alloy
 * tails, are all stopped at once (SIGTERM to every one, as the kubelet's graceful node shutdown
 * sends it, SIGKILL after the grace), then all started again at once from their data.
 *
 * - Every target is up again; how long from the start to all up is measured and reported.
 * - Nothing older than the stop is lost: every sample a query returned before the stop reads back;
 *   every log line Loki returned before the stop is there, and the lines the pod wrote while
 *   Alloy was down are shipped from its positions (duplicates counted); the silence set before
 *   the stop holds.
 */
import * as fs from "fs";
import * as path from "path";
import { objectOf } from "../../lab/local/rendered";
import { httpGet, httpGetJson, metricsHandler, postJson } from "../../lab/local/http";
import { LOOPBACK } from "../../lab/ports";
import type { ManagedProcess } from "../../lab/processes/children";
import { renderedEndpoints } from "../../lab/local/prometheus";
import { LocalStack } from "../../lab/local/stack";
import { recordFault } from "../support/fault-report";
import { render } from "../support/render";
import { missing, samplesOf, seriesCount } from "./support/samples";

const APP = "checkout";
const NODE = "node-a";
const POD = { namespace: "shop-staging", pod: "checkout-0", uid: "7b1d2c3e-0000-4000-8000-000000000007", node: NODE, app: APP };

interface Target {
  scrapePool: string;
  health: string;
  lastError: string;
  lastScrape: string;
  scrapeUrl: string;
}

describe("the node restarts: every process of the stack stopped at once and started again from its data (fault 7)", () => {
  const stack = new LocalStack<"app">("node-restart-", 10 * 60_000);
  let processes: ManagedProcess[] = [];
  let written = 0;
  let url = "";
  let configFile = "";

  afterAll(() => stack.stop(), 60_000);

  /** Writes `n` more numbered lines to the pod's log file. */
  function log(n: number): void {
    stack.writeLogLines(() => Array.from({ length: n }, () => ({ stderr: false, text: `level=info msg="lab line" seq=${++written}` })));
  }
  /** The numbered lines Loki holds, by number: how many times each. */
  async function lines(): Promise<Map<number, number>> {
    const query = new URLSearchParams({
      query: `{namespace="${POD.namespace}", pod="${POD.pod}"} |= "lab line"`,
      start: String((Date.now() - 3_600_000) * 1e6),
      end: String((Date.now() + 60_000) * 1e6),
      limit: "5000",
      direction: "forward",
    });
    const res = await httpGet(`${stack.url("loki")}/loki/api/v1/query_range?${query.toString()}`, 30_000);
    if (res.status !== 200) throw new Error(`Loki query: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    const body = JSON.parse(res.body) as { data: { result: Array<{ values: Array<[string, string]> }> } };
    const seen = new Map<number, number>();
    for (const s of body.data.result)
      for (const [, line] of s.values) {
        const seq = Number(/seq=(\d+)/.exec(line)?.[1]);
        if (seq) seen.set(seq, (seen.get(seq) ?? 0) + 1);
      }
    return seen;
  }
  /** The targets as Prometheus last reported them, for a failure's message. */
  let lastTargets: Target[] = [];
  async function targets(): Promise<Target[]> {
    const r = await httpGetJson<{ data: { activeTargets: Target[] } }>(`${url}/api/v1/targets?state=active`);
    lastTargets = r.data.activeTargets;
    return lastTargets;
  }

  /** Every process of the stack, started at once; resolves when each is ready. */
  async function startAll(): Promise<void> {
    const loki = stack.startLoki();
    const alertmanager = stack.startAlertmanager();
    const alloy = stack.startAlloy(NODE);
    const nodeExporter = stack.startNodeExporter();
    const prometheus = stack.startPrometheus("prometheus", configFile, stack.ports.prometheus);
    processes = [await loki, await alertmanager, alloy, nodeExporter, await prometheus];
  }

  beforeAll(async () => {
    await stack.allocatePorts(["app"]);
    stack.rendered = await render("staging", [
      // The stack that watches the cluster runs node-exporter on each node (the lab's staging is alone on its node).
      "watch.cluster=true",
      "prometheus.scrapeInterval=2s",
      "prometheus.scrapeTimeout=2s",
      "prometheus.evaluationInterval=2s",
      `apps=[{name: ${APP}, url: "http://${LOOPBACK}:${stack.ports.app}/metrics"}]`,
      ...stack.notificationSets(),
    ]);
    url = stack.url("prometheus");
    await stack.serveSink(() => 204);
    let scrapes = 0;
    await stack.local.serve(
      stack.ports.app,
      metricsHandler(() => `# TYPE lab_scrapes gauge\nlab_scrapes ${++scrapes}\n`, "/metrics"),
    );
    stack.writeLogTargets([{ ...POD, containers: [{ name: APP }] }], () => false);
    log(0);
    // Prometheus scrapes what runs on the node: itself, Alertmanager, Loki, Alloy, node-exporter (and the app).
    const ns = objectOf(stack.rendered, "StatefulSet", "prometheus").metadata.namespace ?? "";
    const local = stack.stackEndpoints(ns, [], (workload) => ({ pod: `${workload}-0`, node: NODE }));
    const running = ["prometheus/http", "alertmanager/http", "loki/http", "alloy/http-metrics", "node-exporter/metrics"];
    const endpoints = renderedEndpoints(
      stack.rendered,
      Object.fromEntries(Object.entries(local).filter(([key]) => running.some((r) => key.endsWith(`/${r}`)))),
    );
    stack.writePrometheusConfig({ endpoints, pod: [], node: [] }, { token: "lab-token", caCert: "" });
    configFile = path.join(stack.tmp, "prometheus.yml");
    await startAll();
  });

  test("all targets up again, nothing older than the stop lost, the time to all up measured", async () => {
    const explain = () => stack.diagnostics(30);
    // Before the stop: every target up, log lines shipped, a silence set.
    const pools = ["prometheus", "alertmanager", "loki", "alloy", "node-exporter", APP];
    await stack.local.waitFor(
      "every target up",
      async () => {
        const t = await targets().catch(() => []);
        return pools.every((p) => t.some((x) => x.scrapePool === p)) && t.every((x) => x.health === "up") ? t : undefined;
      },
      90_000,
      500,
      () => `${explain()}\ntargets: ${JSON.stringify(lastTargets)}`,
    );
    log(200);
    await stack.local.waitFor(
      "the pod's lines in Loki",
      async () => ((await lines()).size === written ? true : undefined),
      60_000,
      500,
      explain,
    );
    const silence = await postJson(`${stack.url("alertmanager")}/api/v2/silences`, {
      matchers: [{ name: "alertname", value: "LabNodeRestart", isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: "lab",
      comment: "set before the node restarts",
    });
    expect(silence.status).toBe(200);
    const silenceId = (JSON.parse(silence.body) as { silenceID: string }).silenceID;
    const linesBefore = await lines();
    const queriedAt = Date.now() / 1000;
    const samplesBefore = await samplesOf(url, '{__name__=~".+"}', "1h", queriedAt);

    // The node goes down: every process stopped at once. The pod logs on meanwhile (it is not this stack's).
    const stopAt = Date.now();
    await Promise.all(processes.map((p) => p.stop()));
    const stopSeconds = (Date.now() - stopAt) / 1000;
    log(100);
    const writtenBeforeStart = written;

    // Up again: every process at once, from its data.
    const startAt = Date.now();
    await startAll();
    const readySeconds = (Date.now() - startAt) / 1000;
    const up = await stack.local.waitFor(
      "every target up after the restart",
      async () => {
        const t = await targets().catch(() => []);
        const fresh = (x: Target) => x.health === "up" && Date.parse(x.lastScrape) > startAt;
        return pools.every((p) => t.some((x) => x.scrapePool === p)) && t.every(fresh) ? t : undefined;
      },
      90_000,
      250,
      () => `${explain()}\ntargets: ${JSON.stringify(lastTargets)}`,
    );
    const allUpSeconds = (Date.now() - startAt) / 1000;

    const samplesAfter = await samplesOf(url, '{__name__=~".+"}', "1h", queriedAt);
    const lostSamples = missing(samplesBefore, samplesAfter);
    await stack.local.waitFor(
      "the lines written while the node was down, shipped",
      async () => ((await lines()).size >= writtenBeforeStart ? true : undefined),
      60_000,
      500,
      explain,
    );
    const linesAfter = await lines();
    const lostLines = [...linesBefore.keys()].filter((seq) => !linesAfter.has(seq));
    const duplicates = [...linesAfter.values()].reduce((n, c) => n + c - 1, 0);
    const silences = await httpGetJson<Array<{ id: string; status: { state: string } }>>(`${stack.url("alertmanager")}/api/v2/silences`);
    const silenceHeld = silences.some((s) => s.id === silenceId && s.status.state === "active");

    recordFault({
      fault: "7. The node restarts: every process stopped at once, started again from its data",
      test: "test/e2e/node-restart.test.ts",
      lost: { samples: lostSamples.length, "log lines": lostLines.length, silences: silenceHeld ? 0 : 1 },
      figures: {
        processes: processes.map((p) => p.name).join(", "),
        "stopped at once (SIGTERM, SIGKILL after 15 s)": `${stopSeconds.toFixed(1)} s`,
        "start to every process ready": `${readySeconds.toFixed(1)} s`,
        "start to all targets up": `${allUpSeconds.toFixed(1)} s (${up.length} targets)`,
        "samples read back": `${samplesBefore.size} of ${seriesCount(samplesBefore)} series`,
        "log lines": `${linesBefore.size} in Loki before the stop, ${writtenBeforeStart - linesBefore.size} written while down, all ${linesAfter.size} there after; ${duplicates} duplicates`,
      },
    });

    expect({ count: lostSamples.length, first: lostSamples.slice(0, 3) }).toEqual({ count: 0, first: [] });
    expect(samplesBefore.size).toBeGreaterThan(1000);
    expect(lostLines).toEqual([]);
    expect(linesBefore.size).toBe(200);
    expect([...linesAfter.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: writtenBeforeStart }, (_, i) => i + 1));
    expect(silenceHeld).toBe(true);
    expect(fs.existsSync(path.join(stack.tmp, "prometheus-data", "wal"))).toBe(true);
  });
});
