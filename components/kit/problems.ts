/**
 * A problem a component finds in its own args: each component folder exports `problems(args)`
 * returning these, and config/checks/ collects them, with the section's prefix, into the one list
 * every problem of a stack is reported in (config/checks/index.ts). The component's constructor
 * runs the same function (refuseProblems), so that args that did not come through config are
 * refused too, with the check written once.
 */
import * as pulumi from "@pulumi/pulumi";

export interface ArgsProblem {
  /**
   * The key relative to the component's config section, e.g. `retention` or `receivers[0].email`;
   * or one of the section's secret keys (`grafanaDatabasePassword`), which are keys of their own.
   */
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

/**
 * Each entry of a list whose name an earlier entry has already, as a problem at its own name
 * (`apps[1].name`) that names the first: `noun name "x" is used more than once (first at apps[0]); …`.
 */
export function duplicateNameProblems(list: string, names: readonly string[], noun: string): ArgsProblem[] {
  return names.flatMap((name, i) => {
    const first = names.indexOf(name);
    if (first === i) return [];
    return [
      {
        key: `${list}[${i}].name`,
        message: `${noun} name "${name}" is used more than once (first at ${list}[${first}]); names must be unique`,
      },
    ];
  });
}

/**
 * A constructor's refusal of its args: the problems its component's `problems(args)` finds, all
 * in one error, thrown before any resource is registered. Config has already refused them in a
 * stack; this catches args built some other way.
 */
export function refuseProblems(
  component: string,
  name: string,
  found: readonly ArgsProblem[],
  opts?: pulumi.ComponentResourceOptions,
): void {
  if (found.length === 0) return;
  throw new pulumi.ResourceError(`${component} "${name}": ${found.map((p) => `${p.key}: ${p.message}`).join("; ")}`, opts?.parent);
}

/**
 * A broken invariant of the program's own code: a name or number a component writes itself, or
 * a value config has already refused when malformed. Never a check of a user's value (config's
 * schema and each component's problems() are those): reaching it is a bug, said as one.
 */
export function programmingError(message: string): never {
  throw new Error(message);
}
