/**
 * One box with the charts' monitors, as both stack files render it: staging served by production's collector
 * (logCollector.sharedFrom) with monitors.enabled publishes how its monitors are read and lets production's
 * collector write to its Prometheus; production's collector (shareWith[].monitors), given staging's published
 * ConfigMap as its preview reads it (the render's --served-monitors), scrapes staging's monitors with staging's
 * settings into staging's Prometheus, apart from its own. The checks at preview and up are test/preflight/served-monitors.test.ts'.
 */
import type { Rendered } from "../../cli/render";
import { renderStack } from "../../cli/render-stack";
import { configMapsOf } from "../../preflight/served-monitors";
import * as YAML from "yaml";
import { objectOf, objectsOf, render } from "../support/render";

const SERVED = [
  "logCollector.sharedFrom=monitoring-production",
  "nodeExporter.enabled=false",
  "monitors.enabled=true",
  "monitors.honorLabels=[shop-staging/exporter]",
  "monitors.limits.samples=2500",
  "monitors.selector={team: shop}",
];
const SHARE = "logCollector.shareWith=[{namespace: monitoring-staging, namespaces: [monitoring-staging, shop-staging], monitors: true}]";

/** The top-level blocks of config.alloy whose head matches. */
function blocks(text: string, head: RegExp): string[] {
  return text.split(/\n(?=\S)/).filter((b) => head.test(b.split("\n")[0]));
}

type Policy = { spec: { ingress?: Array<{ from?: unknown[] }>; egress?: Array<{ to?: unknown[]; ports?: unknown[] }> } };

let staging: Rendered;
let production: Rendered;
let alloy: string;

beforeAll(async () => {
  staging = await render("staging", SERVED);
  // What production's preview reads from the cluster: staging's ConfigMap as staging's render made it.
  const published = configMapsOf(YAML.stringify(objectOf(staging, "ConfigMap", "served-monitors")));
  production = await renderStack({ stack: "production", sets: [SHARE], showSecrets: true, servedMonitors: published });
  alloy = production.files.get("log-collector/config.alloy") ?? "";
});

describe("staging, served with monitors", () => {
  test("publishes its own monitors' settings: its namespaces, selector, interval, honorLabels and sample limit", () => {
    const record = JSON.parse(
      (objectOf(staging, "ConfigMap", "served-monitors") as unknown as { data: Record<string, string> }).data["monitors.json"],
    );
    expect(record).toMatchObject({
      environment: "staging",
      namespaces: ["monitoring-staging", "shop-staging"],
      selector: { team: "shop" },
      scrapeInterval: "15s",
      honorLabels: ["shop-staging/exporter"],
      sampleLimit: 2500,
    });
    expect(objectsOf(staging, "DaemonSet", "alloy")).toHaveLength(0);
  });

  test("its Prometheus takes remote writes from production's collector alone, and its rules stay its own", () => {
    const prometheus = objectOf(staging, "StatefulSet", "prometheus") as unknown as {
      spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
    };
    expect(prometheus.spec.template.spec.containers[0].args).toContain("--web.enable-remote-write-receiver");
    const from = (objectOf(staging, "NetworkPolicy", "prometheus") as unknown as Policy).spec.ingress?.flatMap((r) => r.from ?? []);
    expect(from).toContainEqual({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-production-agents" } },
      podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy" } },
    });
    // The CRDs and the PrometheusRules are read by staging itself (offline: said so).
    expect(staging.warnings).toContainEqual(expect.stringMatching(/^monitoring:monitors\.rules: the offline render has no cluster/));
  });

  test("grants production's collector read access to the monitors in its own namespaces only", () => {
    const bindings = objectsOf(staging, "RoleBinding").filter((b) => b.metadata.name === "monitoring-staging-served-alloy-monitors");
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(["monitoring-staging", "shop-staging"]);
    expect(JSON.stringify(bindings[0])).toContain('"namespace":"monitoring-production-agents"');
    expect(objectsOf(staging, "ClusterRoleBinding").map((b) => b.metadata.name)).not.toContain("monitoring-staging-served-alloy-monitors");
  });
});

