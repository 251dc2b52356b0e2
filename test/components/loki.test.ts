/**
 * Loki: its config (compared whole: no Loki binary is available here to check it,
 * Debian's `loki` package is an unrelated genetics program), the component alone
 * under mocks, and both real stacks.
 */
import * as crypto from "crypto";
import * as YAML from "yaml";
import { PROFILE_DEFAULTS } from "../../config";
import { imageVersion, images } from "../../components/images";
import { LOKI_PATHS, LOKI_SCHEMA_FROM, Loki, ingestionOf, lokiConfig } from "../../components/loki";
import type { LokiArgs } from "../../components/loki/args";
import { problems } from "../../components/loki/section";
import { quantityBytes } from "../../components/kit/units";
import { K8sObject, Rendered, renderRun } from "../../cli/render";
import { RunResult, runProgram } from "../../cli/runner";
import { objectOf, objectsOf, render, renderConfig, ALONE } from "../support/render";
import { schemaProblems } from "../support/schema";
import { problems as configProblems } from "../config/support";

const SELECTOR = {
  "app.kubernetes.io/name": "loki",
  "app.kubernetes.io/instance": "staging",
  "app.kubernetes.io/component": "log-store",
  "app.kubernetes.io/part-of": "monitoring-stack",
};

const BASE_ARGS: LokiArgs = {
  namespace: "monitoring",
  environment: "staging",
  retention: "3d",
  storage: { size: "10Gi" },
  resources: PROFILE_DEFAULTS.staging.loki.resources,
  ingestion: {},
  logCollector: { namespace: "monitoring-agents", agent: "alloy" },
};

async function renderLoki(args: LokiArgs): Promise<{ run: RunResult; rendered: Rendered }> {
  const run = await runProgram({
    ...ALONE,
    program: async () => {
      const loki = new Loki("loki", args);
      return { url: loki.url, scrapeTargets: loki.scrapeTargets };
    },
  });
  return { run, rendered: renderRun(run, true) };
}

interface Container {
  name: string;
  image: string;
  args: string[];
  env?: unknown[];
  ports: unknown[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  resources: unknown;
  securityContext: unknown;
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    automountServiceAccountToken?: boolean;
    securityContext: Record<string, unknown>;
    containers: Container[];
    volumes: Array<Record<string, unknown> & { name: string }>;
  };
}
const templateOf = (o: K8sObject) => (o.spec as { template: PodTemplate }).template;

