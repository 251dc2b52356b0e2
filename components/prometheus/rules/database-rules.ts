/**
 * Alerts generated from the configured databases (config `databases[]`): one per database,
 * on the absence of its exporter's series.
 *
 * rules/databases.yml watches what an exporter reports (`pg_up == 0`, `up == 0`). When the
 * exporter's target is gone altogether (a rollout of the team's workload without the
 * sidecar, a standalone exporter Deployment deleted, a pod label edited away), there is no
 * series left for those rules to compare, and nothing fires. Only the stack knows which
 * databases should be watched, so the absence is written per database, from its entry's
 * name and type alone: its exporter runs in the stack's namespace (components/database-exporters/,
 * never a sidecar), so its series are `up{job="<type>-exporter", database="<name>", namespace="<the
 * stack's>"}`. The namespace counts: Prometheus' pod job gives any annotated pod of a watched
 * namespace labelled `monitoring-stack/exporter` and `monitoring-stack/database` (a team's own
 * exporter) that same job and database, and without it a team's pod labelled with a configured
 * database's name would keep the alert from ever firing while the stack's exporter is gone.
 */
import { DatabaseRef, exporterJob } from "../../kit/database-exporters";
import { RUNBOOK_PATH } from "./rule-files";
import { durationSeconds } from "../../kit/units";

/** The alert, one rule per configured database. */
export const DATABASE_EXPORTER_MISSING = "DatabaseExporterMissing";

/**
 * How long a database may have no exporter target before the alert fires: a rollout of a
 * database pod (a StatefulSet waits for the old pod to stop before it starts the new one,
 * which then pulls its images and mounts its volume) leaves no target for a minute or two;
 * ten minutes is longer than a rollout and short enough that a day without watching a
 * database cannot pass unnoticed.
 */
export const DATABASE_EXPORTER_MISSING_FOR = "10m";

/**
 * Warning, not critical: what disappears is the watching, not necessarily the database. A
 * database that is really gone shows in its apps' own alerts (AppDown, AppErrorRateHigh),
 * which page.
 */
const SEVERITY = "warning";

/** A rule as Prometheus reads it. */
export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A PromQL string literal: database names are DNS labels, job names too; JSON's escaping is PromQL's. */
const quote = (value: string) => JSON.stringify(value);

/**
 * The generated rule file: group `database-exporters` with one DatabaseExporterMissing per
 * database, in config order, each reading the targets in `namespace` (the stack's) only. `absent()`
 * returns the equality matchers as labels, so each alert carries `job`, `database` and `namespace`,
 * as the alerts of rules/databases.yml do. No databases:
 * no groups, still a valid rule file. Each name once: config refuses a name used twice
 * (components/database-exporters/section.ts), whose two rules promtool would call duplicates.
 */
export function databaseExporterRules(
  databases: readonly DatabaseRef[],
  evaluationInterval: string,
  namespace: string,
): { groups: Array<{ name: string; interval: string; rules: AlertRule[] }> } {
  if (databases.length === 0) return { groups: [] };
  const minutes = (durationSeconds(DATABASE_EXPORTER_MISSING_FOR) ?? 0) / 60;
  return {
    groups: [
      {
        name: "database-exporters",
        interval: evaluationInterval,
        rules: databases.map((db) => ({
          alert: DATABASE_EXPORTER_MISSING,
          expr: `absent(up{job=${quote(exporterJob(db.type))}, database=${quote(db.name)}, namespace=${quote(namespace)}})`,
          for: DATABASE_EXPORTER_MISSING_FOR,
          // The database as a label of the rule too (absent() gives it to the alert anyway): rules
          // of one name with the same labels are duplicates to promtool's check.
          labels: { severity: SEVERITY, database: db.name },
          annotations: {
            summary: "A configured database has no exporter left to watch it.",
            description:
              `Prometheus has found no target of {{ $labels.job }} for database {{ $labels.database }} for ${minutes} minutes: ` +
              "its exporter is gone (a rollout of the database's workload without the sidecar, a deleted exporter Deployment), " +
              "so none of the database's alerts can fire.",
            runbook: `${RUNBOOK_PATH}#${DATABASE_EXPORTER_MISSING.toLowerCase()}`,
          },
        })),
      },
    ],
  };
}
