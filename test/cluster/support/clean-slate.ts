/**
 * Each file of the cluster tier leaves the cluster as it found it, so that no file depends on
 * the ones before it (TIER_ORDER runs them in any order: test/cluster/sequencer.js). The global
 * setup records what the fresh cluster holds (`cluster-wide` below) in CLUSTER_TIER_BASELINE;
 * before each file (a setup file of the tier) and after the last one (the global teardown), the
 * cluster must hold that again: anything more or less is named, as left behind by the file that ran
 * before. Namespaces still terminating get two minutes to go.
 */
import { list } from "./kube";

/**
 * What a file could leave behind cluster-wide (its own namespaces hold the rest): the nodes too,
 * which three-nodes.test.ts adds, and the CRDs, which a stack keeps when it goes (the operator's).
 */
const KINDS = "nodes,namespaces,persistentvolumes,storageclasses,clusterroles,clusterrolebindings,customresourcedefinitions";

/** The cluster-wide objects, as `Kind/name` (the API server's own system: roles aside). */
export async function clusterWide(): Promise<string[]> {
  return (await list(KINDS))
    .filter((o) => !o.metadata.name.startsWith("system:"))
    .map((o) => `${o.kind}/${o.metadata.name}`)
    .sort();
}

/** What differs from the baseline: undefined when nothing does. */
export async function leftovers(baseline: string[]): Promise<string | undefined> {
  const now = await clusterWide();
  const extra = now.filter((o) => !baseline.includes(o));
  const missing = baseline.filter((o) => !now.includes(o));
  if (extra.length === 0 && missing.length === 0) return undefined;
  return [extra.length ? `left behind: ${extra.join(", ")}` : "", missing.length ? `removed: ${missing.join(", ")}` : ""]
    .filter(Boolean)
    .join("; ");
}

/** Waits for the cluster to be back to the baseline; fails naming what is not. */
export async function expectCleanSlate(when: string): Promise<void> {
  const baseline = JSON.parse(process.env.CLUSTER_TIER_BASELINE ?? "[]") as string[];
  if (baseline.length === 0) return;
  const deadline = Date.now() + 120_000;
  let diff = await leftovers(baseline);
  while (diff !== undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    diff = await leftovers(baseline);
  }
  if (diff !== undefined) {
    throw new Error(`${when}, the cluster is not as the tier found it (each file must leave it so): ${diff}`);
  }
}