describe("lokiConfig", () => {
  test("is a single-binary Loki 3: tsdb v13 on the filesystem, compactor retention, in-memory rings, cached query results, no telemetry", () => {
    expect(lokiConfig({ retention: "7d", ingestion: ingestionOf({ storage: { size: "30Gi" }, retention: "7d" }) })).toEqual({
      auth_enabled: false,
      server: { http_listen_port: 3100, grpc_listen_port: 9095, log_level: "info" },
      common: {
        path_prefix: "/var/loki",
        replication_factor: 1,
        instance_addr: "127.0.0.1",
        ring: { kvstore: { store: "inmemory" } },
        storage: { filesystem: { chunks_directory: "/var/loki/chunks" } },
      },
      schema_config: {
        configs: [
          { from: "2024-04-01", store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "index_", period: "24h" } },
        ],
      },
      storage_config: { tsdb_shipper: { active_index_directory: "/var/loki/tsdb-index", cache_location: "/var/loki/tsdb-cache" } },
      ingester: { wal: { dir: "/var/loki/wal", disk_full_threshold: 0.9 } },
      compactor: {
        working_directory: "/var/loki/compactor",
        compaction_interval: "10m",
        retention_enabled: true,
        retention_delete_delay: "2h",
        delete_request_store: "filesystem",
      },
      limits_config: {
        retention_period: "168h",
        reject_old_samples: true,
        reject_old_samples_max_age: "168h",
        max_query_lookback: "168h",
        // Production's volume and retention (30Gi, 7d): 152 KiB/s, 10 minutes of it at once; one stream half of each.
        ingestion_rate_mb: 152 / 1024,
        ingestion_burst_size_mb: (152 * 600) / 1024,
        per_stream_rate_limit: String(76 * 1024),
        per_stream_rate_limit_burst: String(76 * 600 * 1024),
        max_global_streams_per_user: 10000,
        max_line_size: String(256 * 1024),
        max_line_size_truncate: true,
        discover_service_name: [],
        allow_structured_metadata: true,
        // OTLP logs: the stack's labels as stream labels, every other attribute (trace_id too) structured metadata.
        otlp_config: {
          resource_attributes: {
            ignore_defaults: true,
            attributes_config: [{ action: "index_label", attributes: ["namespace", "pod", "app", "job", "node"] }],
          },
        },
      },
      ruler: { storage: { type: "local", local: { directory: "/etc/loki/rules" } }, rule_path: "/var/loki/rules-temp" },
      query_range: { cache_results: true, results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: 100 } } } },
      analytics: { reporting_enabled: false },
    });
  });

  test.each([
    ["3d", "72h"],
    ["7d", "168h"],
    ["2w", "336h"],
    ["24h", "24h"],
    ["1d12h", undefined],
    ["36h", undefined],
    ["12h", undefined],
    ["30m", undefined],
  ])("retention %s becomes %s (undefined: refused by config, loki.retention's field)", (retention, hours) => {
    if (hours === undefined) {
      expect(configProblems("staging", { loki: { retention } })).toEqual([
        `monitoring:loki.retention: must be a whole number of days such as 3d, 7d or 2w (got "${retention}")`,
      ]);
    } else {
      const limits = lokiConfig({ retention, ingestion: ingestionOf({ storage: { size: "10Gi" }, retention: "3d" }) })
        .limits_config as Record<string, unknown>;
      expect([limits.retention_period, limits.reject_old_samples_max_age, limits.max_query_lookback]).toEqual([hours, hours, hours]);
    }
  });

  test("everything Loki writes is on its volume; the only path outside it is the read-only rules directory", () => {
    const paths: string[] = [];
    const walk = (value: unknown) => {
      if (typeof value === "string" && value.startsWith("/")) paths.push(value);
      else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
    };
    walk(lokiConfig({ retention: "3d", ingestion: ingestionOf({ storage: { size: "10Gi" }, retention: "3d" }) }));
    expect(paths.filter((p) => p !== LOKI_PATHS.data && !p.startsWith(`${LOKI_PATHS.data}/`))).toEqual([LOKI_PATHS.rules]);
  });

  test("the schema starts on a fixed past day, so that stored logs stay readable", () => {
    expect(LOKI_SCHEMA_FROM).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(new Date(`${LOKI_SCHEMA_FROM}T00:00:00Z`).getTime()).toBeLessThan(Date.UTC(2025, 0, 1));
  });
});

