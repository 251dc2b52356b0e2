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
import { FieldsOf, SecretStandIns, componentSection, overDefaults, textStandIn } from "../kit/section";
import { durationSeconds, quantityBytes } from "../kit/units";
import { STORE_ACCESS_KEY_ID, STORE_SECRET_ACCESS_KEY, StoreProvider, storeFields, storeProblems } from "../kit/object-store";
import { INGESTION_KEYS, LokiIngestionOverrides, ingestionProblems } from "./limits";
import { JOB } from "../kit/stack-jobs";

/**
 * The day Loki's first schema period starts (tsdb on the filesystem): never edited once logs are
 * stored. A bucket (loki.objectStore) is a later period of its own, from its `from`.
 */
export const LOKI_SCHEMA_FROM = "2024-04-01";

/** Loki's chunks and index in an S3-compatible bucket: the backup section's store fields, and the day it starts. */
const objectStore = z
  .strictObject({
    ...storeFields("The bucket Loki's chunks and index go to (required), a bucket of its own."),
    from: z
      .string({ error: "must be a day such as 2026-12-01" })
      .optional()
      .describe(
        "The first day (UTC, YYYY-MM-DD) whose logs go to the bucket: Loki's schema period on it. A stack that holds logs on its volume names a day to come; the days before stay on the volume (required).",
      ),
  })
  .describe(
    "Loki's chunks and index in an S3-compatible bucket (R2, S3, B2, MinIO); its volume keeps the WAL and a cache. Default none: on the volume.",
  );

const schema = z.strictObject({
  enabled: bool.optional(),
  // Loki's compactor deletes whole daily index tables, so retention is counted in days.
  retention: durationWith((ms) => (ms % 86_400_000 === 0 ? undefined : "must be a whole number of days such as 3d, 7d or 2w"))
    .optional()
    .describe("How long logs are kept (whole days)."),
  storage: storage.optional(),
  objectStore: objectStore.optional(),
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
export type LokiSettings = Omit<FieldsOf<typeof schema, "objectStore">, "ingestion" | "objectStore"> & {
  ingestion: LokiIngestionOverrides;
  /** The bucket, when given (loki.objectStore), its provider and region defaulted, with the key pair (secrets lokiAccessKeyId, lokiSecretAccessKey). */
  objectStore?: LokiObjectStore;
};

/** loki.objectStore resolved: the provider and region defaulted (r2, auto), the key pair as given. */
export interface LokiObjectStore {
  provider: StoreProvider;
  endpoint?: string;
  region: string;
  bucket?: string;
  from?: string;
  credentials?: { accessKeyId?: string; secretAccessKey?: string };
}

/** The bucket's key pair: two secret keys of their own (a key for this bucket alone, not the backups'). */
export const lokiSecrets = {
  lokiAccessKeyId: STORE_ACCESS_KEY_ID,
  lokiSecretAccessKey: STORE_SECRET_ACCESS_KEY,
};

/** The offline render's stand-ins for the bucket's keys. */
export const lokiSecretStandIns: SecretStandIns<typeof lokiSecrets> = {
  lokiAccessKeyId: textStandIn,
  lokiSecretAccessKey: textStandIn,
};

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
  secrets: lokiSecrets,
  standIns: lokiSecretStandIns,
  defaults: (profile): LokiSettings => LOKI_DEFAULTS[profile],
  resolve: (given, context, secrets): LokiSettings => {
    const { ingestion, objectStore: store, ...plain } = given ?? {};
    const credentials = {
      ...(secrets.lokiAccessKeyId !== undefined ? { accessKeyId: secrets.lokiAccessKeyId } : {}),
      ...(secrets.lokiSecretAccessKey !== undefined ? { secretAccessKey: secrets.lokiSecretAccessKey } : {}),
    };
    return {
      ...overDefaults(LOKI_DEFAULTS[context.profile], plain, context),
      ...(store !== undefined
        ? {
            objectStore: {
              ...store,
              ...(store.from !== undefined ? { from: dayOf(store.from) } : {}),
              provider: store.provider ?? "r2",
              region: store.region ?? "auto",
              ...(Object.keys(credentials).length > 0 ? { credentials } : {}),
            },
          }
        : {}),
      ingestion: ingestionBytes(ingestion),
    };
  },
  problems: (loki) => (loki.enabled ? [...objectStoreProblems(loki.objectStore), ...problems(loki)] : []),
  warnings: (loki) => (loki.enabled ? warnings(loki) : []),
  jobs: (loki) => (loki.enabled ? [JOB.loki] : []),
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

/**
 * The bucket's problems, keyed under the section: a bucket by the store's naming rule, an endpoint
 * where the provider has none of its own and without a path (kit/object-store.ts, as backup's), the
 * first day as a real day after LOKI_SCHEMA_FROM, and both keys.
 */
export function objectStoreProblems(store: LokiObjectStore | undefined): ArgsProblem[] {
  if (store === undefined) return [];
  const under = (p: ArgsProblem): ArgsProblem => ({
    ...p,
    key: `objectStore.${p.key}`,
    ...(p.involves ? { involves: p.involves.map((k) => `objectStore.${k}`) } : {}),
  });
  const found: ArgsProblem[] = [];
  if (!store.bucket) found.push({ key: "bucket", message: "is required with loki.objectStore: the bucket Loki's chunks and index go to" });
  found.push(...storeProblems(store, "loki.objectStore.bucket"));
  if (store.from === undefined)
    found.push({
      key: "from",
      message: `is required with loki.objectStore: the first day (UTC, YYYY-MM-DD) whose logs go to the bucket; a stack that holds logs names a day to come`,
    });
  else if (!isDay(store.from) || store.from <= LOKI_SCHEMA_FROM)
    found.push({
      key: "from",
      message: `must be a day (YYYY-MM-DD) after ${LOKI_SCHEMA_FROM}, the volume's schema period; got "${store.from}"`,
    });
  return [
    ...found.map(under),
    ...(store.credentials?.accessKeyId === undefined
      ? [{ key: "lokiAccessKeyId", message: "is needed with loki.objectStore: pulumi config set --secret lokiAccessKeyId <key id>" }]
      : []),
    ...(store.credentials?.secretAccessKey === undefined
      ? [
          {
            key: "lokiSecretAccessKey",
            message: "is needed with loki.objectStore: pulumi config set --secret lokiSecretAccessKey <secret key>",
          },
        ]
      : []),
  ];
}

/** YYYY-MM-DD of a day that is in the calendar. */
/**
 * A day as the stack file gave it: `from: 2026-12-01` unquoted is a YAML timestamp, which the Pulumi CLI passes on
 * as Go prints a time (`2026-12-01 00:00:00 +0000 UTC`); midnight UTC in either form is that day, anything else
 * is left as given for the check to name.
 */
export function dayOf(text: string): string {
  return /^(\d{4}-\d{2}-\d{2})(?:[ T]00:00:00(?:Z| \+0000 UTC)?)?$/.exec(text)?.[1] ?? text;
}

function isDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}
