/** What the traces backend refuses in its own args: a retention too short to follow a trace from an alert. */
import { ArgsProblem } from "../kit/problems";
import { durationSeconds } from "../kit/units";
import type { TracingArgs } from "./args";

/** The shortest retention: spans kept less than an hour are gone before an alert's trace can be followed. */
export const MIN_RETENTION_SECONDS = 3600;

/** A retention under an hour (MIN_RETENTION_SECONDS). */
export function problems(args: Pick<TracingArgs, "retention">): ArgsProblem[] {
  const seconds = durationSeconds(args.retention);
  if (seconds === undefined || seconds >= MIN_RETENTION_SECONDS) return [];
  return [
    { key: "retention", message: `must be at least 1h, so that a trace outlives the alert that leads to it; got "${args.retention}"` },
  ];
}
