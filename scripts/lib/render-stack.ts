/**
 * One call from a stack name (and overrides) to a rendered stack: reads the stack
 * file, runs the program under mocks, renders. Used by `npm run render` and the tests.
 */
import { Rendered, renderRun } from "./render";
import { runProgram } from "./runner";
import { readStackConfig } from "./stackfile";

export interface RenderStackOptions {
  stack: string;
  sets?: string[];
  showSecrets?: boolean;
  /** Directory holding Pulumi.yaml and the stack files; default: the repository. */
  root?: string;
  /** A stack file to read instead of `<root>/Pulumi.<stack>.yaml` (an example's). */
  stackFile?: string;
  /** The stack outputs of the deployment this one follows (a render's outputs.json); default: none, a first deployment. */
  previousOutputs?: Record<string, unknown>;
}

export async function renderStack(opts: RenderStackOptions): Promise<Rendered & { placeholders: string[] }> {
  const input = readStackConfig(opts.stack, opts.sets ?? [], opts.root, opts.stackFile);
  const run = await runProgram({
    project: input.project,
    stack: input.stack,
    config: input.config,
    secretKeys: input.secretKeys,
    ...(opts.previousOutputs ? { previousOutputs: opts.previousOutputs } : {}),
  });
  return { ...renderRun(run, opts.showSecrets ?? false), placeholders: input.placeholders };
}