describe("Loki alone", () => {
  let rendered: Rendered;
  let run: RunResult;
  beforeAll(async () => {
    ({ run, rendered } = await renderLoki(BASE_ARGS));
  });

  test("its objects are its ConfigMaps (config, rules), a Service, a StatefulSet, its claim and its NetworkPolicies, all valid and labelled", () => {
    expect(rendered.kubernetes.map((o) => `${o.object.kind}/${o.object.metadata.name}`).sort()).toEqual([
      "ConfigMap/loki-config",
      "ConfigMap/loki-rules",
      "NetworkPolicy/loki",
      "NetworkPolicy/loki-egress",
      "PersistentVolumeClaim/data-loki-0",
      "Service/loki",
      "StatefulSet/loki",
    ]);
    for (const o of rendered.kubernetes) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.component).toBe("loki");
      expect(o.object.metadata.namespace).toBe("monitoring");
      // The claim carries its template's labels (the selector), as the StatefulSet controller would make it.
      const version = o.object.kind === "PersistentVolumeClaim" ? {} : { "app.kubernetes.io/version": imageVersion("loki") };
      expect(o.object.metadata.labels).toEqual(expect.objectContaining({ ...SELECTOR, ...version }));
    }
  });

  test("the claim is the one the StatefulSet controller would make from its template, and the StatefulSet waits for it", () => {
    const sts = objectOf(rendered, "StatefulSet", "loki");
    const spec = sts.spec as {
      persistentVolumeClaimRetentionPolicy: unknown;
      volumeClaimTemplates: Array<{ metadata: object; spec: object }>;
    };
    const [template] = spec.volumeClaimTemplates;
    expect(objectOf(rendered, "PersistentVolumeClaim", "data-loki-0")).toEqual({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { ...template.metadata, name: "data-loki-0", namespace: "monitoring", annotations: { "pulumi.com/skipAwait": "true" } },
      spec: template.spec,
    });
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    const claimUrn = run.resources.find((r) => r.type === "kubernetes:core/v1:PersistentVolumeClaim")?.urn;
    expect(claimUrn).toBeDefined();
    expect(run.resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")?.dependencies).toContain(claimUrn);
  });

  test("the claim is protected and kept in the cluster only with protectVolumes; the StatefulSet never is", async () => {
    const options = (r: RunResult) =>
      Object.fromEntries(
        r.resources
          .filter((res) => res.custom)
          .map((res) => [res.type.split(":").pop(), res.options.protect && res.options.retainOnDelete]),
      );
    expect(options((await renderLoki({ ...BASE_ARGS, protectVolumes: true })).run)).toEqual({
      ConfigMap: false,
      Service: false,
      PersistentVolumeClaim: true,
      StatefulSet: false,
      NetworkPolicy: false,
    });
    expect(options(run).PersistentVolumeClaim).toBe(false);
  });

  test("dataOnly keeps the claim, protected, and nothing else: Loki off in a stack that keeps its data", async () => {
    const parked = await renderLoki({ ...BASE_ARGS, protectVolumes: true, dataOnly: true });
    expect(parked.rendered.kubernetes.map((o) => [`${o.object.kind}/${o.object.metadata.name}`, o.protect])).toEqual([
      ["PersistentVolumeClaim/data-loki-0", true],
    ]);
    // The same resource as when Loki runs: Pulumi sees no delete and no replacement.
    const running = await renderLoki({ ...BASE_ARGS, protectVolumes: true });
    const urnOf = (r: RunResult) => r.resources.find((res) => res.type === "kubernetes:core/v1:PersistentVolumeClaim")?.urn;
    expect(urnOf(parked.run)).toBe(urnOf(running.run));
    expect(objectOf(parked.rendered, "PersistentVolumeClaim", "data-loki-0")).toEqual(
      objectOf(running.rendered, "PersistentVolumeClaim", "data-loki-0"),
    );
    expect(parked.run.outputs).toEqual({ scrapeTargets: [] });
  });

  test("the ConfigMap holds lokiConfig as YAML, rendered to files/loki/loki.yaml", () => {
    const text = rendered.files.get("loki/loki.yaml");
    expect(text).toBeDefined();
    expect(YAML.parse(text ?? "")).toEqual(lokiConfig({ retention: "3d", ingestion: ingestionOf(BASE_ARGS), environment: "staging" }));
  });

  test("one replica runs -target=all as uid 10001, restricted, with the volume and /tmp as its only writable paths", () => {
    const sts = objectOf(rendered, "StatefulSet", "loki");
    const spec = sts.spec as { replicas: number; serviceName: string; selector: unknown };
    expect({ replicas: spec.replicas, serviceName: spec.serviceName, selector: spec.selector }).toEqual({
      replicas: 1,
      serviceName: "loki",
      selector: { matchLabels: SELECTOR },
    });
    const pod = templateOf(sts).spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      fsGroupChangePolicy: "OnRootMismatch",
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.containers).toHaveLength(1);
    const [c] = pod.containers;
    expect(c.image).toBe(images.loki);
    expect(c.args).toEqual(["-config.file=/etc/loki/config/loki.yaml", "-target=all"]);
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.volumeMounts).toEqual([
      { name: "config", mountPath: "/etc/loki/config", readOnly: true },
      // The rules ConfigMap is the directory of the one tenant (auth off: "fake") of the ruler's local storage.
      { name: "rules", mountPath: "/etc/loki/rules/fake", readOnly: true },
      { name: "data", mountPath: "/var/loki" },
      { name: "tmp", mountPath: "/tmp" },
    ]);
    expect(pod.volumes).toEqual([
      { name: "config", configMap: { name: "loki-config" } },
      { name: "rules", configMap: { name: "loki-rules" } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ]);
    expect(c.resources).toEqual({ requests: { cpu: "20m", memory: "272Mi" }, limits: { cpu: "1", memory: "528Mi" } });
    // 90 % of the 528Mi limit: the Go runtime pushes back before the kernel kills the container.
    expect(c.env).toEqual([{ name: "GOMEMLIMIT", value: "475MiB" }]);
    expect(c.readinessProbe.httpGet).toMatchObject({ path: "/ready", port: "http" });
    expect(c.livenessProbe.httpGet).toMatchObject({ path: "/loki/api/v1/status/buildinfo", port: "http" });
  });

  test("the volume claim template asks for the configured size", () => {
    const sts = objectOf(rendered, "StatefulSet", "loki");
    expect((sts.spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates).toEqual([
      {
        metadata: { name: "data", labels: SELECTOR },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } },
      },
    ]);
  });

  test("the pod template carries the config's checksum, so that a config change rolls the pod", async () => {
    const annotation = (r: Rendered) => templateOf(objectOf(r, "StatefulSet", "loki")).metadata.annotations?.["checksum/config"];
    const configYaml = (objectOf(rendered, "ConfigMap", "loki-config").data as Record<string, string>)["loki.yaml"];
    expect(annotation(rendered)).toBe(crypto.createHash("sha256").update(configYaml).digest("hex"));
    const longer = await renderLoki({ ...BASE_ARGS, retention: "5d" });
    expect(annotation(longer.rendered)).not.toBe(annotation(rendered));
    expect(objectOf(longer.rendered, "ConfigMap", "loki-config").metadata.name).toBe("loki-config");
  });

  test("the Service serves http on 3100 only", () => {
    expect(objectOf(rendered, "Service", "loki").spec).toEqual({
      selector: SELECTOR,
      ports: [{ name: "http", port: 3100, targetPort: "http", protocol: "TCP" }],
    });
    expect(run.outputs.url).toBe("http://loki.monitoring.svc:3100");
  });

  test("only Grafana, Prometheus and the log collector's pods may connect, on 3100", () => {
    expect(objectOf(rendered, "NetworkPolicy", "loki").spec).toEqual({
      podSelector: { matchLabels: SELECTOR },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [{ protocol: "TCP", port: 3100 }],
          from: [
            { podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "staging" } } },
            { podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "staging" } } },
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-agents" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy", "app.kubernetes.io/instance": "staging" } },
            },
          ],
        },
      ],
    });
  });

  test("its scrape target is job loki on the http port", () => {
    expect(run.outputs.scrapeTargets).toEqual([{ job: "loki", namespace: "monitoring", selector: SELECTOR, port: "http" }]);
  });

  test("without a log collector, the policy admits Grafana and Prometheus only", async () => {
    const { logCollector: _omitted, ...args } = BASE_ARGS;
    void _omitted;
    const alone = await renderLoki(args);
    const from = (objectOf(alone.rendered, "NetworkPolicy", "loki").spec as { ingress: Array<{ from: unknown[] }> }).ingress[0].from;
    expect(from).toHaveLength(2);
    expect(JSON.stringify(from)).not.toContain("alloy");
  });

  test("a retention it cannot honour is refused by config, naming the key", () => {
    expect(configProblems("staging", { loki: { retention: "36h" } })).toEqual([
      expect.stringMatching(/^monitoring:loki\.retention: must be a whole number of days such as 3d, 7d or 2w/),
    ]);
  });

  test("a volume too small to hold the retention at any ingestion rate is one of problems(), naming both", () => {
    expect(problems({ ...BASE_ARGS, storage: { size: "100Mi" }, retention: "30d" })).toEqual([
      { key: "storage.size", message: expect.stringMatching(/^100Mi cannot hold 30d of logs at any rate/) },
    ]);
    expect(problems(BASE_ARGS)).toEqual([]);
  });

  test("takes the limits it is given, and derives the others from its volume", async () => {
    const { rendered } = await renderLoki({ ...BASE_ARGS, ingestion: { rateBytes: 64 * 1024 } });
    const limits = (YAML.parse(rendered.files.get("loki/loki.yaml") ?? "") as { limits_config: Record<string, unknown> }).limits_config;
    expect([limits.ingestion_rate_mb, limits.ingestion_burst_size_mb, limits.per_stream_rate_limit]).toEqual([
      64 / 1024,
      (64 * 600) / 1024,
      String(32 * 1024),
    ]);
  });
});

