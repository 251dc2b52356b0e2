/**
 * `apps[].port` as a number: the Service's own port, resolved when the program runs from the
 * Service read in the cluster (preflight/service-ports.ts). Under Pulumi's mocks the cluster
 * is a list of Services the mocks answer reads from; the rendered scrape config then keeps the
 * endpoint of that Service port (test/e2e/service-ports.test.ts shows, under the deployed
 * promtool's discovery check, that it finds that endpoint and no other).
 */
import * as YAML from "yaml";
import { parseStackConfig } from "../../config";
import { ServicePortError, ServicePortSpec, resolveAppServicePorts, resolveServicePort } from "../../preflight/service-ports";
import { renderRun } from "../../cli/render";
import { runProgram } from "../../cli/runner";
import { servicesOf } from "../../cli/render-stack";
import { readStackConfig } from "../../cli/stackfile";
import { SERVICES, TEAM, app, run } from "../support/service-ports";

/** The job of an app in a rendered prometheus.yml. */
function jobOf(text: string, name: string): { relabel_configs: Array<Record<string, unknown>> } {
  const config = YAML.parse(text) as { scrape_configs: Array<{ job_name: string; relabel_configs: Array<Record<string, unknown>> }> };
  const job = config.scrape_configs.find((j) => j.job_name === name);
  if (!job) throw new Error(`no job ${name}`);
  return job;
}

describe("resolving a Service port number", () => {
  const ports: ServicePortSpec[] = [
    { name: "http", port: 80, targetPort: 3333, protocol: "TCP" },
    { name: "dns", port: 53, targetPort: 5353, protocol: "UDP" },
  ];

  test("a named port is matched by its name; an unnamed one by its targetPort, a number or a container port's name", () => {
    expect(resolveServicePort("shop/api", ports, 80)).toEqual({ port: "http" });
    expect(resolveServicePort("shop/checkout", [{ port: 80, targetPort: 3333 }], 80)).toEqual({ targetPort: 3333 });
    expect(resolveServicePort("shop/billing", [{ port: 8080, targetPort: "metrics" }], 8080)).toEqual({ targetPortName: "metrics" });
    // No targetPort: Kubernetes sends to the same number.
    expect(resolveServicePort("shop/plain", [{ port: 9100 }], 9100)).toEqual({ targetPort: 9100 });
  });

  test("a port the Service lacks, a port that is not TCP and a Service that does not exist are refused, saying what there is", () => {
    expect(() => resolveServicePort("shop/api", ports, 81)).toThrow(
      "is 81, but Service shop/api has no such port (its ports: http 80 -> 3333, dns 53 -> 5353/UDP)",
    );
    expect(() => resolveServicePort("shop/api", ports, 53)).toThrow(/is 53, a port of Service shop\/api that is not TCP/);
    expect(() => resolveServicePort("shop/ghost", undefined, 80)).toThrow("is 80, a port of Service shop/ghost, which does not exist");
  });

  test("each Service is read once; every app that cannot be resolved is listed with its key, in config order", async () => {
    const cfg = parseStackConfig({
      project: "monitoring",
      stack: "staging",
      values: {
        "monitoring:apps": JSON.stringify([
          app("a", "api", 80),
          app("b", "api", 80),
          app("c", "ghost", 80),
          app("d", "api", 81),
          app("e", "api", "http"),
        ]),
      },
      secretKeys: [],
    }).config;
    // The config takes the number as the Service's port, to be resolved.
    expect(cfg.apps[0].service).toEqual({ namespace: TEAM, name: "api", servicePort: 80 });
    const reads: string[] = [];
    const read = async (namespace: string, name: string, readName: string) => {
      reads.push(readName);
      return `${namespace}/${name}` === "shop/api" ? ports : undefined;
    };
    const error = await resolveAppServicePorts(cfg.apps, (i) => `monitoring:apps[${i}].port`, read).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServicePortError);
    expect((error as ServicePortError).problems).toEqual([
      { key: "monitoring:apps[2].port", message: "is 80, a port of Service shop/ghost, which does not exist" },
      { key: "monitoring:apps[3].port", message: expect.stringMatching(/^is 81, but Service shop\/api has no such port/) },
    ]);
    expect(reads).toEqual(["monitoring:apps[0].port Service shop/api", "monitoring:apps[2].port Service shop/ghost"]);
    // Without numbers nothing is read.
    reads.length = 0;
    const named = [cfg.apps[4]];
    expect(await resolveAppServicePorts(named, (i) => `monitoring:apps[${i}].port`, read)).toEqual(named);
    expect(reads).toEqual([]);
  });
});

