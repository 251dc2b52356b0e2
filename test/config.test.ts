import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import {
  BUILTIN_SCRAPE_JOBS,
  ConfigError,
  DSN_FORMATS,
  PROFILE_DEFAULTS,
  ParsedConfig,
  SECRET_KEYS,
  componentScrapeJobs,
  configKeyDocs,
  parseStackConfig,
  plainEntriesOfSecretKeys,
} from "../config";
import { EXPORTER_KINDS } from "../components/kit/database-exporters";
import { PROMETHEUS_MAX_DURATION_MS } from "../components/kit/units";
import { renderRun } from "../scripts/lib/render";
import { runProgram } from "../scripts/lib/runner";

/** Given the `monitoring:*` values (plain) and secrets of a stack, parse them. */
function parse(stack: string, plain: Record<string, unknown>, secrets: Record<string, unknown> = {}): ParsedConfig {
  const wire = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...plain, ...secrets })) values[k.includes(":") ? k : `monitoring:${k}`] = wire(v);
  return parseStackConfig({ project: "monitoring", stack, values, secretKeys: Object.keys(secrets).map((k) => `monitoring:${k}`) });
}

/** The problems reported for a config, as "key: message" lines; fails if the config is accepted. */
function problems(stack: string, plain: Record<string, unknown>, secrets: Record<string, unknown> = {}): string[] {
  try {
    parse(stack, plain, secrets);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error("the config was accepted");
}

const api = { name: "api", namespace: "shop", service: "api", port: "http" };

describe("stack config: defaults", () => {
  test("staging is small and production is HA with longer retention", () => {
    const staging = parse("staging", {}).config;
    const production = parse("production", { nodes: 3 }).config;
    expect(staging.profile).toBe("staging");
    expect(staging.prometheus.replicas).toBe(1);
    expect(staging.alertmanager.replicas).toBe(1);
    expect(staging.prometheus.retention).toBe("7d");
    expect(production.profile).toBe("production");
    expect(production.prometheus.replicas).toBe(2);
    expect(production.alertmanager.replicas).toBe(3);
    expect(production.cloudflare.replicas).toBe(2);
    expect(production.prometheus.retention).toBe("30d");
    expect(production.loki.retention).toBe("7d");
    expect(production.protectVolumes).toBe(true);
    expect(staging.protectVolumes).toBe(false);
  });

  test("the retention size defaults to 85 % of the Prometheus volume", () => {
    const { config } = parse("staging", { prometheus: { storage: { size: "10Gi" } } });
    expect(config.prometheus.retentionSize).toBe(`${Math.floor(10 * 1024 * 0.85)}MB`);
  });

  test("hostnames derive from the domain unless given", () => {
    const { config } = parse("staging", { domain: "example.com", hostnames: { grafana: "dash.example.org" } });
    expect(config.hostnames).toEqual({
      grafana: "dash.example.org",
      prometheus: "prometheus.example.com",
      alertmanager: "alertmanager.example.com",
    });
  });

  test("a Service app names its Service port, or gives the port number the pods serve on as targetPort", () => {
    const { config } = parse("staging", { apps: [api, { name: "web", namespace: "shop", service: "web", targetPort: 3333 }] });
    expect(config.apps.map((a) => a.service)).toEqual([
      { namespace: "shop", name: "api", port: "http" },
      { namespace: "shop", name: "web", targetPort: 3333 },
    ]);
  });

  test("runbook links have no default: the project has no public home to link to, so only a given runbookBaseUrl makes them", () => {
    expect(parse("staging", {}).config.prometheus.runbookBaseUrl).toBeUndefined();
    expect(parse("production", {}).config.prometheus.runbookBaseUrl).toBeUndefined();
    const fork = "https://github.com/acme/monitoring-stack/blob/main/docs/runbooks.md";
    expect(parse("staging", { prometheus: { runbookBaseUrl: fork } }).config.prometheus.runbookBaseUrl).toBe(fork);
  });

  test("an app gets the contract's default metric names, SLO and thresholds", () => {
    const { config } = parse("staging", { apps: [api] });
    expect(config.apps[0]).toEqual({
      name: "api",
      service: { namespace: "shop", name: "api", port: "http" },
      path: "/metrics",
      scheme: "http",
      labels: {},
      metrics: {
        requests: "http_requests_total",
        duration: "http_request_duration_seconds",
        statusLabel: "status",
        methodLabel: "method",
        routeLabel: "endpoint",
        activeConnections: "http_connections_active",
      },
      slo: { availabilityRatio: 0.999, latencyP95Seconds: 0.5 },
      alerts: { latencyP95Seconds: 1, errorRatio: 0.05 },
    });
  });

  test("a stack with another name uses the profile it names, and the stack name as environment", () => {
    const { config } = parse("eu-prod", { profile: "production", nodes: 2 });
    expect(config.profile).toBe("production");
    expect(config.environment).toBe("eu-prod");
    expect(config.prometheus.replicas).toBe(PROFILE_DEFAULTS.production.prometheus.replicas);
  });

  test("receivers come from secrets, and provider keys of other namespaces are ignored", () => {
    const { config } = parse(
      "staging",
      { "kubernetes:enableConfigMapMutable": "true" },
      { discordCriticalWebhookUrl: "https://discord.com/api/webhooks/1/a", webhookUrl: "https://alerts.example.com/hook" },
    );
    expect(config.alertmanager.receivers).toEqual({
      discord: { criticalWebhookUrl: "https://discord.com/api/webhooks/1/a" },
      webhook: { url: "https://alerts.example.com/hook" },
    });
    expect(config.alertmanager.routing).toBeUndefined();
  });

  test("basic-auth passwords come from a secret map keyed by user", () => {
    const { config } = parse(
      "staging",
      { traefik: { basicAuthUsers: ["admin", "ops"] } },
      { basicAuthPasswords: { ops: "ops-password-123" } },
    );
    expect(config.traefik.basicAuthPasswords).toEqual({ ops: "ops-password-123" });
    expect(parse("staging", {}).config.traefik.basicAuthPasswords).toEqual({});
  });

  test("a stack that protects its volumes keeps the claim of a component that stops using it, and says so", () => {
    const off = parse("production", { loki: { enabled: false }, logCollector: { enabled: false } }).warnings;
    expect(off).toEqual([
      expect.stringMatching(/^monitoring:loki\.enabled is false in a stack that protects its volumes: Loki's claim data-loki-0 stays/),
    ]);
    const shared = parse(
      "production",
      { nodes: 2, grafana: { replicas: 2, database: { type: "postgres", host: "pg:5432", name: "grafana", user: "grafana" } } },
      { grafanaDatabasePassword: "pw" },
    ).warnings;
    expect(shared).toEqual([
      expect.stringMatching(/^monitoring:grafana\.replicas is 2 on an external database in a stack that protects its volumes/),
    ]);
    // Nothing is kept, and nothing said, where volumes are not protected.
    expect(parse("staging", { loki: { enabled: false }, logCollector: { enabled: false } }).warnings).toEqual([]);
  });

  test("a production stack with one Prometheus replica deploys with a warning", () => {
    const { warnings } = parse("production", { nodes: 2, prometheus: { replicas: 1 } });
    expect(warnings).toEqual([expect.stringContaining("monitoring:prometheus.replicas is 1 in a production stack on 2 nodes")]);
  });
});

describe("stack config: the certificate of Traefik's routes", () => {
  const published = { domain: "example.com", traefik: { enabled: true, expose: ["grafana", "prometheus"] } };

  test("a production stack publishing through Traefik with no certificate source is refused, naming both keys", () => {
    expect(problems("production", published)).toEqual([
      "monitoring:traefik.tlsSecretName: is required in a production stack: Traefik publishes grafana, prometheus with no certificate " +
        "source, so its routes serve Traefik's self-signed default certificate: set monitoring:traefik.certResolver (a resolver of " +
        "Traefik's static config, e.g. ACME) or monitoring:traefik.tlsSecretName (a kubernetes.io/tls Secret in monitoring-production) (got neither)",
    ]);
  });

  test("the profile decides, not the environment: an environment named production on the staging profile only warns", () => {
    const { warnings } = parse("staging", { ...published, environment: "production" });
    expect(warnings).toEqual([
      expect.stringMatching(
        /^monitoring:traefik\.tlsSecretName: Traefik publishes grafana, prometheus with no certificate source.*\(got neither\)\.$/,
      ),
    ]);
    expect(problems("prod-eu", { ...published, profile: "production" })).toEqual([
      expect.stringMatching(/^monitoring:traefik\.tlsSecretName: is required in a production stack/),
    ]);
  });

  test("either source is enough, in both profiles; with nothing published or Traefik off there is nothing to say", () => {
    for (const profile of ["staging", "production"]) {
      for (const tls of [{ certResolver: "letsencrypt" }, { tlsSecretName: "monitoring-tls" }]) {
        expect(parse(profile, { ...published, traefik: { ...published.traefik, ...tls } }).warnings).toEqual([]);
      }
      expect(parse(profile, { domain: "example.com", traefik: { enabled: false } }).warnings).toEqual([]);
    }
  });

  test("both stack files name a certificate source", () => {
    for (const stack of ["staging", "production"]) {
      const file = YAML.parse(fs.readFileSync(path.join(__dirname, "..", `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, { enabled?: boolean; certResolver?: string; tlsSecretName?: string }>;
      };
      const traefik = file.config["monitoring:traefik"];
      expect(traefik.enabled).toBe(true);
      expect(Boolean(traefik.certResolver) !== Boolean(traefik.tlsSecretName)).toBe(true);
    }
  });
});

describe("stack config: nodes, replicas and the shared cluster", () => {
  test("on one node (the default) every workload runs once, production included, and nothing warns", () => {
    const { config, warnings } = parse("production", {});
    expect(config.nodes).toBe(1);
    expect([config.prometheus.replicas, config.alertmanager.replicas, config.cloudflare.replicas, config.grafana.replicas]).toEqual([
      1, 1, 1, 1,
    ]);
    expect(warnings).toEqual([]);
  });

  test("the profile's replicas follow the nodes, up to the profile's own", () => {
    const replicas = (nodes: number) => {
      const { config } = parse("production", { nodes });
      return [config.prometheus.replicas, config.alertmanager.replicas, config.cloudflare.replicas];
    };
    expect(replicas(2)).toEqual([2, 2, 2]);
    expect(replicas(3)).toEqual([2, 3, 2]);
    expect(replicas(10)).toEqual([2, 3, 2]);
    expect(parse("staging", { nodes: 5 }).config.prometheus.replicas).toBe(1);
  });

  test("more replicas than nodes are refused, naming the key, the nodes and what was given", () => {
    expect(problems("production", { prometheus: { replicas: 2 }, cloudflare: { replicas: 3 } })).toEqual([
      expect.stringMatching(
        /^monitoring:prometheus\.replicas: must be at most nodes \(1, the default\): each replica runs on a node of its own, so one more would stay Pending, and on one node a second replica adds no availability and would block kubectl drain\. If the cluster has more nodes, say so: pulumi config set nodes <count> \(got 2\)$/,
      ),
      expect.stringMatching(/^monitoring:cloudflare\.replicas: must be at most nodes \(1, the default\).*\(got 3\)$/),
    ]);
    expect(problems("staging", { nodes: 2, alertmanager: { replicas: 3 } })).toEqual([
      expect.stringMatching(
        /^monitoring:alertmanager\.replicas: must be at most nodes \(2\): each replica runs on a node of its own, so one more would stay Pending\. If/,
      ),
    ]);
    expect(parse("production", { nodes: 3, alertmanager: { replicas: 3 } }).config.alertmanager.replicas).toBe(3);
  });

  test("nodes must be a whole number of at least 1", () => {
    expect(problems("staging", { nodes: 0 })).toEqual(["monitoring:nodes: must be at least 1 (got 0)"]);
    expect(problems("staging", { nodes: 1.5 })).toEqual(["monitoring:nodes: must be a whole number of nodes, such as 1 or 3 (got 1.5)"]);
    expect(problems("staging", { nodes: "two" })).toEqual(['monitoring:nodes: must be a number (got "two")']);
  });

  test("each environment has its own namespace and, by profile, its own node-exporter port", () => {
    const staging = parse("staging", {}).config;
    const production = parse("production", {}).config;
    expect([staging.namespace, production.namespace]).toEqual(["monitoring-staging", "monitoring-production"]);
    expect([staging.nodeExporter.port, production.nodeExporter.port]).toEqual([9101, 9100]);
    expect(parse("eu-prod", { profile: "production" }).config.namespace).toBe("monitoring-eu-prod");
    expect(parse("staging", { namespace: "observability", nodeExporter: { port: 19100 } }).config).toMatchObject({
      namespace: "observability",
      nodeExporter: { port: 19100 },
    });
  });

  test("a node-exporter port it cannot listen on, or that Kubernetes holds, is refused", () => {
    expect(problems("staging", { nodeExporter: { port: 80 } })).toEqual([
      "monitoring:nodeExporter.port: must be at least 1024: node-exporter runs without privileges, which cannot listen below 1024 (got 80)",
    ]);
    expect(problems("staging", { nodeExporter: { port: 10250 } })).toEqual([
      expect.stringMatching(
        /^monitoring:nodeExporter\.port: must not be a port Kubernetes or k3s listen on themselves \(.*10250.*\) \(got 10250\)$/,
      ),
    ]);
    expect(problems("staging", { nodeExporter: { port: 70000 } })).toEqual([
      "monitoring:nodeExporter.port: must be a port number 1024-65535 (got 70000)",
    ]);
  });

  test("a default namespace too long for the environment asks for one", () => {
    const environment = "e".repeat(50);
    expect(problems("staging", { environment })).toEqual([
      `monitoring:namespace: must be set: its default, "monitoring-<environment>", would have 61 characters with the environment "${environment}", and a namespace has at most 56 while node agents run (their namespace is "<namespace>-agents"): pulumi config set namespace <name> (got nothing)`,
    ]);
    expect(parse("staging", { environment, namespace: "mon" }).config.namespace).toBe("mon");
  });
});

describe("stack config: bad input is refused with the key, what is allowed and what was given", () => {
  const cases: Array<[string, string, Record<string, unknown>, Record<string, unknown>, RegExp[]]> = [
    [
      "wrong type",
      "staging",
      { prometheus: { replicas: "two" } },
      {},
      [/^monitoring:prometheus\.replicas: must be a whole number \(got "two"\)$/],
    ],
    ["wrong type of a list", "staging", { apps: { name: "api" } }, {}, [/^monitoring:apps: must be a list/]],
    [
      "unknown top-level key",
      "staging",
      { retension: "7d" },
      {},
      [
        /^monitoring:retension: unknown key \(did you mean "prometheus\.retention" or "loki\.retention"\? .*; allowed here: profile, environment/,
      ],
    ],
    [
      "typo in a nested key",
      "staging",
      { prometheus: { retentoin: "7d" } },
      {},
      [/^monitoring:prometheus\.retentoin: unknown key \(did you mean "retention"\?\)/],
    ],
    [
      "typo in an app entry",
      "staging",
      { apps: [{ ...api, servcie: "x" }] },
      {},
      [/^monitoring:apps\[0\]\.servcie: unknown key \(did you mean "service"\?\)/],
    ],
    [
      "malformed duration",
      "staging",
      { prometheus: { retention: "15 days" } },
      {},
      [/^monitoring:prometheus\.retention: must be a positive Prometheus duration .* \(got "15 days"\)$/],
    ],
    [
      "zero duration",
      "staging",
      { prometheus: { scrapeInterval: "0s" } },
      {},
      [/^monitoring:prometheus\.scrapeInterval: must be a positive Prometheus duration/],
    ],
    [
      "log retention that is not whole days",
      "staging",
      { loki: { retention: "36h" } },
      {},
      [/^monitoring:loki\.retention: must be a whole number of days such as 3d, 7d or 2w \(got "36h"\)$/],
    ],
    [
      "malformed size",
      "staging",
      { prometheus: { storage: { size: "10 gigs" } } },
      {},
      [/^monitoring:prometheus\.storage\.size: must be a positive Kubernetes quantity .* \(got "10 gigs"\)$/],
    ],
    [
      "malformed retention size",
      "staging",
      { prometheus: { retentionSize: "45 gigabytes" } },
      {},
      [/^monitoring:prometheus\.retentionSize: must be a Prometheus size such as 512MB/],
    ],
    [
      "malformed CPU",
      "staging",
      { grafana: { resources: { requests: { cpu: "2 cores" } } } },
      {},
      [/^monitoring:grafana\.resources\.requests\.cpu: must be a positive CPU quantity/],
    ],
    [
      "URL with another scheme",
      "staging",
      { apps: [{ name: "api", url: "ftp://api.internal/metrics" }] },
      {},
      [/^monitoring:apps\[0\]\.url: must be an http:\/\/ or https:\/\/ URL \(got "ftp:\/\/api\.internal\/metrics"\)$/],
    ],
    [
      "malformed hostname",
      "staging",
      { domain: "Example..com" },
      {},
      [/^monitoring:domain: must be a fully qualified lower-case hostname .*\(got "Example\.\.com"\)$/],
    ],
    [
      "URL where a hostname belongs",
      "staging",
      { hostnames: { grafana: "https://grafana.example.com" } },
      {},
      [/^monitoring:hostnames\.grafana: must be a fully qualified lower-case hostname/],
    ],
    [
      "malformed email",
      "production",
      { cloudflare: { access: { emails: ["bob"] } } },
      {},
      [/^monitoring:cloudflare\.access\.emails\[0\]: must be an email address \(got "bob"\)$/],
    ],
    ["zero replicas", "staging", { grafana: { replicas: 0 } }, {}, [/^monitoring:grafana\.replicas: must be at least 1 \(got 0\)$/]],
    [
      "negative replicas",
      "staging",
      { prometheus: { replicas: -2 } },
      {},
      [/^monitoring:prometheus\.replicas: must be at least 1 \(got -2\)$/],
    ],
    [
      "fractional replicas",
      "staging",
      { alertmanager: { replicas: 1.5 } },
      {},
      [/^monitoring:alertmanager\.replicas: must be a whole number \(got 1\.5\)$/],
    ],
    [
      "retention shorter than the scrape interval",
      "staging",
      { prometheus: { retention: "10s", scrapeInterval: "15s" } },
      {},
      [/^monitoring:prometheus\.retention: must be longer than prometheus\.scrapeInterval \(15s\); got 10s$/],
    ],
    [
      "scrape timeout over the interval",
      "staging",
      { prometheus: { scrapeInterval: "15s", scrapeTimeout: "20s" } },
      {},
      [/^monitoring:prometheus\.scrapeTimeout: must not exceed prometheus\.scrapeInterval/],
    ],
    [
      "tunnel without account and zone",
      "staging",
      { cloudflare: { enabled: true }, domain: "example.com" },
      {},
      [
        /^monitoring:cloudflare\.accountId: is required when cloudflare\.enabled is true/,
        /^monitoring:cloudflare\.zoneId: is required when cloudflare\.enabled is true/,
      ],
    ],
    [
      "malformed Cloudflare account id",
      "staging",
      { cloudflare: { accountId: "my-account" } },
      {},
      [/^monitoring:cloudflare\.accountId: must be the 32-character hex Cloudflare account id \(got "my-account"\)$/],
    ],
    [
      "Prometheus on the internet without Access",
      "staging",
      {
        domain: "example.com",
        cloudflare: { enabled: true, accountId: "a".repeat(32), zoneId: "b".repeat(32), expose: ["grafana", "prometheus"] },
      },
      {},
      [/^monitoring:cloudflare\.expose: exposing prometheus on the internet needs cloudflare\.access\.enabled/],
    ],
    [
      "Access that admits nobody",
      "staging",
      {
        domain: "example.com",
        cloudflare: { enabled: true, accountId: "a".repeat(32), zoneId: "b".repeat(32), access: { enabled: true } },
      },
      {},
      [/^monitoring:cloudflare\.access: is enabled but allows nobody/],
    ],
    [
      "exposure without a hostname",
      "staging",
      { traefik: { enabled: true, expose: ["grafana"] } },
      {},
      [/^monitoring:traefik\.expose: exposes grafana but it has no hostname/],
    ],
    [
      "production on several nodes with one Alertmanager replica",
      "production",
      { nodes: 2, alertmanager: { replicas: 1 } },
      {},
      [/^monitoring:alertmanager\.replicas: a production stack on 2 nodes needs at least 2 Alertmanager replicas .*got 1$/],
    ],
    [
      "duplicate app names",
      "staging",
      { apps: [api, { ...api, service: "api2" }] },
      {},
      [/^monitoring:apps: app name "api" is used more than once/],
    ],
    [
      "duplicate database names",
      "staging",
      {
        databases: [
          { name: "db", type: "redis", mode: "standalone", secretRef: { name: "s", key: "k" } },
          { name: "db", type: "postgres", mode: "standalone", secretRef: { name: "s", key: "k" } },
        ],
      },
      {},
      [/^monitoring:databases: database name "db" is used more than once/],
    ],
    [
      "app with both a Service and a URL",
      "staging",
      { apps: [{ ...api, url: "http://api:8080/metrics" }] },
      {},
      [/^monitoring:apps\[0\]: app "api" needs exactly one of "service"/],
    ],
    [
      "app with a Service but no port",
      "staging",
      { apps: [{ name: "api", namespace: "shop", service: "api" }] },
      {},
      [
        /^monitoring:apps\[0\]: app "api" scrapes a Service, so it needs "namespace" and "port" \(the Service's port, by name or number\) or "targetPort" too$/,
      ],
    ],
    [
      "app with both a port name and a targetPort",
      "staging",
      { apps: [{ ...api, targetPort: 3333 }] },
      {},
      [/^monitoring:apps\[0\]: app "api" gives both "port" and "targetPort"; give one/],
    ],
    [
      "app with a URL and a targetPort",
      "staging",
      { apps: [{ name: "api", url: "http://api:8080/metrics", targetPort: 8080 }] },
      {},
      [/^monitoring:apps\[0\]: app "api" scrapes a URL, so "namespace", "port", "targetPort", "path" and "scheme" belong in the URL$/],
    ],
    [
      "a targetPort out of range",
      "staging",
      { apps: [{ name: "api", namespace: "shop", service: "api", targetPort: 0 }] },
      {},
      [/^monitoring:apps\[0\]\.targetPort: must be a port number 1-65535 \(got 0\)$/],
    ],
    [
      "app name that is not a DNS label",
      "staging",
      { apps: [{ ...api, name: "My_App" }] },
      {},
      [/^monitoring:apps\[0\]\.name: must be a DNS-1123 label/],
    ],
    [
      // A stack file of an earlier release: refused with the way over, before anything changes.
      "an exporter sidecar",
      "staging",
      {
        databases: [
          {
            name: "pg",
            type: "postgres",
            mode: "sidecar",
            target: { kind: "StatefulSet", name: "postgres", namespace: "shop" },
            secretRef: { name: "s", key: "k" },
          },
          { name: "cache", type: "redis", mode: "sidecar", secretRef: { name: "s", key: "k" } },
        ],
      },
      {},
      [
        /^monitoring:databases\[0\]\.mode: "sidecar" is no longer supported: an exporter container in the database's pod makes the pod NotReady, and takes the database out of its Service, whenever it is OOM-killed, crash-loops or its image cannot be pulled\. Set mode: standalone and drop target: .*name the database's Service \(for instance postgres\.shop\.svc:5432\), not localhost; a secretRef must be a Secret in the stack's namespace, or use pulumi config set --secret --path 'databaseDsns\.pg' <dsn>\. The next pulumi up removes the sidecar: one rollout of the database's pods/,
        /^monitoring:databases\[1\]\.mode: "sidecar" is no longer supported: .*for instance redis\.shop\.svc:6379/,
      ],
    ],
    [
      "a target, which was for sidecars",
      "staging",
      {
        databases: [
          {
            name: "pg",
            type: "postgres",
            mode: "standalone",
            target: { kind: "Deployment", name: "pg", namespace: "shop" },
            secretRef: { name: "s", key: "k" },
          },
        ],
      },
      {},
      [/^monitoring:databases\[0\]\.target: database "pg": "target" was for sidecars, which are no longer supported; drop it/],
    ],
    [
      "database without a DSN",
      "staging",
      { databases: [{ name: "pg", type: "postgres", mode: "standalone" }] },
      {},
      [/^monitoring:databases\[0\]: database "pg" needs a DSN: .*databaseDsns\.pg/],
    ],
    [
      "unknown database type",
      "staging",
      { databases: [{ name: "db", type: "mysql", mode: "standalone" }] },
      {},
      [/^monitoring:databases\[0\]\.type: must be one of "postgres", "redis", "mongodb" \(got "mysql"\)$/],
    ],
    [
      "webhook URL given in plain text",
      "staging",
      { discordWebhookUrl: "https://discord.com/api/webhooks/1/a" },
      {},
      [/^monitoring:discordWebhookUrl: must be a secret; set it with: pulumi config set --secret discordWebhookUrl <value>$/],
    ],
    [
      "secret webhook that is not a URL, without echoing it",
      "staging",
      {},
      { webhookUrl: "hunter2-not-a-url" },
      [/^monitoring:webhookUrl: must be an http:\/\/ or https:\/\/ URL \(got a value that is hidden because it is a secret\)$/],
    ],
    [
      "a profile is needed for other stack names",
      "dev",
      {},
      {},
      [/^monitoring:profile: is required because the stack name "dev" is neither staging nor production/],
    ],
    [
      "unknown profile",
      "staging",
      { profile: "prod" },
      {},
      [/^monitoring:profile: must be one of "staging", "production" \(got "prod"\)$/],
    ],
    [
      "two Grafana replicas on SQLite",
      "staging",
      { nodes: 2, grafana: { replicas: 2 } },
      {},
      [/^monitoring:grafana\.replicas: more than one Grafana replica needs an external database/],
    ],
    [
      "structured key that is not structured",
      "staging",
      { "monitoring:apps": "api" },
      {},
      [/^monitoring:apps: must be a list \(got "api"\)$/],
    ],
    [
      "protectVolumes that is not a boolean (Pulumi.yaml no longer declares it: the program checks it)",
      "production",
      { protectVolumes: "yes" },
      {},
      [/^monitoring:protectVolumes: must be true or false \(got "yes"\)$/],
    ],
    [
      "log collector without Loki",
      "staging",
      { loki: { enabled: false } },
      {},
      [/^monitoring:logCollector\.enabled: the log collector ships to Loki/],
    ],
    [
      "remote write without its credential",
      "staging",
      { prometheus: { remoteWrite: [{ name: "mimir", url: "https://mimir.example.com/api/v1/push", username: "tenant" }] } },
      {},
      [/^monitoring:prometheus\.remoteWrite\[0\]: remote write "mimir" needs its credential/],
    ],
    [
      "a DSN for a database that does not exist",
      "staging",
      {},
      { databaseDsns: { ghost: "postgresql://x" } },
      [/^monitoring:databaseDsns\.ghost: no database named "ghost"/],
    ],
    [
      "basic-auth passwords given in plain text",
      "staging",
      { basicAuthPasswords: { admin: "plain-text-password" } },
      {},
      [
        /^monitoring:basicAuthPasswords: must be a secret; set it with: pulumi config set --secret --path 'basicAuthPasswords\.<name>' <value>$/,
      ],
    ],
    [
      "a basic-auth password for a user not in traefik.basicAuthUsers",
      "staging",
      { traefik: { basicAuthUsers: ["admin", "ops"] } },
      { basicAuthPasswords: { root: "a-long-enough-password" } },
      [
        /^monitoring:basicAuthPasswords\.root: no user "root" in traefik\.basicAuthUsers \(admin, ops\): add the user there, or remove the password with: pulumi config rm --path 'basicAuthPasswords\.root'$/,
      ],
    ],
    [
      "a short basic-auth password, without echoing it",
      "staging",
      {},
      { basicAuthPasswords: { admin: "short-pw" } },
      [/^monitoring:basicAuthPasswords\.admin: must be at least 12 characters \(got a value that is hidden because it is a secret\)$/],
    ],
    [
      "a basic-auth password longer than bcrypt reads",
      "staging",
      {},
      { basicAuthPasswords: { admin: "x".repeat(73) } },
      [/^monitoring:basicAuthPasswords\.admin: must be at most 72 bytes \(bcrypt ignores the rest\) \(got a value that is hidden/],
    ],
  ];

  test.each(cases)("%s", (_name, stack, plain, secrets, expected) => {
    const found = problems(stack, plain, secrets);
    for (const pattern of expected) expect(found).toContainEqual(expect.stringMatching(pattern));
    expect(found).toHaveLength(expected.length);
  });

  test("there are at least 25 refused cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  test("every problem is listed in one message", () => {
    let message = "";
    try {
      parse("staging", { prometheus: { retention: "15 days", storage: { size: "10 gigs" } }, grafana: { replicas: 0 }, bogus: true });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split("\n")).toEqual([
      "Invalid stack configuration (4 problems):",
      expect.stringContaining("monitoring:prometheus.retention:"),
      expect.stringContaining("monitoring:prometheus.storage.size:"),
      expect.stringContaining("monitoring:grafana.replicas:"),
      expect.stringContaining("monitoring:bogus: unknown key"),
    ]);
  });

  test("a secret's value never appears in a message", () => {
    const found = problems(
      "staging",
      {},
      {
        discordWebhookUrl: "s3cr3t-value",
        databaseDsns: { "Bad Name": "postgresql://user:pw@host" },
        basicAuthPasswords: { root: "r00t-secret-password", "bad user": "another-secret-pw", admin: "tiny" },
      },
    );
    expect(found.join("\n")).toMatch(/basicAuthPasswords/);
    expect(found.join("\n")).not.toMatch(/s3cr3t-value|user:pw|r00t-secret-password|another-secret-pw|tiny/);
  });
});

test("schema problems and cross-key problems are reported together", () => {
  const found = problems("production", {
    nodes: 3,
    prometheus: { retention: "15 days", scrapeInterval: "15s" },
    alertmanager: { replicas: 1 },
    apps: [api, api],
  });
  expect(found).toEqual([
    expect.stringMatching(/^monitoring:prometheus\.retention: must be a positive Prometheus duration/),
    expect.stringMatching(/^monitoring:apps: app name "api" is used more than once/),
    expect.stringMatching(/^monitoring:alertmanager\.replicas: a production stack on 3 nodes needs at least 2/),
  ]);
});

// ---------------------------------------------------------------------------
// Refused inputs, by class: what Kubernetes or Prometheus would refuse is refused first,
// with the components' own checks, in one list.

/** Raw wire values (JSON text as Pulumi hands it, e.g. with 1e999), some of them secret. */
function problemsOfWire(stack: string, values: Record<string, string>, secretKeys: string[] = [], plainPaths: string[] = []): string[] {
  try {
    parseStackConfig({ project: "monitoring", stack, values, secretKeys, plainPaths });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error("the config was accepted");
}

type RefusedCase = [string, string, Record<string, unknown>, Record<string, unknown>, RegExp[]];

function expectRefused([, stack, plain, secrets, expected]: RefusedCase): void {
  const found = problems(stack, plain, secrets);
  for (const pattern of expected) expect(found).toContainEqual(expect.stringMatching(pattern));
  expect(found).toHaveLength(expected.length);
}

const standalone = (name: string, type = "postgres") => ({ name, type, mode: "standalone", secretRef: { name: "dsn", key: "dsn" } });
describe("refused: values Kubernetes would refuse", () => {
  const cases: RefusedCase[] = [
    [
      "a memory limit below its request",
      "staging",
      { grafana: { resources: { requests: { memory: "1Gi" }, limits: { memory: "512Mi" } } } },
      {},
      [
        /^monitoring:grafana\.resources\.limits\.memory: must be at least the request, 1Gi: Kubernetes refuses a limit below its request \(got "512Mi"\)$/,
      ],
    ],
    [
      "a CPU limit below the default request",
      "production",
      { prometheus: { resources: { limits: { cpu: "10m" } } } },
      {},
      [
        /^monitoring:prometheus\.resources\.limits\.cpu: must be at least the request, 20m \(the default prometheus\.resources\.requests\.cpu\)/,
      ],
    ],
    [
      "a request above the default limit",
      "staging",
      { loki: { resources: { requests: { memory: "2Gi" } } } },
      {},
      [
        /^monitoring:loki\.resources\.requests\.memory: must not exceed the limit, 528Mi \(the default loki\.resources\.limits\.memory\): raise that too/,
      ],
    ],
    [
      "an exporter's limit below its request, compared as quantities (1e9 bytes < 1Gi)",
      "staging",
      { databases: [{ ...standalone("pg"), resources: { requests: { memory: "1Gi" }, limits: { memory: "1e9" } } }] },
      {},
      [/^monitoring:databases\[0\]\.resources\.limits\.memory: must be at least the request, 1Gi/],
    ],
    [
      "replicas beyond int32",
      "staging",
      { prometheus: { replicas: 2 ** 31 } },
      {},
      [/^monitoring:prometheus\.replicas: must be at most 2147483647 \(Kubernetes counts replicas in 32 bits\) \(got 2147483648\)$/],
    ],
    [
      "a namespace too long for <namespace>-agents",
      "staging",
      { namespace: "n".repeat(57) },
      {},
      [/^monitoring:namespace: must be at most 56 characters while node agents run .* \(got "n{57}", 57 characters\)$/],
    ],
    [
      "a standalone exporter whose Service name would not be a DNS-1035 label",
      "staging",
      { databases: [standalone("1pg"), standalone("p".repeat(55))] },
      {},
      [
        /^monitoring:databases\[0\]\.name: must start with a letter for a standalone exporter: its Service "<name>-exporter" is a DNS-1035 label \(got "1pg"\)$/,
        /^monitoring:databases\[1\]\.name: must be at most 54 characters for a standalone exporter/,
      ],
    ],
    [
      "a Secret key Kubernetes refuses",
      "staging",
      {
        databases: [
          { ...standalone("a"), secretRef: { name: "dsn", key: "DATA SOURCE" } },
          { ...standalone("b"), secretRef: { name: "dsn", key: ".." } },
          { ...standalone("c"), secretRef: { name: "dsn", key: "..dsn" } },
          { ...standalone("d"), secretRef: { name: "dsn", key: "k".repeat(254) } },
        ],
      },
      {},
      [0, 1, 2, 3].map(
        (i) => new RegExp(`^monitoring:databases\\[${i}\\]\\.secretRef\\.key: must be a Secret key: at most 253 of letters, digits`),
      ),
    ],
    [
      "a StorageClass name Kubernetes refuses",
      "staging",
      { storageClass: "Fast SSD" },
      {},
      [
        /^monitoring:storageClass: must be a StorageClass name: lower-case letters, digits, '-' and '\.', at most 253 characters \(got "Fast SSD"\)$/,
      ],
    ],
    [
      "a domain too long for the hostnames derived from it",
      "staging",
      {
        domain: `${"d".repeat(63)}.${"d".repeat(63)}.${"d".repeat(63)}.${"d".repeat(50)}.com`,
        traefik: { enabled: true, expose: ["alertmanager"] },
      },
      {},
      [/^monitoring:domain: is too long for the hostname alertmanager\.<domain> \(259 characters; a hostname has at most 253\)/],
    ],
  ];
  test.each(cases)("%s", (...c) => expectRefused(c));

  test("the limits are where Kubernetes draws them", () => {
    expect(() => parse("staging", { namespace: "n".repeat(56) })).not.toThrow();
    expect(() =>
      parse("staging", { namespace: "n".repeat(63), nodeExporter: { enabled: false }, logCollector: { enabled: false } }),
    ).not.toThrow();
    expect(() => parse("staging", { nodes: 2 ** 31 - 1, prometheus: { replicas: 2 ** 31 - 1 } })).not.toThrow();
    expect(() => parse("staging", { databases: [standalone("p".repeat(54))] })).not.toThrow();
    expect(() =>
      parse("staging", { databases: [{ ...standalone("a"), secretRef: { name: "db.credentials", key: ".dsn" } }] }),
    ).not.toThrow();
    // Quantities in every form Kubernetes takes, compared by value; a CPU may be a YAML number.
    const { config } = parse("staging", {
      grafana: { resources: { requests: { cpu: 0.25, memory: "128e6" }, limits: { cpu: "1", memory: "0.5Gi" } } },
    });
    expect(config.grafana.resources).toEqual({ requests: { cpu: "0.25", memory: "128e6" }, limits: { cpu: "1", memory: "0.5Gi" } });
  });
});

describe("refused: values Prometheus would refuse or get wrong", () => {
  const cases: RefusedCase[] = [
    [
      "a duration beyond what Prometheus holds",
      "staging",
      { prometheus: { retention: "999999999999d" } },
      {},
      [
        /^monitoring:prometheus\.retention: must be at most 292y24w3d23h47m16s854ms \(about 292 years\), the longest duration Prometheus holds \(got "999999999999d"\)$/,
      ],
    ],
    [
      "a duration one millisecond beyond the bound, in Alertmanager",
      "staging",
      { alertmanager: { repeatInterval: "9223372036855ms" } },
      {},
      [/^monitoring:alertmanager\.repeatInterval: must be at most 292y24w3d23h47m16s854ms/],
    ],
    [
      "a retentionSize larger than the volume it lives on",
      "staging",
      { prometheus: { retentionSize: "45GB", storage: { size: "10Gi" } } },
      {},
      [
        /^monitoring:prometheus\.retentionSize: must be smaller than the volume it lives on \(prometheus\.storage\.size 10Gi, 10240MB\), .*the default is 85 % \(8704MB\) \(got "45GB"\)$/,
      ],
    ],
    [
      "a retentionSize as large as the volume",
      "production",
      { prometheus: { retentionSize: "50GB" } },
      {},
      [/^monitoring:prometheus\.retentionSize: must be smaller than the volume it lives on \(prometheus\.storage\.size 50Gi/],
    ],
    [
      "a metrics path with a query, which Prometheus would escape",
      "staging",
      { apps: [{ ...api, path: "/metrics?format=prometheus" }] },
      {},
      [/^monitoring:apps\[0\]\.path: must be a path without a query or fragment/],
    ],
    [
      "a histogram named with its _bucket suffix",
      "staging",
      { apps: [{ ...api, metrics: { duration: "http_request_duration_seconds_bucket" } }] },
      {},
      [/^monitoring:apps\[0\]\.metrics\.duration: must be the histogram's name without _bucket/],
    ],
  ];
  test.each(cases)("%s", (...c) => expectRefused(c));

  test("the longest duration Prometheus holds is accepted, one millisecond more is not", () => {
    // model.ParseDuration refuses more than 2^63-1 ns: 9223372036854ms is the last whole millisecond.
    expect(PROMETHEUS_MAX_DURATION_MS).toBe(Math.floor((2 ** 63 - 1) / 1e6));
    for (const longest of ["9223372036854ms", "292y24w3d23h47m16s854ms"]) {
      expect(parse("staging", { prometheus: { retention: longest } }).config.prometheus.retention).toBe(longest);
    }
    expect(problems("staging", { prometheus: { retention: "292y24w3d23h47m16s855ms" } })).toEqual([
      expect.stringMatching(/^monitoring:prometheus\.retention: must be at most 292y24w3d23h47m16s854ms/),
    ]);
    expect(() => parse("staging", { prometheus: { retentionSize: "8GB", storage: { size: "10Gi" } } })).not.toThrow();
  });
});

describe("refused: line breaks and control characters in text", () => {
  const cases: RefusedCase[] = [
    [
      "a StorageClass with a trailing line break",
      "staging",
      { storageClass: "local-path\n" },
      {},
      [
        /^monitoring:storageClass: must be on one line, without control characters; found a line break at character 11 \(got "local-path\\n"\)$/,
      ],
    ],
    [
      "a metrics path with a line break",
      "staging",
      { apps: [{ ...api, path: "/metrics\nX-Injected: 1" }] },
      {},
      [/^monitoring:apps\[0\]\.path: must be on one line, without control characters; found a line break at character 9/],
    ],
    [
      "a tab in an entry point, a control character in a label value, a line break in a database user",
      "staging",
      {
        traefik: { entryPoints: ["web\tsecure"] },
        apps: [{ ...api, labels: { team: "core\u0007" } }],
        grafana: { replicas: 1, database: { type: "postgres", host: "pg", name: "grafana", user: "grafana\n[security]" } },
      },
      { grafanaDatabasePassword: "pw" },
      [
        /^monitoring:traefik\.entryPoints\[0\]: must be on one line, without control characters; found a tab at character 4/,
        /^monitoring:apps\[0\]\.labels\.team: must be on one line, without control characters; found the control character U\+0007 at character 5/,
        /^monitoring:grafana\.database\.user: must be on one line, without control characters; found a line break at character 8/,
      ],
    ],
    [
      "a secret with a trailing line break, without echoing it",
      "staging",
      {},
      { discordWebhookUrl: "https://discord.com/api/webhooks/1/a\n" },
      [
        /^monitoring:discordWebhookUrl: must be on one line, without control characters; found a line break at character 37 \(got a value that is hidden because it is a secret\)$/,
      ],
    ],
  ];
  test.each(cases)("%s", (...c) => expectRefused(c));
});

describe("refused: what the components refused, now found by config in the same list", () => {
  const cases: RefusedCase[] = [
    [
      "an app named like a built-in job or a component's",
      "staging",
      {
        apps: [
          { ...api, name: "kubelet" },
          { ...api, name: "loki" },
        ],
      },
      {},
      [
        /^monitoring:apps\[0\]\.name: is the job of one of the stack's own scrape jobs, .*rename the app \(taken: kubernetes-pods, kubelet, cadvisor, prometheus, .*\) \(got "kubelet"\)$/,
        /^monitoring:apps\[1\]\.name: is the job of one of the stack's own scrape jobs.*\(got "loki"\)$/,
      ],
    ],
    [
      "reserved target labels",
      "staging",
      { apps: [{ ...api, labels: { job: "x", __tmp: "y", team: "core" } }] },
      {},
      [
        /^monitoring:apps\[0\]\.labels\.job: is a label the scrape config sets itself \(app, job, instance, namespace, pod, service, node\); choose another name$/,
        /^monitoring:apps\[0\]\.labels\.__tmp: starts with __, which Prometheus keeps for itself/,
      ],
    ],
    [
      "credentials in an app URL, without echoing the password",
      "staging",
      { apps: [{ name: "legacy", url: "https://scraper:hunter2@legacy.example.com/metrics" }] },
      {},
      [
        /^monitoring:apps\[0\]\.url: must not hold credentials \(user:password@\).* \(got "https:\/\/scraper:\*\*\*@legacy\.example\.com\/metrics"\)$/,
      ],
    ],
    [
      "credentials in a remote-write URL",
      "staging",
      { prometheus: { remoteWrite: [{ name: "mimir", url: "https://tenant:t0ken@mimir.example.com/api/v1/push" }] } },
      {},
      [/^monitoring:prometheus\.remoteWrite\[0\]\.url: must not hold credentials/],
    ],
    [
      "a grafana.ini value it cannot quote",
      "staging",
      { grafana: { database: { type: "mysql", host: "db:3306", name: "graf`ana", user: "grafana" } } },
      { grafanaDatabasePassword: "pw" },
      [/^monitoring:grafana\.database\.name: must not contain a backquote \(`\): grafana\.ini cannot quote it \(got "graf`ana"\)$/],
    ],
    [
      "external labels the program sets itself",
      "production",
      { nodes: 2, prometheus: { externalLabels: { replica: "a", environment: "prod", region: "eu" } } },
      {},
      [
        /^monitoring:prometheus\.externalLabels\.environment: is the label the program sets from monitoring:environment \("production"\)/,
        /^monitoring:prometheus\.externalLabels\.replica: is set by Prometheus itself when it runs more than one replica \(prometheus\.replicas is 2\)/,
      ],
    ],
    [
      // A sidecar's DSN moved over as it was: in the exporter's own pod, localhost is the exporter.
      "a DSN that names the exporter's own pod, without echoing it",
      "staging",
      {
        databases: [
          { name: "pg", type: "postgres", mode: "standalone" },
          { name: "cache", type: "redis", mode: "standalone" },
        ],
      },
      { databaseDsns: { pg: "postgresql://app:s3cret@localhost:5432/app", cache: "unix:///run/redis/s3cret.sock" } },
      [
        /^monitoring:databaseDsns\.pg: names the loopback host "localhost": the exporter runs in a pod of its own, where that is the exporter itself; name the database's Service \(for instance postgres\.shop\.svc:5432\), or one server's own name \(a StatefulSet pod: <pod>\.<service>\.<namespace>\.svc\) \(got a value that is hidden because it is a secret\)$/,
        /^monitoring:databaseDsns\.cache: names a Unix socket: .*\(for instance redis\.shop\.svc:6379\).*\(got a value that is hidden because it is a secret\)$/,
      ],
    ],
    [
      "a DSN of another database type, without echoing it",
      "staging",
      { databases: [{ name: "cache", type: "redis", mode: "standalone" }] },
      { databaseDsns: { cache: "postgresql://app:s3cret@db:5432/app" } },
      [
        /^monitoring:databaseDsns\.cache: is not a redis DSN \(database "cache" is redis\); expected something like redis:\/\/:password@host:6379 \(got a value that is hidden because it is a secret\)$/,
      ],
    ],
    [
      "two published services on one hostname",
      "staging",
      { domain: "example.com", hostnames: { prometheus: "grafana.example.com" }, traefik: { enabled: true } },
      {},
      [
        /^monitoring:hostnames\.prometheus: is also the hostname of grafana, and both are published: give each service its own \(got "grafana\.example\.com"\)$/,
      ],
    ],
    [
      "an Access session shorter than Cloudflare counts",
      "staging",
      { cloudflare: { access: { sessionDuration: "500ms" } } },
      {},
      [/^monitoring:cloudflare\.access\.sessionDuration: must be at least 1s \(got "500ms"\)$/],
    ],
    [
      "a remote-write password for no remote write",
      "staging",
      {},
      { remoteWritePasswords: { ghost: "a-password" } },
      [/^monitoring:remoteWritePasswords\.ghost: no remote write named "ghost" in prometheus\.remoteWrite/],
    ],
  ];
  test.each(cases)("%s", (...c) => expectRefused(c));

  test("an app may take a component's job name when that component is off", () => {
    const { config } = parse("staging", { apps: [{ ...api, name: "loki" }], loki: { enabled: false }, logCollector: { enabled: false } });
    expect(config.apps.map((a) => a.name)).toEqual(["loki"]);
  });

  test("config problems and the components' problems come in one list, in one format", () => {
    const found = problems("staging", {
      prometheus: { retention: "15 days" },
      apps: [{ name: "grafana", url: "http://u:p@grafana.example.com/metrics", labels: { instance: "x" } }],
    });
    expect(found).toHaveLength(4);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^monitoring:prometheus\.retention: must be a positive Prometheus duration/),
        expect.stringMatching(/^monitoring:apps\[0\]\.url: must not hold credentials/),
        expect.stringMatching(/^monitoring:apps\[0\]\.name: is the job of one of the stack's own scrape jobs/),
        expect.stringMatching(/^monitoring:apps\[0\]\.labels\.instance: is a label the scrape config sets itself/),
      ]),
    );
  });

  test("the DSN formats are the exporters'", () => {
    for (const [type, kind] of Object.entries(EXPORTER_KINDS)) {
      expect({ type, pattern: kind.dsnPattern.source, example: kind.dsnExample }).toEqual({
        type,
        pattern: DSN_FORMATS[type as keyof typeof DSN_FORMATS].pattern.source,
        example: DSN_FORMATS[type as keyof typeof DSN_FORMATS].example,
      });
    }
  });

  test("the stack's own job names are the ones config reserves", async () => {
    // Every component on, standalone exporters of each type: every job the render has is reserved or an app's.
    const plain = {
      profile: "staging",
      domain: "example.com",
      apps: [api],
      databases: [standalone("pg"), standalone("cache", "redis"), standalone("docs", "mongodb")],
      cloudflare: { enabled: true, accountId: "a".repeat(32), zoneId: "b".repeat(32) },
    };
    const values: Record<string, string> = { "cloudflare:apiToken": "token", "monitoring:grafanaAdminPassword": "a-long-password" };
    for (const [k, v] of Object.entries(plain)) values[`monitoring:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    const secretKeys = ["cloudflare:apiToken", "monitoring:grafanaAdminPassword"];
    const { config } = parseStackConfig({ project: "monitoring", stack: "jobs", values, secretKeys });
    const run = await runProgram({ project: "monitoring", stack: "jobs", config: values, secretKeys });
    const prometheusYml = YAML.parse(renderRun(run, false).files.get("prometheus/prometheus.yml") ?? "") as {
      scrape_configs: Array<{ job_name: string }>;
    };
    const jobs = new Set(prometheusYml.scrape_configs.map((j) => j.job_name.replace(/\/.*$/, "")));
    expect(jobs).toEqual(new Set([...BUILTIN_SCRAPE_JOBS, ...componentScrapeJobs(config), "api"]));
  });
});

describe("refused: secrets, in plain text or echoed", () => {
  const MARK = "S3CR3T-MARK";
  /** Malformed values of each secret key, each carrying the mark: as secret, and the same in plain text. */
  const malformed: Record<string, unknown[]> = {
    grafanaAdminPassword: [`${MARK}`, `${MARK}-long-enough\r`],
    grafanaDatabasePassword: [`${MARK}\t`],
    discordWebhookUrl: [`${MARK}-not-a-url`, `https://discord.com/${MARK}\n`],
    discordCriticalWebhookUrl: [`${MARK}-not-a-url`, `ftp://${MARK}@x`],
    slackWebhookUrls: [MARK, { ops: `${MARK}-not-a-url` }, { "Bad Name": `https://hooks.slack.com/${MARK}` }],
    discordWebhookUrls: [{ ops: `ftp://${MARK}` }],
    webhookUrls: [{ ops: `${MARK} not a url` }],
    smtpPassword: [`${MARK}\n`, ""],
    webhookUrl: [`${MARK} not a url`],
    deadMansSwitchUrl: [`${MARK}`],
    databaseDsns: [`postgresql://app:${MARK}@db:5432/app`, [MARK], { "Bad Name": MARK }, { pg: `${MARK}-not-a-dsn` }, { pg: `${MARK}\n` }],
    remoteWritePasswords: [MARK, { mimir: [MARK] }, { "Bad Name": MARK }, { mimir: `${MARK}\u0000` }],
    basicAuthPasswords: [MARK, { admin: MARK }, { admin: `${MARK}`.repeat(10) }, { "bad user": MARK }, { admin: 12345 }],
    targetCredentials: [MARK, { minio: [MARK] }, { "Bad Name": MARK }, { minio: `${MARK}\n` }, { nobody: MARK }],
  };
  const withDatabase = {
    databases: [{ name: "pg", type: "postgres", mode: "standalone" }],
    prometheus: { remoteWrite: [{ name: "mimir", url: "https://mimir.example.com/push", bearerToken: true }] },
    targets: [{ name: "minio", url: "https://minio.example.com/minio/v2/metrics/cluster", auth: { bearerToken: true } }],
  };

  test("every secret key has malformed values to try", () => {
    expect(Object.keys(malformed).sort()).toEqual([...SECRET_KEYS].sort());
  });

  test.each([...SECRET_KEYS])("%s: no message shows its value, malformed, as a secret or in plain text", (key) => {
    for (const value of malformed[key]) {
      for (const secret of [true, false]) {
        const wire = typeof value === "string" ? value : JSON.stringify(value);
        const values: Record<string, string> = { [`monitoring:${key}`]: wire };
        for (const [k, v] of Object.entries(withDatabase)) values[`monitoring:${k}`] = JSON.stringify(v);
        const found = problemsOfWire("staging", values, secret ? [`monitoring:${key}`] : []);
        expect({ value, secret, refused: found.some((f) => f.startsWith(`monitoring:${key}`)) }).toEqual({ value, secret, refused: true });
        expect({ value, secret, found }).toEqual({ value, secret, found: found.filter((f) => !f.includes(MARK)) });
      }
    }
  });

  test("a secret map given whole says how to give it, without echoing it", () => {
    expect(problems("staging", { databases: [standalone("pg")] }, { databaseDsns: "postgresql://app:hunter2@db:5432/app" })).toEqual([
      "monitoring:databaseDsns: must be a map of database name to DSN, set one entry at a time: pulumi config set --secret --path 'databaseDsns.<database-name>' <value> (got a value that is hidden because it is a secret)",
    ]);
  });

  test("the Cloudflare provider's token in plain text is refused, as a secret it is not the program's business", () => {
    expect(problemsOfWire("staging", { "cloudflare:apiToken": `cf-${MARK}` })).toEqual([
      "cloudflare:apiToken: must be a secret; set it with: pulumi config set --secret cloudflare:apiToken <value>",
    ]);
    expect(() =>
      parseStackConfig({
        project: "monitoring",
        stack: "staging",
        values: { "cloudflare:apiToken": "t" },
        secretKeys: ["cloudflare:apiToken"],
      }),
    ).not.toThrow();
  });

  test("one entry of a secret map in plain text beside secret ones is refused", () => {
    const values = {
      "monitoring:databases": JSON.stringify([standalone("orders"), standalone("users")].map(({ secretRef: _, ...db }) => db)),
      "monitoring:databaseDsns": JSON.stringify({ orders: "postgresql://a:b@orders/db", users: "postgresql://c:d@users/db" }),
    };
    expect(problemsOfWire("staging", values, ["monitoring:databaseDsns"], ["monitoring:databaseDsns.users"])).toEqual([
      "monitoring:databaseDsns.users: must be a secret like the other entries of databaseDsns; set it with: pulumi config set --secret --path 'databaseDsns.users' <value>",
    ]);
  });

  test("the program reads the stack file in its directory to find them", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plain-entry-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: monitoring\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(dir, "Pulumi.demo.yaml"),
      "config:\n  monitoring:databaseDsns:\n    orders: { secure: v1:AAAA }\n    users: postgresql://c:d@users/db\n",
    );
    const databases = [standalone("orders"), standalone("users")].map(({ secretRef: _, ...db }) => db);
    const config = {
      "monitoring:profile": "staging",
      "monitoring:databases": JSON.stringify(databases),
      "monitoring:databaseDsns": JSON.stringify({ orders: "postgresql://a:b@orders/db", users: "postgresql://c:d@users/db" }),
    };
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await expect(runProgram({ project: "monitoring", stack: "demo", config, secretKeys: ["monitoring:databaseDsns"] })).rejects.toThrow(
        "monitoring:databaseDsns.users: must be a secret like the other entries of databaseDsns",
      );
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the stack file tells which entries of a secret map are plain", () => {
    const stackFile = YAML.parse(
      [
        "monitoring:databaseDsns:",
        "  orders: { secure: v1:AAAA }",
        "  users: postgresql://c:d@users/db",
        "monitoring:remoteWritePasswords:",
        "  mimir: { secure: v1:BBBB }",
        "monitoring:apps:",
        "  - name: api",
        "monitoring:discordWebhookUrl: https://discord.com/api/webhooks/1/a",
      ].join("\n"),
    ) as Record<string, unknown>;
    // Keys with no secure entry at all are refused whole (or are not secret keys): only mixed maps list entries.
    expect(plainEntriesOfSecretKeys(stackFile)).toEqual(["monitoring:databaseDsns.users"]);
  });
});

describe("refused: typos in the prefix, keys outside their section", () => {
  test("a misspelt project prefix is refused with the key it meant", () => {
    expect(
      problems("staging", { "monitorng:protectVolumes": "true", "Monitoring:domain": "example.com", "kubernetes:context": "k3s" }),
    ).toEqual([
      'monitorng:protectVolumes: unknown namespace "monitorng" (did you mean "monitoring:protectVolumes"?): the program reads only monitoring: keys and its providers\' (kubernetes, cloudflare, random), so this value would be ignored',
      expect.stringMatching(/^Monitoring:domain: unknown namespace "Monitoring" \(did you mean "monitoring:domain"\?\)/),
    ]);
  });

  test.each([
    [
      "retention",
      /\(did you mean "prometheus\.retention" or "loki\.retention"\? It belongs in a section: pulumi config set --path 'prometheus\.retention' <value>\)/,
    ],
    ["smtp", /\(did you mean "alertmanager\.smtp"\? It belongs in a section: pulumi config set --path 'alertmanager\.smtp' <value>\)/],
    ["scrapeInterval", /\(did you mean "prometheus\.scrapeInterval"\?/],
  ])("a top-level %s points to its section", (key, hint) => {
    expect(problems("staging", { [key]: "x" })).toEqual([
      expect.stringMatching(new RegExp(`^monitoring:${key}: unknown key ${hint.source}`)),
    ]);
  });
});

describe("refused, and the message helps", () => {
  const cases: RefusedCase[] = [
    [
      "a duration without its unit",
      "staging",
      { prometheus: { scrapeInterval: 30 } },
      {},
      [/^monitoring:prometheus\.scrapeInterval: must be a Prometheus duration with its unit, such as 30s or 30m \(got 30\)$/],
    ],
    [
      "a boolean written yes",
      "staging",
      { loki: { enabled: "yes" }, protectVolumes: "yes" },
      {},
      [
        /^monitoring:loki\.enabled: must be true or false \(got "yes"\)$/,
        /^monitoring:protectVolumes: must be true or false \(got "yes"\)$/,
      ],
    ],
    [
      "a port out of range and a port name, in the project's words",
      "staging",
      {
        apps: [
          { ...api, port: 70000 },
          { ...api, name: "web", port: "HTTP" },
        ],
      },
      {},
      [
        /^monitoring:apps\[0\]\.port: must be a port number 1-65535 or a port name \(at most 15 of a-z, 0-9 and '-', with a letter\) \(got 70000\)$/,
        /^monitoring:apps\[1\]\.port: must be a port number 1-65535 or a port name .*\(got "HTTP"\)$/,
      ],
    ],
    [
      "a metric name and a label name, without a regular expression",
      "staging",
      { apps: [{ ...api, metrics: { requests: "http-requests", statusLabel: "status-code" } }] },
      {},
      [
        /^monitoring:apps\[0\]\.metrics\.requests: must be a metric name: letters, digits, _ and :, not starting with a digit \(got "http-requests"\)$/,
        /^monitoring:apps\[0\]\.metrics\.statusLabel: must be a label name: letters, digits and _, not starting with a digit \(got "status-code"\)$/,
      ],
    ],
    [
      "memory in thousandths",
      "staging",
      { grafana: { resources: { limits: { memory: "512m" } } } },
      {},
      [
        /^monitoring:grafana\.resources\.limits\.memory: must be a positive Kubernetes quantity such as 512Mi, 10Gi or 1Ti \(m means thousandths: 512m is a fraction of a byte; write 512Mi\)/,
      ],
    ],
    [
      "a malformed domain, without follow-on problems about no domain",
      "staging",
      { domain: "Example..com", traefik: { enabled: true } },
      {},
      [/^monitoring:domain: must be a fully qualified lower-case hostname/],
    ],
    [
      "a section given as text",
      "staging",
      { "monitoring:loki": "yes" },
      {},
      [/^monitoring:loki: must be a map of keys \(enabled, retention, storage, resources, ingestion\) \(got "yes"\)$/],
    ],
    [
      "an empty list of entry points",
      "staging",
      { traefik: { entryPoints: [] } },
      {},
      [/^monitoring:traefik\.entryPoints: must list at least one entry point \(got \[\]\)$/],
    ],
  ];
  test.each(cases)("%s", (...c) => expectRefused(c));

  test("Infinity shows as Infinity, not null", () => {
    expect(problemsOfWire("staging", { "monitoring:prometheus": '{"replicas": 1e999}' })).toEqual([
      "monitoring:prometheus.replicas: must be a whole number (got Infinity)",
    ]);
  });

  /** A value at a documented key path, in the first entry of each list (`apps[].port`: the port of the first app). */
  function valueAt(key: string, value: unknown): Record<string, unknown> {
    const build = (parts: string[]): unknown => {
      if (parts.length === 0) return value;
      const [part, ...rest] = parts;
      const inner = build(rest);
      return part.endsWith("[]") ? { [part.slice(0, -2)]: [inner] } : { [part]: inner };
    };
    return build(key.split(".")) as Record<string, unknown>;
  }

  test("no message at any key shows the validation library's wording or a regular expression", () => {
    const keys = configKeyDocs()
      .filter((d) => !d.secret)
      .map((d) => d.key);
    const bad: unknown[] = [{}, [], "x", "", -1, 0.5, true, 99999999999, "ZZ not valid"];
    const library =
      /Invalid input|Invalid option|Invalid string|Invalid key|Too (big|small)|expected \w+ to|received|must match pattern|\/\^|\$\//;
    const offending: string[] = [];
    let refusedAtKey = 0;
    for (const key of keys) {
      for (const value of bad) {
        const plain = valueAt(key, value);
        let found: string[] = [];
        try {
          parse("staging", plain);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          found = err.problems.map((p) => `${p.key}: ${p.message}`);
        }
        offending.push(...found.filter((f) => library.test(f)));
        if (found.some((f) => f.startsWith(`monitoring:${key.replace(/\[\]/g, "[0]")}:`) && / \(got .*\)$/.test(f))) refusedAtKey += 1;
      }
    }
    expect(offending).toEqual([]);
    // Most of those values are wrong for most keys, and each such problem says what was given.
    expect(refusedAtKey).toBeGreaterThan(keys.length * 3);
  });
});

describe("refused before, valid", () => {
  test("an app may scrape more often than the global scrape timeout", () => {
    const { config } = parse("staging", { prometheus: { scrapeTimeout: "10s" }, apps: [{ ...api, interval: "5s" }] });
    expect(config.apps[0].interval).toBe("5s");
  });
});

describe("alert routing: named receivers, routes, email", () => {
  const HOOK = (n: number) => `https://hooks.slack.com/services/T0/B0/${n}`;
  /** Seed 001's channels: the deployment system's services, the apps it deploys, and the infrastructure. */
  const SEED_001 = {
    alertmanager: {
      receivers: [
        { name: "deployment", slack: { channel: "#deployment" } },
        { name: "applications", slack: { channel: "#applications" } },
        { name: "infrastructure", slack: { channel: "#infrastructure" }, email: { to: ["ops@example.com"] } },
      ],
      routes: [
        { matchers: ['app=~"deployment-api|port-manager|tunnel-manager"'], receiver: "deployment" },
        {
          matchers: ["app =~ app-.+", 'severity!="info"', 'team=~"(?i)apps"'],
          receiver: "applications",
          continue: true,
          repeatInterval: "12h",
        },
      ],
      defaultReceiver: "infrastructure",
      smtp: { smarthost: "smtp.example.com:587", from: "alerts@example.com", username: "alerts@example.com" },
    },
  };
  const SEED_001_SECRETS = {
    slackWebhookUrls: { deployment: HOOK(1), applications: HOOK(2), infrastructure: HOOK(3) },
    smtpPassword: "smtp-password",
  };
  const withAm = (am: Record<string, unknown>) => ({ alertmanager: { ...SEED_001.alertmanager, ...am } });

  test("receivers take their webhooks from secret maps by name, matchers are written in one form, the mail server needs TLS", () => {
    const { config } = parse("staging", SEED_001, SEED_001_SECRETS);
    expect(config.alertmanager.routing).toEqual({
      receivers: [
        { name: "deployment", slack: { channel: "#deployment", webhookUrl: HOOK(1) }, sendResolved: true },
        { name: "applications", slack: { channel: "#applications", webhookUrl: HOOK(2) }, sendResolved: true },
        {
          name: "infrastructure",
          slack: { channel: "#infrastructure", webhookUrl: HOOK(3) },
          email: { to: ["ops@example.com"] },
          sendResolved: true,
        },
      ],
      routes: [
        { receiver: "deployment", matchers: ['app=~"deployment-api|port-manager|tunnel-manager"'], continue: false },
        {
          receiver: "applications",
          matchers: ['app=~"app-.+"', 'severity!="info"', 'team=~"(?i)apps"'],
          continue: true,
          repeatInterval: "12h",
        },
      ],
      defaultReceiver: "infrastructure",
      smtp: {
        smarthost: "smtp.example.com:587",
        from: "alerts@example.com",
        username: "alerts@example.com",
        password: "smtp-password",
        requireTls: true,
      },
    });
  });

  test("each mistake is one clear problem naming its full key", () => {
    expect(
      problems(
        "staging",
        withAm({
          receivers: [
            { name: "deployment", slack: { channel: "#deployment" } },
            { name: "empty" },
            { name: "infrastructure", email: { to: ["ops@example.com", "not-an-address"] } },
          ],
          routes: [
            { matchers: ['app=~"deployment-api"'], receiver: "deploy" },
            { matchers: ["app is api"], receiver: "deployment" },
            { matchers: ['app=~"(?!api)"'], receiver: "deployment" },
          ],
          smtp: { smarthost: "smtp.example.com", from: "alerts@example.com" },
        }),
        { slackWebhookUrls: { applications: HOOK(2) } },
      ),
    ).toEqual([
      'monitoring:alertmanager.receivers[2].email.to[1]: must be an email address (got "not-an-address")',
      'monitoring:alertmanager.routes[1].matchers[0]: must be a matcher such as severity="critical", app=~"api|web" or team!="platform": a label name, one of = != =~ !~, and a value (got "app is api")',
      'monitoring:alertmanager.routes[2].matchers[0]: has a regular expression with lookaround or a backreference, which Alertmanager\'s (Go RE2) does not have (got "app=~\\"(?!api)\\"")',
      'monitoring:alertmanager.smtp.smarthost: must be host:port such as smtp.example.com:587 (the port is required, 1-65535) (got "smtp.example.com")',
      "monitoring:alertmanager.receivers[0].slack: receiver \"deployment\" needs its Slack webhook (one per channel: a Slack app webhook ignores `channel`): pulumi config set --secret --path 'slackWebhookUrls.deployment' <url>",
      'monitoring:alertmanager.receivers[1]: receiver "empty" has no integration: give it slack, discord, webhook or email',
      "monitoring:slackWebhookUrls.applications: names no receiver of alertmanager.receivers (deployment, empty, infrastructure); add it there, or remove this with: pulumi config rm --path 'slackWebhookUrls.applications'",
      'monitoring:alertmanager.routes[0].receiver: must name a receiver of alertmanager.receivers (deployment, empty, infrastructure) (got "deploy")',
    ]);
  });

  test("a receiver's email needs the mail server, a user needs the password, and routes need receivers", () => {
    expect(problems("staging", withAm({ smtp: undefined }), SEED_001_SECRETS)).toEqual([
      "monitoring:smtpPassword: is only sent with a user name: set alertmanager.smtp.username, or remove it with: pulumi config rm smtpPassword",
      'monitoring:alertmanager.receivers[2].email: receiver "infrastructure" sends email, so alertmanager.smtp must say through which server (smarthost, from)',
    ]);
    expect(problems("staging", SEED_001, { slackWebhookUrls: SEED_001_SECRETS.slackWebhookUrls })).toEqual([
      "monitoring:alertmanager.smtp.username: is set, so the password is needed: pulumi config set --secret smtpPassword <value>",
    ]);
    expect(problems("staging", withAm({ defaultReceiver: undefined }), SEED_001_SECRETS)).toEqual([
      "monitoring:alertmanager.defaultReceiver: is required with alertmanager.receivers: the receiver of the alerts no route takes, one of deployment, applications, infrastructure (got nothing)",
    ]);
    expect(problems("staging", { alertmanager: { routes: SEED_001.alertmanager.routes } }, { slackWebhookUrls: { ops: HOOK(1) } })).toEqual(
      [
        "monitoring:alertmanager.routes: needs alertmanager.receivers: routes, the default receiver and the mail server are for named receivers",
        "monitoring:slackWebhookUrls.ops: is for the receiver \"ops\" of alertmanager.receivers, which has none; add it there, or remove this with: pulumi config rm --path 'slackWebhookUrls.ops'",
      ],
    );
    expect(
      problems("staging", withAm({ receivers: [{ name: "null", webhook: {} }], defaultReceiver: "null", routes: [] }), {
        webhookUrls: { null: HOOK(1) },
        smtpPassword: "smtp-password",
      }),
    ).toEqual([
      'monitoring:alertmanager.receivers[0].name: is a receiver the stack keeps for the Watchdog (deadmans-switch, null); choose another name (got "null")',
      "monitoring:alertmanager.smtp: is set, but no receiver sends email: give one an `email: {to: [...]}`, or remove alertmanager.smtp",
    ]);
  });

  test("the legacy receiver keys feed the default tree only: beside named receivers they are refused with the way over", () => {
    expect(problems("staging", SEED_001, { ...SEED_001_SECRETS, discordWebhookUrl: "https://discord.com/api/webhooks/1/a" })).toEqual([
      "monitoring:discordWebhookUrl: feeds the default critical/warning split, which alertmanager.receivers replaces: give its address to a receiver (discord: {} and discordWebhookUrls.<receiver>), then remove it with: pulumi config rm discordWebhookUrl",
    ]);
    // The dead man's switch keeps working in both trees.
    expect(
      parse("staging", SEED_001, { ...SEED_001_SECRETS, deadMansSwitchUrl: "https://hc-ping.com/x" }).config.alertmanager.receivers,
    ).toEqual({
      deadMansSwitch: { url: "https://hc-ping.com/x" },
    });
  });

  test("the one Slack webhook with a channel per severity is refused, never silently sent to one channel", () => {
    const found = problems(
      "staging",
      { alertmanager: { slack: { criticalChannel: "#alerts-critical", warningChannel: "#infrastructure" } } },
      { slackWebhookUrl: "https://hooks.slack.com/services/T/B/hunter2" },
    );
    expect(found).toEqual([
      expect.stringMatching(
        /^monitoring:slackWebhookUrl: is no longer read: one Slack webhook posts to the one channel it was made for .* then pulumi config rm slackWebhookUrl$/,
      ),
      expect.stringMatching(
        /^monitoring:alertmanager\.slack: is no longer read: each Slack channel is a receiver with its own webhook\. Instead: alertmanager\.receivers .*slackWebhookUrls\.<receiver>/,
      ),
    ]);
    expect(found.join("\n")).not.toContain("hunter2");
  });
});
