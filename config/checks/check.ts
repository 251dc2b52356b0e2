/** What a rule over several keys reads, and where it reports. */
import { CrossProblem } from "../problems";
import { StackConfig } from "../resolved";
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
