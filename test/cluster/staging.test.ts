/**
 * The staging stack's life, as its team lives it, on the real engine and API server:
 * preview, up, a second preview that finds nothing to do, the everyday edits, database
 * exporters that never touch their databases, the move of an earlier release's exporter
 * sidecars out of the database pods, and a destroy that leaves nothing.
 *
 * kwok plays the kubelet here: it reports every pod Running and Ready and never runs the
 * kubelet's readiness logic. So this shows what the API server and the controllers do (the
 * database's pod template, its Service's EndpointSlices, the exporter's own), not what a
 * kubelet would make of a failing container in the database's pod; that part is the
 * kubelet's code (components/database-exporters/index.ts says where).
 */
import * as fs from "fs";
import * as path from "path";
import { UpResult } from "@pulumi/pulumi/automation";
import { createTeamWorkloads, deleteNamespace, workloadShape } from "./support/apps";
import { KubeObject, get, kubectl, kubectlWithWarnings, list, notReady, waitFor } from "./support/kube";
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
let destroyed = false;
type DatabaseShape = { generation: number; [key: string]: unknown };
let databasesBefore: DatabaseShape[];
let slicesBefore: string;

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

/** The team's database workloads as a stack could change them: labels, annotations, pod template, generation. */
async function databaseWorkloads(): Promise<DatabaseShape[]> {
  return [await workloadShape("statefulset", "postgres", TEAM), await workloadShape("deployment", "redis", TEAM)];
}

/** The databases' Services' EndpointSlices as their clients see them: every address, its pod and conditions. */
async function databaseSlices(): Promise<string> {
  const slices = await list("endpointslices", TEAM, "kubernetes.io/service-name in (postgres,redis)");
  return JSON.stringify(
    slices
      .map((slice) => ({
        service: slice.metadata.labels?.["kubernetes.io/service-name"],
        endpoints: ((slice as unknown as { endpoints?: Array<Record<string, unknown>> }).endpoints ?? []).map((e) => ({
          addresses: e.addresses,
          conditions: e.conditions,
          pod: (e.targetRef as { name?: string } | undefined)?.name,
        })),
      }))
      .sort((a, b) => String(a.service).localeCompare(String(b.service))),
  );
}

beforeAll(async () => {
  await createTeamWorkloads(TEAM);
  databasesBefore = await databaseWorkloads();
  await waitFor("the databases' EndpointSlices ready", async () => {
    const slices = JSON.parse(await databaseSlices()) as Array<{ endpoints: Array<{ conditions?: { ready?: boolean } }> }>;
    return slices.length === 2 && slices.every((s) => s.endpoints.length === 1 && s.endpoints[0].conditions?.ready === true)
      ? undefined
      : JSON.stringify(slices);
  });
  slicesBefore = await databaseSlices();
  handle = await openStack("staging", { secrets: SECRETS });
});

