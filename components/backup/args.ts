/** What the scheduled backups can hold and where they can go: the values of the section's (section.ts) `components` and `provider`. */

/** What a backup can hold: the state a team cannot rebuild from git. */
export const BACKUP_COMPONENTS = ["prometheus", "alertmanager", "grafana", "loki"] as const;
export type BackupComponent = (typeof BACKUP_COMPONENTS)[number];

/** The S3-compatible stores rclone is told of (its s3 backend's `provider`), Cloudflare R2 first. */
export const BACKUP_PROVIDERS = {
  r2: { rclone: "Cloudflare", needsEndpoint: true, example: "https://<account id>.r2.cloudflarestorage.com" },
  s3: { rclone: "AWS", needsEndpoint: false, example: "https://s3.eu-central-1.amazonaws.com" },
  b2: { rclone: "Other", needsEndpoint: true, example: "https://s3.eu-central-003.backblazeb2.com" },
  minio: { rclone: "Minio", needsEndpoint: true, example: "https://minio.example.com" },
} as const;
export type BackupProvider = keyof typeof BACKUP_PROVIDERS;
