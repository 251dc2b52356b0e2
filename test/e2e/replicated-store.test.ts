/**
 * The replicated metrics store of docs/operations.md ("A replicated store without cluster binaries"), on the exact
 * binaries: the configuration is read from that page's blocks and run as written there (only hosts, ports and paths are
 * this test's), so that the page cannot drift from what is proven.
 *
 * The real Prometheus, two replicas (production's render on two nodes: each its `replica` external label, its
 * prometheus.yml's global section and the page's `remote_write` as rendered; its scrape jobs replaced by one of
 * prometheus-0 every second, the same series from both, so that no API server is needed) writes to the real vmagent, which writes to two real VictoriaMetrics (vm-a, vm-b; v1.151.0, the
 * single-node server) with one on-disk queue each; the real vmauth reads them `first_available`.
 *
 * - vm-a, vmauth's first, is stopped for OUTAGE_MS (150 s: longer than two minutes and than the 63 s vmagent's retry
 *   delay takes to reach its 1-minute cap) while the writes go on: vm-b holds every sample Prometheus holds, series by
 *   series; reads through vmauth answer the whole range while vm-a is away. vmagent itself is restarted mid-outage
 *   (SIGTERM): it starts again with its queue for vm-a from disk.
 * - vm-a started again: vmagent's queue for it drains (its pending bytes back to 0) and vm-a then holds the same
 *   samples as vm-b and as Prometheus, the outage's among them: none lost.
 * - The store's series carry no `replica` (vmagent's relabelling of the page) and keep environment and cluster; each
 *   holds the two replicas' samples deduplicated as `-dedup.minScrapeInterval` documents: one per interval.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { stackBinary } from "../../lab/local/binaries";
import { getOk, httpGet, isReady } from "../../lab/local/http";
import { LOOPBACK, freePorts } from "../../lab/ports";
import type { ManagedProcess } from "../../lab/processes/children";
import { sleep } from "../../lab/processes/supervision";
import { layOutContainer, localPrometheusArgs, rerooted } from "../../lab/local/prometheus";
import { containerArgs } from "../../lab/local/rendered";
import { WEB_CONFIG_FILE } from "../../components/kit/web";
import { metricValues, sum } from "../../lab/local/text-format";
import { render } from "../support/render";
import { timeScale } from "../time-scale";
import { localRun } from "./support/local-run";

/** How long vm-a is away: more than two minutes, and more than vmagent's retry delay takes to reach its cap (63 s). */
const OUTAGE_MS = 150_000;
/** Prometheus' self-scrape interval here, and so the page's `-dedup.minScrapeInterval` (the scrape interval). */
const SCRAPE_INTERVAL_MS = 1000;
const CLUSTER = "lab-1";
/**
 * How far a stored value may be from the one written, relative to it: the store keeps a value as a decimal of at most
 * 64 bits, converted to within 1e-12 of it (VictoriaMetrics' lib/decimal, conversionPrecision), and gives it back as a
 * float64, rounded once more. Its own conversion of 1.6 million growing sums came back up to 1.0003e-12 away.
 */
const STORE_PRECISION = 2e-12;

// Startup (about 30 s), 20 s of writes, the outage, the drain (vmagent's next retry: at most a minute), the comparisons.
jest.setTimeout((OUTAGE_MS + 300_000) * timeScale());

const ROOT = path.join(__dirname, "..", "..");
const SECTION_START = "**A replicated store without cluster binaries.**";

/** The page's configuration: each program's arguments, vmagent's relabelling, vmauth's file and the stack's remoteWrite. */
interface PageConfiguration {
  args: Record<"victoria-metrics" | "vmagent" | "vmauth", string[]>;
  relabel: string;
  auth: string;
  remoteWrite: Array<{ name: string; url: string }>;
}

