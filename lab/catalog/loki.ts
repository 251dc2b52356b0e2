/** The catalogue of loki: single binary with the stack's loki.yaml made local; lines pushed, queried, and one refused. */
import * as YAML from "yaml";
import { LOKI_PATHS, ingestionOf, lokiConfig } from "../../components/loki";
import { getOk, postJson } from "../local/http";
import { pinnedBinary } from "../local/binaries";
import { localLokiArgs, lokiReady } from "../local/logs";
import { LOOPBACK } from "../ports";
import { scrapeTwice } from "../local/text-format";
import { CatalogError, Generated, Run, minus } from "./run";

export async function loki(r: Run): Promise<Generated> {
  const [httpPort, grpcPort] = [await r.port(), await r.port()];
  const config = lokiConfig({ retention: "3d", ingestion: ingestionOf({ storage: { size: "10Gi" }, retention: "3d" }) });
  const command = {
    binary: pinnedBinary("loki"),
    args: localLokiArgs(YAML.stringify(config), r.tmp, { http: httpPort, grpc: grpcPort }),
  };
  // The rules directory the container mounts: the ruler reads it, empty.
  r.dir("loki", LOKI_PATHS.rules);
  const proc = r.start("loki", command);
  const base = `http://${LOOPBACK}:${httpPort}`;
  await lokiReady(proc, base, 120_000);
  const push = (ageSeconds: number, line: string) =>
    postJson(`${base}/loki/api/v1/push`, {
      streams: [
        {
          stream: { namespace: "catalog", pod: "catalog-0", container: "app" },
          values: [[`${BigInt(Date.now() - ageSeconds * 1000) * 1_000_000n}`, line]],
        },
      ],
    });
  for (let i = 0; i < 3; i++) {
    const res = await push(0, `level=info msg="catalogue line ${i}"`);
    if (res.status !== 204) throw new CatalogError(`pushing to Loki: HTTP ${res.status} ${res.body}`);
  }
  const now = Date.now() * 1_000_000;
  await getOk(`${base}/loki/api/v1/query_range?query=${encodeURIComponent('{namespace="catalog"}')}&start=${now - 3600e9}&end=${now}`);
  await getOk(`${base}/loki/api/v1/query?query=${encodeURIComponent('sum(count_over_time({namespace="catalog"}[5m]))')}`);
  await getOk(`${base}/loki/api/v1/labels`);
  const accepted = await scrapeTwice(`${base}/metrics`);
  // A line older than reject_old_samples_max_age: refused, as a collector replaying old files would be.
  const refused = await push(30 * 24 * 3600, "too old");
  if (refused.status !== 400) throw new CatalogError(`Loki accepted a line 30 days old (HTTP ${refused.status})`);
  const after = await scrapeTwice(`${base}/metrics`);
  return {
    notes: [
      'Single binary (-target=all), the loki.yaml of components/loki/index.ts (lokiConfig, retention "3d") with its paths under <tmp> and its ports on 127.0.0.1; lines were pushed, queried back and labels listed.',
    ],
    commands: [command],
    names: accepted.names,
    conditional: [
      {
        why: "after Loki refused a push (here a line older than reject_old_samples_max_age)",
        commands: [],
        names: minus(after.names, accepted.names),
      },
    ],
  };
}
