/**
 * Prometheus' rendered files under the deployed release's promtool, laid out as the container
 * sees them: `promtool check config` on prometheus.yml as rendered, Kubernetes discovery
 * included, with every rule file and credential where the container finds it, and `promtool
 * check rules` on every rendered rule file (the config builder and component are checked
 * without a binary in test/components/prometheus.test.ts).
 *
 * The relabelling is executed too, not just parsed: there is no API server in this tier,
 * so a copy of the config whose Kubernetes discovery blocks list what discovery would
 * report (the meta labels of the rendered Services, of sample pods and nodes, as file
 * discovery) goes through `promtool check service-discovery` job by job.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import * as YAML from "yaml";
import { StackConfig, parseStackConfig } from "../../config";
import { APP_RULES_KEY, PROMETHEUS_PATHS } from "../../components/prometheus/args";
import type { Rendered } from "../../cli/render";
import { readStackConfig } from "../../cli/stackfile";
import { promtool, stackBinary } from "../../lab/local/binaries";
import {
  KubernetesSd,
  Role,
  ServiceLike,
  TargetGroup,
  containerConfig,
  discoverableConfig,
  endpointsOf,
  layOutContainer,
  podTargets,
} from "../../lab/local/prometheus";
import { objectsOf, render, renderConfig } from "../support/render";

/** Temporary directories of this file, removed when it ends. */
const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(prefix = "prometheus-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A stack's validated config from its real stack file. */
function stackConfig(stack: string): StackConfig {
  const input = readStackConfig(stack, []);
  return parseStackConfig({ project: input.project, stack, values: input.config, secretKeys: input.secretKeys }).config;
}

function configOf(rendered: Rendered): Record<string, unknown> {
  const text = rendered.files.get("prometheus/prometheus.yml");
  if (text === undefined) throw new Error("no prometheus/prometheus.yml in the render");
  return YAML.parse(text) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// promtool on the container's view of the files

/** The cluster the checks discover: the stack's own Services, the apps' Services (and decoys), sample pods and nodes. */
function clusterFixtures(rendered: Rendered, appsNamespace: string): Record<Role, TargetGroup[]> {
  const appService = (
    namespace: string,
    name: string,
    ports: Array<{ name?: string; port: number; targetPort?: number }>,
  ): ServiceLike => ({
    metadata: { name, namespace, labels: { app: name } },
    spec: { ports },
  });
  const services: ServiceLike[] = [
    ...objectsOf(rendered, "Service").map((s) => s as ServiceLike),
    // Both apps' Services map their ports to other pod ports, as most do (80 -> 8080).
    appService(appsNamespace, "api", [
      { name: "http", port: 80, targetPort: 8080 },
      { name: "admin", port: 9000 },
    ]),
    appService(appsNamespace, "web", [
      { name: "http", port: 80, targetPort: 3000 },
      { name: "debug", port: 3001 },
    ]),
    appService(appsNamespace, "api-admin", [{ name: "http", port: 8080 }]),
    appService("other-team", "api", [{ name: "http", port: 8080 }]),
  ];
  return {
    endpoints: services.flatMap((s, i) => endpointsOf(s, `10.42.${Math.floor(i / 200)}.${(i % 200) + 10}`)),
    pod: [
      ...podTargets({
        namespace: appsNamespace,
        name: "worker-5f7",
        ip: "10.42.1.5",
        ports: [8081],
        labels: { "app.kubernetes.io/name": "worker", app: "legacy-name" },
        annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "8081", "prometheus.io/path": "/internal/metrics" },
      }),
      // A database pod with the exporter sidecar patched in: two containers, two ports, one scrape.
      ...podTargets({
        namespace: appsNamespace,
        name: "postgres-0",
        ip: "10.42.1.6",
        ports: [5432, 9187],
        labels: { app: "postgres", "monitoring-stack/exporter": "postgres", "monitoring-stack/database": "shop-postgres" },
        annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9187", "prometheus.io/path": "/metrics" },
      }),
      ...podTargets({
        namespace: appsNamespace,
        name: "ipv6-app",
        ip: "fd00:10:42::7",
        ports: [9000],
        annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9000", "prometheus.io/scheme": "https" },
      }),
      ...podTargets({ namespace: appsNamespace, name: "not-annotated", ip: "10.42.1.8", ports: [8080], labels: { app: "quiet" } }),
      // k3s's Traefik: its chart's labels and container ports (web, websecure, traefik, metrics), annotated for scraping as k3s does.
      ...podTargets({
        namespace: "kube-system",
        name: "traefik-6f5b8c9d4-x2x7q",
        ip: "10.42.0.9",
        ports: [8000, 8443, 8080, 9100],
        labels: { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-kube-system" },
        annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9100" },
      }),
      ...podTargets({
        namespace: appsNamespace,
        name: "finished-job",
        ip: "10.42.1.9",
        phase: "Succeeded",
        ports: [8080],
        annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "8080" },
      }),
    ],
    node: ["node-a", "node-b"].map((name, i) => ({
      targets: [`10.0.0.${i + 1}:10250`],
      labels: { __meta_kubernetes_node_name: name, __meta_kubernetes_node_label_kubernetes_io_hostname: name },
    })),
  };
}

/** The label sets of the targets a job keeps after relabelling (duplicates merged, as Prometheus does). */
async function discover(config: string, job: string): Promise<Array<Record<string, string>>> {
  // promtool collects for the whole timeout. A loaded machine may deliver nothing within one
  // second; a job that finds nothing gets a second, longer look before its answer is taken.
  const run = async (timeout: string) => {
    const { stdout } = await promisify(execFile)(
      stackBinary("promtool"),
      ["check", "service-discovery", `--timeout=${timeout}`, config, job],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    return (JSON.parse(stdout) as Array<{ labels: Record<string, string> }>).filter((r) => Object.keys(r.labels).length > 0);
  };
  let results = await run("1s");
  if (results.length === 0) results = await run("10s");
  const kept = results.map((r) => r.labels);
  const unique = new Map(kept.map((l) => [JSON.stringify(Object.entries(l).sort()), l]));
  return [...unique.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/**
 * A target's labels without the scrape settings Prometheus attaches to every target of a
 * job (interval, timeout, histogram handling: `__scrape_interval__`,
 * `__scrape_native_histograms__` and the like), which every job of a stack shares.
 * What is kept is what the relabelling decides: address, path, scheme, params and labels.
 */
function withoutScrapeParams(labels: Record<string, string>): Record<string, string> {
  const decided = (k: string) =>
    !/^__.*__$/.test(k) || ["__address__", "__metrics_path__", "__scheme__"].includes(k) || k.startsWith("__param_");
  return Object.fromEntries(Object.entries(labels).filter(([k]) => decided(k)));
}

// ---------------------------------------------------------------------------
// Both real stacks

describe.each(["staging", "production"] as const)("the %s stack's Prometheus", (stack) => {
  let rendered: Rendered;
  let root: string;
  let discoverable: { file: string; sds: KubernetesSd[] };
  const appsNamespace = stack === "staging" ? "shop-staging" : "shop";

  beforeAll(async () => {
    rendered = await render(stack);
    root = tempDir(`prometheus-${stack}-`);
    layOutContainer(rendered, root);
    discoverable = discoverableConfig(
      rendered.files.get("prometheus/prometheus.yml") ?? "",
      root,
      clusterFixtures(rendered, appsNamespace),
    );
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test("promtool check config accepts prometheus.yml as rendered, Kubernetes discovery included, with every rule file and credential where the container finds it", () => {
    const config = rendered.files.get("prometheus/prometheus.yml") ?? "";
    expect(config).toContain("kubernetes_sd_configs");
    const result = promtool(["check", "config", containerConfig(config, root)]);
    expect(result.output).toContain("SUCCESS");
    expect(result.output).not.toContain("FAILED");
    expect(result.ok).toBe(true);
  });

  test("the discovery fixtures stand for every Kubernetes discovery block of the config", () => {
    expect(discoverable.sds.length).toBeGreaterThan(5);
    for (const sd of discoverable.sds) expect(["endpoints", "pod", "node"]).toContain(sd.role);
  });

  test("promtool check rules accepts every rendered rule file", () => {
    const files = fs.readdirSync(path.join(root, PROMETHEUS_PATHS.rulesDir)).map((f) => path.join(root, PROMETHEUS_PATHS.rulesDir, f));
    expect(files.map((f) => path.basename(f))).toContain(APP_RULES_KEY);
    const result = promtool(["check", "rules", ...files]);
    expect(result.output).not.toContain("FAILED");
    expect(result.ok).toBe(true);
  });

  test("Prometheus scrapes itself on each replica's pod, with namespace, pod and service labels", async () => {
    expect((await discover(discoverable.file, "prometheus")).map(withoutScrapeParams)).toEqual([
      {
        __address__: expect.stringMatching(/:9090$/),
        __metrics_path__: "/metrics",
        __scheme__: "http",
        instance: "prometheus-0",
        job: "prometheus",
        namespace: `monitoring-${stack}`,
        pod: "prometheus-0",
        service: "prometheus",
      },
    ]);
  });

  test("every component's scrape target finds its Service and port among the rendered objects", async () => {
    const own = ["kubernetes-pods", "kubelet", "cadvisor", ...stackConfig(stack).apps.map((a) => a.name)];
    const config = configOf(rendered) as { scrape_configs: Array<{ job_name: string }> };
    const componentJobs = config.scrape_configs.map((j) => j.job_name).filter((j) => !own.includes(j));
    expect(componentJobs).toEqual(expect.arrayContaining(["prometheus", "alertmanager", "grafana", "kube-state-metrics"]));
    // node-exporter is the cluster's: the stack that watches the cluster (production by default) runs it.
    expect(componentJobs.includes("node-exporter")).toBe(stack === "production");
    const found = await Promise.all(componentJobs.map(async (job) => ({ job, targets: (await discover(discoverable.file, job)).length })));
    expect(found.filter((f) => f.targets === 0)).toEqual([]);
  });

  test("every app of the stack has its job, its Service's endpoints on its port only (by the Service port's name, or the pods' port as targetPort), and the app label", async () => {
    const apps = stackConfig(stack).apps;
    expect(apps.map((a) => a.name)).toEqual(["api", "web"]);
    const api = (await discover(discoverable.file, "api")).map(withoutScrapeParams);
    expect(api).toEqual([
      {
        __address__: expect.stringMatching(/:8080$/),
        __metrics_path__: "/metrics",
        __scheme__: "http",
        app: "api",
        instance: "api-0",
        job: "api",
        namespace: appsNamespace,
        pod: "api-0",
        service: "api",
      },
    ]);
    const web = (await discover(discoverable.file, "web")).map(withoutScrapeParams);
    // web gives targetPort 3000, the pods' port behind Service port 80: that endpoint, not the debug port.
    expect(web).toEqual([
      expect.objectContaining({
        __address__: expect.stringMatching(/:3000$/),
        __metrics_path__: "/api/metrics",
        app: "web",
        job: "web",
        service: "web",
      }),
    ]);
  });

  test("annotated pods are scraped on their annotated port and path; database sidecars get their exporter job and database label", async () => {
    expect((await discover(discoverable.file, "kubernetes-pods")).map(withoutScrapeParams)).toEqual([
      {
        __address__: "[fd00:10:42::7]:9000",
        __metrics_path__: "/metrics",
        __scheme__: "https",
        instance: "[fd00:10:42::7]:9000",
        job: "kubernetes-pods",
        namespace: appsNamespace,
        pod: "ipv6-app",
      },
      {
        __address__: "10.42.1.5:8081",
        __metrics_path__: "/internal/metrics",
        __scheme__: "http",
        app: "worker",
        instance: "10.42.1.5:8081",
        job: "kubernetes-pods",
        namespace: appsNamespace,
        pod: "worker-5f7",
      },
      {
        __address__: "10.42.1.6:9187",
        __metrics_path__: "/metrics",
        __scheme__: "http",
        app: "postgres",
        database: "shop-postgres",
        instance: "10.42.1.6:9187",
        job: "postgres-exporter",
        namespace: appsNamespace,
        pod: "postgres-0",
      },
    ]);
  });

  test("the cluster's Traefik is scraped as job traefik on its metrics port only (by the stack that watches the cluster), and left out of the annotated pods' job", async () => {
    if (stack === "staging") {
      // Staging does not watch the cluster (watch.cluster): no job traefik, and kube-system is none of its namespaces.
      expect((configOf(rendered) as { scrape_configs: Array<{ job_name: string }> }).scrape_configs.map((j) => j.job_name)).not.toContain(
        "traefik",
      );
      expect((await discover(discoverable.file, "kubernetes-pods")).filter((t) => t.namespace === "kube-system")).toEqual([]);
      return;
    }
    expect((await discover(discoverable.file, "traefik")).map(withoutScrapeParams)).toEqual([
      {
        __address__: "10.42.0.9:9100",
        __metrics_path__: "/metrics",
        __scheme__: "http",
        instance: "traefik-6f5b8c9d4-x2x7q",
        job: "traefik",
        namespace: "kube-system",
        pod: "traefik-6f5b8c9d4-x2x7q",
      },
    ]);
    expect((await discover(discoverable.file, "kubernetes-pods")).filter((t) => t.namespace === "kube-system")).toEqual([]);
  });

  test("kubelet and cAdvisor are scraped over HTTPS on every node, labelled by node name", async () => {
    for (const [job, metricsPath] of [
      ["kubelet", "/metrics"],
      ["cadvisor", "/metrics/cadvisor"],
    ]) {
      expect((await discover(discoverable.file, job)).map(withoutScrapeParams)).toEqual(
        ["node-a", "node-b"].map((node, i) => ({
          __address__: `10.0.0.${i + 1}:10250`,
          __metrics_path__: metricsPath,
          __scheme__: "https",
          instance: node,
          job,
          node,
        })),
      );
    }
  });

  test("alerts go to every peer of the alertmanager Service on its http port, and nowhere else", async () => {
    const peers = await discover(discoverable.file, "check-alertmanagers-0");
    expect(peers.length).toBeGreaterThan(0);
    expect(peers.every((p) => p.__address__.endsWith(":9093"))).toBe(true);
  });
});

test("promtool finds the remote write credential files where the rendered config says they are", async () => {
  const rendered = await renderConfig(
    "staging",
    {
      prometheus: {
        remoteWrite: [
          { name: "mimir", url: "https://mimir.example.com/api/v1/push", username: "tenant-1" },
          { name: "victoria", url: "https://vm.example.com/api/v1/write", bearerToken: true },
        ],
      },
    },
    { remoteWritePasswords: { mimir: "basic-password-123", victoria: "bearer-token-456" } },
  );
  const root = tempDir();
  layOutContainer(rendered, root);
  const result = promtool(["check", "config", containerConfig(rendered.files.get("prometheus/prometheus.yml") ?? "", root)]);
  expect(result.output).toContain("SUCCESS");
});
