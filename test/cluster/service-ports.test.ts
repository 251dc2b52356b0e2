/**
 * `apps[].port` given as the Service's port number, on the real engine and API server: the
 * program reads the team's Services from the cluster at `pulumi preview` and `up`, and the
 * Prometheus config it deploys keeps the endpoint of that Service port. A Service 80 -> 3333
 * configured with `port: 80` scrapes :3333 (before, it matched nothing and AppDown fired). A port
 * the Service lacks, and a Service that does not exist, stop the preview naming the key.
 */
import * as YAML from "yaml";
import { apply, get, kubectl, waitFor } from "./support/kube";
import { deleteNamespace } from "./support/apps";
import { StackHandle, openStack } from "./support/stack";

const TEAM = "ports-team";
const ENVIRONMENT = "ports";
const NAMESPACE = `monitoring-${ENVIRONMENT}`;

/** The team's Services; nothing needs to run behind them for the config to be rendered. */
function service(name: string, ports: Array<{ name?: string; port: number; targetPort: number | string }>) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: TEAM, labels: { "app.kubernetes.io/name": name } },
    spec: { selector: { "app.kubernetes.io/name": name }, ports: ports.map((p) => ({ protocol: "TCP", ...p })) },
  };
}

const app = (name: string, svc: string, port: number) => ({ name, namespace: TEAM, service: svc, port });

let handle: StackHandle;

/** Sets the apps of the stack file (the rest: a light staging stack of its own, beside any other). */
function withApps(apps: unknown[]): void {
  handle.editStackFile((config) => {
    config["monitoring:environment"] = ENVIRONMENT;
    config["monitoring:nodeExporter"] = { port: 9111 };
    config["monitoring:loki"] = { enabled: false };
    config["monitoring:logCollector"] = { enabled: false };
    config["monitoring:databases"] = [];
    config["monitoring:apps"] = apps;
  });
}

beforeAll(async () => {
  await waitFor(`namespace ${TEAM} free`, async () =>
    (await get("namespace", TEAM))?.metadata.deletionTimestamp ? "terminating" : undefined,
  );
  await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: TEAM } });
  // The Service (80 -> 3333, unnamed), a named port, and an unnamed one mapped to a container port's name.
  await apply(service("checkout", [{ port: 80, targetPort: 3333 }]));
  await apply(
    service("api", [
      { name: "http", port: 80, targetPort: "http" },
      { name: "admin", port: 9000, targetPort: 9000 },
    ]),
  );
  await apply(service("billing", [{ port: 8080, targetPort: "metrics" }]));
  handle = await openStack("staging", {
    // Given, as the other stacks of the tier give them: the random provider cannot be built here (lab/tools/tools.ts).
    secrets: { grafanaAdminPassword: "ports-grafana-admin-password", "basicAuthPasswords.admin": "ports-basic-auth-password" },
  });
});

afterAll(async () => {
  if (handle) {
    await handle.stack.destroy().catch(() => undefined);
    handle.dispose();
  }
  for (const ns of [NAMESPACE, `${NAMESPACE}-agents`, TEAM]) await deleteNamespace(ns);
});

describe("apps[].port as the Service's port number", () => {
  test("a port the Service lacks stops the preview, naming the key and the Service's ports", async () => {
    withApps([app("checkout", "checkout", 81)]);
    const message = await handle.failing("preview");
    expect(message).toContain("monitoring:apps[0].port: is 81, but Service ports-team/checkout has no such port (its ports: 80 -> 3333)");
  });

  test("a Service that does not exist stops the preview at its read, which is named after the key", async () => {
    withApps([app("checkout", "checkout", 80), app("ghost", "ghost", 80)]);
    const message = await handle.failing("preview");
    expect(message).toContain("monitoring:apps[1].port Service ports-team/ghost");
  });

  test("pulumi up deploys a config that keeps the endpoint of each Service port", async () => {
    withApps([app("checkout", "checkout", 80), app("api", "api", 80), app("billing", "billing", 8080)]);
    const preview = await handle.stack.preview();
    expect(preview.changeSummary.create).toBeGreaterThan(10);
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");

    const configMap = JSON.parse(await kubectl(["get", "configmap", "prometheus-config", "-n", NAMESPACE, "-o", "json"])) as {
      data: Record<string, string>;
    };
    const config = YAML.parse(configMap.data["prometheus.yml"]) as {
      scrape_configs: Array<{ job_name: string; relabel_configs: Array<Record<string, unknown>> }>;
    };
    const keep = (job: string) => config.scrape_configs.find((j) => j.job_name === job)?.relabel_configs[1];
    expect(keep("checkout")).toEqual({ source_labels: ["__address__"], regex: ".+:3333", action: "keep" });
    expect(keep("api")).toEqual({ source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: "http", action: "keep" });
    expect(keep("billing")).toEqual({ source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: "metrics", action: "keep" });
  });

  test("a Service whose port moves is followed at the next up", async () => {
    await apply(service("checkout", [{ port: 80, targetPort: 4444 }]));
    const result = await handle.stack.up();
    expect(result.summary.result).toBe("succeeded");
    const configMap = JSON.parse(await kubectl(["get", "configmap", "prometheus-config", "-n", NAMESPACE, "-o", "json"])) as {
      data: Record<string, string>;
    };
    expect(configMap.data["prometheus.yml"]).toContain(".+:4444");
  });
});
