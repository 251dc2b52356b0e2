/**
 * The scheduled backups' section of the stack file (`backup`), with the store's two secret keys: its
 * fields, declared here once (the defaults, the resolved values and the component's settings are
 * typed from the schema), its defaults per profile, its resolution, and what it refuses once turned
 * on: no bucket, a bucket name the store refuses, no endpoint or one with a path, a schedule, no credentials.
 */
import { z } from "zod";
import { bool, durationWith, positiveCount, resources } from "../kit/fields";
import { ArgsProblem } from "../kit/problems";
import { Profile, withOverrides } from "../kit/profiles";
import { requirements } from "../kit/resources";
import { DefaultsOf, FieldsOf, SecretStandIns, componentSection, overDefaults, textStandIn } from "../kit/section";
import { STORE_ACCESS_KEY_ID, STORE_SECRET_ACCESS_KEY, storeFields, storeProblems } from "../kit/object-store";
import { BACKUP_COMPONENTS } from "./args";
import { scheduleGapSeconds } from "./schedule";
import { durationMilliseconds } from "../kit/units";
import { JOB } from "../kit/stack-jobs";

/** A run's timeout, in ms: long enough for a snapshot and an upload, short enough that a hung one ends within a day. */
const BACKUP_TIMEOUT_BOUNDS_MS = { min: 10 * 60_000, max: 24 * 3600_000 };
/** What is wrong with a timeout of `ms` (undefined: not a duration), for the schema and the component's own check. */
const timeoutProblem = (ms: number | undefined) =>
  ms === undefined || ms < BACKUP_TIMEOUT_BOUNDS_MS.min || ms > BACKUP_TIMEOUT_BOUNDS_MS.max
    ? "must be between 10m and 24h: the longest a backup run lasts before its Job ends it"
    : undefined;

const schema = z.strictObject({
  enabled: bool.optional().describe("Back up what cannot be rebuilt from git to an S3-compatible bucket, on `schedule`; default false."),
  schedule: z
    .string({ error: 'must be a schedule such as "17 3 * * *"' })
    .optional()
    .describe("When the backups run: five cron fields in the cluster's time zone, day of month and month `*`, at least once a week."),
  keep: positiveCount("backups").optional().describe("How many complete backups of each component are kept; older ones are deleted."),
  timeout: durationWith(timeoutProblem)
    .optional()
    .describe("The longest a backup run lasts (its Job's activeDeadlineSeconds), 10m to 24h; default 3h."),
  components: z
    .array(z.enum(BACKUP_COMPONENTS, { error: `must be one of ${BACKUP_COMPONENTS.join(", ")}` }))
    .min(1, "must name at least one component (turn backups off with backup.enabled: false)")
    .optional()
    .describe(`What is backed up, of ${BACKUP_COMPONENTS.join(", ")}; default all of them (those the stack runs).`),
  ...storeFields("The bucket the backups go to (required when enabled)."),
  /** No default: the bucket's root. */
  prefix: z
    .string()
    .regex(
      /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
      "must be a folder such as monitoring or backups/cluster-1, without leading or trailing /",
    )
    .optional()
    .describe("A folder of the bucket the backups go under; default its root."),
  resources: resources.optional(),
});

/** The fields that have no default: the store's address, the bucket and the folder in it. */
type NoDefault = "endpoint" | "bucket" | "prefix";

/** What the section resolves to (config `backup`): its fields, and the store's access key (its secret keys). */
export type BackupSettings = FieldsOf<typeof schema, NoDefault> & {
  /** The store's access key (Pulumi secrets backupAccessKeyId, backupSecretAccessKey). */
  credentials?: { accessKeyId?: string; secretAccessKey?: string };
};

