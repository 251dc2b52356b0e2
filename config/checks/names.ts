/** Names that tell apart what the stack scrapes, probes and writes to: each its own. */
import { databasesSection } from "../../components/database-exporters/section";
import { duplicates } from "../../components/kit/problems";
import { CheckInput, keyed } from "./check";

/**
 * Apps, targets and probes told apart: each name used once. Apps among themselves and remote writes
 * are Prometheus' (components/prometheus/problems.ts), databases the database exporters'
 * (components/database-exporters/section.ts).
 */
export function uniqueNames({ raw, resolved, key, problems }: CheckInput): void {
  // Apps, targets and probes are told apart by name in jobs, dashboards and alerts (an app's probe takes its name).
  const named = [
    ...resolved.apps.map((a, i) => ({ name: a.name, key: `apps[${i}].name` })),
    ...resolved.targets.map((t, i) => ({ name: t.name, key: `targets[${i}].name` })),
    ...(raw.probes ?? []).map((pr, i) => ({ name: pr.name, key: `probes[${i}].name` })),
  ];
  for (const name of duplicates(named.map((n) => n.name))) {
    const where = named.filter((n) => n.name === name).map((n) => n.key);
    if (where.every((w) => w.startsWith("apps["))) continue;
    problems.push({
      key: key(where[where.length - 1]),
      message: `"${name}" is also the name of ${where.slice(0, -1).join(" and ")}; apps, targets and probes need names of their own`,
    });
  }
}

/** A database name used more than once (components/database-exporters/section.ts), listed with the other names' problems. */
export function databaseNameChecks(input: CheckInput): void {
  keyed(databasesSection.nameProblems(input.resolved.databases), input);
}
