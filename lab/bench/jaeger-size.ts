/**
 * The pure parts of `npm run jaeger-size` (scripts/jaeger-size.ts), which runs no binary itself: its arguments,
 * the span count a request of the benchmark's app makes, what it keeps of Jaeger's metrics, and the summary of
 * its samples.
 */
import * as path from "path";
import { ROOT } from "../../cli/stackfile";

/** Spans the app makes a request: 3 for /cart, 4 for the two other routes, a retried payment call in 5 % of those. */
export const SPANS_PER_REQUEST = (1 * 3 + 2 * (4 + 0.05)) / 3;

/** One sample: minutes since the app started, and the figures at that time. */
export interface SizeSample {
  minute: number;
  /** `du` of Badger's directories, bytes on disk. */
  keysBytes: number;
  valuesBytes: number;
  /** /proc/<jaeger>/io write_bytes since Jaeger started. */
  writtenBytes: number;
  /** Spans the app sent, and Jaeger accepted and stored, since the start. */
  sentSpans: number;
  acceptedSpans: number;
  storedSpans: number;
  /** Jaeger's own series about Badger, by their full name and labels. */
  badger: Record<string, number>;
}

export interface SizeArgs {
  spans: number;
  minutes: number;
  stack: string;
  out: string;
  /** Badger's TTL instead of the rendered retention (a Go duration), to see spans expire within a run. */
  ttl?: string;
}

export function parseArgs(argv: string[]): SizeArgs {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at < 0 ? undefined : argv[at + 1];
  };
  const spans = Number(value("--spans") ?? "");
  const minutes = Number(value("--minutes") ?? "60");
  if (!(spans > 0)) throw new Error(`--spans must be a rate of spans a second above 0; got ${String(value("--spans"))}`);
  if (!(minutes >= 1)) throw new Error(`--minutes must be at least 1; got ${String(value("--minutes"))}`);
  const stack = value("--stack") ?? "staging";
  const ttl = value("--ttl");
  if (ttl !== undefined && !/^\d+[smh]$/.test(ttl)) throw new Error(`--ttl must be a Go duration such as 10m; got ${ttl}`);
  return { spans, minutes, stack, out: value("--out") ?? path.join(ROOT, "out", "jaeger-size", String(spans)), ...(ttl ? { ttl } : {}) };
}

/** Every series of `text` whose name holds `badger`, as `name{labels}` → value. */
export function badgerSeries(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)/.exec(line);
    if (m && m[1].includes("badger")) out[m[1]] = Number(m[2]);
  }
  return out;
}

/**
 * The run's summary (summary.json): the rates between the first and the last sample, since the app's start (Node
 * and the SDK) falls before the first, and the store's size and writes by the spans stored.
 */
export function summarize(args: SizeArgs, samples: SizeSample[]) {
  const [first, last] = [samples[0], samples[samples.length - 1]];
  const seconds = Math.max(1, (last.minute - first.minute) * 60);
  return {
    spansPerSecondAsked: args.spans,
    spansPerSecondSent: samples.length > 1 ? (last.sentSpans - first.sentSpans) / seconds : last.sentSpans / 60,
    spansPerSecondStored: samples.length > 1 ? (last.storedSpans - first.storedSpans) / seconds : last.storedSpans / 60,
    minutes: args.minutes,
    stack: args.stack,
    ttl: args.ttl ?? "rendered",
    bytesOnDisk: last.keysBytes + last.valuesBytes,
    bytesOnDiskPerSpan: (last.keysBytes + last.valuesBytes) / Math.max(1, last.storedSpans),
    writtenBytes: last.writtenBytes,
    writtenBytesPerSpan: last.writtenBytes / Math.max(1, last.storedSpans),
  };
}
