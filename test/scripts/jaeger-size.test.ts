/**
 * npm run jaeger-size (scripts/jaeger-size.ts, its pure parts in lab/bench/jaeger-size.ts): its arguments, what it
 * reads of Jaeger's metrics, the span count a request makes, and the summary of its samples.
 */
import * as path from "path";
import { SPANS_PER_REQUEST, SizeSample, badgerSeries, parseArgs, summarize } from "../../lab/bench/jaeger-size";

test("only Jaeger's Badger series are kept, by name and labels, comments and other series left out", () => {
  const text = [
    "# HELP jaeger_storage_badger_size_bytes_lsm x",
    "# TYPE jaeger_storage_badger_size_bytes_lsm gauge",
    'jaeger_storage_badger_size_bytes_lsm{kind="badger",role="tracestore"} 1.7751984e+07',
    'jaeger_storage_badger_size_bytes_vlog{kind="badger",role="tracestore"} 2147483646',
    'otelcol_exporter_sent_spans_total{exporter="jaeger_storage_exporter"} 77707',
    "",
  ].join("\n");
  expect(badgerSeries(text)).toEqual({
    'jaeger_storage_badger_size_bytes_lsm{kind="badger",role="tracestore"}': 17751984,
    'jaeger_storage_badger_size_bytes_vlog{kind="badger",role="tracestore"}': 2147483646,
  });
});

test("a request of the app makes 3.7 spans: the rate asked in spans/s becomes requests/s by it", () => {
  expect(SPANS_PER_REQUEST).toBeCloseTo(3.7, 5);
});

test("the arguments: --spans is required, 60 minutes on the staging stack into out/jaeger-size/<spans> unless told", () => {
  const args = parseArgs(["--spans", "92"]);
  expect(args).toEqual({ spans: 92, minutes: 60, stack: "staging", out: expect.any(String) as string });
  expect(args.out.split(path.sep).slice(-3)).toEqual(["out", "jaeger-size", "92"]);
  expect(parseArgs(["--spans", "495", "--minutes", "5", "--stack", "production", "--ttl", "10m", "--out", "/tmp/x"])).toEqual({
    spans: 495,
    minutes: 5,
    stack: "production",
    out: "/tmp/x",
    ttl: "10m",
  });
  expect(() => parseArgs([])).toThrow("--spans must be a rate of spans a second above 0; got undefined");
  expect(() => parseArgs(["--spans", "92", "--minutes", "0"])).toThrow("--minutes must be at least 1; got 0");
  expect(() => parseArgs(["--spans", "92", "--ttl", "10 minutes"])).toThrow("--ttl must be a Go duration such as 10m; got 10 minutes");
});

test("the summary takes its rates between the first and the last sample, its sizes from the last", () => {
  const sample = (minute: number, sent: number, stored: number, keys: number, values: number, written: number): SizeSample => ({
    minute,
    keysBytes: keys,
    valuesBytes: values,
    writtenBytes: written,
    sentSpans: sent,
    acceptedSpans: stored,
    storedSpans: stored,
    badger: {},
  });
  const args = { spans: 100, minutes: 3, stack: "staging", out: "/tmp/x" };
  const summary = summarize(args, [
    sample(1, 5_000, 4_000, 10, 0, 50),
    sample(2, 11_000, 10_000, 20, 0, 60),
    sample(3, 17_000, 16_000, 3_000, 1_000, 8_000),
  ]);
  expect(summary).toEqual({
    spansPerSecondAsked: 100,
    spansPerSecondSent: 12_000 / 120,
    spansPerSecondStored: 12_000 / 120,
    minutes: 3,
    stack: "staging",
    ttl: "rendered",
    bytesOnDisk: 4_000,
    bytesOnDiskPerSpan: 4_000 / 16_000,
    writtenBytes: 8_000,
    writtenBytesPerSpan: 8_000 / 16_000,
  });
  // One sample: its counts over the minute it covers.
  expect(summarize({ ...args, ttl: "10m" }, [sample(1, 6_000, 3_000, 0, 0, 0)])).toMatchObject({
    spansPerSecondSent: 100,
    spansPerSecondStored: 50,
    ttl: "10m",
    bytesOnDiskPerSpan: 0,
  });
});
