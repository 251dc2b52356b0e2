/**
 * The collector's part for the operator's monitors (components/log-collector/monitors.ts): the
 * three watchers with one collector per target (clustering), the selector, what they leave to
 * Prometheus' own jobs, and the remote write; nothing of it in a stack without monitors.
 */
import { alloyConfig } from "../../components/log-collector/alloy";
import { alloySyntax } from "../../components/log-collector/alloy-syntax";
import { duplicateRules, monitorBlocks } from "../../components/log-collector/monitors";

const args = {
  remoteWriteUrl: "http://prometheus.monitoring-staging.svc:9090/api/v1/write",
  namespaces: ["monitoring-staging", "shop"],
  selector: { "app.kubernetes.io/part-of": "shop", release: 'a"b' },
  scrapeInterval: "15s",
  scrapeTimeout: "10s",
  environment: "staging",
  scrapedServices: [
    { namespace: "shop", name: "api" },
    { namespace: "shop", name: "api.v2" },
  ],
};

describe("the monitors in config.alloy", () => {
  const text = alloySyntax(monitorBlocks(args));

  test("the three watchers, each sharing its targets out among the collectors, in the namespaces read, with the selector", () => {
    for (const kind of ["servicemonitors", "podmonitors", "probes"]) {
      expect(text).toContain(`prometheus.operator.${kind} "monitors" {`);
    }
    expect(text.match(/clustering \{\n\t\tenabled = true\n\t\}/g)).toHaveLength(3);
    expect(text.match(/namespaces += \["monitoring-staging", "shop"\]/g)).toHaveLength(3);
    expect(text).toContain('match_labels = {"app.kubernetes.io/part-of" = "shop", "release" = "a\\"b"}');
    expect(text).toContain('kubernetes_role = "endpointslice"');
    expect(text).toContain('url = "http://prometheus.monitoring-staging.svc:9090/api/v1/write"');
  });

  test("every namespace when none is given, every monitor without a selector", () => {
    const all = alloySyntax(monitorBlocks({ ...args, namespaces: undefined, selector: {} }));
    expect(all).not.toContain("namespaces");
    expect(all).not.toContain("selector");
  });

  test("the annotated pods the stack's Prometheus scrapes, and the Services of apps[] and targets[], are left to Prometheus", () => {
    expect(duplicateRules(args)).toEqual([
      {
        source_labels: [
          "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
          "__meta_kubernetes_pod_label_monitoring_stack_environment",
        ],
        regex: "true;(|staging)",
        action: "drop",
      },
      { source_labels: ["__meta_kubernetes_namespace", "__meta_kubernetes_service_name"], regex: "shop;api|shop;api\\.v2", action: "drop" },
    ]);
    expect(duplicateRules({ environment: "staging", scrapedServices: [] })).toHaveLength(1);
  });

  test("a config without monitors has none of it", () => {
    const plain = alloyConfig({ lokiPushUrl: "http://loki:3100/loki/api/v1/push" });
    expect(plain).not.toContain("prometheus.operator");
    expect(plain).not.toContain("remote_write");
    const withMonitors = alloyConfig({
      lokiPushUrl: "http://loki:3100/loki/api/v1/push",
      extra: { blocks: monitorBlocks(args), comment: "monitors" },
    });
    expect(withMonitors.startsWith(plain.split("\n\n")[0])).toBe(true);
    expect(withMonitors).toContain('prometheus.remote_write "monitors"');
  });
});
