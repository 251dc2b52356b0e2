/**
 * Egress NetworkPolicies and the PriorityClass on the real engine and API server: after
 * `pulumi up` of a stack with every kind of pod the stack runs (the staging file, with a probe
 * and a standalone database exporter added), the API server has accepted every policy and the
 * class; the API server's own label selection puts every pod of the stack under an egress
 * policy of its namespace that allows DNS (node-exporter, on the host's network, under one
 * that allows nothing); and its priority admission has given every pod the class's value. The
 * control plane enforces no NetworkPolicy (no pod runs: kwok plays the kubelet), so what the
 * policies let through is the offline tests' (test/scenarios/network-policy.test.ts).
 */
import { createTeamWorkloads, deleteNamespace } from "./support/apps";
import { KubeObject, apply, get, list, notReady, waitFor } from "./support/kube";
import { StackHandle, openStack } from "./support/stack";

const TEAM = "netpol-team";
const ENVIRONMENT = "netpol";
const NAMESPACES = [`monitoring-${ENVIRONMENT}`, `monitoring-${ENVIRONMENT}-agents`];
const CLASS = `monitoring-${ENVIRONMENT}-priority`;

interface PolicySpec {
  podSelector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  policyTypes?: string[];
  egress?: Array<{ ports?: Array<{ port: number; protocol?: string }>; to?: unknown[] }>;
}
type Pod = KubeObject & { spec: { hostNetwork?: boolean; priorityClassName?: string; priority?: number } };

let handle: StackHandle;

beforeAll(async () => {
  await createTeamWorkloads(TEAM);
  handle = await openStack("staging", {
    // Given, as the other stacks of the tier give them: the random provider cannot be built here (lab/tools/tools.ts).
    secrets: { grafanaAdminPassword: "netpol-grafana-admin-password", "basicAuthPasswords.admin": "netpol-basic-auth-password" },
  });
  handle.editStackFile((config) => {
    config["monitoring:environment"] = ENVIRONMENT;
    // It watches the cluster (watch.cluster), so that node-exporter runs, on a port of its own on the node:
    // other stacks of the tier may run beside it.
    config["monitoring:watch"] = { cluster: true };
    config["monitoring:nodeExporter"] = { port: 9113 };
    const retarget = (entries: Array<Record<string, unknown>>) =>
      entries.map((e) => ({ ...e, ...(e.namespace ? { namespace: TEAM } : {}) }));
    config["monitoring:apps"] = retarget(config["monitoring:apps"] as Array<Record<string, unknown>>);
    config["monitoring:databases"] = [
      // The stack file's exporters (in the stack's namespace, each reaching its database by its Service), and one more.
      ...(config["monitoring:databases"] as Array<Record<string, unknown>>),
      { name: "events-mongodb", type: "mongodb", mode: "standalone", secretRef: { name: "events-mongodb-exporter", key: "MONGODB_URI" } },
    ];
    // Something to probe, so that the blackbox exporter runs.
    config["monitoring:probes"] = [{ name: "website", url: "https://www.example.com/" }];
  });
  const result = await handle.stack.up();
  expect(result.summary.result).toBe("succeeded");
  // The standalone exporter waits for its DSN's Secret (not awaited by Pulumi): give it one.
  await apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "events-mongodb-exporter", namespace: NAMESPACES[0] },
    stringData: { MONGODB_URI: "mongodb://exporter:secret@mongodb.example.com:27017/admin" },
  });
  await waitFor(
    "every workload of the stack Ready",
    async () => {
      const workloads: KubeObject[] = [];
      for (const ns of NAMESPACES) workloads.push(...(await list("deployments,statefulsets,daemonsets", ns)));
      const waiting = workloads.map(notReady).filter((x) => x !== undefined);
      return workloads.length === 0 ? "no workload yet" : waiting.length > 0 ? waiting.join("; ") : undefined;
    },
    240,
  );
});

afterAll(async () => {
  if (handle) {
    await handle.stack.destroy().catch(() => undefined);
    handle.dispose();
  }
  for (const ns of [...NAMESPACES, TEAM]) await deleteNamespace(ns);
});