/** The fenced blocks of the page's section, as written: commands (continuations joined, comments left out) and YAML. */
function pageConfiguration(): PageConfiguration {
  const page = fs.readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");
  const start = page.indexOf(SECTION_START);
  if (start < 0) throw new Error(`docs/operations.md has no ${SECTION_START}`);
  const section = page.slice(start, page.indexOf("**Logs.**", start));
  const blocks = [...section.matchAll(/```(sh|yaml)\n([\s\S]*?)```/g)].map((m) => ({ kind: m[1], text: m[2] }));
  const args: Partial<PageConfiguration["args"]> = {};
  for (const block of blocks.filter((b) => b.kind === "sh")) {
    const lines = block.text
      .replace(/\\\n\s*/g, " ")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
    for (const line of lines) {
      const [binary, ...rest] = line.trim().split(/\s+/);
      if (binary !== "victoria-metrics" && binary !== "vmagent" && binary !== "vmauth")
        throw new Error(`unknown command in the page: ${line}`);
      args[binary] = rest;
    }
  }
  const yamls = blocks.filter((b) => b.kind === "yaml").map((b) => b.text);
  const relabel = yamls.find((y) => /^\s*-\s*action:/m.test(y));
  const auth = yamls.find((y) => /^unauthorized_user:/m.test(y));
  const stack = yamls.find((y) => /^monitoring:prometheus:/m.test(y));
  if (!args["victoria-metrics"] || !args.vmagent || !args.vmauth || !relabel || !auth || !stack)
    throw new Error(`docs/operations.md's section lacks a block: ${JSON.stringify({ args, relabel, auth, stack })}`);
  const remoteWrite = (YAML.parse(stack) as { "monitoring:prometheus": { remoteWrite: Array<{ name: string; url: string }> } })[
    "monitoring:prometheus"
  ].remoteWrite;
  return { args: args as PageConfiguration["args"], relabel, auth, remoteWrite };
}

/**
 * Replaces the page's hosts, ports and paths by this test's, each of which must occur (a page that renames one fails
 * here, not silently later); anything else of the page is kept as it is.
 */
function localized(text: string, replacements: Array<[string, string]>): string {
  let out = text;
  for (const [from, to] of replacements) out = out.split(from).join(to);
  return out;
}

/** One series' raw samples, [milliseconds, value], by its labels without environment and cluster. */
type SeriesSamples = Map<string, Array<[number, number]>>;

const labelKey = (labels: Record<string, string>) =>
  JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== "environment" && k !== "cluster")
      .sort(([a], [b]) => a.localeCompare(b)),
  );

/**
 * VictoriaMetrics' deduplication as its documentation states it (`-dedup.minScrapeInterval`): of the samples of a
 * series in each interval ((k-1)·d, k·d], the one with the biggest timestamp is kept. Applied to Prometheus' own
 * samples, it is what a store with that flag holds of them.
 */
function deduplicated(samples: Array<[number, number]>, intervalMs: number): Array<[number, number]> {
  const byBucket = new Map<number, [number, number]>();
  for (const s of samples) {
    const bucket = Math.ceil(s[0] / intervalMs);
    const kept = byBucket.get(bucket);
    if (!kept || s[0] > kept[0] || (s[0] === kept[0] && s[1] > kept[1])) byBucket.set(bucket, s);
  }
  return [...byBucket.values()].sort((a, b) => a[0] - b[0]);
}

