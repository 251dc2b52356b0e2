/**
 * The staging stack's life, as its team lives it, on the real engine and API server:
 * preview, up, a second preview that finds nothing to do, the everyday edits, an exporter
 * sidecar added to and taken out of their databases, and a destroy that leaves nothing.
 */
import * as fs from "fs";
import * as path from "path";
import { UpResult } from "@pulumi/pulumi/automation";
import { createTeamWorkloads, deleteNamespace, workloadShape } from "./support/apps";
import { KubeObject, get, kubectlWithWarnings, list, notReady, waitFor } from "./support/kube";
import { StackHandle, openStack, outputCollector } from "./support/stack";

const TEAM = "shop-staging";
// The stack file leaves the namespace to its default, monitoring-<environment>.
const NAMESPACES = ["monitoring-staging", "monitoring-staging-agents"];
const SECRETS = {
  grafanaAdminPassword: "staging-grafana-admin-password",
  discordWebhookUrl: "https://discord.com/api/webhooks/1/staging-warnings",
  discordCriticalWebhookUrl: "https://discord.com/api/webhooks/2/staging-critical",
  "basicAuthPasswords.admin": "staging-basic-auth-password",
};

let handle: StackHandle;
let sidecarTargetsBefore: unknown[];

/** Every workload of the stack, in its namespaces. */
async function workloads(): Promise<KubeObject[]> {
  const all: KubeObject[] = [];
  for (const ns of NAMESPACES) all.push(...(await list("deployments,statefulsets,daemonsets", ns)));
  return all;
}

async function identities(): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const ns of NAMESPACES) {
    for (const obj of await list("deployments,statefulsets,daemonsets,persistentvolumeclaims", ns)) {
      ids[`${obj.kind}/${ns}/${obj.metadata.name}`] = obj.metadata.uid;
    }
  }
  return ids;
}

function changes(result: UpResult): Record<string, number> {
  return (result.summary.resourceChanges ?? {}) as Record<string, number>;
}

async function sidecarTargets(): Promise<unknown[]> {
  return [await workloadShape("statefulset", "postgres", TEAM), await workloadShape("deployment", "redis", TEAM)];
}

beforeAll(async () => {
  await createTeamWorkloads(TEAM);
  sidecarTargetsBefore = await sidecarTargets();
  handle = await openStack("staging", { secrets: SECRETS });
});

afterAll(async () => {
  handle?.dispose();
  await deleteNamespace(TEAM);
});

