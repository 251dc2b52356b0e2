/**
 * `npm run catalog [-- <source> ...]`: writes the metric catalogue (catalog/<source>.txt)
 * from the real binaries of the pinned releases, .tools/bin/ (built by `npm run tools` from
 * the release each image in components/images.ts is tagged with), instead of by hand.
 *
 * Each source's binary is started on 127.0.0.1 only (free ports, a throwaway directory under
 * the system's temporary directory), with the flags the stack passes where they do not name
 * container paths, and with whatever it needs to have something to report: a PostgreSQL and a
 * Redis started here from the Debian packages, a local sink standing in for Alertmanager's
 * receivers, Loki's push API and remote-write, and the local control plane of `npm run
 * cluster` for kube-state-metrics. Its /metrics is scraped and every metric family is listed
 * (histograms as their _bucket, _sum and _count series, summaries as the family and its _sum
 * and _count, as rules and dashboards name them). Metrics that only appear in another setup
 * (remote write configured, an Alertmanager with peers, a Redis replica...) are found by
 * running the binary in that setup too, and listed under `# conditional: <why>`.
 *
 * Every process runs under coreutils `timeout` in its own process group: it is stopped when
 * its source is done, when this script fails or is interrupted, and dies by itself after
 * PROCESS_TTL_SECONDS even if this script is killed outright. Each source has a time limit.
 * One file per source under lab/catalog/, on the local-run library (lab/local/).
 *
 * Sources without a binary here (kubelet/cAdvisor, Grafana, the app contract) and the metrics
 * mongodb_exporter reads from a server (no MongoDB server can be installed here) stay
 * hand-written; their headers say so. Without arguments, every generated source is written.
 */
import * as fs from "fs";
import * as path from "path";
import { CATALOG_DIR } from "../../cli/catalog";
import { CatalogError, Run } from "../catalog/run";
import { SOURCES } from "../catalog/sources";
import { catalogText } from "../catalog/write";

function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CatalogError(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  // Past the deadline the work may still fail later, on its own: nobody waits for it any more.
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
let current: Run | undefined;
/** Set on SIGINT/SIGTERM/SIGHUP: nothing more is written. */
let interrupted = false;

export async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => !SOURCES.some((s) => s.name === a));
  if (unknown.length) {
    console.error(
      `unknown source(s): ${unknown.join(", ")}\nusage: npm run catalog [-- <source> ...], sources: ${SOURCES.map((s) => s.name).join(", ")}`,
    );
    return 2;
  }
  const chosen = argv.length ? SOURCES.filter((s) => argv.includes(s.name)) : SOURCES;
  const failed: string[] = [];
  for (const source of chosen) {
    if (interrupted) break;
    const began = Date.now();
    console.error(`catalog: ${source.name} ...`);
    const r = new Run(source.name);
    current = r;
    try {
      const generated = await withDeadline(source.generate(r), source.timeoutMs, source.name);
      if (interrupted) throw new CatalogError("interrupted: not written");
      const text = catalogText(source, r, generated);
      fs.writeFileSync(path.join(CATALOG_DIR, `${source.name}.txt`), text);
      const count = text.split("\n").filter((l) => l.replace(/#.*/, "").trim()).length;
      console.error(
        `catalog: ${source.name}: ${count} metrics in catalog/${source.name}.txt (${((Date.now() - began) / 1000).toFixed(0)} s)`,
      );
    } catch (err) {
      failed.push(source.name);
      console.error(`catalog: ${source.name} FAILED: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await r.cleanup();
      current = undefined;
    }
  }
  if (failed.length) console.error(`catalog: not written: ${failed.join(", ")}`);
  return failed.length ? 1 : 0;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    console.error(`catalog: ${signal}, stopping everything`);
    interrupted = true;
    const stopping = current?.cleanup() ?? Promise.resolve();
    void withDeadline(stopping, 15_000, "cleanup")
      .catch(() => undefined)
      .finally(() => process.exit(130));
  });
}
