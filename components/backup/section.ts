/** The scheduled backups' section of the stack file (`backup`), with the store's two secret keys. */
import { z } from "zod";
import { bool, matching, nonEmpty, positiveCount, resources } from "../kit/fields";
import { SecretStandIns, componentSection, resolveResources, textStandIn } from "../kit/section";
import { BACKUP_COMPONENTS, BACKUP_DEFAULTS, BACKUP_PROVIDERS, BackupSettings } from "./args";
import { problems } from "./problems";

const schema = z.strictObject({
  enabled: bool.optional().describe("Back up what cannot be rebuilt from git to an S3-compatible bucket, on `schedule`; default false."),
  schedule: z
    .string({ error: 'must be a schedule such as "17 3 * * *"' })
    .optional()
    .describe("When the backups run: five cron fields in the cluster's time zone, day of month and month `*`, at least once a week."),
  keep: positiveCount("backups").optional().describe("How many complete backups of each component are kept; older ones are deleted."),
  components: z
    .array(z.enum(BACKUP_COMPONENTS, { error: `must be one of ${BACKUP_COMPONENTS.join(", ")}` }))
    .min(1, "must name at least one component (turn backups off with backup.enabled: false)")
    .optional()
    .describe(`What is backed up, of ${BACKUP_COMPONENTS.join(", ")}; default all of them (those the stack runs).`),
  provider: z
    .enum(Object.keys(BACKUP_PROVIDERS) as [keyof typeof BACKUP_PROVIDERS], {
      error: `must be one of ${Object.keys(BACKUP_PROVIDERS).join(", ")}`,
    })
    .optional()
    .describe("The S3-compatible store: r2 (Cloudflare R2, the default), s3, b2 (Backblaze B2) or minio."),
  endpoint: z
    .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
    .optional()
    .describe("The store's S3 endpoint, such as https://<account id>.r2.cloudflarestorage.com; required but for s3."),
  region: nonEmpty("a region").optional().describe("The bucket's region; default auto (R2)."),
  bucket: nonEmpty("a bucket name").optional().describe("The bucket the backups go to (required when enabled)."),
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

/** The store's access key: two secret keys of their own. */
export const backupSecrets = {
  backupAccessKeyId: matching(/^[\x21-\x7e]+$/, "an access key id: printable characters, no space"),
  backupSecretAccessKey: matching(/^[\x21-\x7e]+$/, "a secret access key: printable characters, no space"),
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
    const defaults = BACKUP_DEFAULTS[context.profile];
    const { endpoint, bucket, prefix, resources: givenResources, ...plain } = given ?? {};
    const credentials = {
      ...(secrets.backupAccessKeyId !== undefined ? { accessKeyId: secrets.backupAccessKeyId } : {}),
      ...(secrets.backupSecretAccessKey !== undefined ? { secretAccessKey: secrets.backupSecretAccessKey } : {}),
    };
    return {
      ...defaults,
      ...plain,
      resources: resolveResources(defaults.resources, givenResources),
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(bucket !== undefined ? { bucket } : {}),
      ...(prefix !== undefined ? { prefix } : {}),
      ...(Object.keys(credentials).length > 0 ? { credentials } : {}),
    };
  },
  problems: (backup) => (backup.enabled ? problems(backup) : []),
});
