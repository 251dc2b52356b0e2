/** `watch`: the namespaces a stack watches, and whether it watches what the cluster shares (components/kit/watch.ts). */
import { watchedNamespaces } from "../../components/stack/args";
import { parse, problems } from "./support";

const WATCHED = { deadMansSwitchUrl: "https://hc-ping.com/uuid" };
const shop = { name: "api", namespace: "shop", service: "api", port: "http" };
const minio = { name: "minio", namespace: "storage", service: "minio", port: "metrics" };
const otlpOnly = { name: "worker", namespace: "jobs", otlp: true };

describe("watch: defaults by profile", () => {
  test("production watches the cluster's shared pieces and runs node-exporter; staging does neither", () => {
    const staging = parse("staging", {}).config;
    const production = parse("production", {}, WATCHED).config;
    expect(staging.watch).toEqual({ namespaces: [], cluster: false });
    expect(production.watch).toEqual({ namespaces: [], cluster: true });
    expect([staging.nodeExporter.enabled, production.nodeExporter.enabled]).toEqual([false, true]);
  });

  test("nodeExporter.enabled follows watch.cluster unless given", () => {
    expect(parse("staging", { watch: { cluster: true } }).config.nodeExporter.enabled).toBe(true);
    expect(parse("production", { watch: { cluster: false } }, WATCHED).config.nodeExporter.enabled).toBe(false);
    expect(parse("production", { nodeExporter: { enabled: false } }, WATCHED).config.nodeExporter.enabled).toBe(false);
    expect(parse("staging", { watch: { cluster: true }, nodeExporter: { enabled: true } }).config.nodeExporter.enabled).toBe(true);
  });

  test("logCollector.journal follows watch.cluster unless given", () => {
    expect(parse("staging", {}).config.logCollector.journal).toBe(false);
    expect(parse("production", {}, WATCHED).config.logCollector.journal).toBe(true);
    expect(parse("staging", { watch: { cluster: true } }).config.logCollector.journal).toBe(true);
    expect(parse("production", { watch: { cluster: false } }, WATCHED).config.logCollector.journal).toBe(false);
    expect(parse("production", { logCollector: { journal: false } }, WATCHED).config.logCollector.journal).toBe(false);
  });
});

describe("watch: the namespaces watched", () => {
  test("its own, its agents', its apps' (a Service's, an OTLP app's) and its targets'; sorted, each once", () => {
    const config = parse("staging", { apps: [shop, otlpOnly], targets: [minio] }).config;
    expect(watchedNamespaces(config)).toEqual(["jobs", "monitoring-staging", "monitoring-staging-agents", "shop", "storage"]);
  });

  test("kube-system when it watches the cluster, and the namespaces given", () => {
    const config = parse("production", { apps: [shop], watch: { namespaces: ["payments", "shop"] } }, WATCHED).config;
    expect(watchedNamespaces(config)).toEqual(["kube-system", "monitoring-production", "monitoring-production-agents", "payments", "shop"]);
  });

  test('["*"]: every namespace, which the components read as no filter at all', () => {
    expect(watchedNamespaces(parse("staging", { apps: [shop], watch: { namespaces: ["*"] } }).config)).toBeUndefined();
  });
});

describe("watch: refused", () => {
  test("a namespace that is not a DNS-1123 label, naming its index", () => {
    expect(problems("staging", { watch: { namespaces: ["shop", "Prod_Shop"] } })).toEqual([
      'monitoring:watch.namespaces[1]: must be a namespace (a DNS-1123 label: lower-case letters, digits and \'-\', at most 63 characters) or "*" (got "Prod_Shop")',
    ]);
  });

  test("a namespace given twice", () => {
    expect(problems("staging", { watch: { namespaces: ["shop", "payments", "shop"] } })).toEqual([
      'monitoring:watch.namespaces[2]: names "shop" a second time (first at namespaces[0]): give each namespace once',
    ]);
  });

  test('"*" beside other namespaces', () => {
    expect(problems("staging", { watch: { namespaces: ["*", "shop"] } })).toEqual([
      'monitoring:watch.namespaces[1]: "*" already watches every namespace, so it stands alone: give ["*"], or the namespaces without "*" (got ["*","shop"])',
    ]);
  });

  test("not a list, or a cluster that is not a boolean", () => {
    expect(problems("staging", { watch: { namespaces: "shop" } })).toEqual([
      'monitoring:watch.namespaces: must be a list of namespaces, or ["*"] for every namespace (got "shop")',
    ]);
    expect(problems("staging", { watch: { cluster: "yes" } })).toEqual(['monitoring:watch.cluster: must be true or false (got "yes")']);
  });

  test("node-exporter turned on in a stack that does not watch the cluster, naming both keys", () => {
    expect(problems("staging", { nodeExporter: { enabled: true } })).toEqual([
      "monitoring:nodeExporter.enabled: node-exporter is the cluster's, watched by one stack per cluster, and this stack does not watch the cluster " +
        "(watch.cluster is false, the staging default): set watch.cluster: true in the one stack that owns the nodes' alerts, or leave nodeExporter.enabled out (got true)",
    ]);
    expect(problems("production", { watch: { cluster: false }, nodeExporter: { enabled: true } }, WATCHED)).toEqual([
      "monitoring:nodeExporter.enabled: node-exporter is the cluster's, watched by one stack per cluster, and this stack does not watch the cluster " +
        "(watch.cluster is false): set watch.cluster: true in the one stack that owns the nodes' alerts, or leave nodeExporter.enabled out (got true)",
    ]);
  });

  test("the nodes' journal turned on in a stack that does not watch the cluster, or without a collector, naming both keys", () => {
    expect(problems("staging", { logCollector: { journal: true } })).toEqual([
      "monitoring:logCollector.journal: the nodes' journal is the cluster's, shipped by one stack per cluster, and this stack does not watch the cluster " +
        "(watch.cluster is false, the staging default): set watch.cluster: true in the one stack that ships it, or leave logCollector.journal out (got true)",
    ]);
    expect(problems("production", { logCollector: { enabled: false, journal: true } }, WATCHED)).toEqual([
      "monitoring:logCollector.journal: is true, but this stack runs no collector (logCollector.enabled is false): only a running collector reads the journal",
    ]);
    expect(problems("production", { logCollector: { journal: "yes" } }, WATCHED)).toEqual([
      'monitoring:logCollector.journal: must be true or false (got "yes")',
    ]);
  });
});
