/**
 * Staging and production on one cluster, as small teams run them, from the stack files with the
 * one change the docs give for one node: production's log collector serves staging
 * (logCollector.shareWith / sharedFrom, docs/operations.md "One collector for two stacks"), its
 * kube-state-metrics serves staging too (kubeStateMetrics.shareWith / sharedFrom) and only
 * production runs node-exporter. So the node runs one set of agents: one collector, one
 * node-exporter and one kube-state-metrics, production's. Each stack in its own namespaces (monitoring-<environment>), its
 * own cluster-scoped roles, and every workload of both Ready on the one node. Staging's preview is
 * refused until production's collector names it. Then the node is drained as a k3s upgrade drains
 * it: production on one node runs each workload once, without disruption budgets, so the drain
 * completes (and a budget over two replicas on one node, as the stack had before, is shown to hang
 * it). Staging's charts' monitors (monitors.enabled, no collector of its own) are scraped by production's collector
 * into staging's Prometheus, with staging's settings, once production's next up reads them. Destroying staging leaves production's agents and workloads as they were. Real engine,
 * real API server, real provider, the real scheduler (which refuses two pods one host port).
 */
import { createTeamWorkloads, deleteMonitorCrds, deleteNamespace } from "./support/apps";
import { KubeObject, apply, get, kubectl, list, notReady, waitFor } from "./support/kube";
import { StackHandle, openStack } from "./support/stack";

const STACKS = {
  staging: {
    team: "shop-staging",
    secrets: {
      grafanaAdminPassword: "shared-staging-grafana-password",
      "basicAuthPasswords.admin": "shared-staging-basic-auth-password",
    },
  },
  production: {
    team: "shop",
    secrets: {
      grafanaAdminPassword: "shared-production-grafana-password",
      "basicAuthPasswords.admin": "shared-production-basic-auth-password",
    },
  },
} as const;
type Stack = keyof typeof STACKS;
const NAMESPACES = ["monitoring-staging", "monitoring-production", "monitoring-production-agents"];
/** Staging's namespaces (its own and its apps'), whose pods' logs production's collector sends to staging's Loki. */
const SHARED = { namespace: "monitoring-staging", namespaces: ["monitoring-staging", STACKS.staging.team] };
const BLOCKER_NS = "drain-blocker";
/** Staging's own limit on a monitor's samples (monitors.limits.samples), which production's collector keeps for staging's monitors. */
const STAGING_SAMPLE_LIMIT = 3000;

const handles: Partial<Record<Stack, StackHandle>> = {};
let node = "";

async function workloads(): Promise<KubeObject[]> {
  const all: KubeObject[] = [];
  for (const ns of NAMESPACES) all.push(...(await list("deployments,statefulsets,daemonsets", ns)));
  return all;
}

async function everyWorkloadReady(): Promise<void> {
  await waitFor(
    "every workload of both stacks Ready",
    async () => {
      const waiting = (await workloads()).map(notReady).filter((x) => x !== undefined);
      return waiting.length > 0 ? waiting.join("; ") : undefined;
    },
    180,
  );
}

