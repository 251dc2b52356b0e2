/** The rules over several keys (config/checks/): what Kubernetes, Prometheus and the components would refuse later. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { componentJobs, parseStackConfig } from "../../config";
import { BUILTIN_SCRAPE_JOBS, DEFAULT_RULES_DIR as RULES_DIR } from "../../components/prometheus/args";
import { JOB, STACK_JOBS } from "../../components/kit/stack-jobs";
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { PROMETHEUS_MAX_DURATION_MS } from "../../components/kit/units";
import { CREDENTIAL_PARAMETERS, CREDENTIAL_SUFFIXES } from "../../components/kit/fields";
import { renderRun } from "../../cli/render";
import { sectionDefaults } from "../../components/stack/sections";
import { runProgram } from "../../cli/runner";
import { parse, problems, api, RefusedCase, expectRefused, standalone } from "./support";

// ---------------------------------------------------------------------------
// Refused inputs, by class: what Kubernetes or Prometheus would refuse is refused first,
// with the components' own checks, in one list.

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
      "the traces backend's memory limit below its request",
      "staging",
      { tracing: { resources: { requests: { memory: "1Gi" }, limits: { memory: "512Mi" } } } },
      {},
      [
        /^monitoring:tracing\.resources\.limits\.memory: must be at least the request, 1Gi: Kubernetes refuses a limit below its request \(got "512Mi"\)$/,
      ],
    ],
    [
      "the backup job's CPU limit below the default request",
      "staging",
      { backup: { resources: { limits: { cpu: "5m" } } } },
      {},
      [
        /^monitoring:backup\.resources\.limits\.cpu: must be at least the request, 10m \(the default backup\.resources\.requests\.cpu\): Kubernetes refuses a limit below its request \(got "5m"\)$/,
      ],
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

  // Found from what each section resolves to, not from the list the checks loop over.
  const having = (field: string) =>
    Object.entries(sectionDefaults("staging"))
      .filter(([, value]) => !Array.isArray(value) && field in value)
      .map(([name]) => name);

  test("every section with resources has its limits checked against its requests", () => {
    expect(having("resources")).toEqual(expect.arrayContaining(["prometheus", "tracing", "backup"]));
    for (const name of having("resources")) {
      const found = problems("staging", { [name]: { resources: { requests: { memory: "1Gi" }, limits: { memory: "512Mi" } } } });
      expect({ name, found }).toEqual({
        name,
        found: expect.arrayContaining([
          `monitoring:${name}.resources.limits.memory: must be at least the request, 1Gi: Kubernetes refuses a limit below its request (got "512Mi")`,
        ]),
      });
    }
  });

  test("every section with replicas has them checked against the nodes", () => {
    expect(having("replicas")).toEqual(expect.arrayContaining(["prometheus", "cloudflare"]));
    for (const name of having("replicas")) {
      const found = problems("staging", { [name]: { replicas: 2 } });
      expect({ name, found }).toEqual({
        name,
        found: expect.arrayContaining([
          expect.stringMatching(new RegExp(`^monitoring:${name}\\.replicas: must be at most nodes \\(1, the default\\)`)),
        ]),
      });
    }
  });

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
        /^monitoring:prometheus\.retentionSize: must leave 640MB of the volume free \(prometheus\.storage\.size 10Gi, 10240MB\): a compaction writes beyond the cap .* At most 9600MB; the default is 8704MB \(got "45GB"\)$/,
      ],
    ],
    [
      "a retentionSize as large as the volume",
      "production",
      { prometheus: { retentionSize: "50GB" } },
      {},
      [/^monitoring:prometheus\.retentionSize: must leave 640MB of the volume free \(prometheus\.storage\.size 50Gi/],
    ],
    [
      "a retentionSize that leaves a compaction less than 640MB (85 % of a 2Gi volume)",
      "staging",
      { prometheus: { retentionSize: "1740MB", storage: { size: "2Gi" } } },
      {},
      [
        /^monitoring:prometheus\.retentionSize: must leave 640MB of the volume free .* At most 1408MB; the default is 1408MB \(got "1740MB"\)$/,
      ],
    ],
    [
      "a Prometheus volume smaller than 1Gi",
      "staging",
      { prometheus: { storage: { size: "512Mi" } } },
      {},
      [
        /^monitoring:prometheus\.storage\.size: must be at least 1Gi: beyond its data Prometheus needs 640MB free for a compaction .* \(got "512Mi"\)$/,
      ],
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
        /^monitoring:apps\[0\]\.name: is one of the jobs of the stack's own series, .*rename the app \(taken: kubernetes-pods, kubelet, cadvisor, prometheus, .*\) \(got "kubelet"\)$/,
        /^monitoring:apps\[1\]\.name: is one of the jobs of the stack's own series.*\(got "loki"\)$/,
      ],
    ],
    [
      // The backups push their outcome as job backup with no namespace, as a URL app's series has none (BackupFailed).
      "an app named backup while the backups run",
      "staging",
      {
        apps: [{ name: "backup", url: "http://backup.example.com:9100/metrics" }],
        backup: { enabled: true, bucket: "monitoring-backups", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com" },
      },
      { backupAccessKeyId: "key-id-0123", backupSecretAccessKey: "secret-key-0123456789" },
      [/^monitoring:apps\[0\]\.name: is one of the jobs of the stack's own series, .*\(taken: .*, backup\) \(got "backup"\)$/],
    ],
    [
      "a target named backup while the backups run",
      "staging",
      {
        targets: [{ name: "backup", url: "http://10.0.0.5:9100/metrics" }],
        backup: { enabled: true, bucket: "monitoring-backups", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com" },
      },
      { backupAccessKeyId: "key-id-0123", backupSecretAccessKey: "secret-key-0123456789" },
      [/^monitoring:targets\[0\]\.name: is one of the jobs of the stack's own series, .*\(taken: .*, backup\) \(got "backup"\)$/],
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
      "credentials in a URL's query (an API key, a presigned URL's signature), named and not echoed",
      "staging",
      {
        prometheus: { remoteWrite: [{ name: "vm", url: "https://vm.example.com/w?a=1&apikey=S3CRET" }] },
        probes: [{ name: "status", url: "https://s.io/h?X-Amz-Signature=abc&client_secret=xyz" }],
      },
      {},
      [
        /^monitoring:probes\[0\]\.url: must not hold credentials \(the query parameters X-Amz-Signature=, client_secret=\): [^"]* \(got "https:\/\/s\.io\/h\?X-Amz-Signature=\*\*\*&client_secret=\*\*\*"\)$/,
        /^monitoring:prometheus\.remoteWrite\[0\]\.url: must not hold credentials \(the query parameter apikey=\): [^"]* \(got "https:\/\/vm\.example\.com\/w\?a=1&apikey=\*\*\*"\)$/,
      ],
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
        expect.stringMatching(/^monitoring:apps\[0\]\.name: is one of the jobs of the stack's own series/),
        expect.stringMatching(/^monitoring:apps\[0\]\.labels\.instance: is a label the scrape config sets itself/),
      ]),
    );
  });

  test("a DSN is checked against the exporters' own patterns (one definition, components/database-exporters/kinds.ts)", () => {
    for (const [type, kind] of Object.entries(DATABASE_KINDS)) {
      expect(kind.dsnPattern.test(kind.dsnExample)).toBe(true);
      const other = type === "redis" ? DATABASE_KINDS.mongodb.dsnExample : DATABASE_KINDS.redis.dsnExample;
      expect(problems("staging", { databases: [{ name: "db", type, mode: "standalone" }] }, { databaseDsns: { db: other } })).toEqual([
        `monitoring:databaseDsns.db: is not a ${type} DSN (database "db" is ${type}); expected something like ${kind.dsnExample} (got a value that is hidden because it is a secret)`,
      ]);
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
      tracing: { enabled: true },
      probes: [{ name: "website", url: "https://www.example.com/" }],
      watch: { cluster: true },
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
    expect(jobs).toEqual(new Set([...BUILTIN_SCRAPE_JOBS, ...componentJobs(config), "api"]));
    // Each of them but the app's is one the collector keeps off a tenant's series (components/kit/stack-jobs.ts).
    expect([...jobs].filter((job) => !STACK_JOBS.includes(job))).toEqual(["api"]);
  });

  test("an app or a target may be named backup while the backups are off", () => {
    expect(() => parse("staging", { apps: [{ name: "backup", url: "http://backup.example.com:9100/metrics" }] })).not.toThrow();
    expect(() => parse("staging", { targets: [{ name: "backup", url: "http://10.0.0.5:9100/metrics" }] })).not.toThrow();
  });

  test("every job the shipped rules select on, and the one the backups push as, is one the collector keeps off a tenant's series", () => {
    const selected = new Set<string>();
    for (const file of fs.readdirSync(RULES_DIR).filter((f) => f.endsWith(".yml"))) {
      for (const m of fs.readFileSync(path.join(RULES_DIR, file), "utf8").matchAll(/\bjob\s*=\s*"([^"]*)"/g)) selected.add(m[1]);
    }
    expect(selected.size).toBeGreaterThan(10);
    expect([...selected].filter((job) => !STACK_JOBS.includes(job))).toEqual([]);
    const backup = fs.readFileSync(path.join(__dirname, "..", "..", "components", "backup", "backup.sh"), "utf8");
    const pushedAs = /\\"key\\":\\"service\.name\\",\\"value\\":\{\\"stringValue\\":\\"([^\\]+)\\"/.exec(backup)?.[1];
    expect(pushedAs).toBe(JOB.backup);
    expect(STACK_JOBS).toContain(pushedAs);
  });
});

describe("a plain URL's credential query parameters, as docs/configuration.md lists them", () => {
  const docs = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "configuration.md"), "utf8").replace(/\s+/g, " ");
  const listed = /or a query parameter named as one: (.*?), or a name ending in (.*?); in any case, `-`, `_` and `\.` aside\)/.exec(docs);
  const names = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  const exact = names(listed?.[1] ?? "");
  const suffixes = names(listed?.[2] ?? "");
  /** The problems of a probe on `url`, as the stack's checks give them. */
  const refusals = (url: string) => problems("staging", { probes: [{ name: "status", url }] });

  test("the list is where the docs say, and holds the names and endings the code refuses", () => {
    expect({ exact: [...exact].sort(), suffixes: [...suffixes].sort() }).toEqual({
      exact: [...CREDENTIAL_PARAMETERS].sort(),
      suffixes: [...CREDENTIAL_SUFFIXES].sort(),
    });
  });

  test.each([...exact.map((name) => ["named", name]), ...suffixes.map((suffix) => ["ending in", suffix])])(
    "a parameter %s %s is refused, in any case and with -, _ or . inside, and named",
    (how, name) => {
      const spelt = how === "named" ? name : `my_${name}`;
      // The same name with a separator inside and in upper case, as the docs say it is read.
      const variant = `${spelt.slice(0, 1)}-${spelt.slice(1)}`.toUpperCase();
      for (const param of [spelt, variant]) {
        expect(refusals(`https://status.example.com/health?page=1&${param}=S3CRET`)).toEqual([
          expect.stringMatching(
            new RegExp(
              `^monitoring:probes\\[0\\]\\.url: must not hold credentials \\(the query parameter ${param.replace(/[.]/g, "\\.")}=\\)`,
            ),
          ),
        ]);
      }
    },
  );

  test("a parameter merely holding one of the names, or an exact name with more around it, is taken", () => {
    for (const param of ["keyword", "passage", "tokens", "author", "signatures", "monkey"]) {
      expect(() => parse("staging", { probes: [{ name: "status", url: `https://status.example.com/health?${param}=1` }] })).not.toThrow();
    }
  });
});
