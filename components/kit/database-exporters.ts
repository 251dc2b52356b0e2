/**
 * What the database exporters (components/database-exporters/) and Prometheus share: the names of
 * the database kinds, the job an exporter's series carry, and the pod labels Prometheus' pod job
 * reads on a pod that runs an exporter beside its database. What each kind is (its exporter's image,
 * ports, DSN, dashboard and alerts) is the table in components/database-exporters/kinds.ts, keyed by
 * these names: a kind added here must be given its entry there before the program compiles.
 */

/** The database kinds an exporter can watch: config's `databases[].type`, in the order its messages list them. */
export const DATABASE_TYPES = ["postgres", "redis", "mongodb"] as const;

export type DatabaseType = (typeof DATABASE_TYPES)[number];

/** A configured database as what watches it knows it: its name (the `database` label) and its kind. */
export interface DatabaseRef {
  name: string;
  type: DatabaseType;
}

/** The job of a database type's exporter, sidecar or standalone (Prometheus' pod job and the standalone targets both name it so). */
export function exporterJob(type: DatabaseType): string {
  return `${type}-exporter`;
}

/*
 * Pod-template labels of a pod that runs a database exporter container beside its database (an
 * exporter sidecar of an earlier release until the `up` that removes it, or a team's own): the
 * pod job of Prometheus (components/prometheus/scrape-jobs.ts) turns them into job `<type>-exporter`, the
 * `database` label, and leaves a pod of another stack's environment to that stack. This stack
 * adds no such container any more.
 */
/** The exporter type; Prometheus' pod job turns it into job `<type>-exporter`. */
export const EXPORTER_LABEL = "monitoring-stack/exporter";

/** The database's name; Prometheus' pod job turns it into the `database` label. */
export const DATABASE_LABEL = "monitoring-stack/database";

/** The environment of the stack that added the exporter: another stack's Prometheus leaves the pod alone. */
export const ENVIRONMENT_LABEL = "monitoring-stack/environment";
