/**
 * Prometheus' write port (components/prometheus/admin-proxy.ts, PROMETHEUS_WRITE_PORT): while the stack's collector
 * scrapes the operator's monitors, it sends a GET wherever a tenant's monitor points it, with the monitor's `params`.
 * Such a collector writes to Prometheus (remote writes, apps' OTLP metrics) on a port where a proxy lets those writes
 * through and nothing else, and is admitted to Prometheus there alone: never to 9090, where a GET runs a query or
 * /debug/pprof. Without monitors nothing changes. The exact Prometheus and Traefik run it in
 * test/e2e/prometheus-write-port.test.ts; docs/reachability.yml holds the policies on cyclonus' engine.
 */
import * as YAML from "yaml";
import type { Rendered } from "../../cli/render";
import { images } from "../../components/images";
import { BACKUPS_ON } from "../support/backups";
import { objectOf, objectsOf, render } from "../support/render";

const MONITORS = ["monitors.enabled=true", "tracing.enabled=true"];

type Container = { name: string; args: string[]; image: string; ports?: Array<{ name: string; containerPort: number }> };
type Rule = { ports: Array<{ port: number }>; from?: unknown[]; to?: unknown[] };

const pod = (r: Rendered) =>
  (objectOf(r, "StatefulSet", "prometheus").spec as { template: { spec: { containers: Container[] } } }).template.spec;
const ports = (r: Rendered) => pod(r).containers.map((c) => [c.name, (c.ports ?? []).map((p) => `${p.name}:${p.containerPort}`)]);
const ingress = (r: Rendered) => (objectOf(r, "NetworkPolicy", "prometheus").spec as { ingress: Rule[] }).ingress;
const collectorEgress = (r: Rendered) =>
  (objectsOf(r, "NetworkPolicy", "alloy-egress")[0].spec as { egress: Rule[] }).egress.filter((rule) =>
    JSON.stringify(rule.to ?? []).includes('"app.kubernetes.io/name":"prometheus"'),
  );
const collector = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-staging-agents" } },
  podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy", "app.kubernetes.io/instance": "staging" } },
};
const admittedOn = (r: Rendered, port: number) =>
  ingress(r)
    .filter((rule) => rule.ports.some((p) => p.port === port))
    .flatMap((rule) => rule.from ?? []);

let monitors: Rendered;
let both: Rendered;
let without: Rendered;
beforeAll(async () => {
  monitors = await render("staging", MONITORS);
  both = await render("staging", [...MONITORS, ...BACKUPS_ON]);
  without = await render("staging", ["tracing.enabled=true"]);
});

describe("with monitors: the collector writes on the write port, and only there", () => {
  test("Prometheus on the loopback, the proxy (Traefik's image) on 9090 and on the write port, 9096", () => {
    expect(ports(monitors)).toEqual([
      ["prometheus", []],
      ["proxy", ["http:9090", "write:9096"]],
    ]);
    expect(pod(monitors).containers[1].image).toBe(images.traefik);
    expect(pod(monitors).containers[0].args).toContain("--web.listen-address=127.0.0.1:9091");
    expect(pod(monitors).containers[0].args).not.toContain("--web.enable-admin-api");
    expect((objectOf(monitors, "Service", "prometheus").spec as { ports: unknown[] }).ports).toEqual([
      { name: "http", port: 9090, targetPort: "http", protocol: "TCP" },
      { name: "write", port: 9096, targetPort: "write", protocol: "TCP" },
    ]);
  });

  test("the write port lets a POST of a remote write or of OTLP metrics through to Prometheus on the loopback, nothing else", () => {
    const routes = YAML.parse((objectOf(monitors, "ConfigMap", "prometheus-proxy").data as Record<string, string>)["routes.yml"]);
    expect(routes.http.routers).toEqual({
      prometheus: { entryPoints: ["http"], rule: "!PathPrefix(`/api/v1/admin`)", service: "prometheus" },
      writes: {
        entryPoints: ["write"],
        rule: "Method(`POST`) && (Path(`/api/v1/write`) || Path(`/api/v1/otlp/v1/metrics`))",
        service: "prometheus",
      },
    });
    expect(routes.http.services.prometheus.loadBalancer.servers).toEqual([{ url: "http://127.0.0.1:9091" }]);
  });

  test("the collector is admitted on the write port alone; Grafana and the replicas on 9090, not there", () => {
    expect(admittedOn(monitors, 9096)).toEqual([collector]);
    expect(admittedOn(monitors, 9090)).not.toContainEqual(collector);
    expect(admittedOn(monitors, 9090)).toContainEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "staging" } },
    });
    expect(admittedOn(monitors, 9096)).not.toContainEqual(
      expect.objectContaining({ podSelector: expect.anything(), namespaceSelector: undefined }),
    );
  });

  test("the collector reaches Prometheus on the write port alone, and writes there: the monitors' samples and apps' OTLP metrics", () => {
    expect(collectorEgress(monitors).map((rule) => rule.ports.map((p) => p.port))).toEqual([[9096]]);
    const alloy = monitors.files.get("log-collector/config.alloy") ?? "";
    const prometheusUrls = [...alloy.matchAll(/"(http:\/\/prometheus\.[^"]+)"/g)].map((m) => m[1]).sort();
    expect(prometheusUrls).toEqual([
      "http://prometheus.monitoring-staging.svc:9096/api/v1/otlp",
      "http://prometheus.monitoring-staging.svc:9096/api/v1/write",
    ]);
  });

  test("with backups as well: one proxy, its three ports", () => {
    expect(ports(both)).toEqual([
      ["prometheus", []],
      ["proxy", ["http:9090", "admin:9092", "write:9096"]],
    ]);
    expect(
      Object.keys(YAML.parse((objectOf(both, "ConfigMap", "prometheus-proxy").data as Record<string, string>)["routes.yml"]).http.routers),
    ).toEqual(["prometheus", "snapshot", "writes"]);
    expect(admittedOn(both, 9096)).toEqual([collector]);
  });
});

describe("without monitors nothing changes", () => {
  test("no proxy, Prometheus on 9090, the collector's OTLP metrics on 9090", () => {
    expect(ports(without)).toEqual([["prometheus", ["http:9090"]]]);
    expect(objectsOf(without, "ConfigMap", "prometheus-proxy")).toEqual([]);
    expect((objectOf(without, "Service", "prometheus").spec as { ports: unknown[] }).ports).toHaveLength(1);
    expect(admittedOn(without, 9090)).toContainEqual(collector);
    expect(collectorEgress(without).map((rule) => rule.ports.map((p) => p.port))).toEqual([[9090]]);
    expect(without.files.get("log-collector/config.alloy")).toContain('"http://prometheus.monitoring-staging.svc:9090/api/v1/otlp"');
  });
});
