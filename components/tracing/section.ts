/**
 * The traces backend's section of the stack file (`tracing`): its fields, declared here once (the
 * defaults, the resolved values and the component's args are typed from the schema), its defaults
 * per profile, its resolution and its problems: a retention too short to follow a trace from an alert.
 */
import { z } from "zod";
import { bool, duration, resources, storage } from "../kit/fields";
import { ArgsProblem } from "../kit/problems";
import { Profile, withOverrides } from "../kit/profiles";
import { requirements } from "../kit/resources";
import { FieldsOf, componentSection, overDefaults } from "../kit/section";
import { durationSeconds } from "../kit/units";
import { JOB } from "../kit/stack-jobs";

const schema = z.strictObject({
  enabled: bool
    .optional()
    .describe(
      "Run the traces backend (Jaeger, in-cluster only) that the collector's OTLP endpoint forwards spans to; default: on when an app sends OTLP (apps[].otlp), else off.",
    ),
  // At least 1h: problems() below.
  retention: duration.optional().describe("How long spans are kept (at least 1h)."),
  storage: storage.optional(),
  resources: resources.optional(),
});

/**
 * What a profile sets of the traces backend (config `tracing`). `enabled` is off in both: whether
 * Jaeger runs follows the apps (on when one sends OTLP), which config/ resolves (components/stack/tracing.ts).
 */
export type TracingSettings = FieldsOf<typeof schema>;

// Memory: Badger's defaults hold up to five 64 MiB memtables and a 256 MiB block cache, which the
// memory limit leaves room for (npm run bench: at most 383 MiB at 489 spans/s).
// Retention and claim: the store levels off at spans/s x retention x the bytes a span takes
// (sizing.ts, measured by npm run jaeger-size); each profile's claim holds its retention at the
// rate SIZED_FOR_SPANS_PER_SECOND states (staging 25 spans/s for a day in 5Gi, production
// 50 spans/s for three days in 20Gi), within 70 % of the claim. The claims keep their sizes: a
// larger default would be refused on a class that cannot expand (k3s's local-path).
// Off unless something sends it spans: without an app that sends OTLP (apps[].otlp) Jaeger would
// hold a claim and memory for nothing. config/ turns it on for such an app, and the stack's own
// tracing.enabled wins either way (components/stack/tracing.ts); only an explicit false in a stack that
// protects its volumes keeps the claim (dataOnly).
const TRACING_STAGING: TracingSettings = {
  enabled: false,
  retention: "1d",
  storage: { size: "5Gi" },
  resources: requirements("20m", "192Mi", "1", "768Mi"),
};

/** The traces backend in each profile: a day of spans in staging, three days (a weekend) in production. */
export const TRACING_DEFAULTS: Record<Profile, TracingSettings> = {
  staging: TRACING_STAGING,
  production: withOverrides(TRACING_STAGING, {
    retention: "3d",
    storage: { size: "20Gi" },
    resources: requirements("30m", "256Mi", "2", "1Gi"),
  }),
};

/**
 * The `tracing` section; its problems only while the backend runs. What the OTLP endpoint for
 * apps needs of the log collector spans sections (config/checks/tracing.ts).
 */
export const tracingSection = componentSection({
  schema,
  defaults: (profile): TracingSettings => TRACING_DEFAULTS[profile],
  resolve: (given, context) => overDefaults(TRACING_DEFAULTS[context.profile], given, context),
  problems: (tracing) => (tracing.enabled ? problems(tracing) : []),
  jobs: (tracing) => (tracing.enabled ? [JOB.jaeger] : []),
});

/** The shortest retention: spans kept less than an hour are gone before an alert's trace can be followed. */
export const MIN_RETENTION_SECONDS = 3600;

/** A retention under an hour (MIN_RETENTION_SECONDS). */
export function problems(args: Pick<TracingSettings, "retention">): ArgsProblem[] {
  const seconds = durationSeconds(args.retention);
  if (seconds === undefined || seconds >= MIN_RETENTION_SECONDS) return [];
  return [
    { key: "retention", message: `must be at least 1h, so that a trace outlives the alert that leads to it; got "${args.retention}"` },
  ];
}
