/**
 * Prometheus: the pure config builder, the component alone under mocks, and both real
 * stacks' objects. The deployed release's promtool checks the rendered files and runs the
 * relabelling in test/e2e/prometheus.test.ts.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { APP_SERIES } from "../../components/prometheus/rules/app-rules";
import { imageVersion } from "../../components/images";
import { ConfigError, StackConfig, parseStackConfig } from "../../config";
import { RUNBOOK_PATH } from "../../components/prometheus/rules/rule-files";
import { APP_RULES_KEY, DATABASE_RULES_KEY, CONFIGMAP_MAX_BYTES, PrometheusArgs } from "../../components/prometheus/args";
import { Prometheus } from "../../components/prometheus";
import { argsProblems } from "../../components/prometheus/problems";
import { PrometheusConfigArgs, prometheusConfig } from "../../components/prometheus/scrape-config";
import { DEFAULT_SCRAPE_LIMITS } from "../../components/prometheus/section";
import { linkRunbooks, loadRuleFiles } from "../../components/prometheus/rules/rule-files";
import { defaultThresholds } from "../../components/prometheus/rules/thresholds";
import { prometheusArgs } from "../../components/stack/args";
import { K8sObject, Rendered, renderRun } from "../../cli/render";
import { runProgram } from "../../cli/runner";
import { readStackConfig } from "../../cli/stackfile";
import { objectOf, objectsOf, render, ALONE } from "../support/render";
import { StatefulSetSpec, layOutContainer } from "../../lab/local/prometheus";
import { schemaProblems } from "../support/schema";
import { api, problems as configProblems } from "../config/support";

const REPO_RULES_DIR = path.join(__dirname, "..", "..", "rules");

/** Temporary directories of this file, removed when it ends. */
const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(prefix = "prometheus-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

// ---------------------------------------------------------------------------
// Config and component helpers

/** A stack's validated config from its real stack file (with overrides). */
function stackConfig(stack: string, sets: string[] = []): StackConfig {
  const input = readStackConfig(stack, sets);
  return parseStackConfig({ project: input.project, stack, values: input.config, secretKeys: input.secretKeys }).config;
}

/** A config from inline values, secrets marked as Pulumi secrets. */
function inlineConfig(stack: string, plain: Record<string, unknown>, secrets: Record<string, unknown> = {}): StackConfig {
  const wire = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...plain, ...secrets })) values[`monitoring:${k}`] = wire(v);
  try {
    return parseStackConfig({ project: "monitoring", stack, values, secretKeys: Object.keys(secrets).map((k) => `monitoring:${k}`) })
      .config;
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(err.message);
    throw err;
  }
}

