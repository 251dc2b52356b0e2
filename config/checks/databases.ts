/** The databases' own problems (components/database-exporters/section.ts), in the one list. */
import { databasesSection } from "../../components/database-exporters/section";
import { ArgsProblem } from "../../components/kit/problems";
import { CheckInput } from "./check";

/** The list's problems with their keys in the stack (`databases[]` and `databaseDsns` are top-level keys); resolve's too. */
export function keyed(found: readonly ArgsProblem[], { key, problems }: Pick<CheckInput, "key" | "problems">): void {
  for (const p of found) problems.push({ key: key(p.key), message: p.message, ...(p.involves ? { involves: p.involves.map(key) } : {}) });
}

/** A database name used more than once (listed with the other names' problems, config/checks/names.ts). */
export function databaseNameChecks(input: CheckInput): void {
  keyed(databasesSection.nameProblems(input.resolved.databases), input);
}

/** A DSN of another database type, or one naming the exporter's own pod. */
export function dsnChecks(input: CheckInput): void {
  keyed(databasesSection.problems(input.resolved.databases), input);
}
