/** Backups on, to an R2-shaped bucket with stand-in keys: the sets the tests render them with (their admin API on Prometheus). */
export const BACKUPS_ON = [
  "backup.enabled=true",
  "backup.bucket=monitoring-backups",
  "backup.endpoint=https://0123456789abcdef.r2.cloudflarestorage.com",
  "backupAccessKeyId=key-id-0123",
  "backupSecretAccessKey=secret-key-0123456789",
];
