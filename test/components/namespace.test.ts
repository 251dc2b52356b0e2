import { MonitoringNamespace } from "../../components/namespace";
import { renderRun } from "../../cli/render";
import { runProgram } from "../../cli/runner";
import { objectOf, ALONE } from "../support/render";
import { schemaProblems } from "../support/schema";

async function renderNamespace(args: ConstructorParameters<typeof MonitoringNamespace>[1]) {
  const run = await runProgram({
    ...ALONE,
    program: async () => {
      const ns = new MonitoringNamespace("ns", args);
      return { name: ns.name };
    },
  });
  return { run, rendered: renderRun(run, true) };
}

describe("MonitoringNamespace", () => {
  test("a restricted namespace denies ingress and egress and gives containers default requests and limits", async () => {
    const { rendered, run } = await renderNamespace({ name: "monitoring", environment: "staging" });

    expect(run.outputs).toEqual({ name: "monitoring" });
    expect(objectOf(rendered, "Namespace", "monitoring")).toEqual({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: "monitoring",
        labels: {
          "app.kubernetes.io/instance": "staging",
          "app.kubernetes.io/part-of": "monitoring-stack",
          "app.kubernetes.io/managed-by": "pulumi",
          "kubernetes.io/metadata.name": "monitoring",
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    });
    expect(objectOf(rendered, "NetworkPolicy", "default-deny-ingress").spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    expect(objectOf(rendered, "NetworkPolicy", "default-deny-egress").spec).toEqual({ podSelector: {}, policyTypes: ["Egress"] });
    expect(objectOf(rendered, "LimitRange", "container-defaults").spec).toEqual({
      limits: [{ type: "Container", defaultRequest: { cpu: "50m", memory: "64Mi" }, default: { memory: "256Mi" } }],
    });
    for (const o of rendered.kubernetes) expect(schemaProblems(o.object)).toEqual([]);
  });

  test("a privileged namespace for node agents still audits at baseline, and warns only at what it enforces", async () => {
    const { rendered } = await renderNamespace({ name: "monitoring-agents", environment: "production", podSecurity: "privileged" });
    expect(objectOf(rendered, "Namespace", "monitoring-agents").metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "privileged",
      "pod-security.kubernetes.io/audit": "baseline",
      "pod-security.kubernetes.io/warn": "privileged",
    });
  });

  test("a namespace that keeps data is protected and kept in the cluster when removed, so that no delete cascades into its claims", async () => {
    const options = async (keepsData?: boolean) =>
      Object.fromEntries(
        (
          await renderNamespace({ name: "monitoring", environment: "production", ...(keepsData === undefined ? {} : { keepsData }) })
        ).run.resources
          .filter((r) => r.custom)
          .map((r) => [r.type.split(":").pop(), { protect: r.options.protect, retainOnDelete: r.options.retainOnDelete }]),
      );
    const none = { protect: false, retainOnDelete: false };
    expect(await options(true)).toEqual({ Namespace: { protect: true, retainOnDelete: true }, NetworkPolicy: none, LimitRange: none });
    expect(await options(false)).toEqual({ Namespace: none, NetworkPolicy: none, LimitRange: none });
    expect(await options()).toEqual({ Namespace: none, NetworkPolicy: none, LimitRange: none });
  });

  test("every child is parented to the component", async () => {
    const { run } = await renderNamespace({ name: "monitoring", environment: "staging" });
    for (const r of run.resources.filter((res) => res.custom)) expect(r.parents).toContain("monitoring:index:MonitoringNamespace");
  });
});
