/**
 * Loki bounded by its volume (components/loki/limits.ts): the ingestion limits derived from
 * the claim's size and the retention with the benchmark's compression, the keys that set
 * them instead (validated, with the figures in the warning), and the rendered loki.yaml
 * (test/e2e/loki-limits.test.ts has the exact Loki release refuse a push over the rendered burst).
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ConfigError, parseStackConfig, type ParsedConfig } from "../../config";
import {
  LOKI_CHUNK_COMPRESSION,
  LOKI_DISK_FULL_THRESHOLD,
  LOKI_VOLUME_SHARE,
  ingestionProblems,
  lokiIngestionLimits,
  windowBytes,
} from "../../components/loki/limits";
import { readStackConfig } from "../../cli/stackfile";
import { render } from "../support/render";
import { alertRules } from "../support/rules";

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

function parse(stack: string, sets: string[]): ParsedConfig {
  const input = readStackConfig(stack, sets);
  return parseStackConfig({ project: input.project, stack, values: input.config, secretKeys: input.secretKeys });
}
function problemsOf(stack: string, sets: string[]): string[] {
  try {
    parse(stack, sets);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.key}: ${p.message}`);
    throw err;
  }
  return [];
}
const limitsOf = (text: string) =>
  (YAML.parse(text) as { limits_config: Record<string, unknown>; ingester: { wal: Record<string, unknown> } }).limits_config;

describe("the limits derived from the volume", () => {
  test("staging (10Gi, 3d) and production (30Gi, 7d): whole KiB, a burst of 10 minutes, one stream half of each", () => {
    expect(lokiIngestionLimits(10 * GIB, "3d")).toEqual({
      rateBytes: 96 * KIB,
      burstBytes: 96 * 600 * KIB,
      perStreamRateBytes: 48 * KIB,
      perStreamBurstBytes: 48 * 600 * KIB,
    });
    expect(lokiIngestionLimits(30 * GIB, "7d")).toEqual({
      rateBytes: 152 * KIB,
      burstBytes: 152 * 600 * KIB,
      perStreamRateBytes: 76 * KIB,
      perStreamBurstBytes: 76 * 600 * KIB,
    });
  });

  test.each([
    [10 * GIB, "3d"],
    [30 * GIB, "7d"],
    [1 * GIB, "30d"],
    [500 * GIB, "1d"],
  ])("a window at the limits keeps no more than 80 %% of a %d-byte volume, retention %s, and nearly that", (volume, retention) => {
    const limits = lokiIngestionLimits(volume, retention);
    const share = windowBytes(limits, retention) / volume;
    expect(share).toBeLessThanOrEqual(LOKI_VOLUME_SHARE);
    expect(share).toBeGreaterThan(LOKI_VOLUME_SHARE * (volume < 2 * GIB ? 0.7 : 0.98));
  });

  test("the window is what the derivation says: retention and a day compressed, the burst compressed, the WAL raw", () => {
    // 100 KiB/s for 3d + 1d at 4.4×, a 1 MiB burst at 4.4×, 2h10m of raw WAL.
    expect(windowBytes({ rateBytes: 100 * KIB, burstBytes: MIB }, "3d")).toBeCloseTo(
      (100 * KIB * 4 * 86400 + MIB) / 4.4 + 100 * KIB * 7800,
      3,
    );
  });

  test("the compression is the benchmark's, as docs/benchmark.md reports it", () => {
    const page = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "benchmark.md"), "utf8");
    expect(Number(/compressed ([\d.]+)× as its flushed chunks/.exec(page)?.[1])).toBe(LOKI_CHUNK_COMPRESSION);
  });

  test("a figure given is kept, and the ones derived from it follow it", () => {
    expect(lokiIngestionLimits(10 * GIB, "3d", { rateBytes: 64 * KIB })).toEqual({
      rateBytes: 64 * KIB,
      burstBytes: 64 * 600 * KIB,
      perStreamRateBytes: 32 * KIB,
      perStreamBurstBytes: 32 * 600 * KIB,
    });
    expect(lokiIngestionLimits(10 * GIB, "3d", { perStreamBurstBytes: 512 * KIB }).perStreamBurstBytes).toBe(512 * KIB);
  });

  test("a volume too small for the retention is refused at its size; a small one keeps the smallest burst", () => {
    expect(ingestionProblems(256 * MIB, "256Mi", "30d", {}).problems).toEqual([
      { key: "storage.size", message: expect.stringContaining("256Mi cannot hold 30d of logs at any rate") },
    ]);
    expect(lokiIngestionLimits(GIB, "30d")).toMatchObject({ rateBytes: KIB, burstBytes: 4 * MIB, perStreamRateBytes: KIB });
  });
});

describe("the volume alerts", () => {
  test("LokiVolumeAlmostFull's critical level is where Loki refuses pushes, its warning and the prediction below or at it", () => {
    const rules = alertRules().filter((a) => a.alert.startsWith("LokiVolume"));
    const level = (severity: string, name = "LokiVolumeAlmostFull") =>
      Number(/([\d.]+)\s*$/.exec(rules.find((r) => r.alert === name && r.labels.severity === severity)?.expr.trim() ?? "")?.[1]);
    expect(level("critical")).toBe(LOKI_DISK_FULL_THRESHOLD);
    expect(level("warning")).toBeLessThan(LOKI_DISK_FULL_THRESHOLD);
    expect(level("warning", "LokiVolumeFillingUp")).toBe(LOKI_DISK_FULL_THRESHOLD);
  });
});

describe("config loki.ingestion", () => {
  test("unset: the stack file's Loki has the derived limits in its rendered loki.yaml", async () => {
    const limits = limitsOf((await render("staging")).files.get("loki/loki.yaml") ?? "");
    expect(limits).toMatchObject({
      ingestion_rate_mb: 96 / 1024,
      ingestion_burst_size_mb: (96 * 600) / 1024,
      per_stream_rate_limit: String(48 * KIB),
      per_stream_rate_limit_burst: String(48 * 600 * KIB),
    });
    expect(parse("staging", []).warnings).toEqual([]);
  });

  test("given: each figure reaches loki.yaml, and a larger volume raises the derived ones", async () => {
    const given = limitsOf(
      (
        await render("staging", [
          "loki.ingestion.rate=200Ki",
          "loki.ingestion.burst=8Mi",
          "loki.ingestion.perStreamRate=50Ki",
          "loki.storage.size=30Gi",
        ])
      ).files.get("loki/loki.yaml") ?? "",
    );
    expect(given).toMatchObject({
      ingestion_rate_mb: 200 / 1024,
      ingestion_burst_size_mb: 8,
      per_stream_rate_limit: String(50 * KIB),
      per_stream_rate_limit_burst: String(4 * MIB),
    });
    const larger = limitsOf((await render("staging", ["loki.storage.size=20Gi"])).files.get("loki/loki.yaml") ?? "");
    expect(larger.ingestion_rate_mb).toBe(193 / 1024);
  });

  test("a burst smaller than a push, a stream's burst smaller than a line, and no quantity at all are refused with the key", () => {
    expect(problemsOf("staging", ["loki.ingestion.rate=fast"])).toEqual([
      expect.stringMatching(/^monitoring:loki\.ingestion\.rate: must be a positive Kubernetes quantity such as 512Mi/),
    ]);
    expect(problemsOf("staging", ["loki.ingestion.burst=512Ki", "loki.ingestion.perStreamBurst=100Ki"])).toEqual([
      expect.stringMatching(/^monitoring:loki\.ingestion\.burst: must be at least 1 MiB, the collector's batch.*\(got 512 KiB\)$/),
      expect.stringMatching(
        /^monitoring:loki\.ingestion\.perStreamBurst: must be at least 256 KiB, the longest line Loki takes.*\(got 100 KiB\)$/,
      ),
    ]);
    expect(problemsOf("staging", ["loki.storage.size=200Mi", "loki.retention=30d"])).toEqual([
      expect.stringMatching(/^monitoring:loki\.storage\.size: 200Mi cannot hold 30d of logs at any rate/),
    ]);
  });

  test("a malformed size or retention is one problem of its own, not one more about the limits", () => {
    expect(problemsOf("staging", ["loki.storage.size=ten"])).toEqual([expect.stringMatching(/^monitoring:loki\.storage\.size: must be/)]);
    expect(problemsOf("staging", ["loki.retention=soon"])).toEqual([expect.stringMatching(/^monitoring:loki\.retention: must be/)]);
  });

  test("a rate whose window outgrows the volume is a warning with the figures and the way out", () => {
    expect(parse("staging", ["loki.ingestion.rate=1Mi"]).warnings).toEqual([
      "monitoring:loki.ingestion.rate lets Loki keep more than its volume holds: 1 MiB/s for the 3d retention and a day, compressed 4.4× as " +
        "measured, with the write-ahead log, is 84.45 GiB on a 10Gi volume. On local-path, which does not enforce a claim's size, the rest " +
        "fills the node's disk. Raise loki.storage.size, shorten loki.retention, or leave the rate to its derived 96 KiB/s.",
    ]);
    expect(parse("staging", ["loki.ingestion.rate=100Ki"]).warnings).toEqual([]);
  });
});
