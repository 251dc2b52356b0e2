/**
 * Replicas, nodes and drains, over the whole rendered stack: a workload with several replicas
 * runs them on nodes of their own (required anti-affinity) and never more than `nodes`, a
 * disruption budget exists only over such replicas, so that `kubectl drain` always completes;
 * and with two Prometheus replicas Grafana reads through the Service in front of every ready
 * replica, while each replica names itself in the `replica` label receivers deduplicate on.
 */
import * as YAML from "yaml";
import type { K8sObject, Rendered } from "../../cli/render";
import { objectOf, objectsOf, render } from "../support/render";

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    affinity?: {
      podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: Array<{ topologyKey: string; labelSelector: unknown }> };
    };
    containers: Array<{ name: string; readinessProbe?: { httpGet?: { path: string } } }>;
  };
}
interface WorkloadSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  strategy?: { type: string; rollingUpdate?: { maxSurge: number; maxUnavailable: number } };
  template: PodTemplate;
}

const workloads = (r: Rendered) =>
  r.kubernetes
    .filter((o) => !o.patch && ["Deployment", "StatefulSet"].includes(o.object.kind))
    .map((o) => o.object as K8sObject & { spec: WorkloadSpec });

/** What makes a drain of any node complete, checked on every workload and budget of a render. */
function drainProblems(r: Rendered, nodes: number): string[] {
  const problems: string[] = [];
  for (const w of workloads(r)) {
    const replicas = w.spec.replicas ?? 1;
    const id = `${w.kind}/${w.metadata.name}`;
    if (replicas > nodes) problems.push(`${id}: ${replicas} replicas on ${nodes} nodes`);
    const required = w.spec.template.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    if (replicas > 1 && !required.some((t) => t.topologyKey === "kubernetes.io/hostname"))
      problems.push(`${id}: replicas may share a node`);
    if (w.kind === "Deployment" && replicas > 1 && w.spec.strategy?.rollingUpdate?.maxSurge !== 0) problems.push(`${id}: surges`);
  }
  for (const pdb of objectsOf(r, "PodDisruptionBudget")) {
    const selector = JSON.stringify((pdb.spec as { selector: unknown }).selector);
    const covered = workloads(r).find((w) => JSON.stringify(w.spec.selector) === selector);
    if (!covered || (covered.spec.replicas ?? 1) < 2)
      problems.push(`PodDisruptionBudget/${pdb.metadata.name}: over fewer than two replicas`);
  }
  return problems;
}

describe.each([1, 2, 3])("production on %i node(s)", (nodes) => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render("production", [`nodes=${nodes}`]);
  });

  test("no workload has more replicas than nodes, several replicas never share a node, budgets only over those: a drain completes", () => {
    expect(drainProblems(rendered, nodes)).toEqual([]);
    const replicas = Object.fromEntries(workloads(rendered).map((w) => [w.metadata.name, w.spec.replicas ?? 1]));
    expect(replicas).toMatchObject({
      prometheus: Math.min(2, nodes),
      alertmanager: Math.min(3, nodes),
      cloudflared: Math.min(2, nodes),
      grafana: 1,
      loki: 1,
    });
    const budgets = objectsOf(rendered, "PodDisruptionBudget").map((p) => p.metadata.name);
    expect(budgets.sort()).toEqual(nodes === 1 ? [] : ["alertmanager", "cloudflared", "prometheus"]);
  });

  test("the check above can fail: it finds more replicas than nodes, replicas that may share a node, a budget over one replica", () => {
    const broken = structuredClone(rendered);
    const sts = objectOf(broken, "StatefulSet", "prometheus").spec as WorkloadSpec;
    sts.replicas = nodes + 1;
    delete sts.template.spec.affinity;
    broken.kubernetes.push({
      ...broken.kubernetes[0],
      patch: false,
      object: {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "lone" },
        spec: { selector: (objectOf(broken, "Deployment", "grafana").spec as WorkloadSpec).selector },
      },
    });
    expect(drainProblems(broken, nodes)).toEqual(
      expect.arrayContaining([
        `StatefulSet/prometheus: ${nodes + 1} replicas on ${nodes} nodes`,
        "StatefulSet/prometheus: replicas may share a node",
        "PodDisruptionBudget/lone: over fewer than two replicas",
      ]),
    );
  });
});

describe("two Prometheus replicas", () => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render("production", [
      "nodes=2",
      "prometheus.remoteWrite=[{name: mimir, url: 'https://mimir.example.com/api/v1/push'}]",
    ]);
  });

  test("Grafana reads through the Service in front of every ready replica, never a pod's address", () => {
    const datasources = YAML.parse(rendered.files.get("grafana/datasources.yaml") ?? "") as {
      datasources: Array<{ uid: string; url: string }>;
    };
    expect(datasources.datasources.find((d) => d.uid === "prometheus")?.url).toBe("http://prometheus.monitoring-production.svc:9090");
    const service = objectOf(rendered, "Service", "prometheus").spec as {
      type: string;
      clusterIP?: string;
      publishNotReadyAddresses?: boolean;
      selector: Record<string, string>;
    };
    // A virtual IP (not headless), ready endpoints only.
    expect(service.type).toBe("ClusterIP");
    expect(service.clusterIP).toBeUndefined();
    expect(service.publishNotReadyAddresses).toBeUndefined();
    const sts = objectOf(rendered, "StatefulSet", "prometheus").spec as WorkloadSpec;
    expect(sts.replicas).toBe(2);
    // It selects what every replica's pod carries, nothing that names one pod.
    expect(service.selector).toEqual(sts.selector.matchLabels);
    expect(Object.keys(service.selector).some((k) => k.includes("pod-name"))).toBe(false);
    for (const [k, v] of Object.entries(service.selector)) expect(sts.template.metadata.labels[k]).toBe(v);
    // A replica leaves the Service as soon as it is not ready.
    expect(sts.template.spec.containers.find((c) => c.name === "prometheus")?.readinessProbe?.httpGet?.path).toBe("/-/ready");
  });

  test("each replica names itself in the `replica` external label, which remote write carries and alerts drop", () => {
    const config = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as {
      global: { external_labels: Record<string, string> };
      alerting: { alert_relabel_configs: unknown[] };
      remote_write: Array<{ name: string; write_relabel_configs?: unknown }>;
    };
    expect(config.global.external_labels).toEqual({ environment: "production", replica: "${POD_NAME}" });
    // Samples leave with it (receivers deduplicate on it, docs/operations.md: Two Prometheus replicas); alerts without it.
    expect(config.remote_write.map((r) => [r.name, r.write_relabel_configs])).toEqual([["mimir", undefined]]);
    expect(config.alerting.alert_relabel_configs).toEqual([{ action: "labeldrop", regex: "replica" }]);
  });
});
