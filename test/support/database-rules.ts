/** The generated databases rule file as a render ships it, for its tests (test/components and test/e2e database-rules). */
import { DATABASE_RULES_KEY } from "../../components/prometheus/args";
import type { Rendered } from "../../cli/render";

/** DatabaseExporterMissing's description, for an exporter's job and a database. */
export const DESCRIPTION = (job: string, database: string) =>
  `Prometheus has found no target of ${job} for database ${database} for 10 minutes: its exporter is gone ` +
  "(a rollout of the database's workload without the sidecar, a deleted exporter Deployment), so none of the database's alerts can fire.";

export type RuleFile = { groups: Array<{ name: string; interval: string; rules: Array<Record<string, unknown>> }> };

/** The rule file in a render, if it ships one. */
export const fileOf = (rendered: Rendered) => rendered.files.get(`prometheus/${DATABASE_RULES_KEY}`);
