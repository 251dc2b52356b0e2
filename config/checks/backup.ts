/** The backups against what they copy (Alertmanager's writes of its silences) and what watches them (kube-state-metrics). */
import { ALERTMANAGER_BACKUP_MAINTENANCE, backsUp } from "../../components/stack/backup";
import { durationSeconds } from "../../components/kit/units";
import { CheckInput } from "./check";

/** An Alertmanager backed up must write its silences within the time a backup waits for them. */
export function backupChecks({ resolved, key, problems, warnings }: CheckInput): void {
  // BackupTooOld reads the CronJobs as kube-state-metrics reports them (rules/backup.yml).
  const ksm = resolved.kubeStateMetrics;
  if (resolved.backup.enabled && !ksm.enabled && ksm.sharedFrom === undefined) {
    warnings.push(
      `${key("backup.enabled")}: kube-state-metrics is off (kubeStateMetrics.enabled) and none is shared with this stack (kubeStateMetrics.sharedFrom), ` +
        "so BackupTooOld, which reads the backup CronJobs' last success from it, never fires: a backup that stops coming goes unnoticed.",
    );
  }
  const interval = resolved.alertmanager.maintenanceInterval;
  if (!backsUp(resolved, "alertmanager")) return;
  if ((durationSeconds(interval) ?? 0) <= (durationSeconds(ALERTMANAGER_BACKUP_MAINTENANCE) ?? 0)) return;
  problems.push({
    key: key("alertmanager.maintenanceInterval"),
    message:
      `must be at most ${ALERTMANAGER_BACKUP_MAINTENANCE} while Alertmanager is backed up (backup.components): a backup waits at most 120 s ` +
      `for Alertmanager's next write of its silences; got ${interval}`,
    involves: [key("backup.components")],
  });
}