/** `kubectl drain` of the node as k3s's upgrade runs it (eviction, so disruption budgets count); its exit status and output. */
async function drain(timeoutSeconds: number): Promise<{ ok: boolean; output: string }> {
  try {
    const out = await kubectl(["drain", node, "--ignore-daemonsets", "--delete-emptydir-data", `--timeout=${timeoutSeconds}s`]);
    return { ok: true, output: out };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

beforeAll(async () => {
  node = (await list("nodes"))[0].metadata.name;
  for (const stack of Object.keys(STACKS) as Stack[]) {
    await createTeamWorkloads(STACKS[stack].team);
    const handle = await openStack(stack, { secrets: STACKS[stack].secrets });
    handle.editStackFile((c) => {
      // The Cloudflare provider cannot be built here (lab/tools/tools.ts): the tunnel stays off.
      (c["monitoring:cloudflare"] as Record<string, unknown>).enabled = false;
      // One set of agents on the node: production's collector serves staging, node-exporter is production's.
      const ksm = c["monitoring:kubeStateMetrics"] as object | undefined;
      if (stack === "production") {
        // And scrapes staging's monitors, with staging's settings, into staging's Prometheus.
        c["monitoring:logCollector"] = { shareWith: [{ ...SHARED, monitors: true }] };
        c["monitoring:kubeStateMetrics"] = { ...ksm, shareWith: [SHARED] };
      } else {
        c["monitoring:logCollector"] = { sharedFrom: "monitoring-production" };
        c["monitoring:kubeStateMetrics"] = { ...ksm, sharedFrom: "monitoring-production" };
        c["monitoring:nodeExporter"] = { ...(c["monitoring:nodeExporter"] as object), enabled: false };
        // The charts' monitors, without a collector of its own: production's scrapes them.
        c["monitoring:monitors"] = { enabled: true, limits: { samples: STAGING_SAMPLE_LIMIT } };
      }
    });
    handles[stack] = handle;
  }
});

afterAll(async () => {
  await kubectl(["uncordon", node]).catch(() => undefined);
  for (const handle of Object.values(handles)) {
    await handle?.cli(["state", "unprotect", "--all", "--yes"]).catch(() => undefined);
    await handle?.stack.destroy().catch(() => undefined);
    handle?.dispose();
  }
  for (const ns of [...NAMESPACES, BLOCKER_NS, STACKS.staging.team, STACKS.production.team]) await deleteNamespace(ns);
  // Staging installed the operator's CRDs (monitors.enabled) and kept them when it went.
  await deleteMonitorCrds();
});

describe("staging and production on one cluster", () => {
  test("staging's preview is refused while production's collector does not send its logs", async () => {
    const output = await (handles.staging as StackHandle).failing("preview");
    expect(output).toContain("monitoring:logCollector.sharedFrom");
    expect(output).toContain("monitoring-production-agents/shared-logs");
  });

  test("both stack files deploy on the one node, production first, each in its own namespaces", async () => {
    for (const stack of ["production", "staging"] as const) {
      const result = await (handles[stack] as StackHandle).stack.up();
      expect(result.summary.result).toBe("succeeded");
      expect((await (handles[stack] as StackHandle).stack.outputs()).namespace.value).toBe(`monitoring-${stack}`);
    }
    await everyWorkloadReady();
    const kinds = (await workloads()).map((w) => `${w.metadata.namespace}/${w.kind}/${w.metadata.name}`);
    for (const ns of ["monitoring-staging", "monitoring-production"]) {
      expect(kinds).toEqual(expect.arrayContaining([`${ns}/StatefulSet/prometheus`, `${ns}/Deployment/grafana`, `${ns}/StatefulSet/loki`]));
    }
  });

  test("the node runs one set of agents: production's collector and node-exporter, and staging has no agents namespace", async () => {
    const agents = (await list("daemonsets", undefined, "app.kubernetes.io/part-of=monitoring-stack")).map(
      (d) => `${d.metadata.namespace}/${d.metadata.name}`,
    );
    expect(agents.sort()).toEqual(["monitoring-production-agents/alloy", "monitoring-production-agents/node-exporter"]);
    const pods = await list("pods", "monitoring-production-agents");
    expect(pods.map((p) => (p.spec as { nodeName: string }).nodeName)).toEqual([node, node]);
    expect((await list("namespaces")).map((n) => n.metadata.name)).not.toContain("monitoring-staging-agents");
    // What production's collector says it sends, which staging's preview read.
    const record = (await list("configmaps", "monitoring-production-agents")).find((c) => c.metadata.name === "shared-logs");
    expect(JSON.parse((record as unknown as { data: Record<string, string> }).data["shares.json"])).toEqual({
      "monitoring-staging": ["monitoring-staging", STACKS.staging.team],
    });
  });

  test("staging's ServiceMonitor is scraped by production's collector into staging's Prometheus, none of it in production's", async () => {
    // A chart's ServiceMonitor in staging's team namespace (the CRDs are staging's: it installed them).
    await apply({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "shop-exporter", namespace: STACKS.staging.team },
      spec: { selector: { matchLabels: { app: "exporter" } }, endpoints: [{ port: "metrics" }] },
    });
    // Staging published how its monitors are read; production reads it at its next up (it deployed before staging).
    const published = (await get("configmap", "served-monitors", "monitoring-staging")) as unknown as { data: Record<string, string> };
    const settings = JSON.parse(published.data["monitors.json"]);
    expect(settings).toMatchObject({ namespaces: ["monitoring-staging", STACKS.staging.team], sampleLimit: STAGING_SAMPLE_LIMIT });
    const before = (await get("configmap", "alloy-config", "monitoring-production-agents")) as unknown as { data: Record<string, string> };
    expect(before.data["config.alloy"]).not.toContain("prometheus.operator");
    expect((await (handles.production as StackHandle).stack.up()).summary.result).toBe("succeeded");
    const text = ((await get("configmap", "alloy-config", "monitoring-production-agents")) as unknown as { data: Record<string, string> })
      .data["config.alloy"];
    // The watcher of the team namespace's ServiceMonitors, with staging's limit, to staging's Prometheus' receiver.
    const watcher = text.slice(text.indexOf('prometheus.operator.servicemonitors "to_monitoring_staging_shop_staging" {'));
    expect(watcher).toMatch(
      /^prometheus\.operator\.servicemonitors "to_monitoring_staging_shop_staging" \{\n\tforward_to\s+= \[prometheus\.relabel\.to_monitoring_staging_shop_staging\.receiver\]\n\tnamespaces\s+= \["shop-staging"\]/,
    );
    expect(watcher.slice(0, watcher.indexOf("\n}\n"))).toContain(`default_sample_limit    = ${STAGING_SAMPLE_LIMIT}`);
    // On staging's write port: a collector that scrapes monitors is admitted to Prometheus' receivers alone.
    expect(text).toContain('url = "http://prometheus.monitoring-staging.svc:9096/api/v1/write"');
    // None of it in production's own pipeline: it has no monitors' writer, and nothing writes to its Prometheus.
    expect(text).not.toContain('prometheus.remote_write "monitors"');
    expect(text).not.toMatch(/prometheus\.monitoring-production\.svc:\d+\/api\/v1\/write/);
    // What production applied, which staging's preview compares with its own.
    const record = (await get("configmap", "shared-logs", "monitoring-production-agents")) as unknown as { data: Record<string, string> };
    expect(JSON.parse(record.data["monitors.json"])).toEqual({ "monitoring-staging": settings });
    // The API server lets production's collector read the ServiceMonitor staging granted, and nothing of production's team.
    const as = ["--as=system:serviceaccount:monitoring-production-agents:alloy"];
    expect(
      (await kubectl(["auth", "can-i", "list", "servicemonitors.monitoring.coreos.com", "-n", STACKS.staging.team, ...as])).trim(),
    ).toBe("yes");
    const denied = await kubectl([
      "auth",
      "can-i",
      "list",
      "servicemonitors.monitoring.coreos.com",
      "-n",
      STACKS.production.team,
      ...as,
    ]).catch((err: { stdout?: string }) => String(err.stdout ?? ""));
    expect(denied.trim()).toBe("no");
    // Staging's Prometheus takes the writes from production's collector pods, and only from the agents namespace.
    const policy = JSON.stringify(await get("networkpolicy", "prometheus", "monitoring-staging"));
    expect(policy).toContain('"kubernetes.io/metadata.name":"monitoring-production-agents"');
    const prometheus = (await get("statefulset", "prometheus", "monitoring-staging")) as unknown as {
      spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
    };
    expect(prometheus.spec.template.spec.containers[0].args).toContain("--web.enable-remote-write-receiver");
    await everyWorkloadReady();
  });

  test("one kube-state-metrics, production's, reporting staging's namespaces and admitting staging's Prometheus", async () => {
    const deployments = (await list("deployments", undefined, "app.kubernetes.io/part-of=monitoring-stack"))
      .filter((d) => d.metadata.name === "kube-state-metrics")
      .map((d) => d.metadata.namespace);
    expect(deployments).toEqual(["monitoring-production"]);
    const ksm = (await list("deployments", "monitoring-production")).find((d) => d.metadata.name === "kube-state-metrics") as KubeObject;
    const args = (ksm.spec as { template: { spec: { containers: { args?: string[] }[] } } }).template.spec.containers[0].args ?? [];
    const flag = args.find((a) => a.startsWith("--namespaces="));
    expect(flag?.slice("--namespaces=".length).split(",")).toEqual(expect.arrayContaining(SHARED.namespaces));
    // Production's NetworkPolicy for it admits staging's Prometheus pods, from staging's namespace.
    const policies = JSON.stringify(await list("networkpolicies", "monitoring-production"));
    expect(policies).toContain('"kubernetes.io/metadata.name":"monitoring-staging"');
  });

  test("cluster-scoped objects are each stack's own", async () => {
    const names = (await list("clusterroles,clusterrolebindings", undefined, "app.kubernetes.io/part-of=monitoring-stack"))
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();
    for (const ns of ["monitoring-staging", "monitoring-production"]) {
      expect(names).toEqual(expect.arrayContaining([`ClusterRole/${ns}-prometheus`]));
    }
    // kube-state-metrics' role is production's alone: staging runs none.
    expect(names).toContain("ClusterRoleBinding/monitoring-production-kube-state-metrics");
    expect(names).not.toContain("ClusterRoleBinding/monitoring-staging-kube-state-metrics");
    expect(new Set(names).size).toBe(names.length);
  });

  test("the drain check can fail: two replicas on one node under a budget of one hang it, as the stack's used to", async () => {
    const labels = { "app.kubernetes.io/name": "blocker" };
    await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: BLOCKER_NS } });
    await apply({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "blocker", namespace: BLOCKER_NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: "app", image: "example.com/blocker:1" }] } },
      },
    });
    await apply({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "blocker", namespace: BLOCKER_NS },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    });
    await waitFor("the blocker Ready, its budget counting both pods", async () => {
      const pdb = (await list("poddisruptionbudgets", BLOCKER_NS))[0];
      const healthy = (pdb?.status as { currentHealthy?: number } | undefined)?.currentHealthy;
      return healthy === 2 ? undefined : `currentHealthy ${healthy}`;
    });
    const result = await drain(20);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/disruption budget|timed out/i);
    await kubectl(["uncordon", node]);
    await deleteNamespace(BLOCKER_NS);
    await everyWorkloadReady();
  });

  test("a drain of the node (a k3s upgrade) completes with both stacks on it, and everything comes back", async () => {
    // Production on one node: each workload once, and no budget that a Pending replacement would hold up.
    expect(await list("poddisruptionbudgets", "monitoring-production")).toEqual([]);
    const result = await drain(120);
    expect(result).toMatchObject({ ok: true });
    expect(result.output).toContain(`node/${node} drained`);
    const left = (await list("pods"))
      .filter((p) => NAMESPACES.includes(p.metadata.namespace ?? "") && (p.spec as { nodeName?: string }).nodeName === node)
      .filter((p) => !p.metadata.namespace?.endsWith("-agents"));
    expect(left.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual([]);
    await kubectl(["uncordon", node]);
    await everyWorkloadReady();
  });

  test("each stack goes away on its own, the other untouched", async () => {
    const agentsBefore = [
      ...(await list("daemonsets", "monitoring-production-agents")),
      ...(await list("deployments", "monitoring-production")).filter((d) => d.metadata.name === "kube-state-metrics"),
    ].map((d) => `${d.metadata.name}@${d.metadata.uid}/${d.metadata.generation}`);
    const staging = handles.staging as StackHandle;
    expect((await staging.stack.destroy()).summary.result).toBe("succeeded");
    await waitFor("staging's namespaces gone", async () => {
      const left = (await list("namespaces")).map((n) => n.metadata.name).filter((n) => n.startsWith("monitoring-staging"));
      return left.length ? left.join(", ") : undefined;
    });
    const waiting = [];
    for (const ns of ["monitoring-production", "monitoring-production-agents"]) {
      waiting.push(...(await list("deployments,statefulsets,daemonsets", ns)).map(notReady).filter((x) => x !== undefined));
    }
    expect(waiting).toEqual([]);
    // Production's agents are the same objects, not rolled: staging's destroy changed nothing of them.
    expect(
      [
        ...(await list("daemonsets", "monitoring-production-agents")),
        ...(await list("deployments", "monitoring-production")).filter((d) => d.metadata.name === "kube-state-metrics"),
      ].map((d) => `${d.metadata.name}@${d.metadata.uid}/${d.metadata.generation}`),
    ).toEqual(agentsBefore);
    const production = handles.production as StackHandle;
    // And production's next preview changes nothing but its collector's reading of staging's monitors, which are gone: the
    // config (its watchers), the record of what it applied and the roll of its pods (its reads: its own stack reference).
    const changes = (await production.stack.preview()).changeSummary;
    expect(Object.keys(changes).filter((op) => op !== "same" && op !== "read" && op !== "update")).toEqual([]);
    expect(changes.update).toBe(3);
    await production.cli(["state", "unprotect", "--all", "--yes"]);
    expect((await production.stack.destroy()).summary.result).toBe("succeeded");
  });
});