// rclone holds a few chunks of each file in memory while it uploads (--s3-chunk-size 8Mi x 4 streams):
// 256Mi covers it with room; the CPU limit keeps a night's upload from starving the stack.
const BACKUP_STAGING: DefaultsOf<typeof schema, NoDefault> = {
  enabled: false,
  // Five cron fields, the cluster's time zone: UTC on k3s.
  schedule: "17 3 * * *",
  // Older ones are deleted after a new one is complete.
  keep: 7,
  // A hung upload ends; an incomplete backup younger than this may be another run still uploading.
  timeout: "3h",
  components: [...BACKUP_COMPONENTS],
  provider: "r2",
  region: "auto",
  resources: requirements("10m", "64Mi", "500m", "256Mi"),
};

/** A profile's defaults: off; when on, every component every night, a week (staging) or two (production) kept. */
const BACKUP_DEFAULTS: Record<Profile, DefaultsOf<typeof schema, NoDefault>> = {
  staging: BACKUP_STAGING,
  production: withOverrides(BACKUP_STAGING, { keep: 14 }),
};

/** The store's access key: two secret keys of their own. */
export const backupSecrets = {
  backupAccessKeyId: STORE_ACCESS_KEY_ID,
  backupSecretAccessKey: STORE_SECRET_ACCESS_KEY,
};

/** The offline render's stand-ins for the store's keys. */
export const backupSecretStandIns: SecretStandIns<typeof backupSecrets> = {
  backupAccessKeyId: textStandIn,
  backupSecretAccessKey: textStandIn,
};

/** The `backup` section; its problems only while backups are on. */
export const backupSection = componentSection({
  schema,
  secrets: backupSecrets,
  standIns: backupSecretStandIns,
  defaults: (profile): BackupSettings => BACKUP_DEFAULTS[profile],
  resolve: (given, context, secrets): BackupSettings => {
    const { endpoint, bucket, prefix, ...plain } = given ?? {};
    const credentials = {
      ...(secrets.backupAccessKeyId !== undefined ? { accessKeyId: secrets.backupAccessKeyId } : {}),
      ...(secrets.backupSecretAccessKey !== undefined ? { secretAccessKey: secrets.backupSecretAccessKey } : {}),
    };
    return {
      ...overDefaults(BACKUP_DEFAULTS[context.profile], plain, context),
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(bucket !== undefined ? { bucket } : {}),
      ...(prefix !== undefined ? { prefix } : {}),
      ...(Object.keys(credentials).length > 0 ? { credentials } : {}),
    };
  },
  problems: (backup) => (backup.enabled ? problems(backup) : []),
  // The Jobs push their outcome as job "backup" (backup.sh): BackupFailed reads it, an app may not take it.
  jobs: (backup) => (backup.enabled ? [JOB.backup] : []),
});

/** A bucket, an endpoint where the provider has none of its own, a schedule of five fields at most a week apart, both keys. */
export function problems(backup: BackupSettings): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  if (!backup.bucket) found.push({ key: "bucket", message: "is required when backup.enabled is true: the bucket the backups go to" });
  found.push(...storeProblems(backup, "backup.bucket"));
  // Day of month and month `*`: a fixed longest wait, at most a week. BackupTooOld reads the CronJob's present series
  // (kube-state-metrics), not a look back: Prometheus' retention bounds no schedule it takes.
  const gap = scheduleGapSeconds(backup.schedule);
  if (typeof gap === "string") found.push({ key: "schedule", message: `${gap}; got "${backup.schedule}"` });
  // The schema's bound, for args built without it (the component's own check).
  const timeout = timeoutProblem(durationMilliseconds(backup.timeout));
  if (timeout) found.push({ key: "timeout", message: `${timeout} (got ${JSON.stringify(backup.timeout)})` });
  if (backup.credentials?.accessKeyId === undefined)
    found.push({
      key: "backupAccessKeyId",
      message: "is needed while backup.enabled is true: pulumi config set --secret backupAccessKeyId <key id>",
    });
  if (backup.credentials?.secretAccessKey === undefined)
    found.push({
      key: "backupSecretAccessKey",
      message: "is needed while backup.enabled is true: pulumi config set --secret backupSecretAccessKey <secret key>",
    });
  return found;
}
