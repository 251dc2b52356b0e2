/**
 * One collector for two stacks, as the stacks render it: production's collector serving
 * staging (logCollector.shareWith) and staging served by it (logCollector.sharedFrom). What
 * the real Alloy does with the routing is tested in test/e2e/shared-logs.test.ts.
 */
import { alloyConfig } from "../../components/log-collector/alloy";
import { configSummary } from "../../cli/render";
import { objectOf, objectsOf, render } from "../support/render";
import { parse } from "../config/support";

const SHARE = "logCollector.shareWith=[{namespace: monitoring-staging, namespaces: [shop-staging, data-staging]}]";
const SERVED = "logCollector.sharedFrom=monitoring-production";

interface Policy {
  spec: {
    ingress?: Array<{ from?: Array<Record<string, unknown>>; ports?: Array<{ port: number }> }>;
    egress?: Array<{ to?: Array<Record<string, unknown>>; ports?: Array<{ port: number }> }>;
  };
}

describe("production's collector serving staging", () => {
  test("its Alloy routes the shared namespaces to staging's Loki and the rest to its own", async () => {
    const rendered = await render("production", [SHARE]);
    const config = rendered.files.get("log-collector/config.alloy") ?? "";
    expect(config).toContain("forward_to = [loki.relabel.own.receiver, loki.relabel.to_monitoring_staging.receiver]");
    expect(config).toMatch(
      /loki\.relabel "own" \{\n\tforward_to = \[loki\.write\.loki\.receiver\]\n\n\trule \{\n[^}]*regex\s+= "data-staging\|shop-staging"\n\t\taction\s+= "drop"/,
    );
    expect(config).toMatch(
      /loki\.relabel "to_monitoring_staging" \{\n\tforward_to = \[loki\.write\.to_monitoring_staging\.receiver\]\n\n\trule \{\n[^}]*regex\s+= "data-staging\|shop-staging"\n\t\taction\s+= "keep"/,
    );
    // Staging's Loki on its push port: it admits a collector whose config it cannot see (components/loki/push-proxy.ts).
    expect(config).toContain('url                 = "http://loki.monitoring-staging.svc:3101/loki/api/v1/push"');
    // One tail of the files, whatever the number of stacks.
    expect(config.match(/^loki\.source\.file /gm)).toHaveLength(1);
  });

  test("its collector may reach staging's Loki pods on their push port, and publishes what it sends", async () => {
    const rendered = await render("production", [SHARE]);
    const egress = objectOf(rendered, "NetworkPolicy", "alloy-egress") as unknown as Policy;
    expect(egress.spec.egress).toContainEqual({
      ports: [{ port: 3101, protocol: "TCP" }],
      to: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-staging" } },
          podSelector: { matchLabels: { "app.kubernetes.io/name": "loki" } },
        },
      ],
    });
    const record = objectOf(rendered, "ConfigMap", "shared-logs") as unknown as {
      metadata: { namespace: string };
      data: Record<string, string>;
    };
    expect(record.metadata.namespace).toBe("monitoring-production-agents");
    expect(JSON.parse(record.data["shares.json"])).toEqual({ "monitoring-staging": ["data-staging", "shop-staging"] });
  });

  test("without shareWith nothing of it is rendered", async () => {
    const rendered = await render("production");
    expect(objectsOf(rendered, "ConfigMap", "shared-logs")).toHaveLength(0);
    // No routing by namespace: neither this stack's own relabel nor one to another stack (the journal's rules are another block).
    expect(rendered.files.get("log-collector/config.alloy")).not.toMatch(/loki\.relabel "(own|to_[a-z0-9_]+)"/);
  });
});