/** The pods a policy selects, as the API server selects them (`kubectl get pods -l`). */
async function selected(namespace: string, spec: PolicySpec): Promise<string[]> {
  if (spec.podSelector.matchExpressions) throw new Error("matchExpressions are not written by the stack");
  const selector = Object.entries(spec.podSelector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return (await list("pods", namespace, selector || undefined)).map((p) => p.metadata.name);
}

function allowsDns(spec: PolicySpec): boolean {
  return (spec.egress ?? []).some((rule) =>
    ["UDP", "TCP"].every((protocol) => (rule.ports ?? []).some((p) => p.port === 53 && (p.protocol ?? "TCP") === protocol)),
  );
}

describe("egress NetworkPolicies on the API server", () => {
  test("the API server accepted each namespace's default deny and one egress policy per workload", async () => {
    for (const ns of NAMESPACES) {
      const policies = await list("networkpolicies", ns);
      const egress = policies.filter((p) => ((p.spec as unknown as PolicySpec).policyTypes ?? []).includes("Egress"));
      expect(egress.find((p) => p.metadata.name === "default-deny-egress")?.spec).toEqual({ podSelector: {}, policyTypes: ["Egress"] });
      // Each workload of the namespace has `<workload>` (ingress) and `<workload>-egress`.
      const ingressNames = policies.filter((p) => !p.metadata.name.startsWith("default-deny-")).map((p) => p.metadata.name);
      const workloadNames = ingressNames.filter((n) => !n.endsWith("-egress"));
      expect(ingressNames.filter((n) => n.endsWith("-egress")).sort()).toEqual(workloadNames.map((n) => `${n}-egress`).sort());
    }
  });

  test("every pod the stack runs is selected by an egress policy that allows DNS; node-exporter's allows nothing", async () => {
    const covered = new Map<string, string[]>();
    const pods: Array<{ ns: string; pod: Pod }> = [];
    for (const ns of NAMESPACES) {
      for (const pod of (await list("pods", ns)) as Pod[]) pods.push({ ns, pod });
      for (const policy of await list("networkpolicies", ns)) {
        const spec = policy.spec as unknown as PolicySpec;
        if (policy.metadata.name === "default-deny-egress" || !(spec.policyTypes ?? []).includes("Egress")) continue;
        for (const name of await selected(ns, spec)) {
          const key = `${ns}/${name}`;
          const what = allowsDns(spec) ? "dns" : (spec.egress ?? []).length === 0 ? "nothing" : "other";
          covered.set(key, [...(covered.get(key) ?? []), what]);
        }
      }
    }
    // Every workload of the stack runs: Prometheus, Alertmanager, Grafana, Loki, kube-state-metrics,
    // the blackbox exporter, the standalone exporter, node-exporter and the log collector.
    expect(pods.length).toBeGreaterThanOrEqual(9);
    const wrong = pods
      .map(({ ns, pod }) => {
        const got = covered.get(`${ns}/${pod.metadata.name}`) ?? [];
        const ok = pod.spec.hostNetwork ? got.includes("nothing") : got.includes("dns");
        return ok ? undefined : `${ns}/${pod.metadata.name}: ${got.join(",") || "no egress policy of its own"}`;
      })
      .filter((x) => x !== undefined);
    expect(wrong).toEqual([]);
  });
});

describe("the stack's PriorityClass", () => {
  test("the API server holds the class: value 1000000, never preempting, not the default", async () => {
    const cls = (await get("priorityclass", CLASS)) as
      (KubeObject & { value: number; preemptionPolicy: string; globalDefault?: boolean }) | undefined;
    expect(cls).toBeDefined();
    expect({ value: cls?.value, preemptionPolicy: cls?.preemptionPolicy, globalDefault: cls?.globalDefault ?? false }).toEqual({
      value: 1000000,
      preemptionPolicy: "Never",
      globalDefault: false,
    });
  });

  test("every pod of the stack names it and its priority admission resolved spec.priority from it; the team's pods keep theirs", async () => {
    const pods: Pod[] = [];
    for (const ns of NAMESPACES) pods.push(...((await list("pods", ns)) as Pod[]));
    expect(pods.length).toBeGreaterThanOrEqual(9);
    expect(pods.filter((p) => p.spec.priorityClassName !== CLASS || p.spec.priority !== 1000000).map((p) => p.metadata.name)).toEqual([]);
    // The team's own pods (its apps and databases) are never the stack's: no class, priority 0.
    const team = (await list("pods", TEAM)) as Pod[];
    expect(team.length).toBeGreaterThan(0);
    expect(team.filter((p) => p.spec.priorityClassName !== undefined || (p.spec.priority ?? 0) !== 0).map((p) => p.metadata.name)).toEqual(
      [],
    );
  });
});