describe("staging on a k3s-shaped cluster", () => {
  let upOutput = "";

  test("pulumi preview plans the whole stack", async () => {
    const preview = await handle.stack.preview();
    expect(preview.changeSummary.create).toBeGreaterThan(20);
  });

  test("pulumi up succeeds and every workload is Ready, with no Pod Security warning", async () => {
    const out = outputCollector();
    const result = await handle.stack.up({ onOutput: out.onOutput });
    upOutput = out.text();
    expect(result.summary.result).toBe("succeeded");
    const all = await workloads();
    expect(all.map((w) => w.kind).sort()).toEqual(expect.arrayContaining(["DaemonSet", "Deployment", "StatefulSet"]));
    await waitFor("every workload Ready", async () => {
      const waiting = (await workloads()).map(notReady).filter((x) => x !== undefined);
      return waiting.length > 0 ? waiting.join("; ") : undefined;
    });
    expect(upOutput).not.toMatch(/PodSecurity|would violate/i);
    // The provider does not relay the API server's warnings, so ask the API server: for each
    // namespace, what would its warn level say of the pods that run there now?
    for (const ns of NAMESPACES) {
      const namespace = (await get("namespace", ns)) as KubeObject;
      const level = namespace.metadata.labels?.["pod-security.kubernetes.io/warn"] as string;
      expect(level).toBeDefined();
      const answer = await kubectlWithWarnings([
        "label",
        "--dry-run=server",
        "--overwrite",
        "namespace",
        ns,
        `pod-security.kubernetes.io/enforce=${level}`,
      ]);
      expect({ ns, warnings: answer.stderr.split("\n").filter((l) => /violate|PodSecurity/i.test(l)) }).toEqual({ ns, warnings: [] });
    }
  });

  test("the stack outputs carry the Grafana URLs", async () => {
    const outputs = await handle.stack.outputs();
    expect(outputs.grafanaUrl.value).toBe("https://grafana.staging.example.com");
    expect(String(outputs.grafanaInternalUrl.value)).toMatch(/^http:\/\/grafana\.monitoring-staging\.svc/);
    expect(outputs.grafanaAdminPassword.secret).toBe(true);
  });

  test("a second preview finds nothing to change", async () => {
    await handle.stack.preview({ expectNoChanges: true });
  });

  test("the exporter sidecars are in the database pods", async () => {
    const postgres = (await get("statefulset", "postgres", TEAM)) as KubeObject;
    const redis = (await get("deployment", "redis", TEAM)) as KubeObject;
    const containers = (obj: KubeObject) =>
      (obj.spec as { template: { spec: { containers: Array<{ name: string }> } } }).template.spec.containers.map((c) => c.name);
    expect(containers(postgres)).toEqual(["postgres", "postgres-exporter"]);
    expect(containers(redis)).toEqual(["redis", "redis-exporter"]);
    for (const obj of [postgres, redis]) expect(notReady(obj)).toBeUndefined();
    // The stack file names DSN Secrets that this namespace does not have: the reference is
    // optional, so the kubelet starts the pod anyway (kwok starts every pod, so the live
    // object is what can be checked here).
    expect(await get("secret", "postgres-exporter", TEAM)).toBeUndefined();
    const exporter = (postgres.spec as { template: { spec: { containers: Array<{ name: string; env: unknown[] }> } } }).template.spec
      .containers[1];
    expect(exporter.env).toEqual([
      { name: "DATA_SOURCE_NAME", valueFrom: { secretKeyRef: { name: "postgres-exporter", key: "DATA_SOURCE_NAME", optional: true } } },
    ]);
  });

  test("a changed exporter is a new revision of its patch, and the workload ends with exactly the new sidecar", async () => {
    handle.editStackFile((c) => {
      const databases = c["monitoring:databases"] as Array<Record<string, unknown>>;
      databases[0].resources = { requests: { cpu: "20m", memory: "48Mi" }, limits: { cpu: "200m", memory: "96Mi" } };
    });
    const result = await handle.stack.up();
    expect(changes(result)).toMatchObject({ create: 1, delete: 1 });
    const postgres = (await get("statefulset", "postgres", TEAM)) as KubeObject;
    const containers = (postgres.spec as { template: { spec: { containers: Array<{ name: string; resources: unknown }> } } }).template.spec
      .containers;
    expect(containers.map((c) => c.name)).toEqual(["postgres", "postgres-exporter"]);
    expect(containers[1].resources).toEqual({ requests: { cpu: "20m", memory: "48Mi" }, limits: { cpu: "200m", memory: "96Mi" } });
    await handle.stack.preview({ expectNoChanges: true });
  });

  describe("everyday edits update in place", () => {
    let before: Record<string, string>;
    beforeAll(async () => {
      before = await identities();
    });

    const inPlace = async (): Promise<UpResult> => {
      const result = await handle.stack.up();
      expect(result.summary.result).toBe("succeeded");
      expect(changes(result)).not.toHaveProperty("replace");
      expect(changes(result)).not.toHaveProperty("create-replacement");
      expect(await identities()).toEqual(before);
      return result;
    };

    test("retention", async () => {
      handle.editStackFile((c) => ((c["monitoring:prometheus"] as Record<string, unknown>).retention = "10d"));
      expect(changes(await inPlace()).update).toBeGreaterThan(0);
    });

    test("a threshold", async () => {
      handle.editStackFile((c) => {
        const apps = c["monitoring:apps"] as Array<Record<string, unknown>>;
        apps[0].alerts = { errorRatePercent: 2 };
      });
      expect(changes(await inPlace()).update).toBeGreaterThan(0);
    });

    test("a webhook secret", async () => {
      await handle.stack.setConfig("monitoring:discordWebhookUrl", {
        value: "https://discord.com/api/webhooks/3/staging-warnings-rotated",
        secret: true,
      });
      expect(changes(await inPlace()).update).toBeGreaterThan(0);
    });

    test("a new app", async () => {
      handle.editStackFile((c) => {
        (c["monitoring:apps"] as unknown[]).push({ name: "worker", url: `http://web.${TEAM}.svc:3000/metrics` });
      });
      await inPlace();
    });

    test("a new dashboard file", async () => {
      const source = path.join(handle.workDir, "dashboards", "applications");
      const first = fs.readdirSync(source).find((f) => f.endsWith(".json")) as string;
      const dashboard = JSON.parse(fs.readFileSync(path.join(source, first), "utf8")) as Record<string, unknown>;
      fs.writeFileSync(
        path.join(source, "team-overview.json"),
        JSON.stringify({ ...dashboard, uid: "team-overview", title: "Team overview" }, null, 2),
      );
      await inPlace();
    });

    test("and the stack is settled after each", async () => {
      await handle.stack.preview({ expectNoChanges: true });
    });
  });

  test("removing the databases leaves their workloads exactly as they began", async () => {
    handle.editStackFile((c) => delete c["monitoring:databases"]);
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");
    await waitFor("database workloads restored", async () => {
      const now = JSON.stringify(await sidecarTargets());
      return now === JSON.stringify(sidecarTargetsBefore) ? undefined : now;
    });
  });

  test("pulumi destroy leaves nothing of the stack behind", async () => {
    const result = await handle.stack.destroy();
    expect(result.summary.result).toBe("succeeded");
    await waitFor("the stack's namespaces gone", async () => {
      const left = [];
      for (const ns of NAMESPACES) if (await get("namespace", ns)) left.push(ns);
      return left.length ? `left: ${left.join(", ")}` : undefined;
    });
    const clusterWide = await list("clusterroles,clusterrolebindings", undefined, "app.kubernetes.io/part-of");
    expect(clusterWide.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    const claims = (await list("persistentvolumes")).filter(
      (pv) => (pv.spec as { claimRef?: { namespace: string } }).claimRef?.namespace === NAMESPACES[0],
    );
    expect(claims.filter((pv) => (pv.status as { phase: string }).phase === "Bound").map((pv) => pv.metadata.name)).toEqual([]);
  });
});
