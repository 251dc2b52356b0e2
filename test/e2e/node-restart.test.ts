/**
 * Fault 7 of issue 46, on the exact binaries: the node restarts. Every process of the staging
 * stack that the lab can run (lab/local/stack.ts, each with its rendered config and args made
 * local: only addresses and paths): Prometheus, Alertmanager, Loki, Alloy, node-exporter,
 * postgres-exporter and redis_exporter; with an app it scrapes, a pod whose log file Alloy tails,
 * and the shop's PostgreSQL and Redis (the app's, on another node: they stay up). Twice, each time
 * all stopped at once and then all started again at once on their data directories:
 *
 * - a clean reboot: SIGTERM to every process, as the kubelet's graceful node shutdown sends it
 *   (SIGKILL after a 15 s grace);
 * - a power cut: SIGKILL to every process at once. (The processes die; the kernel's page cache
 *   does not, so what a process wrote but had not fsynced survives here, as it would not on a real
 *   power cut.)
 *
 * After each restart:
 * - every target is up again; the time from the start to every process ready and to all targets
 *   up is measured and reported (not asserted);
 * - nothing older than the stop is lost: every sample a query returned before the stop reads back
 *   (counted, over every stop so far); every log line Loki returned before the stop is there, and
 *   the lines the pod wrote while the node was down are shipped from Alloy's positions (what it
 *   read again counted: none after a clean stop, which saves them; duplicates in Loki's answers
 *   counted); the Watchdog, notified before, is not notified again as new.
 * - Silences: Alertmanager writes them to disk every `--data.maintenance-interval` (the render's
 *   `alertmanager.maintenanceInterval`, 1m by default; set to 10s here, so that the test waits one
 *   interval in seconds rather than a minute) and when it stops cleanly, not when one is set. After
 *   the clean reboot every silence is active. Before the power cut, one silence is set more than one
 *   interval before it, and another just after a write (Alertmanager's
 *   alertmanager_silences_maintenance_total counts them): after the cut the first is active (the
 *   bound: a power cut loses at most one interval), and the second is lost when no write came
 *   between it and the cut (counted; active had one come). What a single replica (staging's)
 *   loses; with peers, the others hold it (fault 5). The test fails if that changes either way,
 *   so that docs/operations.md's Faults row stays true.
 *
 * Left out, and why: kube-state-metrics (it lists and watches an API server: only the cluster
 * tier runs one here, and a node's restart leaves the API server, elsewhere, up); Grafana (no
 * binary can be built here); the config-reloader sidecar (it holds no data and is not scraped).
 */
import * as fs from "fs";
import * as path from "path";
import { containerArgs, objectOf } from "../../lab/local/rendered";
import { durationMilliseconds } from "../../components/kit/units";
import { httpGet, httpGetJson, metricsHandler, postJson } from "../../lab/local/http";
import { LOOPBACK } from "../../lab/ports";
import type { ManagedProcess } from "../../lab/processes/children";
import { renderedEndpoints } from "../../lab/local/prometheus";
import { LocalStack } from "../../lab/local/stack";
import { sleep, waitFor } from "../../lab/processes/supervision";
import { benchDatabases } from "../../lab/bench/deployed";
import { recordFault } from "../support/fault-report";
import { render } from "../support/render";
import { missing, samplesOf, seriesCount } from "./support/samples";

const APP = "checkout";
const NODE = "node-a";
const POD = { namespace: "shop-staging", pod: "checkout-0", uid: "7b1d2c3e-0000-4000-8000-000000000007", node: NODE, app: APP };
/** How often Alertmanager writes its silences here (alertmanager.maintenanceInterval; the default is 1m). */
const MAINTENANCE_INTERVAL = "10s";
/** Lines the pod writes before each stop, and while the node is down. */
const LINES_UP = 200;
const LINES_DOWN = 100;

interface Target {
  scrapePool: string;
  health: string;
  lastError: string;
  lastScrape: string;
  scrapeUrl: string;
}

/** How the node goes down. */
type Stop = "SIGTERM" | "SIGKILL";

