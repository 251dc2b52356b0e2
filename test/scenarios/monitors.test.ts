/**
 * A stack that honours the operator's objects (monitors.enabled), as the offline render shows
 * it: the four CRDs (the offline render cannot read the cluster, so it renders all of them), the
 * collector's cluster and its read-only rights (Secrets by name only), Prometheus' remote-write
 * receiver open to the collector, kube-state-metrics' report of the PrometheusRules, the record
 * of what was loaded; and nothing of it when the key is off.
 */
import type { Rendered } from "../../cli/render";
import { containerArgs, objectOf, objectsOf } from "../../lab/local/rendered";
import { render } from "../support/render";
import { schemaProblems } from "../support/schema";

let on: Rendered;
let off: Rendered;
let alone: Rendered;
beforeAll(async () => {
  on = await render("staging", ["monitors.enabled=true", 'monitors.secrets=["shop-staging/metrics-auth", "shop-staging/other"]']);
  off = await render("staging");
  // Neither monitors nor events: the collectors form no cluster.
  alone = await render("staging", ["logCollector.events=false"]);
});

type Rule = { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[] };

describe("monitors.enabled", () => {
  test("the four CRDs, marked as this stack's", () => {
    const crds = objectsOf(on, "CustomResourceDefinition");
    expect(crds.map((c) => c.metadata.name).sort()).toEqual([
      "podmonitors.monitoring.coreos.com",
      "probes.monitoring.coreos.com",
      "prometheusrules.monitoring.coreos.com",
      "servicemonitors.monitoring.coreos.com",
    ]);
    for (const crd of crds) {
      expect(crd.metadata.labels).toMatchObject({ "app.kubernetes.io/part-of": "monitoring-stack" });
      expect(crd.metadata.annotations).toMatchObject({ "monitoring-stack/namespace": "monitoring-staging" });
    }
    expect(on.warnings.join("\n")).toMatch(/monitoring:monitors\.crds: the offline render has no cluster to read the CRDs from/);
  });

  test("the objects monitors add or change are valid against the official schemas, the CRDs included", () => {
    const kinds = [
      "CustomResourceDefinition",
      "Role",
      "RoleBinding",
      "ClusterRole",
      "DaemonSet",
      "NetworkPolicy",
      "Deployment",
      "StatefulSet",
    ];
    const objects = on.kubernetes.map((o) => o.object).filter((o) => kinds.includes(o.kind));
    expect(objects.filter((o) => o.kind === "CustomResourceDefinition")).toHaveLength(4);
    expect(objects.flatMap((o) => schemaProblems(o).map((p) => `${o.kind} ${o.metadata.name}: ${p}`))).toEqual([]);
  });

  test("the collectors form one cluster named after their agents namespace, and admit each other", () => {
    expect(containerArgs(on, "DaemonSet", "alloy")).toEqual(
      expect.arrayContaining([
        "--cluster.enabled=true",
        "--cluster.join-addresses=alloy.monitoring-staging-agents.svc:12345",
        "--cluster.name=monitoring-staging-agents",
      ]),
    );
    const ingress = objectOf(on, "NetworkPolicy", "alloy").spec as {
      ingress: Array<{ from: Array<{ podSelector?: { matchLabels: Record<string, string> } }> }>;
    };
    expect(ingress.ingress.some((r) => r.from.some((p) => p.podSelector?.matchLabels["app.kubernetes.io/name"] === "alloy"))).toBe(true);
  });

  test("the collector reads the monitors and what they point at, and the Secrets named only, by name", () => {
    const rules = (objectOf(on, "ClusterRole", "monitoring-staging-agents-alloy") as unknown as { rules: Rule[] }).rules;
    expect(rules).toContainEqual({
      apiGroups: ["monitoring.coreos.com"],
      resources: ["servicemonitors", "podmonitors", "probes"],
      verbs: ["get", "list", "watch"],
    });
    expect(rules.flatMap((r) => r.resources ?? [])).not.toContain("secrets");
    const role = objectsOf(on, "Role").find((r) => r.metadata.namespace === "shop-staging") as unknown as { rules: Rule[] };
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["secrets"], resourceNames: ["metrics-auth", "other"], verbs: ["get"] }]);
  });

  test("Prometheus takes remote writes, from the collector's pods beside its own namespace's", () => {
    expect(containerArgs(on, "StatefulSet", "prometheus")).toContain("--web.enable-remote-write-receiver");
    const policy = objectOf(on, "NetworkPolicy", "prometheus").spec as {
      ingress: Array<{ from: Array<Record<string, { matchLabels: Record<string, string> }>> }>;
    };
    const peers = policy.ingress.flatMap((r) => r.from);
    expect(peers).toContainEqual({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-staging-agents" } },
      podSelector: { matchLabels: expect.objectContaining({ "app.kubernetes.io/name": "alloy" }) },
    });
  });

  test("kube-state-metrics reports each PrometheusRule's generation, and may list them", () => {
    const flag = containerArgs(on, "Deployment", "kube-state-metrics").find((a) => a.startsWith("--custom-resource-state-config="));
    expect(flag).toMatch(/kind: PrometheusRule/);
    expect(flag).toMatch(/name: prometheusrule_generation/);
    const rules = (objectOf(on, "ClusterRole", "monitoring-staging-kube-state-metrics") as unknown as { rules: Rule[] }).rules;
    expect(rules).toContainEqual({ apiGroups: ["monitoring.coreos.com"], resources: ["prometheusrules"], verbs: ["list", "watch"] });
  });

  test("Prometheus loads the record of what was loaded, with PrometheusRuleNotLoaded", () => {
    expect(on.files.get("prometheus/operator-rules-loaded.yml")).toMatch(/alert: PrometheusRuleNotLoaded/);
  });

  test("off, none of it", () => {
    expect(objectsOf(off, "CustomResourceDefinition")).toEqual([]);
    // The collectors' cluster stays while the events use it (logCollector.events, on by default), and goes with them.
    expect(containerArgs(off, "DaemonSet", "alloy").join(" ")).toMatch(/--cluster\.enabled=true/);
    expect(containerArgs(alone, "DaemonSet", "alloy").join(" ")).not.toMatch(/cluster/);
    expect(containerArgs(off, "StatefulSet", "prometheus")).not.toContain("--web.enable-remote-write-receiver");
    expect(containerArgs(off, "Deployment", "kube-state-metrics").join(" ")).not.toMatch(/custom-resource/);
    expect(off.files.has("prometheus/operator-rules-loaded.yml")).toBe(false);
    expect(off.files.get("log-collector/config.alloy")).not.toMatch(/prometheus\.operator/);
  });
});