describe("production's collector serving staging's monitors", () => {
  test("watches staging's namespaces with staging's settings, writing to staging's Prometheus", () => {
    const watchers = blocks(alloy, /^prometheus\.operator\.\w+ "to_monitoring_staging_/);
    // Three kinds in each of staging's two namespaces, and the honoured monitor's own two.
    expect(watchers).toHaveLength(8);
    for (const w of watchers) {
      expect(w).toMatch(/namespaces\s+= \["(monitoring-staging|shop-staging)"\]/);
      expect(w).toContain('match_labels = {"team" = "shop"}');
      expect(w).toContain("default_sample_limit    = 2500");
      expect(w).toContain('default_scrape_interval = "15s"');
    }
    const [writer] = blocks(alloy, /^prometheus\.remote_write "to_monitoring_staging"/);
    // Staging's write port: the served stack's Prometheus lets the writes alone through there (admin-proxy.ts).
    expect(writer).toContain('url = "http://prometheus.monitoring-staging.svc:9096/api/v1/write"');
    // The honoured monitor keeps its namespace: its watchers write through a relabel that only keeps the stack's jobs off, to staging's writer.
    const honoured = blocks(alloy, /^prometheus\.operator\.servicemonitors "to_monitoring_staging_shop_staging_honoured"/);
    expect(honoured[0]).toContain("forward_to      = [prometheus.relabel.to_monitoring_staging_shop_staging_honoured.receiver]");
    const [relabel] = blocks(alloy, /^prometheus\.relabel "to_monitoring_staging_shop_staging_honoured"/);
    expect(relabel).toContain("forward_to = [prometheus.remote_write.to_monitoring_staging.receiver]");
    expect(relabel).toContain('replacement   = "shop-staging/${1}"');
    expect(relabel).not.toContain('target_label = "namespace"');
  });

  test("none of it in production's own pipeline: every watcher of staging's namespaces ends at staging's writer", () => {
    const staged = blocks(alloy, /"(monitoring-staging|shop-staging)"|to_monitoring_staging/).filter((b) => b.startsWith("prometheus."));
    expect(staged.length).toBeGreaterThan(0);
    for (const b of staged) expect(b).not.toMatch(/prometheus\.(remote_write|relabel)\.monitors\b/);
    expect(alloy).not.toContain('prometheus.remote_write "monitors"');
    expect(alloy).not.toMatch(/http:\/\/prometheus\.monitoring-production\.svc:\d+\/api\/v1\/write/);
  });

  test("staging's Prometheus admits production's collector on its write port alone, every other client on 9090", () => {
    const ingress = (objectOf(staging, "NetworkPolicy", "prometheus") as unknown as Policy).spec.ingress as Array<{
      ports: Array<{ port: number }>;
      from: unknown[];
    }>;
    const collector = {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-production-agents" } },
      podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy" } },
    };
    const on = (port: number) => ingress.filter((rule) => rule.ports.some((p) => p.port === port)).flatMap((rule) => rule.from);
    expect(on(9096)).toEqual([collector]);
    expect(on(9090)).not.toContainEqual(collector);
    expect(on(9090).length).toBeGreaterThan(0);
  });

  test("its egress reaches staging's Prometheus pods on the write port, and its record says what it applied", () => {
    const egress = (objectOf(production, "NetworkPolicy", "alloy-egress") as unknown as Policy).spec.egress;
    expect(egress).toContainEqual({
      ports: [{ port: 9096, protocol: "TCP" }],
      to: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-staging" } },
          podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
        },
      ],
    });
    const record = (objectOf(production, "ConfigMap", "shared-logs") as unknown as { data: Record<string, string> }).data;
    const published = (objectOf(staging, "ConfigMap", "served-monitors") as unknown as { data: Record<string, string> }).data;
    expect(JSON.parse(record["monitors.json"])).toEqual({ "monitoring-staging": JSON.parse(published["monitors.json"]) });
  });

  test("without staging's ConfigMap (offline, or staging not deployed yet) it reads none and says so", async () => {
    const alone = await render("production", [SHARE]);
    expect(alone.files.get("log-collector/config.alloy")).not.toContain("prometheus.operator");
    expect(alone.warnings).toContainEqual(expect.stringMatching(/^monitoring:logCollector\.shareWith\[0\]\.monitors: the offline render/));
    const record = (objectOf(alone, "ConfigMap", "shared-logs") as unknown as { data: Record<string, string> }).data;
    expect(JSON.parse(record["monitors.json"])).toEqual({ "monitoring-staging": null });
  });
});
