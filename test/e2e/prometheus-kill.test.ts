/**
 * Fault 2 of issue 46, on the exact binaries: the staging stack's Prometheus (its rendered config,
 * rules and args, made local: lab/local/stack.ts) scraping an app and itself every second and
 * evaluating the rendered rules every second, sending to the rendered Alertmanager, is killed
 * (SIGKILL) mid-work, then started again on the same data directory.
 *
 * - Every sample a query returned before the kill (every series: the app's, Prometheus' own, the
 *   recording rules', ALERTS) reads back the same after the WAL replay; of the scrapes the app
 *   served before the kill, at most the one in flight is missing (never acknowledged).
 * - The gap in the app's series (beyond one scrape interval): the restart, then the time from ready
 *   to the app's first scrape: measured and reported (kill to ready, the WAL replay Prometheus
 *   logs, ready to the first scrape, the gap), not asserted.
 * - The Watchdog, firing and notified before the kill, is sent to Alertmanager again by the new
 *   Prometheus and is not notified again as new: the dead man's switch got one message.
 */
import * as fs from "fs";
import * as path from "path";
import { objectOf } from "../../lab/local/rendered";
import { httpGet, httpGetJson, metricsHandler } from "../../lab/local/http";
import { LOOPBACK } from "../../lab/ports";
import type { ManagedProcess } from "../../lab/processes/children";
import { sleep } from "../../lab/processes/supervision";
import { renderedEndpoints } from "../../lab/local/prometheus";
import { LocalStack } from "../../lab/local/stack";
import { recordFault } from "../support/fault-report";
import { render } from "../support/render";
import { missing, samplesOf, seriesCount } from "./support/samples";

const APP = "checkout";
const INTERVAL_S = 1;
/** The app's series beside its scrape counter: a WAL with some weight to replay. */
const SERIES = 500;

interface Message {
  channel: string;
  at: number;
  alerts: string[];
}

