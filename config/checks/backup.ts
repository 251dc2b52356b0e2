/** The backups against what they copy: Alertmanager's writes of its silences. */
import { ALERTMANAGER_BACKUP_MAINTENANCE, backsUp } from "../../components/stack/backup";
import { durationSeconds } from "../../components/kit/units";
import { CheckInput } from "./check";

/** An Alertmanager backed up must write its silences within the time a backup waits for them. */
export function backupChecks({ resolved, key, problems }: CheckInput): void {
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
