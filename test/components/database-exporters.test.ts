/**
 * DatabaseExporters: the database exporters, each in its own pod, their DSN Secrets, what is
 * refused, the table of kinds against the dashboards and alerts it names, and both real stacks.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import type { DatabaseExportersArgs } from "../../components/database-exporters/args";
import type { DatabaseExporter } from "../../components/database-exporters/section";
import { DATABASE_KINDS, EXPORTER_RESOURCES } from "../../components/database-exporters/kinds";
import { DATABASE_TYPES, exporterJob } from "../../components/kit/database-exporters";
import type { ResourceRequirements } from "../../components/kit/resources";
import { DatabaseExporters, exporterContainer } from "../../components/database-exporters";
import { images } from "../../components/images";
import { K8sObject, Rendered, kubernetesYaml, renderRun, reveal } from "../../cli/render";
import { RunResult, runProgram } from "../../cli/runner";
import { objectOf, objectsOf, render, ALONE } from "../support/render";
import { schemaProblems } from "../support/schema";
import { problems as configProblems, standalone } from "../config/support";

const POSTGRES: DatabaseExporter = {
  name: "shop-postgres",
  type: "postgres",
  mode: "standalone",
  dsn: { secretRef: { name: "shop-postgres-exporter", key: "DATA_SOURCE_NAME" } },
  resources: EXPORTER_RESOURCES,
};
const REDIS_DSN = "redis://:Sup3r-s3cret-pa55@redis.shop.svc:6379";
const REDIS: DatabaseExporter = {
  name: "shop-redis",
  type: "redis",
  mode: "standalone",
  dsn: { value: REDIS_DSN },
  resources: EXPORTER_RESOURCES,
};
const MONGODB_DSN = "mongodb://exporter:M0ngo-s3cret@mongo.example.net:27017/admin";
const MONGODB_STANDALONE: DatabaseExporter = {
  name: "events-mongodb",
  type: "mongodb",
  mode: "standalone",
  dsn: { value: MONGODB_DSN },
  resources: { requests: { cpu: "20m", memory: "48Mi" }, limits: { memory: "96Mi" } },
};

const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 65534,
  runAsGroup: 65534,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};
const EXPORTER_LIMITS = { requests: { cpu: "5m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } };

function exporters(databases: DatabaseExporter[], environment = "staging"): DatabaseExportersArgs {
  return { databases, namespace: "monitoring", environment, stackSalt: Buffer.alloc(32, 7) };
}

async function renderExporters(args: DatabaseExportersArgs, showSecrets = true): Promise<{ run: RunResult; rendered: Rendered }> {
  const run = await runProgram({
    ...ALONE,
    program: async () => ({ scrapeTargets: new DatabaseExporters("db", args).scrapeTargets }),
  });
  return { run, rendered: renderRun(run, showSecrets) };
}

describe("exporterContainer", () => {
  test("a PostgreSQL exporter waits for its DSN, runs restricted, and its probes gate only itself", () => {
    expect(exporterContainer({ name: "shop-postgres", type: "postgres", dsnSecret: { name: "pg", key: "dsn" } })).toEqual({
      name: "postgres-exporter",
      image: images.postgresExporter,
      // A node that ran it before never needs the registry again to restart it.
      imagePullPolicy: "IfNotPresent",
      args: ["--web.listen-address=:9187", "--collector.postmaster"],
      // Not optional: the kubelet starts it once the Secret and key exist, with its DSN.
      env: [{ name: "DATA_SOURCE_NAME", valueFrom: { secretKeyRef: { name: "pg", key: "dsn" } } }],
      ports: [{ name: "pg-metrics", containerPort: 9187, protocol: "TCP" }],
      // TCP: an HTTP probe of /metrics would query the database every time.
      readinessProbe: { tcpSocket: { port: "pg-metrics" }, periodSeconds: 10, timeoutSeconds: 5 },
      livenessProbe: { tcpSocket: { port: "pg-metrics" }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
      resources: EXPORTER_LIMITS,
      securityContext: RESTRICTED_CONTAINER,
    });
  });

  test.each([
    ["redis", images.redisExporter, "REDIS_ADDR", 9121, "redis-metrics"],
    ["mongodb", images.mongodbExporter, "MONGODB_URI", 9216, "mongo-metrics"],
  ] as const)("a %s exporter: its image, DSN variable and port", (type, image, env, port, portName) => {
    const c = exporterContainer({ name: "db", type, dsnSecret: { name: "s", key: "k" } });
    expect(c).toMatchObject({
      name: `${type}-exporter`,
      image,
      ports: [{ containerPort: port, name: portName }],
      securityContext: RESTRICTED_CONTAINER,
    });
    expect(c.env).toEqual([{ name: env, valueFrom: { secretKeyRef: { name: "s", key: "k" } } }]);
    expect(c.args).toContain(`--web.listen-address=:${port}`);
    expect(c.readinessProbe).toEqual({ tcpSocket: { port: portName }, periodSeconds: 10, timeoutSeconds: 5 });
    expect(c.imagePullPolicy).toBe("IfNotPresent");
  });

  test("the MongoDB exporter exports mongodb_up and the server status collectors", () => {
    expect(exporterContainer({ name: "db", type: "mongodb", dsnSecret: { name: "s", key: "k" } }).args).toEqual([
      "--web.listen-address=:9216",
      "--collector.diagnosticdata",
      "--collector.replicasetstatus",
      "--compatible-mode",
    ]);
  });

  test("resources come from the entry; the default is sized from the benchmark", () => {
    const resources: ResourceRequirements = { requests: { cpu: "5m", memory: "16Mi" }, limits: { memory: "32Mi" } };
    expect(exporterContainer({ name: "db", type: "redis", dsnSecret: { name: "s", key: "k" }, resources }).resources).toEqual(resources);
    // The benchmark's exporters: 19 MiB (postgres) and 17 MiB (redis) steady, 21 MiB at the peak; the limit is three times that.
    expect(EXPORTER_RESOURCES).toEqual({ requests: { cpu: "5m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } });
  });
});

describe("a standalone exporter", () => {
  let rendered: Rendered;
  let run: RunResult;
  beforeAll(async () => {
    ({ rendered, run } = await renderExporters(exporters([MONGODB_STANDALONE])));
  });

  const SELECTOR = {
    "app.kubernetes.io/name": "events-mongodb-exporter",
    "app.kubernetes.io/instance": "staging",
    "app.kubernetes.io/component": "exporter",
    "app.kubernetes.io/part-of": "monitoring-stack",
  };

  test("runs one restricted replica in the stack namespace with its DSN from a Secret there", () => {
    const deployment = objectOf(rendered, "Deployment", "events-mongodb-exporter");
    expect(deployment.metadata.namespace).toBe("monitoring");
    const spec = deployment.spec as {
      replicas: number;
      template: { spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> } };
    };
    expect(spec.replicas).toBe(1);
    expect(spec.template.spec).toMatchObject({
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
    });
    expect(spec.template.spec.containers).toEqual([
      exporterContainer({
        name: "events-mongodb",
        type: "mongodb",
        dsnSecret: { name: "events-mongodb-exporter-dsn", key: "events-mongodb-dsn" },
        resources: MONGODB_STANDALONE.resources,
      }),
    ]);
    // Its DSN Secret is the stack's own, made before it: Pulumi waits for the Deployment as usual.
    expect(objectOf(rendered, "Deployment", "events-mongodb-exporter").metadata.annotations).toBeUndefined();
    expect(objectOf(rendered, "Secret", "events-mongodb-exporter-dsn")).toMatchObject({
      metadata: { namespace: "monitoring" },
      stringData: { "events-mongodb-dsn": MONGODB_DSN },
    });
  });

  test("has a Service that only Prometheus may reach, and a scrape target with the database label", () => {
    expect(objectOf(rendered, "Service", "events-mongodb-exporter").spec).toEqual({
      selector: SELECTOR,
      ports: [{ name: "metrics", port: 9216, targetPort: "mongo-metrics", protocol: "TCP" }],
    });
    expect(objectOf(rendered, "NetworkPolicy", "events-mongodb-exporter").spec).toEqual({
      podSelector: { matchLabels: SELECTOR },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [{ protocol: "TCP", port: 9216 }],
          from: [
            {
              podSelector: {
                matchLabels: {
                  "app.kubernetes.io/name": "prometheus",
                  "app.kubernetes.io/instance": "staging",
                  "app.kubernetes.io/part-of": "monitoring-stack",
                },
              },
            },
          ],
        },
      ],
    });
    expect(run.outputs.scrapeTargets).toEqual([
      { job: "mongodb-exporter", namespace: "monitoring", selector: SELECTOR, port: "metrics", labels: { database: "events-mongodb" } },
    ]);
  });

  test("every object is valid, labelled and in the stack namespace", () => {
    // Two NetworkPolicies: who may scrape it (ingress), and what it may reach (egress: DNS, its database).
    expect(rendered.kubernetes.map((o) => o.object.kind).sort()).toEqual([
      "Deployment",
      "NetworkPolicy",
      "NetworkPolicy",
      "Secret",
      "Service",
    ]);
    for (const o of rendered.kubernetes) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.object.metadata.namespace).toBe("monitoring");
      expect(o.object.metadata.labels).toMatchObject(SELECTOR);
      expect(o.component).toBe("database-exporters");
    }
  });

  test("with secretRef, reads the existing Secret and creates none; the first deployment does not wait for a Secret it cannot have", async () => {
    const { rendered: withRef } = await renderExporters(
      exporters([{ ...MONGODB_STANDALONE, dsn: { secretRef: { name: "events-mongodb-exporter", key: "MONGODB_URI" } } }]),
    );
    expect(objectsOf(withRef, "Secret")).toEqual([]);
    const deployment = objectOf(withRef, "Deployment", "events-mongodb-exporter") as K8sObject & {
      spec: { template: { spec: { containers: Array<{ env: unknown }> } } };
    };
    // Not optional: the kubelet starts the exporter by itself once the Secret exists, with its DSN.
    expect(deployment.spec.template.spec.containers[0].env).toEqual([
      { name: "MONGODB_URI", valueFrom: { secretKeyRef: { name: "events-mongodb-exporter", key: "MONGODB_URI" } } },
    ]);
    // The Secret can only be made once the stack made its namespace: Pulumi does not wait for the pod, which waits for the Secret.
    expect(deployment.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
    expect(schemaProblems(deployment)).toEqual([]);
  });
});

test("a DSN from config never appears in clear in the default render, nor in any resource's recorded inputs", async () => {
  const args = exporters([REDIS, MONGODB_STANDALONE]);
  const { run, rendered } = await renderExporters(args, false);
  const everything = [
    kubernetesYaml(rendered),
    ...rendered.files.values(),
    JSON.stringify(rendered.outputs),
    ...run.resources.map((r) => JSON.stringify(reveal(r.inputs, false))),
  ].join("\n");
  // The check can see a DSN: with secrets shown, both are there.
  const shown = renderRun(run, true);
  expect(kubernetesYaml(shown)).toContain(REDIS_DSN);
  expect(kubernetesYaml(shown)).toContain(MONGODB_DSN);
  for (const dsn of [REDIS_DSN, MONGODB_DSN]) {
    expect(everything).not.toContain(dsn);
    expect(everything).not.toContain(dsn.replace(/^.*:\/\/[^:]*:([^@]+)@.*$/, "$1"));
  }
  // The component's own inputs (kept in the state) hold nothing at all (StackComponent).
  const component = run.resources.find((r) => r.type === "monitoring:index:DatabaseExporters");
  expect(component).toBeDefined();
  expect(component?.inputs).toEqual({});
});

test("the component refuses what config refuses, with the same rules (section.ts), before any resource", async () => {
  const pg = (name: string, dsn: string): DatabaseExporter => ({
    name,
    type: "postgres",
    mode: "standalone",
    dsn: { value: dsn },
    resources: EXPORTER_RESOURCES,
  });
  const fine = "postgresql://u:p@db.shop.svc:5432/shop";
  await expect(renderExporters(exporters([pg("orders", fine), pg("orders", fine)]))).rejects.toThrow(
    'DatabaseExporters "db": databases[1].name: database name "orders" is used more than once (first at databases[0]); names must be unique',
  );
  await expect(renderExporters(exporters([pg("orders", "redis://db:6379")]))).rejects.toThrow(
    /DatabaseExporters "db": databaseDsns\.orders: is not a postgres DSN/,
  );
  await expect(renderExporters(exporters([pg("orders", fine)]))).resolves.toBeDefined();
});

describe("conflicting inputs are refused by config, with the key named, before any resource", () => {
  // The component trusts its args: each rule is its section's (section.ts: names, DSNs, resolve's refusal of
  // sidecars) or config's (config/checks/kubernetes.ts: the Service's name).
  const refused = (databases: object[], databaseDsns?: Record<string, string>) =>
    configProblems("staging", { databases }, databaseDsns ? { databaseDsns } : {});

  test.each<[string, object[], RegExp]>([
    [
      "a name used twice",
      [standalone("events-mongodb", "mongodb"), standalone("events-mongodb", "redis")],
      /^monitoring:databases\[\d+\]\.name: database name "events-mongodb" is used more than once \(first at databases\[\d+\]\)/,
    ],
    [
      // A stack file of an earlier release that still asks for a sidecar.
      "a sidecar",
      [{ ...standalone("shop-postgres"), mode: "sidecar" }],
      /^monitoring:databases\[0\]\.mode: "sidecar" is no longer supported: an exporter container in the database's pod makes the pod NotReady/,
    ],
    [
      "a target",
      [{ ...standalone("shop-postgres"), target: { kind: "StatefulSet", name: "postgres", namespace: "shop" } }],
      /^monitoring:databases\[0\].*"target" was for sidecars/,
    ],
    [
      "a standalone name too long for its Service",
      [standalone(`m${"o".repeat(55)}`, "mongodb")],
      /^monitoring:databases\[0\]\.name: must be at most 54 characters for a standalone exporter: its Service "<name>-exporter"/,
    ],
    ["a standalone name that starts with a digit", [standalone("1events", "mongodb")], /^monitoring:databases\[0\]\.name: .*DNS-1035/],
  ])("%s", (_what, databases, message) => {
    expect(refused(databases)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  test.each<[string, DatabaseExporter, string]>([
    ["a MongoDB URI given to the PostgreSQL exporter", POSTGRES, MONGODB_DSN],
    ["a PostgreSQL URL given to the Redis exporter", REDIS, "postgresql://u:Pg-s3cret@db:5432/x"],
    ["a Redis URL given to the MongoDB exporter", MONGODB_STANDALONE, REDIS_DSN],
  ])("%s, without echoing the DSN", (_what, db, dsn) => {
    const found = refused([{ name: db.name, type: db.type, mode: "standalone" }], { [db.name]: dsn });
    expect(found).toEqual([expect.stringMatching(new RegExp(`^monitoring:databaseDsns\\.${db.name}: is not a ${db.type} DSN`))]);
    expect(found.join("\n")).not.toMatch(/s3cret|Sup3r/);
  });

  test.each([
    ["postgres", "postgresql://exporter:pw@postgres.shop.svc:5432/postgres?sslmode=disable"],
    ["postgres", "host=postgres-0.postgres.shop.svc port=5432 user=exporter password=pw sslmode=disable"],
    ["postgres", "postgresql://exporter:pw@/postgres?host=postgres.shop.svc&sslmode=disable"],
    ["redis", "redis://redis.shop.svc:6379"],
    ["redis", "rediss://:pw@redis.example.net:6380"],
    ["redis", "redis.shop.svc:6379"],
    ["mongodb", "mongodb+srv://exporter:pw@cluster0.example.net/admin"],
    ["mongodb", "mongodb://exporter:pw@mongodb-0.mongodb.shop.svc:27017,mongodb-1.mongodb.shop.svc:27017/admin"],
  ] as const)("a %s DSN like %s is accepted", async (type, dsn) => {
    const { rendered } = await renderExporters(
      exporters([{ name: "db", type, mode: "standalone", dsn: { value: dsn }, resources: EXPORTER_RESOURCES }]),
    );
    expect(objectsOf(rendered, "Deployment", "db-exporter")).toHaveLength(1);
  });

  // A sidecar's DSN moved over as it was: in the exporter's own pod it reaches only the exporter.
  test.each([
    ["postgres", "postgresql://exporter:Pg-s3cret@127.0.0.1:5432/postgres?sslmode=disable", /the loopback host "127\.0\.0\.1"/],
    ["postgres", "host=localhost port=5432 user=exporter password=Pg-s3cret sslmode=disable", /the loopback host "localhost"/],
    ["postgres", "user=exporter password=Pg-s3cret dbname=postgres", /no host/],
    ["postgres", "postgresql:///postgres?user=exporter", /no host/],
    ["postgres", "postgresql://exporter:Pg-s3cret@db.shop.svc/postgres?host=%2Fvar%2Frun%2Fpostgresql", /no host/],
    ["redis", "redis://:Sup3r@localhost:6379", /the loopback host "localhost"/],
    ["redis", "localhost:6379", /the loopback host "localhost"/],
    ["redis", "unix:///run/redis.sock", /a Unix socket/],
    ["mongodb", "mongodb://exporter:M0ngo-s3cret@[::1]:27017/admin", /the loopback host "\[::1\]"/],
  ] as const)("a %s DSN like %s names the exporter's own pod: refused without echoing it", (type, dsn, what) => {
    const found = refused([{ name: "db", type, mode: "standalone" }], { db: dsn });
    expect(found).toEqual([expect.stringMatching(/^monitoring:databaseDsns\.db: names /)]);
    expect(found[0]).toMatch(what);
    expect(found.join("\n")).not.toMatch(/s3cret|Sup3r/);
  });
});

describe("the table of kinds (kinds.ts): each kind brings its dashboard and alerts, and nothing else lists the kinds", () => {
  const ROOT = path.join(__dirname, "..", "..");
  const dashboards = fs
    .readdirSync(path.join(ROOT, "dashboards", "databases"))
    .map((file) => JSON.parse(fs.readFileSync(path.join(ROOT, "dashboards", "databases", file), "utf8")) as { uid: string });
  const rules = YAML.parse(fs.readFileSync(path.join(ROOT, "rules", "databases.yml"), "utf8")) as {
    groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
  };
  const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
  /** Every PromQL expression of a dashboard, wherever its panels and variables keep one. */
  const expressions = (node: unknown): string[] =>
    typeof node !== "object" || node === null
      ? []
      : Object.entries(node).flatMap(([k, v]) => (["expr", "query"].includes(k) && typeof v === "string" ? [v] : expressions(v)));
  /** The metric names the exporter's catalogue lists (catalog/<job>.txt, the exporter at its pinned version). */
  const catalogued = (type: (typeof DATABASE_TYPES)[number]) =>
    new Set(
      fs
        .readFileSync(path.join(ROOT, "catalog", `${exporterJob(type)}.txt`), "utf8")
        .split("\n")
        .filter((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(l)),
    );

  test("config's kinds are the table's, in the same order: the table has an entry for each and no other", () => {
    expect(Object.keys(DATABASE_KINDS)).toEqual([...DATABASE_TYPES]);
  });

  test.each([...DATABASE_TYPES])("%s: its dashboard reads its exporter's series", (type) => {
    const dashboard = dashboards.find((d) => d.uid === DATABASE_KINDS[type].dashboard);
    expect(dashboard).toBeDefined();
    const metrics = catalogued(type);
    const read = expressions(dashboard).flatMap((e) => e.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []);
    expect(read.filter((name) => metrics.has(name) && !/^(go|process|promhttp)_/.test(name)).length).toBeGreaterThan(0);
  });

  test.each([...DATABASE_TYPES])("%s: its alerts are in rules/databases.yml, on its exporter's job", (type) => {
    for (const name of DATABASE_KINDS[type].alerts) {
      const alert = alerts.find((a) => a.alert === name);
      expect({ name, expr: alert?.expr }).toEqual({ name, expr: expect.stringContaining(`job="${exporterJob(type)}"`) });
    }
  });

  test("every database dashboard and every alert of rules/databases.yml is one kind's", () => {
    const kinds = Object.values(DATABASE_KINDS);
    expect(dashboards.map((d) => d.uid).sort()).toEqual(kinds.map((k) => k.dashboard).sort());
    expect(alerts.map((a) => a.alert).sort()).toEqual(kinds.flatMap((k) => k.alerts).sort());
  });

  test("each kind's example DSN is one of its own and of no other kind, and names a host the exporter reaches", () => {
    for (const type of DATABASE_TYPES) {
      const { dsnExample, dsnTarget } = DATABASE_KINDS[type];
      expect(DATABASE_TYPES.filter((other) => DATABASE_KINDS[other].dsnPattern.test(dsnExample))).toEqual([type]);
      expect(dsnTarget(dsnExample)).toEqual({ hosts: ["host"] });
    }
  });
});

