/**
 * Volume edits that cannot be done in place, on the real engine and API server: a larger
 * claim on a class that cannot expand (k3s's local-path), another StorageClass, a smaller
 * claim. Each `pulumi up` is refused before anything changes, with the message that says what
 * to do, and the stack stays exactly as it was. Then the way out of docs/operations.md: the claims made
 * anew with `storage.recreate`.
 */
import { deleteNamespace } from "./support/apps";
import { KubeObject, apply, get, kubectl, list, notReady, waitFor } from "./support/kube";
import { StackHandle, openStack } from "./support/stack";

// The staging stack file leaves the namespace to its default, monitoring-<environment>.
const NAMESPACE = "monitoring-staging";
/** The namespace of the stack file's apps: watched, so the collector reads its events there (a RoleBinding in it). */
const APPS_NAMESPACE = "shop-staging";
/** The stack's own namespaces, which its destroy removes; the apps' namespace is the team's and stays. */
const STACK_NAMESPACES = [NAMESPACE, `${NAMESPACE}-agents`];
const NAMESPACES = [...STACK_NAMESPACES, APPS_NAMESPACE];
const SECRETS = {
  grafanaAdminPassword: "volumes-grafana-admin-password",
  "basicAuthPasswords.admin": "volumes-basic-auth-password",
};
const CHANGING_VOLUMES = 'see docs/operations.md, "Changing volumes"';

let handle: StackHandle;
let destroyed = false;

/** Every StatefulSet and claim of the stack: identity and version, which any write changes. */
async function objects(): Promise<Record<string, { uid: string; resourceVersion: string }>> {
  const found: Record<string, { uid: string; resourceVersion: string }> = {};
  for (const o of await list("statefulsets,persistentvolumeclaims", NAMESPACE)) {
    const meta = o.metadata as { uid: string; resourceVersion?: string };
    found[`${o.kind}/${o.metadata.name}`] = { uid: meta.uid, resourceVersion: String(meta.resourceVersion) };
  }
  return found;
}

async function workloadsReady(): Promise<void> {
  await waitFor("every workload Ready", async () => {
    const waiting = (await list("deployments,statefulsets", NAMESPACE)).map(notReady).filter((x) => x !== undefined);
    return waiting.length ? waiting.join("; ") : undefined;
  });
}

function setPrometheusSize(size: string): void {
  handle.editStackFile((c) => ((c["monitoring:prometheus"] as { storage: Record<string, unknown> }).storage.size = size));
}

/** What `pulumi up` printed when the program refused it. */
const failedUp = (): Promise<string> => handle.failing("up");

beforeAll(async () => {
  handle = await openStack("staging", { secrets: SECRETS });
  // No team workloads here: the database exporters are staging.test.ts's story.
  handle.editStackFile((c) => delete c["monitoring:databases"]);
  // Its apps' namespace exists, as where a team runs its apps does (without workloads: nothing here reads them).
  await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: APPS_NAMESPACE } });
});

afterAll(async () => {
  if (handle && !destroyed) await handle.stack.destroy().catch(() => undefined);
  handle?.dispose();
  for (const ns of NAMESPACES) await deleteNamespace(ns);
});

