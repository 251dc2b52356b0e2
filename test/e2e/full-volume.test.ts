/**
 * A full volume, on the exact binaries: Prometheus' and Loki's data each on a filesystem of its own,
 * a loop-mounted ext4 image in a mount namespace the test makes (test/e2e/support/mount-namespace.ts),
 * filled and then freed while the stack's rendered Prometheus (its args, the rendered rule files
 * stack.yml and logs.yml) scrapes, and the rendered Alloy ships numbered lines to the rendered Loki
 * (test/e2e/support/log-pipeline.ts). It shows:
 *
 * - each volume's disk alert as rendered goes pending (its expression true: it fires after its
 *   `for`, 15 and 5 minutes, if the volume stays so) before the volume is full: Loki's
 *   LokiVolumeAlmostFull (from Loki's own statfs of its WAL's filesystem) at 87 % used while Loki
 *   still takes lines, its critical once Loki refuses them (above 90 % Loki throttles its WAL and
 *   refuses every push); Prometheus' PrometheusStorageAlmostFull
 *   (from the kubelet's volume stats: here a stand-in serving the statfs of Prometheus' volume, as
 *   the kubelet reads it) at 92 % and 97 % used, while Prometheus still stores;
 * - queries keep answering while each volume is full (what was stored before is there); Prometheus
 *   may end while full (it panics when it cannot preallocate a head chunk file) and is started again
 *   at once, as the kubelet restarts its container: counted;
 * - ingestion resumes once space is freed: Prometheus stores new samples, Loki takes the lines Alloy
 *   kept retrying: 0 lines lost; the samples Prometheus could not store while full are counted;
 * - the TSDB is sound afterwards: `promtool tsdb analyze` reads the block Prometheus compacts once
 *   space is back, and Prometheus started again on it holds every sample it held before the fill.
 *   The samples it stored after the freeing are counted, not asserted: they follow, in the same WAL
 *   segment, the record the full disk tore, and the WAL repair at the restart drops them until the
 *   head is compacted (Prometheus' own behaviour: prometheus/prometheus#7835, #13027).
 *
 * One flag is added to the rendered args: `--storage.tsdb.min-block-duration=30s` (a Prometheus flag
 * for tests; the stack keeps its 2 h), so that the head is cut into blocks within the test, as it is
 * every 2 hours in the stack: what is tested is a compaction after a full disk. The images are 8 GiB
 * and sparse (a few MiB on the host's disk; filled with allocated, unwritten files), so that at the
 * warning's level the room left (hundreds of MiB) is what a real claim has, and Prometheus' compaction
 * (which preallocates its chunk files, 512 MiB) fails only when the volume is full.
 *
 * Skipped, with the reason, only where the machine refuses a mount namespace with a loop mount (neither
 * root nor passwordless sudo). Figures: in out/live/faults/ (test/support/fault-report.ts).
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { stackBinary } from "../../lab/local/binaries";
import { httpGet, httpRequest, isReady, metricsHandler } from "../../lab/local/http";
import { localPrometheusArgs } from "../../lab/local/prometheus";
import { containerArgs, objectOf } from "../../lab/local/rendered";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { durationSeconds } from "../../components/kit/units";
import { LogPipeline } from "./support/log-pipeline";
import { logFault } from "./support/log-fault";
import { MountNamespace, mountNamespaceSupport } from "./support/mount-namespace";

const SUPPORT = mountNamespaceSupport();
const RATE = 20;
const IMAGE_BYTES = 8 * 2 ** 30;
/** The flag added to Prometheus' rendered args (see above). */
const BLOCK_FLAG = "--storage.tsdb.min-block-duration=30s";
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ActiveAlert {
  labels: Record<string, string>;
  state: string;
}

