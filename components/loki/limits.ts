/**
 * Loki's ingestion limits, sized to its volume: the rate at which logs may come in, for
 * the whole cluster (Loki's one tenant) and for one stream, with their bursts, chosen so
 * that what the retention window keeps cannot outgrow the claim.
 *
 * The volume needs the bound from Loki itself: k3s's local-path provisioner does not
 * enforce a claim's size (its volumes are directories of the node's filesystem), so a log
 * storm would fill the disk k3s and the databases share. A real CSI class would stop Loki
 * at the claim's size instead, with the same logs lost, later and less predictably.
 *
 * The derivation, for a volume of V bytes and a retention of R:
 *
 * - Loki keeps a chunk until the compactor deletes it, some time after the retention:
 *   the compactor works on daily index tables, deletes what it marked after a delay
 *   (retention_delete_delay, 2h) and runs every 10 minutes. Counted as R + 1 day: W.
 * - What comes in at r bytes a second is stored compressed: the benchmark's flushed
 *   chunks held the bytes Loki received compressed 4.4× (docs/benchmark.md, "Footprint"), C.
 * - The write-ahead log holds the last 2 hours (max_chunk_age, the chunks still in
 *   memory) uncompressed, with a checkpoint every 5 minutes: T = 2h10m of raw bytes.
 * - The burst B lets b = r × 10 minutes through at once, stored compressed too.
 * - The limits fill at most 80 % of the volume (S): the rest is for the index, the
 *   compactor's working copies and logs that compress worse than the benchmark's (with
 *   S = 0.8, logs compressed 3.5× instead of 4.4× fill the volume exactly).
 *
 *   on disk = r × W / C + b / C + r × T ≤ S × V,   b = r × B
 *   r = S × V × C / (W + B + T × C)
 *
 * Staging (10Gi, 3d): r = 96 KiB/s, b = 56.3 MiB; production (30Gi, 7d): 152 KiB/s,
 * 89.1 MiB. The benchmark's cluster (about 100 pods) sent 8 KB/s steadily and 40 KB/s in
 * its burst: a twelfth and two fifths of the staging rate. One stream may take half of each
 * (a storm in one container leaves the others room), its burst never less than the
 * longest line Loki accepts.
 *
 * Every figure can be set instead (config loki.ingestion); one that lets the window outgrow
 * the volume is reported at preview as a warning, with the figures.
 */
import { formatBytes, validSeconds } from "../kit/units";

const KIB = 1024;
const MIB = 1024 * KIB;

/** Loki's flushed chunks against the bytes it received, measured by `npm run bench` (docs/benchmark.md, "Footprint"). */
export const LOKI_CHUNK_COMPRESSION = 4.4;
/** Share of the volume the derived limits let the retention window fill. */
export const LOKI_VOLUME_SHARE = 0.8;
/** Time a chunk outlives the retention before the compactor has deleted it (W = R + this). */
export const LOKI_RETENTION_MARGIN_SECONDS = 24 * 3600;
/** What the write-ahead log holds uncompressed: max_chunk_age (2h) and two checkpoint intervals (5m). */
export const LOKI_WAL_SECONDS = 2 * 3600 + 2 * 5 * 60;
/** The tenant's burst: this many seconds of its rate at once. */
export const LOKI_BURST_SECONDS = 10 * 60;
/**
 * The collector pushes batches of up to 1 MiB (Alloy's default batch size),
 * and Loki refuses a push larger than the burst whole, however idle it was: the tenant's
 * burst is never less than four batches.
 */
export const LOKI_MIN_BURST_BYTES = 4 * MIB;
/** The collectors' batch: the least burst that lets any push through. */
export const COLLECTOR_BATCH_BYTES = MIB;
/** The longest line Loki takes (max_line_size; longer ones are truncated): one stream's burst lets it through. */
export const LOKI_MAX_LINE_BYTES = 256 * KIB;
/**
 * Use of the filesystem under the write-ahead log at which Loki's ingester refuses every push
 * (ingester.wal.disk_full_threshold; its default, written out so that the alerts of
 * rules/logs.yml and the config say the same).
 */
export const LOKI_DISK_FULL_THRESHOLD = 0.9;

/** The limits as Loki applies them, in bytes (per second for the rates). */
export interface LokiIngestionLimits {
  rateBytes: number;
  burstBytes: number;
  perStreamRateBytes: number;
  perStreamBurstBytes: number;
}

/** The limits a stack sets itself (config loki.ingestion), as bytes; the others are derived. */
export type LokiIngestionOverrides = Partial<LokiIngestionLimits>;

/** The config keys, under loki.ingestion, of each limit. */
export const INGESTION_KEYS: Readonly<Record<keyof LokiIngestionLimits, string>> = {
  rateBytes: "rate",
  burstBytes: "burst",
  perStreamRateBytes: "perStreamRate",
  perStreamBurstBytes: "perStreamBurst",
};

const wholeKiB = (bytes: number) => Math.max(0, Math.floor(bytes / KIB)) * KIB;

function windowSeconds(retention: string): number {
  return validSeconds(retention) + LOKI_RETENTION_MARGIN_SECONDS;
}