describe("Prometheus killed (SIGKILL) while scraping and evaluating, restarted on its data (fault 2)", () => {
  const stack = new LocalStack<"app">("prom-kill-", 10 * 60_000);
  const messages: Message[] = [];
  /** The app's scrapes: each one's number and when it was served. */
  const served: Array<{ seq: number; at: number }> = [];
  let prometheus: ManagedProcess;
  let configFile = "";
  let url = "";

  afterAll(() => stack.stop(), 60_000);

  beforeAll(async () => {
    await stack.allocatePorts(["app"]);
    stack.rendered = await render("staging", [
      `prometheus.scrapeInterval=${INTERVAL_S}s`,
      `prometheus.scrapeTimeout=${INTERVAL_S}s`,
      `prometheus.evaluationInterval=${INTERVAL_S}s`,
      `apps=[{name: ${APP}, url: "http://${LOOPBACK}:${stack.ports.app}/metrics"}]`,
      ...stack.notificationSets(),
    ]);
    url = stack.url("prometheus");
    await stack.serveSink((req) => {
      let body: { alerts?: Array<{ labels: Record<string, string> }>; embeds?: Array<{ title?: string }> } = {};
      try {
        body = JSON.parse(req.body) as typeof body;
      } catch {
        // counted all the same, with no alert named
      }
      messages.push({
        channel: req.path.slice(1),
        at: req.receivedAt,
        alerts: body.alerts?.map((a) => a.labels.alertname) ?? body.embeds?.map((e) => e.title ?? "") ?? [],
      });
      return 204;
    });
    // The app: a counter of the scrapes it served, and SERIES gauges.
    const text = metricsHandler(() => {
      const seq = served.length + 1;
      served.push({ seq, at: Date.now() });
      const lines = ["# TYPE lab_fault_scrape_seq gauge", `lab_fault_scrape_seq ${seq}`, "# TYPE lab_fault_series gauge"];
      for (let i = 0; i < SERIES; i++) lines.push(`lab_fault_series{series="${i}"} ${seq * i}`);
      return `${lines.join("\n")}\n`;
    }, "/metrics");
    await stack.local.serve(stack.ports.app, text);
    await stack.startAlertmanager();
    const ns = objectOf(stack.rendered, "StatefulSet", "prometheus").metadata.namespace ?? "";
    const at = (port: number, workload: string) => ({ address: `${LOOPBACK}:${port}`, pod: `${workload}-0`, node: "node-a" });
    const endpoints = renderedEndpoints(stack.rendered, {
      [`${ns}/prometheus/http`]: at(stack.ports.prometheus, "prometheus"),
      [`${ns}/alertmanager/http`]: at(stack.ports.alertmanager, "alertmanager"),
    });
    stack.writePrometheusConfig({ endpoints, pod: [], node: [] }, { token: "lab-token", caCert: "" });
    configFile = path.join(stack.tmp, "prometheus.yml");
    prometheus = await stack.startPrometheus("prometheus", configFile, stack.ports.prometheus);
  });

  test("every acknowledged sample reads back after the WAL replay; the firing Watchdog is not notified again", async () => {
    const explain = () => `${stack.diagnostics(30)}\nsink: ${JSON.stringify(messages)}`;
    // Scraping (the app up), evaluating (its recording rules), and the Watchdog notified once.
    await stack.local.waitFor(
      "the app scraped, its rules recorded and the Watchdog at the dead man's switch",
      async () => {
        const r = await httpGetJson<{ data: { result: unknown[] } }>(
          `${url}/api/v1/query?query=${encodeURIComponent(`up{job="${APP}"} == 1 and on () count(app:own_targets:info) > 0`)}`,
        ).catch(() => undefined);
        return (r?.data.result.length ?? 0) > 0 && messages.some((m) => m.channel === "deadmans-switch") ? true : undefined;
      },
      90_000,
      500,
      explain,
    );
    // Some history: ten more scrapes and evaluations.
    const from = served.length;
    await stack.local.waitFor("ten more scrapes", () => (served.length >= from + 10 ? true : undefined), 60_000, 200, explain);
    const watchdogBefore = messages.filter((m) => m.channel === "deadmans-switch").length;

    // What Prometheus acknowledged (a query returned it), then the kill at once.
    const queriedAt = Date.now() / 1000;
    const before = await samplesOf(url, '{__name__=~".+"}', "1h", queriedAt);
    const killedAt = Date.now();
    await prometheus.kill();
    const servedBeforeKill = served.filter((s) => s.at < killedAt).map((s) => s.seq);

    // Started again on the same data directory.
    const restarted = await stack.startPrometheus("prometheus", configFile, stack.ports.prometheus);
    const readyAt = Date.now();
    const replay = /WAL replay completed.*?total_replay_duration=(\S+)/.exec(restarted.output(200))?.[1] ?? "not logged";
    const after = await samplesOf(url, '{__name__=~".+"}', "1h", queriedAt);
    const lost = missing(before, after);

    // The app's series: what was stored of the scrapes served before the kill, and the gap the restart left.
    await stack.local.waitFor(
      "three scrapes after the restart",
      () => (served.filter((s) => s.at > readyAt).length >= 3 ? true : undefined),
      60_000,
      200,
      explain,
    );
    const seqs = await samplesOf(url, "lab_fault_scrape_seq", "1h", Date.now() / 1000);
    const stored = [...seqs].map(([k, v]) => ({ ts: Number(k.slice(k.lastIndexOf("@") + 1)) * 1000, seq: Number(v) }));
    const storedSeqs = new Set(stored.map((s) => s.seq));
    const inFlight = servedBeforeKill.filter((seq) => !storedSeqs.has(seq));
    const lastBefore = Math.max(...stored.filter((s) => s.ts < killedAt).map((s) => s.ts));
    const firstAfter = Math.min(...stored.filter((s) => s.ts > killedAt).map((s) => s.ts));
    const gapSeconds = (firstAfter - lastBefore) / 1000 - INTERVAL_S;
    const restartSeconds = (readyAt - killedAt) / 1000;
    /** Ready (WAL replayed) to the app's first stored sample: the part of the gap that is not the restart. */
    const firstScrapeSeconds = (firstAfter - readyAt) / 1000;

    // The Watchdog: sent again by the new Prometheus (Alertmanager has it updated since the restart), not notified again.
    await stack.local.waitFor(
      "the Watchdog sent to Alertmanager by the restarted Prometheus",
      async () => {
        const alerts = await httpGetJson<Array<{ labels: Record<string, string>; updatedAt: string }>>(
          `${stack.url("alertmanager")}/api/v2/alerts?filter=${encodeURIComponent('alertname="Watchdog"')}`,
        ).catch(() => []);
        return alerts.some((a) => Date.parse(a.updatedAt) >= readyAt) ? true : undefined;
      },
      60_000,
      500,
      explain,
    );
    // A new notification goes out at once (the Watchdog's route waits 0 s); a few seconds watched.
    await sleep(5_000);
    const watchdogAfter = messages.filter((m) => m.channel === "deadmans-switch").length;
    const tsdb = JSON.parse((await httpGet(`${url}/api/v1/status/tsdb`, 10_000)).body) as { data: { headStats: { numSeries: number } } };

    recordFault({
      fault: "2. Prometheus killed (SIGKILL) while scraping and evaluating",
      test: "test/e2e/prometheus-kill.test.ts",
      lost: { "acknowledged samples": lost.length, "duplicate notifications": watchdogAfter - watchdogBefore },
      figures: {
        "samples acknowledged before the kill": `${before.size} in ${seriesCount(before)} series (the app's ${SERIES + 1}, Prometheus' own, the rules')`,
        "scrapes served before the kill and not stored": `${inFlight.length} of ${servedBeforeKill.length} (at most the one in flight, never acknowledged)`,
        "kill to ready": `${restartSeconds.toFixed(1)} s`,
        "WAL replay (Prometheus' log)": replay,
        "ready to the app's first scrape": `${firstScrapeSeconds.toFixed(1)} s`,
        "gap in the app's series": `${gapSeconds.toFixed(1)} s beyond the scrape interval of ${INTERVAL_S} s`,
        "head series after the replay": tsdb.data.headStats.numSeries,
        "Watchdog messages before / after the restart": `${watchdogBefore} / ${watchdogAfter}`,
      },
    });

    expect({ lost: lost.slice(0, 5), count: lost.length }).toEqual({ lost: [], count: 0 });
    expect(before.size).toBeGreaterThan(10 * (SERIES + 1));
    expect(inFlight.length).toBeLessThanOrEqual(1);
    expect(inFlight.every((seq) => seq === servedBeforeKill[servedBeforeKill.length - 1])).toBe(true);
    expect(watchdogAfter).toBe(watchdogBefore);
    expect(fs.existsSync(path.join(stack.tmp, "prometheus-data", "wal"))).toBe(true);
  });
});