describe("a kind's dashboard and alerts ship only with a database of that kind in databases[] (components/stack/args.ts)", () => {
  /** The database dashboards' uids, and the alerts of rules/databases.yml, that a render ships. */
  const shipped = (rendered: Rendered) => {
    const dashboards = [...rendered.files.entries()]
      .filter(([key]) => key.startsWith("grafana/databases__"))
      .map(([, text]) => (JSON.parse(text) as { uid: string }).uid)
      .sort();
    const file = rendered.files.get("prometheus/databases.yml");
    const groups = file === undefined ? [] : (YAML.parse(file) as { groups: Array<{ rules: Array<{ alert?: string }> }> }).groups;
    return { dashboards, alerts: groups.flatMap((g) => g.rules.map((r) => r.alert)).sort() };
  };
  const entry = (type: (typeof DATABASE_TYPES)[number]) =>
    `{name: only-${type}, type: ${type}, mode: standalone, secretRef: {name: only-${type}-exporter, key: ${DATABASE_KINDS[type].dsnEnv}}}`;

  test.each([...DATABASE_TYPES])("only a %s database: its kind's dashboard and alerts, no other kind's", async (type) => {
    const rendered = await render("staging", [`databases=[${entry(type)}]`]);
    expect(shipped(rendered)).toEqual({
      dashboards: [DATABASE_KINDS[type].dashboard],
      alerts: [...DATABASE_KINDS[type].alerts].sort(),
    });
  });

  test("no database: no database dashboard and no rules/databases.yml; the other rule files and dashboards as with one", async () => {
    const none = await render("staging", ["databases=[]"]);
    const one = await render("staging", [`databases=[${entry("redis")}]`]);
    expect(shipped(none)).toEqual({ dashboards: [], alerts: [] });
    expect(none.files.has("prometheus/databases.yml")).toBe(false);
    // The generated DatabaseExporterMissing file goes with the databases; every other file is there in both.
    const content = (r: Rendered) =>
      [...r.files.keys()].filter((f) => /^(prometheus\/[^/]+\.yml|grafana\/[^/]+\.json)$/.test(f) && !/databases/.test(f)).sort();
    expect(content(none)).toEqual(content(one));
  });
});

