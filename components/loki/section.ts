/** Loki's section of the stack file (`loki`): its fields, its defaults per profile, its resolution and its problems. */
import { z } from "zod";
import { bool, bytesQuantity, durationWith, resources, storage } from "../kit/fields";
import { componentSection, overDefaults } from "../kit/section";
import { quantityBytes } from "../kit/units";
import { LOKI_DEFAULTS, LokiDefaults } from "./args";
import { INGESTION_KEYS, LokiIngestionOverrides } from "./limits";
import { problems, warnings } from "./problems";

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
  defaults: (profile): LokiDefaults => LOKI_DEFAULTS[profile],
  resolve: (given, context): LokiDefaults => {
    const { ingestion, ...plain } = given ?? {};
    return { ...overDefaults(LOKI_DEFAULTS[context.profile], plain, context), ingestion: ingestionBytes(ingestion) };
  },
  problems: (loki) => (loki.enabled ? problems(loki) : []),
  warnings: (loki) => (loki.enabled ? warnings(loki) : []),
});
