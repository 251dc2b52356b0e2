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

/** What a message says in place of a secret value it is about: never the value itself. */
export const HIDDEN = "a value that is hidden because it is a secret";

/** The names given more than once, each once. */
export function duplicates(names: string[]): string[] {
  return [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
}
