/** The catalogue of prometheus: its own /metrics and what it writes into its TSDB, plain and with remote write. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { getOk } from "../local/http";
import { pinnedBinary } from "../local/binaries";
import { LOOPBACK } from "../ports";
import { waitFor } from "../processes/supervision";
import { scrapeTwice } from "../local/text-format";
import { Command, Generated, Run, minus } from "./run";

/** The flags of components/prometheus/ (its podArgs), with local paths. */
function prometheusFlags(dir: string, port: number): string[] {
  return [
    `--config.file=${dir}/prometheus.yml`,
    "--enable-feature=auto-reload-config",
    "--config.auto-reload-interval=30s",
    `--storage.tsdb.path=${dir}/data`,
    "--storage.tsdb.retention.time=15d",
    "--storage.tsdb.retention.size=8GB",
    `--web.listen-address=${LOOPBACK}:${port}`,
    `--web.external-url=http://${LOOPBACK}:${port}`,
  ];
}

const RECORDED = "catalog:up:sum";

interface PrometheusRun {
  command: Command;
  names: Set<string>;
  /** Series names Prometheus writes into its TSDB that are not on /metrics. */
  written: Set<string>;
}

async function runPrometheus(r: Run, remoteWrite: boolean): Promise<PrometheusRun> {
  const sink = await r.sink();
  const port = await r.port();
  const dir = r.dir(remoteWrite ? "remote-write" : "plain");
  fs.writeFileSync(
    path.join(dir, "rules.yml"),
    YAML.stringify({
      groups: [
        {
          name: "catalog",
          rules: [
            { record: RECORDED, expr: "sum(up)" },
            { alert: "CatalogFiring", expr: "vector(1)", for: "5s" },
            { alert: "CatalogPending", expr: "vector(1)", for: "1h" },
          ],
        },
      ],
    }),
  );
  fs.writeFileSync(
    path.join(dir, "prometheus.yml"),
    YAML.stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      rule_files: [path.join(dir, "rules.yml")],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`${LOOPBACK}:${sink.port}`] }] }] },
      scrape_configs: [{ job_name: "prometheus", static_configs: [{ targets: [`${LOOPBACK}:${port}`] }] }],
      ...(remoteWrite ? { remote_write: [{ name: "catalog", url: sink.url("/api/v1/write") }] } : {}),
    }),
  );
  const command = { binary: pinnedBinary("prometheus"), args: prometheusFlags(dir, port) };
  const proc = r.start(remoteWrite ? "prometheus (remote write)" : "prometheus", command);
  const base = `http://${LOOPBACK}:${port}`;
  await waitFor("Prometheus ready", () => getOk(`${base}/-/ready`), 60_000, 250, [proc]);
  const query = async (q: string) =>
    JSON.parse(await getOk(`${base}/api/v1/query?query=${encodeURIComponent(q)}`)) as { data: { result: unknown[] } };
  // A few scrapes, evaluations and notifications (and remote-write sends) done.
  await waitFor(
    "an alert firing and a scrape",
    async () => ((await query('ALERTS{alertstate="firing"} and on() scrape_series_added')).data.result.length > 0 ? true : undefined),
    30_000,
    250,
    [proc],
  );
  const reached = (pathname: string) => (sink.paths.get(pathname) ?? 0) > 0;
  await waitFor(
    `notifications${remoteWrite ? " and remote writes" : ""} reaching the sink`,
    () => (reached("/api/v2/alerts") && (!remoteWrite || reached("/api/v1/write")) ? true : undefined),
    60_000,
    250,
    [proc],
  );
  await getOk(
    `${base}/api/v1/query_range?query=${encodeURIComponent("rate(up[10s])")}&start=${Date.now() / 1000 - 60}&end=${Date.now() / 1000}&step=5`,
  );
  const { names } = await scrapeTwice(`${base}/metrics`);
  const inTsdb = (JSON.parse(await getOk(`${base}/api/v1/label/__name__/values`)) as { data: string[] }).data;
  const written = minus(minus(inTsdb, names), new Set([RECORDED]));
  await proc.stop();
  return { command, names: new Set([...names, ...written]), written };
}

export async function prometheus(r: Run): Promise<Generated> {
  const plain = await runPrometheus(r, false);
  const remote = await runPrometheus(r, true);
  return {
    notes: [
      "Its own /metrics, started with the flags of components/prometheus/ (local paths, 127.0.0.1, retention 15d and 8GB) and a small config: it scrapes itself every second, evaluates a recording rule, a firing and a pending alert, and notifies a local sink standing in for Alertmanager.",
      `Also the series Prometheus writes into its TSDB for every target and every alert, which are not on /metrics (read back from /api/v1/label/__name__/values): ${[...plain.written].sort().join(", ")}.`,
      "It lists the Go runtime and process metrics every Go component of the stack exposes too.",
    ],
    commands: [plain.command],
    names: plain.names,
    conditional: [
      {
        why: "remote_write configured (prometheus.remoteWrite in the stack config), here to a local sink that accepts every write",
        commands: [remote.command],
        names: minus(remote.names, plain.names),
      },
    ],
  };
}
