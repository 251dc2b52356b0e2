/**
 * Remote write to a real store, on the exact binaries: the real Prometheus (the staging render's args, its
 * prometheus.yml's global section and remote_write as rendered, the remote write's files laid out as the container
 * sees them; its scrape jobs replaced by one of itself every second, so that no API server is needed) sends to the real
 * VictoriaMetrics (tools/victoriametrics: the single-node server of v1.151.0, over TLS with basic auth, both checked).
 * An end-to-end test, not the live lab's: only binaries on 127.0.0.1, no cluster and no lab data.
 *
 * - The series read back from the store (its export API, raw samples) equal Prometheus' own over the same range,
 *   sample for sample, with the stack's external labels (environment, cluster); the series the rendered
 *   write_relabel_configs drop (go_*) never reach it.
 * - A stop and start of the store (30 s away) loses nothing: Prometheus retries (samples_retried_total climbs,
 *   samples_pending holds the backlog, samples_failed_total stays 0), then every sample of the outage is in the store.
 * - One store, two environments: production's Prometheus (its own render, another cluster label) writes there too, and
 *   a dashboard query as grafana.central rewrites it selects each environment's series apart, or both.
 *
 * The cluster binaries (vminsert, vmselect, vmstorage) are not here: the Go module proxy refuses VictoriaMetrics'
 * `-cluster` tags (403). Two single-node instances replicated by vmagent and read through vmauth, the store
 * docs/operations.md gives instead, are test/e2e/replicated-store.test.ts.
 */
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { withEnvironmentMatcher } from "../../components/grafana/dashboards";
import { WEB_CONFIG_FILE } from "../../components/kit/web";
import { stackBinary } from "../../lab/local/binaries";
import { SelfSigned, getOk, httpGetJson, isReady, selfSignedCertificate } from "../../lab/local/http";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { ManagedProcess } from "../../lab/processes/children";
import { sleep } from "../../lab/processes/supervision";
import { layOutContainer, localPrometheusArgs, rerooted } from "../../lab/local/prometheus";
import { containerArgs } from "../../lab/local/rendered";
import { metricValues, sum } from "../../lab/local/text-format";
import type { Rendered } from "../../cli/render";
import { render } from "../support/render";
import { localRun } from "./support/local-run";

jest.setTimeout(300_000);

const USER = "staging";
const PASSWORD = "vm-password-0123456789";
const CLUSTER = "lab-1";

/** One series' raw samples: its labels (without the external ones for Prometheus' side) and [milliseconds, value] pairs. */
type SeriesSamples = Map<string, Array<[number, number]>>;

const labelKey = (labels: Record<string, string>) =>
  JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== "environment" && k !== "cluster")
      .sort(([a], [b]) => a.localeCompare(b)),
  );

