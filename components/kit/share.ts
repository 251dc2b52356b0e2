/** What a component shares with other stacks on the cluster (`shareWith[]` of kubeStateMetrics and logCollector). */
import { ArgsProblem } from "./problems";

/** One `shareWith` entry: the other stack's namespace, and the namespaces this stack serves it. */
export interface ShareEntry {
  namespace: string;
  namespaces: readonly string[];
}

/** Each other stack once, and each namespace once within its entry: problems keyed under `shareWith[i]`. */
export function shareEntryProblems(shareWith: readonly ShareEntry[]): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const seen = new Map<string, number>();
  shareWith.forEach((entry, i) => {
    const first = seen.get(entry.namespace);
    if (first !== undefined) {
      found.push({
        key: `shareWith[${i}].namespace`,
        message: `names ${entry.namespace} again (shareWith[${first}]): give each stack one entry`,
      });
    } else seen.set(entry.namespace, i);
    const names = new Set<string>();
    entry.namespaces.forEach((ns, j) => {
      if (names.has(ns)) found.push({ key: `shareWith[${i}].namespaces[${j}]`, message: `names ${ns} twice` });
      else names.add(ns);
    });
  });
  return found;
}
