/** What the scheduled backups can hold and where they can go: the values of the section's (section.ts) `components` and `provider`. */
import { STORE_PROVIDERS, StoreProvider } from "../kit/object-store";

/** What a backup can hold: the state a team cannot rebuild from git. */
export const BACKUP_COMPONENTS = ["prometheus", "alertmanager", "grafana", "loki"] as const;
export type BackupComponent = (typeof BACKUP_COMPONENTS)[number];

/** The S3-compatible stores rclone is told of (its s3 backend's `provider`), Cloudflare R2 first (kit/object-store.ts). */
export const BACKUP_PROVIDERS = STORE_PROVIDERS;
export type BackupProvider = StoreProvider;
