import { ConfigError, PROFILE_DEFAULTS, ParsedConfig, parseStackConfig } from "../components/config";

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

const api = { name: "api", namespace: "shop", service: "api", port: 8080 };

describe("stack config: defaults", () => {
  test("staging is small and production is HA with longer retention", () => {
    const staging = parse("staging", {}).config;
    const production = parse("production", {}).config;
    expect(staging.profile).toBe("staging");
    expect(staging.prometheus.replicas).toBe(1);
    expect(staging.alertmanager.replicas).toBe(1);
    expect(staging.prometheus.retention).toBe("7d");
    expect(production.profile).toBe("production");
    expect(production.prometheus.replicas).toBe(2);
    expect(production.alertmanager.replicas).toBe(3);
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

  test("an app gets the contract's default metric names, SLO and thresholds", () => {
    const { config } = parse("staging", { apps: [api] });
    expect(config.apps[0]).toEqual({
      name: "api",
      service: { namespace: "shop", name: "api", port: 8080 },
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
    const { config } = parse("eu-prod", { profile: "production" });
    expect(config.profile).toBe("production");
    expect(config.environment).toBe("eu-prod");
    expect(config.prometheus.replicas).toBe(PROFILE_DEFAULTS.production.prometheus.replicas);
  });

  test("receivers come from secrets, and provider keys of other namespaces are ignored", () => {
    const { config } = parse(
      "staging",
      { "cloudflare:apiToken": "ignored" },
      { discordCriticalWebhookUrl: "https://discord.com/api/webhooks/1/a", slackWebhookUrl: "https://hooks.slack.com/services/T/B/X" },
    );
    expect(config.alertmanager.receivers).toEqual({
      discord: { criticalWebhookUrl: "https://discord.com/api/webhooks/1/a" },
      slack: {
        webhookUrl: "https://hooks.slack.com/services/T/B/X",
        criticalChannel: "#alerts-critical",
        warningChannel: "#infrastructure",
      },
    });
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
      { grafana: { replicas: 2, database: { type: "postgres", host: "pg:5432", name: "grafana", user: "grafana" } } },
      { grafanaDatabasePassword: "pw" },
    ).warnings;
    expect(shared).toEqual([
      expect.stringMatching(/^monitoring:grafana\.replicas is 2 on an external database in a stack that protects its volumes/),
    ]);
    // Nothing is kept, and nothing said, where volumes are not protected.
    expect(parse("staging", { loki: { enabled: false }, logCollector: { enabled: false } }).warnings).toEqual([]);
  });

  test("a production stack with one Prometheus replica deploys with a warning", () => {
    const { warnings } = parse("production", { prometheus: { replicas: 1 } });
    expect(warnings).toEqual([expect.stringContaining("monitoring:prometheus.replicas is 1 in a production stack")]);
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
      [/^monitoring:retension: unknown key; allowed here: profile, environment/],
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
      "production with one Alertmanager replica",
      "production",
      { alertmanager: { replicas: 1 } },
      {},
      [/^monitoring:alertmanager\.replicas: a production stack needs at least 2 Alertmanager replicas .*got 1$/],
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
      [/^monitoring:apps\[0\]: app "api" scrapes a Service, so it needs "namespace" and "port" too$/],
    ],
    [
      "app name that is not a DNS label",
      "staging",
      { apps: [{ ...api, name: "My_App" }] },
      {},
      [/^monitoring:apps\[0\]\.name: must be a DNS-1123 label/],
    ],
    [
      "two sidecars on one workload",
      "staging",
      {
        databases: [
          {
            name: "pg",
            type: "postgres",
            mode: "sidecar",
            target: { kind: "StatefulSet", name: "db", namespace: "shop" },
            secretRef: { name: "s", key: "k" },
          },
          {
            name: "cache",
            type: "redis",
            mode: "sidecar",
            target: { kind: "StatefulSet", name: "db", namespace: "shop" },
            secretRef: { name: "s", key: "k" },
          },
        ],
      },
      {},
      [/^monitoring:databases: two exporter sidecars target shop\/StatefulSet\/db; a workload can carry one/],
    ],
    [
      "sidecar without a target",
      "staging",
      { databases: [{ name: "pg", type: "postgres", mode: "sidecar", secretRef: { name: "s", key: "k" } }] },
      {},
      [/^monitoring:databases\[0\]\.target: database "pg" is a sidecar, so it needs target/],
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
      { slackWebhookUrl: "hunter2-not-a-url" },
      [/^monitoring:slackWebhookUrl: must be an http:\/\/ or https:\/\/ URL \(got a value that is hidden because it is a secret\)$/],
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
      { grafana: { replicas: 2 } },
      {},
      [/^monitoring:grafana\.replicas: more than one Grafana replica needs an external database/],
    ],
    [
      "structured key that is not structured",
      "staging",
      { "monitoring:apps": "api" },
      {},
      [/^monitoring:apps: must be structured YAML or JSON \(got "api"\)$/],
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
    prometheus: { retention: "15 days", scrapeInterval: "15s" },
    alertmanager: { replicas: 1 },
    apps: [api, api],
  });
  expect(found).toEqual([
    expect.stringMatching(/^monitoring:prometheus\.retention: must be a positive Prometheus duration/),
    expect.stringMatching(/^monitoring:apps: app name "api" is used more than once/),
    expect.stringMatching(/^monitoring:alertmanager\.replicas: a production stack needs at least 2/),
  ]);
});