/** A rules directory with the given files. */
function rulesDir(files: Record<string, string>): string {
  const dir = tempDir("rules-");
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const SAMPLE_RULES = `groups:
  - name: sample
    rules:
      - alert: SampleDown
        expr: up == 0
        for: 1m
        labels:
          severity: critical
        annotations:
          summary: A target is down.
          runbook: ${RUNBOOK_PATH}#sampledown
`;

/** The staging stack's Prometheus args, with a rules directory independent of rules/. */
function stagingArgs(overrides: Partial<PrometheusArgs> = {}): PrometheusArgs {
  // In the namespace `monitoring`, which the component tests below expect (the stack's default is monitoring-<environment>),
  // alone on its cluster: it watches the cluster's nodes too (watch.cluster), and ships their rule files.
  return {
    ...prometheusArgs(stackConfig("staging", ["namespace=monitoring", "watch.cluster=true"])),
    rulesDir: rulesDir({ "sample.yml": SAMPLE_RULES }),
    ...overrides,
  };
}

/** Runs a program that builds only the Prometheus component. */
async function renderPrometheus(
  args: PrometheusArgs,
  opts: pulumi.ComponentResourceOptions = {},
): Promise<{ rendered: Rendered; redacted: Rendered; outputs: Record<string, unknown> }> {
  const run = await runProgram({
    ...ALONE,
    program: async () => {
      const prometheus = new Prometheus("prometheus", args, opts);
      return { url: prometheus.url, scrapeTargets: prometheus.scrapeTargets };
    },
  });
  return { rendered: renderRun(run, true), redacted: renderRun(run, false), outputs: run.outputs };
}

function statefulSetOf(rendered: Rendered): StatefulSetSpec {
  return objectOf(rendered, "StatefulSet", "prometheus").spec as StatefulSetSpec;
}

function configOf(rendered: Rendered): Record<string, unknown> {
  const text = rendered.files.get("prometheus/prometheus.yml");
  if (text === undefined) throw new Error("no prometheus/prometheus.yml in the render");
  return YAML.parse(text) as Record<string, unknown>;
}

/** The objects of the Prometheus component in a render. */
function prometheusObjects(rendered: Rendered): K8sObject[] {
  return rendered.kubernetes.filter((o) => o.component === "prometheus").map((o) => o.object);
}

// ---------------------------------------------------------------------------
// The pure config

describe("prometheusConfig", () => {
  const base: PrometheusConfigArgs = {
    namespace: "monitoring",
    environment: "staging",
    replicas: 1,
    scrapeInterval: "15s",
    scrapeTimeout: "10s",
    evaluationInterval: "15s",
    externalLabels: {},
    scrapeLimits: DEFAULT_SCRAPE_LIMITS,
  };
  /** What problems() reads of these args: the base and a retention. */
  const checked = { ...base, retention: "7d" };

  test("global settings and external labels: environment plus the stack's own, and `replica` only with several replicas", () => {
    const single = prometheusConfig({ ...base, externalLabels: { cluster: "k3s-home", budget: "$team" } });
    expect(single.global).toEqual({
      scrape_interval: "15s",
      scrape_timeout: "10s",
      evaluation_interval: "15s",
      // Prometheus 3 would expand `$team` as an environment variable: `$$` keeps it literal.
      external_labels: { environment: "staging", cluster: "k3s-home", budget: "$$team" },
    });
    expect(single.rule_files).toEqual(["/etc/prometheus/rules/*.yml"]);

    const ha = prometheusConfig({ ...base, replicas: 2 });
    // Prometheus 3 expands ${VAR} in external labels (os.Expand syntax; $(VAR) would stay literal).
    expect(ha.global.external_labels).toEqual({ environment: "staging", replica: "${POD_NAME}" });
    // A `replica` label of the user's own is refused by config, before any resource.
    expect(configProblems("staging", { nodes: 2, prometheus: { replicas: 2, externalLabels: { replica: "a" } } })).toEqual([
      expect.stringMatching(
        /^monitoring:prometheus\.externalLabels\.replica: is set by Prometheus itself when it runs more than one replica/,
      ),
    ]);
  });

  test("jobs: itself, the components, annotated pods, the apps, the kubelets, in that order", () => {
    const config = prometheusConfig({
      ...base,
      scrapeTargets: [
        {
          job: "kube-state-metrics",
          namespace: "monitoring",
          selector: { "app.kubernetes.io/name": "kube-state-metrics" },
          port: "http-metrics",
          honorLabels: true,
        },
      ],
      apps: stackConfig("staging").apps,
    });
    expect(config.scrape_configs.map((j) => j.job_name)).toEqual([
      "prometheus",
      "kube-state-metrics",
      "kubernetes-pods",
      "api",
      "web",
      "kubelet",
      "cadvisor",
    ]);
  });

  test("a component's target: its Service's endpoints in its namespace, on its port, with the contract's labels", () => {
    const config = prometheusConfig({
      ...base,
      scrapeTargets: [
        {
          job: "node-exporter",
          namespace: "monitoring-agents",
          selector: { "app.kubernetes.io/name": "node-exporter", "app.kubernetes.io/part-of": "monitoring-stack" },
          port: "metrics",
          interval: "5s",
          instance: "node",
          labels: { tier: "infra$1" },
        },
      ],
    });
    expect(config.scrape_configs[1]).toEqual({
      job_name: "node-exporter",
      // Shorter than the global timeout: the job's timeout follows, as Prometheus requires.
      scrape_interval: "5s",
      scrape_timeout: "5s",
      metrics_path: "/metrics",
      scheme: "http",
      follow_redirects: false,
      // A component's limits, with a target per node.
      sample_limit: 20000,
      label_limit: 40,
      label_name_length_limit: 128,
      label_value_length_limit: 2048,
      target_limit: 500,
      kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: ["monitoring-agents"] } }],
      relabel_configs: [
        { source_labels: ["__meta_kubernetes_service_label_app_kubernetes_io_name"], regex: "node-exporter", action: "keep" },
        { source_labels: ["__meta_kubernetes_service_label_app_kubernetes_io_part_of"], regex: "monitoring-stack", action: "keep" },
        { source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: "metrics", action: "keep" },
        { target_label: "job", replacement: "node-exporter" },
        { source_labels: ["__meta_kubernetes_pod_node_name"], regex: "(.+)", target_label: "instance" },
        { source_labels: ["__meta_kubernetes_pod_node_name"], regex: "(.+)", target_label: "node" },
        { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
        { source_labels: ["__meta_kubernetes_pod_name"], regex: "(.+)", target_label: "pod" },
        { source_labels: ["__meta_kubernetes_service_name"], target_label: "service" },
        // `$` doubled: a replacement would otherwise expand it as a capture group.
        { target_label: "tier", replacement: "infra$$1" },
      ],
    });
  });

  test("a component's target over TLS with basic auth: https, its CA and server name, its password, all read from files of the scrape credentials", () => {
    const target = (job: string) => ({
      job,
      namespace: "monitoring-agents",
      selector: { "app.kubernetes.io/name": job },
      port: "metrics",
      scheme: "https" as const,
      tls: { caPem: "-----BEGIN CERTIFICATE-----", serverName: `${job}.monitoring-agents.svc` },
      basicAuth: { username: "prometheus", password: "not-in-the-config" },
    });
    const config = prometheusConfig({ ...base, scrapeTargets: [target("node-exporter")] });
    expect(config.scrape_configs[1]).toMatchObject({
      job_name: "node-exporter",
      scheme: "https",
      basic_auth: { username: "prometheus", password_file: "/etc/prometheus/secrets/scrape/node-exporter-password" },
      tls_config: { ca_file: "/etc/prometheus/secrets/scrape/node-exporter-ca.crt", server_name: "node-exporter.monitoring-agents.svc" },
    });
    const text = JSON.stringify(config);
    expect(text).not.toContain("not-in-the-config");
    expect(text).not.toContain("BEGIN CERTIFICATE");
    // A target without them keeps plain HTTP and no such fields.
    const plain = prometheusConfig({
      ...base,
      scrapeTargets: [{ ...target("other"), scheme: undefined, tls: undefined, basicAuth: undefined }],
    });
    expect(plain.scrape_configs[1]).not.toHaveProperty("tls_config");
    expect(plain.scrape_configs[1]).not.toHaveProperty("basic_auth");
    expect(plain.scrape_configs[1].scheme).toBe("http");
  });

  test("targets that share a job get distinct job names and keep their job label; an exact duplicate is refused", () => {
    const exporter = (database: string) => ({
      job: "postgres-exporter",
      namespace: "monitoring",
      selector: { "app.kubernetes.io/name": `postgres-exporter-${database}` },
      port: "metrics",
      labels: { database },
    });
    const config = prometheusConfig({ ...base, scrapeTargets: [exporter("a"), exporter("b")] });
    const jobs = config.scrape_configs.filter((j) => j.job_name.startsWith("postgres-exporter"));
    expect(jobs.map((j) => j.job_name)).toEqual([
      expect.stringMatching(/^postgres-exporter\/[0-9a-f]{8}$/),
      expect.stringMatching(/^postgres-exporter\/[0-9a-f]{8}$/),
    ]);
    expect(new Set(jobs.map((j) => j.job_name)).size).toBe(2);
    for (const job of jobs) expect(job.relabel_configs).toContainEqual({ target_label: "job", replacement: "postgres-exporter" });

    // The component's problems(), which its constructor runs first, refuse an exact duplicate.
    expect(argsProblems({ ...checked, scrapeTargets: [exporter("a"), exporter("b")] })).toEqual([]);
    expect(argsProblems({ ...checked, scrapeTargets: [exporter("a"), exporter("a")] })).toEqual([
      { key: "scrapeTargets", message: "two targets of job postgres-exporter scrape the same Service port; drop one" },
    ]);
  });

  test("names and labels that would collide are refused", () => {
    const app = stackConfig("staging").apps[0];
    // An app named as one of the stack's own jobs is refused by config, before any resource.
    for (const name of ["kubelet", "prometheus"]) {
      expect(configProblems("staging", { apps: [{ ...api, name }] })).toEqual([
        expect.stringMatching(
          new RegExp(`^monitoring:apps\\[0\\]\\.name: is one of the jobs of the stack's own series.*\\(got "${name}"\\)$`),
        ),
      ]);
    }
    // The rules are the component's (problems.ts): config reports them for the stack's keys, the constructor for its args.
    const reserved = "is a label the scrape config sets itself (app, job, instance, namespace, pod, service, node); choose another name";
    expect(configProblems("staging", { apps: [{ ...api, labels: { namespace: "x" } }] })).toEqual([
      `monitoring:apps[0].labels.namespace: ${reserved}`,
    ]);
    expect(argsProblems({ ...checked, apps: [{ ...app, labels: { namespace: "x", __tmp: "y" } }] })).toEqual([
      { key: "apps[0].labels.namespace", message: reserved },
      {
        key: "apps[0].labels.__tmp",
        message: "starts with __, which Prometheus keeps for itself and drops after relabelling; choose another name",
      },
    ]);
    expect(argsProblems({ ...checked, scrapeTargets: [{ job: "cadvisor", namespace: "monitoring", selector: {}, port: "m" }] })).toEqual([
      {
        key: "scrapeTargets[0].job",
        message:
          "is one of the jobs of the stack's own series, which the scrape target's would mix with; rename the scrape target (taken: kubernetes-pods, kubelet, cadvisor) (got \"cadvisor\")",
      },
    ]);
    expect(argsProblems({ ...checked, apps: [{ ...app, name: "prometheus" }] })).toEqual([
      {
        key: "apps[0].name",
        message:
          "is one of the jobs of the stack's own series, which the app's would mix with; rename the app (taken: kubernetes-pods, kubelet, cadvisor, prometheus) (got \"prometheus\")",
      },
    ]);
    // The component refuses it too, given the stack's backups (they push as job backup, BackupFailed's).
    const backups = { adminApi: true, stack: "monitoring-staging", longestWaitSeconds: 86_400 };
    expect(argsProblems({ ...checked, apps: [{ ...app, name: "backup" }] })).toEqual([]);
    expect(argsProblems({ ...checked, backups, apps: [{ ...app, name: "backup" }] })).toEqual([
      {
        key: "apps[0].name",
        message:
          "is one of the jobs of the stack's own series, which the app's would mix with; rename the app (taken: kubernetes-pods, kubelet, cadvisor, prometheus, backup) (got \"backup\")",
      },
    ]);
  });

  test("an app that scrapes more often than the global timeout is accepted by config, and its timeout is its interval", () => {
    const config = inlineConfig("staging", {
      prometheus: { scrapeInterval: "15s", scrapeTimeout: "10s" },
      apps: [{ name: "fast", namespace: "shop", service: "fast", targetPort: 8080, interval: "5s" }],
    });
    const [job] = prometheusConfig(prometheusArgs(config)).scrape_configs.filter((j) => j.job_name === "fast");
    expect(job).toMatchObject({ scrape_interval: "5s", scrape_timeout: "5s" });
  });

  test("an app behind a URL is a static target with the URL's scheme, path and query; credentials in the URL are refused", () => {
    const app = {
      ...stackConfig("staging").apps[0],
      service: undefined,
      url: "https://legacy.example.com:8443/status/metrics?format=prometheus",
      labels: { team: "core" },
    };
    const [job] = prometheusConfig({ ...base, apps: [app] }).scrape_configs.filter((j) => j.job_name === "api");
    expect(job).toEqual({
      job_name: "api",
      metrics_path: "/status/metrics",
      params: { format: ["prometheus"] },
      scheme: "https",
      follow_redirects: false,
      fallback_scrape_protocol: "PrometheusText0.0.4",
      // prometheus.scrapeLimits' defaults.
      sample_limit: 10000,
      label_limit: 30,
      label_name_length_limit: 128,
      label_value_length_limit: 1024,
      target_limit: 100,
      static_configs: [{ targets: ["legacy.example.com:8443"], labels: { app: "api", team: "core" } }],
    });
    // Config's schema refuses credentials in a URL (plainHttpUrl): prometheus.yml never holds one.
    for (const [key, entry] of [
      ["apps", { name: "api", url: "https://user:pw@legacy.example.com/metrics" }],
      ["targets", { name: "minio", url: "https://user:pw@minio.example.com/metrics" }],
      ["probes", { name: "site", url: "https://user:pw@www.example.com/" }],
    ] as const) {
      expect(configProblems("staging", { [key]: [entry] })).toEqual([
        expect.stringMatching(new RegExp(`^monitoring:${key}\\[0\\]\\.url: must not hold credentials \\(user:password@\\)`)),
      ]);
    }
  });

  test("a Service app needs exactly one of port (a name) and targetPort (a number): config refuses the others, the component a port number not resolved", () => {
    const app = stackConfig("staging").apps[0];
    const service = { name: "api", namespace: "shop", service: "api" };
    expect(configProblems("staging", { apps: [{ ...service, port: "http", targetPort: 8080 }] })).toEqual([
      'monitoring:apps[0]: app "api" gives both "port" and "targetPort"; give one: the Service\'s port (name or number), or the port number the pods serve on',
    ]);
    expect(configProblems("staging", { apps: [service] })).toEqual([
      'monitoring:apps[0]: app "api" scrapes a Service, so it needs "namespace" and "port" (the Service\'s port, by name or number) or "targetPort" too',
    ]);
    expect(configProblems("staging", { apps: [{ ...service, targetPort: 0 }] })).toEqual([
      expect.stringMatching(/^monitoring:apps\[0\]\.targetPort: must be a port number 1-65535/),
    ]);
    // A number given as the Service's port: preflight/service-ports.ts resolves it before the component runs.
    const unresolved = { ...app, service: { namespace: "shop", name: "api", servicePort: 80 } };
    expect(argsProblems({ ...checked, apps: [unresolved] })).toEqual([
      {
        key: "apps[0].service",
        message: "the Service's port 80 is not resolved yet; resolveAppServicePorts (preflight/service-ports.ts) reads it from the Service",
      },
    ]);
    expect(
      argsProblems({ ...checked, apps: [{ ...app, service: { namespace: "shop", name: "api", servicePort: 80, targetPort: 8080 } }] }),
    ).toEqual([]);
  });

  test("an app URL without a path is scraped on /metrics, as a Service app is; a URL's own path is kept, even one ending in /", () => {
    const app = { ...stackConfig("staging").apps[0], service: undefined };
    const pathOf = (url: string) =>
      prometheusConfig({ ...base, apps: [{ ...app, url }] }).scrape_configs.find((j) => j.job_name === "api")?.metrics_path;
    expect(pathOf("http://legacy.example.com:8080")).toBe("/metrics");
    expect(pathOf("http://legacy.example.com:8080/")).toBe("/metrics");
    expect(pathOf("http://legacy.example.com:8080/?format=prometheus")).toBe("/metrics");
    expect(pathOf("http://legacy.example.com:8080/prometheus")).toBe("/prometheus");
    expect(pathOf("http://legacy.example.com:8080/prometheus/")).toBe("/prometheus/");
  });

  test("app jobs fall back to the classic text format when a target sends no or an unknown Content-Type; other jobs keep the default", () => {
    const [service] = stackConfig("staging").apps;
    const url = { ...service, name: "legacy", service: undefined, url: "http://legacy.example.com:8080/metrics" };
    const jobs = prometheusConfig({ ...base, apps: [service, url] }).scrape_configs;
    const fallbacks = Object.fromEntries(jobs.map((j) => [j.job_name, j.fallback_scrape_protocol]));
    expect(fallbacks).toEqual({
      prometheus: undefined,
      "kubernetes-pods": undefined,
      api: "PrometheusText0.0.4",
      legacy: "PrometheusText0.0.4",
      kubelet: undefined,
      cadvisor: undefined,
    });
  });

  test("remote write reads its credentials from files, never from the config", () => {
    const config = prometheusConfig({
      ...base,
      remoteWrite: [
        { name: "mimir", url: "https://mimir.example.com/api/v1/push", auth: { type: "basic", username: "tenant-1", password: "s3cret" } },
        { name: "victoria", url: "https://vm.example.com/api/v1/write", auth: { type: "bearer", token: "t0ken" } },
        { name: "open", url: "http://thanos-receive.example.com/api/v1/receive" },
      ],
    });
    expect(config.remote_write).toEqual([
      {
        name: "mimir",
        url: "https://mimir.example.com/api/v1/push",
        basic_auth: { username: "tenant-1", password_file: "/etc/prometheus/secrets/remote-write/remote-write-mimir" },
      },
      {
        name: "victoria",
        url: "https://vm.example.com/api/v1/write",
        authorization: { type: "Bearer", credentials_file: "/etc/prometheus/secrets/remote-write/remote-write-victoria" },
      },
      { name: "open", url: "http://thanos-receive.example.com/api/v1/receive" },
    ]);
    expect(JSON.stringify(config)).not.toMatch(/s3cret|t0ken/);
  });

  test("alerting is configured only when an Alertmanager is given, and drops the replica label so HA replicas' alerts deduplicate", () => {
    expect(prometheusConfig(base).alerting).toBeUndefined();
    const config = prometheusConfig({
      ...base,
      alertmanager: { namespace: "monitoring", selector: { "app.kubernetes.io/name": "alertmanager" }, port: "http" },
    });
    expect(config.alerting).toEqual({
      alert_relabel_configs: [{ action: "labeldrop", regex: "replica" }],
      alertmanagers: [
        {
          api_version: "v2",
          scheme: "http",
          kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: ["monitoring"] } }],
          relabel_configs: [
            { source_labels: ["__meta_kubernetes_service_label_app_kubernetes_io_name"], regex: "alertmanager", action: "keep" },
            { source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: "http", action: "keep" },
          ],
        },
      ],
    });
  });
});

