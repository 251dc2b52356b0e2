/**
 * What the backups refuse in their own settings, once turned on: no bucket, a bucket name the store
 * refuses, no endpoint or one with a path, a schedule, no credentials.
 */
import { ArgsProblem } from "../kit/problems";
import { BACKUP_PROVIDERS, BackupProvider, BackupSettings } from "./args";
import { scheduleGapSeconds } from "./schedule";

/** A bucket, an endpoint where the provider has none of its own, a schedule of five fields at most a week apart, both keys. */
export function problems(backup: BackupSettings): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  if (!backup.bucket) found.push({ key: "bucket", message: "is required when backup.enabled is true: the bucket the backups go to" });
  found.push(...storeProblems(backup));
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

const S3_RULE =
  "S3 takes 3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit, " +
  "no two dots in a row, not an IP address, not beginning with xn--, sthree- or amzn-s3-demo-, " +
  "not ending with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3";

/** Each store's rule for a bucket's name (what its API refuses to create or address), by provider. */
const BUCKET_RULES: Record<BackupProvider, { rule: string; refuses: (name: string) => boolean }> = {
  // Cloudflare R2: 3 to 63 of a-z, 0-9 and -, a letter or digit at each end.
  r2: {
    rule: "R2 takes 3 to 63 lowercase letters, digits and hyphens, beginning and ending with a letter or digit",
    refuses: (name) => !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name),
  },
  // AWS S3 (general purpose buckets), which MinIO follows.
  s3: { rule: S3_RULE, refuses: s3Refuses },
  minio: { rule: S3_RULE, refuses: s3Refuses },
  // Backblaze B2: 6 to 63 letters, digits and hyphens, not beginning with b2-.
  b2: {
    rule: "B2 takes 6 to 63 letters, digits and hyphens, not beginning with b2-",
    refuses: (name) => !/^[A-Za-z0-9-]{6,63}$/.test(name) || /^b2-/i.test(name),
  },
};

function s3Refuses(name: string): boolean {
  return (
    !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) ||
    name.includes("..") ||
    /^\d+\.\d+\.\d+\.\d+$/.test(name) ||
    /^(xn--|sthree-|amzn-s3-demo-)/.test(name) ||
    /(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)
  );
}
/**
 * The bucket's name by the store's rule, and the endpoint as an address alone: rclone puts the bucket
 * in each request's path itself, so a path in the endpoint (the bucket, as Cloudflare's dashboard
 * shows the S3 API's URL) sends every request to the wrong place.
 */
export function storeProblems(backup: Pick<BackupSettings, "provider" | "bucket" | "endpoint">): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const bucket = BUCKET_RULES[backup.provider];
  if (backup.bucket && bucket.refuses(backup.bucket))
    found.push({
      key: "bucket",
      message: `must be a bucket name the store takes: ${bucket.rule}; got "${backup.bucket}"`,
      involves: ["provider"],
    });
  const url = backup.endpoint && URL.canParse(backup.endpoint) ? new URL(backup.endpoint) : undefined;
  if (url) {
    const pathPart = url.pathname.replace(/\/+$/, "");
    if (pathPart !== "" || url.search !== "" || url.hash !== "") {
      const named = pathPart.replace(/^\//, "").split("/")[0];
      const also = named && named !== backup.bucket ? ` (its path names "${named}": the bucket goes in backup.bucket)` : "";
      found.push({
        key: "endpoint",
        message: `must be the store's address alone, without a path, query or fragment: set it to ${url.origin}${also}; got "${backup.endpoint}"`,
      });
    }
  }
  return found;
}
