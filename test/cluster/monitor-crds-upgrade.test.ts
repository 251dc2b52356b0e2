/**
 * The CRDs this stack owns (monitoring.coreos.com/v1: ServiceMonitor, PodMonitor, Probe,
 * PrometheusRule) upgraded in place to the prometheus-operator's own CRD files, the way the
 * operator's documentation upgrades them: `kubectl apply --server-side --force-conflicts` of
 * example/prometheus-operator-crd/. On the local control plane, with the real engine and provider:
 *
 * - the stack's component (components/monitors, MonitorCrds) installs the four CRDs as `pulumi up`
 *   does, and charts' objects (test/fixtures/operator-objects/) are created under them;
 * - the operator's files, read at test time from Go's module cache at the release the stack's pin
 *   of the operator's module names (tools/config-reloader/go.mod, the release whose API the stack's
 *   CRDs follow), are applied over them;
 * - each CRD is the same object (its uid), still serving and storing v1; every object is the same
 *   object with the same spec, and the stack's own lister (preflight/operator-rules.ts) reads the
 *   PrometheusRules as before; the stack's marks (label, annotation) stay, so the stack still takes
 *   the CRDs as its own, and its next preview changes nothing.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import {
  MONITOR_KINDS,
  MonitorKind,
  CRD_OWNER_ANNOTATION,
  CRD_OWNER_LABEL,
  CRD_OWNER_VALUE,
  crdName,
} from "../../components/monitors/args";
import { MonitorCrds } from "../../components/monitors";
import { goEnv } from "../../lab/tools/go-build";
import { TOOLS_DIR, ROOT } from "../../lab/tools/tools";
import { kubeConnection, kubeGetter } from "../../preflight/kube-api";
import { ruleLister } from "../../preflight/operator-rules";
import { deleteMonitorCrds, deleteNamespace } from "./support/apps";
import { KubeObject, get, kubectl, list } from "./support/kube";
import { StackHandle, openStack } from "./support/stack";

const OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator";
const CRD_DIR = "example/prometheus-operator-crd";
/** The pin whose go.mod and go.sum name the operator's module (its config reloader is built from it). */
const PIN = path.join(TOOLS_DIR, "config-reloader");
const STACK_NAMESPACE = "monitoring-crds";
const NS = "crds-upgrade";
const KINDS = Object.keys(MONITOR_KINDS) as MonitorKind[];
const FIXTURES = path.join(ROOT, "test", "fixtures", "operator-objects");

let handle: StackHandle;

/** The operator module's directory in Go's module cache, at the version the pin requires (checked against its go.sum). */
function operatorModule(): { version: string; dir: string } {
  const result = spawnSync("go", ["mod", "download", "-json", OPERATOR_MODULE], { cwd: PIN, env: goEnv(), encoding: "utf8" });
  const info = JSON.parse(result.stdout || "{}") as { Dir?: string; Version?: string; Error?: string };
  if (result.status !== 0 || !info.Dir || !info.Version)
    throw new Error(`cannot download ${OPERATOR_MODULE}: ${info.Error ?? result.stderr}`);
  return { version: info.Version, dir: info.Dir };
}

/** Each object of the fixtures' kinds in the test's namespace: its uid and spec. */
async function objects(): Promise<Record<string, { uid: string; spec: unknown }>> {
  const found: Record<string, { uid: string; spec: unknown }> = {};
  for (const kind of KINDS) {
    for (const o of await list(crdName(kind), NS)) found[`${o.kind}/${o.metadata.name}`] = { uid: o.metadata.uid, spec: o.spec };
  }
  return found;
}

async function crds(): Promise<Record<string, KubeObject>> {
  const found: Record<string, KubeObject> = {};
  for (const kind of KINDS) {
    const crd = await get("customresourcedefinition", crdName(kind));
    if (crd) found[kind] = crd;
  }
  return found;
}

const readRules = () => ruleLister(kubeGetter(kubeConnection(process.env.KUBECONFIG)))([NS], {});

