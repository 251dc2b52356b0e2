/** ExporterSidecars: the sidecar patches, the standalone exporters, the DSN secrets, and both real stacks. */
import * as pulumi from "@pulumi/pulumi";
import { DatabaseExporter, EXPORTER_RESOURCES, ResourceRequirements } from "../components/config";
import {
  DATABASE_LABEL,
  ENVIRONMENT_LABEL,
  EXPORTER_LABEL,
  ExporterSidecars,
  ExporterSidecarsArgs,
  exporterPodMetadata,
  exporterSidecarContainer,
  sidecarRevision,
} from "../components/exporter-sidecars";
import { images } from "../components/images";
import { K8sObject, Rendered, kubernetesYaml, renderRun, reveal } from "../scripts/lib/render";
import { RunResult, runProgram } from "../scripts/lib/runner";
import { objectOf, objectsOf, render, ALONE } from "./support/render";
import { schemaProblems } from "./support/schema";

const POSTGRES_SIDECAR: DatabaseExporter = {
  name: "shop-postgres",
  type: "postgres",
  mode: "sidecar",
  target: { kind: "StatefulSet", name: "postgres", namespace: "shop", container: "postgres" },
  dsn: { secretRef: { name: "postgres-exporter", key: "DATA_SOURCE_NAME" } },
  resources: EXPORTER_RESOURCES,
};
const REDIS_DSN = "redis://:Sup3r-s3cret-pa55@redis.shop.svc:6379";
const REDIS_SIDECAR: DatabaseExporter = {
  name: "shop-redis",
  type: "redis",
  mode: "sidecar",
  target: { kind: "Deployment", name: "redis", namespace: "shop" },
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

function exporters(databases: DatabaseExporter[], environment = "staging"): ExporterSidecarsArgs {
  return { databases, namespace: "monitoring", environment };
}

async function renderExporters(args: ExporterSidecarsArgs, showSecrets = true): Promise<{ run: RunResult; rendered: Rendered }> {
  const run = await runProgram({
    ...ALONE,
    program: async () => ({ scrapeTargets: new ExporterSidecars("db", args).scrapeTargets }),
  });
  return { run, rendered: renderRun(run, showSecrets) };
}

const patches = (rendered: Rendered) => rendered.kubernetes.filter((o) => o.patch);

describe("exporterSidecarContainer", () => {
  test("a PostgreSQL exporter reads its DSN from the Secret and runs restricted, and nothing in it can un-ready the pod", () => {
    expect(exporterSidecarContainer({ name: "shop-postgres", type: "postgres", dsnSecret: { name: "pg", key: "dsn" } })).toEqual({
      name: "postgres-exporter",
      image: images.postgresExporter,
      // A node that ran it before never needs the registry again to restart the database's pod.
      imagePullPolicy: "IfNotPresent",
      args: ["--web.listen-address=:9187", "--collector.postmaster"],
      // Optional: a missing Secret or key does not keep the container from starting.
      env: [{ name: "DATA_SOURCE_NAME", valueFrom: { secretKeyRef: { name: "pg", key: "dsn", optional: true } } }],
      ports: [{ name: "pg-metrics", containerPort: 9187, protocol: "TCP" }],
      // No readiness probe and no liveness probe: the pod's readiness counts every container's, and a restart is un-Ready too.
      resources: EXPORTER_LIMITS,
      securityContext: RESTRICTED_CONTAINER,
    });
  });

  test.each([
    ["redis", images.redisExporter, "REDIS_ADDR", 9121],
    ["mongodb", images.mongodbExporter, "MONGODB_URI", 9216],
  ] as const)("a %s exporter: its image, DSN variable and port", (type, image, env, port) => {
    const c = exporterSidecarContainer({ name: "db", type, dsnSecret: { name: "s", key: "k" } });
    expect(c).toMatchObject({ name: `${type}-exporter`, image, ports: [{ containerPort: port }], securityContext: RESTRICTED_CONTAINER });
    expect(c.env).toEqual(
      type === "mongodb"
        ? // mongodb_exporter exits without a URI: through another variable, a missing Secret leaves it a URI that reaches nothing.
          [
            { name: "EXPORTER_DSN", valueFrom: { secretKeyRef: { name: "s", key: "k", optional: true } } },
            { name: env, value: "$(EXPORTER_DSN)" },
          ]
        : [{ name: env, valueFrom: { secretKeyRef: { name: "s", key: "k", optional: true } } }],
    );
    expect(c.args).toContain(`--web.listen-address=:${port}`);
    expect(c.readinessProbe).toBeUndefined();
    expect(c.livenessProbe).toBeUndefined();
    expect(c.startupProbe).toBeUndefined();
    expect(c.imagePullPolicy).toBe("IfNotPresent");
  });

  test("the MongoDB exporter exports mongodb_up and the server status collectors", () => {
    expect(exporterSidecarContainer({ name: "db", type: "mongodb", dsnSecret: { name: "s", key: "k" } }).args).toEqual([
      "--web.listen-address=:9216",
      "--collector.diagnosticdata",
      "--collector.replicasetstatus",
      "--compatible-mode",
    ]);
  });

  test("resources come from the entry", () => {
    const resources: ResourceRequirements = { requests: { cpu: "5m", memory: "16Mi" }, limits: { memory: "32Mi" } };
    expect(exporterSidecarContainer({ name: "db", type: "redis", dsnSecret: { name: "s", key: "k" }, resources }).resources).toEqual(
      resources,
    );
  });

  test("the pod template gets the scrape annotations and the exporter, database and environment labels", () => {
    expect(exporterPodMetadata({ name: "shop-redis", type: "redis" })).toEqual({
      labels: { "monitoring-stack/exporter": "redis", "monitoring-stack/database": "shop-redis" },
      annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9121", "prometheus.io/path": "/metrics" },
    });
    // The stack that adds it says so: another stack's Prometheus on the same cluster leaves the pod alone.
    expect(exporterPodMetadata({ name: "shop-redis", type: "redis" }, "staging").labels).toEqual({
      "monitoring-stack/exporter": "redis",
      "monitoring-stack/database": "shop-redis",
      "monitoring-stack/environment": "staging",
    });
    expect([EXPORTER_LABEL, DATABASE_LABEL, ENVIRONMENT_LABEL]).toEqual([
      "monitoring-stack/exporter",
      "monitoring-stack/database",
      "monitoring-stack/environment",
    ]);
  });
});

describe("a sidecar", () => {
  test("is a StatefulSet patch of exactly the configured workload, holding nothing but the sidecar's fields", async () => {
    const { rendered, run } = await renderExporters(exporters([POSTGRES_SIDECAR]));
    expect(rendered.kubernetes).toHaveLength(1);
    const [patch] = patches(rendered);
    expect(patch.type).toBe("kubernetes:apps/v1:StatefulSetPatch");
    expect(patch.object).toEqual({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: {
        name: "postgres",
        namespace: "shop",
        annotations: {
          "pulumi.com/patchFieldManager": expect.stringMatching(/^monitoring-stack-staging-shop-postgres-[0-9a-f]{8}$/),
          "pulumi.com/patchForce": "true",
        },
      },
      spec: {
        template: {
          metadata: {
            labels: {
              "monitoring-stack/exporter": "postgres",
              "monitoring-stack/database": "shop-postgres",
              "monitoring-stack/environment": "staging",
            },
            annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9187", "prometheus.io/path": "/metrics" },
          },
          spec: {
            containers: [
              {
                name: "postgres-exporter",
                image: images.postgresExporter,
                imagePullPolicy: "IfNotPresent",
                args: ["--web.listen-address=:9187", "--collector.postmaster"],
                env: [
                  {
                    name: "DATA_SOURCE_NAME",
                    valueFrom: { secretKeyRef: { name: "postgres-exporter", key: "DATA_SOURCE_NAME", optional: true } },
                  },
                ],
                ports: [{ name: "pg-metrics", containerPort: 9187, protocol: "TCP" }],
                resources: EXPORTER_LIMITS,
                securityContext: RESTRICTED_CONTAINER,
              },
            ],
          },
        },
      },
    });
    expect(schemaProblems(patch.object, true)).toEqual([]);
    // Scraped by its pod annotations, not by a scrape target of its own.
    expect(run.outputs.scrapeTargets).toEqual([]);
  });

  test("of a Deployment is a Deployment patch, with its own field manager", async () => {
    const { rendered } = await renderExporters(exporters([POSTGRES_SIDECAR, REDIS_SIDECAR], "production"));
    const byKind = Object.fromEntries(patches(rendered).map((p) => [p.object.kind, p]));
    expect(Object.keys(byKind).sort()).toEqual(["Deployment", "StatefulSet"]);
    expect(byKind.Deployment.type).toBe("kubernetes:apps/v1:DeploymentPatch");
    expect(byKind.Deployment.object.metadata).toEqual({
      name: "redis",
      namespace: "shop",
      annotations: {
        "pulumi.com/patchFieldManager": expect.stringMatching(/^monitoring-stack-production-shop-redis-[0-9a-f]{8}$/),
        "pulumi.com/patchForce": "true",
      },
    });
    expect(byKind.StatefulSet.object.metadata.annotations?.["pulumi.com/patchFieldManager"]).toMatch(
      /^monitoring-stack-production-shop-postgres-[0-9a-f]{8}$/,
    );
    expect(byKind.Deployment.object.spec).toEqual({
      template: {
        metadata: exporterPodMetadata(REDIS_SIDECAR, "production"),
        spec: {
          containers: [
            exporterSidecarContainer({
              name: "shop-redis",
              type: "redis",
              dsnSecret: { name: "shop-redis-exporter-dsn", key: "shop-redis-dsn" },
            }),
          ],
        },
      },
    });
  });

  test("without secretRef, gets a Secret in the target namespace made from the secret DSN", async () => {
    const { rendered, run } = await renderExporters(exporters([REDIS_SIDECAR]));
    expect(objectOf(rendered, "Secret", "shop-redis-exporter-dsn")).toMatchObject({
      metadata: { namespace: "shop" },
      type: "Opaque",
      stringData: { "shop-redis-dsn": REDIS_DSN },
    });
    expect(rendered.files.get("exporter-sidecars/shop-redis-dsn")).toBe(REDIS_DSN);
    const secret = run.resources.find((r) => r.type === "kubernetes:core/v1:Secret");
    // Still a secret when Pulumi sends it: redacted unless asked for.
    expect(JSON.stringify(reveal(secret?.inputs, false))).not.toContain(REDIS_DSN);
    for (const o of rendered.kubernetes) expect(schemaProblems(o.object, o.patch)).toEqual([]);
  });

  test("removing an entry leaves the other entries' patches untouched, and reordering changes nothing", async () => {
    const both = await renderExporters(exporters([POSTGRES_SIDECAR, REDIS_SIDECAR]));
    const one = await renderExporters(exporters([REDIS_SIDECAR]));
    const reordered = await renderExporters(exporters([REDIS_SIDECAR, POSTGRES_SIDECAR]));
    const redisPatch = (r: Rendered) => patches(r).find((p) => p.object.kind === "Deployment")?.object;
    expect(redisPatch(one.rendered)).toEqual(redisPatch(both.rendered));
    expect(patches(one.rendered).map((p) => p.object.metadata.name)).toEqual(["redis"]);
    const urns = (run: RunResult) => run.resources.map((r) => r.urn).sort();
    expect(urns(reordered.run)).toEqual(urns(both.run));
    expect(urns(both.run).filter((u) => !urns(one.run).includes(u))).toEqual([
      expect.stringMatching(
        /^urn:pulumi:test::monitoring::monitoring:index:ExporterSidecars\$kubernetes:apps\/v1:StatefulSetPatch::db-shop-postgres-sidecar-[0-9a-f]{8}$/,
      ),
    ]);
  });
});

describe("a sidecar's revisions", () => {
  const sidecarPatch = (run: RunResult) => run.resources.find((r) => r.type.endsWith("Patch")) as RunResult["resources"][number];

  test("the same sidecar is the same revision on every run, and its spec is never diffed in place", async () => {
    const first = await renderExporters(exporters([POSTGRES_SIDECAR]));
    const again = await renderExporters(exporters([POSTGRES_SIDECAR]));
    expect(sidecarPatch(again.run).urn).toBe(sidecarPatch(first.run).urn);
    expect(sidecarPatch(first.run).options.ignoreChanges).toEqual(["spec"]);
  });

  test("a changed sidecar is a new patch with its own field manager", async () => {
    const before = await renderExporters(exporters([POSTGRES_SIDECAR]));
    const resized = {
      ...POSTGRES_SIDECAR,
      resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
    };
    const after = await renderExporters(exporters([resized]));
    expect(sidecarPatch(after.run).urn).not.toBe(sidecarPatch(before.run).urn);
    const manager = (r: Rendered) => patches(r)[0].object.metadata.annotations?.["pulumi.com/patchFieldManager"];
    expect(manager(after.rendered)).not.toBe(manager(before.rendered));
    expect(sidecarRevision({ a: 1 })).toBe(sidecarRevision({ a: 1 }));
    expect(sidecarRevision({ a: 1 })).not.toBe(sidecarRevision({ a: 2 }));
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
    const [c] = spec.template.spec.containers;
    const { env: sidecarEnv, ...sidecar } = exporterSidecarContainer({
      name: "events-mongodb",
      type: "mongodb",
      dsnSecret: { name: "events-mongodb-exporter-dsn", key: "events-mongodb-dsn" },
      resources: MONGODB_STANDALONE.resources,
    });
    expect(sidecarEnv).toHaveLength(2);
    expect(c).toEqual({
      ...sidecar,
      // In its own pod it waits for its DSN (not optional), and its probes only gate and restart itself.
      env: [{ name: "MONGODB_URI", valueFrom: { secretKeyRef: { name: "events-mongodb-exporter-dsn", key: "events-mongodb-dsn" } } }],
      readinessProbe: { tcpSocket: { port: "mongo-metrics" }, periodSeconds: 10, timeoutSeconds: 5 },
      livenessProbe: { tcpSocket: { port: "mongo-metrics" }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
    });
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
      expect(o.component).toBe("exporter-sidecars");
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
  const args = exporters([REDIS_SIDECAR, MONGODB_STANDALONE]);
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
  // The component's own inputs (kept in the state) hold the DSNs as secrets too.
  const component = run.resources.find((r) => r.type === "monitoring:index:ExporterSidecars");
  expect(component).toBeDefined();
  expect(JSON.stringify(reveal(component?.inputs, true))).toContain(REDIS_DSN);
});

describe("conflicting inputs are refused with the argument named", () => {
  const refuse = (databases: DatabaseExporter[]) => renderExporters(exporters(databases));

  test.each<[string, DatabaseExporter[], RegExp]>([
    [
      "a name used twice",
      [MONGODB_STANDALONE, { ...REDIS_SIDECAR, name: "events-mongodb" }],
      /databases: the name "events-mongodb" is used more than once/,
    ],
    [
      "a sidecar without target",
      [{ ...POSTGRES_SIDECAR, target: undefined }],
      /databases\["shop-postgres"\]\.target is required for a sidecar/,
    ],
    [
      "a standalone exporter with a target",
      [{ ...MONGODB_STANDALONE, target: REDIS_SIDECAR.target }],
      /databases\["events-mongodb"\]\.target is only for sidecars/,
    ],
    [
      "two sidecars in one workload",
      [POSTGRES_SIDECAR, { ...REDIS_SIDECAR, target: { kind: "StatefulSet", name: "postgres", namespace: "shop" } }],
      /databases\["shop-redis"\]\.target: StatefulSet shop\/postgres already gets the exporter of "shop-postgres"/,
    ],
    [
      "a standalone name too long for its Service",
      [{ ...MONGODB_STANDALONE, name: `m${"o".repeat(55)}` }],
      /databases\["mo+"\]\.name: a standalone exporter's Service is named "<name>-exporter"/,
    ],
    [
      "a standalone name that starts with a digit",
      [{ ...MONGODB_STANDALONE, name: "1events" }],
      /databases\["1events"\]\.name: .*DNS-1035/,
    ],
  ])("%s", async (_what, databases, message) => {
    await expect(refuse(databases)).rejects.toThrow(message);
    await expect(refuse(databases)).rejects.toBeInstanceOf(pulumi.ResourceError);
  });

  test.each<[string, DatabaseExporter]>([
    ["a MongoDB URI given to the PostgreSQL exporter", { ...POSTGRES_SIDECAR, dsn: { value: MONGODB_DSN } }],
    ["a PostgreSQL URL given to the Redis exporter", { ...REDIS_SIDECAR, dsn: { value: "postgresql://u:Pg-s3cret@db:5432/x" } }],
    ["a Redis URL given to the MongoDB exporter", { ...MONGODB_STANDALONE, dsn: { value: REDIS_DSN } }],
  ])("%s, without echoing the DSN", async (_what, db) => {
    const error = await refuse([db]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(pulumi.ResourceError);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`databases\\["${db.name}"\\]\\.dsn: not a ${db.type} DSN`));
    expect(message).not.toMatch(/s3cret|Sup3r/);
  });

  test.each([
    ["postgres", "postgresql://exporter:pw@127.0.0.1:5432/postgres?sslmode=disable"],
    ["postgres", "host=localhost port=5432 user=exporter password=pw sslmode=disable"],
    ["redis", "redis://localhost:6379"],
    ["redis", "rediss://:pw@redis.example.net:6380"],
    ["redis", "localhost:6379"],
    ["mongodb", "mongodb+srv://exporter:pw@cluster0.example.net/admin"],
  ] as const)("a %s DSN like %s is accepted", async (type, dsn) => {
    const { rendered } = await renderExporters(
      exporters([{ name: "db", type, mode: "standalone", dsn: { value: dsn }, resources: EXPORTER_RESOURCES }]),
    );
    expect(objectsOf(rendered, "Deployment", "db-exporter")).toHaveLength(1);
  });
});

describe.each(["staging", "production"] as const)("the %s stack", (stack) => {
  const namespace = stack === "staging" ? "shop-staging" : "shop";
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render(stack);
  });

  test("patches the PostgreSQL StatefulSet and the Redis Deployment of the shop, with their existing Secrets", () => {
    const mine = patches(rendered);
    expect(mine.map((p) => [p.type, p.object.metadata.namespace, p.object.metadata.name])).toEqual([
      ["kubernetes:apps/v1:DeploymentPatch", namespace, "redis"],
      ["kubernetes:apps/v1:StatefulSetPatch", namespace, "postgres"],
    ]);
    for (const p of mine) {
      expect(p.component).toBe("exporter-sidecars");
      expect(schemaProblems(p.object, true)).toEqual([]);
      expect(Object.keys(p.object)).toEqual(["apiVersion", "kind", "metadata", "spec"]);
      expect(Object.keys(p.object.spec as object)).toEqual(["template"]);
    }
    const env = (kind: string) =>
      (mine.find((p) => p.object.kind === kind)?.object.spec as { template: { spec: { containers: Array<{ env: unknown }> } } }).template
        .spec.containers[0].env;
    expect(env("StatefulSet")).toEqual([
      { name: "DATA_SOURCE_NAME", valueFrom: { secretKeyRef: { name: "postgres-exporter", key: "DATA_SOURCE_NAME", optional: true } } },
    ]);
    expect(env("Deployment")).toEqual([
      { name: "REDIS_ADDR", valueFrom: { secretKeyRef: { name: "redis-exporter", key: "REDIS_ADDR", optional: true } } },
    ]);
    expect(rendered.kubernetes.filter((o) => o.component === "exporter-sidecars" && o.object.kind === "Secret")).toEqual([]);
  });

  test("every object of the component is valid", () => {
    const mine = rendered.kubernetes.filter((o) => o.component === "exporter-sidecars");
    // Production: two sidecar patches, and the standalone exporter's Deployment, Service and two NetworkPolicies (ingress, egress).
    expect(mine.length).toBe(stack === "staging" ? 2 : 6);
    for (const o of mine) expect(schemaProblems(o.object, o.patch)).toEqual([]);
  });

  if (stack === "production") {
    test("runs the MongoDB exporter standalone in the stack namespace", () => {
      expect(objectOf(rendered, "Deployment", "events-mongodb-exporter").metadata.namespace).toBe("monitoring-production");
      expect(objectOf(rendered, "Service", "events-mongodb-exporter").metadata.namespace).toBe("monitoring-production");
      expect(objectOf(rendered, "NetworkPolicy", "events-mongodb-exporter").metadata.namespace).toBe("monitoring-production");
    });
  }
});
