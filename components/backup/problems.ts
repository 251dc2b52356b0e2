/** What the backups refuse in their own settings, once turned on: no bucket, no endpoint, a schedule, no credentials. */
import { ArgsProblem } from "../kit/problems";
import { BACKUP_PROVIDERS, BackupSettings } from "./args";
import { scheduleGapSeconds } from "./schedule";

/** A bucket, an endpoint where the provider has none of its own, a schedule of five fields at most a week apart, both keys. */
export function problems(backup: BackupSettings): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  if (!backup.bucket) found.push({ key: "bucket", message: "is required when backup.enabled is true: the bucket the backups go to" });
  const provider = BACKUP_PROVIDERS[backup.provider];
  if (provider.needsEndpoint && !backup.endpoint)
    found.push({
      key: "endpoint",
      message: `is required for provider "${backup.provider}": its S3 endpoint, such as ${provider.example}`,
      involves: ["provider"],
    });
  // Day of month and month `*`: every schedule it takes runs at least weekly, within BackupTooOld's 30 days.
  const gap = scheduleGapSeconds(backup.schedule);
  if (typeof gap === "string") found.push({ key: "schedule", message: `${gap}; got "${backup.schedule}"` });
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
