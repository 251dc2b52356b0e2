/** Refused input: each problem names its key, what is allowed and what was given, all in one list, in the project's words. */
import { ConfigError, configKeyDocs } from "../../config";
import { parse, problems, api, problemsOfWire, RefusedCase, expectRefused } from "./support";

/** A text as a regular expression that matches it alone. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

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
        /^monitoring:retension: unknown key \(did you mean "prometheus\.retention", "loki\.retention" or "tracing\.retention"\? .*; allowed here: profile, environment/,
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
      [/^monitoring:apps\[1\]\.name: app name "api" is used more than once \(first at apps\[0\]\); names must be unique$/],
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
      [/^monitoring:databases\[1\]\.name: database name "db" is used more than once \(first at databases\[0\]\)/],
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
        /^monitoring:databases\[0\]\.mode: "sidecar" is no longer supported: an exporter container in the database's pod makes the pod NotReady, and takes the database out of its Service, whenever it is OOM-killed, crash-loops or its image cannot be pulled\. Set mode: standalone and drop target \(npm run migrate -- --stack <stack> does both\): .*name the database's Service \(for instance postgres\.shop\.svc:5432\), not localhost; a secretRef must be a Secret in the stack's namespace, or use pulumi config set --secret --path 'databaseDsns\.pg' <dsn>\. The next pulumi up removes the sidecar: one rollout of the database's pods/,
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
    expect.stringMatching(/^monitoring:apps\[1\]\.name: app name "api" is used more than once/),
    expect.stringMatching(/^monitoring:alertmanager\.replicas: a production stack on 3 nodes needs at least 2/),
  ]);
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
      /\(did you mean "prometheus\.retention", "loki\.retention" or "tracing\.retention"\? It belongs in a section: pulumi config set --path 'prometheus\.retention' <value>\)/,
    ],
    ["smtp", /\(did you mean "alertmanager\.smtp"\? It belongs in a section: pulumi config set --path 'alertmanager\.smtp' <value>\)/],
    ["scrapeInterval", /\(did you mean "prometheus\.scrapeInterval"\?/],
  ])("a top-level %s points to its section", (key, hint) => {
    expect(problems("staging", { [key]: "x" })).toEqual([
      expect.stringMatching(new RegExp(`^monitoring:${key}: unknown key ${hint.source}`)),
    ]);
  });
});

describe("refused: a key in the wrong part of its section points where it belongs", () => {
  test.each([
    [
      "a metrics key beside the app's keys",
      { apps: [{ ...api, statusLabel: "code" }] },
      "apps[0].statusLabel",
      '"apps[0].metrics.statusLabel"',
    ],
    ["the probe's path named after it", { apps: [{ ...api, healthPath: "/healthz" }] }, "apps[0].healthPath", '"apps[0].probe.path"'],
    ["an app's key inside its metrics", { apps: [{ ...api, metrics: { name: "x" } }] }, "apps[0].metrics.name", '"apps[0].name"'],
    [
      "a section's key one level down",
      { prometheus: { storage: { retention: "7d" } } },
      "prometheus.storage.retention",
      '"prometheus.retention"',
    ],
    [
      "a receiver's kind's key beside its name",
      { alertmanager: { receivers: [{ name: "team", channel: "#alerts" }], defaultReceiver: "team" } },
      "alertmanager.receivers[0].channel",
      '"alertmanager.receivers[0].slack.channel"',
    ],
  ])("%s", (_, plain, key, meant) => {
    expect(problems("staging", plain)).toEqual([
      expect.stringMatching(new RegExp(`^monitoring:${escape(key)}: unknown key \\(did you mean ${escape(meant)}\\?\\); allowed here: `)),
    ]);
  });

  test("a key that is nowhere in its section gets no such hint", () => {
    expect(problems("staging", { apps: [{ ...api, colour: "blue" }] })).toEqual([
      expect.stringMatching(/^monitoring:apps\[0\]\.colour: unknown key; allowed here: name, /),
    ]);
  });
});

describe("refused: a number in quotes says to remove them", () => {
  test.each([
    ["an app's Service port", { apps: [{ ...api, port: "8080" }] }, "apps[0].port", "port: 8080"],
    [
      "an app's pod port",
      { apps: [{ name: "api", namespace: "shop", service: "api", targetPort: "8080" }] },
      "apps[0].targetPort",
      "targetPort: 8080",
    ],
    ["node-exporter's host port", { nodeExporter: { port: "9200" } }, "nodeExporter.port", "port: 9200"],
    ["a count", { prometheus: { replicas: "2" } }, "prometheus.replicas", "replicas: 2"],
  ])("%s", (_, plain, key, written) => {
    expect(problems("staging", plain)).toEqual([
      expect.stringMatching(
        new RegExp(`^monitoring:${escape(key)}: must be .*; remove the quotes: a number in quotes is text, write ${written}$`),
      ),
    ]);
  });

  test("text that is no number, or a number where text is expected, gets no such advice", () => {
    const found = problems("staging", { apps: [{ ...api, port: "http_2" }], prometheus: { retention: "30" } });
    expect(found).toHaveLength(2);
    expect(found.filter((p) => p.includes("remove the quotes"))).toEqual([]);
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
      [/^monitoring:loki: must be a map of keys \(enabled, retention, storage, objectStore, resources, ingestion\) \(got "yes"\)$/],
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

describe("refused: a percent written as a ratio, a latency in milliseconds", () => {
  const probe = { name: "site", url: "https://shop.example.com/health" };
  test.each<[string, Record<string, unknown>, string]>([
    [
      "an availability objective as a ratio (0.999 for 99.9 %), whose burn-rate alerts could never fire",
      { apps: [{ ...api, slo: { availability: 0.999 } }] },
      "monitoring:apps[0].slo.availability: must be a percent from 50 to below 100 (such as 99.9), not a ratio: did you mean 99.9? (got 0.999)",
    ],
    [
      "an availability objective below 50 %",
      { apps: [{ ...api, slo: { availability: 20 } }] },
      "monitoring:apps[0].slo.availability: must be a percent from 50 to below 100 (such as 99.9) (got 20)",
    ],
    [
      "an availability objective of 100 %, which leaves no error budget",
      { apps: [{ ...api, slo: { availability: 100 } }] },
      "monitoring:apps[0].slo.availability: must be a percent from 50 to below 100 (such as 99.9) (got 100)",
    ],
    [
      "an error-rate threshold as a ratio (0.05 for 5 %)",
      { apps: [{ ...api, alerts: { errorRatePercent: 0.05 } }] },
      "monitoring:apps[0].alerts.errorRatePercent: must be a percent from 0.1 to below 100 (such as 5), not a ratio: did you mean 5? (got 0.05)",
    ],
    [
      "a latency alert threshold in milliseconds",
      { apps: [{ ...api, alerts: { latencyP95Seconds: 500 } }] },
      "monitoring:apps[0].alerts.latencyP95Seconds: must be at most 60: it is in seconds, not milliseconds: did you mean 0.5? (got 500)",
    ],
    [
      "a latency objective in milliseconds",
      { apps: [{ ...api, slo: { latencyP95Seconds: 250 } }] },
      "monitoring:apps[0].slo.latencyP95Seconds: must be at most 60: it is in seconds, not milliseconds: did you mean 0.25? (got 250)",
    ],
    [
      "an app probe's latency in milliseconds",
      { apps: [{ ...api, probe: { latencySeconds: 1500 } }] },
      "monitoring:apps[0].probe.latencySeconds: must be at most 60: it is in seconds, not milliseconds: did you mean 1.5? (got 1500)",
    ],
    [
      "a probe's latency in milliseconds",
      { probes: [{ ...probe, latencySeconds: 2000 }] },
      "monitoring:probes[0].latencySeconds: must be at most 60: it is in seconds, not milliseconds: did you mean 2? (got 2000)",
    ],
  ])("%s", (_name, plain, expected) => {
    expect(problems("staging", plain)).toEqual([expected]);
  });

  test("the bounds themselves are taken", () => {
    const { config } = parse("staging", {
      apps: [
        { ...api, slo: { availability: 50, latencyP95Seconds: 60 }, alerts: { errorRatePercent: 0.1, latencyP95Seconds: 60 } },
        { ...api, name: "web", slo: { availability: 99.999 }, alerts: { errorRatePercent: 99.9 }, probe: { latencySeconds: 60 } },
      ],
      probes: [{ ...probe, latencySeconds: 0.05 }],
    });
    expect(
      config.apps.map((a) => [a.slo.availabilityRatio, a.slo.latencyP95Seconds, a.alerts.errorRatio, a.alerts.latencyP95Seconds]),
    ).toEqual([
      [0.5, 60, 0.001, 60],
      [0.99999, 0.5, 0.999, 1],
    ]);
  });
});