describe("remote write: the real Prometheus, with the rendered remote_write, to the real VictoriaMetrics", () => {
  const run = localRun();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "remote-write-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  let rendered: Rendered;
  let cert: SelfSigned;
  let vmPort = 0;
  let promPort = 0;
  let vm: ManagedProcess;
  let started = 0;
  const prom = () => `http://${LOOPBACK}:${promPort}`;

  const vmArgs = () => [
    `-httpListenAddr=${LOOPBACK}:${vmPort}`,
    `-storageDataPath=${path.join(dir, "vm-data")}`,
    "-retentionPeriod=1d",
    "-tls",
    `-tlsCertFile=${cert.certFile}`,
    `-tlsKeyFile=${cert.keyFile}`,
    `-httpAuth.username=${USER}`,
    `-httpAuth.password=${PASSWORD}`,
    "-loggerLevel=WARN",
  ];

  /** A GET to the store over TLS, trusting only its certificate, with its basic auth (or none). */
  function vmGet(pathAndQuery: string, auth = `${USER}:${PASSWORD}`): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.get(`https://${LOOPBACK}:${vmPort}${pathAndQuery}`, { ca: cert.cert, auth, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`GET ${pathAndQuery} timed out`)));
      req.on("error", reject);
    });
  }

  const startVm = async () => {
    vm = run.start("victoria-metrics", stackBinary("victoria-metrics"), vmArgs());
    await run.waitFor(
      "VictoriaMetrics ready",
      async () => ((await vmGet("/health").catch(() => undefined))?.status === 200 ? true : undefined),
      60_000,
      300,
    );
  };

  /** Prometheus' remote-write counters and gauges of the queue, from its own /metrics. */
  async function queueMetrics(): Promise<{ retried: number; failed: number; pending: number; highestSent: number; sent: number }> {
    const text = await getOk(`${prom()}/metrics`);
    const one = (name: string) => sum(metricValues(text, name));
    return {
      retried: one("prometheus_remote_storage_samples_retried_total"),
      failed: one("prometheus_remote_storage_samples_failed_total"),
      pending: one("prometheus_remote_storage_samples_pending"),
      highestSent: one("prometheus_remote_storage_queue_highest_sent_timestamp_seconds"),
      sent: one("prometheus_remote_storage_samples_total"),
    };
  }

  /** Prometheus' own raw samples of job "prometheus" in (from, to] (milliseconds), by series. */
  async function prometheusSamples(from: number, to: number): Promise<{ series: SeriesSamples; nan: number }> {
    const seconds = Math.ceil((to - from) / 1000);
    const query = encodeURIComponent(`{job="prometheus"}[${seconds}s]`);
    const reply = await httpGetJson<{ data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } }>(
      `${prom()}/api/v1/query?query=${query}&time=${to / 1000}`,
    );
    const out: SeriesSamples = new Map();
    let nan = 0;
    for (const r of reply.data.result) {
      const inRange = r.values.map(([t, v]): [number, number] => [Math.round(t * 1000), Number(v)]).filter(([t]) => t > from && t <= to);
      // VictoriaMetrics keeps no NaN sample (a summary's quantile before any observation): counted, not compared.
      const samples = inRange.filter(([, v]) => !Number.isNaN(v));
      nan += inRange.length - samples.length;
      if (samples.length > 0) out.set(labelKey(r.metric), samples);
    }
    return { series: out, nan };
  }

  /** The store's raw samples of job "prometheus" in (from, to], by series, and the external labels each carries. */
  async function storeSamples(
    from: number,
    to: number,
    match = '{job="prometheus"}',
  ): Promise<{ series: SeriesSamples; external: string[]; duplicates: number }> {
    const reply = await vmGet(`/api/v1/export?match[]=${encodeURIComponent(match)}&start=${from / 1000}&end=${to / 1000}`);
    if (reply.status !== 200) throw new Error(`export: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
    const series: SeriesSamples = new Map();
    const external = new Set<string>();
    for (const line of reply.body.split("\n").filter((l) => l.trim() !== "")) {
      const row = JSON.parse(line) as { metric: Record<string, string>; values: Array<number | null>; timestamps: number[] };
      external.add(`environment=${row.metric.environment},cluster=${row.metric.cluster}`);
      const samples = row.timestamps
        .map((t, i): [number, number | null] => [t, row.values[i]])
        .filter((s): s is [number, number] => s[1] !== null && Number.isFinite(s[1]) && s[0] > from && s[0] <= to);
      if (samples.length > 0) series.set(labelKey(row.metric), [...(series.get(labelKey(row.metric)) ?? []), ...samples]);
    }
    // A batch the store took but whose answer was lost to its stop is sent again: the same sample twice is no loss.
    let duplicates = 0;
    for (const [key, samples] of series) {
      const unique = [...new Map(samples.map((s) => [`${s[0]}:${s[1]}`, s])).values()].sort((a, b) => a[0] - b[0]);
      duplicates += samples.length - unique.length;
      series.set(key, unique);
    }
    return { series, external: [...external], duplicates };
  }

  /** Waits until Prometheus has sent everything up to `until` (ms) and holds nothing back. */
  const caughtUp = (until: number) =>
    run.waitFor(
      `remote write caught up to ${new Date(until).toISOString()}`,
      async () => {
        const m = await queueMetrics();
        return m.highestSent * 1000 >= until && m.pending === 0 ? m : undefined;
      },
      90_000,
      500,
    );

  /** What the two sides hold over (from, to]: the series only one side has, the samples that differ, and the totals. */
  async function compare(from: number, to: number) {
    const { series: ours, nan } = await prometheusSamples(from, to);
    const { series: theirs, external, duplicates } = await storeSamples(from, to);
    const onlyOurs = [...ours.keys()].filter((k) => !theirs.has(k) && !k.includes('"__name__","go_'));
    const onlyTheirs = [...theirs.keys()].filter((k) => !ours.has(k));
    const differing: string[] = [];
    let samples = 0;
    // Values equal to 12 significant digits: the store keeps a value as a decimal of at most 64 bits (2^64 comes back
    // as 18446744073709548000); how many differ at all, and by how much at most, is counted.
    let inexact = 0;
    let worst = 0;
    for (const [key, mine] of ours) {
      const stored = theirs.get(key);
      if (!stored) continue;
      samples += mine.length;
      const same =
        mine.length === stored.length &&
        mine.every(([t, v], i) => {
          const [st, sv] = stored[i];
          if (v !== sv) {
            inexact++;
            worst = Math.max(worst, Math.abs(v - sv) / Math.max(Math.abs(v), Math.abs(sv)));
          }
          return t === st && Math.abs(v - sv) <= 1e-12 * Math.max(Math.abs(v), Math.abs(sv));
        });
      if (!same)
        differing.push(
          `${key}: ${JSON.stringify(mine.slice(0, 3))} vs ${JSON.stringify(stored.slice(0, 3))} (${mine.length} vs ${stored.length})`,
        );
    }
    return { onlyOurs, onlyTheirs, differing, external, series: theirs.size, samples, ours, duplicates, nan, inexact, worst };
  }

  /**
   * A stack's Prometheus on `port`: its render with the central remote write and the cluster label, the rendered
   * global section and remote_write as they are, one scrape job of itself every second.
   */
  async function startPrometheus(stack: "staging" | "production", cluster: string, port: number): Promise<Rendered> {
    const remoteWrite = [
      {
        name: "central",
        url: `https://${LOOPBACK}:${vmPort}/api/v1/write`,
        username: USER,
        headers: { "X-Scope-OrgID": stack },
        writeRelabel: [{ action: "drop", regex: "go_.*" }],
        queue: { minBackoff: "50ms", maxBackoff: "1s", batchSendDeadline: "1s" },
        tls: { caData: Buffer.from(cert.cert).toString("base64") },
      },
    ];
    const stackRender = await render(stack, [
      `prometheus.externalLabels={cluster: ${cluster}}`,
      `prometheus.remoteWrite=${JSON.stringify(remoteWrite)}`,
      `remoteWritePasswords.central=${PASSWORD}`,
    ]);
    const root = path.join(dir, `${stack}-root`);
    layOutContainer(stackRender, root);
    const config = rerooted(stackRender.files.get("prometheus/prometheus.yml") ?? "", root) as unknown as Record<string, unknown>;
    config.scrape_configs = [{ job_name: "prometheus", scrape_interval: "1s", static_configs: [{ targets: [`${LOOPBACK}:${port}`] }] }];
    config.rule_files = [];
    delete config.alerting;
    const configFile = path.join(dir, `${stack}.yml`);
    fs.writeFileSync(configFile, YAML.stringify(config));
    const args = localPrometheusArgs(
      containerArgs(stackRender, "StatefulSet", "prometheus"),
      stackRender.files.get(`prometheus/${WEB_CONFIG_FILE}`),
      { config: configFile, data: path.join(dir, `${stack}-data`), port, dir },
    );
    run.start(`prometheus (${stack})`, stackBinary("prometheus"), args, { env: { POD_NAME: "prometheus-0" } });
    await run.waitFor(`Prometheus (${stack}) ready`, () => isReady(`http://${LOOPBACK}:${port}`), 60_000, 500);
    return stackRender;
  }

  /**
   * compare() once the store shows what it took: VictoriaMetrics makes a write searchable within a second or two of
   * acknowledging it, so the last samples may lag the ack; compared again for up to 15 s, then the last result.
   */
  async function settled(from: number, to: number): Promise<Awaited<ReturnType<typeof compare>>> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const result = await compare(from, to);
      const same = result.onlyOurs.length === 0 && result.onlyTheirs.length === 0 && result.differing.length === 0;
      if (same || Date.now() > deadline) return result;
      await sleep(1000);
    }
  }

  beforeAll(async () => {
    [vmPort, promPort] = await freePorts(2);
    cert = selfSignedCertificate(dir, "victoria-metrics", 1);
    await startVm();
    rendered = await startPrometheus("staging", CLUSTER, promPort);
    started = Date.now();
  });

  test("the store takes only TLS with its password: the rendered remote write is what gets in", async () => {
    expect((await vmGet("/api/v1/labels", `${USER}:wrong`)).status).toBe(401);
    expect((await vmGet("/api/v1/labels")).status).toBe(200);
    const remote = (YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as { remote_write: Array<Record<string, unknown>> })
      .remote_write;
    expect(remote).toEqual([
      expect.objectContaining({
        name: "central",
        basic_auth: { username: USER, password_file: "/etc/prometheus/secrets/remote-write/remote-write-central" },
        headers: { "X-Scope-OrgID": "staging" },
        tls_config: { ca_file: "/etc/prometheus/secrets/remote-write/remote-write-central-ca.crt" },
        write_relabel_configs: [{ source_labels: ["__name__"], regex: "go_.*", action: "drop" }],
      }),
    ]);
  });

  test("the series read back equal Prometheus' own over the same range, sample for sample, with environment and cluster; go_* never leave", async () => {
    await sleep(20_000);
    const to = Date.now() - 2_000;
    const from = started;
    await caughtUp(to);
    const result = await settled(from, to);
    expect(result.external).toEqual([`environment=staging,cluster=${CLUSTER}`]);
    expect(result.series).toBeGreaterThan(50);
    expect(result.samples).toBeGreaterThan(result.series * 10);
    expect({ onlyOurs: result.onlyOurs, onlyTheirs: result.onlyTheirs, differing: result.differing.slice(0, 5) }).toEqual({
      onlyOurs: [],
      onlyTheirs: [],
      differing: [],
    });
    // Prometheus has go_* series; the store has none of them.
    expect([...result.ours.keys()].filter((k) => k.includes('"__name__","go_')).length).toBeGreaterThan(5);
    expect((await storeSamples(from, to, '{__name__=~"go_.*"}')).series.size).toBe(0);
    console.log(
      `remote write: ${result.series} series, ${result.samples} samples equal over ${Math.round((to - from) / 1000)} s ` +
        `(${result.inexact} not bit for bit, at most ${result.worst.toExponential(2)} apart; ${result.nan} NaN samples not kept by the store)`,
    );
  });

  test("a stop and start of the store loses nothing: Prometheus retries, holds the backlog, then sends it", async () => {
    const before = await queueMetrics();
    const stoppedAt = Date.now();
    await vm.stop();
    // While the store is away: retries climb, the backlog grows, nothing fails for good.
    const during = await run.waitFor(
      "retries and a backlog while the store is away",
      async () => {
        const m = await queueMetrics();
        return m.retried > before.retried && m.pending > 0 ? m : undefined;
      },
      30_000,
      500,
    );
    await sleep(Math.max(0, 30_000 - (Date.now() - stoppedAt)));
    const away = await queueMetrics();
    const restartedAt = Date.now();
    await startVm();
    await sleep(5_000);
    const to = Date.now() - 2_000;
    const after = await caughtUp(to);
    expect(after.failed).toBe(before.failed);
    expect(after.failed).toBe(0);
    const result = await settled(started, to);
    expect({ onlyOurs: result.onlyOurs, onlyTheirs: result.onlyTheirs, differing: result.differing.slice(0, 5) }).toEqual({
      onlyOurs: [],
      onlyTheirs: [],
      differing: [],
    });
    // The outage's own samples are there: Prometheus' self-scrape every second, each kept by the store.
    const outage = await settled(stoppedAt, restartedAt);
    expect(outage.samples).toBeGreaterThan(outage.series * 20);
    console.log(
      `outage ${Math.round((restartedAt - stoppedAt) / 1000)} s: retried ${away.retried - before.retried} samples, pending up to ${away.pending} (at first ${during.pending}), failed ${after.failed - before.failed}; ` +
        `${outage.series} series, ${outage.samples} samples of the outage and ${result.samples} in all equal (${result.duplicates} sent twice)`,
    );
  });

  test("one store, two environments: the dashboards' environment matcher selects each stack's series apart", async () => {
    const [productionPort] = await freePorts(1);
    await startPrometheus("production", "lab-2", productionPort);
    const values = await run.waitFor(
      "both environments in the store",
      async () => {
        const reply = await vmGet("/api/v1/label/environment/values");
        const data = (JSON.parse(reply.body) as { data: string[] }).data;
        return data.length === 2 ? data : undefined;
      },
      60_000,
      1000,
    );
    expect(values).toEqual(["production", "staging"]);
    // A dashboard's query as grafana.central rewrites it, with the variable set as Grafana would (one, several, All).
    const query = withEnvironmentMatcher('count by (environment, cluster) (up{job="prometheus"})');
    const selected = async (environment: string) => {
      const q = encodeURIComponent(query.replace("$environment", environment));
      const reply = await vmGet(`/api/v1/query?query=${q}&latency_offset=1ms`);
      const result = (JSON.parse(reply.body) as { data: { result: Array<{ metric: Record<string, string> }> } }).data.result;
      return result.map((r) => `${r.metric.environment}/${r.metric.cluster}`).sort();
    };
    // The environment label may arrive before production's first self-scrape has: wait for its up series.
    await run.waitFor(
      "production's up series in the store",
      async () => ((await selected(".*")).length === 2 ? true : undefined),
      60_000,
      1000,
    );
    expect(await selected("production")).toEqual(["production/lab-2"]);
    expect(await selected("staging")).toEqual([`staging/${CLUSTER}`]);
    expect(await selected(".*")).toEqual(["production/lab-2", `staging/${CLUSTER}`]);
  });
});
