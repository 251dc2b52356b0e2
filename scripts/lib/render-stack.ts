/**
 * One call from a stack name (and overrides) to a rendered stack: reads the stack
 * file, runs the program under mocks, renders. Used by `npm run render` and the tests.
 */
import * as YAML from "yaml";
import { StackConfig, parseStackConfig } from "../../components/config";
import { Rendered, renderRun, secretConfigValues } from "./render";
import { RunInput, runProgram } from "./runner";
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
  /** The cluster's Services the program reads (apps giving their Service's port by number); default: none. */
  services?: RunInput["services"];
}

/**
 * The render of a stack, its placeholders, and its validated config (for the summary). Without
 * showSecrets, secret values are redacted, except in the files a reviewer diffs (MASKED_SECRET_FILES),
 * where each is masked by the name of its key.
 */
export async function renderStack(opts: RenderStackOptions): Promise<Rendered & { placeholders: string[]; config: StackConfig }> {
  const input = readStackConfig(opts.stack, opts.sets ?? [], opts.root, opts.stackFile);
  const run = await runProgram({
    project: input.project,
    stack: input.stack,
    config: input.config,
    secretKeys: input.secretKeys,
    ...(opts.previousOutputs ? { previousOutputs: opts.previousOutputs } : {}),
    ...(opts.services ? { services: opts.services } : {}),
  });
  const secrets = secretConfigValues(input.project, input.config, input.secretKeys);
  // The program accepted this config: parsing it again cannot fail, and gives the summary its words.
  const { config } = parseStackConfig({ project: input.project, stack: input.stack, values: input.config, secretKeys: input.secretKeys });
  return { ...renderRun(run, opts.showSecrets ?? false, secrets), placeholders: input.placeholders, config };
}

/** Services from YAML as `kubectl get service -o yaml` prints them: one object, a List (`items`), or several documents. */
export function servicesOf(text: string): NonNullable<RunInput["services"]> {
  const docs = YAML.parseAllDocuments(text).map((d) => d.toJS() as { kind?: string; items?: unknown[] } | null);
  const objects = docs.flatMap((d) => (d?.kind === "List" ? (d.items ?? []) : d ? [d] : []));
  return objects.filter((o): o is NonNullable<RunInput["services"]>[number] => (o as { kind?: string }).kind === "Service");
}
