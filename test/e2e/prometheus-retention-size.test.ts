/**
 * Prometheus at its size cap on a small volume, on the exact binary: what its rendered
 * `--storage.tsdb.retention.size` leaves free, and whether that is enough for what Prometheus writes
 * beyond its data. Its data on a 1 GiB loop-mounted ext4 image in a mount namespace the test makes
 * (as full-volume does: test/e2e/support/mount-namespace.ts), the stack rendered with
 * `prometheus.storage.size=1Gi` and run with its rendered args made local, scraping itself and an
 * app of 2,000 series every second.
 *
 * Retention by size counts the blocks, the WAL and the head's chunk files (Prometheus' own
 * accounting, BeyondSizeRetention), and deletes whole blocks, oldest first, once they pass the cap.
 * What it does not count is what a compaction writes: the new block's chunk file is preallocated at
 * 512 MiB (tsdb/chunks, DefaultChunkSegmentSize) before a sample goes in, beside the head it is cut
 * from, and a compaction that cannot preallocate fails ("preallocate: no space left on device"): the
 * head is then never cut, the WAL never truncated, and the volume fills (the panic full-volume shows).
 * So the cap must leave that free. The TSDB at its cap is stood in for by a file that fills the
 * volume up to the cap (Prometheus' own data counted in it): reaching 1 GiB of samples here would take
 * longer than the test may, and the question is only what is free once the data is at the cap.
 *
 * One flag is added to the rendered args, as in full-volume: `--storage.tsdb.min-block-duration=30s`,
 * so that the head is compacted within the test (every 2 h in the stack). The test fails unless
 * every compaction at the cap succeeds and the volume never fills; it measures the least space free
 * during them (what a compaction takes beyond the cap). Skipped, with the reason, only where the
 * machine refuses a mount namespace with a loop mount.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { stackBinary } from "../../lab/local/binaries";
import { httpGet, isReady, metricsHandler } from "../../lab/local/http";
import { localPrometheusArgs } from "../../lab/local/prometheus";
import { containerArgs } from "../../lab/local/rendered";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { prometheusSizeBytes } from "../../components/kit/units";
import { recordFault } from "../support/fault-report";
import { render } from "../support/render";
import { MountNamespace, mountNamespaceSupport } from "./support/mount-namespace";
import { localRun } from "./support/local-run";

const SUPPORT = mountNamespaceSupport();
const VOLUME = "1Gi";
const IMAGE_BYTES = 2 ** 30;
const BLOCK_FLAG = "--storage.tsdb.min-block-duration=30s";
const SERIES = 2_000;
const MiB = 2 ** 20;

(SUPPORT.ok ? describe : describe.skip)(
  `Prometheus at its size cap on a ${VOLUME} volume${SUPPORT.ok ? "" : ` (skipped: ${SUPPORT.reason})`}`,
  () => {
    const run = localRun();
    let tmp = "";
    afterAll(() => {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    test("what the rendered retention.size leaves free is enough for every compaction: none fails, the volume never fills", async () => {
      if (!SUPPORT.ok) return;
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "retention-size-"));
      const rendered = await render("staging", [`prometheus.storage.size=${VOLUME}`]);
      const args = containerArgs(rendered, "StatefulSet", "prometheus");
      const capFlag = args.find((a) => a.startsWith("--storage.tsdb.retention.size="))?.split("=")[1] ?? "";
      const cap = prometheusSizeBytes(capFlag) ?? 0;
      expect(cap).toBeGreaterThan(0);

      const ns = await MountNamespace.create(run, SUPPORT.prefix, 900);
      const data = path.join(tmp, "prometheus-data");
      ns.mountImage(path.join(tmp, "prometheus.img"), data, IMAGE_BYTES);
      const volume = ns.statfs(data);

      const [promPort, appPort] = await freePorts(2);
      const promUrl = `http://${LOOPBACK}:${promPort}`;
      let scrape = 0;
      // Values that change every scrape, as real ones do (a constant compresses to almost nothing).
      await run.serve(
        appPort,
        metricsHandler(() => {
          scrape++;
          const lines = ["# TYPE lab_value gauge"];
          for (let i = 0; i < SERIES; i++) lines.push(`lab_value{series="${i}"} ${Math.sin(scrape * 0.37 + i) * 1000 + i}`);
          return `${lines.join("\n")}\n`;
        }),
      );
      const config = path.join(tmp, "prometheus.yml");
      const job = (name: string, port: number) => ({ job_name: name, static_configs: [{ targets: [`${LOOPBACK}:${port}`] }] });
      fs.writeFileSync(
        config,
        YAML.stringify({
          global: { scrape_interval: "1s", evaluation_interval: "1s" },
          scrape_configs: [job("prometheus", promPort), job("app", appPort)],
        }),
      );
      const promArgs = [
        ...localPrometheusArgs(args, rendered.files.get("prometheus/web-config.yaml"), { config, data, port: promPort, dir: tmp }),
        BLOCK_FLAG,
      ];
      const prom = ns.start("prometheus", stackBinary("prometheus"), promArgs);
      await run.waitFor("Prometheus ready", () => isReady(promUrl), 120_000, 250);
      const own = async (name: string): Promise<number> => {
        const r = await httpGet(`${promUrl}/metrics`, 10_000);
        let sum = 0;
        for (const m of r.body.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))) sum += Number(m[1]);
        return sum;
      };

      // The TSDB at its cap: the volume filled up to it (Prometheus' own data counted in).
      ns.fill(data, cap / volume.capacity);
      const atCap = ns.statfs(data);
      const filledAt = Date.now();
      // Two head compactions at the cap (the head is cut every 30 s here), the space free watched throughout.
      const compactionsBefore = await own("prometheus_tsdb_compactions_total");
      // The least space free, watched in the namespace every 50 ms (a compaction's preallocated file lives for a moment).
      const watcher = ns.start("free-space", "sh", [
        "-c",
        `min=; while :; do a=$(stat -f -c '%a' ${data}); if [ -z "$min" ] || [ "$a" -lt "$min" ]; then min=$a; echo "least $min"; fi; sleep 0.05; done`,
      ]);
      const leastFreeSeen = () =>
        Math.min(atCap.available, ...[...watcher.output(10_000).matchAll(/^least (\d+)$/gm)].map((m) => Number(m[1]) * atCap.blockSize));
      let outcome: { compactions: number; failed: number };
      try {
        outcome = await run.waitFor(
          "two head compactions at the cap, or one failed",
          async () => {
            const [compactions, failed] = await Promise.all([
              own("prometheus_tsdb_compactions_total"),
              own("prometheus_tsdb_compactions_failed_total"),
            ]);
            return compactions - compactionsBefore >= 2 || failed > 0
              ? { compactions: compactions - compactionsBefore, failed }
              : undefined;
          },
          240_000,
          500,
        );
      } finally {
        await watcher.stop();
      }
      const leastFree = leastFreeSeen();
      const failure = /msg="compaction failed"[^\n]*/.exec(prom.output(500))?.[0] ?? "";
      const [wal, headChunks, blocks] = await Promise.all([
        own("prometheus_tsdb_wal_storage_size_bytes"),
        own("prometheus_tsdb_head_chunks_storage_size_bytes"),
        own("prometheus_tsdb_storage_blocks_bytes"),
      ]);
      const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
      recordFault({
        fault: "6b. Prometheus at its size cap on a small volume (1 GiB)",
        test: "test/e2e/prometheus-retention-size.test.ts",
        lost: { "compactions failed at the cap": outcome.failed },
        figures: {
          "volume, retention.size as rendered": `${mib(volume.capacity)} (ext4 of ${VOLUME}), ${capFlag}: ${mib(volume.capacity - cap)} left beyond the cap`,
          "free at the cap": mib(atCap.available),
          "head compactions at the cap": `${outcome.compactions} in ${((Date.now() - filledAt) / 1000).toFixed(0)} s, ${outcome.failed} failed${failure ? ` (${failure.slice(0, 200)})` : ""}`,
          "least free during them (what a compaction takes beyond the cap)": `${mib(leastFree)} free, ${mib(atCap.available - leastFree)} taken`,
          "Prometheus' data after (WAL, head chunks, blocks)": `${mib(wal)}, ${mib(headChunks)}, ${mib(blocks)}`,
        },
      });
      expect({ failed: outcome.failed, failure, compactions: outcome.compactions >= 2 }).toEqual({
        failed: 0,
        failure: "",
        compactions: true,
      });
      expect(leastFree).toBeGreaterThan(0);
      expect(prom.ended()).toBeUndefined();
    });
  },
);
