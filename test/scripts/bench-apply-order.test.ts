/**
 * The bench's kube-state-metrics phase (lab/bench/ksm-footprint.ts, lab/bench/ksm-objects.ts) applies both stacks' rendered
 * objects to a real API server, which refuses an object whose namespace does not exist yet
 * (`Error from server (NotFound): namespaces "shop" not found` failed the whole bench). Every
 * namespaced object of the batches, in the order the run applies them, names a namespace a
 * cluster starts with or one an earlier object created.
 */
import { KSM_QUICK_PLAN, sharedNodeRenders } from "../../lab/bench/ksm-figures";
import { applyBatches, teamNamespaces } from "../../lab/bench/ksm-objects";

/** The namespaces a new cluster has. */
const BUILT_IN = ["default", "kube-system", "kube-public", "kube-node-lease"];

type Applied = { kind: string; metadata: { name: string; namespace?: string } };

/** Each object applied before its namespace exists, as `<kind> <namespace>/<name>`. */
function beforeTheirNamespace(batches: object[][]): string[] {
  const known = new Set(BUILT_IN);
  const early: string[] = [];
  for (const object of batches.flat() as Applied[]) {
    if (object.kind === "Namespace") known.add(object.metadata.name);
    else if (object.metadata.namespace !== undefined && !known.has(object.metadata.namespace))
      early.push(`${object.kind} ${object.metadata.namespace}/${object.metadata.name}`);
  }
  return early;
}

test("every object the bench applies comes after its namespace", async () => {
  const { production, staging } = await sharedNodeRenders();
  const teams = teamNamespaces([production.config, staging.config]);
  expect(teams.length).toBeGreaterThan(0);
  const batches = applyBatches([production, staging], teams, KSM_QUICK_PLAN);
  expect(beforeTheirNamespace(batches)).toEqual([]);
  // The check itself: the stacks first (the order that failed) leaves the teams' RoleBindings before their namespace.
  expect(beforeTheirNamespace([...batches].reverse()).some((o) => teams.some((t) => o.includes(` ${t}/`)))).toBe(true);
});