describe.each(["staging", "production"] as const)("the %s stack", (stack) => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render(stack);
  });

  test("deploys Loki with the profile's retention, size and resources, GOMEMLIMIT under the memory limit, every object valid", () => {
    const mine = rendered.kubernetes.filter((o) => o.component === "loki");
    expect(mine.map((o) => o.object.kind).sort()).toEqual([
      "ConfigMap",
      "ConfigMap",
      "NetworkPolicy",
      "NetworkPolicy",
      "PersistentVolumeClaim",
      "Service",
      "StatefulSet",
    ]);
    for (const o of mine) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.object.metadata.labels?.["app.kubernetes.io/instance"]).toBe(stack);
    }
    const d = PROFILE_DEFAULTS[stack].loki;
    const days = { staging: "72h", production: "168h" }[stack];
    const config = YAML.parse(rendered.files.get("loki/loki.yaml") ?? "") as { limits_config: { retention_period: string } };
    expect(config.limits_config.retention_period).toBe(days);
    const sts = objectOf(rendered, "StatefulSet", "loki");
    const claim = (sts.spec as { volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }> })
      .volumeClaimTemplates[0];
    expect(claim.spec.resources.requests.storage).toBe(d.storage.size);
    expect(templateOf(sts).spec.containers[0].resources).toEqual({ requests: d.resources.requests, limits: d.resources.limits });
    const env = templateOf(sts).spec.containers[0].env as Array<{ name: string; value: string }>;
    const goLimit = env.find((e) => e.name === "GOMEMLIMIT")?.value ?? "";
    expect(goLimit).toMatch(/^\d+MiB$/);
    const mib = (quantityBytes(d.resources.limits.memory) ?? 0) / 2 ** 20;
    expect(parseInt(goLimit, 10)).toBe(Math.floor(mib * 0.9));
  });

  test("Prometheus scrapes job loki, and Grafana's Loki datasource points at the Service", () => {
    const prometheusYml = rendered.files.get("prometheus/prometheus.yml") ?? "";
    const jobs = (YAML.parse(prometheusYml) as { scrape_configs: Array<{ job_name: string }> }).scrape_configs.map((j) => j.job_name);
    expect(jobs).toContain("loki");
    expect(rendered.files.get("grafana/datasources.yaml")).toContain(`http://loki.monitoring-${stack}.svc:3100`);
  });

  test(`the volume is ${stack === "production" ? "" : "not "}protected from update and destroy`, () => {
    const claims = rendered.kubernetes.filter((o) => o.component === "loki" && o.object.kind === "PersistentVolumeClaim");
    expect(claims.map((o) => [o.object.metadata.name, o.protect])).toEqual([["data-loki-0", stack === "production"]]);
    expect(objectOf(rendered, "StatefulSet", "loki")).toBeDefined();
    expect(rendered.kubernetes.find((o) => o.object.kind === "StatefulSet" && o.component === "loki")?.protect).toBe(false);
  });

  test("the stack no longer warns that Loki or the log collector are not deployed", () => {
    expect(rendered.warnings.filter((w) => /loki|logCollector/.test(w))).toEqual([]);
  });
});

