/** The profiles a stack runs as, and how a component writes its defaults for each: production as staging's, overridden. */

export const PROFILES = ["staging", "production"] as const;
export type Profile = (typeof PROFILES)[number];

/** What a deep partial override of the defaults may hold. */
export type Overrides<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Overrides<T[K]> : T[K] };

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
