/**
 * Production's data outlives the stack: `pulumi destroy` stops at the protected volumes,
 * and after the documented unprotect path the claims, their volumes and what was written
 * on them are still there. Real engine, real API server, real provider.
 */
import * as fs from "fs";
import * as path from "path";
import { createTeamWorkloads, deleteNamespace } from "./support/apps";
import { KubeObject, get, kubectl, list, notReady, waitFor } from "./support/kube";
import { StackHandle, openStack } from "./support/stack";

const TEAM = "shop";
// The stack file leaves the namespace to its default, monitoring-<environment>.
const NAMESPACE = "monitoring-production";
const MARKER = "written-by-the-cluster-tier";

let handle: StackHandle;

interface Claim {
  name: string;
  uid: string;
  volume: string;
}

async function claims(): Promise<Claim[]> {
  return (await list("persistentvolumeclaims", NAMESPACE))
    .map((pvc) => ({ name: pvc.metadata.name, uid: pvc.metadata.uid, volume: String((pvc.spec as { volumeName?: string }).volumeName) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The directory on the (simulated) node that holds a volume's data. */
async function volumeDir(volume: string): Promise<string> {
  const pv = (await get("persistentvolume", volume)) as KubeObject;
  return (pv.spec as { hostPath: { path: string } }).hostPath.path;
}

beforeAll(async () => {
  await createTeamWorkloads(TEAM);
  handle = await openStack("production", {
    secrets: {
      grafanaAdminPassword: "production-grafana-admin-password",
      discordWebhookUrl: "https://discord.com/api/webhooks/0/production",
      "basicAuthPasswords.admin": "production-basic-auth-password",
    },
  });
  // The Cloudflare provider cannot be built here (lab/tools/tools.ts): the tunnel stays off.
  handle.editStackFile((c) => ((c["monitoring:cloudflare"] as Record<string, unknown>).enabled = false));
});

afterAll(async () => {
  handle?.dispose();
  await deleteNamespace(TEAM);
  await deleteNamespace(NAMESPACE);
});

describe("production's volumes survive destroy", () => {
  let before: Claim[];

  test("pulumi up deploys the production profile on one node: each workload once, no disruption budget", async () => {
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");
    const workloads = await list("statefulsets", NAMESPACE);
    await waitFor("StatefulSets Ready", async () => {
      const waiting = (await list("statefulsets", NAMESPACE)).map(notReady).filter((x) => x !== undefined);
      return waiting.length ? waiting.join("; ") : undefined;
    });
    expect(workloads.length).toBeGreaterThanOrEqual(3);
    // The stack file says nodes: 1: one replica of everything, and nothing that could hold up a drain.
    for (const w of workloads) expect({ [w.metadata.name]: (w.spec as { replicas: number }).replicas }).toEqual({ [w.metadata.name]: 1 });
    expect(await list("poddisruptionbudgets", NAMESPACE)).toEqual([]);
    before = await claims();
    // Prometheus, Alertmanager, Loki, Grafana (no Jaeger: no app of the stack file sends OTLP).
    expect(before.map((c) => c.name)).toEqual(["data-alertmanager-0", "data-loki-0", "data-prometheus-0", "grafana"]);
    for (const claim of before) {
      const dir = await volumeDir(claim.volume);
      fs.writeFileSync(path.join(dir, MARKER), claim.uid);
    }
  });

  test("pulumi destroy stops at the protection and deletes nothing: with or without its preview, and with --exclude-protected", async () => {
    const everything = async () =>
      (await list("all,configmaps,secrets,persistentvolumeclaims,networkpolicies,ingressroutes.traefik.io", NAMESPACE))
        .filter((o) => o.kind !== "Pod" && o.kind !== "ReplicaSet" && o.kind !== "Endpoints" && o.kind !== "EndpointSlice")
        .map((o) => `${o.kind}/${o.metadata.name}/${o.metadata.uid}`)
        .sort();
    const whole = await everything();
    // As a person runs it: the preview meets the protection and nothing is deleted.
    await expect(handle.cli(["destroy", "--yes"])).rejects.toThrow(/protected/);
    expect(await everything()).toEqual(whole);
    // As automation runs it, with no preview: the guard is deleted first, so it stops there.
    await expect(handle.stack.destroy()).rejects.toThrow(/monitoring-stack-protection|protected/);
    expect(await everything()).toEqual(whole);
    // --exclude-protected spares the protected resources and all they depend on: the guard
    // depends on everything, so there is nothing left to delete.
    const excluded = await handle.cli(["destroy", "--yes", "--exclude-protected"]);
    expect(excluded.stdout).toContain("There were no unprotected resources to destroy");
    expect(await everything()).toEqual(whole);
    expect(await claims()).toEqual(before);
  });

  test("after the documented unprotect, destroy removes the stack and keeps the data", async () => {
    await handle.cli(["state", "unprotect", "--all", "--yes"]);
    const result = await handle.stack.destroy();
    expect(result.summary.result).toBe("succeeded");

    await waitFor("the stack's workloads gone", async () => {
      const left = await list("deployments,statefulsets", NAMESPACE);
      return left.length ? left.map((o) => `${o.kind}/${o.metadata.name}`).join(", ") : undefined;
    });
    // The namespace, the claims (same objects), their volumes and the data on them remain.
    expect(await get("namespace", NAMESPACE)).toBeDefined();
    expect(await claims()).toEqual(before);
    for (const claim of before) {
      const pv = (await get("persistentvolume", claim.volume)) as KubeObject;
      expect((pv.status as { phase: string }).phase).toBe("Bound");
      expect(fs.readFileSync(path.join(await volumeDir(claim.volume), MARKER), "utf8")).toBe(claim.uid);
    }
    expect(JSON.parse(await kubectl(["get", "namespace", NAMESPACE, "-o", "json"])).status.phase).toBe("Active");
  });
});