(SUPPORT.ok ? describe : describe.skip)(
  `a full volume under Prometheus and Loki${SUPPORT.ok ? "" : ` (skipped: ${SUPPORT.reason})`}`,
  () => {
    const fault = logFault("full-volume-");
    const run = fault.run;

    test("the disk alerts go pending before the fill, queries answer while full, ingestion resumes once freed, the TSDB is sound", async () => {
      const { rendered, tmp } = fault;
      if (!SUPPORT.ok) return;
      const ns = await MountNamespace.create(run, SUPPORT.prefix, 900);
      const inNs = (name: string, binary: string, args: string[]) => ns.start(name, binary, args);
      const logs = await LogPipeline.create(run, rendered, tmp, inNs);
      fault.pipeline = logs;
      ns.mountImage(path.join(tmp, "loki.img"), logs.lokiData, IMAGE_BYTES);
      const promData = path.join(tmp, "prometheus-data");
      ns.mountImage(path.join(tmp, "prometheus.img"), promData, IMAGE_BYTES);

      // Prometheus: its rendered args made local, the rule files as rendered, the three jobs the alerts read.
      const [promPort, kubeletPort] = await freePorts(2);
      const promUrl = `http://${LOOPBACK}:${promPort}`;
      const sts = objectOf(rendered, "StatefulSet", "prometheus") as unknown as {
        metadata: { namespace: string };
        spec: { volumeClaimTemplates: Array<{ metadata: { name: string } }> };
      };
      const claim = `${sts.spec.volumeClaimTemplates[0].metadata.name}-prometheus-0`;
      // The kubelet's volume stats of Prometheus' claim, read as the kubelet reads them (statfs of the volume).
      await run.serve(
        kubeletPort,
        metricsHandler(() => {
          const v = ns.statfs(promData);
          const labels = `namespace="${sts.metadata.namespace}",persistentvolumeclaim="${claim}"`;
          return [
            `kubelet_volume_stats_capacity_bytes{${labels}} ${v.capacity}`,
            `kubelet_volume_stats_available_bytes{${labels}} ${v.available}`,
            `kubelet_volume_stats_used_bytes{${labels}} ${v.used}`,
            "",
          ].join("\n");
        }),
      );
      const rules = path.join(tmp, "rules");
      fs.mkdirSync(rules);
      for (const file of ["stack.yml", "logs.yml"])
        fs.writeFileSync(path.join(rules, file), rendered.files.get(`prometheus/${file}`) ?? "");
      const config = path.join(tmp, "prometheus.yml");
      const job = (name: string, port: number) => ({ job_name: name, static_configs: [{ targets: [`${LOOPBACK}:${port}`] }] });
      fs.writeFileSync(
        config,
        YAML.stringify({
          global: { scrape_interval: "1s", evaluation_interval: "1s" },
          rule_files: [path.join(rules, "*.yml")],
          scrape_configs: [job("prometheus", promPort), job("kubelet", kubeletPort), job("loki", Number(new URL(logs.lokiUrl).port))],
        }),
      );
      const promArgs = [
        ...localPrometheusArgs(containerArgs(rendered, "StatefulSet", "prometheus"), rendered.files.get("prometheus/web-config.yaml"), {
          config,
          data: promData,
          port: promPort,
          dir: tmp,
        }),
        BLOCK_FLAG,
      ];
      const startProm = () => ns.start("prometheus", stackBinary("prometheus"), promArgs);
      /** The Prometheus process running now (the kubelet starts another when one ends), and whether it is down while full. */
      const cur = { prom: startProm(), down: false };
      await run.waitFor("Prometheus ready", () => isReady(promUrl), 90_000, 250);
      await logs.startLoki();
      await logs.startAlloy();
      const since = Date.now();
      logs.startWriting(RATE);

      const query = async (q: string, at?: number) => {
        const params = new URLSearchParams({ query: q, ...(at === undefined ? {} : { time: String(at / 1000) }) });
        const r = await httpGet(`${promUrl}/api/v1/query?${params.toString()}`, 10_000);
        return {
          status: r.status,
          result:
            r.status === 200
              ? (JSON.parse(r.body) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result
              : [],
        };
      };
      /** The samples Prometheus holds of `selector` between `from` and `to` (ms), one key per sample: its series and time. */
      const samplesIn = async (selector: string, from: number, to: number): Promise<Set<string>> => {
        const params = new URLSearchParams({ query: `${selector}[${Math.ceil((to - from) / 1000)}s]`, time: String(to / 1000) });
        const r = await httpGet(`${promUrl}/api/v1/query?${params.toString()}`, 30_000);
        if (r.status !== 200) throw new Error(`Prometheus answered ${r.status} to ${selector}: ${r.body.slice(0, 300)}`);
        const series = (
          JSON.parse(r.body) as { data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } }
        ).data.result;
        return new Set(series.flatMap((x) => x.values.map(([t]) => `${JSON.stringify(x.metric)}@${t}`)));
      };
      const own = async (name: string): Promise<number> => {
        const r = await httpGet(`${promUrl}/metrics`, 5000);
        let sum = 0;
        for (const m of r.body.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))) sum += Number(m[1]);
        return sum;
      };
      /** The active alerts of that name and severity (from the rule manager, not the TSDB: a full disk cannot hide them). */
      const alert = async (name: string, severity: string): Promise<string | undefined> => {
        const r = await httpGet(`${promUrl}/api/v1/alerts`, 5000);
        const alerts = (JSON.parse(r.body) as { data: { alerts: ActiveAlert[] } }).data.alerts;
        return alerts.find((a) => a.labels.alertname === name && a.labels.severity === severity)?.state;
      };
      /**
       * How long an alert may take to go pending: a minute, plus its group's interval as rendered (a warning that
       * waits 15 minutes is evaluated once a minute: docs/alerts.md, "Evaluated once a minute"; 1 s, the global
       * evaluation interval here, for a group that sets none).
       */
      const pendingWithinMs = (name: string, severity: string): number => {
        for (const file of ["stack.yml", "logs.yml"]) {
          const doc = YAML.parse(rendered.files.get(`prometheus/${file}`) ?? "") as {
            groups: Array<{ interval?: string; rules: Array<{ alert?: string; labels?: Record<string, string> }> }>;
          };
          const group = doc.groups.find((g) => g.rules.some((r) => r.alert === name && r.labels?.severity === severity));
          if (group) return 60_000 + (durationSeconds(group.interval ?? "1s") ?? 1) * 1000;
        }
        throw new Error(`no rendered rule file holds ${name} (${severity})`);
      };
      const waitAlert = (name: string, severity: string) =>
        run.waitFor(`${name} (${severity}) active`, () => alert(name, severity), pendingWithinMs(name, severity), 500);
      const lokiPush = async (): Promise<{ status: number; body: string }> =>
        httpRequest("POST", `${logs.lokiUrl}/loki/api/v1/push`, {
          body: JSON.stringify({ streams: [{ stream: { namespace: "faults-probe" }, values: [[`${Date.now()}000000`, "a probe"]] }] }),
          headers: { "Content-Type": "application/json" },
          timeoutMs: 5000,
        });

      // Every job up, Loki holding lines.
      await run.waitFor("the three jobs up", async () => ((await query("up == 1")).result.length === 3 ? true : undefined), 60_000, 500);
      await run.waitFor(
        "Loki holding lines",
        async () => ((await logs.stored(since)).distinct.size >= RATE ? true : undefined),
        60_000,
        500,
      );

      // Loki: its warning while it still takes lines, then full.
      ns.fill(logs.lokiData, 0.87);
      const lokiWarn = { at: Date.now(), state: await waitAlert("LokiVolumeAlmostFull", "warning"), after: 0, stillTakes: 0 };
      lokiWarn.after = (Date.now() - lokiWarn.at) / 1000;
      lokiWarn.stillTakes = (await lokiPush()).status;
      expect(lokiWarn.stillTakes).toBe(204);
      const heldBeforeFull = (await logs.stored(since)).distinct.size;
      ns.fill(logs.lokiData, 1);
      const lokiFullAt = Date.now();
      const lokiCrit = await waitAlert("LokiVolumeAlmostFull", "critical");
      const refused = await lokiPush();
      const throttled = /disk usage exceeded threshold[^\n]*?usage_percent=(\S+) threshold_percent=(\S+)/.exec(
        logs.loki?.output(200) ?? "",
      );
      expect(refused.status).not.toBe(204);
      // Its queries answer, with what it held.
      const whileFull = await logs.stored(since);
      expect(whileFull.distinct.size).toBeGreaterThanOrEqual(heldBeforeFull);

      // Prometheus: its warning, then its critical, while it still stores; then full.
      const storedSamples = async () => Number((await query('count_over_time(up{job="kubelet"}[10m])')).result[0]?.value[1] ?? 0);
      ns.fill(promData, 0.92);
      const promWarnAt = Date.now();
      const promWarn = await waitAlert("PrometheusStorageAlmostFull", "warning");
      const promWarnAfter = (Date.now() - promWarnAt) / 1000;
      ns.fill(promData, 0.97);
      const promCrit = await waitAlert("PrometheusStorageAlmostFull", "critical");
      const samplesBeforeFull = await storedSamples();
      const failedWritesBefore = await own("prometheus_tsdb_wal_writes_failed_total");
      ns.fill(promData, 1);
      const promFullAt = Date.now();
      // Full for 15 s. Prometheus may end: it panics when it cannot preallocate a new head chunk file
      // ("panic: preallocate: no space left on device"). The kubelet starts a container that ended again
      // (restartPolicy Always); here likewise, once while full (its WAL replay writes head chunks too: it
      // may end again, and then stays down until the space is freed), the process that ended taken out of
      // those the run watches (its end is the fault's, not a failure of the test).
      const crashes: string[] = [];
      const ended = () => {
        crashes.push(/^panic: .*$/m.exec(cur.prom.output(200))?.[0] ?? cur.prom.ended() ?? "");
        run.processes.splice(run.processes.indexOf(cur.prom), 1);
      };
      /** Starts Prometheus again on its data; whether it is ready (false: it ended first). */
      const startAgain = async (): Promise<boolean> => {
        cur.prom = startProm();
        for (const end = Date.now() + 90_000; cur.prom.ended() === undefined; await pause(250)) {
          if (await isReady(promUrl)) return true;
          if (Date.now() > end) throw new Error(`Prometheus not ready again in 90 s:\n${cur.prom.output(30)}`);
        }
        ended();
        return false;
      };
      for (let s = 0; s < 15 && !cur.down; s++) {
        await pause(1000);
        if (cur.prom.ended() === undefined) continue;
        ended();
        cur.down = !(await startAgain());
      }
      // Full: while it runs, it answers queries with what it stored, and stores nothing new.
      let answered = "no: down";
      let failedWrites = "-";
      // A query as it ends is cut (ECONNRESET): it ended while full, as above.
      let during: Awaited<ReturnType<typeof query>> | undefined;
      for (let tries = 0; during === undefined && !cur.down && tries < 3; tries++) {
        during = await query('count_over_time(up{job="kubelet"}[10m])').catch(async (err: Error) => {
          await pause(1000);
          if (cur.prom.ended() === undefined) throw err;
          ended();
          cur.down = !(await startAgain());
          return undefined;
        });
      }
      if (during !== undefined) {
        expect(during.status).toBe(200);
        expect(Number(during.result[0]?.value[1] ?? 0)).toBeGreaterThanOrEqual(samplesBeforeFull);
        answered = `yes (HTTP ${during.status}, ${during.result[0]?.value[1]} samples of job kubelet, ${samplesBeforeFull} before)`;
        failedWrites = await own("prometheus_tsdb_wal_writes_failed_total").then(
          (n) => String(n - (crashes.length > 0 ? 0 : failedWritesBefore)),
          () => "- (it ended as it was asked)",
        );
      }

      // Freed: both take data again.
      ns.free(promData);
      ns.free(logs.lokiData);
      const freedAt = Date.now();
      // Down while full: the kubelet's next restart, on the freed volume.
      const readyAfterFreeing = cur.down ? ((await startAgain()) ? (Date.now() - freedAt) / 1000 : undefined) : 0;
      expect(cur.prom.ended()).toBeUndefined();
      const resumed = await run.waitFor(
        "Prometheus storing again",
        async () => {
          const r = await query('timestamp(up{job="kubelet"})');
          const t = Number(r.result[0]?.value[1] ?? 0) * 1000;
          return t > freedAt ? (t - freedAt) / 1000 : undefined;
        },
        60_000,
        500,
      );
      // The scrapes it could not store while full (one a second): counted over the kubelet job's range.
      const fullSeconds = (freedAt - promFullAt) / 1000;
      const storedWhileFull = (await samplesIn('up{job="kubelet"}', promFullAt, freedAt)).size;
      const lokiBack = await run.waitFor(
        "Loki taking lines again",
        async () => ((await lokiPush()).status === 204 ? (Date.now() - freedAt) / 1000 : undefined),
        60_000,
        500,
      );
      logs.stopWriting();
      const all = await logs.allStored(since, 120_000);
      expect(logs.missing(all.stored)).toEqual([]);

      // A compaction once space is back, then the TSDB as promtool reads it.
      const blocks = await run.waitFor(
        "a block compacted",
        async () => ((await own("prometheus_tsdb_blocks_loaded")) >= 1 ? own("prometheus_tsdb_blocks_loaded") : undefined),
        120_000,
        1000,
      );
      // What it holds before its restart: every sample of every series up to the fill, and up to the stop.
      const stoppedAt = Date.now();
      /** The series every scrape writes (up, scrape_*), the kubelet stand-in's, the alerts': what the restart must give back. */
      const KEPT = '{__name__=~"up|scrape_.+|kubelet_.+|ALERTS|ALERTS_FOR_STATE"}';
      const samplesTo = (t: number) => samplesIn(KEPT, since - 60_000, t);
      const held = { toFill: await samplesTo(promFullAt), toStop: await samplesTo(stoppedAt) };
      expect(held.toFill.size).toBeGreaterThan(0);
      await cur.prom.stop();
      const analyze = ns.exec([stackBinary("promtool"), "tsdb", "analyze", promData]);
      expect(analyze).toMatch(/Block ID: /);
      expect(analyze).toMatch(/Total Series: [1-9]/);
      // And Prometheus starts again on it: what it held is there (its WAL replayed, repaired if the full disk tore a record).
      const again = startProm();
      await run.waitFor("Prometheus ready on its data", () => isReady(promUrl), 90_000, 250);
      const walCorruptions = await own("prometheus_tsdb_wal_corruptions_total");
      const repairLog = again
        .output(400)
        .split("\n")
        .map((l) => /msg="([^"]*)"/.exec(l)?.[1] ?? "")
        .filter((msg) => /corrupt|repair/i.test(msg))
        .slice(0, 3);
      const after = await samplesTo(stoppedAt);
      const missing = (before: Set<string>) => [...before].filter((k) => !after.has(k));
      const lostToFill = missing(held.toFill);
      const lostToStop = missing(held.toStop).length;
      const backFromWal = [...after].filter((k) => !held.toStop.has(k)).length;
      // What it held before the fill is there after it; what it stored after the freeing is counted (see the header).
      expect({ lostToFill: lostToFill.slice(0, 10) }).toEqual({ lostToFill: [] });

      fault.record = {
        fault: "6. A full volume under Loki and under Prometheus (loop-mounted ext4 images, filled then freed)",
        test: "test/e2e/full-volume.test.ts",
        lost: {
          lines: logs.missing(all.stored).length,
          "samples held before the fill": lostToFill.length,
          "samples stored after the freeing, dropped by the WAL repair at the restart": lostToStop,
        },
        figures: {
          "lines written": logs.written,
          "Loki: LokiVolumeAlmostFull warning at 87 % used": `${lokiWarn.state} after ${lokiWarn.after.toFixed(1)} s, Loki still taking lines (HTTP ${lokiWarn.stillTakes})`,
          "Loki: full": `LokiVolumeAlmostFull critical ${lokiCrit}, pushes refused (HTTP ${refused.status}: ${refused.body.trim().slice(0, 60)}; Loki's log: ${throttled ? `WAL writes throttled, disk ${throttled[1]} used over its ${throttled[2]} threshold` : "no throttling logged"}), queries answered (${whileFull.distinct.size} lines)`,
          "Loki: full for (s)": ((freedAt - lokiFullAt) / 1000).toFixed(0),
          "Loki: taking lines again after the freeing (s)": lokiBack.toFixed(1),
          "Loki: every line stored, after the writing stopped (s)": all.seconds.toFixed(1),
          "entries stored twice": all.stored.duplicates,
          "Prometheus: PrometheusStorageAlmostFull at 92 % / 97 % used, still storing": `warning ${promWarn} after ${promWarnAfter.toFixed(1)} s / critical ${promCrit}`,
          "Prometheus: full for (s)": fullSeconds.toFixed(1),
          "Prometheus: ended while full (started again at once while full, as the kubelet does)":
            crashes.length === 0
              ? "no"
              : `${crashes.length} times (${[...new Set(crashes)].join("; ")}), ${cur.down ? `down until the freeing, ready ${readyAfterFreeing?.toFixed(1)} s after it` : "up again"}`,
          "Prometheus: queries answered while full": answered,
          "Prometheus: WAL writes failed while full (since its last start)": failedWrites,
          "Prometheus: scrapes of job kubelet (1 s) stored while full": storedWhileFull,
          "Prometheus: storing again after the freeing (s)": resumed.toFixed(1),
          "Prometheus: blocks compacted after, read by promtool tsdb analyze": blocks,
          "Prometheus: samples of the scrape, kubelet and alert series held up to the fill / up to its stop; after its restart": `${held.toFill.size} / ${held.toStop.size}; ${after.size}, of which ${backFromWal} it had not answered before (scrapes whose commit failed while full, their record in the WAL)`,
          "Prometheus: WAL corruptions repaired at its restart": `${walCorruptions}${repairLog.length > 0 ? ` (${repairLog.join("; ")})` : ""}`,
        },
      };
      // Its own bound: the two warnings wait for groups evaluated once a minute (a minute each at most), on top of
      // the two minutes the rest takes.
    }, 300_000);
  },
);
