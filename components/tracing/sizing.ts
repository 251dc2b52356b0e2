/**
 * How large Jaeger's store grows, from `npm run jaeger-size` (scripts/jaeger-size.ts: the
 * rendered config on the binary the stack deploys, an hour at 92 and at 495 spans/s, and at
 * 495 spans/s with a 10-minute TTL to see spans expire; the figures are in docs/benchmark.md,
 * "Jaeger's store over an hour"). Spans leave the store only by age, so it levels off at
 *
 *   store ≈ spans/s × retention (s) × STORE_BYTES_PER_SPAN + STORE_FIXED_BYTES
 *
 * and a claim holds it with the margin that keeps it under JaegerStorageAlmostFull's 85 %.
 */
import type { Profile } from "../kit/profiles";

/**
 * Bytes a span takes in the store once it has levelled off: Badger's tables (a span, its
 * trace, service, operation, tag and duration index keys, compressed) and the expired spans
 * it has not compacted away yet.
 */
export const STORE_BYTES_PER_SPAN = 1000;

/** What the store holds whatever the rate: the write-ahead logs of Badger's memtables (up to 6 of 128 MiB files, 64 MiB of data each). */
export const STORE_FIXED_BYTES = 512 * 1024 * 1024;

/** The share of the claim a levelled-off store may take: room below JaegerStorageAlmostFull's 85 % for a busier day. */
export const STORE_CLAIM_SHARE = 0.7;

/** The span rate each profile's default claim holds for its default retention (components/tracing/section.ts). */
export const SIZED_FOR_SPANS_PER_SECOND: Record<Profile, number> = { staging: 25, production: 50 };

/** The store's size at `spansPerSecond` for `retentionSeconds`, once it has levelled off. */
export function storeBytes(spansPerSecond: number, retentionSeconds: number): number {
  return spansPerSecond * retentionSeconds * STORE_BYTES_PER_SPAN + STORE_FIXED_BYTES;
}

/** The span rate a claim of `claimBytes` holds for `retentionSeconds`, the store within STORE_CLAIM_SHARE of it. */
export function spansPerSecondHeld(claimBytes: number, retentionSeconds: number): number {
  return Math.max(0, (claimBytes * STORE_CLAIM_SHARE - STORE_FIXED_BYTES) / (retentionSeconds * STORE_BYTES_PER_SPAN));
}