describe("volume edits that cannot be done in place are refused before anything changes", () => {
  let before: Record<string, { uid: string; resourceVersion: string }>;

  test("pulumi up deploys staging and records its volumes as a plain stack output", async () => {
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");
    await workloadsReady();
    const outputs = await handle.stack.outputs();
    expect(outputs.volumes.secret).toBe(false);
    expect(outputs.volumes.value).toEqual({
      prometheus: { size: "10Gi", storageClass: "local-path", templateSize: "10Gi", claims: ["data-prometheus-0"] },
      alertmanager: { size: "1Gi", storageClass: "local-path", templateSize: "1Gi", claims: ["data-alertmanager-0"] },
      loki: { size: "10Gi", storageClass: "local-path", templateSize: "10Gi", claims: ["data-loki-0"] },
      grafana: { size: "2Gi", storageClass: "local-path", claims: ["grafana"] },
    });
    // Settled: nothing writes to them any more.
    await waitFor("StatefulSets and claims settled", async () => {
      const first = JSON.stringify(await objects());
      await new Promise((r) => setTimeout(r, 5000));
      return JSON.stringify(await objects()) === first ? undefined : "still changing";
    });
    before = await objects();
    expect(Object.keys(before).sort()).toEqual([
      "PersistentVolumeClaim/data-alertmanager-0",
      "PersistentVolumeClaim/data-loki-0",
      "PersistentVolumeClaim/data-prometheus-0",
      "PersistentVolumeClaim/grafana",
      "StatefulSet/alertmanager",
      "StatefulSet/loki",
      "StatefulSet/prometheus",
    ]);
  });

  test("(a) a larger Prometheus volume, on local-path (no expansion)", async () => {
    setPrometheusSize("20Gi");
    const output = await failedUp();
    expect(output).toContain("Invalid stack configuration (1 problem):");
    expect(output).toContain(
      "monitoring:prometheus.storage.size: cannot grow the existing claims (data-prometheus-0) from 10Gi to 20Gi unless their " +
        'StorageClass, "local-path", expands volumes (allowVolumeExpansion: true). If it does, say so: pulumi config set --path ' +
        "'prometheus.storage.expandable' true. k3s's local-path does not: there, keep 10Gi and move the data to a new, larger claim " +
        `(${CHANGING_VOLUMES}) (got "20Gi")`,
    );
    expect(await objects()).toEqual(before);
  });

  test("(b) another StorageClass", async () => {
    setPrometheusSize("10Gi");
    handle.editStackFile((c) => (c["monitoring:storageClass"] = "fast"));
    const output = await failedUp();
    expect(output).toContain(
      "monitoring:storageClass: cannot move the existing claims (data-prometheus-0, data-alertmanager-0, data-loki-0, grafana) from " +
        '"local-path" to "fast": a claim\'s StorageClass cannot change, so Pulumi would replace the claims and their StatefulSets, ' +
        "deleting the claims and with them their data (local-path, like most classes, deletes a volume with its claim). Keep " +
        `"local-path"; to move the data to another class, ${CHANGING_VOLUMES} (got "fast")`,
    );
    expect(await objects()).toEqual(before);
  });

  test("(c) a smaller Prometheus volume", async () => {
    handle.editStackFile((c) => (c["monitoring:storageClass"] = "local-path"));
    setPrometheusSize("5Gi");
    const output = await failedUp();
    expect(output).toContain(
      "monitoring:prometheus.storage.size: must be at least 10Gi, the size of the existing claims (data-prometheus-0): Kubernetes " +
        `never shrinks a claim. Keep 10Gi; to use less space, move the data to a new, smaller claim (${CHANGING_VOLUMES}) (got "5Gi")`,
    );
    expect(await objects()).toEqual(before);
  });

  test("the refused updates left the stack's record and state as they were: back to the config, nothing to do", async () => {
    setPrometheusSize("10Gi");
    await handle.stack.preview({ expectNoChanges: true });
    expect((await handle.stack.outputs()).volumes.value).toMatchObject({ prometheus: { size: "10Gi" } });
  });

  test("an expansion declared on a class that cannot expand fails at the API server, and the record keeps the old size", async () => {
    handle.editStackFile((c) => {
      (c["monitoring:prometheus"] as { storage: Record<string, unknown> }).storage = { size: "20Gi", expandable: true };
    });
    expect(await failedUp()).toMatch(/"data-prometheus-0" is (forbidden|invalid)/);
    expect((await handle.stack.outputs()).volumes.value).toMatchObject({ prometheus: { size: "10Gi", templateSize: "10Gi" } });
    // So going back is not refused as a shrink, and settles the stack.
    handle.editStackFile((c) => ((c["monitoring:prometheus"] as { storage: Record<string, unknown> }).storage = { size: "10Gi" }));
    expect((await handle.stack.up()).summary.result).toBe("succeeded");
    await handle.stack.preview({ expectNoChanges: true });
    expect(Object.fromEntries(Object.entries(await objects()).map(([k, v]) => [k, v.uid]))).toEqual(
      Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v.uid])),
    );
  });
});

describe('the way out: claims made anew (docs/operations.md, "Changing volumes")', () => {
  let oldClaim: string;

  test("the old StatefulSet and claim deleted in the cluster, pulumi refresh, then storage.recreate with the new size", async () => {
    oldClaim = ((await get("persistentvolumeclaim", "data-prometheus-0", NAMESPACE)) as KubeObject).metadata.uid;
    // (Copying the data out and back is the user's part: kwok runs no container to copy with.)
    await kubectl(["-n", NAMESPACE, "delete", "statefulset", "prometheus", "--wait=true"]);
    await kubectl(["-n", NAMESPACE, "delete", "persistentvolumeclaim", "data-prometheus-0", "--wait=true", "--timeout=120s"]);
    await handle.stack.refresh();
    handle.editStackFile((c) => {
      (c["monitoring:prometheus"] as { storage: Record<string, unknown> }).storage = { size: "20Gi", recreate: true };
    });
    expect((await handle.stack.up()).summary.result).toBe("succeeded");
    await workloadsReady();
    const requested = (o: unknown) => (o as { resources: { requests: { storage: string } } }).resources.requests.storage;
    const claim = (await get("persistentvolumeclaim", "data-prometheus-0", NAMESPACE)) as KubeObject;
    expect(claim.metadata.uid).not.toBe(oldClaim);
    expect(requested(claim.spec)).toBe("20Gi");
    const sts = (await get("statefulset", "prometheus", NAMESPACE)) as KubeObject;
    const templates = (sts.spec as { volumeClaimTemplates: Array<{ spec: unknown }> }).volumeClaimTemplates;
    expect(requested(templates[0].spec)).toBe("20Gi");
  });

  test("recreate left set is refused; removed, the stack is settled", async () => {
    const output = await failedUp();
    expect(output).toContain("monitoring:prometheus.storage.recreate: is for the one deployment that makes the claims anew");
    handle.editStackFile((c) => ((c["monitoring:prometheus"] as { storage: Record<string, unknown> }).storage = { size: "20Gi" }));
    await handle.stack.preview({ expectNoChanges: true });
  });

  test("pulumi destroy leaves nothing of the stack behind", async () => {
    const result = await handle.stack.destroy();
    destroyed = true;
    expect(result.summary.result).toBe("succeeded");
    await waitFor("the stack's namespaces gone", async () => {
      const left = [];
      for (const ns of STACK_NAMESPACES) if (await get("namespace", ns)) left.push(ns);
      return left.length ? `left: ${left.join(", ")}` : undefined;
    });
    // In the team's namespace, which stays, nothing of the stack is left (the collector's events RoleBinding).
    expect(await get("namespace", APPS_NAMESPACE)).toBeTruthy();
    expect(await list("rolebindings", APPS_NAMESPACE, "app.kubernetes.io/part-of=monitoring-stack")).toEqual([]);
  });
});
