/**
 * One call from a stack name (and overrides) to a rendered stack: reads the stack
 * file, runs the program under mocks, renders. Used by `npm run render` and the tests.
 */
import * as crypto from "crypto";
import * as YAML from "yaml";
import { StackConfig, parseStackConfig } from "../config";
import { SALT_OUTPUT, parseStackSalt, saltText } from "../preflight/stack-salt";
import { Rendered, renderRun, secretConfigValues } from "./render";
import { RunInput, SecretValue, runProgram } from "./runner";
import { readStackConfig } from "./stackfile";

export interface RenderStackOptions {
  stack: string;
  sets?: string[];
  /** Secret values by config path, given apart from `sets` (`--secrets-file`, readSecretsFile). */
  secrets?: ReadonlyArray<readonly [string, unknown]>;
  showSecrets?: boolean;
  /** Directory holding Pulumi.yaml and the stack files; default: the repository. */
  root?: string;
  /** A stack file to read instead of `<root>/Pulumi.<stack>.yaml` (an example's). */
  stackFile?: string;
  /**
   * The stack outputs of the deployment this one follows (a render's outputs.json); default:
   * none, a first deployment, except for the stack's salt (offlineStackSalt).
   */
  previousOutputs?: Record<string, unknown>;
  /** The cluster's Services the program reads (apps giving their Service's port by number); default: none. */
  services?: RunInput["services"];
  /** Receives every registration and read of the run, providers included (RunInput.journal). */
  journal?: RunInput["journal"];
  /** Refuse a `--set` of a key marked secret (the commands; StackConfigOptions). */
  refuseSecretSets?: boolean;
  /** The OpenID Connect issuer's discovery document, saved to a file (RunInput.oidcDiscovery). */
  oidcDiscovery?: string;
}

/**
 * The salt the offline render stands in for a stack's own (preflight/stack-salt.ts): derived
 * from the project and the stack, so that a render is the same on every run, as if the stack
 * had been deployed before and kept this salt. Anyone can compute it: the hashes and the
 * digest of a render are never those of the deployed stack, whose salt is random.
 */
export function offlineStackSalt(project: string, stack: string): Buffer {
  return crypto.createHash("sha256").update(`monitoring-stack/offline-render-salt/v1:${project}:${stack}`).digest();
}

/**
 * The previous deployment's outputs as the render feeds them to the program: its salt as a
 * secret output, as the engine marks it; the offline salt when they hold none (a first
 * deployment, or a render's outputs.json, where the salt is redacted).
 */
export function withOfflineSalt(project: string, stack: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  let kept = previous[SALT_OUTPUT];
  while (kept instanceof SecretValue) kept = kept.value;
  const salt = parseStackSalt(kept) ?? offlineStackSalt(project, stack);
  return { ...previous, [SALT_OUTPUT]: new SecretValue(saltText(salt)) };
}

/**
 * The render of a stack, its placeholders, and its validated config (for the summary). Without
 * showSecrets, secret values are redacted, except in the files a reviewer diffs (MASKED_SECRET_FILES),
 * where each is masked by the name of its key.
 */
export async function renderStack(opts: RenderStackOptions): Promise<Rendered & { placeholders: string[]; config: StackConfig }> {
  const input = readStackConfig(opts.stack, opts.sets ?? [], opts.root, opts.stackFile, opts.secrets ?? [], {
    refuseSecretSets: opts.refuseSecretSets ?? false,
  });
  const run = await runProgram({
    project: input.project,
    stack: input.stack,
    config: input.config,
    secretKeys: input.secretKeys,
    previousOutputs: withOfflineSalt(input.project, input.stack, opts.previousOutputs),
    ...(opts.services ? { services: opts.services } : {}),
    ...(opts.journal ? { journal: opts.journal } : {}),
    ...(opts.stackFile !== undefined ? { stackFile: opts.stackFile } : {}),
    ...(opts.oidcDiscovery !== undefined ? { oidcDiscovery: opts.oidcDiscovery } : {}),
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
