/**
 * A problem a component finds in its own args: each component folder exports `problems(args)`
 * returning these, and config/checks/ collects them, with the section's prefix, into the one list
 * every problem of a stack is reported in (config/checks/index.ts). The component itself trusts
 * its args: they come through config, so nothing is checked twice.
 */
export interface ArgsProblem {
  /** The key relative to the component's config section, e.g. `retention` or `receivers[0].email`. */
  key: string;
  message: string;
  /** The other keys of the section the rule reads: when one of them was refused, this problem only follows from it. */
  involves?: string[];
}

/** The names given more than once, each once. */
export function duplicates(names: string[]): string[] {
  return [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
}

/**
 * A component's constructor runs its own problems(), the function config's checks run first: args
 * with a problem come from a caller that skipped config, and are refused before any resource, with
 * every problem named under the component's section, as config would name them.
 */
export function refuseProblems(section: string, found: readonly ArgsProblem[]): void {
  if (found.length === 0) return;
  throw new Error(`Invalid ${section} args:\n${found.map((p) => `  - ${section}.${p.key}: ${p.message}`).join("\n")}`);
}
