/** Test helpers around the shared mocks runner and renderer. */
import { Rendered, renderRun } from "../../cli/render";
import { RenderStackOptions, renderStack as renderStackNow, withOfflineSalt } from "../../cli/render-stack";
import { applyProjectConfig, readProjectFile } from "../../cli/project-config";
import { RunInput, runProgram } from "../../cli/runner";
import { ROOT } from "../../cli/stackfile";
import { cachedRender } from "./render-cache";

/**
 * cli/render-stack's renderStack, kept for the worker's later calls with the same options
 * (render-cache.ts): not when the render reads a directory or a stack file of the test's own,
 * whose files the test may change between two renders, nor with a journal (the run appends to it).
 */
export function renderStack(opts: RenderStackOptions): ReturnType<typeof renderStackNow> {
  if (opts.journal !== undefined || opts.root !== undefined || opts.stackFile !== undefined) return renderStackNow(opts);
  return cachedRender("renderStack", opts.stack, opts, () => renderStackNow(opts));
}

export { objectOf, objectsOf } from "../../lab/local/rendered";

/** Renders a real stack file with overrides, secrets shown (tests read config files). */
export function render(stack: string, sets: string[] = []): Promise<Rendered> {
  return renderStack({ stack, sets, showSecrets: true });
}

/**
 * Runs the program with an inline config (full keys are prefixed with the project),
 * after Pulumi.yaml's declared defaults are applied as the Pulumi CLI applies them.
 */
export function renderConfig(
  stack: string,
  config: Record<string, unknown>,
  secrets: Record<string, unknown> = {},
  showSecrets = true,
): Promise<Rendered> {
  return cachedRender("renderConfig", stack, { config, secrets, showSecrets }, () => renderConfigNow(stack, config, secrets, showSecrets));
}

/** renderConfig's render, made when the worker kept none. */
async function renderConfigNow(
  stack: string,
  config: Record<string, unknown>,
  secrets: Record<string, unknown>,
  showSecrets: boolean,
): Promise<Rendered> {
  const wire = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const secretKeys = Object.keys(secrets).map((k) => `monitoring:${k}`);
  const given = Object.fromEntries([...Object.entries(config), ...Object.entries(secrets)].map(([k, v]) => [`monitoring:${k}`, v]));
  const applied = applyProjectConfig(readProjectFile(ROOT), stack, given, new Set(secretKeys));
  if (applied.error) throw new Error(applied.error);
  const input: RunInput = {
    project: "monitoring",
    stack,
    config: Object.fromEntries(Object.entries(applied.values).map(([k, v]) => [k, wire(v)])),
    secretKeys,
    // The salt the offline render gives a stack (render-stack.ts): what is derived from it renders alike every run.
    previousOutputs: withOfflineSalt("monitoring", stack),
  };
  return renderRun(await runProgram(input), showSecrets);
}

/** Run input for a program that builds components alone, without a stack config. */
export const ALONE = { project: "monitoring", stack: "test", config: {}, secretKeys: [] } as const satisfies Omit<RunInput, "program">;