/** Bytes on the volume when logs come in at the limits for the whole retention window (the derivation above). */
export function windowBytes(limits: Pick<LokiIngestionLimits, "rateBytes" | "burstBytes">, retention: string): number {
  const w = windowSeconds(retention);
  return (limits.rateBytes * w + limits.burstBytes) / LOKI_CHUNK_COMPRESSION + limits.rateBytes * LOKI_WAL_SECONDS;
}

/**
 * The limits of a Loki with a volume of `volumeBytes` and this retention: each override
 * as given, the rest derived (the rate from the volume, the burst from the rate, one
 * stream's from the tenant's), in whole KiB. A volume too small to hold a KiB a second
 * for the window gives a rate of 0: see ingestionProblems.
 */
export function lokiIngestionLimits(volumeBytes: number, retention: string, overrides: LokiIngestionOverrides = {}): LokiIngestionLimits {
  const budget = LOKI_VOLUME_SHARE * volumeBytes * LOKI_CHUNK_COMPRESSION;
  const w = windowSeconds(retention);
  const walRaw = LOKI_WAL_SECONDS * LOKI_CHUNK_COMPRESSION;
  let rate = budget / (w + LOKI_BURST_SECONDS + walRaw);
  // A small volume: the smallest burst, and the rate from what it leaves.
  if (rate * LOKI_BURST_SECONDS < LOKI_MIN_BURST_BYTES) rate = (budget - LOKI_MIN_BURST_BYTES) / (w + walRaw);
  const rateBytes = overrides.rateBytes ?? wholeKiB(rate);
  const burstBytes = overrides.burstBytes ?? Math.max(LOKI_MIN_BURST_BYTES, wholeKiB(rateBytes * LOKI_BURST_SECONDS));
  return {
    rateBytes,
    burstBytes,
    perStreamRateBytes: overrides.perStreamRateBytes ?? Math.max(Math.min(KIB, rateBytes), wholeKiB(rateBytes / 2)),
    perStreamBurstBytes: overrides.perStreamBurstBytes ?? Math.max(LOKI_MAX_LINE_BYTES, wholeKiB(burstBytes / 2)),
  };
}

/** A problem with the limits, by its key under loki.ingestion (`rate`, ...), or `storage.size` when no rate fits the volume. */
export interface IngestionProblem {
  key: string;
  message: string;
}

/**
 * What Loki would get wrong with these limits: refusals (a burst smaller than a push, a
 * stream's burst smaller than a line, no rate at all) and, as warnings, a rate whose
 * window outgrows the volume.
 */
export function ingestionProblems(
  volumeBytes: number,
  volumeText: string,
  retention: string,
  overrides: LokiIngestionOverrides,
): { problems: IngestionProblem[]; warnings: IngestionProblem[] } {
  const limits = lokiIngestionLimits(volumeBytes, retention, overrides);
  const derived = lokiIngestionLimits(volumeBytes, retention);
  const problems: IngestionProblem[] = [];
  const warnings: IngestionProblem[] = [];
  const rate = (b: number) => `${formatBytes(b)}/s`;
  if (overrides.rateBytes === undefined && derived.rateBytes <= 0) {
    problems.push({
      key: "storage.size",
      message:
        `${volumeText} cannot hold ${retention} of logs at any rate: with a day's margin, the write-ahead log and the smallest burst ` +
        `(${formatBytes(LOKI_MIN_BURST_BYTES)}) it fills up first; give Loki a larger volume or a shorter loki.retention`,
    });
    return { problems, warnings };
  }
  if (limits.burstBytes < COLLECTOR_BATCH_BYTES) {
    problems.push({
      key: INGESTION_KEYS.burstBytes,
      message: `must be at least ${formatBytes(COLLECTOR_BATCH_BYTES)}, the collector's batch: Loki refuses a push larger than the burst whole, so every full batch would be lost (got ${formatBytes(limits.burstBytes)})`,
    });
  }
  if (limits.perStreamBurstBytes < LOKI_MAX_LINE_BYTES) {
    problems.push({
      key: INGESTION_KEYS.perStreamBurstBytes,
      message: `must be at least ${formatBytes(LOKI_MAX_LINE_BYTES)}, the longest line Loki takes: a longer burst than a stream allows is refused, so such lines would be lost (got ${formatBytes(limits.perStreamBurstBytes)})`,
    });
  }
  if (limits.perStreamRateBytes > limits.rateBytes) {
    warnings.push({
      key: INGESTION_KEYS.perStreamRateBytes,
      message: `(${rate(limits.perStreamRateBytes)}) is more than the whole rate (${rate(limits.rateBytes)}): it never applies`,
    });
  }
  const onDisk = windowBytes(limits, retention);
  if (onDisk > volumeBytes) {
    warnings.push({
      key: overrides.rateBytes !== undefined ? INGESTION_KEYS.rateBytes : INGESTION_KEYS.burstBytes,
      message:
        `lets Loki keep more than its volume holds: ${rate(limits.rateBytes)} for the ${retention} retention and a day, compressed ` +
        `${LOKI_CHUNK_COMPRESSION}× as measured, with the write-ahead log, is ${formatBytes(onDisk)} on a ${volumeText} volume. On ` +
        `local-path, which does not enforce a claim's size, the rest fills the node's disk. Raise loki.storage.size, shorten ` +
        `loki.retention, or leave the rate to its derived ${rate(derived.rateBytes)}`,
    });
  }
  return { problems, warnings };
}