describe("Loki with the push port (pushProxy: a collector that scrapes monitors pushes to it)", () => {
  let rendered: Rendered;
  beforeAll(async () => {
    ({ rendered } = await renderLoki({
      ...BASE_ARGS,
      sharedCollector: { namespace: "monitoring-production-agents", agent: "alloy" },
      pushProxy: true,
    }));
  });
  const pod = () => templateOf(objectOf(rendered, "StatefulSet", "loki")).spec;

  test("the Service serves Loki's own port and the push port", () => {
    expect((objectOf(rendered, "Service", "loki").spec as { ports: unknown[] }).ports).toEqual([
      { name: "http", port: 3100, targetPort: "http", protocol: "TCP" },
      { name: "push", port: 3101, targetPort: "push", protocol: "TCP" },
    ]);
  });

  test("the proxy, Traefik's image of the lab's release, serves the push port, restricted, its routes mounted from its ConfigMap", () => {
    const spec = pod() as unknown as {
      containers: Array<Record<string, unknown> & { name: string }>;
      volumes: Array<{ name: string; configMap?: { name: string } }>;
    };
    expect(spec.containers.map((c) => c.name)).toEqual(["loki", "proxy"]);
    const proxy = spec.containers[1];
    expect(proxy).toMatchObject({
      image: images.traefik,
      ports: [{ name: "push", containerPort: 3101, protocol: "TCP" }],
      readinessProbe: { httpGet: { path: "/ping", port: "push" } },
      livenessProbe: { httpGet: { path: "/ping", port: "push" } },
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true },
      volumeMounts: [{ name: "push-proxy", mountPath: "/etc/loki-push-proxy", readOnly: true }],
    });
    expect(proxy.args).toEqual(
      expect.arrayContaining([
        "--entryPoints.push.address=:3101",
        "--providers.file.directory=/etc/loki-push-proxy",
        "--ping.entryPoint=push",
      ]),
    );
    // Loki itself keeps its port, on every address of the pod: Grafana and Prometheus reach it there.
    expect((spec.containers[0] as unknown as { ports: unknown[] }).ports).toContainEqual({
      name: "http",
      containerPort: 3100,
      protocol: "TCP",
    });
    expect(spec.volumes).toContainEqual({ name: "push-proxy", configMap: { name: "loki-push-proxy" } });
  });

  test("its routes let a POST to the two push paths through to Loki on the loopback, and nothing else", () => {
    const routes = YAML.parse((objectOf(rendered, "ConfigMap", "loki-push-proxy").data as Record<string, string>)["routes.yml"]);
    expect(routes).toEqual({
      http: {
        routers: {
          push: {
            entryPoints: ["push"],
            rule: "Method(`POST`) && (Path(`/loki/api/v1/push`) || Path(`/otlp/v1/logs`))",
            service: "loki",
          },
        },
        services: { loki: { loadBalancer: { servers: [{ url: "http://127.0.0.1:3100" }], passHostHeader: true } } },
      },
    });
  });

  test("Grafana and Prometheus are admitted on 3100, the collectors (its own, another stack's) on the push port alone", () => {
    expect((objectOf(rendered, "NetworkPolicy", "loki").spec as { ingress: unknown[] }).ingress).toEqual([
      {
        ports: [{ protocol: "TCP", port: 3100 }],
        from: [
          { podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "staging" } } },
          { podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "staging" } } },
        ],
      },
      {
        ports: [{ protocol: "TCP", port: 3101 }],
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-agents" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy", "app.kubernetes.io/instance": "staging" } },
          },
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-production-agents" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy" } },
          },
        ],
      },
    ]);
  });
});

