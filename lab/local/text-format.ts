/**
 * Prometheus' text exposition format, as the local runs read it: the series names a /metrics
 * page exposes (as rules and dashboards name them) and the values of one metric.
 */
import { httpRequest } from "./http";
import { sleep } from "../processes/supervision";

/** Series names per family type, as the catalogue lists them (the family's own name where it is a series). */
const SERIES_SUFFIXES: Record<string, string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  gaugehistogram: ["_bucket", "_gsum", "_gcount"],
  summary: ["", "_sum", "_count"],
};

/** The catalogue names of a /metrics page (text format): every family its # TYPE/# HELP lines declare, and every sample name. */
export function exposedNames(text: string): Set<string> {
  const families = new Map<string, string>();
  const samples = new Set<string>();
  for (const line of text.split("\n")) {
    const meta = /^#\s+(TYPE|HELP)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(\S+))?/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") families.set(meta[2], meta[3] ?? "untyped");
      else if (!families.has(meta[2])) families.set(meta[2], "untyped");
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[\s{]/.exec(line);
    if (sample) samples.add(sample[1]);
  }
  const names = new Set<string>();
  for (const [family, type] of families) {
    for (const suffix of SERIES_SUFFIXES[type] ?? [""]) names.add(`${family}${suffix}`);
  }
  const ofSplitFamily = (sample: string) =>
    Object.entries(SERIES_SUFFIXES).some(([type, suffixes]) =>
      suffixes.some((s) => s && sample.endsWith(s) && families.get(sample.slice(0, -s.length)) === type),
    );
  for (const sample of samples) if (!ofSplitFamily(sample)) names.add(sample);
  return names;
}

/** A metric's values in a /metrics text (every series of the name, labels ignored). */
export function metricValues(text: string, name: string): number[] {
  const out: number[] = [];
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "gm");
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(Number(m[1]));
  return out;
}

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** A /metrics page and the names it exposes. */
export interface Scrape {
  text: string;
  names: Set<string>;
}

/** GET a /metrics page in the text format; fails unless 200. */
export async function scrape(url: string): Promise<Scrape> {
  const res = await httpRequest("GET", url, { headers: { Accept: "text/plain;version=0.0.4" }, timeoutMs: 60_000 });
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  return { text: res.body, names: exposedNames(res.body) };
}

/** The union of two scrapes a moment apart: families some exporters only fill on their second collection. */
export async function scrapeTwice(url: string): Promise<Scrape> {
  const first = await scrape(url);
  await sleep(1000);
  const second = await scrape(url);
  return { text: second.text, names: new Set([...first.names, ...second.names]) };
}
