/**
 * The labs' stand-in for Kubernetes discovery (lab/local/prometheus.ts, fileDiscovery) on the deployed release of
 * Prometheus: a rewrite of one job's targets wakes that job's file discovery only, and a rewrite that changes
 * nothing wakes none. Prometheus' file discovery reads all its files again on any event in a directory it watches:
 * with every job's file in one directory, each rewrite woke every job's discovery, and with the bench's 100 apps
 * and 500 pods that took most of each Prometheus' CPU (docs/benchmark.md, "Discovery in the bench").
 * Counted by Prometheus itself: prometheus_sd_file_scan_duration_seconds_count, one per scan of a discovery.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { stackBinary } from "../../lab/local/binaries";
import { httpGet, httpGetJson, isReady } from "../../lab/local/http";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { ParsedConfig, TargetGroup, fileDiscovery } from "../../lab/local/prometheus";
import { metricValues, sum } from "../../lab/local/text-format";
import { tempDirs } from "../support/temp";
import { localRun } from "./support/local-run";

/** Enough jobs that a rewrite waking all of them is told from one waking its own. */
const JOBS = 12;

const tempDir = tempDirs("file-discovery");

describe("file discovery of the labs' targets", () => {
  const run = localRun();
  const dir = tempDir();
  const sdDir = path.join(dir, "discovery");
  let base = "";

  /** The config as the labs write it: every job discovered from Kubernetes, here from files of `pods`. */
  const write = (pods: TargetGroup[]) => {
    const config: ParsedConfig = {
      rule_files: [],
      scrape_configs: Array.from({ length: JOBS }, (_, i) => ({
        job_name: `job-${i}`,
        scrape_interval: "1h",
        kubernetes_sd_configs: [{ role: "pod" as const, namespaces: { names: [`ns-${i}`] } }],
      })),
    };
    fileDiscovery(config, sdDir, { endpoints: [], pod: pods, node: [] });
    return config;
  };
  const pods = (port: number): TargetGroup[] =>
    Array.from({ length: JOBS }, (_, i) => ({
      targets: [`${LOOPBACK}:${i === 0 ? port : 9}`],
      labels: { __meta_kubernetes_namespace: `ns-${i}` },
    }));

  /** Scans of every file discovery so far, once no scan has come for two seconds (a minute at most). */
  const settledScans = async (): Promise<number> => {
    let last = NaN;
    return run.waitFor(
      "file discovery's scans to settle",
      async () => {
        const now = sum(metricValues((await httpGet(`${base}/metrics`)).body, "prometheus_sd_file_scan_duration_seconds_count"));
        const settled = now === last;
        last = now;
        return settled ? now : undefined;
      },
      60_000,
      2000,
    );
  };

  beforeAll(async () => {
    const config = write(pods(1));
    const configFile = path.join(dir, "prometheus.yml");
    fs.writeFileSync(configFile, YAML.stringify(config));
    const [port] = await freePorts(1);
    base = `http://${LOOPBACK}:${port}`;
    run.start("prometheus", stackBinary("prometheus"), [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=${LOOPBACK}:${port}`,
    ]);
    await run.waitFor("Prometheus ready", () => isReady(base), 60_000, 500);
  });

  test("each job's file sits in a directory of its own", () => {
    const files = write(pods(1)).scrape_configs.flatMap((j) => j.file_sd_configs?.flatMap((f) => f.files) ?? []);
    expect(files).toHaveLength(JOBS);
    expect(new Set(files.map((f) => path.dirname(f))).size).toBe(JOBS);
  });

  test("a rewrite of one job's targets wakes its discovery alone, and the job sees the new target", async () => {
    const before = await settledScans();
    write(pods(2));
    const woken = (await settledScans()) - before;
    // Its own discovery scans again (once per event of the rewrite); every job's would scan JOBS times as often.
    expect(woken).toBeGreaterThan(0);
    expect(woken).toBeLessThan(JOBS);
    // The discovery manager hands the scrape manager its updates every 5 seconds.
    const scrapeUrls = async () =>
      (
        await httpGetJson<{ data: { activeTargets: Array<{ scrapePool: string; scrapeUrl: string }> } }>(`${base}/api/v1/targets?state=any`)
      ).data.activeTargets
        .filter((t) => t.scrapePool === "job-0")
        .map((t) => t.scrapeUrl);
    await run.waitFor(
      "job-0's new target",
      async () => ((await scrapeUrls()).includes(`http://${LOOPBACK}:2/metrics`) ? true : undefined),
      30_000,
      500,
    );
    expect(await scrapeUrls()).toEqual([`http://${LOOPBACK}:2/metrics`]);
  });

  test("a rewrite that changes nothing wakes none", async () => {
    const before = await settledScans();
    write(pods(2));
    expect((await settledScans()) - before).toBe(0);
  });
});
