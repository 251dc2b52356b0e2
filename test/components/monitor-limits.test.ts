/**
 * The limits every monitor is held to (components/monitors/limits.ts) as the stack renders them:
 * one MutatingAdmissionPolicy and its binding per stack, on the three kinds with a scrape, in the
 * namespaces the stack reads, with the values of monitors.limits; nothing without monitors. What the
 * API server makes of them is test/e2e/monitors-live.test.ts' (the real kube-apiserver).
 */
import { render, objectsOf } from "../support/render";

const sets = ['watch.namespaces=["shop", "billing"]', "monitors.enabled=true"];

describe("the monitor limits policy in the render", () => {
  test("one policy and its binding, named after the stack, on the three kinds of the namespaces read, with the defaults", async () => {
    const rendered = await render("staging", sets);
    const [policy] = objectsOf(rendered, "MutatingAdmissionPolicy");
    const [binding] = objectsOf(rendered, "MutatingAdmissionPolicyBinding");
    expect(objectsOf(rendered, "MutatingAdmissionPolicy")).toHaveLength(1);
    expect(policy.apiVersion).toBe("admissionregistration.k8s.io/v1");
    expect(policy.metadata.name).toBe("monitoring-staging-monitor-limits");
    expect(binding.spec).toEqual({ policyName: "monitoring-staging-monitor-limits" });
    const spec = policy.spec as {
      matchConstraints: { resourceRules: unknown[]; namespaceSelector: unknown };
      failurePolicy: string;
      reinvocationPolicy: string;
      mutations: Array<{ patchType: string; jsonPatch: { expression: string } }>;
    };
    expect(spec.matchConstraints.resourceRules).toEqual([
      {
        apiGroups: ["monitoring.coreos.com"],
        apiVersions: ["v1"],
        operations: ["CREATE", "UPDATE"],
        resources: ["servicemonitors", "podmonitors", "probes"],
      },
    ]);
    // Every namespace the collector watches monitors in (the watched ones here: the stack's own, the apps', watch.namespaces).
    const watched = [...(rendered.files.get("log-collector/config.alloy") ?? "").matchAll(/namespaces += \["([^"]+)"\]/g)].map((m) => m[1]);
    expect(watched).toEqual(expect.arrayContaining(["billing", "shop"]));
    expect(spec.matchConstraints.namespaceSelector).toEqual({
      matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...new Set(watched)].sort() }],
    });
    expect([spec.failurePolicy, spec.reinvocationPolicy]).toEqual(["Fail", "IfNeeded"]);
    const expression = spec.mutations[0].jsonPatch.expression;
    expect(spec.mutations[0].patchType).toBe("JSONPatch");
    // Each field: kept only in 1..limit, else set to the limit.
    for (const [field, limit] of [
      ["sampleLimit", 10_000],
      ["targetLimit", 100],
      ["labelLimit", 30],
    ] as const) {
      expect(expression).toContain(
        `((has(object.spec.${field}) && object.spec.${field} > 0 && object.spec.${field} <= ${limit}) ? [] : ` +
          `[JSONPatch{op: "add", path: "/spec/${field}", value: ${limit}}])`,
      );
    }
  });

  test("monitors.limits and monitors.namespaces are what the policy holds", async () => {
    const rendered = await render("staging", [
      ...sets,
      'monitors.namespaces=["billing"]',
      "monitors.limits.samples=2000",
      "monitors.limits.targets=7",
      "monitors.limits.labels=12",
    ]);
    const [policy] = objectsOf(rendered, "MutatingAdmissionPolicy");
    const spec = policy.spec as {
      matchConstraints: { namespaceSelector: unknown };
      mutations: Array<{ jsonPatch: { expression: string } }>;
    };
    expect(spec.matchConstraints.namespaceSelector).toEqual({
      matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["billing"] }],
    });
    const expression = spec.mutations[0].jsonPatch.expression;
    expect(expression.match(/value: \d+/g)).toEqual(["value: 2000", "value: 7", "value: 12"]);
    // The collector's default for a monitor written before the policy: the same sample limit.
    expect(rendered.files.get("log-collector/config.alloy")).toMatch(/default_sample_limit += 2000/);
  });

  test("no policy without monitors", async () => {
    const rendered = await render("staging", ['watch.namespaces=["shop"]']);
    expect(objectsOf(rendered, "MutatingAdmissionPolicy")).toEqual([]);
    expect(objectsOf(rendered, "MutatingAdmissionPolicyBinding")).toEqual([]);
    expect(objectsOf(rendered, "ValidatingAdmissionPolicy")).toEqual([]);
    expect(objectsOf(rendered, "ValidatingAdmissionPolicyBinding")).toEqual([]);
  });

  test("beside it, a ValidatingAdmissionPolicy denying on the same kinds and namespaces: the selector, the ingress selector, the prober's URL and proxy", async () => {
    const rendered = await render("staging", [...sets, 'monitors.namespaces=["billing"]']);
    const [mutating] = objectsOf(rendered, "MutatingAdmissionPolicy");
    const policies = objectsOf(rendered, "ValidatingAdmissionPolicy");
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(["monitoring-staging-monitor-files", "monitoring-staging-monitor-targets"]);
    const policy = policies.find((p) => p.metadata.name === "monitoring-staging-monitor-targets") as (typeof policies)[number];
    expect(policy.apiVersion).toBe("admissionregistration.k8s.io/v1");
    expect(policy.metadata.name).toBe("monitoring-staging-monitor-targets");
    expect(objectsOf(rendered, "ValidatingAdmissionPolicyBinding").map((b) => b.spec)).toEqual(
      expect.arrayContaining([{ policyName: "monitoring-staging-monitor-targets", validationActions: ["Deny"] }]),
    );
    const spec = policy.spec as {
      matchConstraints: unknown;
      failurePolicy: string;
      validations: Array<{ expression: string; messageExpression?: string; message?: string; reason: string }>;
    };
    expect(spec.matchConstraints).toEqual((mutating.spec as { matchConstraints: unknown }).matchConstraints);
    expect(spec.failurePolicy).toBe("Fail");
    expect(spec.validations.map((v) => /spec\.[a-zA-Z.[\]]+/.exec(v.messageExpression ?? v.message ?? "")?.[0])).toEqual([
      "spec.namespaceSelector",
      "spec.targets.ingress.namespaceSelector",
      "spec.prober.url",
      "spec.prober.proxyUrl",
    ]);
    for (const v of spec.validations.slice(2)) expect(v.expression).toContain('l in ["monitoring-staging","monitoring-staging-agents"]');
  });

  test("and one that warns, never refuses, of a ServiceMonitor endpoint naming a file of the scraper's pod, on the same kinds and namespaces", async () => {
    const rendered = await render("staging", [...sets, 'monitors.namespaces=["billing"]']);
    const [mutating] = objectsOf(rendered, "MutatingAdmissionPolicy");
    const [policy] = objectsOf(rendered, "ValidatingAdmissionPolicy", "monitoring-staging-monitor-files");
    const spec = policy.spec as {
      matchConstraints: unknown;
      failurePolicy: string;
      validations: Array<{ expression: string; message: string }>;
    };
    expect(spec.matchConstraints).toEqual((mutating.spec as { matchConstraints: unknown }).matchConstraints);
    // A failure to evaluate lets the object through: the policy only informs.
    expect(spec.failurePolicy).toBe("Ignore");
    expect(objectsOf(rendered, "ValidatingAdmissionPolicyBinding", "monitoring-staging-monitor-files").map((b) => b.spec)).toEqual([
      { policyName: "monitoring-staging-monitor-files", validationActions: ["Warn", "Audit"] },
    ]);
    expect(spec.validations).toHaveLength(1);
    for (const field of ["bearerTokenFile", "tlsConfig.caFile", "tlsConfig.certFile", "tlsConfig.keyFile"]) {
      expect(spec.validations[0].message).toContain(field);
      expect(spec.validations[0].expression).toContain(`e.${field} == ""`);
    }
  });
});