describe("staging served by production's collector", () => {
  test("it runs no collector and its Loki admits production's", async () => {
    const rendered = await render("staging", [SERVED]);
    expect(objectsOf(rendered, "DaemonSet", "alloy")).toHaveLength(0);
    expect(objectsOf(rendered, "ConfigMap", "alloy-config")).toHaveLength(0);
    const loki = objectOf(rendered, "NetworkPolicy", "loki") as unknown as Policy;
    const from = loki.spec.ingress?.flatMap((rule) => rule.from ?? []) ?? [];
    expect(from).toContainEqual({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-production-agents" } },
      podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy" } },
    });
    expect(JSON.stringify(from)).not.toContain("monitoring-staging-agents");
    expect(rendered.warnings).toContainEqual(
      expect.stringMatching(/^monitoring:logCollector\.sharedFrom: the offline render has no cluster/),
    );
  });

  test("the summary says who collects the pod logs", () => {
    const served = parse("staging", {
      profile: "staging",
      environment: "staging",
      logCollector: { sharedFrom: "monitoring-production" },
    }).config;
    expect(configSummary(served).join("\n")).toContain(
      "Pod logs:\n  sent by the collector of the stack in monitoring-production (logCollector.sharedFrom): this stack runs none",
    );
    const serving = parse("production", {
      profile: "production",
      environment: "production",
      logCollector: { shareWith: [{ namespace: "monitoring-staging", namespaces: ["shop-staging"] }] },
    }).config;
    expect(configSummary(serving).join("\n")).toContain(
      "Pod logs:\n  collected by this stack's alloy on every node\n  for the stack in monitoring-staging: the logs of shop-staging go to its Loki",
    );
  });

  test("the two sides fit: production's collector pushes to a port of staging's Loki Service that a container of its pod serves, its egress and that Loki's ingress admit it there and nowhere else", async () => {
    const production = await render("production", [SHARE]);
    const staging = await render("staging", [SERVED]);
    const templateLabels = (rendered: typeof production, kind: string, name: string) =>
      objectOf(rendered, kind, name) as unknown as {
        metadata: { namespace: string };
        spec: {
          template: {
            metadata: { labels: Record<string, string> };
            spec: { containers: Array<{ ports?: Array<{ name: string; containerPort: number }> }> };
          };
        };
      };
    const selects = (selector: Record<string, unknown>, namespace: string, labels: Record<string, string>) => {
      const ns = (selector.namespaceSelector as { matchLabels: Record<string, string> }).matchLabels["kubernetes.io/metadata.name"];
      const pods = (selector.podSelector as { matchLabels: Record<string, string> }).matchLabels;
      return ns === namespace && Object.entries(pods).every(([k, v]) => labels[k] === v);
    };
    const collector = templateLabels(production, "DaemonSet", "alloy");
    const loki = templateLabels(staging, "StatefulSet", "loki");
    // The port production's Alloy pushes staging's logs to, and the pod's port behind it.
    const url = /"(http:\/\/loki\.monitoring-staging\.svc:\d+\/loki\/api\/v1\/push)"/.exec(
      production.files.get("log-collector/config.alloy") ?? "",
    )?.[1];
    const port = Number(new URL(url ?? "http://none").port);
    const servicePort = (objectOf(staging, "Service", "loki").spec as { ports: Array<{ port: number; targetPort: string }> }).ports.find(
      (p) => p.port === port,
    );
    const served = loki.spec.template.spec.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === servicePort?.targetPort);
    expect(served?.containerPort).toBe(port);
    const egress = (objectOf(production, "NetworkPolicy", "alloy-egress") as unknown as Policy).spec.egress ?? [];
    expect(
      egress.some(
        (rule) =>
          rule.ports?.some((p) => p.port === port) &&
          (rule.to ?? []).some((to) => selects(to, loki.metadata.namespace, loki.spec.template.metadata.labels)),
      ),
    ).toBe(true);
    const ingress = (objectOf(staging, "NetworkPolicy", "loki") as unknown as Policy).spec.ingress ?? [];
    const admitted = ingress
      .filter((rule) =>
        (rule.from ?? []).some(
          (from) => "namespaceSelector" in from && selects(from, collector.metadata.namespace, collector.spec.template.metadata.labels),
        ),
      )
      .flatMap((rule) => (rule.ports ?? []).map((p) => p.port));
    expect(admitted).toEqual([port]);
  });

  test("a namespace that is not a Kubernetes name cannot reach the routing regex", () => {
    expect(() =>
      alloyConfig({ lokiPushUrl: "http://loki:3100", shares: [{ stackNamespace: "x", lokiPushUrl: "http://x", namespaces: ["a|b"] }] }),
    ).toThrow(/not a namespace name/);
  });
});
