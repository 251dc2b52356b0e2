/**
 * Grafana: its pure config builders (grafana.ini, provisioning, the dashboards
 * ConfigMap split), the component alone under mocks, and both real stacks.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { GrafanaArgs } from "../../components/grafana/args";
import { CONFIGMAP_DATA_BUDGET, CONFIGMAP_MAX_BYTES, DEFAULT_DASHBOARDS_DIR } from "../../components/grafana/dashboards";
import {
  DashboardFile,
  dashboardEntryBytes,
  planDashboardConfigMaps,
  readDashboards,
  withoutDashboards,
  withoutRows,
} from "../../components/grafana/dashboards";
import { Grafana } from "../../components/grafana";
import { problems } from "../../components/grafana/section";
import { adminPasswordDigest, adminPasswordResetCommand, grafanaIni, iniText } from "../../components/grafana/ini";
import { grafanaDashboardProviders, grafanaDatasources } from "../../components/grafana/provisioning";
import { images, imageVersion } from "../../components/images";
import { K8sObject, Rendered, kubernetesYaml, renderRun } from "../../cli/render";
import { RunResult, SecretValue, runProgram } from "../../cli/runner";
import { objectOf, objectsOf, render, renderStack, ALONE } from "../support/render";
import { schemaProblems } from "../support/schema";
import { problems as configProblems } from "../config/support";
import { ConfigError, parseStackConfig, publicHostname } from "../../config";

// ---------------------------------------------------------------------------
// Fixtures

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A dashboards directory: folder -> file -> content. */
function dashboardsDir(tree: Record<string, Record<string, string>>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "grafana-dashboards-"));
  tempDirs.push(dir);
  for (const [folder, files] of Object.entries(tree)) {
    fs.mkdirSync(path.join(dir, folder));
    for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, folder, file), content);
  }
  return dir;
}

/** A small valid dashboard, padded to about `bytes` bytes of JSON with quotes and newlines that escaping inflates. */
function dashboardJson(uid: string, bytes = 200): string {
  const base = { uid, title: `Dashboard ${uid}`, tags: ["test"], panels: [] as unknown[], description: "" };
  const line = '"quoted" text\n';
  base.description = line.repeat(Math.max(0, Math.ceil((bytes - 120) / line.length)));
  return `${JSON.stringify(base, null, 2)}\n`;
}

function dashboardFile(folder: string, file: string, bytes: number): DashboardFile {
  return { folder, file, source: `dashboards/${folder}/${file}`, content: dashboardJson(`${folder}-${file}`, bytes) };
}

/** A stack's salt, as index.ts hands it over (preflight/stack-salt.ts). */
const STACK_SALT = Buffer.alloc(32, 7);

const BASE: GrafanaArgs = {
  namespace: "monitoring",
  environment: "test",
  stackSalt: STACK_SALT,
  replicas: 1,
  adminUser: "admin",
  writableFolder: "Team dashboards",
  storage: { size: "2Gi", storageClass: "local-path" },
  resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  scrapeInterval: "15s",
};

interface GrafanaRender {
  run: RunResult;
  /** Secrets shown. */
  rendered: Rendered;
  /** Secrets redacted, as a reviewer sees the render. */
  redacted: Rendered;
}

/** Renders the component alone; by default with an empty dashboards directory. */
async function renderGrafana(args: Partial<GrafanaArgs> = {}, opts: pulumi.ComponentResourceOptions = {}): Promise<GrafanaRender> {
  const run = await runProgram({
    ...ALONE,
    program: async () => {
      const g = new Grafana("grafana", { ...BASE, dashboardsDir: dashboardsDir({}), ...args }, opts);
      return { url: g.url, internalUrl: g.internalUrl, adminUser: g.adminUser, adminPassword: g.adminPassword };
    },
  });
  return { run, rendered: renderRun(run, true), redacted: renderRun(run, false) };
}

interface PodSpec {
  securityContext: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  affinity?: unknown;
  initContainers?: Array<{
    name: string;
    image: string;
    command: string[];
    resources: unknown;
    securityContext: Record<string, unknown>;
    volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  }>;
  containers: Array<{
    name: string;
    image: string;
    env?: Array<{ name: string; value?: string }>;
    ports: unknown[];
    startupProbe: Record<string, unknown>;
    readinessProbe: Record<string, unknown>;
    livenessProbe: Record<string, unknown>;
    resources: unknown;
    securityContext: Record<string, unknown>;
    volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
  }>;
  volumes: Array<{
    name: string;
    configMap?: { name: string; items?: unknown[] };
    projected?: { sources: Array<{ configMap?: { name: string }; secret?: { name: string } }>; defaultMode?: number };
    persistentVolumeClaim?: { claimName: string };
    emptyDir?: Record<string, unknown>;
  }>;
}
interface DeploymentSpec {
  replicas: number;
  strategy: { type: string };
  template: { metadata: { annotations?: Record<string, string>; labels: Record<string, string> }; spec: PodSpec };
}

const deploymentOf = (r: Rendered) => objectOf(r, "Deployment", "grafana").spec as DeploymentSpec;
const podOf = (r: Rendered) => deploymentOf(r).template.spec;
const dataOf = (o: K8sObject) => (o.data ?? {}) as Record<string, string>;
const grafanaObjects = (r: Rendered) => r.kubernetes.filter((o) => o.component === "grafana");
/** Everything a reviewer reads: the objects, the config files and the outputs. */
const everything = (r: Rendered) => [kubernetesYaml(r), ...r.files.values(), JSON.stringify(r.outputs)].join("\n");

// ---------------------------------------------------------------------------
// grafana.ini

describe("iniText", () => {
  test("writes sections in order, one key per line, booleans and numbers as words", () => {
    expect(iniText({ server: { http_port: 3000, enforce_domain: false }, "auth.anonymous": { enabled: false } })).toBe(
      "[server]\nhttp_port = 3000\nenforce_domain = false\n\n[auth.anonymous]\nenabled = false\n",
    );
  });

  test("backquotes values that go-ini would cut at a comment character or trim", () => {
    expect(iniText({ s: { a: "x#y", b: "x;y", c: " padded", d: "plain value" } })).toBe(
      "[s]\na = `x#y`\nb = `x;y`\nc = ` padded`\nd = plain value\n",
    );
  });

  // Nothing it could not write safely reaches it: the names are grafanaIni's own (below), and the
  // values a stack gives fit on one line without a backquote (config: control characters in
  // test/config/secrets.test.ts, a backquote in grafana.database in test/config/checks.test.ts).
  test("every section and key grafanaIni writes is a plain go-ini name, whatever the args", () => {
    const docs = [
      grafanaIni({ rootUrl: "https://grafana.example.com" }),
      grafanaIni({ rootUrl: "http://grafana.monitoring.svc:3000" }),
      grafanaIni({ rootUrl: "https://g.example.com", database: { type: "postgres", host: "db:5432", name: "grafana", user: "grafana" } }),
      grafanaIni({ rootUrl: "https://g.example.com", database: { type: "mysql", host: "db", name: "g", user: "g", sslMode: "disable" } }),
    ];
    for (const doc of docs) {
      for (const [section, entries] of Object.entries(doc)) {
        expect(section).toMatch(/^[A-Za-z0-9_.-]+$/);
        for (const key of Object.keys(entries)) expect(`${section}.${key}`).toMatch(/^[A-Za-z0-9_.-]+$/);
      }
    }
  });

  test("config refuses the database values grafana.ini could not hold: a line break, a backquote", () => {
    const database = { type: "mysql", host: "db:3306", name: "grafana", user: "grafana" };
    expect(
      configProblems("staging", { grafana: { database: { ...database, user: "graf\nana" } } }, { grafanaDatabasePassword: "pw" }),
    ).toEqual([
      expect.stringMatching(/^monitoring:grafana\.database\.user: must be on one line, without control characters; found a line break/),
    ]);
    expect(
      configProblems("staging", { grafana: { database: { ...database, name: "graf`ana" } } }, { grafanaDatabasePassword: "pw" }),
    ).toEqual([expect.stringMatching(/^monitoring:grafana\.database\.name: must not contain a backquote/)]);
    expect(
      configProblems("staging", { grafana: { database: { ...database, host: "db`:3306" } } }, { grafanaDatabasePassword: "pw" }),
    ).toEqual([expect.stringMatching(/^monitoring:grafana\.database\.host: must be a host or host:port/)]);
    // A port past 65535 is no port: refused here, not left to the egress policy's parser.
    expect(
      configProblems("staging", { grafana: { database: { ...database, host: "db:99999" } } }, { grafanaDatabasePassword: "pw" }),
    ).toEqual([
      expect.stringMatching(
        /^monitoring:grafana\.database\.host: must be a host or host:port such as db\.internal:5432, the port at most 65535/,
      ),
    ]);
  });
});

