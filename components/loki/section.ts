/**
 * Loki's section of the stack file (`loki`): its fields, declared here once (the defaults, the
 * resolved values and the component's args are typed from the schema), its defaults per profile,
 * its resolution, and its problems and warnings: the ingestion limits against the volume (limits.ts).
 */
import { z } from "zod";
import { bool, bytesQuantity, durationWith, resources, storage } from "../kit/fields";
import { ArgsProblem } from "../kit/problems";
import { Profile, withOverrides } from "../kit/profiles";
import { requirements } from "../kit/resources";
import { FieldsOf, componentSection, overDefaults } from "../kit/section";
import { durationSeconds, quantityBytes } from "../kit/units";
import { INGESTION_KEYS, LokiIngestionOverrides, ingestionProblems } from "./limits";

const schema = z.strictObject({
  enabled: bool.optional(),
  // Loki's compactor deletes whole daily index tables, so retention is counted in days.
  retention: durationWith((ms) => (ms % 86_400_000 === 0 ? undefined : "must be a whole number of days such as 3d, 7d or 2w"))
    .optional()
    .describe("How long logs are kept (whole days)."),
  storage: storage.optional(),
  resources: resources.optional(),
  // Derived from the volume and the retention when not given (limits.ts).
  ingestion: z
    .strictObject({
      rate: bytesQuantity.optional().describe("Bytes a second Loki takes in, for the whole cluster (Loki's ingestion_rate_mb)."),
      burst: bytesQuantity.optional().describe("Bytes Loki takes at once above the rate (ingestion_burst_size_mb); at least 1Mi."),
      perStreamRate: bytesQuantity.optional().describe("Bytes a second one stream may send (per_stream_rate_limit)."),
      perStreamBurst: bytesQuantity.optional().describe("Bytes one stream may send at once (per_stream_rate_limit_burst); at least 256Ki."),
    })
    .optional(),
});

/**
 * What the stack's config holds of Loki: each field of the section, `ingestion` in bytes: the limits
 * the stack sets itself; the others are derived from the volume's size and the retention (limits.ts).
 */
export type LokiSettings = Omit<FieldsOf<typeof schema>, "ingestion"> & { ingestion: LokiIngestionOverrides };

// npm run bench: 182 MiB and 13m steady, 235 MiB at the peak, plus 24 MiB for the two hours of
// chunks its ingester holds (× 1.25, × 2).
// Ingestion limits: derived from the volume and the retention unless given (components/loki/limits.ts).
const LOKI_STAGING: LokiSettings = {
  enabled: true,
  retention: "3d",
  storage: { size: "10Gi" },
  resources: requirements("20m", "272Mi", "1", "528Mi"),
  ingestion: {},
};

/** Loki's defaults in each profile: three days of logs in staging, seven in production (kit/profiles.ts: the headroom). */
const LOKI_DEFAULTS: Record<Profile, LokiSettings> = {
  staging: LOKI_STAGING,
  production: withOverrides(LOKI_STAGING, {
    retention: "7d",
    storage: { size: "30Gi" },
    resources: requirements("20m", "320Mi", "2", "784Mi"),
  }),
};

/** loki.ingestion as given, in bytes (the schema checked that each is a byte quantity). */
function ingestionBytes(given: Partial<Record<string, string>> | undefined): LokiIngestionOverrides {
  const out: LokiIngestionOverrides = {};
  for (const [field, key] of Object.entries(INGESTION_KEYS) as Array<[keyof LokiIngestionOverrides, string]>) {
    const bytes = given?.[key] === undefined ? undefined : quantityBytes(given[key] ?? "");
    if (bytes !== undefined) out[field] = bytes;
  }
  return out;
}

/** The `loki` section; its problems and warnings only while Loki runs. */
export const lokiSection = componentSection({
  schema,
  defaults: (profile): LokiSettings => LOKI_DEFAULTS[profile],
  resolve: (given, context): LokiSettings => {
    const { ingestion, ...plain } = given ?? {};
    return { ...overDefaults(LOKI_DEFAULTS[context.profile], plain, context), ingestion: ingestionBytes(ingestion) };
  },
  problems: (loki) => (loki.enabled ? problems(loki) : []),
  warnings: (loki) => (loki.enabled ? warnings(loki) : []),
  scrapeJobs: (loki) => (loki.enabled ? ["loki"] : []),
});

type IngestionArgs = Pick<LokiSettings, "storage" | "retention"> & Partial<Pick<LokiSettings, "ingestion">>;

/** The limits' problems and warnings, keyed under the section; none when the size or retention is malformed (a problem of its own). */
function ingestionFindings(args: IngestionArgs): { problems: ArgsProblem[]; warnings: ArgsProblem[] } {
  const volume = quantityBytes(args.storage.size);
  if (volume === undefined || durationSeconds(args.retention) === undefined) return { problems: [], warnings: [] };
  const checked = ingestionProblems(volume, args.storage.size, args.retention, args.ingestion ?? {});
  const underSection = ({ key, message }: ArgsProblem) => ({ key: key === "storage.size" ? key : `ingestion.${key}`, message });
  return { problems: checked.problems.map(underSection), warnings: checked.warnings.map(underSection) };
}

/** A volume that holds no rate for the retention; bursts smaller than a push or a line. */
export function problems(args: IngestionArgs): ArgsProblem[] {
  return ingestionFindings(args).problems;
}

/** Limits that deploy but that Loki does not keep to: a stream's rate over the whole, a window larger than the volume. */
export function warnings(args: IngestionArgs): ArgsProblem[] {
  return ingestionFindings(args).warnings;
}
