/** The profiles a stack runs as, and how a component writes its defaults for each: production as staging's, overridden. */

/**
 * Staging is small and cheap: single replicas, a week of metrics, three days of logs. Production
 * is HA, with 30 days of metrics and 7 days of logs (as in the earlier stacks), volumes protected;
 * its replicas are what it runs on enough nodes (config's resolve: with fewer, one per node).
 * Requests and limits come from the same measurements in both (npm run bench): staging's are
 * steady × 1.25 and memory peak × 2; production has more headroom, requests steady × 1.5 and
 * memory limits peak × 3 (an incident in production, and the queries it brings, matter more).
 */
export const PROFILES = ["staging", "production"] as const;
export type Profile = (typeof PROFILES)[number];

/** What a deep partial override of the defaults may hold. */
type Overrides<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Overrides<T[K]> : T[K] };

/** `base` with `overrides` merged in, object by object (a list replaces the base's whole). */
export function withOverrides<T extends object>(base: T, overrides: Overrides<T>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    const current = out[key];
    const nested = typeof value === "object" && value !== null && !Array.isArray(value) && typeof current === "object" && current !== null;
    out[key] = nested ? withOverrides(current as object, value as Overrides<object>) : value;
  }
  return out as T;
}