describe("the program under mocks, against a stand-in cluster", () => {
  let rendered: ReturnType<typeof renderRun>;
  let reads: string[];

  beforeAll(async () => {
    const result = await run([app("api", "api", 80), app("checkout", "checkout", 80), app("billing", "billing", 8080)]);
    reads = result.reads.map((r) => `${r.type} ${r.name}`);
    rendered = renderRun(result, true);
  });

  test("each Service is read from the cluster, under a name that says which key asks for it", () => {
    expect(reads.filter((r) => r.startsWith("kubernetes:"))).toEqual([
      "kubernetes:core/v1:Service monitoring:apps[0].port Service shop/api",
      "kubernetes:core/v1:Service monitoring:apps[1].port Service shop/checkout",
      "kubernetes:core/v1:Service monitoring:apps[2].port Service shop/billing",
    ]);
  });

  test("the scrape jobs keep the endpoint of the Service port: by its name, the pods' port, or the pods' container port name", () => {
    const text = rendered.files.get("prometheus/prometheus.yml") ?? "";
    const keep = (name: string) => jobOf(text, name).relabel_configs[1];
    expect(keep("api")).toEqual({ source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: "http", action: "keep" });
    expect(keep("checkout")).toEqual({ source_labels: ["__address__"], regex: ".+:3333", action: "keep" });
    expect(keep("billing")).toEqual({ source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: "metrics", action: "keep" });
  });

  test("a port the Service lacks and a Service that does not exist stop the program before anything is created, naming the keys", async () => {
    const journal: string[] = [];
    const input = readStackConfig("staging", [
      `apps=${JSON.stringify([app("api", "api", 8080), app("ghost", "ghost", 80)])}`,
      "databases=[]",
    ]);
    const failure = await runProgram({
      project: input.project,
      stack: input.stack,
      config: input.config,
      secretKeys: input.secretKeys,
      services: SERVICES,
      journal: journal as never,
    }).catch((e: unknown) => e as Error);
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toContain(
      "monitoring:apps[0].port: is 8080, but Service shop/api has no such port (its ports: http 80 -> 3333, admin 9000)",
    );
    expect(message).toContain("monitoring:apps[1].port: is 80, a port of Service shop/ghost, which does not exist");
    // Only reads happened: the StackReference to the previous deployment and the two Services.
    const registered = (journal as unknown as Array<{ type: string }>).map((r) => r.type);
    expect(registered.filter((t) => !["pulumi:pulumi:StackReference", "kubernetes:core/v1:Service"].includes(t))).toEqual([]);
  });

  test("targetPort keeps working, and reads nothing", async () => {
    const result = await run([{ name: "web", namespace: TEAM, service: "checkout", targetPort: 3333 }], []);
    expect(result.reads.filter((r) => r.type === "kubernetes:core/v1:Service")).toEqual([]);
    const text = renderRun(result, true).files.get("prometheus/prometheus.yml") ?? "";
    expect(jobOf(text, "web").relabel_configs[1]).toEqual({ source_labels: ["__address__"], regex: ".+:3333", action: "keep" });
  });
});

test("the offline render takes Services as kubectl prints them: one, a List, or several documents", () => {
  const one = "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec: {ports: [{port: 80, targetPort: 3333}]}\n";
  const list = `apiVersion: v1\nkind: List\nitems:\n  - ${JSON.stringify({ kind: "Service", metadata: { name: "web", namespace: "shop" } })}\n`;
  expect(servicesOf(one).map((s) => s.metadata.name)).toEqual(["api"]);
  expect(servicesOf(`${one}---\n${list}---\nkind: ConfigMap\nmetadata: {name: x}\n`).map((s) => s.metadata.name)).toEqual(["api", "web"]);
});