describe.each(["staging", "production"] as const)("the %s stack", (stack) => {
  const namespace = `monitoring-${stack}`;
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render(stack);
  });

  test("runs every database's exporter in a pod of its own in the stack namespace, and touches no database's workload", () => {
    const mine = rendered.kubernetes.filter((o) => o.component === "database-exporters");
    // No patch, nothing in the team's namespace: the database's pods, Service and endpoints are never the stack's.
    expect(mine.filter((o) => o.patch)).toEqual([]);
    const workloadsElsewhere = rendered.kubernetes.filter(
      (o) => ["Deployment", "StatefulSet", "DaemonSet"].includes(o.object.kind) && !o.object.metadata.namespace?.startsWith(namespace),
    );
    expect(workloadsElsewhere.map((o) => `${o.object.kind} ${o.object.metadata.namespace}/${o.object.metadata.name}`)).toEqual([]);
    expect([...new Set(mine.map((o) => o.object.metadata.namespace))]).toEqual([namespace]);
    const names = stack === "staging" ? ["shop-postgres", "shop-redis"] : ["events-mongodb", "shop-postgres", "shop-redis"];
    expect(
      objectsOf(rendered, "Deployment")
        .filter((d) => d.metadata.name?.endsWith("-exporter") && d.metadata.name !== "blackbox-exporter")
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(names.map((n) => `${n}-exporter`));
    const env = (name: string) =>
      (objectOf(rendered, "Deployment", name).spec as { template: { spec: { containers: Array<{ env: unknown }> } } }).template.spec
        .containers[0].env;
    // Their Secrets are the user's, in the stack namespace (secretRef): none is made, Pulumi does not wait for the pods.
    expect(env("shop-postgres-exporter")).toEqual([
      { name: "DATA_SOURCE_NAME", valueFrom: { secretKeyRef: { name: "shop-postgres-exporter", key: "DATA_SOURCE_NAME" } } },
    ]);
    expect(env("shop-redis-exporter")).toEqual([
      { name: "REDIS_ADDR", valueFrom: { secretKeyRef: { name: "shop-redis-exporter", key: "REDIS_ADDR" } } },
    ]);
    expect(mine.filter((o) => o.object.kind === "Secret")).toEqual([]);
    expect(objectOf(rendered, "Deployment", "shop-postgres-exporter").metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
  });

  test("Prometheus scrapes each exporter with the job and database labels the database rules and dashboards select on", () => {
    const config = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as {
      scrape_configs: Array<{ job_name: string; relabel_configs: Array<{ target_label?: string; replacement?: string }> }>;
    };
    const labelsOf = (job: { relabel_configs: Array<{ target_label?: string; replacement?: string }> }) =>
      Object.fromEntries(
        job.relabel_configs.filter((r) => r.target_label && r.replacement !== undefined).map((r) => [r.target_label, r.replacement]),
      );
    const databaseJobs = config.scrape_configs
      .filter((j) => /^(postgres|redis|mongodb)-exporter(\/|$)/.test(j.job_name))
      .map((j) => ({ job: labelsOf(j).job, database: labelsOf(j).database }))
      .sort((a, b) => String(a.database).localeCompare(String(b.database)));
    expect(databaseJobs).toEqual([
      ...(stack === "production" ? [{ job: "mongodb-exporter", database: "events-mongodb" }] : []),
      { job: "postgres-exporter", database: "shop-postgres" },
      { job: "redis-exporter", database: "shop-redis" },
    ]);
  });

  test("ships the dashboards of the kinds it configures, and no other", () => {
    const uids = [...rendered.files.entries()]
      .filter(([key]) => key.startsWith("grafana/databases__"))
      .map(([, text]) => (JSON.parse(text) as { uid: string }).uid)
      .sort();
    expect(uids).toEqual(stack === "staging" ? ["db-postgres", "db-redis"] : ["db-mongodb", "db-postgres", "db-redis"]);
  });

  test("every object of the component is valid", () => {
    const mine = rendered.kubernetes.filter((o) => o.component === "database-exporters");
    // Each exporter: its Deployment, Service and two NetworkPolicies (ingress, egress); staging has two, production three.
    expect(mine.length).toBe(stack === "staging" ? 8 : 12);
    for (const o of mine) expect(schemaProblems(o.object, o.patch)).toEqual([]);
  });
});