beforeAll(async () => {
  // The CRDs must not be there yet: the stack installs them only on a cluster without them.
  expect(Object.keys(await crds())).toEqual([]);
  handle = await openStack("staging");
  // The component alone, as the stack's program makes it (components/stack/index.ts), for every kind.
  handle.stack.workspace.program = async () => {
    new MonitorCrds("monitor-crds", { namespace: STACK_NAMESPACE, environment: "crds", kinds: KINDS });
    return {};
  };
});

afterAll(async () => {
  // The CRDs are kept when the stack goes (retainOnDelete): the test removes them, and its objects with them.
  if (handle) await handle.stack.destroy().catch(() => undefined);
  handle?.dispose();
  await deleteMonitorCrds();
  await deleteNamespace(NS);
});

describe("the stack's monitoring.coreos.com CRDs upgraded in place to the operator's own files", () => {
  let crdsBefore: Record<string, KubeObject>;
  let before: Record<string, { uid: string; spec: unknown }>;
  let rulesBefore: unknown;

  test("pulumi up installs the stack's four CRDs, and charts' objects are created under them", async () => {
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");
    for (const kind of KINDS) await kubectl(["wait", "--for=condition=Established", `crd/${crdName(kind)}`, "--timeout=60s"]);
    crdsBefore = await crds();
    expect(Object.keys(crdsBefore).sort()).toEqual([...KINDS].sort());
    await kubectl(["create", "namespace", NS]);
    for (const file of fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".yaml"))) {
      const o = YAML.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8")) as { metadata: Record<string, unknown> };
      await kubectl(["create", "-f", "-"], JSON.stringify({ ...o, metadata: { ...o.metadata, namespace: NS } }));
    }
    before = await objects();
    expect(Object.keys(before).length).toBe(6);
    rulesBefore = await readRules();
    expect((rulesBefore as unknown[]).length).toBe(2);
  });

  test("the operator's CRD files, applied server-side over them, change each CRD in place", async () => {
    const operator = operatorModule();
    process.stderr.write(`prometheus-operator ${operator.version}: ${CRD_DIR} from ${operator.dir}\n`);
    for (const kind of KINDS) {
      const file = path.join(operator.dir, CRD_DIR, `${crdName(kind).replace(/^([^.]+)\.(.+)$/, "$2_$1")}.yaml`);
      // As the operator's docs upgrade CRDs: server-side, taking the fields another manager (Pulumi) set.
      await kubectl(["apply", "--server-side", "--force-conflicts", "-f", file]);
      const upstream = YAML.parse(fs.readFileSync(file, "utf8")) as KubeObject;
      const crd = (await get("customresourcedefinition", crdName(kind))) as KubeObject;
      // The operator's schema, not the stack's: the file's own, served and stored as v1.
      type Version = { name: string; served: boolean; storage: boolean; schema: unknown };
      const [served] = (crd.spec as { versions: Version[] }).versions;
      const [shipped] = (upstream.spec as { versions: Version[] }).versions;
      expect({ name: served.name, served: served.served, storage: served.storage }).toEqual({ name: "v1", served: true, storage: true });
      expect(served.schema).toEqual(shipped.schema);
      // The same CRD object: not deleted and created anew (which would have deleted every object of the kind).
      expect({ kind, uid: crd.metadata.uid }).toEqual({ kind, uid: crdsBefore[kind].metadata.uid });
      expect((crd.status as { storedVersions: string[] }).storedVersions).toEqual(["v1"]);
      // The stack's marks stay: they were set by the stack's manager, which the files do not touch.
      expect(crd.metadata.labels?.[CRD_OWNER_LABEL]).toBe(CRD_OWNER_VALUE);
      expect(crd.metadata.annotations?.[CRD_OWNER_ANNOTATION]).toBe(STACK_NAMESPACE);
    }
  });

  test("every object is kept whole and still read, the PrometheusRules through the stack's own lister", async () => {
    expect(await objects()).toEqual(before);
    expect(await readRules()).toEqual(rulesBefore);
  });

  test("the stack's next preview changes nothing", async () => {
    await handle.stack.preview({ expectNoChanges: true });
  });
});
