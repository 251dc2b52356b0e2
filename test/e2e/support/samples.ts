/**
 * What a Prometheus holds, sample by sample, for the fault tests that compare it before and after
 * a kill or a restart: every sample a query returned is one Prometheus acknowledged (it was in its
 * head, so in its WAL), and must read back the same afterwards.
 */
import { httpGet } from "../../../lab/local/http";

/** A series' labels, sorted, as one key. */
function seriesKey(metric: Record<string, string>): string {
  return JSON.stringify(Object.entries(metric).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Every raw sample of `selector` over `range` before `time` (seconds), as `series@timestamp` → value:
 * a range selector's instant query returns the samples themselves, no evaluation between them.
 */
export async function samplesOf(prometheus: string, selector: string, range: string, time: number): Promise<Map<string, string>> {
  const query = new URLSearchParams({ query: `${selector}[${range}]`, time: String(time) });
  const res = await httpGet(`${prometheus}/api/v1/query?${query.toString()}`, 60_000);
  if (res.status !== 200) throw new Error(`query ${selector}[${range}] at ${time}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  const body = JSON.parse(res.body) as { data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
  const out = new Map<string, string>();
  for (const series of body.data.result) {
    const key = seriesKey(series.metric);
    for (const [ts, value] of series.values) out.set(`${key}@${ts}`, value);
  }
  return out;
}

/** The samples of `before` that `after` lacks or holds with another value (each `series@timestamp`). */
export function missing(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...before].filter(([k, v]) => after.get(k) !== v).map(([k]) => k);
}

/** The number of distinct series among samples keyed `series@timestamp`. */
export function seriesCount(samples: Map<string, string>): number {
  return new Set([...samples.keys()].map((k) => k.slice(0, k.lastIndexOf("@")))).size;
}
