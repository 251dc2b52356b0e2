/**
 * Kubernetes events to Loki (logCollector.events) and alerts on logs (Loki's ruler): the events
 * blocks of config.alloy, the one collector of events per namespace through Alloy's clustering,
 * the read access to events where the stack watches them (and granted by a served stack), what
 * is left out without events, and where the ruler sends. The pipeline and the alerts on the exact
 * binaries are in test/e2e/log-alerts.test.ts.
 */
import * as YAML from "yaml";
import { alloyConfig } from "../../components/log-collector/alloy";
import { EVENTS_JOB } from "../../components/log-collector/events";
import { LogCollectorArgs } from "../../components/log-collector/args";
import { K8sObject, Rendered } from "../../cli/render";
import { objectOf, objectsOf, render, renderConfig } from "../support/render";
import { schemaProblems } from "../support/schema";
import { PUSH, block, collectorArgs, renderCollector } from "../support/log-collector";
import { localAlloyConfig } from "../../lab/local/logs";

const baseArgs = (over: Partial<LogCollectorArgs> = {}): LogCollectorArgs => collectorArgs("staging", over);

type Policy = { ingress?: Array<{ from: unknown[]; ports: unknown[] }>; egress?: Array<{ to?: unknown[]; ports?: unknown[] }> };
const policyOf = (r: Rendered, name: string) => objectOf(r, "NetworkPolicy", name).spec as Policy;
const argsOf = (r: Rendered) =>
  (objectOf(r, "DaemonSet", "alloy").spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]
    .args;
const OWN_PODS = {
  "app.kubernetes.io/name": "alloy",
  "app.kubernetes.io/instance": "staging",
  "app.kubernetes.io/component": "log-collector",
  "app.kubernetes.io/part-of": "monitoring-stack",
};

describe("config.alloy's events", () => {
  test("the watched namespaces' events (the served stacks' and the extra ones too), one owner per namespace, labelled from the line", () => {
    const text = alloyConfig({
      lokiPushUrl: PUSH,
      namespaces: ["monitoring", "shop"],
      events: true,
      eventsAlsoIn: ["default"],
      shares: [
        {
          stackNamespace: "monitoring-staging",
          lokiPushUrl: "http://loki.monitoring-staging.svc:3100/loki/api/v1/push",
          namespaces: ["shop-staging"],
        },
      ],
    });
    expect(block(text, 'loki.source.kubernetes_events "events"')).toBe(
      [
        'loki.source.kubernetes_events "events" {',
        `\tjob_name   = "${EVENTS_JOB}"`,
        '\tnamespaces = ["default", "monitoring", "shop", "shop-staging"]',
        '\tlog_format = "logfmt"',
        "\tforward_to = [loki.process.events.receiver]",
        "",
        "\tclustering {",
        "\t\tenabled = true",
        "\t}",
        "}",
      ].join("\n"),
    );
    const process_ = block(text, 'loki.process "events"') ?? "";
    // Routed as the pod logs: the served stack's namespaces to its Loki.
    expect(process_).toContain("forward_to = [loki.relabel.own.receiver, loki.relabel.to_monitoring_staging.receiver]");
    expect(process_).toContain('mapping = {kind = "", name = "", reason = "", type = ""}');
    expect(process_).toContain('values = {kind = "", name = "", reason = "", type = ""}');
    expect(process_).toContain('values = ["instance"]');
    // The pod discovery is not widened by the events' extra namespace.
    expect(block(text, 'discovery.kubernetes "pods"')).not.toContain('"default"');
  });

  test("every namespace's events when the stack watches every namespace; none without events", () => {
    const all = alloyConfig({ lokiPushUrl: PUSH, events: true, eventsAlsoIn: ["default"] });
    expect(block(all, 'loki.source.kubernetes_events "events"')).not.toContain("namespaces");
    expect(block(all, 'loki.process "events"')).toContain("forward_to = [loki.write.loki.receiver]");
    const none = alloyConfig({ lokiPushUrl: PUSH, namespaces: ["monitoring"] });
    expect(none).not.toMatch(/kubernetes_events|loki\.process "events"/);
  });
});