describe("grafanaIni", () => {
  test("served over https: locked down, secure cookies, admin credentials read from the mounted Secret, SQLite", () => {
    expect(grafanaIni({ rootUrl: "https://grafana.example.com" })).toEqual({
      // The server's own paths, for `grafana cli` in the init container too.
      paths: {
        data: "/var/lib/grafana",
        logs: "/var/log/grafana",
        plugins: "/var/lib/grafana/plugins",
        provisioning: "/etc/grafana/provisioning",
      },
      server: {
        protocol: "http",
        http_port: 3000,
        domain: "grafana.example.com",
        root_url: "https://grafana.example.com/",
        enforce_domain: false,
      },
      "server.custom_response_headers": { "Referrer-Policy": "strict-origin-when-cross-origin" },
      database: { type: "sqlite3", path: "grafana.db" },
      security: {
        admin_user: "$__file{/etc/grafana-secrets/admin-user}",
        admin_password: "$__file{/etc/grafana-secrets/admin-password}",
        cookie_secure: true,
        cookie_samesite: "lax",
        disable_gravatar: true,
        strict_transport_security: true,
        strict_transport_security_max_age_seconds: 31536000,
        strict_transport_security_subdomains: true,
        strict_transport_security_preload: false,
        x_content_type_options: true,
        allow_embedding: false,
      },
      users: { allow_sign_up: false, allow_org_create: false },
      "auth.anonymous": { enabled: false },
      analytics: { reporting_enabled: false, check_for_updates: false, check_for_plugin_updates: false, feedback_links_enabled: false },
      news: { news_feed_enabled: false },
      snapshots: { external_enabled: false },
      log: { mode: "console", level: "info" },
      metrics: { enabled: true },
    });
  });

  test("served in-cluster over http: the root URL is the Service and cookies are not marked secure", () => {
    const ini = grafanaIni({ rootUrl: "http://grafana.monitoring.svc:3000" });
    expect(ini.server).toMatchObject({ domain: "grafana.monitoring.svc", root_url: "http://grafana.monitoring.svc:3000/" });
    expect(ini.security.cookie_secure).toBe(false);
    // HSTS means nothing over http (browsers ignore it there).
    expect(ini.security.strict_transport_security).toBe(false);
    expect(ini["auth.anonymous"].enabled).toBe(false);
    expect(ini.users.allow_sign_up).toBe(false);
  });

  test("an external database: its password comes from the mounted Secret, TLS spelled per engine", () => {
    const postgres = grafanaIni({
      rootUrl: "https://g.example.com",
      database: { type: "postgres", host: "db:5432", name: "grafana", user: "grafana", sslMode: "verify-full" },
    });
    expect(postgres.database).toEqual({
      type: "postgres",
      host: "db:5432",
      name: "grafana",
      user: "grafana",
      password: "$__file{/etc/grafana-secrets/database-password}",
      ssl_mode: "verify-full",
    });
    const mysql = (sslMode?: "disable" | "require" | "verify-full") =>
      grafanaIni({
        rootUrl: "https://g.example.com",
        database: { type: "mysql", host: "db", name: "g", user: "g", ...(sslMode ? { sslMode } : {}) },
      }).database.ssl_mode;
    expect([mysql("disable"), mysql("require"), mysql("verify-full"), mysql()]).toEqual(["false", "skip-verify", "true", "skip-verify"]);
  });
});

// ---------------------------------------------------------------------------
// Provisioning

