/** What a rule over several keys reads, and where it reports. */
import { ArgsProblem } from "../../components/kit/problems";
import { CrossProblem } from "../problems";
import { StackConfig } from "../../components/stack/config";
import { RawConfig, RawStackConfig } from "../schema";

export interface CheckInput {
  /** The values as Pulumi handed them over (for the project's name). */
  rawConfig: RawConfig;
  /** The stack file's values, as the schema parsed them: what the stack says itself. */
  raw: RawStackConfig;
  /** The values with the profile's defaults. */
  resolved: StackConfig;
  /** The full key of a path (`prometheus.retention` → `monitoring:prometheus.retention`). */
  key: (path: string) => string;
  problems: CrossProblem[];
  /** Things that deploy but deserve attention. */
  warnings: string[];
}

/**
 * A component's problems (components/<component>/problems.ts) in the one list, their keys under the
 * component's section (checks/index.ts); a key at one of the section's secret keys (`basicAuthPasswords.<user>`) is a
 * key of its own.
 */
export function sectionProblems(
  section: string,
  found: readonly ArgsProblem[],
  { key, problems }: Pick<CheckInput, "key" | "problems">,
  secretKeys: readonly string[] = [],
): void {
  const full = (k: string) => key(secretKeys.includes(k.split(/[.[]/)[0]) ? k : `${section}.${k}`);
  for (const p of found) {
    problems.push({
      key: full(p.key),
      message: p.message,
      ...(p.involves ? { involves: p.involves.map(full) } : {}),
    });
  }
}

/** Problems keyed from the top of the stack file (`databases[0].mode`, `smtpPassword`), in the one list. */
export function keyed(found: readonly ArgsProblem[], { key, problems }: Pick<CheckInput, "key" | "problems">): void {
  for (const p of found) problems.push({ key: key(p.key), message: p.message, ...(p.involves ? { involves: p.involves.map(key) } : {}) });
}