test("Loki can be turned off with the log collector", async () => {
  const rendered = await renderConfig("staging", { loki: { enabled: false }, logCollector: { enabled: false } });
  expect(rendered.kubernetes.filter((o) => o.component === "loki")).toEqual([]);
  expect(objectsOf(rendered, "StatefulSet", "loki")).toEqual([]);
  expect(rendered.files.get("grafana/datasources.yaml")).not.toContain("http://loki.");
  // Its content goes with it: no Logs dashboard, no link to it, no Loki query, no log alerts.
  const files = [...rendered.files.keys()];
  expect(files.filter((f) => f.startsWith("grafana/") && f.endsWith(".json")).length).toBeGreaterThan(5);
  expect(files.filter((f) => /logs__|prometheus\/logs\.yml/.test(f))).toEqual([]);
  for (const f of files.filter((name) => name.startsWith("grafana/") && name.endsWith(".json"))) {
    const text = rendered.files.get(f) ?? "";
    expect({ f, logsLink: text.includes('"/d/logs'), loki: text.includes("loki_datasource") }).toEqual({ f, logsLink: false, loki: false });
  }
  const rules = files.filter((f) => f.startsWith("prometheus/") && f.endsWith(".yml")).map((f) => rendered.files.get(f) ?? "");
  expect(rules.join("\n")).not.toMatch(/alert: (Loki|LogCollector)/);
});