describe("provisioning", () => {
  test("datasources have fixed uids, in-cluster URLs, and Prometheus is the default", () => {
    expect(grafanaDatasources({ namespace: "mon", loki: true, scrapeInterval: "30s" })).toEqual({
      apiVersion: 1,
      datasources: [
        {
          name: "Prometheus",
          uid: "prometheus",
          type: "prometheus",
          access: "proxy",
          url: "http://prometheus.mon.svc:9090",
          isDefault: true,
          editable: false,
          jsonData: {
            httpMethod: "POST",
            timeInterval: "30s",
            prometheusType: "Prometheus",
            prometheusVersion: imageVersion("prometheus").replace(/^v/, ""),
          },
        },
        {
          name: "Alertmanager",
          uid: "alertmanager",
          type: "alertmanager",
          access: "proxy",
          url: "http://alertmanager.mon.svc:9093",
          isDefault: false,
          editable: false,
          jsonData: { implementation: "prometheus", handleGrafanaManagedAlerts: false },
        },
        {
          name: "Loki",
          uid: "loki",
          type: "loki",
          access: "proxy",
          url: "http://loki.mon.svc:3100",
          isDefault: false,
          editable: false,
          jsonData: { maxLines: 1000 },
        },
      ],
      // Without the traces backend (traces unset), a Traces datasource of an earlier deployment goes.
      deleteDatasources: [{ name: "Traces", orgId: 1 }],
    });
  });

  test("with traces: a Jaeger datasource, and links from exemplars and log lines to traces, from spans to logs and metrics", () => {
    const doc = grafanaDatasources({ namespace: "mon", loki: true, traces: true }) as {
      datasources: Array<{ uid: string; type: string; url: string; jsonData: Record<string, unknown> }>;
      deleteDatasources?: unknown;
    };
    expect(doc.deleteDatasources).toBeUndefined();
    const [prometheus, , loki, traces] = doc.datasources;
    expect(traces).toMatchObject({ uid: "traces", type: "jaeger", url: "http://jaeger.mon.svc:16686" });
    expect(prometheus.jsonData.exemplarTraceIdDestinations).toEqual([{ name: "trace_id", datasourceUid: "traces" }]);
    expect(loki.jsonData.derivedFields).toEqual([
      { name: "trace_id", matcherType: "label", matcherRegex: "trace_id", datasourceUid: "traces", url: "${__value.raw}" },
    ]);
    expect(traces.jsonData.tracesToLogsV2).toMatchObject({ datasourceUid: "loki", tags: [{ key: "namespace" }, { key: "app" }] });
    expect(traces.jsonData.tracesToLogsV2).toHaveProperty("query", '{${__tags}} | trace_id="${__trace.traceId}"');
    const metrics = traces.jsonData.tracesToMetrics as { datasourceUid: string; queries: Array<{ query: string }> };
    expect(metrics.datasourceUid).toBe("prometheus");
    // The app rules' series, then the span metrics, by the span's app.
    const [rules, spans] = [metrics.queries.slice(0, 3), metrics.queries.slice(3)];
    for (const q of rules) expect(q.query).toMatch(/^(sum by \(app\) \()?app:[a-z_:0-9]+\{\$__tags\}\)?$/);
    expect(spans.map((q) => q.query)).toEqual([
      "sum by (span_name) (rate(traces_span_metrics_calls_total{$__tags}[5m]))",
      "histogram_quantile(0.95, sum by (span_name, le) (rate(traces_span_metrics_duration_seconds_bucket{$__tags}[5m])))",
    ]);
  });

  test("without Loki there is no Loki datasource, and one left by an earlier deployment is deleted", () => {
    const doc = grafanaDatasources({ namespace: "mon", loki: false }) as {
      datasources: Array<{ uid: string }>;
      deleteDatasources: unknown;
    };
    expect(doc.datasources.map((d) => d.uid)).toEqual(["prometheus", "alertmanager"]);
    expect(doc.deleteDatasources).toEqual([
      { name: "Loki", orgId: 1 },
      { name: "Traces", orgId: 1 },
    ]);
  });

  test("the repository's dashboards are read-only, and one folder of their own, with no file, takes what users save", () => {
    expect(grafanaDashboardProviders()).toEqual({
      apiVersion: 1,
      providers: [
        {
          name: "dashboards",
          orgId: 1,
          type: "file",
          disableDeletion: false,
          allowUiUpdates: false,
          updateIntervalSeconds: 30,
          options: { path: "/etc/grafana/dashboards", foldersFromFilesStructure: true },
        },
        {
          name: "writable-folder",
          orgId: 1,
          type: "file",
          folder: "Team dashboards",
          folderUid: "writable-dashboards",
          // It provisions nothing: it may never delete what users saved in its folder.
          disableDeletion: true,
          allowUiUpdates: true,
          updateIntervalSeconds: 60,
          options: { path: "/etc/grafana/writable-folder" },
        },
      ],
    });
    expect((grafanaDashboardProviders("Ops drafts").providers as Array<{ folder?: string }>)[1].folder).toBe("Ops drafts");
  });

  test("the writable folder takes the title the stack gives, never one of the provisioned folders'", async () => {
    const { rendered } = await renderGrafana({ writableFolder: "Ops drafts" });
    const providers = YAML.parse(
      (objectOf(rendered, "ConfigMap", "grafana-config").data as Record<string, string>)["dashboard-providers.yaml"],
    ) as {
      providers: Array<{ name: string; folder?: string }>;
    };
    expect(providers.providers.map((p) => [p.name, p.folder])).toEqual([
      ["dashboards", undefined],
      ["writable-folder", "Ops drafts"],
    ]);
    // The stack config refuses Grafana's root folder and titles with edge spaces.
    const configProblems = (title: unknown) => {
      try {
        parseStackConfig({
          project: "monitoring",
          stack: "staging",
          values: { "monitoring:grafana": JSON.stringify({ writableFolder: title }) },
          secretKeys: [],
        });
        return [];
      } catch (err) {
        return (err as ConfigError).problems.map((p) => `${p.key}: ${p.message}`);
      }
    };
    expect(parseStackConfig({ project: "monitoring", stack: "staging", values: {}, secretKeys: [] }).config.grafana.writableFolder).toBe(
      "Team dashboards",
    );
    expect(configProblems("General")).toEqual([expect.stringMatching(/^monitoring:grafana\.writableFolder: must not be "General"/)]);
    expect(configProblems(" Drafts")).toEqual([
      expect.stringMatching(/^monitoring:grafana\.writableFolder: must not start or end with spaces/),
    ]);
    expect(configProblems("Ops drafts")).toEqual([]);
    const dir = dashboardsDir({ apps: { "overview.json": dashboardJson("overview", 1000) } });
    await expect(renderGrafana({ dashboardsDir: dir, writableFolder: "Apps" })).rejects.toThrow(
      /writableFolder "Apps" is also a folder of provisioned dashboards \(apps\)/,
    );
  });

  test("Grafana is public when Traefik or the tunnel exposes it", () => {
    const cfg = (traefik: boolean, traefikExpose: string[], cloudflare: boolean, cloudflareExpose: string[]) =>
      publicHostname(
        {
          traefik: { enabled: traefik, expose: traefikExpose } as never,
          cloudflare: { enabled: cloudflare, expose: cloudflareExpose } as never,
          hostnames: { grafana: "grafana.example.com" },
        },
        "grafana",
      );
    expect(cfg(true, ["grafana"], false, ["grafana"])).toBe("grafana.example.com");
    expect(cfg(false, ["grafana"], true, ["grafana"])).toBe("grafana.example.com");
    expect(cfg(true, ["prometheus"], true, [])).toBeUndefined();
    expect(cfg(false, ["grafana"], false, ["grafana"])).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// Dashboards: reading and splitting

describe("planDashboardConfigMaps", () => {
  // Given two folders: many small dashboards and a few large ones.
  const small = Array.from({ length: 400 }, (_, i) => dashboardFile("apps", `small-${String(i).padStart(3, "0")}.json`, 8 * 1024));
  const large = Array.from({ length: 5 }, (_, i) => dashboardFile("apps", `large-${i}.json`, 300 * 1024));
  const infra = [dashboardFile("infra_nodes", "node.json", 2048), dashboardFile("infra_nodes", "disk.json", 500 * 1024)];
  const all = [...small, ...large, ...infra];

  test("every dashboard lands in exactly one ConfigMap of its folder, under its folder__file key", () => {
    const plans = planDashboardConfigMaps(all);
    const shipped = plans.flatMap((p) => Object.entries(p.data).map(([key, content]) => ({ key, content, folder: p.folder })));
    expect(shipped.map((s) => s.key).sort()).toEqual(all.map((d) => `${d.folder}__${d.file}`).sort());
    for (const d of all) {
      const found = shipped.filter((s) => s.key === `${d.folder}__${d.file}`);
      expect(found).toEqual([{ key: `${d.folder}__${d.file}`, content: d.content, folder: d.folder }]);
    }
  });

  test("the maps are numbered per folder and as few as the sizes allow", () => {
    const plans = planDashboardConfigMaps(all);
    const total = all
      .filter((d) => d.folder === "apps")
      .reduce((sum, d) => sum + dashboardEntryBytes(`${d.folder}__${d.file}`, d.content), 0);
    const apps = plans.filter((p) => p.folder === "apps").map((p) => p.name);
    expect(apps.length).toBeGreaterThan(1);
    expect(apps.length).toBeLessThanOrEqual(Math.ceil(total / CONFIGMAP_DATA_BUDGET) + 1);
    expect(apps).toEqual(apps.map((_, i) => `grafana-dashboards-apps-${i + 1}`));
    expect(plans.filter((p) => p.folder === "infra_nodes").map((p) => p.name)).toEqual(["grafana-dashboards-infra-nodes-1"]);
  });

  test("every map's serialised data stays within the budget, leaving the margin for metadata", () => {
    for (const plan of planDashboardConfigMaps(all)) {
      expect(Buffer.byteLength(JSON.stringify(plan.data))).toBeLessThanOrEqual(CONFIGMAP_DATA_BUDGET);
    }
    expect(CONFIGMAP_DATA_BUDGET).toBeLessThan(CONFIGMAP_MAX_BYTES);
  });

  test("the plan depends on the files, not on the order they are listed in", () => {
    expect(planDashboardConfigMaps([...all].reverse())).toEqual(planDashboardConfigMaps(all));
  });

  test("a dashboard that alone exceeds a ConfigMap is an error naming its file", () => {
    const huge = dashboardFile("apps", "huge.json", CONFIGMAP_MAX_BYTES);
    expect(() => planDashboardConfigMaps([...all, huge])).toThrow(
      /^dashboards\/apps\/huge\.json weighs \d+ bytes serialised, more than one ConfigMap holds/,
    );
  });

  test("names that cannot become keys, or folders that would collide, are refused", () => {
    expect(() => planDashboardConfigMaps([dashboardFile("my apps", "a.json", 100)])).toThrow('folder name "my apps"');
    expect(() => planDashboardConfigMaps([dashboardFile("apps", "a b.json", 100)])).toThrow('file name "a b.json"');
    expect(() => planDashboardConfigMaps([dashboardFile("Apps", "a.json", 100), dashboardFile("apps", "b.json", 100)])).toThrow(
      'folders "Apps" and "apps" differ only in case or punctuation',
    );
    expect(() => planDashboardConfigMaps([dashboardFile("apps", "a.json", 100), dashboardFile("apps", "a.json", 100)])).toThrow(
      "listed twice",
    );
  });
});

describe("readDashboards", () => {
  test("reads every <folder>/*.json and nothing else", () => {
    const dir = dashboardsDir({
      infra: { "node.json": dashboardJson("node"), "README.md": "notes" },
      apps: { "overview.json": dashboardJson("overview") },
    });
    fs.writeFileSync(path.join(dir, "README.md"), "about the dashboards");
    expect(readDashboards(dir).map((d) => [d.folder, d.file, d.source])).toEqual([
      ["apps", "overview.json", `${path.basename(dir)}/apps/overview.json`],
      ["infra", "node.json", `${path.basename(dir)}/infra/node.json`],
    ]);
    expect(readDashboards(dir)[1].content).toBe(dashboardJson("node"));
  });

  test("a dashboard outside a folder, a nested folder or broken JSON is an error naming the file", () => {
    const loose = dashboardsDir({});
    fs.writeFileSync(path.join(loose, "loose.json"), dashboardJson("loose"));
    expect(() => readDashboards(loose)).toThrow(`${path.basename(loose)}/loose.json: dashboards live in a folder`);

    const nested = dashboardsDir({ apps: {} });
    fs.mkdirSync(path.join(nested, "apps", "more"));
    expect(() => readDashboards(nested)).toThrow(`${path.basename(nested)}/apps/more: nested folders are not supported`);

    const broken = dashboardsDir({ apps: { "bad.json": '{"uid": ' } });
    expect(() => readDashboards(broken)).toThrow(`${path.basename(broken)}/apps/bad.json is not valid JSON at line 1, column 9:`);
    // The line and column of the mistake, whether V8 names its position or only the token.
    const comma = dashboardsDir({ apps: { "bad.json": '{\n  "uid": "a"\n  "title": "b"\n}\n' } });
    expect(() => readDashboards(comma)).toThrow(
      `${path.basename(comma)}/apps/bad.json is not valid JSON at line 3, column 3: Expected ',' or '}' after property value`,
    );
    const token = dashboardsDir({ apps: { "bad.json": '{\n  "uid": "a",\n  "title": }\n' } });
    expect(() => readDashboards(token)).toThrow(
      `${path.basename(token)}/apps/bad.json is not valid JSON at line 3, column 12: Unexpected token '}'`,
    );
  });

  test("a missing directory holds no dashboards", () => {
    expect(readDashboards(path.join(os.tmpdir(), "no-such-dashboards-dir"))).toEqual([]);
  });
});

describe("withoutDashboards", () => {
  const file = (uid: string, extra: object): DashboardFile => ({
    folder: "infra",
    file: `${uid}.json`,
    source: `dashboards/infra/${uid}.json`,
    content: `${JSON.stringify({ uid, title: uid, ...extra }, null, 2)}\n`,
  });
  const toLogs = { title: "Logs", url: "/d/logs?var-pod=${pod}" };
  const toPods = { title: "Pods", url: "/d/k8s-pod" };

  test("leaves out the dashboards of the given uids and every link of the others to them", () => {
    const pod = file("k8s-pod", {
      links: [toLogs, toPods, { title: "Logs too", url: "/d/logs/logs" }, { title: "Logsearch", url: "/d/logsearch" }],
      panels: [
        {
          links: [toLogs],
          fieldConfig: {
            defaults: { links: [toLogs, toPods] },
            overrides: [{ matcher: { id: "byName", options: "Pod" }, properties: [{ id: "links", value: [toLogs] }] }],
          },
        },
      ],
    });
    const untouched = file("nodes", { links: [toPods] });
    const kept = withoutDashboards([file("logs", {}), pod, untouched], ["logs"]);
    expect(kept.map((d) => d.file)).toEqual(["k8s-pod.json", "nodes.json"]);
    expect(JSON.parse(kept[0].content)).toEqual({
      uid: "k8s-pod",
      title: "k8s-pod",
      links: [toPods, { title: "Logsearch", url: "/d/logsearch" }],
      panels: [
        {
          links: [],
          fieldConfig: {
            defaults: { links: [toPods] },
            overrides: [{ matcher: { id: "byName", options: "Pod" }, properties: [{ id: "links", value: [] }] }],
          },
        },
      ],
    });
    // Written as the repository writes dashboards; a dashboard without such links ships byte for byte.
    expect(kept[0].content).toBe(`${JSON.stringify(JSON.parse(kept[0].content), null, 2)}\n`);
    expect(kept[1]).toBe(untouched);
    expect(withoutDashboards([pod], [])).toEqual([pod]);
  });

  test("a link or a uid its JSON text spells with escapes (\\/, \\u) is found as the parsed dashboard reads it", () => {
    // Valid JSON: slashes escaped, and "logs" spelled `\u006cogs` where the text never holds it as it is.
    const escaped = (uid: string, url: string): DashboardFile => ({
      folder: "infra",
      file: `${uid.replace(/\\u006c/, "l")}.json`,
      source: `dashboards/infra/${uid}.json`,
      content: `{"uid": "${uid}", "links": [{"title": "Logs", "url": "${url}"}, {"title": "Pods", "url": "/d/k8s-pod"}]}\n`,
    });
    const slashes = escaped("pods", "\\/d\\/logs?var-pod=x");
    const unicode = escaped("nodes", "/d/\\u006cogs");
    const logs = escaped("\\u006cogs", "/d/pods");
    expect([unicode, logs].map((d) => d.content.includes("logs"))).toEqual([false, false]);
    const kept = withoutDashboards([slashes, unicode, logs], ["logs"]);
    expect(kept.map((d) => d.file)).toEqual(["pods.json", "nodes.json"]);
    for (const d of kept) expect(JSON.parse(d.content).links).toEqual([{ title: "Pods", url: "/d/k8s-pod" }]);
  });
});

describe("withoutRows", () => {
  const panel = (id: number, type: string, y: number, h: number, title = `p${id}`) => ({ id, type, title, gridPos: { x: 0, y, w: 24, h } });
  const board = (uid: string, panels: object[]): DashboardFile => ({
    folder: "monitoring",
    file: `${uid}.json`,
    source: `dashboards/monitoring/${uid}.json`,
    content: `${JSON.stringify({ uid, title: uid, panels }, null, 2)}\n`,
  });

  test("leaves out a row and its panels up to the next row, and moves the panels below it up", () => {
    const health = board("health", [
      panel(1, "stat", 0, 4),
      panel(2, "row", 4, 1, "Traces"),
      panel(3, "timeseries", 5, 8),
      panel(4, "timeseries", 13, 8),
      panel(5, "row", 21, 1, "Grafana"),
      panel(6, "timeseries", 22, 8),
    ]);
    const other = board("apps", [panel(1, "row", 0, 1, "Traces"), panel(2, "timeseries", 1, 8)]);
    const [kept, untouched] = withoutRows([health, other], [{ dashboard: "health", row: "Traces" }]);
    expect(JSON.parse(kept.content).panels).toEqual([
      panel(1, "stat", 0, 4),
      panel(5, "row", 4, 1, "Grafana"),
      panel(6, "timeseries", 5, 8),
    ]);
    expect(kept.content).toBe(`${JSON.stringify(JSON.parse(kept.content), null, 2)}\n`);
    // Another dashboard's row of the same title, and a dashboard without the row, ship byte for byte.
    expect(untouched).toBe(other);
    expect(withoutRows([health], [])).toEqual([health]);
  });

  test("a row of a dashboard whose JSON text spells its uid with an escape is found", () => {
    const health = board("health", [panel(1, "stat", 0, 4), panel(2, "row", 4, 1, "Traces"), panel(3, "timeseries", 5, 8)]);
    const spelled = {
      ...health,
      content: health.content.replace('"uid": "health"', '"uid": "\\u0068ealth"').replace('"title": "health"', '"title": "Health"'),
    };
    expect(spelled.content).not.toContain('"health"');
    const [kept] = withoutRows([spelled], [{ dashboard: "health", row: "Traces" }]);
    expect(JSON.parse(kept.content).panels).toEqual([panel(1, "stat", 0, 4)]);
  });

  test("a last row goes with every panel after it", () => {
    const apps = board("apps", [panel(1, "timeseries", 0, 8), panel(2, "row", 8, 1, "Traces"), panel(3, "timeseries", 9, 8)]);
    const [kept] = withoutRows([apps], [{ dashboard: "apps", row: "Traces" }]);
    expect(JSON.parse(kept.content).panels).toEqual([panel(1, "timeseries", 0, 8)]);
  });
});

// ---------------------------------------------------------------------------
// The component alone

describe("Grafana: admin credentials", () => {
  test("without a password, a RandomPassword of the component is generated and reaches only the Secret", async () => {
    const { run, rendered, redacted } = await renderGrafana();

    const generated = run.resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword");
    expect(generated).toHaveLength(1);
    expect(generated[0].parents).toContain("monitoring:index:Grafana");
    expect(Number(generated[0].inputs.length)).toBeGreaterThanOrEqual(32);

    const secret = objectOf(rendered, "Secret", "grafana-admin");
    const stringData = secret.stringData as Record<string, string>;
    expect(Object.keys(stringData).sort()).toEqual(["admin-password", "admin-user"]);
    expect(stringData["admin-user"]).toBe("admin");
    expect(stringData["admin-password"]).toMatch(/^[A-Za-z0-9]{32,}$/);

    expect(run.outputs.adminPassword).toBeInstanceOf(SecretValue);
    expect(run.outputs.adminUser).toBeInstanceOf(SecretValue);
    expect((run.outputs.adminPassword as SecretValue).value).toBe(stringData["admin-password"]);
    for (const cm of objectsOf(rendered, "ConfigMap")) expect(JSON.stringify(cm)).not.toContain(stringData["admin-password"]);
    expect(everything(redacted)).not.toContain(stringData["admin-password"]);
  });

  test("a given password is used as is, without generating one, and never shows in a ConfigMap or the redacted render", async () => {
    const { run, rendered, redacted } = await renderGrafana({ adminUser: "boss", adminPassword: "given-password-1234" });

    expect(run.resources.some((r) => r.type.startsWith("random:"))).toBe(false);
    expect(objectOf(rendered, "Secret", "grafana-admin").stringData).toEqual({
      "admin-user": "boss",
      "admin-password": "given-password-1234",
    });
    expect(run.outputs.adminPassword).toEqual(new SecretValue("given-password-1234"));
    expect(run.outputs.adminUser).toEqual(new SecretValue("boss"));
    for (const cm of objectsOf(rendered, "ConfigMap")) expect(JSON.stringify(cm)).not.toContain("given-password-1234");
    expect(everything(redacted)).not.toContain("given-password-1234");
    expect(everything(rendered)).toContain("given-password-1234");
  });

  test("an init container applies the Secret's password at every start, and a new password rolls the pods", async () => {
    const pod = (r: Rendered) => podOf(r);
    const { rendered } = await renderGrafana({ adminPassword: "given-password-1234" });
    const [init] = pod(rendered).initContainers ?? [];
    expect(init).toMatchObject({ name: "admin-password", image: images.grafana });
    expect(init.command).toEqual(adminPasswordResetCommand());
    expect(init.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    // The password goes on stdin, from the mounted Secret: never in the command line, never in the pod spec.
    expect(init.command[2]).toMatch(
      /^grafana cli --homepath \/usr\/share\/grafana --config \/etc\/grafana-config\/grafana\.ini admin reset-admin-password --password-from-stdin < \/etc\/grafana-secrets\/admin-password \|\| echo /,
    );
    expect(JSON.stringify(deploymentOf(rendered))).not.toContain("given-password-1234");
    // Restricted like the server, with the server's requests (an init container adds none), and what the CLI reads and writes.
    expect(init.securityContext).toEqual(pod(rendered).containers[0].securityContext);
    expect(init.resources).toEqual(pod(rendered).containers[0].resources);
    expect(init.volumeMounts.map((m) => m.name)).toEqual(["config", "secrets", "data", "tmp", "logs"]);
    expect(rendered.files.get("grafana/grafana.ini")).toContain("[paths]\ndata = /var/lib/grafana\n");

    // The checksum follows the password, and only the password: another one rolls the pods.
    const checksum = (r: Rendered) => deploymentOf(r).template.metadata.annotations?.["checksum/admin-password"];
    // The documented parameters (components/grafana/ini.ts): scrypt (RFC 7914) at N=2^15, r=8, p=1, 16 bytes, its salt
    // HMAC-SHA256 of the digest's label under the stack's salt; Node's scrypt is held to the RFC's own test vector first.
    const rfc7914 = crypto.scryptSync("password", "NaCl", 64, { N: 1024, r: 8, p: 16 }).toString("hex");
    expect(rfc7914).toBe(
      "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
    );
    const scryptSalt = crypto.createHmac("sha256", STACK_SALT).update("monitoring-stack/grafana-admin-password/v2").digest();
    const spec = crypto.scryptSync("given-password-1234", scryptSalt, 16, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    expect(checksum(rendered)).toBe(spec.toString("hex"));
    expect(checksum((await renderGrafana({ adminPassword: "given-password-1234" })).rendered)).toBe(checksum(rendered));
    const changed = (await renderGrafana({ adminPassword: "another-password-5678" })).rendered;
    expect(checksum(changed)).not.toBe(checksum(rendered));
    expect(deploymentOf(changed).template.metadata.annotations?.["checksum/config"]).toBe(
      deploymentOf(rendered).template.metadata.annotations?.["checksum/config"],
    );
    // Keyed on the stack's salt: another stack's salt gives another digest for the same password.
    const otherStack = (await renderGrafana({ adminPassword: "given-password-1234", stackSalt: Buffer.alloc(32, 8) })).rendered;
    expect(checksum(otherStack)).toBe(await adminPasswordDigest("given-password-1234", Buffer.alloc(32, 8)));
    expect(checksum(otherStack)).not.toBe(checksum(rendered));
    // A slow digest: not a fast HMAC of the password under the stack's salt.
    const fast = crypto.createHmac("sha256", STACK_SALT).update("given-password-1234").digest("hex").slice(0, 32);
    expect(checksum(rendered)).not.toBe(fast);
    // The generated password gets one too.
    expect(checksum((await renderGrafana()).rendered)).toMatch(/^[0-9a-f]{32}$/);
  });

  test("the external database's password goes to a Secret of its own, mounted next to the admin's", async () => {
    const { rendered, redacted } = await renderGrafana({
      database: { type: "postgres", host: "pg.db.svc:5432", name: "grafana", user: "grafana", password: "db-password-5678" },
    });
    expect(objectOf(rendered, "Secret", "grafana-database").stringData).toEqual({ "database-password": "db-password-5678" });
    expect(podOf(rendered).volumes.find((v) => v.name === "secrets")?.projected?.sources).toEqual([
      { secret: { name: "grafana-admin" } },
      { secret: { name: "grafana-database" } },
    ]);
    expect(rendered.files.get("grafana/grafana.ini")).toContain("password = $__file{/etc/grafana-secrets/database-password}");
    for (const cm of objectsOf(rendered, "ConfigMap")) expect(JSON.stringify(cm)).not.toContain("db-password-5678");
    expect(everything(redacted)).not.toContain("db-password-5678");
  });
});

describe("Grafana: inputs that cannot work are refused, by config or by problems(), before any resource", () => {
  test("more than one replica without an external database", () => {
    expect(problems({ replicas: 2 })).toEqual([
      {
        key: "replicas",
        message: "more than one Grafana replica needs an external database (grafana.database); got 2 replicas with the built-in SQLite",
        involves: ["database"],
      },
    ]);
    expect(problems({ replicas: 2, database: { type: "mysql", host: "db", name: "g", user: "g", password: "p" } })).toEqual([]);
  });

  test("an external database without its password", () => {
    expect(configProblems("staging", { grafana: { database: { type: "mysql", host: "db", name: "g", user: "g" } } })).toEqual([
      "monitoring:grafanaDatabasePassword: grafana.database is set, so the password is needed: pulumi config set --secret grafanaDatabasePassword <value>",
    ]);
    expect(problems({ database: { type: "mysql", host: "db", name: "g", user: "g" } })).toEqual([
      {
        key: "grafanaDatabasePassword",
        message: "grafana.database is set, so the password is needed: pulumi config set --secret grafanaDatabasePassword <value>",
        involves: ["database"],
      },
    ]);
  });

  test("the component refuses what its problems() finds, naming the key", async () => {
    await expect(renderGrafana({ replicas: 2, database: { type: "postgres", host: "db", name: "g", user: "g" } })).rejects.toThrow(
      'Grafana "grafana": grafanaDatabasePassword: grafana.database is set, so the password is needed: ' +
        "pulumi config set --secret grafanaDatabasePassword <value>",
    );
    await expect(renderGrafana({ replicas: 3 })).rejects.toThrow(
      'Grafana "grafana": replicas: more than one Grafana replica needs an external database (grafana.database); got 3 replicas with the built-in SQLite',
    );
  });

  test("a replica count that is not a whole positive number", () => {
    expect(configProblems("staging", { grafana: { replicas: 0 } })).toEqual([
      expect.stringMatching(/^monitoring:grafana\.replicas: must be /),
    ]);
  });
});

describe("Grafana: settings and provisioning files", () => {
  test("the config ConfigMap holds grafana.ini, datasources and providers as the functions build them", async () => {
    const { rendered } = await renderGrafana({ publicHostname: "grafana.example.com", loki: true });
    expect(dataOf(objectOf(rendered, "ConfigMap", "grafana-config"))).toEqual({
      "grafana.ini": iniText(grafanaIni({ rootUrl: "https://grafana.example.com" })),
      "datasources.yaml": YAML.stringify(grafanaDatasources({ namespace: "monitoring", loki: true, scrapeInterval: "15s" })),
      "dashboard-providers.yaml": YAML.stringify(grafanaDashboardProviders()),
    });
  });

  test("the outputs: the public URL when exposed, the in-cluster one otherwise", async () => {
    expect((await renderGrafana({ publicHostname: "grafana.example.com" })).run.outputs).toMatchObject({
      url: "https://grafana.example.com",
      internalUrl: "http://grafana.monitoring.svc:3000",
    });
    const internal = await renderGrafana();
    expect(internal.run.outputs).toMatchObject({
      url: "http://grafana.monitoring.svc:3000",
      internalUrl: "http://grafana.monitoring.svc:3000",
    });
    expect(internal.rendered.files.get("grafana/grafana.ini")).toContain("cookie_secure = false");
  });
});

describe("Grafana: dashboards", () => {
  const tree = {
    infrastructure: { "node.json": dashboardJson("node"), "disk.json": dashboardJson("disk") },
    apps: { "overview.json": dashboardJson("overview") },
  };

  test("each folder is one projected volume of its ConfigMaps, mounted as one directory without subPath", async () => {
    const { rendered } = await renderGrafana({ dashboardsDir: dashboardsDir(tree) });
    expect(dataOf(objectOf(rendered, "ConfigMap", "grafana-dashboards-infrastructure-1"))).toEqual({
      "infrastructure__disk.json": dashboardJson("disk"),
      "infrastructure__node.json": dashboardJson("node"),
    });
    expect(dataOf(objectOf(rendered, "ConfigMap", "grafana-dashboards-apps-1"))).toEqual({
      "apps__overview.json": dashboardJson("overview"),
    });

    const pod = podOf(rendered);
    expect(pod.volumes.filter((v) => v.name.startsWith("dashboards-"))).toEqual([
      { name: "dashboards-apps", projected: { sources: [{ configMap: { name: "grafana-dashboards-apps-1" } }] } },
      { name: "dashboards-infrastructure", projected: { sources: [{ configMap: { name: "grafana-dashboards-infrastructure-1" } }] } },
    ]);
    expect(pod.containers[0].volumeMounts.filter((m) => m.name.startsWith("dashboards-"))).toEqual([
      { name: "dashboards-apps", mountPath: "/etc/grafana/dashboards/apps", readOnly: true },
      { name: "dashboards-infrastructure", mountPath: "/etc/grafana/dashboards/infrastructure", readOnly: true },
    ]);
    expect(pod.containers[0].volumeMounts.filter((m) => m.subPath !== undefined)).toEqual([]);
  });

  test("editing a dashboard changes its ConfigMap but not the pod template, so Grafana reloads it without a restart", async () => {
    const before = await renderGrafana({ dashboardsDir: dashboardsDir(tree) });
    const after = await renderGrafana({
      dashboardsDir: dashboardsDir({ ...tree, apps: { "overview.json": dashboardJson("overview", 5000) } }),
    });
    expect(dataOf(objectOf(after.rendered, "ConfigMap", "grafana-dashboards-apps-1"))).not.toEqual(
      dataOf(objectOf(before.rendered, "ConfigMap", "grafana-dashboards-apps-1")),
    );
    expect(deploymentOf(after.rendered).template).toEqual(deploymentOf(before.rendered).template);
  });

  test("changing settings does roll the pods: the config checksum follows grafana.ini and provisioning", async () => {
    const annotation = (r: GrafanaRender) => deploymentOf(r.rendered).template.metadata.annotations?.["checksum/config"];
    const base = annotation(await renderGrafana());
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(annotation(await renderGrafana({ publicHostname: "grafana.example.com" }))).not.toBe(base);
    expect(annotation(await renderGrafana({ loki: true }))).not.toBe(base);
  });

  test("however many dashboards, every ConfigMap stays under 1 MiB serialised and ships each dashboard once", async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 120; i++) many[`d${String(i).padStart(3, "0")}.json`] = dashboardJson(`d${i}`, 40 * 1024);
    for (let i = 0; i < 3; i++) many[`big${i}.json`] = dashboardJson(`big${i}`, 500 * 1024);
    const { rendered } = await renderGrafana({ dashboardsDir: dashboardsDir({ big: many }) });

    const bin = (o: K8sObject) => Number(o.metadata.name?.split("-").pop());
    const maps = objectsOf(rendered, "ConfigMap")
      .filter((o) => o.metadata.name?.startsWith("grafana-dashboards-"))
      .sort((a, b) => bin(a) - bin(b));
    expect(maps.length).toBeGreaterThan(3);
    for (const map of maps) expect(Buffer.byteLength(JSON.stringify(map))).toBeLessThan(CONFIGMAP_MAX_BYTES);
    const keys = maps.flatMap((m) => Object.keys(dataOf(m)));
    expect(keys.sort()).toEqual(
      Object.keys(many)
        .map((f) => `big__${f}`)
        .sort(),
    );
    expect(podOf(rendered).volumes.find((v) => v.name === "dashboards-big")?.projected?.sources).toEqual(
      maps.map((m) => ({ configMap: { name: m.metadata.name } })),
    );
  });

  test("a dashboard too large for any ConfigMap stops the program, naming the file", async () => {
    const dir = dashboardsDir({ apps: { "huge.json": dashboardJson("huge", CONFIGMAP_MAX_BYTES) } });
    await expect(renderGrafana({ dashboardsDir: dir })).rejects.toThrow(`${path.basename(dir)}/apps/huge.json weighs`);
  });
});

describe("Grafana: workload", () => {
  test("one replica: a protected volume, Recreate, restricted security, probes on /api/health", async () => {
    // protect and retainOnDelete are resource options, which the mocks do not record: a transformation sees them.
    const seen: pulumi.ResourceTransformationArgs[] = [];
    const record = (a: pulumi.ResourceTransformationArgs) => {
      seen.push(a);
      return undefined;
    };
    const { rendered } = await renderGrafana(
      { protectVolume: true, dashboardsDir: dashboardsDir({ apps: { "a.json": dashboardJson("a") } }) },
      { transformations: [record] },
    );
    const deployment = deploymentOf(rendered);
    expect(deployment.replicas).toBe(1);
    expect(deployment.strategy).toEqual({ type: "Recreate" });

    const pod = podOf(rendered);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.affinity).toBeUndefined();
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 472,
      runAsGroup: 472,
      fsGroup: 472,
      fsGroupChangePolicy: "OnRootMismatch",
      seccompProfile: { type: "RuntimeDefault" },
    });
    const [container] = pod.containers;
    expect(container.image).toBe(images.grafana);
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.resources).toEqual({ requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } });
    expect(container.ports).toEqual([{ name: "http", containerPort: 3000, protocol: "TCP" }]);
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      expect(probe.httpGet).toEqual({ path: "/api/health", port: "http", scheme: "HTTP" });
    }
    expect(container.env).toEqual([{ name: "GF_PATHS_CONFIG", value: "/etc/grafana-config/grafana.ini" }]);
    expect(container.volumeMounts).toEqual([
      { name: "config", mountPath: "/etc/grafana-config", readOnly: true },
      { name: "datasources", mountPath: "/etc/grafana/provisioning/datasources", readOnly: true },
      { name: "dashboard-providers", mountPath: "/etc/grafana/provisioning/dashboards", readOnly: true },
      { name: "secrets", mountPath: "/etc/grafana-secrets", readOnly: true },
      { name: "data", mountPath: "/var/lib/grafana" },
      { name: "tmp", mountPath: "/tmp" },
      { name: "logs", mountPath: "/var/log/grafana" },
      { name: "writable-folder", mountPath: "/etc/grafana/writable-folder", readOnly: true },
      { name: "dashboards-apps", mountPath: "/etc/grafana/dashboards/apps", readOnly: true },
    ]);
    // An empty directory, mounted read-only so that it stays empty: its provider makes the writable folder and provisions nothing.
    expect(pod.volumes.find((v) => v.name === "writable-folder")).toEqual({ name: "writable-folder", emptyDir: { sizeLimit: "1Mi" } });
    expect(pod.volumes.find((v) => v.name === "data")).toEqual({ name: "data", persistentVolumeClaim: { claimName: "grafana" } });
    expect(pod.volumes.filter((v) => ["tmp", "logs"].includes(v.name)).map((v) => v.emptyDir)).toEqual([
      { sizeLimit: "64Mi" },
      { sizeLimit: "64Mi" },
    ]);

    expect(objectOf(rendered, "PersistentVolumeClaim", "grafana").spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      storageClassName: "local-path",
      resources: { requests: { storage: "2Gi" } },
    });
    const claim = seen.find((a) => a.type === "kubernetes:core/v1:PersistentVolumeClaim");
    expect(claim?.opts).toMatchObject({ protect: true, retainOnDelete: true });
    expect(seen.filter((a) => a.opts.protect).map((a) => a.name)).toEqual(["grafana-data"]);
    expect(objectsOf(rendered, "PodDisruptionBudget")).toEqual([]);
  });

  test("several replicas on an external database: no volume, rolling updates, spread and a disruption budget", async () => {
    const { rendered } = await renderGrafana({
      replicas: 2,
      database: { type: "postgres", host: "pg:5432", name: "grafana", user: "grafana", password: "pw-for-the-db" },
    });
    expect(objectsOf(rendered, "PersistentVolumeClaim")).toEqual([]);
    const deployment = deploymentOf(rendered);
    expect(deployment.replicas).toBe(2);
    // One pod per node, as many as the nodes: a surge pod would have nowhere to go.
    expect(deployment.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    expect(podOf(rendered).volumes.find((v) => v.name === "data")).toEqual({ name: "data", emptyDir: { sizeLimit: "2Gi" } });
    expect(podOf(rendered).affinity).toBeDefined();
    expect(objectOf(rendered, "PodDisruptionBudget", "grafana").spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: (objectOf(rendered, "Service", "grafana").spec as { selector: unknown }).selector },
    });
  });

  test("several replicas on an external database in a stack that protects its volumes: the claim stays, protected and unmounted", async () => {
    const { rendered, run } = await renderGrafana({
      replicas: 2,
      protectVolume: true,
      database: { type: "postgres", host: "pg:5432", name: "grafana", user: "grafana", password: "pw-for-the-db" },
    });
    // The same resource as with one replica on SQLite: switching never makes Pulumi delete a protected claim.
    const single = await renderGrafana({ protectVolume: true });
    const urnOf = (r: RunResult) => r.resources.find((res) => res.type === "kubernetes:core/v1:PersistentVolumeClaim")?.urn;
    expect(urnOf(run)).toBe(urnOf(single.run));
    expect(
      rendered.kubernetes.filter((o) => o.object.kind === "PersistentVolumeClaim").map((o) => [o.object.metadata.name, o.protect]),
    ).toEqual([["grafana", true]]);
    expect(podOf(rendered).volumes.find((v) => v.name === "data")).toEqual({ name: "data", emptyDir: { sizeLimit: "2Gi" } });
    expect(deploymentOf(rendered).strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  });

  test("one replica on an external database keeps its volume for plugins", async () => {
    const { rendered } = await renderGrafana({ database: { type: "mysql", host: "db", name: "g", user: "g", password: "pw" } });
    expect(objectsOf(rendered, "PersistentVolumeClaim", "grafana")).toHaveLength(1);
    expect(deploymentOf(rendered).strategy).toEqual({ type: "Recreate" });
  });

  test("the Service, the scrape target of Grafana's own metrics and the NetworkPolicy", async () => {
    const run = await runProgram({
      ...ALONE,
      program: async () => {
        const g = new Grafana("grafana", {
          ...BASE,
          dashboardsDir: dashboardsDir({}),
          ingressFromTraefik: true,
          ingressFromCloudflared: true,
        });
        return { scrapeTargets: g.scrapeTargets };
      },
    });
    const rendered = renderRun(run, true);
    const selector = {
      "app.kubernetes.io/name": "grafana",
      "app.kubernetes.io/instance": "test",
      "app.kubernetes.io/component": "visualization",
      "app.kubernetes.io/part-of": "monitoring-stack",
    };
    expect(objectOf(rendered, "Service", "grafana").spec).toEqual({
      type: "ClusterIP",
      selector,
      ports: [{ name: "http", port: 3000, targetPort: "http", protocol: "TCP" }],
    });
    expect(run.outputs.scrapeTargets).toEqual([{ job: "grafana", namespace: "monitoring", selector, port: "http", path: "/metrics" }]);
    expect(objectOf(rendered, "Service", "grafana").metadata.labels).toMatchObject(selector);
    expect(objectOf(rendered, "NetworkPolicy", "grafana").spec).toEqual({
      podSelector: { matchLabels: selector },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [{ protocol: "TCP", port: 3000 }],
          from: [
            {
              podSelector: {
                matchLabels: {
                  "app.kubernetes.io/name": "prometheus",
                  "app.kubernetes.io/instance": "test",
                  "app.kubernetes.io/part-of": "monitoring-stack",
                },
              },
            },
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } },
            },
            { podSelector: { matchLabels: { "app.kubernetes.io/name": "cloudflared", "app.kubernetes.io/instance": "test" } } },
          ],
        },
      ],
    });
    for (const o of rendered.kubernetes) expect(schemaProblems(o.object)).toEqual([]);
  });

  test("without Traefik or the tunnel only the stack's Prometheus is admitted", async () => {
    const { rendered } = await renderGrafana();
    const spec = objectOf(rendered, "NetworkPolicy", "grafana").spec as { ingress: Array<{ from: unknown[] }> };
    expect(spec.ingress[0].from).toEqual([
      {
        podSelector: {
          matchLabels: {
            "app.kubernetes.io/name": "prometheus",
            "app.kubernetes.io/instance": "test",
            "app.kubernetes.io/part-of": "monitoring-stack",
          },
        },
      },
    ]);
  });

  test("every object is schema-valid, named, labelled, in the namespace and parented to the component", async () => {
    const { run, rendered } = await renderGrafana({
      replicas: 2,
      database: { type: "postgres", host: "pg", name: "g", user: "g", password: "pw" },
      dashboardsDir: dashboardsDir({ apps: { "a.json": dashboardJson("a") } }),
    });
    for (const o of rendered.kubernetes) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.object.metadata.namespace).toBe("monitoring");
      expect(o.object.metadata.labels?.["app.kubernetes.io/part-of"]).toBe("monitoring-stack");
    }
    for (const r of run.resources.filter((res) => res.custom)) expect(r.parents).toContain("monitoring:index:Grafana");
  });
});

