/** What Prometheus refuses in its own args: remote writes told apart by name, and its intervals in order. */
import { ArgsProblem, duplicates } from "../kit/problems";
import { durationSeconds } from "../kit/units";
import { PrometheusArgs } from "./args";

/** Remote writes each with its own name; the retention and the scrape timeout against the scrape interval. */
export function problems(
  args: Pick<PrometheusArgs, "retention" | "scrapeInterval" | "scrapeTimeout"> & { remoteWrite?: ReadonlyArray<{ name: string }> },
): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  for (const name of duplicates((args.remoteWrite ?? []).map((r) => r.name))) {
    found.push({ key: "remoteWrite", message: `remote write name "${name}" is used more than once` });
  }
  const seconds = (d: string) => durationSeconds(d) ?? 0;
  if (seconds(args.retention) < seconds(args.scrapeInterval)) {
    found.push({
      key: "retention",
      message: `must be longer than prometheus.scrapeInterval (${args.scrapeInterval}); got ${args.retention}`,
      involves: ["scrapeInterval"],
    });
  }
  if (seconds(args.scrapeTimeout) > seconds(args.scrapeInterval)) {
    found.push({
      key: "scrapeTimeout",
      message: `must not exceed prometheus.scrapeInterval (${args.scrapeInterval}); got ${args.scrapeTimeout}`,
      involves: ["scrapeInterval"],
    });
  }
  // An app's interval may be shorter than the global scrapeTimeout: its job's timeout is then its interval (components/prometheus/scrape-jobs.ts).
  return found;
}
