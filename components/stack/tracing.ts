/**
 * Whether the traces backend runs: `tracing.enabled` as the stack sets it, or, not set, exactly
 * when an app sends OTLP (`apps[].otlp`). The apps are not the tracing section's, so the default
 * is resolved here, where the registry wires the sections (components/stack/sections.ts), over
 * what the section resolved.
 */
import type { AppTarget } from "../prometheus/args";
import type { TracingSettings } from "../tracing/section";

/** Why tracing is on or off: `set`, tracing.enabled given in the stack; `apps`, not given, so on exactly when an app sends OTLP. */
export type TracingEnabledBy = "set" | "apps";

/** The tracing section with `enabled` resolved over the apps, and why it is what it is. */
export type ResolvedTracing = TracingSettings & { enabledBy: TracingEnabledBy };

/** The section's values with `enabled` as given, or on exactly when one of the apps sends OTLP. */
export function resolveTracing(
  section: TracingSettings,
  given: boolean | undefined,
  apps: ReadonlyArray<Pick<AppTarget, "otlp">>,
): ResolvedTracing {
  if (given !== undefined) return { ...section, enabled: given, enabledBy: "set" };
  return { ...section, enabled: apps.some((a) => a.otlp === true), enabledBy: "apps" };
}
