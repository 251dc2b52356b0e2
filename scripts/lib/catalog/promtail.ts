/** The catalogue of promtail: the stack's promtail.yaml on CRI-format log files, pushing to a local sink. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { promtailConfig } from "../../../components/log-collector/promtail";
import { pinnedBinary } from "../local/binaries";
import { LOOPBACK } from "../local/processes";
import { Generated, Run, collectorCatalogue } from "./run";

export async function promtail(r: Run): Promise<Generated> {
  const binary = pinnedBinary("promtail");
  const sink = await r.sink();
  const start = (fast: boolean) => (logs: string, port: number) => {
    const config = promtailConfig({ lokiNamespace: "monitoring" }) as {
      server: Record<string, unknown>;
      positions: Record<string, unknown>;
      clients: Array<Record<string, unknown>>;
      scrape_configs: Array<Record<string, unknown>>;
    };
    config.server = {
      ...config.server,
      http_listen_address: LOOPBACK,
      http_listen_port: port,
      grpc_listen_address: LOOPBACK,
      grpc_listen_port: 0,
    };
    config.positions = { filename: path.join(logs, "..", "positions.yaml") };
    config.clients = config.clients.map((c) => ({
      ...c,
      url: sink.url("/loki/api/v1/push"),
      ...(fast ? { backoff_config: { min_period: "100ms", max_period: "200ms", max_retries: 2 } } : {}),
      batchwait: "200ms",
    }));
    config.scrape_configs = config.scrape_configs.map((s) => {
      const rest = { ...s };
      delete rest.kubernetes_sd_configs;
      delete rest.relabel_configs;
      return { ...rest, static_configs: [{ targets: ["localhost"], labels: { job: "pods", __path__: `${logs}/*.log` } }] };
    });
    const file = path.join(logs, "..", "promtail.yaml");
    fs.writeFileSync(file, YAML.stringify(config));
    return { binary, args: [`-config.file=${file}`] };
  };
  return collectorCatalogue(
    r,
    "promtail",
    sink,
    start,
    "Its own /metrics, with the promtail.yaml of components/promtail.ts (promtailConfig) except: listening on 127.0.0.1, a static target of CRI-format log files under <tmp> instead of Kubernetes pod discovery (same pipeline stages), pushing to a local sink (batchwait 200ms). Metrics of the Kubernetes discovery itself are therefore not listed.",
  );
}