describe("rule files", () => {
  test("with a runbook base URL, alerts that name a section of docs/runbooks.md get a runbook_url into it; others are left alone", () => {
    const text = `# Our rules\ngroups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          runbook: ${RUNBOOK_PATH}#a # the anchor\n      - alert: B\n        expr: up == 0\n        annotations:\n          runbook_url: https://wiki.example.com/b\n      - alert: C\n        expr: up == 0\n        annotations:\n          runbook: ${RUNBOOK_PATH}#c\n          runbook_url: https://wiki.example.com/c\n`;
    const out = linkRunbooks(text, "https://git.example.com/ops/monitoring/runbooks.md");
    const annotations = (
      YAML.parse(out) as { groups: Array<{ rules: Array<{ annotations: Record<string, string> }> }> }
    ).groups[0].rules.map((r) => r.annotations);
    expect(annotations).toEqual([
      { runbook: "docs/runbooks.md#a", runbook_url: "https://git.example.com/ops/monitoring/runbooks.md#a" },
      { runbook_url: "https://wiki.example.com/b" },
      { runbook: "docs/runbooks.md#c", runbook_url: "https://wiki.example.com/c" },
    ]);
    expect(out).toContain("# Our rules");
    expect(out).toContain("# the anchor");
  });

  test("without a runbook base URL, rule files ship as they are: alerts name their runbook section and link nowhere", () => {
    const text = `groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          runbook: ${RUNBOOK_PATH}#a\n`;
    expect(linkRunbooks(text, undefined)).toBe(text);
    const shipped = loadRuleFiles(REPO_RULES_DIR, undefined);
    for (const [file, content] of Object.entries(shipped)) {
      expect(content).toBe(fs.readFileSync(path.join(REPO_RULES_DIR, file), "utf8"));
      expect(content).not.toContain("runbook_url");
    }
  });

  test("files left out with their component do not ship, and their alerts still take thresholds", () => {
    const all = loadRuleFiles(REPO_RULES_DIR, undefined);
    const thresholds = defaultThresholds();
    thresholds.nodeCpu.warning = { ...thresholds.nodeCpu.warning, percent: 50 };
    const without = loadRuleFiles(REPO_RULES_DIR, undefined, thresholds, ["logs.yml", "nodes.yml"]);
    expect(Object.keys(without)).toEqual(Object.keys(all).filter((f) => f !== "logs.yml" && f !== "nodes.yml"));
    expect(without["kubernetes.yml"]).toBe(all["kubernetes.yml"]);
  });

  test("a group's own interval shorter than the stack's evaluation interval takes the stack's; others ship as they are", () => {
    const intervals = (files: Record<string, string>) =>
      Object.entries(files).flatMap(([file, text]) =>
        (YAML.parse(text) as { groups: Array<{ name: string; interval?: string }> }).groups.map(
          (g) => `${file}: ${g.name} ${g.interval ?? "-"}`,
        ),
      );
    const shipped = loadRuleFiles(REPO_RULES_DIR, undefined);
    const own = intervals(shipped).filter((g) => !g.endsWith(" -"));
    expect(own.length).toBeGreaterThan(1);
    expect(own.every((g) => g.endsWith(" 1m"))).toBe(true);
    // At 15 s (the default) and at one minute nothing changes: the files ship byte for byte.
    expect(loadRuleFiles(REPO_RULES_DIR, undefined, undefined, [], [], "15s")).toEqual(shipped);
    expect(loadRuleFiles(REPO_RULES_DIR, undefined, undefined, [], [], "1m")).toEqual(shipped);
    // At two minutes the groups of one minute take two; groups without an interval of their own keep none.
    const slower = loadRuleFiles(REPO_RULES_DIR, undefined, undefined, [], [], "2m");
    expect(intervals(slower)).toEqual(intervals(shipped).map((g) => g.replace(/ 1m$/, " 2m")));
  });

  test("alerts left out lose their rules, a group they empty goes, and a file they empty does not ship", () => {
    const dir = rulesDir({
      "kinds.yml": [
        "# The header stays.",
        "groups:",
        "  - name: a",
        "    rules:",
        "      # A's comment",
        "      - alert: A",
        "        expr: up == 0",
        "",
        "      - alert: B",
        "        expr: up == 0",
        "  - name: c",
        "    rules:",
        "      - alert: C",
        "        expr: up == 0",
        "",
      ].join("\n"),
      "only-d.yml": "groups:\n  - name: d\n    rules:\n      - alert: D\n        expr: up == 0\n",
    });
    const all = loadRuleFiles(dir, undefined);
    const without = loadRuleFiles(dir, undefined, undefined, [], ["A", "C", "D"]);
    expect(Object.keys(without)).toEqual(["kinds.yml"]);
    const kept = YAML.parse(without["kinds.yml"]) as { groups: Array<{ name: string; rules: Array<{ alert: string }> }> };
    expect(kept.groups.map((g) => [g.name, g.rules.map((r) => r.alert)])).toEqual([["a", ["B"]]]);
    expect(without["kinds.yml"]).toMatch(/^# The header stays\./);
    expect(without["kinds.yml"]).not.toContain("A's comment");
    // B takes A's place: no blank line left above it.
    expect(without["kinds.yml"]).toContain("    rules:\n      - alert: B\n");
    // Alerts none of the files hold change nothing: the files ship byte for byte.
    expect(loadRuleFiles(dir, undefined, undefined, [], ["Z"])).toEqual(all);
  });

  test("a later load in the same process reads each file as it now is, with the settings it is given", () => {
    const rule = (expr: string) =>
      `groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: ${expr}\n        annotations:\n          runbook: ${RUNBOOK_PATH}#a\n`;
    const dir = rulesDir({ "a.yml": rule("up == 0") });
    const first = loadRuleFiles(dir, undefined);
    expect(loadRuleFiles(dir, undefined)).toEqual(first);
    // The settings it is given: a base URL, then none again, then the alert left out.
    expect(loadRuleFiles(dir, "https://wiki.example.com/r")["a.yml"]).toContain("runbook_url: https://wiki.example.com/r#a");
    expect(loadRuleFiles(dir, undefined)).toEqual(first);
    expect(loadRuleFiles(dir, undefined, undefined, [], ["A"])).toEqual({});
    // The file as it now is: its new text, edited as the old was.
    fs.writeFileSync(path.join(dir, "a.yml"), rule("up < 1"));
    expect(loadRuleFiles(dir, undefined)).toEqual({ "a.yml": rule("up < 1") });
    expect(loadRuleFiles(dir, "https://wiki.example.com/r")["a.yml"]).toContain("expr: up < 1");
    // A file the memory no longer matches is refused as a fresh one would be.
    fs.writeFileSync(path.join(dir, "a.yml"), "groups: [\n");
    expect(() => loadRuleFiles(dir, undefined)).toThrow(/a\.yml is not valid YAML/);
  });

  test("a file that is not a rule file is refused, naming it", () => {
    const dir = rulesDir({ "broken.yml": "groups: [\n", "plain.yml": "foo: bar\n" });
    expect(() => loadRuleFiles(dir, undefined)).toThrow(/broken\.yml is not valid YAML at line 2, column 1: /);
    fs.rmSync(path.join(dir, "broken.yml"));
    expect(() => loadRuleFiles(dir, undefined)).toThrow(/plain\.yml has no "groups" list/);
  });
});

// ---------------------------------------------------------------------------
// The component alone

describe("Prometheus component", () => {
  test("RBAC is exactly what discovery and kubelet scraping need, read-only, bound to its own service account", async () => {
    const { rendered } = await renderPrometheus(stagingArgs());
    const role = objectOf(rendered, "ClusterRole", "monitoring-prometheus");
    expect(role).toEqual({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: {
        name: "monitoring-prometheus",
        labels: {
          "app.kubernetes.io/name": "prometheus",
          "app.kubernetes.io/instance": "staging",
          "app.kubernetes.io/component": "metrics-server",
          "app.kubernetes.io/part-of": "monitoring-stack",
          "app.kubernetes.io/version": imageVersion("prometheus"),
          "app.kubernetes.io/managed-by": "pulumi",
        },
      },
      rules: [
        { apiGroups: [""], resources: ["nodes", "services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
        { nonResourceURLs: ["/metrics"], verbs: ["get"] },
      ],
    });
    const binding = objectOf(rendered, "ClusterRoleBinding", "monitoring-prometheus");
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "monitoring-prometheus" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "prometheus", namespace: "monitoring" }]);
    expect(objectsOf(rendered, "Role")).toEqual([]);
    expect(objectsOf(rendered, "RoleBinding")).toEqual([]);
  });

  test("the StatefulSet: hot-reloaded config, retention by time and size, restricted security, data on the claim", async () => {
    const { rendered } = await renderPrometheus(stagingArgs());
    const sts = statefulSetOf(rendered);
    const pod = sts.template.spec;
    const [container] = pod.containers;

    expect(sts.replicas).toBe(1);
    expect(container.args).toEqual([
      "--config.file=/etc/prometheus/config/prometheus.yml",
      "--enable-feature=auto-reload-config",
      "--config.auto-reload-interval=30s",
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=7d",
      "--storage.tsdb.retention.size=8704MB",
      "--web.listen-address=:9090",
      // Traefik exposes Prometheus in staging: links in alerts point at the public hostname.
      "--web.external-url=https://prometheus.staging.example.com",
      "--web.config.file=/etc/prometheus/config/web-config.yaml",
      // No OTLP receiver nor exemplars: no app of the staging stack file sends OTLP, so tracing is off
      // (with one, test/components/tracing.test.ts).
    ]);
    expect(container.args.some((a) => a.startsWith("--web.enable-lifecycle"))).toBe(false);
    expect(container.env).toEqual([{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }]);
    expect(container.readinessProbe.httpGet.path).toBe("/-/ready");
    expect(container.livenessProbe.httpGet.path).toBe("/-/healthy");

    // Config and rules as whole directories (never subPath, or kubelet would not update them in place).
    expect(container.volumeMounts).toEqual([
      { name: "config", mountPath: "/etc/prometheus/config", readOnly: true },
      { name: "rules", mountPath: "/etc/prometheus/rules", readOnly: true },
      { name: "data", mountPath: "/prometheus" },
      { name: "tmp", mountPath: "/tmp" },
    ]);
    expect(pod.volumes).toEqual([
      { name: "config", configMap: { name: "prometheus-config" } },
      { name: "rules", configMap: { name: "prometheus-rules" } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ]);
    expect(sts.volumeClaimTemplates.map((t) => [t.metadata.name, t.spec.resources.requests.storage, t.spec.storageClassName])).toEqual([
      ["data", "10Gi", "local-path"],
    ]);

    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65534,
      runAsGroup: 65534,
      fsGroup: 65534,
      fsGroupChangePolicy: "OnRootMismatch",
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    // It talks to the API server (discovery), so it is the one pod of the stack with a token.
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBe("prometheus");
    expect(pod.affinity).toBeUndefined();
    expect(objectsOf(rendered, "PodDisruptionBudget")).toEqual([]);

    expect(objectOf(rendered, "Service", "prometheus").spec).toEqual({
      type: "ClusterIP",
      selector: {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": "staging",
        "app.kubernetes.io/component": "metrics-server",
        "app.kubernetes.io/part-of": "monitoring-stack",
      },
      ports: [{ name: "http", port: 9090, targetPort: "http", protocol: "TCP" }],
    });
    for (const o of prometheusObjects(rendered))
      expect({ object: `${o.kind}/${o.metadata.name}`, problems: schemaProblems(o) }).toEqual({
        object: `${o.kind}/${o.metadata.name}`,
        problems: [],
      });
  });

  test("outputs: the in-cluster URL and its own scrape target", async () => {
    const { outputs } = await renderPrometheus(stagingArgs());
    expect(outputs.url).toBe("http://prometheus.monitoring.svc:9090");
    expect(outputs.scrapeTargets).toEqual([
      {
        job: "prometheus",
        namespace: "monitoring",
        selector: {
          "app.kubernetes.io/name": "prometheus",
          "app.kubernetes.io/instance": "staging",
          "app.kubernetes.io/component": "metrics-server",
          "app.kubernetes.io/part-of": "monitoring-stack",
        },
        port: "http",
      },
    ]);
  });

  test("production on two nodes is HA: a replica on each node, a PodDisruptionBudget, a replica label each, protected volumes", async () => {
    const args = { ...prometheusArgs(stackConfig("production", ["nodes=2"])), rulesDir: rulesDir({ "sample.yml": SAMPLE_RULES }) };
    const { rendered } = await renderPrometheus(args);
    const sts = statefulSetOf(rendered);

    expect(sts.replicas).toBe(2);
    // Required: two replicas on one node gain nothing, and their budget would hang a drain of it.
    const selector = {
      "app.kubernetes.io/name": "prometheus",
      "app.kubernetes.io/instance": "production",
      "app.kubernetes.io/component": "metrics-server",
      "app.kubernetes.io/part-of": "monitoring-stack",
    };
    expect(sts.template.spec.affinity).toEqual({
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector } },
        ],
      },
    });
    expect(objectOf(rendered, "PodDisruptionBudget", "prometheus").spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: selector },
    });
    expect((configOf(rendered).global as { external_labels: object }).external_labels).toEqual({
      environment: "production",
      replica: "${POD_NAME}",
    });
    expect(sts.template.spec.containers[0].args).toContain("--storage.tsdb.retention.time=30d");
    expect(objectOf(rendered, "Service", "prometheus").spec).toMatchObject({ sessionAffinity: "ClientIP" });
    for (const o of prometheusObjects(rendered)) expect(schemaProblems(o)).toEqual([]);
  });

  test("each replica's claim is protected where the config says so, and nothing else is (the StatefulSet holds no data)", async () => {
    // protect and retainOnDelete are resource options, which the mocks do not record: a transformation sees them.
    const protectedNames = async (protectVolumes: boolean) => {
      const seen: pulumi.ResourceTransformationArgs[] = [];
      await renderPrometheus(stagingArgs({ protectVolumes }), {
        transformations: [
          (a) => {
            seen.push(a);
            return undefined;
          },
        ],
      });
      return seen.filter((a) => a.opts.protect || a.opts.retainOnDelete).map((a) => [a.name, a.opts.protect, a.opts.retainOnDelete]);
    };
    expect(await protectedNames(true)).toEqual([["prometheus-data-0", true, true]]);
    expect(await protectedNames(false)).toEqual([]);
  });

  test("one claim per replica, named and shaped as the StatefulSet controller would make it from its template; the StatefulSet waits for them", async () => {
    const run = await runProgram({
      ...ALONE,
      program: async () => {
        new Prometheus("prometheus", stagingArgs({ replicas: 3, storage: { size: "20Gi", storageClass: "local-path" } }));
        return {};
      },
    });
    const rendered = renderRun(run, true);
    const sts = objectOf(rendered, "StatefulSet", "prometheus").spec as {
      persistentVolumeClaimRetentionPolicy: unknown;
      volumeClaimTemplates: Array<{ metadata: { name: string }; spec: object }>;
    };
    const [template] = sts.volumeClaimTemplates;
    expect(objectsOf(rendered, "PersistentVolumeClaim")).toEqual(
      [0, 1, 2].map((ordinal) => ({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: {
          ...template.metadata,
          name: `${template.metadata.name}-prometheus-${ordinal}`,
          namespace: "monitoring",
          annotations: { "pulumi.com/skipAwait": "true" },
        },
        spec: { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", resources: { requests: { storage: "20Gi" } } },
      })),
    );
    expect(template.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      storageClassName: "local-path",
      resources: { requests: { storage: "20Gi" } },
    });
    expect(sts.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    const claimUrns = run.resources.filter((r) => r.type === "kubernetes:core/v1:PersistentVolumeClaim").map((r) => r.urn);
    expect(run.resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")?.dependencies).toEqual(expect.arrayContaining(claimUrns));
    expect(run.resources.filter((r) => r.type === "kubernetes:core/v1:PersistentVolumeClaim").map((r) => r.name)).toEqual([
      "prometheus-data-0",
      "prometheus-data-1",
      "prometheus-data-2",
    ]);
  });

  test("remote write credentials come from a Secret mounted as files; the password is never in the ConfigMap and is redacted in the default render", async () => {
    const config = inlineConfig(
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
    const { rendered, redacted } = await renderPrometheus({ ...prometheusArgs(config), rulesDir: rulesDir({}) });

    const secret = objectOf(rendered, "Secret", "prometheus-remote-write");
    expect(secret.stringData).toEqual({ "remote-write-mimir": "basic-password-123", "remote-write-victoria": "bearer-token-456" });
    expect(objectOf(redacted, "Secret", "prometheus-remote-write").stringData).toEqual({
      "remote-write-mimir": "[secret]",
      "remote-write-victoria": "[secret]",
    });
    const sts = statefulSetOf(rendered);
    expect(sts.template.spec.volumes).toContainEqual({
      name: "remote-write",
      secret: { secretName: "prometheus-remote-write", defaultMode: 0o440 },
    });
    expect(sts.template.spec.containers[0].volumeMounts).toContainEqual({
      name: "remote-write",
      mountPath: "/etc/prometheus/secrets/remote-write",
      readOnly: true,
    });

    const configMapText = JSON.stringify(objectOf(rendered, "ConfigMap", "prometheus-config"));
    for (const secretValue of ["basic-password-123", "bearer-token-456"]) {
      expect(configMapText).not.toContain(secretValue);
      expect(JSON.stringify(objectOf(rendered, "ConfigMap", "prometheus-rules"))).not.toContain(secretValue);
    }
    expect(configOf(rendered).remote_write).toEqual([
      {
        name: "mimir",
        url: "https://mimir.example.com/api/v1/push",
        basic_auth: { username: "tenant-1", password_file: "/etc/prometheus/secrets/remote-write/remote-write-mimir" },
      },
      {
        name: "victoria",
        url: "https://vm.example.com/api/v1/write",
        authorization: { type: "Bearer", credentials_file: "/etc/prometheus/secrets/remote-write/remote-write-victoria" },
      },
    ]);

    // The credential files are where the config says they are (test/e2e/prometheus.test.ts has promtool read them).
    const root = tempDir();
    layOutContainer(rendered, root);
    expect(fs.readFileSync(path.join(root, "etc/prometheus/secrets/remote-write/remote-write-mimir"), "utf8")).toBe("basic-password-123");
  });

  test("a stack that evaluates every two minutes evaluates its groups of one minute, shipped and generated, every two minutes too", async () => {
    const { rendered } = await renderPrometheus(stagingArgs({ evaluationInterval: "2m", rulesDir: REPO_RULES_DIR }));
    const data = objectOf(rendered, "ConfigMap", "prometheus-rules").data as Record<string, string>;
    const intervals = Object.entries(data).flatMap(([file, text]) =>
      ((YAML.parse(text) as { groups?: Array<{ name: string; interval?: string }> }).groups ?? []).map(
        (g) => `${file}: ${g.name} ${g.interval ?? "-"}`,
      ),
    );
    expect(intervals).toContain("kubernetes.yml: kubernetes-every-minute 2m");
    expect(intervals).toContain(`${APP_RULES_KEY}: app-contract-every-minute 2m`);
    expect(intervals.filter((g) => /\b(1m|[0-9]+s)$/.test(g))).toEqual([]);
  });

  test("the rules ConfigMap holds every rule file with runbook links into runbookBaseUrl, plus the generated app and database rules", async () => {
    const dir = rulesDir({
      "nodes.yml": SAMPLE_RULES.replace("SampleDown", "NodeDown"),
      "apps.yml": SAMPLE_RULES,
      "README.md": "not a rule file",
    });
    const { rendered } = await renderPrometheus(stagingArgs({ rulesDir: dir, runbookBaseUrl: "https://git.example.com/ops/runbooks.md" }));
    const data = objectOf(rendered, "ConfigMap", "prometheus-rules").data as Record<string, string>;

    expect(Object.keys(data).sort()).toEqual(["apps.rules.yml", "apps.yml", DATABASE_RULES_KEY, "nodes.yml"]);
    expect(data["nodes.yml"]).toContain("runbook_url: https://git.example.com/ops/runbooks.md#sampledown");
    expect(data[DATABASE_RULES_KEY]).toContain("runbook_url: https://git.example.com/ops/runbooks.md#databaseexportermissing");
    expect(data["nodes.yml"]).toContain(`runbook: ${RUNBOOK_PATH}#sampledown`);
    const generated = YAML.parse(data[APP_RULES_KEY]) as { groups: Array<{ name: string; rules: Array<{ record: string }> }> };
    expect(generated.groups.map((g) => g.name)).toEqual(["app-contract", "app-contract-every-minute"]);
    expect(generated.groups[0].rules[0].record).toBe(APP_SERIES.ownTargets);
    expect(generated.groups[0].rules.map((r) => r.record)).toContain(APP_SERIES.requests);
  });

  test("rule files that would not fit in a ConfigMap, or take a generated name, are refused with the reason", async () => {
    const huge = SAMPLE_RULES + `# ${"x".repeat(CONFIGMAP_MAX_BYTES)}\n`;
    await expect(renderPrometheus(stagingArgs({ rulesDir: rulesDir({ "huge.yml": huge }) }))).rejects.toThrow(
      /rulesDir: huge\.yml weighs \d+ bytes serialised, more than one ConfigMap holds here \(\d+ bytes\): split it into smaller files/,
    );
    await expect(renderPrometheus(stagingArgs({ rulesDir: rulesDir({ "apps.rules.yml": SAMPLE_RULES }) }))).rejects.toThrow(
      /apps\.rules\.yml takes a name the component generates/,
    );
    await expect(renderPrometheus(stagingArgs({ rulesDir: "/nonexistent/rules" }))).rejects.toThrow(
      /rulesDir: \/nonexistent\/rules does not exist/,
    );
  });

  test("inputs that cannot work are refused, naming the argument: by the schema or by problems(), before any resource", () => {
    expect(configProblems("staging", { prometheus: { replicas: 0 } })).toEqual([
      expect.stringMatching(/^monitoring:prometheus\.replicas: must be /),
    ]);
    expect(argsProblems({ ...stagingArgs(), scrapeTimeout: "30s" })).toEqual([
      { key: "scrapeTimeout", message: "must not exceed prometheus.scrapeInterval (15s); got 30s", involves: ["scrapeInterval"] },
    ]);
    expect(configProblems("staging", { prometheus: { retention: "a week" } })).toEqual([
      expect.stringMatching(/^monitoring:prometheus\.retention: must be a positive Prometheus duration/),
    ]);
    const remoteWrite = [
      { name: "m", url: "https://a.example.com" },
      { name: "m", url: "https://b.example.com" },
    ];
    expect(argsProblems({ ...stagingArgs(), remoteWrite })).toEqual([
      {
        key: "remoteWrite[1].name",
        message: 'remote write name "m" is used more than once (first at remoteWrite[0]); names must be unique',
      },
    ]);
    // Its thresholds too: config reports them in the thresholds section, the constructor in its args.
    const thresholds = defaultThresholds();
    thresholds.nodeCpu.warning.percent = 96;
    expect(argsProblems({ ...stagingArgs(), thresholds })).toEqual([
      {
        key: "thresholds.nodeCpu.warning.percent",
        message: expect.stringMatching(/^must be below nodeCpu\.critical\.percent \(95\)/),
        involves: ["thresholds.nodeCpu.critical.percent"],
      },
    ]);
    expect(argsProblems(stagingArgs())).toEqual([]);
  });

  test("the constructor runs problems() on its args and refuses them all at once, naming each, before any resource", async () => {
    const probe = { name: "site", module: "http_2xx" as const, target: { url: "https://www.example.com/" }, labels: {}, latencySeconds: 1 };
    const args = stagingArgs({ scrapeTimeout: "30s", probes: [probe], blackboxAddress: undefined });
    expect(argsProblems(args).map((p) => p.key)).toEqual(["scrapeTimeout", "blackboxAddress"]);
    await expect(renderPrometheus(args)).rejects.toThrow(
      /Prometheus prometheus: 2 problems in its args:\n {2}- scrapeTimeout: must not exceed prometheus\.scrapeInterval \(15s\); got 30s\n {2}- blackboxAddress: is needed with probes/,
    );
    await expect(
      renderPrometheus({ ...args, scrapeTimeout: "10s", blackboxAddress: "blackbox-exporter.monitoring.svc:9115" }),
    ).resolves.toBeDefined();
  });

  test("the NetworkPolicy admits Grafana and Prometheus' own pods by name, and the proxies only when they expose Prometheus", async () => {
    const policyOf = async (traefik: boolean, cloudflared: boolean, otlpReceiver?: PrometheusArgs["otlpReceiver"]) => {
      const { rendered } = await renderPrometheus(
        stagingArgs({ ingressFromTraefik: traefik, ingressFromCloudflared: cloudflared, otlpReceiver }),
      );
      return objectOf(rendered, "NetworkPolicy", "prometheus").spec as {
        podSelector: unknown;
        ingress: Array<{
          ports: unknown;
          from: Array<{ podSelector?: { matchLabels: Record<string, string> }; namespaceSelector?: unknown }>;
        }>;
      };
    };
    const own = [
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "staging" } } },
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "staging" } } },
    ];
    const closed = await policyOf(false, false);
    expect(closed.podSelector).toEqual({ matchLabels: expect.objectContaining({ "app.kubernetes.io/name": "prometheus" }) });
    expect(closed.ingress).toEqual([{ ports: [{ protocol: "TCP", port: 9090 }], from: own }]);
    // No peer admits every pod of the namespace: an exporter's, the blackbox exporter's or Alertmanager's pod is none of them.
    const admits = (labels: Record<string, string>) =>
      closed.ingress[0].from.some(
        (p) => p.namespaceSelector === undefined && Object.entries(p.podSelector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
      );
    for (const name of ["postgres-exporter", "blackbox-exporter", "alertmanager", "kube-state-metrics", "loki"])
      expect({ name, admitted: admits({ "app.kubernetes.io/name": name, "app.kubernetes.io/instance": "staging" }) }).toEqual({
        name,
        admitted: false,
      });
    expect(admits({ "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "staging" })).toBe(true);
    expect(admits({ "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "production" })).toBe(false);
    expect((await policyOf(true, true)).ingress[0].from).toEqual([
      ...own,
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } },
      },
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "cloudflared", "app.kubernetes.io/instance": "staging" } } },
    ]);
    // The collector that forwards apps' OTLP metrics, from the agents namespace.
    expect((await policyOf(false, false, { namespace: "monitoring-agents", agent: "alloy" })).ingress[0].from).toEqual([
      ...own,
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-agents" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy", "app.kubernetes.io/instance": "staging" } },
      },
    ]);
  });

  test("prometheusArgs: exposure decides the external URL and the proxies let in", () => {
    const hidden = prometheusArgs(stackConfig("staging", ["traefik.expose=[grafana]"]));
    expect(hidden.publicHostname).toBeUndefined();
    expect(hidden.ingressFromTraefik).toBe(false);
    const viaTraefik = prometheusArgs(stackConfig("staging"));
    expect(viaTraefik.publicHostname).toBe("prometheus.staging.example.com");
    expect(viaTraefik.ingressFromTraefik).toBe(true);
    expect(viaTraefik.ingressFromCloudflared).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// Both real stacks (test/e2e/prometheus.test.ts checks them with promtool)

describe.each(["staging", "production"] as const)("the %s stack's Prometheus", (stack) => {
  let rendered: Rendered;

  beforeAll(async () => {
    rendered = await render(stack);
  });

  test("the rules ConfigMap holds every file of rules/ but probes.yml, tracing.yml and backup.yml, the generated app rules and the databases' alerts", () => {
    // The tests run on the shipped content: a team's own directory is left unread (jest.config.js, test/scenarios/team-folder.test.ts).
    // Neither stack probes anything, nor has an app that sends OTLP (so no traces backend): rules/probes.yml
    // and rules/tracing.yml would read series nothing reports (components/stack/args.ts); nor backs up (backup.yml).
    // Staging does not watch the cluster (watch.cluster): no node-exporter nor the cluster's Traefik, nor their rules.
    const unfed =
      stack === "staging"
        ? ["probes.yml", "tracing.yml", "backup.yml", "nodes.yml", "traefik.yml"]
        : ["probes.yml", "tracing.yml", "backup.yml"];
    const expected = [
      ...fs.readdirSync(REPO_RULES_DIR).filter((f) => f.endsWith(".yml") && !unfed.includes(f)),
      APP_RULES_KEY,
      DATABASE_RULES_KEY,
    ].sort();
    expect(Object.keys(objectOf(rendered, "ConfigMap", "prometheus-rules").data as object).sort()).toEqual(expected);
  });

  test("every Prometheus object is valid and labelled; the output names the in-cluster URL", () => {
    const objects = prometheusObjects(rendered);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        `ClusterRole/monitoring-${stack}-prometheus`,
        `ClusterRoleBinding/monitoring-${stack}-prometheus`,
        "ConfigMap/prometheus-config",
        "ConfigMap/prometheus-rules",
        "NetworkPolicy/prometheus",
        "NetworkPolicy/prometheus-egress",
        "PersistentVolumeClaim/data-prometheus-0",
        // node-exporter's password and certificate, as files: in the stack that watches the cluster (watch.cluster).
        ...(stack === "production" ? ["Secret/prometheus-scrape-credentials"] : []),
        "Service/prometheus",
        "ServiceAccount/prometheus",
        // Both stack files run on one node: one replica, and no disruption budget to hang a drain.
        "StatefulSet/prometheus",
      ].sort(),
    );
    for (const o of objects) {
      expect(schemaProblems(o)).toEqual([]);
      expect(o.metadata.labels?.["app.kubernetes.io/part-of"]).toBe("monitoring-stack");
      if (!o.kind.startsWith("ClusterRole")) expect(o.metadata.namespace).toBe(`monitoring-${stack}`);
    }
    expect(rendered.outputs.prometheusUrl).toBe(`http://prometheus.monitoring-${stack}.svc:9090`);
  });
});
