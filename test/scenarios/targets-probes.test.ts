/**
 * Targets that are not HTTP apps (`targets[]`) and health probes (`apps[].probe`, `probes[]`):
 * what config accepts and refuses, and what the render makes of them — the scrape and probe
 * jobs, the credentials' path into the Prometheus pod, and the blackbox exporter, deployed only
 * when something is probed. test/e2e/targets-probes.test.ts has promtool check and relabel them.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { blackboxConfig } from "../../components/blackbox-exporter";
import { ConfigError, parseStackConfig, type ParsedConfig } from "../../config";
import { PROMETHEUS_PATHS } from "../../components/prometheus/args";
import type { Rendered } from "../../cli/render";
import { layOutContainer } from "../../lab/local/prometheus";
import { objectOf, objectsOf, renderConfig } from "../support/render";
import { schemaProblems } from "../support/schema";
import { billing, minio, renderTargetsAndProbes, shop, smtp, website } from "../support/targets-probes";

function parse(plain: Record<string, unknown>, secrets: Record<string, unknown> = {}): ParsedConfig {
  const wire = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...plain, ...secrets })) values[`monitoring:${k}`] = wire(v);
  return parseStackConfig({
    project: "monitoring",
    stack: "staging",
    values,
    secretKeys: Object.keys(secrets).map((k) => `monitoring:${k}`),
  });
}

function problems(plain: Record<string, unknown>, secrets: Record<string, unknown> = {}): string[] {
  try {
    parse(plain, secrets);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error("the config was accepted");
}

describe("config", () => {
  test("targets: Service or URL, TLS verified by default, credentials from a secret value or an existing Secret", () => {
    const { config } = parse(
      { targets: [minio, billing, { name: "plain", url: "http://10.0.0.5:9100" }] },
      { targetCredentials: { minio: "tok" } },
    );
    expect(config.targets).toEqual([
      {
        name: "minio",
        url: minio.url,
        path: "/metrics",
        scheme: "https",
        labels: {},
        auth: { type: "bearer" },
        credential: { value: "tok" },
      },
      {
        name: "billing",
        service: { namespace: "billing", name: "billing-worker", port: "metrics" },
        path: "/metrics",
        scheme: "https",
        interval: "1m",
        timeout: "20s",
        labels: { team: "billing" },
        tls: {
          insecureSkipVerify: false,
          serverName: "billing.internal",
          caPem: "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n",
        },
        auth: { type: "basic", username: "prometheus" },
        credential: { secretRef: { name: "billing-metrics", key: "password" } },
      },
      { name: "plain", url: "http://10.0.0.5:9100", path: "/metrics", scheme: "http", labels: {} },
    ]);
  });

  test("probes: the apps' first, then probes[], with their modules and the default threshold", () => {
    const { config } = parse({
      apps: [shop, { name: "edge", url: "https://edge.example.com/metrics", probe: { path: "/healthz", expectStatus: [204, 200, 204] } }],
      probes: [website, smtp],
    });
    expect(config.probes).toEqual([
      {
        name: "shop",
        app: "shop",
        module: "http_2xx",
        target: { service: { namespace: "shop", name: "shop", port: "http" }, scheme: "http", path: "/health" },
        labels: {},
        latencySeconds: 1,
      },
      {
        name: "edge",
        app: "edge",
        module: "http_2xx",
        target: { url: "https://edge.example.com/healthz" },
        expectStatus: [200, 204],
        labels: {},
        latencySeconds: 1,
      },
      { name: "website", module: "http_2xx", target: { url: "https://www.example.com/" }, labels: {}, latencySeconds: 2 },
      { name: "smtp", module: "tcp_connect", target: { address: "mail.example.com:587" }, labels: {}, latencySeconds: 1 },
    ]);
    expect(parse({ apps: [{ ...shop, probe: undefined }] }).config.probes).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, Record<string, unknown>, RegExp]>([
    [
      "a target without service or url",
      { targets: [{ name: "x" }] },
      {},
      /^monitoring:targets\[0\]: target "x" needs exactly one of "service"/,
    ],
    [
      "a Service target with both port and targetPort (the component scrapes exactly one)",
      { targets: [{ name: "x", namespace: "shop", service: "x", port: "metrics", targetPort: 9000 }] },
      {},
      /^monitoring:targets\[0\]: target "x" scrapes a Service, so it needs "namespace" and one of "port" \(the Service port's name\) or "targetPort"/,
    ],
    [
      "a Service target with neither port nor targetPort",
      { targets: [{ name: "x", namespace: "shop", service: "x" }] },
      {},
      /^monitoring:targets\[0\]: target "x" scrapes a Service, so it needs "namespace" and one of "port"/,
    ],
    [
      "a target with credentials in its URL",
      { targets: [{ name: "x", url: "https://u:p@x.example.com/m" }] },
      {},
      /^monitoring:targets\[0\]\.url: /,
    ],
    [
      "a target named like an app",
      { apps: [shop], targets: [{ name: "shop", url: "http://x:1/m" }] },
      {},
      /^monitoring:targets\[0\]\.name: "shop" is also the name of apps\[0\]\.name/,
    ],
    [
      "a probe named like a target",
      { targets: [{ name: "x", url: "http://x:1/m" }], probes: [{ name: "x", url: "http://x/" }] },
      {},
      /^monitoring:probes\[0\]\.name: "x" is also the name of targets\[0\]\.name/,
    ],
    [
      "a target named like a job of the stack",
      { targets: [{ name: "prometheus", url: "http://x:1/m" }] },
      {},
      /^monitoring:targets\[0\]\.name: is one of the jobs of the stack's own series/,
    ],
    [
      "a reserved target label",
      { targets: [{ name: "x", url: "http://x:1/m", labels: { job: "y" } }] },
      {},
      /^monitoring:targets\[0\]\.labels\.job: is a label the scrape config sets itself/,
    ],
    [
      "a probe label named probe",
      { probes: [{ ...website, labels: { probe: "y" } }] },
      {},
      /^monitoring:probes\[0\]\.labels\.probe: is a label the scrape config sets itself/,
    ],
    [
      "auth without a credential",
      { targets: [minio] },
      {},
      /^monitoring:targets\[0\]\.auth: target "minio" needs its credential: .*targetCredentials\.minio/,
    ],
    [
      "both bearer token and user",
      { targets: [{ ...minio, auth: { bearerToken: true, username: "u" } }] },
      { targetCredentials: { minio: "t" } },
      /^monitoring:targets\[0\]\.auth: target "minio": choose bearerToken: true or username/,
    ],
    [
      "a credential for no target",
      {},
      { targetCredentials: { ghost: "t" } },
      /^monitoring:targetCredentials\.ghost: no target named "ghost"/,
    ],
    [
      "tls over http",
      { targets: [{ name: "x", url: "http://x:1/m", tls: { insecureSkipVerify: true } }] },
      {},
      /^monitoring:targets\[0\]\.tls: target "x" is scraped over http/,
    ],
    [
      "a CA that is not base64 of PEM",
      { targets: [{ ...minio, auth: undefined, tls: { caData: "not-a-cert" } }] },
      {},
      /^monitoring:targets\[0\]\.tls\.caData: must be base64 of PEM certificates/,
    ],
    [
      "a timeout longer than the interval",
      { targets: [{ name: "x", url: "http://x:1/m", interval: "10s", timeout: "30s" }] },
      {},
      /^monitoring:targets\[0\]\.timeout: must not be longer than the target's interval \(10s\)/,
    ],
    [
      "a probe with url and address",
      { probes: [{ ...website, address: "x:1" }] },
      {},
      /^monitoring:probes\[0\]: probe "website" uses module http_2xx, so it needs "url" \(and no "address"\)/,
    ],
    [
      "a TCP probe with status codes",
      { probes: [{ ...smtp, expectStatus: [200] }] },
      {},
      /^monitoring:probes\[0\]\.expectStatus: probe "smtp" uses module tcp_connect/,
    ],
    ["a status code that is none", { probes: [{ ...website, expectStatus: [700] }] }, {}, /^monitoring:probes\[0\]\.expectStatus\[0\]: /],
    [
      "a probe of a URL app on another port",
      { apps: [{ name: "edge", url: "https://edge.example.com/metrics", probe: { port: "http" } }] },
      {},
      /^monitoring:apps\[0\]\.probe: app "edge" is a URL/,
    ],
  ])("refused: %s", (_name, plain, secrets, pattern) => {
    expect(problems(plain, secrets)).toContainEqual(expect.stringMatching(pattern));
  });

  test("no message shows a credential", () => {
    const found = problems({ targets: [{ name: "x", url: "http://x:1/m" }] }, { targetCredentials: { x: "S3CR3T-VALUE" } });
    expect(found.join("\n")).not.toContain("S3CR3T-VALUE");
    expect(found).toContainEqual(expect.stringMatching(/^monitoring:targetCredentials\.x: target "x" has no auth/));
  });
});

describe("render", () => {
  let rendered: Rendered;
  let plain: Rendered;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "targets-probes-"));
  beforeAll(async () => {
    rendered = await renderTargetsAndProbes();
    plain = await renderConfig("staging", { apps: [{ ...shop, probe: undefined }] });
    layOutContainer(rendered, root);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const jobs = (r: Rendered) =>
    (
      YAML.parse(r.files.get("prometheus/prometheus.yml") ?? "") as {
        scrape_configs: Array<Record<string, unknown> & { job_name: string }>;
      }
    ).scrape_configs;

  test("the blackbox exporter runs only when something is probed, admitting only Prometheus", () => {
    expect(objectsOf(plain, "Deployment", "blackbox-exporter")).toEqual([]);
    expect(jobs(plain).filter((j) => j.job_name.startsWith("blackbox"))).toEqual([]);
    expect(plain.files.has("prometheus/probes.rules.yml")).toBe(false);
    const deployment = objectOf(rendered, "Deployment", "blackbox-exporter");
    expect(JSON.stringify(deployment)).toContain("quay.io/prometheus/blackbox-exporter:v0.28.0");
    const policy = objectOf(rendered, "NetworkPolicy", "blackbox-exporter") as unknown as {
      spec: { ingress: Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }> };
    };
    expect(policy.spec.ingress[0].from.map((f) => f.podSelector.matchLabels["app.kubernetes.io/name"])).toEqual(["prometheus"]);
    for (const kind of ["Deployment", "Service", "ConfigMap", "NetworkPolicy"]) {
      expect(schemaProblems(objectOf(rendered, kind, "blackbox-exporter") as never)).toEqual([]);
    }
    expect(YAML.parse(rendered.files.get("blackbox-exporter/blackbox.yml") ?? "")).toEqual(blackboxConfig([]));
  });

  test("the credential and CA files are where the container finds them", () => {
    const dir = path.join(root, PROMETHEUS_PATHS.targetSecretsDir);
    expect(fs.readdirSync(dir).sort()).toEqual(["billing-ca.crt", "billing-credential", "minio-credential"]);
    expect(fs.readFileSync(path.join(dir, "minio-credential"), "utf8")).toBe("tok-123");
  });

  test("credentials reach the pod through Secrets only, an existing one projected as optional", () => {
    expect(rendered.files.get("prometheus/prometheus.yml")).not.toContain("tok-123");
    const sts = objectOf(rendered, "StatefulSet", "prometheus") as unknown as {
      spec: { template: { spec: { volumes: Array<{ name: string; projected?: { sources: unknown[] } }> } } };
    };
    expect(sts.spec.template.spec.volumes.find((v) => v.name === "targets")?.projected?.sources).toEqual([
      { secret: { name: "prometheus-targets" } },
      { secret: { name: "billing-metrics", optional: true, items: [{ key: "password", path: "billing-credential" }] } },
    ]);
    expect(Object.keys(objectOf(rendered, "Secret", "prometheus-targets").stringData as object).sort()).toEqual([
      "billing-ca.crt",
      "minio-credential",
    ]);
    expect(objectsOf(plain, "Secret", "prometheus-targets")).toEqual([]);
  });

  test("a target is its own job, without the app contract; the probes' thresholds are recorded", () => {
    const minioJob = jobs(rendered).find((j) => j.job_name === "minio");
    expect(minioJob).toMatchObject({
      scheme: "https",
      metrics_path: "/minio/v2/metrics/cluster",
      authorization: { type: "Bearer", credentials_file: "/etc/prometheus/secrets/targets/minio-credential" },
      static_configs: [{ targets: ["minio.example.com:9000"] }],
    });
    expect(jobs(rendered).find((j) => j.job_name === "billing")).toMatchObject({
      scrape_interval: "1m",
      scrape_timeout: "20s",
      basic_auth: { username: "prometheus", password_file: "/etc/prometheus/secrets/targets/billing-credential" },
      tls_config: {
        ca_file: "/etc/prometheus/secrets/targets/billing-ca.crt",
        server_name: "billing.internal",
        insecure_skip_verify: false,
      },
    });
    const appRules = rendered.files.get("prometheus/apps.rules.yml") ?? "";
    expect(appRules).toContain('"shop"');
    expect(appRules).not.toMatch(/minio|billing/);
    const thresholds = YAML.parse(rendered.files.get("prometheus/probes.rules.yml") ?? "") as {
      groups: Array<{ rules: Array<{ record: string; expr: string; labels: { probe: string } }> }>;
    };
    expect(thresholds.groups[0].rules.map((r) => [r.record, r.labels.probe, r.expr])).toEqual([
      ["probe:alert_threshold_latency_seconds", "shop", "1"],
      ["probe:alert_threshold_latency_seconds", "website", "2"],
      ["probe:alert_threshold_latency_seconds", "smtp", "1"],
    ]);
  });

  test("the Uptime dashboard and rules/probes.yml ship only with a probe: their panels and ProbeSlow read what probes record", () => {
    const content = (r: Rendered) => [...r.files.keys()].filter((f) => /^(prometheus\/[^/]+\.yml|grafana\/[^/]+\.json)$/.test(f));
    expect(content(rendered)).toEqual(expect.arrayContaining(["grafana/applications__uptime.json", "prometheus/probes.yml"]));
    expect(content(plain).filter((f) => /uptime|probes/.test(f))).toEqual([]);
    // Nothing else of the probes remains: no dashboard links to it, no rule reads a probe's series.
    for (const f of content(plain))
      expect({ f, text: plain.files.get(f) }).not.toEqual({ f, text: expect.stringMatching(/\/d\/uptime|probe_|probe:/) });
    // The other dashboards of the applications folder stay.
    expect(content(plain).filter((f) => f.startsWith("grafana/applications__"))).toEqual([
      "grafana/applications__app-overview.json",
      "grafana/applications__slo.json",
    ]);
  });
});