// ---------------------------------------------------------------------------
// Both real stacks

/** The repository's dashboards, listed independently of the component. */
function repositoryDashboards(): Array<{ folder: string; file: string; content: string }> {
  if (!fs.existsSync(DEFAULT_DASHBOARDS_DIR)) return [];
  return fs
    .readdirSync(DEFAULT_DASHBOARDS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((folder) =>
      fs
        .readdirSync(path.join(DEFAULT_DASHBOARDS_DIR, folder.name))
        .filter((f) => f.endsWith(".json"))
        .map((file) => ({
          folder: folder.name,
          file,
          content: fs.readFileSync(path.join(DEFAULT_DASHBOARDS_DIR, folder.name, file), "utf8"),
        })),
    );
}

describe.each([
  ["staging", "https://grafana.staging.example.com"],
  ["production", "https://grafana.example.com"],
] as const)("the %s stack", (stack, publicUrl) => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render(stack);
  });

  test("renders Grafana with schema-valid objects", () => {
    const objects = grafanaObjects(rendered);
    expect(objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`)).toEqual(
      expect.arrayContaining([
        "Secret/grafana-admin",
        "ConfigMap/grafana-config",
        "PersistentVolumeClaim/grafana",
        "Service/grafana",
        "Deployment/grafana",
        "NetworkPolicy/grafana",
      ]),
    );
    expect(
      objects
        .map((o) => ({ id: `${o.object.kind}/${o.object.metadata.name}`, problems: schemaProblems(o.object) }))
        .filter((r) => r.problems.length > 0),
    ).toEqual([]);
  });

  test("ships every file of dashboards/ that something of the stack feeds in a ConfigMap mounted in its folder's directory", () => {
    const pod = podOf(rendered);
    // Neither stack probes anything (no Uptime dashboard); staging has no MongoDB (no MongoDB dashboard), and does not
    // watch the cluster (watch.cluster: no node-exporter, no Nodes dashboard; the cluster's Traefik unscraped, no Traefik dashboard).
    const unfed =
      stack === "staging"
        ? ["applications/uptime.json", "databases/mongodb.json", "infrastructure/nodes.json", "infrastructure/traefik.json"]
        : ["applications/uptime.json"];
    // The links of the others to an unfed dashboard go with it (the Nodes dashboard is linked from the infrastructure views).
    const unfedUids = repositoryDashboards()
      .filter((d) => unfed.includes(`${d.folder}/${d.file}`))
      .map((d) => String((JSON.parse(d.content) as { uid: string }).uid));
    const builtIn = withoutDashboards(
      repositoryDashboards().map((d) => ({ ...d, source: `${d.folder}/${d.file}` })),
      unfedUids,
    );
    expect(builtIn).toHaveLength(repositoryDashboards().length - unfed.length);
    for (const d of unfed) expect(rendered.files.has(`grafana/${d.replace("/", "__")}`)).toBe(false);
    // The tests run on the shipped content: a team's own directory is left unread (jest.config.js, test/scenarios/team-folder.test.ts).
    const all = builtIn;
    // No app of either stack file sends OTLP, so tracing is off: these two ship without their
    // traces rows, the rest of them as written (the cut itself: test/components/tracing.test.ts).
    const withoutTraces = ["applications/app-overview.json", "monitoring/stack-health.json"];
    // Staging collects no node journal (logCollector.journal follows watch.cluster): the Logs dashboard ships without that row.
    const withoutJournal = stack === "staging" ? ["logs/logs.json"] : [];
    const rowTitles = (text: string | undefined) =>
      (JSON.parse(text ?? "{}") as { panels: Array<{ type: string; title: string }> }).panels
        .filter((p) => p.type === "row")
        .map((p) => p.title);
    for (const d of all) {
      const key = `${d.folder}__${d.file}`;
      if (withoutTraces.includes(`${d.folder}/${d.file}`)) {
        expect(rowTitles(rendered.files.get(`grafana/${key}`))).toEqual(rowTitles(d.content).filter((t) => !t.startsWith("Traces")));
        expect(rowTitles(d.content).filter((t) => t.startsWith("Traces")).length).toBeGreaterThan(0);
      } else if (withoutJournal.includes(`${d.folder}/${d.file}`)) {
        expect(rowTitles(rendered.files.get(`grafana/${key}`))).toEqual(rowTitles(d.content).filter((t) => t !== "Node journal"));
        expect(rowTitles(d.content)).toContain("Node journal");
      } else {
        expect(rendered.files.get(`grafana/${key}`)).toBe(d.content);
      }
      const holder = grafanaObjects(rendered).find((o) => o.object.kind === "ConfigMap" && key in dataOf(o.object));
      const volume = pod.volumes.find((v) => v.projected?.sources.some((s) => s.configMap?.name === holder?.object.metadata.name));
      expect(pod.containers[0].volumeMounts.find((m) => m.name === volume?.name)?.mountPath).toBe(`/etc/grafana/dashboards/${d.folder}`);
    }
    const shipped = [...rendered.files.keys()].filter((f) => f.startsWith("grafana/") && f.includes("__"));
    expect(shipped).toHaveLength(all.length);
    for (const map of objectsOf(rendered, "ConfigMap")) expect(Buffer.byteLength(JSON.stringify(map))).toBeLessThan(CONFIGMAP_MAX_BYTES);
  });

  test("exports the public URL, the in-cluster URL and the credentials as secrets", async () => {
    expect(rendered.outputs).toMatchObject({
      grafanaUrl: publicUrl,
      grafanaInternalUrl: `http://grafana.monitoring-${stack}.svc:3000`,
      grafanaAdminUser: "admin",
    });
    expect(rendered.outputs.grafanaAdminPassword).toBe(
      (objectOf(rendered, "Secret", "grafana-admin").stringData as Record<string, string>)["admin-password"],
    );
    expect(rendered.files.get("grafana/grafana.ini")).toContain(`root_url = ${publicUrl}/`);
    expect(rendered.files.get("grafana/grafana.ini")).toContain("cookie_secure = true");

    const redacted = await renderStack({ stack });
    expect(redacted.outputs).toMatchObject({ grafanaAdminUser: "[secret]", grafanaAdminPassword: "[secret]" });
  });

  test("a password given as a secret is used as is and stays out of the redacted render", async () => {
    const sets = ["grafanaAdminPassword=stack-given-password-42"];
    const shown = await render(stack, sets);
    expect((objectOf(shown, "Secret", "grafana-admin").stringData as Record<string, string>)["admin-password"]).toBe(
      "stack-given-password-42",
    );
    expect(shown.outputs.grafanaAdminPassword).toBe("stack-given-password-42");
    const redacted = await renderStack({ stack, sets });
    expect(everything(redacted)).not.toContain("stack-given-password-42");
  });
});