describe("the node restarts: every process of the stack stopped at once and started again from its data (fault 7)", () => {
  const stack = new LocalStack<"app">("node-restart-", 10 * 60_000);
  let processes: ManagedProcess[] = [];
  let written = 0;
  let url = "";
  let configFile = "";
  /** The scrape pools every restart must bring up: the stack's processes and the app. */
  let pools: string[] = [];
  /**
   * The silences set so far, each before a stop, and when; `unwritten`: set within the last interval
   * before a power cut with no write of Alertmanager's between it and the cut (it cannot survive).
   */
  const silences: Array<{ id: string; at: number; unwritten?: boolean }> = [];
  /** Alertmanager's interval between writes of its silences, as rendered (milliseconds). */
  let intervalMs = 0;
  /** The Watchdog's messages at the dead man's switch. */
  let watchdogMessages = 0;
  /** What each restart lost and measured, by how the node went down. */
  const results: Array<{ stop: Stop; lost: Record<string, number>; figures: Record<string, string> }> = [];

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
  /** The lines Alloy's file source read since it started (loki.source.file's read_lines_total, every file). */
  async function alloyReadLines(): Promise<number> {
    const res = await httpGet(`${stack.url("alloy")}/metrics`, 10_000);
    if (res.status !== 200) throw new Error(`Alloy's metrics: HTTP ${res.status}`);
    return [...res.body.matchAll(/^loki_source_file_read_lines_total(?:\{[^}]*\})? (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  }
  const explain = () => `${stack.diagnostics(30)}\ntargets: ${JSON.stringify(lastTargets)}`;
  /** How many times Alertmanager has written its silences since it started (GC and snapshot: alertmanager_silences_maintenance_total). */
  async function silenceWrites(): Promise<number> {
    const res = await httpGet(`${stack.url("alertmanager")}/metrics`, 10_000);
    if (res.status !== 200) throw new Error(`Alertmanager's metrics: HTTP ${res.status}`);
    const m = /^alertmanager_silences_maintenance_total (\S+)$/m.exec(res.body);
    if (!m) throw new Error("Alertmanager's metrics have no alertmanager_silences_maintenance_total");
    return Number(m[1]);
  }
  /** Sets a silence on a name of its own; returns its id. */
  async function silence(name: string, comment: string): Promise<string> {
    const res = await postJson(`${stack.url("alertmanager")}/api/v2/silences`, {
      matchers: [{ name: "alertname", value: name, isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: "lab",
      comment,
    });
    expect(res.status).toBe(200);
    return (JSON.parse(res.body) as { silenceID: string }).silenceID;
  }

  /**
   * Every pool's first scrape that came back up after `since` (ms), polled (Prometheus may not
   * answer yet): resolves when all are up, with the seconds from `since` to then and to each one's
   * first up scrape seen.
   */
  async function allUp(what: string, since: number): Promise<{ seconds: number; firstUp: Record<string, number> }> {
    const firstUp: Record<string, number> = {};
    await stack.local.waitFor(
      what,
      async () => {
        const t = await targets().catch(() => []);
        for (const x of t) {
          const at = Date.parse(x.lastScrape);
          if (x.health === "up" && at > since && firstUp[x.scrapePool] === undefined) firstUp[x.scrapePool] = (at - since) / 1000;
        }
        const fresh = (x: Target) => x.health === "up" && Date.parse(x.lastScrape) > since;
        return pools.every((p) => t.some((x) => x.scrapePool === p)) && t.every(fresh) ? true : undefined;
      },
      90_000,
      250,
      explain,
    );
    return { seconds: (Date.now() - since) / 1000, firstUp };
  }

  /**
   * Every process of the stack, started at once (the database exporters: `exporters`, already started
   * at the first start); resolves when each is ready, with the seconds each took.
   */
  async function startAll(exporters = stack.startDatabaseExporters()): Promise<Record<string, number>> {
    const at = Date.now();
    const ready: Record<string, number> = {};
    const timed = <T>(name: string, p: Promise<T>) =>
      p.then((v) => {
        ready[name] = (Date.now() - at) / 1000;
        return v;
      });
    // Every process starts before any is waited for: all at once, as the kubelet starts a node's pods.
    const waiting = [
      timed("loki", stack.startLoki()),
      timed("alertmanager", stack.startAlertmanager()),
      timed("prometheus", stack.startPrometheus("prometheus", configFile, stack.ports.prometheus)),
    ];
    const others = [stack.startAlloy(NODE), stack.startNodeExporter(), exporters.postgresExporter, exporters.redisExporter];
    processes = [...(await Promise.all(waiting)), ...others];
    return ready;
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
      `alertmanager.maintenanceInterval=${MAINTENANCE_INTERVAL}`,
      ...stack.notificationSets(),
    ]);
    const flag = containerArgs(stack.rendered, "StatefulSet", "alertmanager").find((a) => a.startsWith("--data.maintenance-interval="));
    intervalMs = durationMilliseconds(flag?.split("=")[1] ?? "") ?? 0;
    expect(intervalMs).toBe(durationMilliseconds(MAINTENANCE_INTERVAL));
    url = stack.url("prometheus");
    await stack.serveSink((req) => {
      if (req.path === "/deadmans-switch") watchdogMessages++;
      return 204;
    });
    let scrapes = 0;
    await stack.local.serve(
      stack.ports.app,
      metricsHandler(() => `# TYPE lab_scrapes gauge\nlab_scrapes ${++scrapes}\n`, "/metrics"),
    );
    stack.writeLogTargets([{ ...POD, containers: [{ name: APP }] }], () => false);
    log(0);
    // The shop's databases (the app's, elsewhere: up throughout); their exporters are the stack's, restarted below.
    const exporters = await stack.startDatabases();
    // Prometheus scrapes what runs on the node: itself, Alertmanager, Loki, Alloy, node-exporter, the database exporters (and the app).
    const ns = objectOf(stack.rendered, "StatefulSet", "prometheus").metadata.namespace ?? "";
    const databases = benchDatabases(stack.rendered);
    const local = stack.stackEndpoints(ns, databases, (workload) => ({ pod: `${workload}-0`, node: NODE }));
    const running = ["prometheus/http", "alertmanager/http", "loki/http", "alloy/http-metrics", "node-exporter/metrics"];
    const endpoints = renderedEndpoints(
      stack.rendered,
      Object.fromEntries(
        Object.entries(local).filter(
          ([key]) => running.some((r) => key.endsWith(`/${r}`)) || databases.some((d) => key.endsWith(`/${d.name}-exporter/metrics`)),
        ),
      ),
    );
    stack.writePrometheusConfig({ endpoints, pod: [], node: [] }, { token: "lab-token", caCert: "" });
    configFile = path.join(stack.tmp, "prometheus.yml");
    pools = ["prometheus", "alertmanager", "loki", "alloy", "node-exporter", ...databases.map((d) => `${d.type}-exporter`), APP];
    await Promise.all([startAll(exporters), allUp("every target up", 0)]);
    await stack.local.waitFor(
      "the Watchdog at the dead man's switch",
      () => (watchdogMessages > 0 ? true : undefined),
      90_000,
      500,
      explain,
    );
  });

  /** Data written, the node stopped (`stop`) and started again: what was lost and how long it took. */
  async function restart(stop: Stop): Promise<void> {
    // A silence set now: more than one interval before the stop (waited for below, before the stop).
    const olderAt = Date.now();
    silences.push({ id: await silence(`LabNodeRestart${stop}`, `set before the node restarts (${stop})`), at: olderAt });
    log(LINES_UP);
    await stack.local.waitFor(
      "the pod's lines in Loki",
      async () => ((await lines()).size === written ? true : undefined),
      60_000,
      500,
      explain,
    );
    const watchdogBefore = watchdogMessages;
    // What the stack acknowledged: Loki's lines, every sample a query returns (since the first start).
    const linesBefore = await lines();
    const queriedAt = Date.now() / 1000;
    const samplesBefore = await samplesOf(url, '{__name__=~".+"}', "1h", queriedAt);

    // The first silence now more than one interval old: Alertmanager has written it since.
    await sleep(Math.max(0, olderAt + intervalMs + 1_000 - Date.now()));
    // Another just after a write of Alertmanager's (within the next interval, or none seen: set anyway),
    // then the stop at once; whether a write came between them is read just before it.
    const writes = await silenceWrites();
    await waitFor(
      "Alertmanager's next write of its silences",
      async () => ((await silenceWrites()) > writes ? true : undefined),
      intervalMs + 5_000,
      100,
    ).catch(() => undefined);
    const recent = {
      id: await silence(`LabNodeRestartRecent${stop}`, `set within the last interval before the stop (${stop})`),
      at: Date.now(),
    };
    const writesAtSet = await silenceWrites();
    const writesAtStop = await silenceWrites();
    // A clean stop writes the silences to disk (Alertmanager's shutdown snapshot); a kill does not.
    silences.push({ ...recent, unwritten: stop === "SIGKILL" && writesAtStop === writesAtSet });

    // The node goes down: every process stopped at once. The pod logs on meanwhile (it is not this stack's).
    const stopAt = Date.now();
    await Promise.all(processes.map((p) => (stop === "SIGKILL" ? p.kill() : p.stop())));
    const stopSeconds = (Date.now() - stopAt) / 1000;
    log(LINES_DOWN);
    const writtenBeforeStart = written;

    // Up again: every process at once, from its data.
    const startAt = Date.now();
    const [ready, { seconds: allUpSeconds, firstUp }] = await Promise.all([
      startAll(),
      allUp(`every target up after the restart (${stop})`, startAt),
    ]);

    const samplesAfter = await samplesOf(url, '{__name__=~".+"}', "1h", queriedAt);
    const lostSamples = missing(samplesBefore, samplesAfter);
    // The lines written while the node was down, shipped; what Loki held before is compared below.
    const whileDown = Array.from({ length: LINES_DOWN }, (_, i) => writtenBeforeStart - i);
    await stack.local.waitFor(
      "the lines written while the node was down, shipped",
      async () => {
        const now = await lines();
        return whileDown.every((seq) => now.has(seq)) ? true : undefined;
      },
      60_000,
      500,
      explain,
    );
    const linesAfter = await lines();
    // What Alloy read again: it read the lines written while down (and no more were written); beyond those, lines it had shipped.
    const readAgain = (await alloyReadLines()) - LINES_DOWN;
    const lostLines = [...linesBefore.keys()].filter((seq) => !linesAfter.has(seq));
    const duplicates = [...linesAfter.values()].reduce((n, c) => n + c - 1, 0);
    const active = await httpGetJson<Array<{ id: string; status: { state: string } }>>(`${stack.url("alertmanager")}/api/v2/silences`);
    const lost = (set: typeof silences) => set.filter((x) => !active.some((s) => s.id === x.id && s.status.state === "active")).length;
    // Set more than one interval before the stop (every silence of an earlier stop, this stop's first), and within it.
    const older = silences.filter((x) => x.at + intervalMs < stopAt);
    const within = silences.filter((x) => x.at + intervalMs >= stopAt);
    const unwritten = silences.filter((x) => x.unwritten);
    // The Watchdog, sent again by the new Prometheus (its route waits 0 s): a new message would be out by now.
    await stack.local.waitFor(
      "the Watchdog sent to Alertmanager by the restarted Prometheus",
      async () => {
        const alerts = await httpGetJson<Array<{ updatedAt: string }>>(
          `${stack.url("alertmanager")}/api/v2/alerts?filter=${encodeURIComponent('alertname="Watchdog"')}`,
        ).catch(() => []);
        return alerts.some((a) => Date.parse(a.updatedAt) >= startAt) ? true : undefined;
      },
      60_000,
      500,
      explain,
    );
    await sleep(3_000);
    const duplicateNotifications = watchdogMessages - watchdogBefore;
    const seconds = (s: number) => `${s.toFixed(1)} s`;

    results.push({
      stop,
      lost: {
        samples: lostSamples.length,
        "log lines": lostLines.length,
        "silences set more than one interval before the stop": lost(older),
        "silences set within the last interval": lost(within),
        "duplicate notifications": duplicateNotifications,
      },
      figures: {
        stopped: `${processes.length} processes (${processes.map((p) => p.name).join(", ")}) in ${seconds(stopSeconds)}`,
        "start to ready (/-/ready, Loki's /ready)": Object.entries(ready)
          .map(([name, s]) => `${name} ${seconds(s)}`)
          .join(", "),
        "start to all targets up": `${seconds(allUpSeconds)} (${pools.length} pools; first up scrape seen: ${Object.entries(firstUp)
          .sort(([, a], [, b]) => a - b)
          .map(([pool, s]) => `${pool} ${seconds(s)}`)
          .join(", ")})`,
        "samples read back": `${samplesBefore.size} in ${seriesCount(samplesBefore)} series`,
        "log lines": `${linesBefore.size} in Loki before the stop, ${writtenBeforeStart - linesBefore.size} written while down, ${linesAfter.size} there after; ${duplicates} duplicates in Loki's answers; ${readAgain} read again by Alloy`,
        silences: `${silences.length - lost(silences)} of ${silences.length} active (written every ${MAINTENANCE_INTERVAL}; ${within.length} set within the last interval, ${(stopAt - recent.at) / 1000} s before the stop, ${writesAtStop === writesAtSet ? "no" : "a"} write between)`,
        "Watchdog messages": `${watchdogBefore} before the stop, ${watchdogMessages} after the restart`,
      },
    });
    // Both ways recorded as one fault, whichever ran (a failure below still leaves its figures).
    recordFault({
      fault: "7. The node restarts: every process stopped at once, started again from its data",
      test: "test/e2e/node-restart.test.ts",
      lost: Object.fromEntries(results.flatMap((r) => Object.entries(r.lost).map(([k, v]) => [`${k} (${r.stop})`, v]))),
      figures: Object.fromEntries(results.flatMap((r) => Object.entries(r.figures).map(([k, v]) => [`${r.stop}: ${k}`, v]))),
    });

    expect({ count: lostSamples.length, first: lostSamples.slice(0, 3) }).toEqual({ count: 0, first: [] });
    expect(seriesCount(samplesBefore)).toBeGreaterThan(1000);
    expect({ count: lostLines.length, first: lostLines.slice(0, 3) }).toEqual({ count: 0, first: [] });
    expect(linesBefore.size).toBe(writtenBeforeStart - LINES_DOWN);
    expect([...linesAfter.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: writtenBeforeStart }, (_, i) => i + 1));
    // Alloy resumes from its positions: a clean stop saves them; a kill loses what it read since their last save (read again, counted).
    if (stop === "SIGTERM") expect(readAgain).toBe(0);
    expect(readAgain).toBeGreaterThanOrEqual(0);
    // The bound: every silence set more than one interval before the stop holds, clean or not.
    expect({ lost: lost(older), set: older.length > 0 }).toEqual({ lost: 0, set: true });
    // Within the last interval: a clean stop keeps them; a kill, those a write came after (see the header).
    expect({ lost: lost(within), set: within.length > 0 }).toEqual({ lost: stop === "SIGTERM" ? 0 : unwritten.length, set: true });
    expect(lost(unwritten)).toBe(unwritten.length);
    if (stop === "SIGKILL") expect(unwritten).toHaveLength(1);
    expect(duplicateNotifications).toBe(0);
    expect(fs.existsSync(path.join(stack.tmp, "prometheus-data", "wal"))).toBe(true);
  }

  test("a clean reboot (SIGTERM to every process at once): all targets up again, nothing older than the stop lost", () =>
    restart("SIGTERM"));

  // After the clean reboot, in this order: its shutdown snapshot is what the power cut must keep.
  test("a power cut (SIGKILL to every process at once): all targets up again, no sample or line older than either stop lost, no silence older than one interval, only one set since Alertmanager's last write", () =>
    restart("SIGKILL"));
});