test("made local, the events source reads a loopback control plane's kubeconfig, or is left out without one", () => {
  const text = alloyConfig({ lokiPushUrl: PUSH, namespaces: ["monitoring"], events: true });
  const without = localAlloyConfig(text, "/t/targets.json", "/t/pods", "http://127.0.0.1:1/loki/api/v1/push");
  expect(without).not.toMatch(/kubernetes_events|loki\.process "events"/);
  expect(without).toContain('loki.process "pod_logs"');
  const withApi = localAlloyConfig(text, "/t/targets.json", "/t/pods", "http://127.0.0.1:1/loki/api/v1/push", undefined, "/t/kubeconfig");
  expect(block(withApi, 'loki.source.kubernetes_events "events"')).toContain(
    '\tclient {\n\t\tkubeconfig_file = "/t/kubeconfig"\n\t}\n\n\tclustering {',
  );
  expect(block(withApi, 'loki.process "events"')).toBe(block(text, 'loki.process "events"'));
});

describe("the collector with events", () => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await renderCollector(baseArgs({ namespaces: ["monitoring", "shop"], events: true, eventsAlsoIn: ["default"] }));
  });

  test("its pods form one Alloy cluster, named after the agents namespace, joined through the headless Service", () => {
    expect(argsOf(rendered).slice(-3)).toEqual([
      "--cluster.enabled=true",
      "--cluster.join-addresses=alloy.monitoring-agents.svc:12345",
      "--cluster.name=monitoring-agents",
    ]);
    expect((objectOf(rendered, "Service", "alloy").spec as { clusterIP: string }).clusterIP).toBe("None");
  });

  test("its pods may gossip with each other on 12345, and with no one else beyond what they had", () => {
    expect(policyOf(rendered, "alloy").ingress).toContainEqual({
      from: [{ podSelector: { matchLabels: OWN_PODS } }],
      ports: [{ protocol: "TCP", port: 12345 }],
    });
    expect(policyOf(rendered, "alloy-egress").egress).toContainEqual({
      to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy", "app.kubernetes.io/instance": "staging" } } }],
      ports: [{ protocol: "TCP", port: 12345 }],
    });
  });

  test("it reads events only, in each namespace whose events it ships: a RoleBinding there to a ClusterRole of get, list and watch", () => {
    const role = objectOf(rendered, "ClusterRole", "monitoring-agents-alloy-events") as K8sObject & { rules: unknown };
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] }]);
    const bindings = objectsOf(rendered, "RoleBinding") as Array<K8sObject & { roleRef: unknown; subjects: unknown }>;
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(["default", "monitoring", "shop"]);
    for (const b of bindings) {
      expect(schemaProblems(b)).toEqual([]);
      expect(b.metadata.name).toBe("monitoring-agents-alloy-events");
      expect(b.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "monitoring-agents-alloy-events" });
      expect(b.subjects).toEqual([{ kind: "ServiceAccount", name: "alloy", namespace: "monitoring-agents" }]);
    }
    // The pods' role is unchanged: events are not in it.
    expect(JSON.stringify(objectOf(rendered, "ClusterRole", "monitoring-agents-alloy"))).not.toContain("events");
    expect(objectsOf(rendered, "ClusterRoleBinding").map((b) => b.metadata.name)).toEqual(["monitoring-agents-alloy"]);
  });

  test("watching every namespace, the access to events is cluster-wide", async () => {
    const all = await renderCollector(baseArgs({ events: true }));
    expect(objectsOf(all, "RoleBinding")).toEqual([]);
    expect(
      objectsOf(all, "ClusterRoleBinding")
        .map((b) => b.metadata.name)
        .sort(),
    ).toEqual(["monitoring-agents-alloy", "monitoring-agents-alloy-events"]);
  });

  test("without events: no cluster, no gossip, no access to events", async () => {
    const plain = await renderCollector(baseArgs({ namespaces: ["monitoring"] }));
    expect(argsOf(plain).filter((a) => a.startsWith("--cluster"))).toEqual([]);
    expect(JSON.stringify(policyOf(plain, "alloy").ingress)).not.toContain('"app.kubernetes.io/component":"log-collector"');
    expect(objectsOf(plain, "RoleBinding")).toEqual([]);
    expect(objectsOf(plain, "ClusterRole").map((r) => r.metadata.name)).toEqual(["monitoring-agents-alloy"]);
  });
});

