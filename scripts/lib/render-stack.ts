/**
 * One call from a stack name (and overrides) to a rendered stack: reads the stack
 * file, runs the program under mocks, renders. Used by `npm run render` and the tests.
 */
import { Rendered, renderRun } from "./render";
import * as YAML from "yaml";
import { RunInput, runProgram } from "./runner";
import { readStackConfig } from "./stackfile";

export interface RenderStackOptions {
  stack: string;
  sets?: string[];
  showSecrets?: boolean;
  /** Directory holding Pulumi.yaml and the stack files; default: the repository. */
  root?: string;
  /** The stack outputs of the deployment this one follows (a render's outputs.json); default: none, a first deployment. */
  previousOutputs?: Record<string, unknown>;
  /** The cluster's Services the program reads (apps giving their Service's port by number); default: none. */
  services?: RunInput["services"];
}

export async function renderStack(opts: RenderStackOptions): Promise<Rendered & { placeholders: string[] }> {
  const input = readStackConfig(opts.stack, opts.sets ?? [], opts.root);
  const run = await runProgram({
    project: input.project,
    stack: input.stack,
    config: input.config,
    secretKeys: input.secretKeys,
    ...(opts.previousOutputs ? { previousOutputs: opts.previousOutputs } : {}),
    ...(opts.services ? { services: opts.services } : {}),
  });
  return { ...renderRun(run, opts.showSecrets ?? false), placeholders: input.placeholders };
}

/** Services from YAML as `kubectl get service -o yaml` prints them: one object, a List (`items`), or several documents. */
export function servicesOf(text: string): NonNullable<RunInput["services"]> {
  const docs = YAML.parseAllDocuments(text).map((d) => d.toJS() as { kind?: string; items?: unknown[] } | null);
  const objects = docs.flatMap((d) => (d?.kind === "List" ? (d.items ?? []) : d ? [d] : []));
  return objects.filter((o): o is NonNullable<RunInput["services"]>[number] => (o as { kind?: string }).kind === "Service");
}
