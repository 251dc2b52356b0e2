/** The scheduled backups' args (one CronJob per component backed up) and their defaults in each profile. */
import { Profile, withOverrides } from "../kit/profiles";
import { ResourceRequirements, requirements } from "../kit/resources";

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

/** Where backups go: one bucket of an S3-compatible store. */
export interface BackupDestination {
  provider: BackupProvider;
  /** The store's S3 endpoint (config backup.endpoint); AWS S3 finds it from the region. */
  endpoint?: string;
  /** The region (config backup.region): `auto` for R2. */
  region: string;
  bucket: string;
  /** A folder of the bucket the stack's backups go under (config backup.prefix); default the bucket's root. */
  prefix?: string;
}

/** What the section resolves to (config `backup`). */
export interface BackupSettings {
  enabled: boolean;
  /** The CronJobs' schedule (five cron fields, the cluster's time zone: UTC on k3s). */
  schedule: string;
  /** How many complete backups of each component are kept; older ones are deleted after a new one is complete. */
  keep: number;
  components: BackupComponent[];
  provider: BackupProvider;
  endpoint?: string;
  region: string;
  bucket?: string;
  prefix?: string;
  resources: ResourceRequirements;
  /** The store's access key (Pulumi secrets backupAccessKeyId, backupSecretAccessKey). */
  credentials?: { accessKeyId?: string; secretAccessKey?: string };
}

/** A profile's defaults: off; when on, every component every night, a week (staging) or two (production) kept. */
export type BackupDefaults = Omit<BackupSettings, "endpoint" | "bucket" | "prefix" | "credentials">;

// rclone holds a few chunks of each file in memory while it uploads (--s3-chunk-size 8Mi x 4 streams):
// 256Mi covers it with room; the CPU limit keeps a night's upload from starving the stack.
const BACKUP_STAGING: BackupDefaults = {
  enabled: false,
  schedule: "17 3 * * *",
  keep: 7,
  components: [...BACKUP_COMPONENTS],
  provider: "r2",
  region: "auto",
  resources: requirements("10m", "64Mi", "500m", "256Mi"),
};

export const BACKUP_DEFAULTS: Record<Profile, BackupDefaults> = {
  staging: BACKUP_STAGING,
  production: withOverrides(BACKUP_STAGING, { keep: 14 }),
};