describe("in the stacks", () => {
  test("production watches the cluster: it reads the Nodes' events in default too; staging does not", async () => {
    const eventsNamespaces = (r: Rendered) =>
      /^\tnamespaces = (\[.*\])$/m.exec(
        block(r.files.get("log-collector/config.alloy") ?? "", 'loki.source.kubernetes_events "events"') ?? "",
      )?.[1];
    expect(eventsNamespaces(await render("production"))).toBe(
      '["default", "kube-system", "monitoring-production", "monitoring-production-agents", "shop"]',
    );
    expect(eventsNamespaces(await render("staging"))).toBe('["monitoring-staging", "monitoring-staging-agents", "shop-staging"]');
  });

  test("a stack served by another's collector grants it read access to events in its own namespaces (not the agents namespace it lacks)", async () => {
    const served = await render("staging", ["logCollector.sharedFrom=monitoring-production"]);
    expect(served.kubernetes.filter((o) => o.component === "log-collector")).toEqual([]);
    const role = objectOf(served, "ClusterRole", "monitoring-staging-served-alloy-events") as K8sObject & { rules: unknown };
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] }]);
    const bindings = objectsOf(served, "RoleBinding") as Array<K8sObject & { subjects: unknown }>;
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(["monitoring-staging", "shop-staging"]);
    for (const b of bindings) {
      expect(b.subjects).toEqual([{ kind: "ServiceAccount", name: "alloy", namespace: "monitoring-production-agents" }]);
    }
    // Its events arrive: the dashboards keep their events rows and the ruler its rules on them.
    expect(Object.keys((objectOf(served, "ConfigMap", "loki-rules").data ?? {}) as object)).toEqual(["events.yml"]);
    const withoutEvents = await render("staging", ["logCollector.sharedFrom=monitoring-production", "logCollector.events=false"]);
    expect(objectsOf(withoutEvents, "RoleBinding")).toEqual([]);
  });

  test("logCollector.events false: no events source, and no events rows nor rules on events", async () => {
    const off = await renderConfig("staging", { logCollector: { events: false } });
    expect(off.files.get("log-collector/config.alloy")).not.toContain("kubernetes_events");
    expect(objectOf(off, "ConfigMap", "loki-rules").data ?? {}).toEqual({});
    const titles = (file: string) =>
      (JSON.parse(off.files.get(file) ?? "{}") as { panels: Array<{ title: string }> }).panels.map((p) => p.title);
    expect(titles("grafana/logs__logs.json")).not.toContain("Kubernetes events");
    expect(titles("grafana/infrastructure__pod.json")).not.toContain("Events");
    expect(titles("grafana/infrastructure__workloads.json")).not.toContain("Events");
    const on = await render("staging");
    const onTitles = (file: string) =>
      (JSON.parse(on.files.get(file) ?? "{}") as { panels: Array<{ title: string }> }).panels.map((p) => p.title);
    expect(onTitles("grafana/logs__logs.json")).toContain("Kubernetes events");
    expect(onTitles("grafana/infrastructure__pod.json")).toContain("Events of the pod");
    expect(onTitles("grafana/infrastructure__workloads.json")).toContain("Events of the namespace");
  });

  test("Loki's ruler sends to every Alertmanager peer, which admits Loki's pods; Loki's egress opens to them", async () => {
    const three = await render("production", ["nodes=3"]);
    const ruler = (YAML.parse(three.files.get("loki/loki.yaml") ?? "") as { ruler: Record<string, unknown> }).ruler;
    expect(ruler.alertmanager_url).toBe(
      [0, 1, 2].map((i) => `http://alertmanager-${i}.alertmanager-cluster.monitoring-production.svc:9093`).join(","),
    );
    expect(ruler.external_labels).toEqual({ environment: "production" });
    expect(policyOf(three, "loki-egress").egress).toContainEqual({
      to: [
        {
          podSelector: {
            matchLabels: {
              "app.kubernetes.io/name": "alertmanager",
              "app.kubernetes.io/instance": "production",
              "app.kubernetes.io/component": "alerting",
              "app.kubernetes.io/part-of": "monitoring-stack",
            },
          },
        },
      ],
      ports: [{ protocol: "TCP", port: 9093 }],
    });
    const amIngress = policyOf(three, "alertmanager").ingress?.[0].from ?? [];
    expect(amIngress).toContainEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": "production" } },
    });
  });
});
