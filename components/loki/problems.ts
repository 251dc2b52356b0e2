/** What Loki refuses in its own args, and warns about: its ingestion limits against its volume (components/loki/limits.ts). */
import { ArgsProblem } from "../kit/problems";
import { durationSeconds, quantityBytes } from "../kit/units";
import type { LokiArgs } from "./args";
import { ingestionProblems } from "./limits";

type IngestionArgs = Pick<LokiArgs, "storage" | "retention" | "ingestion">;

/** The limits' problems and warnings, keyed under the section; none when the size or retention is malformed (a problem of its own). */
function ingestionFindings(args: IngestionArgs): { problems: ArgsProblem[]; warnings: ArgsProblem[] } {
  const volume = quantityBytes(args.storage.size);
  if (volume === undefined || durationSeconds(args.retention) === undefined) return { problems: [], warnings: [] };
  const checked = ingestionProblems(volume, args.storage.size, args.retention, args.ingestion ?? {});
  const underSection = ({ key, message }: ArgsProblem) => ({ key: key === "storage.size" ? key : `ingestion.${key}`, message });
  return { problems: checked.problems.map(underSection), warnings: checked.warnings.map(underSection) };
}

/** A volume that holds no rate for the retention; bursts smaller than a push or a line. */
export function problems(args: IngestionArgs): ArgsProblem[] {
  return ingestionFindings(args).problems;
}

/** Limits that deploy but that Loki does not keep to: a stream's rate over the whole, a window larger than the volume. */
export function warnings(args: IngestionArgs): ArgsProblem[] {
  return ingestionFindings(args).warnings;
}
