/**
 * The rendered Prometheus, started on 127.0.0.1 with a config of the test's (the render's prometheus.yml, rerooted,
 * its jobs made local): the container's own args and web config, only paths and the address made local
 * (lab/local/prometheus.ts localPrometheusArgs), bounded by the test's LocalRun.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { WEB_CONFIG_FILE } from "../../../components/kit/web";
import type { Rendered } from "../../../cli/render";
import { stackBinary } from "../../../lab/local/binaries";
import { httpGetJson, isReady } from "../../../lab/local/http";
import { LOOPBACK } from "../../../lab/ports";
import { localPrometheusArgs } from "../../../lab/local/prometheus";
import { containerArgs } from "../../../lab/local/rendered";
import type { LocalRun } from "../../../lab/processes/children";

/** Writes `config` to `dir`/prometheus.yml, starts `rendered`'s Prometheus on it (data in `dir`/data) and resolves to its address once ready. */
export async function startRenderedPrometheus(
  run: LocalRun,
  rendered: Rendered,
  config: object,
  port: number,
  dir: string,
): Promise<string> {
  const configFile = path.join(dir, "prometheus.yml");
  fs.writeFileSync(configFile, YAML.stringify(config));
  const args = localPrometheusArgs(
    containerArgs(rendered, "StatefulSet", "prometheus"),
    rendered.files.get(`prometheus/${WEB_CONFIG_FILE}`),
    {
      config: configFile,
      data: path.join(dir, "data"),
      port,
      dir,
    },
  );
  run.start("prometheus", stackBinary("prometheus"), args, { env: { POD_NAME: "prometheus-0" } });
  const base = `http://${LOOPBACK}:${port}`;
  await run.waitFor("Prometheus ready", () => isReady(base), 60_000, 500);
  return base;
}

/** An instant query's result, as Prometheus' HTTP API gives it. */
export type InstantResult = Array<{ metric: Record<string, string>; value: [number, string] }>;

/**
 * The deployed Prometheus with the test's own jobs (the render's, taken as they are) and none of the container's
 * flags: scraping and evaluating every second, its data in `dir`, on 127.0.0.1:`port`, bounded by `run`. Resolves
 * once ready, to its address and a query function.
 */
export async function startScrapingPrometheus(
  run: LocalRun,
  scrapeConfigs: unknown[],
  port: number,
  dir: string,
): Promise<{ base: string; query: (expr: string) => Promise<InstantResult> }> {
  const file = path.join(dir, "prometheus.yml");
  const config = { global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" }, scrape_configs: scrapeConfigs };
  fs.writeFileSync(file, YAML.stringify(config));
  run.start("prometheus", stackBinary("prometheus"), [
    `--config.file=${file}`,
    `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=${LOOPBACK}:${port}`,
  ]);
  const base = `http://${LOOPBACK}:${port}`;
  await run.waitFor("Prometheus ready", () => isReady(base), 60_000, 500);
  const query = async (expr: string) =>
    (await httpGetJson<{ data: { result: InstantResult } }>(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`)).data.result;
  return { base, query };
}