afterAll(async () => {
  // The last test destroys the stack; after a failure before it, this leaves the cluster as the file found it.
  if (handle && !destroyed) await handle.stack.destroy().catch(() => undefined);
  handle?.dispose();
  for (const ns of [...NAMESPACES, TEAM]) await deleteNamespace(ns);
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

  test("the database exporters run in the stack's namespace, and the up left the databases exactly as they were", async () => {
    for (const name of ["shop-postgres-exporter", "shop-redis-exporter"]) {
      const exporter = (await get("deployment", name, "monitoring-staging")) as KubeObject;
      expect(notReady(exporter)).toBeUndefined();
      // The stack file names Secrets that are not there yet: the exporter's pod waits for its
      // DSN (the kubelet would not start the container; kwok starts every pod, so the spec is what can be checked).
      const [container] = (exporter.spec as { template: { spec: { containers: Array<{ env: unknown[] }> } } }).template.spec.containers;
      expect(container.env).toEqual([
        expect.objectContaining({ valueFrom: { secretKeyRef: expect.not.objectContaining({ optional: true }) } }),
      ]);
    }
    // Not a field of the databases' workloads changed, and no rollout: the same generation.
    expect(await databaseWorkloads()).toEqual(databasesBefore);
    expect(await databaseSlices()).toBe(slicesBefore);
  });

  test("an exporter that fails leaves the database's EndpointSlices untouched", async () => {
    const [pod] = await list("pods", "monitoring-staging", "app.kubernetes.io/name=shop-postgres-exporter");
    expect(pod).toBeDefined();
    // What the kubelet reports of an exporter that crash-loops (an OOM kill at its limit, say).
    const now = new Date().toISOString();
    const crashing = {
      status: {
        conditions: [
          { type: "PodScheduled", status: "True", lastTransitionTime: now },
          { type: "Initialized", status: "True", lastTransitionTime: now },
          { type: "ContainersReady", status: "False", reason: "ContainersNotReady", lastTransitionTime: now },
          { type: "Ready", status: "False", reason: "ContainersNotReady", lastTransitionTime: now },
        ],
        containerStatuses: [
          {
            name: "postgres-exporter",
            image: "postgres-exporter",
            imageID: "",
            ready: false,
            started: false,
            restartCount: 5,
            state: { waiting: { reason: "CrashLoopBackOff" } },
            lastState: { terminated: { exitCode: 137, reason: "OOMKilled" } },
          },
        ],
      },
    };
    await kubectl([
      "patch",
      "pod",
      pod.metadata.name,
      "-n",
      "monitoring-staging",
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify(crashing),
    ]);
    // The endpoint controllers saw it: the exporter's own Service lists it not ready.
    await waitFor("the exporter's endpoint not ready", async () => {
      const [slice] = await list("endpointslices", "monitoring-staging", "kubernetes.io/service-name=shop-postgres-exporter");
      const endpoints = (slice as unknown as { endpoints?: Array<{ conditions?: { ready?: boolean } }> } | undefined)?.endpoints ?? [];
      return endpoints.length === 1 && endpoints[0].conditions?.ready === false ? undefined : JSON.stringify(endpoints);
    });
    expect(await databaseSlices()).toBe(slicesBefore);
    // And gone altogether (evicted, deleted): its Deployment makes another; the databases never notice.
    await kubectl(["delete", "pod", pod.metadata.name, "-n", "monitoring-staging", "--wait=true"]);
    await waitFor("the exporter back", async () =>
      notReady((await get("deployment", "shop-postgres-exporter", "monitoring-staging")) as KubeObject),
    );
    expect(await databaseSlices()).toBe(slicesBefore);
    expect(await databaseWorkloads()).toEqual(databasesBefore);
  });

  test("a changed exporter rolls its own Deployment and never the database", async () => {
    const before = (await get("deployment", "shop-postgres-exporter", "monitoring-staging")) as KubeObject;
    handle.editStackFile((c) => {
      const databases = c["monitoring:databases"] as Array<Record<string, unknown>>;
      databases[0].resources = { requests: { cpu: "20m", memory: "48Mi" }, limits: { cpu: "200m", memory: "96Mi" } };
    });
    const result = await handle.stack.up();
    expect(changes(result)).toMatchObject({ update: 1 });
    expect(changes(result)).not.toHaveProperty("replace");
    const after = (await get("deployment", "shop-postgres-exporter", "monitoring-staging")) as KubeObject;
    expect(after.metadata.uid).toBe(before.metadata.uid);
    const [container] = (after.spec as { template: { spec: { containers: Array<{ resources: unknown }> } } }).template.spec.containers;
    expect(container.resources).toEqual({ requests: { cpu: "20m", memory: "48Mi" }, limits: { cpu: "200m", memory: "96Mi" } });
    expect(await databaseWorkloads()).toEqual(databasesBefore);
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

  describe("an earlier release's exporter sidecars move out of the database pods", () => {
    let withSidecars: DatabaseShape[];

    test("the stack as that release left it: a sidecar patched into each database", async () => {
      handle.stack.workspace.program = withEarlierSidecars(handle);
      const result = await handle.stack.up();
      expect(result.summary.result).toBe("succeeded");
      expect(changes(result)).toMatchObject({ create: 2 });
      withSidecars = await databaseWorkloads();
      const containers = (obj: DatabaseShape) =>
        (obj.template as { spec: { containers: Array<{ name: string }> } }).spec.containers.map((c) => c.name);
      expect(withSidecars.map((w) => containers(w))).toEqual([
        ["postgres", "postgres-exporter"],
        ["redis", "redis-exporter"],
      ]);
      // Adding it was a rollout of each database.
      expect(withSidecars.map((w) => w.generation)).toEqual(databasesBefore.map((w) => w.generation + 1));
    });

    test("the preview of the upgrade shows the sidecars' removal and nothing else", async () => {
      handle.stack.workspace.program = handle.program;
      const preview = await handle.stack.preview({ diff: true });
      expect(preview.changeSummary).toEqual({ same: expect.any(Number), delete: 2 });
      expect(preview.stdout).toMatch(/- .*kubernetes:apps\/v1:StatefulSetPatch/);
      expect(preview.stdout).toMatch(/- .*kubernetes:apps\/v1:DeploymentPatch/);
    });

    test("the up removes exactly the exporter's fields, in one rollout of each database", async () => {
      const result = await handle.stack.up();
      expect(result.summary.result).toBe("succeeded");
      expect(changes(result)).toMatchObject({ delete: 2 });
      await waitFor("database workloads restored", async () => {
        const now = await databaseWorkloads();
        const expected = databasesBefore.map((w) => ({ ...w, generation: w.generation + 2 }));
        return JSON.stringify(now) === JSON.stringify(expected) ? undefined : JSON.stringify(now);
      });
      await handle.stack.preview({ expectNoChanges: true });
    });
  });

  test("removing the databases removes their exporters and leaves the databases alone", async () => {
    const generations = (await databaseWorkloads()).map((w) => w.generation);
    handle.editStackFile((c) => delete c["monitoring:databases"]);
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");
    expect(await get("deployment", "shop-postgres-exporter", "monitoring-staging")).toBeUndefined();
    expect((await databaseWorkloads()).map((w) => w.generation)).toEqual(generations);
  });

  test("pulumi destroy leaves nothing of the stack behind", async () => {
    const result = await handle.stack.destroy();
    destroyed = true;
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

/**
 * The project's program plus what an earlier release (before the exporters left the database
 * pods) added to each database: a server-side-apply patch of the workload, with its own field
 * manager, adding the exporter container, two labels and the scrape annotations; exactly the
 * fields that release's patches held. Made with the scratch project's own provider SDK, so that
 * the program and the patches share one Pulumi runtime.
 */
function withEarlierSidecars(handle: StackHandle): () => Promise<Record<string, unknown>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const k8s = require(path.join(handle.workDir, "node_modules", "@pulumi", "kubernetes")) as typeof import("@pulumi/kubernetes");
  const sidecar = (name: string, type: "postgres" | "redis", port: number, dsnEnv: string) => ({
    metadata: {
      name,
      namespace: TEAM,
      annotations: { "pulumi.com/patchFieldManager": `monitoring-stack-staging-shop-${type}-0123abcd`, "pulumi.com/patchForce": "true" },
    },
    spec: {
      template: {
        metadata: {
          labels: {
            "monitoring-stack/exporter": type,
            "monitoring-stack/database": `shop-${type}`,
            "monitoring-stack/environment": "staging",
          },
          annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(port), "prometheus.io/path": "/metrics" },
        },
        spec: {
          containers: [
            {
              name: `${type}-exporter`,
              image: `docker.io/example/${type}-exporter:1.0.0`,
              imagePullPolicy: "IfNotPresent",
              env: [{ name: dsnEnv, valueFrom: { secretKeyRef: { name: `${type}-exporter`, key: dsnEnv, optional: true } } }],
              ports: [{ name: `${type === "postgres" ? "pg" : "redis"}-metrics`, containerPort: port, protocol: "TCP" }],
              resources: { requests: { cpu: "5m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
            },
          ],
        },
      },
    },
  });
  return async () => {
    const outputs = await handle.program();
    new k8s.apps.v1.StatefulSetPatch("earlier-shop-postgres-sidecar", sidecar("postgres", "postgres", 9187, "DATA_SOURCE_NAME"), {
      ignoreChanges: ["spec"],
    });
    new k8s.apps.v1.DeploymentPatch("earlier-shop-redis-sidecar", sidecar("redis", "redis", 9121, "REDIS_ADDR"), {
      ignoreChanges: ["spec"],
    });
    return outputs;
  };
}
