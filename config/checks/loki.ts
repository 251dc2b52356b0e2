/** Loki's ingestion limits against its volume (components/loki-limits.ts). */
import { ingestionProblems } from "../../components/loki/limits";
import { durationSeconds, quantityBytes } from "../../components/kit/units";
import { CheckInput } from "./check";

/** Loki's ingestion limits against its volume; a malformed size or retention is already a problem of its own. */
export function lokiChecks({ resolved, key, problems, warnings }: CheckInput): void {
  const lokiVolume = quantityBytes(resolved.loki.storage.size);
  if (resolved.loki.enabled && lokiVolume !== undefined && durationSeconds(resolved.loki.retention) !== undefined) {
    const checked = ingestionProblems(lokiVolume, resolved.loki.storage.size, resolved.loki.retention, resolved.loki.ingestion);
    for (const problem of checked.problems)
      problems.push({
        key: key(`loki.${problem.key === "storage.size" ? problem.key : `ingestion.${problem.key}`}`),
        message: problem.message,
      });
    for (const warning of checked.warnings) warnings.push(`${key(`loki.ingestion.${warning.key}`)} ${warning.message}.`);
  }
}