describe("the replicated store of docs/operations.md: Prometheus, vmagent, two VictoriaMetrics and vmauth through an outage", () => {
  const run = localRun();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "replicated-store-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const page = pageConfiguration();
  let ports: { a: number; b: number; agent: number; auth: number; prom: number; prom1: number };
  const vms: Partial<Record<"a" | "b", ManagedProcess>> = {};
  let started = 0;
  let dedupRemoved = 0;
  let replicaSamples: number[] = [];
  const url = (port: number) => `http://${LOOPBACK}:${port}`;
  /** The two Prometheus replicas (prometheus-0, prometheus-1), both scraping prometheus-0 every second. */
  const proms = () => [url(ports.prom), url(ports.prom1)];

  /** The page's hosts, ports and paths, each with this test's: every one must be in the page's arguments of its program. */
  function substitutions(binary: keyof PageConfiguration["args"] | "auth", instance?: "a" | "b"): Array<[string, string]> {
    switch (binary) {
      case "victoria-metrics":
        if (!instance) throw new Error("an instance of VictoriaMetrics is vm-a or vm-b");
        return [
          ["-httpListenAddr=:8428", `-httpListenAddr=${LOOPBACK}:${ports[instance]}`],
          ["-storageDataPath=/storage", `-storageDataPath=${path.join(dir, `vm-${instance}`)}`],
          // The scrape interval: this test's Prometheus scrapes every second.
          ["-dedup.minScrapeInterval=15s", `-dedup.minScrapeInterval=${SCRAPE_INTERVAL_MS / 1000}s`],
        ];
      case "vmagent":
        return [
          ["-httpListenAddr=:8429", `-httpListenAddr=${LOOPBACK}:${ports.agent}`],
          ["-remoteWrite.tmpDataPath=/queue", `-remoteWrite.tmpDataPath=${path.join(dir, "queue")}`],
          ["/etc/vmagent/relabel.yml", path.join(dir, "relabel.yml")],
          ["http://vm-a:8428", url(ports.a)],
          ["http://vm-b:8428", url(ports.b)],
        ];
      case "vmauth":
        return [
          ["-httpListenAddr=:8427", `-httpListenAddr=${LOOPBACK}:${ports.auth}`],
          ["/etc/vmauth/auth.yml", path.join(dir, "auth.yml")],
        ];
      case "auth":
        return [
          ["http://vm-a:8428", url(ports.a)],
          ["http://vm-b:8428", url(ports.b)],
        ];
    }
  }

  /** The page's text of one program (its arguments, or vmauth's file) with this test's hosts, ports and paths. */
  function localizedText(binary: keyof PageConfiguration["args"] | "auth", instance?: "a" | "b"): string {
    const text = binary === "auth" ? page.auth : page.args[binary].join("\n");
    const pairs = substitutions(binary, instance);
    const absent = pairs.filter(([from]) => !text.includes(from)).map(([from]) => from);
    if (absent.length > 0) throw new Error(`docs/operations.md: ${binary}'s configuration has no ${absent.join(", ")}`);
    return localized(text, pairs);
  }
  const argsOf = (binary: keyof PageConfiguration["args"], instance?: "a" | "b") => localizedText(binary, instance).split("\n");

  const startVm = async (instance: "a" | "b") => {
    vms[instance] = run.start(`victoria-metrics (vm-${instance})`, stackBinary("victoria-metrics"), argsOf("victoria-metrics", instance));
    await run.waitFor(
      `vm-${instance} ready`,
      async () => ((await httpGet(`${url(ports[instance])}/health`).catch(() => undefined))?.status === 200 ? true : undefined),
      60_000,
      250,
    );
  };

  let agent: ManagedProcess | undefined;
  const startAgent = async () => {
    agent = run.start("vmagent", stackBinary("vmagent"), argsOf("vmagent"));
    await run.waitFor(
      "vmagent ready",
      async () => ((await httpGet(`${url(ports.agent)}/health`).catch(() => undefined))?.status === 200 ? true : undefined),
      60_000,
      250,
    );
  };

  /** vmagent's pending bytes (memory and disk queue) for its n-th -remoteWrite.url, and its retries of it. */
  async function agentQueue(n: number): Promise<{ pending: number; retries: number; errors: number; dropped: number }> {
    const text = await getOk(`${url(ports.agent)}/metrics`);
    const of = (name: string) =>
      sum(
        text
          .split("\n")
          .filter((l) => l.startsWith(`${name}{`) && l.includes(`url="${n}:secret-url"`))
          .map((l) => Number(l.slice(l.lastIndexOf(" ") + 1))),
      );
    return {
      pending: of("vmagent_remotewrite_pending_data_bytes"),
      retries: of("vmagent_remotewrite_retries_count_total"),
      errors: of("vmagent_remotewrite_errors_total"),
      dropped: of("vmagent_remotewrite_packets_dropped_total"),
    };
  }

  /** A Prometheus replica's remote-write queue, from its own /metrics. */
  async function promQueue(base: string): Promise<{ failed: number; pending: number; highestSent: number }> {
    const text = await getOk(`${base}/metrics`);
    const one = (name: string) => sum(metricValues(text, name));
    return {
      failed: one("prometheus_remote_storage_samples_failed_total"),
      pending: one("prometheus_remote_storage_samples_pending"),
      highestSent: one("prometheus_remote_storage_queue_highest_sent_timestamp_seconds"),
    };
  }

  /**
   * The two replicas' own raw samples of job "prometheus" in (from, to], by series: the same series from each (both
   * scrape prometheus-0), put together and deduplicated as the store's flag does. What the store must hold.
   */
  async function prometheusSamples(from: number, to: number): Promise<SeriesSamples> {
    const query = encodeURIComponent(`{job="prometheus"}[${Math.ceil((to - from) / 1000)}s]`);
    const union: SeriesSamples = new Map();
    replicaSamples = [];
    for (const base of proms()) {
      const reply = JSON.parse(await getOk(`${base}/api/v1/query?query=${query}&time=${to / 1000}`, 30_000)) as {
        data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
      };
      let count = 0;
      for (const r of reply.data.result) {
        // VictoriaMetrics keeps no NaN sample (a summary's quantile before any observation): not compared.
        const raw = r.values
          .map(([t, v]): [number, number] => [Math.round(t * 1000), Number(v)])
          .filter(([t, v]) => t > from && t <= to && !Number.isNaN(v));
        count += raw.length;
        const key = labelKey(r.metric);
        if (raw.length > 0) union.set(key, [...(union.get(key) ?? []), ...raw]);
      }
      replicaSamples.push(count);
    }
    const out: SeriesSamples = new Map();
    dedupRemoved = 0;
    for (const [key, raw] of union) {
      const samples = deduplicated(raw, SCRAPE_INTERVAL_MS);
      dedupRemoved += raw.length - samples.length;
      out.set(key, samples);
    }
    return out;
  }

  /** A store's raw samples of job "prometheus" in (from, to] (its export API, at `base`), and the label names it has. */
  async function storeSamples(base: string, from: number, to: number): Promise<{ series: SeriesSamples; labels: Set<string> }> {
    const reply = await httpGet(
      `${base}/api/v1/export?match[]=${encodeURIComponent('{job="prometheus"}')}&start=${from / 1000}&end=${to / 1000}`,
      30_000,
    );
    if (reply.status !== 200) throw new Error(`${base} export: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
    const series: SeriesSamples = new Map();
    const labels = new Set<string>();
    for (const line of reply.body.split("\n").filter((l) => l.trim() !== "")) {
      const row = JSON.parse(line) as { metric: Record<string, string>; values: Array<number | null>; timestamps: number[] };
      Object.keys(row.metric).forEach((k) => labels.add(k));
      const samples = row.timestamps
        .map((t, i): [number, number | null] => [t, row.values[i]])
        .filter((s): s is [number, number] => s[1] !== null && Number.isFinite(s[1]) && s[0] > from && s[0] <= to);
      const key = labelKey(row.metric);
      if (samples.length > 0) series.set(key, [...(series.get(key) ?? []), ...samples]);
    }
    for (const [key, samples] of series)
      series.set(
        key,
        [...new Map(samples.map((s) => [s[0], s])).values()].sort((a, b) => a[0] - b[0]),
      );
    return { series, labels };
  }

  /** What `theirs` lacks or holds otherwise of `ours`: series, samples, and the total of ours. */
  function difference(ours: SeriesSamples, theirs: SeriesSamples) {
    const missingSeries = [...ours.keys()].filter((k) => !theirs.has(k));
    const extraSeries = [...theirs.keys()].filter((k) => !ours.has(k));
    let written = 0;
    let lost = 0;
    const differing: string[] = [];
    for (const [key, mine] of ours) {
      written += mine.length;
      const stored = new Map((theirs.get(key) ?? []).map(([t, v]) => [t, v]));
      const missing = mine.filter(([t]) => !stored.has(t));
      lost += missing.length;
      const unequal = mine.filter(
        ([t, v]) => stored.has(t) && Math.abs(v - (stored.get(t) ?? NaN)) > STORE_PRECISION * Math.max(Math.abs(v), 1),
      );
      const more = (theirs.get(key)?.length ?? 0) - (mine.length - missing.length);
      if (missing.length > 0 || unequal.length > 0 || more !== 0)
        differing.push(
          `${key}: ${missing.length} missing, ${unequal.length} unequal, ${more} more (first missing ${JSON.stringify(missing.slice(0, 2))})`,
        );
    }
    return { missingSeries, extraSeries, differing, written, lost, series: ours.size };
  }

  /** difference() once the store shows what it took (a write is searchable within a second or two): tried for up to 20 s. */
  async function settled(base: string, fromMs: number, toMs: number, against?: string) {
    // Both ends on a deduplication interval's end: an interval cut by the range would keep, in the store, a sample
    // outside it (the later one) and, in Prometheus' samples, the earlier one inside it.
    const from = fromMs - (fromMs % SCRAPE_INTERVAL_MS);
    const to = toMs - (toMs % SCRAPE_INTERVAL_MS);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ours = against ? (await storeSamples(against, from, to)).series : await prometheusSamples(from, to);
      const { series: theirs, labels } = await storeSamples(base, from, to);
      const result = { ...difference(ours, theirs), labels };
      const same = result.missingSeries.length === 0 && result.extraSeries.length === 0 && result.differing.length === 0;
      if (same || Date.now() > deadline) return result;
      await sleep(1000);
    }
  }

  const equal = (r: Awaited<ReturnType<typeof settled>>) => ({
    missingSeries: r.missingSeries.slice(0, 3),
    extraSeries: r.extraSeries.slice(0, 3),
    differing: r.differing.slice(0, 3),
    lost: r.lost,
  });
  const NOTHING_APART = { missingSeries: [], extraSeries: [], differing: [], lost: 0 };

  /**
   * Waits until Prometheus has sent its samples up to `until` (ms) to vmagent (its highest sent timestamp: its queue is
   * rarely empty, a batch waits up to the rendered 5 s batchSendDeadline); settled() waits out the rest.
   */
  const promCaughtUp = (until: number) =>
    run.waitFor(
      `both replicas' remote write caught up to ${new Date(until).toISOString()}`,
      async () => {
        const qs = await Promise.all(proms().map(promQueue));
        return qs.every((q) => q.highestSent * 1000 >= until) ? { failed: sum(qs.map((q) => q.failed)) } : undefined;
      },
      90_000,
      500,
    );

  beforeAll(async () => {
    const [a, b, agent, auth, promPort, prom1Port] = await freePorts(6);
    ports = { a, b, agent, auth, prom: promPort, prom1: prom1Port };
    fs.writeFileSync(path.join(dir, "relabel.yml"), page.relabel);
    fs.writeFileSync(path.join(dir, "auth.yml"), localizedText("auth"));
    await Promise.all([startVm("a"), startVm("b")]);
    await startAgent();
    run.start("vmauth", stackBinary("vmauth"), argsOf("vmauth"));
    await run.waitFor(
      "vmauth ready",
      async () => ((await httpGet(`${url(ports.auth)}/health`).catch(() => undefined))?.status === 200 ? true : undefined),
      60_000,
      250,
    );

    // Production's render on two nodes (two replicas: the `replica` external label), with the page's remoteWrite, the agent's host ours.
    const remoteWrite = page.remoteWrite.map((w) => ({
      ...w,
      url: w.url.replace("http://vmagent.<namespace>.svc:8429", url(ports.agent)),
    }));
    const rendered = await render("production", [
      "nodes=2",
      `prometheus.externalLabels={cluster: ${CLUSTER}}`,
      `prometheus.remoteWrite=${JSON.stringify(remoteWrite)}`,
    ]);
    const root = path.join(dir, "root");
    layOutContainer(rendered, root);
    const config = rerooted(rendered.files.get("prometheus/prometheus.yml") ?? "", root) as unknown as Record<string, unknown>;
    const global = config.global as { external_labels: Record<string, string> };
    expect(global.external_labels).toEqual(
      expect.objectContaining({ replica: expect.any(String), environment: "production", cluster: CLUSTER }),
    );
    expect(config.remote_write).toEqual([expect.objectContaining({ name: "replicated", url: `${url(ports.agent)}/api/v1/write` })]);
    config.scrape_configs = [
      {
        job_name: "prometheus",
        scrape_interval: `${SCRAPE_INTERVAL_MS / 1000}s`,
        static_configs: [{ targets: [`${LOOPBACK}:${ports.prom}`] }],
      },
    ];
    config.rule_files = [];
    delete config.alerting;
    const configFile = path.join(dir, "prometheus.yml");
    fs.writeFileSync(configFile, YAML.stringify(config));
    // Both replicas with the same rendered args and config, each its own port and data, named by POD_NAME as the
    // downward API names them: the same series (prometheus-0's) from each, with its own `replica`.
    await Promise.all(
      (["prom", "prom1"] as const).map(async (which, i) => {
        const args = localPrometheusArgs(
          containerArgs(rendered, "StatefulSet", "prometheus"),
          rendered.files.get(`prometheus/${WEB_CONFIG_FILE}`),
          { config: configFile, data: path.join(dir, `prometheus-${i}-data`), port: ports[which], dir },
        );
        run.start(`prometheus-${i}`, stackBinary("prometheus"), args, { env: { POD_NAME: `prometheus-${i}` } });
        await run.waitFor(`prometheus-${i} ready`, () => isReady(url(ports[which])), 60_000, 500);
      }),
    );
    started = Date.now();
  });

  test("the page's configuration is what runs: two -remoteWrite.url with a disk queue, first_available, replica dropped", () => {
    expect(page.args.vmagent.filter((a) => a.startsWith("-remoteWrite.url="))).toEqual([
      "-remoteWrite.url=http://vm-a:8428/api/v1/write",
      "-remoteWrite.url=http://vm-b:8428/api/v1/write",
    ]);
    expect(page.args.vmagent).toEqual(expect.arrayContaining(["-remoteWrite.tmpDataPath=/queue"]));
    expect(YAML.parse(page.auth)).toEqual({
      unauthorized_user: { url_prefix: ["http://vm-a:8428/", "http://vm-b:8428/"], load_balancing_policy: "first_available" },
    });
    expect(YAML.parse(page.relabel)).toEqual([{ action: "labeldrop", regex: "replica" }]);
  });

  test("vm-a away for 150 s: vm-b holds every sample, reads through vmauth answer the whole range; back, vm-a gets the outage from vmagent's queue", async () => {
    await sleep(20_000);
    const vmauth = url(ports.auth);
    // Before: both instances and vmauth hold what Prometheus holds.
    let to = Date.now() - 5_000;
    await promCaughtUp(to);
    for (const base of [url(ports.a), url(ports.b), vmauth]) expect(equal(await settled(base, started, to))).toEqual(NOTHING_APART);

    const stoppedAt = Date.now();
    await vms.a?.stop();
    // While vm-a is away, every 30 s: vmagent queues for it, vm-b and reads through vmauth have the whole range.
    const reads: string[] = [];
    const agentRestart = { at: 0, onDisk: 0, pendingAfter: 0 };
    let queued = { pending: 0, retries: 0, errors: 0, dropped: 0 };
    let queueOnDisk = 0;
    while (Date.now() - stoppedAt < OUTAGE_MS - 30_000) {
      await sleep(Math.min(30_000, OUTAGE_MS - 30_000 - (Date.now() - stoppedAt)));
      to = Date.now() - 5_000;
      await promCaughtUp(to);
      const survivor = await settled(url(ports.b), started, to);
      expect(equal(survivor)).toEqual(NOTHING_APART);
      const read = await settled(vmauth, started, to);
      expect(equal(read)).toEqual(NOTHING_APART);
      reads.push(`${Math.round((Date.now() - stoppedAt) / 1000)} s: ${read.written} samples`);
      queued = await agentQueue(1);
      if (reads.length === 2) {
        // vmagent itself restarted mid-outage (SIGTERM, as a rollout would): its queue for vm-a is on disk, and the
        // new vmagent starts with it (Prometheus keeps what it could not send meanwhile in its WAL and retries).
        await agent?.stop();
        agentRestart.onDisk = diskUsage(path.join(dir, "queue"));
        await startAgent();
        agentRestart.pendingAfter = (await agentQueue(1)).pending;
        expect(agentRestart.pendingAfter).toBeGreaterThan(0);
        agentRestart.at = Date.now() - stoppedAt;
      }
    }
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
    queued = await agentQueue(1);
    queueOnDisk = diskUsage(path.join(dir, "queue"));
    expect(queued.pending).toBeGreaterThan(0);
    // Counted by the vmagent started mid-outage: its retries of vm-a, and no block dropped.
    expect(queued.retries).toBeGreaterThan(0);
    expect(queued.dropped).toBe(0);

    const restartedAt = Date.now();
    await startVm("a");
    const back = Date.now();
    // Between the return and the drain, reads through vmauth go to vm-a again (once vmauth's 3 s -failTimeout is over)
    // while vm-a lacks the outage: the gap the page warns of. Read every second until the queue is empty.
    const count = (series: SeriesSamples) => [...series.values()].reduce((n, s) => n + s.length, 0);
    const windowReads: Array<{ at: number; samples: number }> = [];
    const drained = await run.waitFor(
      "vmagent's queue for vm-a drained",
      async () => {
        if ((await agentQueue(1)).pending === 0) return Date.now();
        windowReads.push({ at: Date.now() - restartedAt, samples: count((await storeSamples(vmauth, stoppedAt, restartedAt)).series) });
        await sleep(1000);
        return undefined;
      },
      120_000,
      250,
    );
    to = Date.now() - 5_000;
    const promQ = await promCaughtUp(to);
    expect(promQ.failed).toBe(0);
    const survivor = await settled(url(ports.b), started, to);
    expect(equal(survivor)).toEqual(NOTHING_APART);
    const returned = await settled(url(ports.a), started, to);
    expect(equal(returned)).toEqual(NOTHING_APART);
    const same = await settled(url(ports.a), started, to, url(ports.b));
    expect(equal(same)).toEqual(NOTHING_APART);
    const outage = await settled(url(ports.a), stoppedAt, restartedAt);
    expect(equal(outage)).toEqual(NOTHING_APART);
    expect(outage.written).toBeGreaterThan(outage.series * ((OUTAGE_MS / SCRAPE_INTERVAL_MS) * 0.8));
    // The store's series carry environment and cluster, never replica.
    expect(returned.labels.has("replica")).toBe(false);
    expect(survivor.labels.has("replica")).toBe(false);
    expect([...survivor.labels].filter((l) => l === "environment" || l === "cluster").sort()).toEqual(["cluster", "environment"]);
    // The gap was seen through vmauth before the drain, and is gone after it.
    const gapReads = windowReads.filter((r) => r.samples < outage.written);
    expect(gapReads.length).toBeGreaterThan(0);
    expect(equal(await settled(vmauth, started, to))).toEqual(NOTHING_APART);
    console.log(
      `replicated store: outage ${Math.round((restartedAt - stoppedAt) / 1000)} s; ${survivor.series} series, ${survivor.written} samples written, ` +
        `lost on vm-b ${survivor.lost}, on vm-a after the drain ${returned.lost}; the outage's ${outage.written} samples on vm-a; ` +
        `vmagent restarted ${Math.round(agentRestart.at / 1000)} s into the outage with ${agentRestart.onDisk} bytes in its queue's folder, ${agentRestart.pendingAfter} pending once started; ` +
        `its queue for vm-a at the return ${queued.pending} bytes pending (${queueOnDisk} bytes in its folder), ${queued.retries} retries since its restart, ` +
        `${queued.dropped} blocks dropped; vm-a ready ${Math.round((back - restartedAt) / 1000)} s after its start, queue drained ${((drained - restartedAt) / 1000).toFixed(1)} s after; ` +
        `reads through vmauth during the outage: ${reads.join(", ")}; between the return and the drain ${windowReads.length} reads through vmauth, ${gapReads.length} with a gap ` +
        `(from ${((gapReads[0]?.at ?? 0) / 1000).toFixed(1)} s to ${((gapReads[gapReads.length - 1]?.at ?? 0) / 1000).toFixed(1)} s, at least ` +
        `${Math.min(...windowReads.map((r) => r.samples))} of the outage's ${outage.written} samples); ` +
        `the replicas' own samples ${replicaSamples.join(" and ")}, ${dedupRemoved} of them a second one in a dedup interval`,
    );
  });
});

/** The bytes of the files under a folder. */
function diskUsage(folder: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    total += entry.isDirectory() ? diskUsage(full) : fs.statSync(full).size;
  }
  return total;
}
