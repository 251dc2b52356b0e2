/**
 * The database exporters' component was ExporterSidecars (type monitoring:index:ExporterSidecars)
 * until it became DatabaseExporters. A stack an earlier release deployed holds the component under
 * that type, and every one of its objects too: a child's URN carries its parent's type. The alias
 * of components/database-exporters/index.ts makes that state the renamed component's, and the
 * engine gives the children their parent's alias: the preview and the up after the upgrade
 * replace, create and delete nothing, and every object of the stack is the one it was.
 *
 * The state is written by the earlier code itself, on the real engine: the program of a copy of
 * the project whose component registers the earlier type and no alias, which is all the rename
 * changed of what Pulumi sees (the render matrix of the rename differs by that type alone).
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../lab/tools/tools";
import { deleteNamespace } from "./support/apps";
import { KubeObject, list } from "./support/kube";
import { StackHandle, openStack } from "./support/stack";

const NAMESPACES = ["monitoring-staging", "monitoring-staging-agents"];
const EARLIER = "monitoring:index:ExporterSidecars";
const NOW = "monitoring:index:DatabaseExporters";
// A database whose DSN is a config value besides the stack file's two (secretRef): its exporter has a
// DSN Secret of the stack's, which its Deployment depends on.
const ORDERS = { name: "orders", type: "postgres", mode: "standalone" };
const ORDERS_DSN = "postgresql://exporter:orders-password@postgres.shop-staging.svc:5432/orders?sslmode=disable";

let handle: StackHandle;
let destroyed = false;

interface StateResource {
  urn: string;
  type: string;
  parent?: string;
  id?: string;
}

async function stateResources(): Promise<StateResource[]> {
  const state = await handle.stack.exportStack();
  return (state.deployment as { resources?: StateResource[] }).resources ?? [];
}

/** The component of the given type in the state and its children, as name and type with the object's id. */
async function exporters(type: string): Promise<{ component: StateResource; children: string[] }> {
  const resources = await stateResources();
  const components = resources.filter((r) => r.type === type);
  expect(components).toHaveLength(1);
  const [component] = components;
  const children = resources.filter((r) => r.parent === component.urn);
  // Each child's URN carries the type its parent registered.
  for (const child of children) expect(child.urn).toContain(`$${type}$`);
  return { component, children: children.map((c) => `${c.type} ${c.urn.split("::").pop()} ${c.id}`).sort() };
}

/** Every object of the stack in its namespaces: its uid, and what any write of it changes (generation, else resourceVersion). */
async function objects(): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const ns of NAMESPACES) {
    for (const o of await list("deployments,statefulsets,daemonsets,services,configmaps,secrets,networkpolicies", ns)) {
      const meta = o.metadata as KubeObject["metadata"] & { generation?: number; resourceVersion?: string };
      // A workload's controller writes its status (a new resourceVersion); a change of its spec is a new generation.
      const version = ["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind) ? `generation ${meta.generation}` : meta.resourceVersion;
      found[`${o.kind}/${ns}/${o.metadata.name}`] = `${meta.uid} ${version}`;
    }
  }
  return found;
}

/**
 * The program as the earlier release ran it: a copy of the scratch project beside it whose component
 * registers the earlier type without an alias, loaded on its own (it shares the checkout's packages,
 * so the one Pulumi runtime of this process runs it).
 */
function earlierProgram(): () => Promise<Record<string, unknown>> {
  const dir = path.join(path.dirname(handle.workDir), "earlier");
  fs.cpSync(handle.workDir, dir, { recursive: true, filter: (source) => path.basename(source) !== "node_modules" });
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  const file = path.join(dir, "components", "database-exporters", "index.ts");
  const source = fs.readFileSync(file, "utf8");
  const registration = /super\("monitoring:index:DatabaseExporters", name, [^;]*\);/g;
  // Exactly one registration to change: a component written otherwise must fail here, not pass unchanged.
  expect(source.match(registration)).toHaveLength(1);
  fs.writeFileSync(file, source.replace(registration, `super(${JSON.stringify(EARLIER)}, name, opts);`));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(dir, "index.ts")) as () => Promise<Record<string, unknown>>;
}

beforeAll(async () => {
  handle = await openStack("staging", {
    secrets: { grafanaAdminPassword: "rename-grafana-admin-password", [`databaseDsns.${ORDERS.name}`]: ORDERS_DSN },
  });
  handle.editStackFile((c) => {
    (c["monitoring:databases"] as unknown[]).push(ORDERS);
    // What the rename touches is the database exporters: the stack without the parts that take longest to deploy.
    for (const off of ["loki", "logCollector", "tracing", "traefik"]) c[`monitoring:${off}`] = { enabled: false };
  });
});

afterAll(async () => {
  // The last test destroys the stack; after a failure before it, this leaves the cluster as the file found it.
  if (handle && !destroyed) await handle.stack.destroy().catch(() => undefined);
  handle?.dispose();
  for (const ns of NAMESPACES) await deleteNamespace(ns);
});

describe("a stack deployed before the rename of ExporterSidecars to DatabaseExporters", () => {
  let before: { component: StateResource; children: string[] };
  let objectsBefore: Record<string, string>;

  test("the earlier release deploys it: its state holds the exporters under ExporterSidecars", async () => {
    handle.stack.workspace.program = earlierProgram();
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");
    before = await exporters(EARLIER);
    // Three databases: a Deployment, a Service and two NetworkPolicies each, and the DSN Secret of the one given in config.
    expect(before.children).toHaveLength(13);
    expect((await stateResources()).filter((r) => r.type === NOW)).toEqual([]);
    objectsBefore = await objects();
  });

  test("the preview of the upgrade finds every resource the same: nothing created, replaced or deleted", async () => {
    handle.stack.workspace.program = handle.program;
    const preview = await handle.stack.preview({ diff: true });
    // "read" is the program's StackReference to its own outputs, read on every update: not a change.
    expect(preview.changeSummary).toEqual({ same: expect.any(Number), read: 1 });
  });

  test("the up of the upgrade moves the state to DatabaseExporters and writes no object of the cluster", async () => {
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");
    expect(result.summary.resourceChanges).toEqual({ same: expect.any(Number), read: 1 });
    const after = await exporters(NOW);
    // The component and each of its objects are the same ones, under the new type.
    expect(after.component.urn).toBe(before.component.urn.replace(EARLIER, NOW));
    expect(after.children).toEqual(before.children);
    const stale = (await stateResources()).filter((r) => [r.urn, r.type, r.parent ?? ""].some((s) => s.includes(EARLIER)));
    expect(stale).toEqual([]);
    expect(await objects()).toEqual(objectsBefore);
    await handle.stack.preview({ expectNoChanges: true });
  });

  test("pulumi destroy removes the renamed component's objects with the rest", async () => {
    const result = await handle.stack.destroy();
    destroyed = true;
    expect(result.summary.result).toBe("succeeded");
    const left = await list("deployments,services,secrets,networkpolicies", NAMESPACES[0], "app.kubernetes.io/component=exporter");
    expect(left.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });
});
