/** The log collector rendered alone, for the tests of its config.alloy parts (events, the node journal). */
import { LogCollector } from "../../components/log-collector";
import { LogCollectorArgs } from "../../components/log-collector/args";
import { PROFILE_DEFAULTS } from "../../config";
import { Rendered, renderRun } from "../../cli/render";
import { runProgram } from "../../cli/runner";
import { ALONE } from "./render";

/** Where the collector pushes in these tests: the stack's Loki in `monitoring`. */
export const PUSH = "http://loki.monitoring.svc:3100/loki/api/v1/push";

/** The text of one top-level block of config.alloy, or undefined. */
export function block(text: string, head: string): string | undefined {
  const at = text.indexOf(`\n${head} {\n`);
  if (at < 0) return undefined;
  return text.slice(at + 1, text.indexOf("\n}\n", at) + 2);
}

/** The collector's args in a stack `monitoring` of the given profile, with `over` on top. */
export const collectorArgs = (profile: "staging" | "production", over: Partial<LogCollectorArgs> = {}): LogCollectorArgs => ({
  namespace: "monitoring-agents",
  stackNamespace: "monitoring",
  environment: profile,
  resources: PROFILE_DEFAULTS[profile].logCollector.resources,
  ...over,
});

/** The collector alone, rendered as the program would. */
export async function renderCollector(args: LogCollectorArgs): Promise<Rendered> {
  const run = await runProgram({ ...ALONE, program: async () => ({ scrapeTargets: new LogCollector("alloy", args).scrapeTargets }) });
  return renderRun(run, true);
}
