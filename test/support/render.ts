/** Test helpers around the shared mocks runner and renderer. */
import { Rendered, renderRun } from "../../cli/render";
import { renderStack, withOfflineSalt } from "../../cli/render-stack";
import { applyProjectConfig, readProjectFile } from "../../cli/project-config";
import { RunInput, runProgram } from "../../cli/runner";
import { ROOT } from "../../cli/stackfile";

export { renderStack };
export { objectOf, objectsOf } from "../../lab/local/rendered";

/** Renders a real stack file with overrides, secrets shown (tests read config files). */
export function render(stack: string, sets: string[] = []): Promise<Rendered> {
  return renderStack({ stack, sets, showSecrets: true });
}

/**
 * Runs the program with an inline config (full keys are prefixed with the project),
 * after Pulumi.yaml's declared defaults are applied as the Pulumi CLI applies them.
 */
export async function renderConfig(
  stack: string,
  config: Record<string, unknown>,
  secrets: Record<string, unknown> = {},
  showSecrets = true,
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