test("turned off in a stack that protects its volumes, Loki leaves only its protected claim, and the stack says so", async () => {
  const rendered = await render("production", ["loki.enabled=false", "logCollector.enabled=false"]);
  expect(
    rendered.kubernetes.filter((o) => o.component === "loki").map((o) => [`${o.object.kind}/${o.object.metadata.name}`, o.protect]),
  ).toEqual([["PersistentVolumeClaim/data-loki-0", true]]);
  expect(rendered.files.get("grafana/datasources.yaml")).not.toContain("http://loki.");
  expect(
    (
      YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as { scrape_configs: Array<{ job_name: string }> }
    ).scrape_configs.map((j) => j.job_name),
  ).not.toContain("loki");
  expect(rendered.warnings.filter((w) => w.includes("monitoring:loki.enabled"))).toEqual([
    expect.stringContaining("Loki's claim data-loki-0 stays, protected"),
  ]);
});

describe.each([
  ["without monitors", [] as string[], 3100],
  ["with monitors.enabled", ["monitors.enabled=true", "apps[0].otlp=true"], 3101],
  [
    "serving another stack's monitors",
    ["logCollector.shareWith=[{namespace: monitoring-production, namespaces: [shop], monitors: true}]"],
    3101,
  ],
])("staging's collector %s", (_, sets, expected) => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render("staging", ["apps[0].otlp=true", ...sets]);
  });

  test(`pushes logs and OTLP logs to its Loki on ${expected}, which the pod serves and the policies open to it there alone`, () => {
    const config = rendered.files.get("log-collector/config.alloy") ?? "";
    const urls = [...config.matchAll(/"(http:\/\/loki\.monitoring-staging\.svc:\d+\/[^"]*)"/g)].map((m) => new URL(m[1]));
    expect(urls.map((u) => `${u.port}${u.pathname}`).sort()).toEqual([`${expected}/loki/api/v1/push`, `${expected}/otlp`]);
    const pod = templateOf(objectOf(rendered, "StatefulSet", "loki")).spec as unknown as {
      containers: Array<{ name: string; ports?: Array<{ name: string; containerPort: number }> }>;
    };
    // The Service's port the collector pushes to leads to a container port of that number.
    const servicePort = (objectOf(rendered, "Service", "loki").spec as { ports: Array<{ port: number; targetPort: string }> }).ports.find(
      (p) => p.port === expected,
    );
    const served = pod.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === servicePort?.targetPort);
    expect(served?.containerPort).toBe(expected);
    expect(pod.containers.map((c) => c.name)).toEqual(expected === 3100 ? ["loki"] : ["loki", "proxy"]);
    const ingress = (
      objectOf(rendered, "NetworkPolicy", "loki").spec as { ingress: Array<{ ports: Array<{ port: number }>; from: unknown[] }> }
    ).ingress;
    const alloyAdmittedOn = ingress.filter((r) => JSON.stringify(r.from).includes('"alloy"')).flatMap((r) => r.ports.map((p) => p.port));
    expect(alloyAdmittedOn).toEqual([expected]);
    const egress = (
      objectOf(rendered, "NetworkPolicy", "alloy-egress").spec as { egress: Array<{ ports?: Array<{ port: number }>; to?: unknown[] }> }
    ).egress;
    const toOwnLoki = egress.filter(
      (r) => JSON.stringify(r.to ?? []).includes('"monitoring-staging"') && JSON.stringify(r.to).includes('"loki"'),
    );
    expect(toOwnLoki.flatMap((r) => (r.ports ?? []).map((p) => p.port))).toEqual([expected]);
  });
});
