/**
 * The traces backend (components/tracing/): Jaeger's config (`jaeger validate` of the release
 * the stack deploys checks it in test/e2e/tracing.test.ts), none in the stack files as shipped (no
 * app of theirs sends OTLP), the workload in both stacks with tracing on (its claim protected where volumes are,
 * in-cluster only), the config keys refused by name, and the OTLP endpoint for apps that feeds it
 * (Alloy's pipeline, Prometheus' OTLP receiver, the policies between them).
 */
import * as YAML from "yaml";
import { PROFILE_DEFAULTS } from "../../config";
import { Tracing } from "../../components/tracing";
import type { TracingArgs } from "../../components/tracing/args";
import { badgerTtl } from "../../components/tracing/jaeger-config";
import { SIZED_FOR_SPANS_PER_SECOND, spansPerSecondHeld, storeBytes } from "../../components/tracing/sizing";
import { TRACING_DEFAULTS } from "../../components/tracing/section";
import { durationSeconds, quantityBytes } from "../../components/kit/units";
import { runProgram } from "../../cli/runner";
import { Rendered } from "../../cli/render";
import { ALONE, objectOf, objectsOf, render } from "../support/render";
import { schemaProblems } from "../support/schema";
import { api, parse, problems } from "../config/support";
import {
  CLIENT_CLAIMS_STATEMENTS,
  DATAPOINT_CLAIMS_STATEMENTS,
  UNKNOWN_POD_CONDITION,
  otlpJobStatements,
} from "../../components/log-collector/alloy";

describe("Jaeger's config", () => {
  test("the retention is Badger's TTL, in hours when whole", () => {
    expect([badgerTtl("2d"), badgerTtl("90m"), badgerTtl("1h")]).toEqual(["48h", "5400s", "1h"]);
  });
});

describe("the store's size (components/tracing/sizing.ts)", () => {
  test.each(["staging", "production"] as const)(
    "%s: the default claim holds the default retention at the rate the profile states, within 70 %% of it",
    (profile) => {
      const { retention, storage } = TRACING_DEFAULTS[profile];
      const [seconds, claim] = [durationSeconds(retention) ?? 0, quantityBytes(storage.size) ?? 0];
      expect(spansPerSecondHeld(claim, seconds)).toBeGreaterThanOrEqual(SIZED_FOR_SPANS_PER_SECOND[profile]);
      expect(storeBytes(SIZED_FOR_SPANS_PER_SECOND[profile], seconds)).toBeLessThanOrEqual(claim * 0.7);
    },
  );

  test("the previous defaults (2d in 5Gi, 7d in 20Gi) did not: the issue's 92 spans/s filled them", () => {
    expect(spansPerSecondHeld(quantityBytes("5Gi") ?? 0, 2 * 86400)).toBeLessThan(SIZED_FOR_SPANS_PER_SECOND.staging);
    expect(spansPerSecondHeld(quantityBytes("20Gi") ?? 0, 7 * 86400)).toBeLessThan(SIZED_FOR_SPANS_PER_SECOND.production);
    expect(storeBytes(92, 7 * 86400)).toBeGreaterThan(quantityBytes("20Gi") ?? 0);
  });
});

describe.each(["staging", "production"])("the %s stack file as shipped: no app sends OTLP, so no traces backend", (stack) => {
  test("no Jaeger, no claim of its, no OTLP endpoint, no traces datasource; the summary's reason is the apps", async () => {
    const rendered = await render(stack);
    expect(rendered.kubernetes.filter((o) => /jaeger|otlp/.test(o.object.metadata.name ?? "")).map((o) => o.object.metadata.name)).toEqual(
      [],
    );
    expect([...rendered.files.keys()].filter((f) => f.startsWith("tracing/") || f === "prometheus/tracing.yml")).toEqual([]);
    expect(rendered.files.get("grafana/datasources.yaml")).not.toContain("type: jaeger");
    expect(rendered.outputs.volumes).not.toHaveProperty("tracing");
  });
});

describe.each(["staging", "production"])("the %s stack with tracing.enabled: true", (stack) => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render(stack, ["tracing.enabled=true"]);
  });

  test("Jaeger runs as one StatefulSet on its own claim, protected where the stack protects its volumes", () => {
    const jaeger = rendered.kubernetes.filter((o) => o.object.metadata.labels?.["app.kubernetes.io/name"] === "jaeger");
    for (const o of jaeger) expect(schemaProblems(o.object)).toEqual([]);
    const sts = objectOf(rendered, "StatefulSet", "jaeger") as unknown as {
      spec: { replicas: number; template: { spec: { containers: Array<{ args: string[] }> } } };
    };
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.template.spec.containers[0].args).toEqual(["--config=/etc/jaeger/jaeger.yaml"]);
    const claim = jaeger.find((o) => o.object.kind === "PersistentVolumeClaim");
    expect(claim?.object.metadata.name).toBe("data-jaeger-0");
    expect(claim?.protect).toBe(stack === "production");
    const ttl = YAML.parse(rendered.files.get("tracing/jaeger.yaml") ?? "").extensions.jaeger_storage.backends.badger.badger.ttl.spans;
    expect(ttl).toBe(stack === "production" ? "72h" : "24h");
  });

  test("nothing publishes it: a ClusterIP Service, no route; Grafana, Prometheus and the collector are its only clients", () => {
    const service = objectOf(rendered, "Service", "jaeger") as unknown as { spec: { type?: string; ports: Array<{ port: number }> } };
    expect(service.spec.type ?? "ClusterIP").toBe("ClusterIP");
    expect(service.spec.ports.map((p) => p.port)).toEqual([4317, 16686, 8888]);
    expect(JSON.stringify(objectsOf(rendered, "IngressRoute"))).not.toContain("jaeger");
    const policy = objectOf(rendered, "NetworkPolicy", "jaeger") as unknown as {
      spec: { ingress: Array<{ ports: Array<{ port: number }>; from: Array<Record<string, { matchLabels: Record<string, string> }>> }> };
    };
    const who = policy.spec.ingress.map((r) => [
      r.ports.map((p) => p.port),
      r.from.map((f) => f.podSelector?.matchLabels["app.kubernetes.io/name"]),
    ]);
    expect(who).toEqual([
      [[16686], ["grafana"]],
      [[8888], ["prometheus"]],
      [[4317], ["alloy"]],
    ]);
  });

  test("apps send OTLP to their node's Alloy on 4317 and 4318, which no namespace reaches while no app declares otlp", () => {
    const service = objectOf(rendered, "Service", "otlp") as unknown as {
      metadata: { namespace: string };
      spec: { internalTrafficPolicy: string; ports: Array<{ port: number }> };
    };
    expect(service.metadata.namespace).toBe(`monitoring-${stack}-agents`);
    expect(service.spec.internalTrafficPolicy).toBe("Local");
    expect(service.spec.ports.map((p) => p.port)).toEqual([4317, 4318]);
    const policy = objectOf(rendered, "NetworkPolicy", "alloy") as unknown as {
      spec: { ingress: Array<{ ports: Array<{ port: number }>; from: unknown[] }> };
    };
    // The stack file's apps send no OTLP: only Prometheus' scrape of the agent is admitted, and the gossip of
    // the collector's own pods (their Alloy cluster, for the events: test/components/events.test.ts).
    expect(policy.spec.ingress).toHaveLength(2);
    expect(JSON.stringify(policy.spec.ingress)).not.toMatch(/4317|4318/);
  });

  test("Prometheus takes the collector's OTLP metrics, with the stack's labels, and keeps exemplars", () => {
    const sts = objectOf(rendered, "StatefulSet", "prometheus") as unknown as {
      spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
    };
    expect(sts.spec.template.spec.containers[0].args).toEqual(
      expect.arrayContaining(["--web.enable-otlp-receiver", "--enable-feature=exemplar-storage"]),
    );
    const config = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "");
    expect(config.otlp).toEqual({ promote_resource_attributes: ["namespace", "pod", "app"] });
  });
});

describe("the traces content, with and without a traces backend", () => {
  const dashboard = (rendered: Rendered, key: string) =>
    JSON.parse(rendered.files.get(`grafana/${key}`) ?? "{}") as { panels: Array<{ type: string; title: string }> };
  const rows = (rendered: Rendered, key: string) =>
    dashboard(rendered, key)
      .panels.filter((p) => p.type === "row")
      .map((p) => p.title);

  test("on: spans become span metrics beside the app's own, and the traces rows and rules ship", async () => {
    const rendered = await render("staging", ["tracing.enabled=true"]);
    const alloy = rendered.files.get("log-collector/config.alloy") ?? "";
    expect(alloy).toMatch(/otelcol\.connector\.spanmetrics "apps" \{/);
    expect(alloy).toMatch(/traces += \[otelcol\.exporter\.otlp\.traces\.input, otelcol\.connector\.spanmetrics\.apps\.input\]/);
    // The receiver hands everything to the memory limiter first, sized from the collector's memory limit (staging 464Mi).
    expect(alloy).toMatch(/otelcol\.receiver\.otlp "apps" \{[^]*?metrics = \[otelcol\.processor\.memory_limiter\.apps\.input\]/);
    expect(alloy).toMatch(
      /otelcol\.processor\.memory_limiter "apps" \{\n\tcheck_interval = "1s"\n\tlimit +\= "179MiB"\n\tspike_limit +\= "35MiB"\n/,
    );
    // Flushed at the stack's scrape interval, so that a panel's rate window holds several flushes.
    const prometheus = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as { global: { scrape_interval: string } };
    expect(alloy).toMatch(new RegExp(`metrics_flush_interval += "${prometheus.global.scrape_interval}"`));
    expect(rows(rendered, "applications__app-overview.json")).toContain("Traces: requests, errors and duration by span");
    expect(rows(rendered, "monitoring__stack-health.json")).toContain("Traces and the OTLP endpoint");
    expect([...rendered.files.keys()]).toContain("prometheus/tracing.yml");
  });

  test("off: no span metrics, no traces rows, no rules/tracing.yml; the other rows as they were", async () => {
    const on = await render("staging", ["tracing.enabled=true"]);
    const rendered = await render("staging", ["tracing.enabled=false"]);
    // The stack file's own apps send no OTLP: off by the default, it renders the same.
    expect((await render("staging")).files).toEqual(rendered.files);
    expect(rendered.files.get("log-collector/config.alloy")).not.toContain("otelcol");
    expect(rows(rendered, "applications__app-overview.json")).toEqual(
      rows(on, "applications__app-overview.json").filter((r) => !r.startsWith("Traces")),
    );
    expect(rows(rendered, "monitoring__stack-health.json")).toEqual(
      rows(on, "monitoring__stack-health.json").filter((r) => !r.startsWith("Traces")),
    );
    expect([...rendered.files.keys()].filter((f) => f.startsWith("prometheus/") && f.endsWith(".yml"))).toEqual(
      [...on.files.keys()].filter((f) => f.startsWith("prometheus/") && f.endsWith(".yml") && f !== "prometheus/tracing.yml"),
    );
  });

  test("every signal passes the deletion of the sender's claims, the pod lookup, the drop of what no pod sent and the labels, in that order", async () => {
    const rendered = await render("staging", ["tracing.enabled=true", "apps[2]={name: traefik, namespace: shop-staging, otlp: true}"]);
    const alloy = rendered.files.get("log-collector/config.alloy") ?? "";
    const block = (head: string) => {
      const at = alloy.indexOf(`${head} {\n`);
      expect(at).toBeGreaterThanOrEqual(0);
      return alloy.slice(at, alloy.indexOf("\n}\n", at));
    };
    const chain = [
      'otelcol.receiver.otlp "apps"',
      'otelcol.processor.memory_limiter "apps"',
      'otelcol.processor.transform "client_claims"',
      'otelcol.processor.k8sattributes "apps"',
      'otelcol.processor.filter "unknown_pods"',
      'otelcol.processor.transform "apps"',
      'otelcol.processor.batch "apps"',
    ];
    for (let i = 0; i + 1 < chain.length; i++) {
      const next = chain[i + 1].replace(/ "(\w+)"$/, ".$1").concat(".input");
      for (const signal of ["metrics", "logs", "traces"])
        expect(block(chain[i])).toMatch(new RegExp(`\\n\\t\\t${signal} += \\[${next.replace(/\./g, "\\.")}`));
    }
    const claims = block('otelcol.processor.transform "client_claims"');
    for (const signal of ["trace", "metric", "log"]) {
      expect(claims).toContain(
        `${signal}_statements {\n\t\tcontext    = "resource"\n\t\tstatements = ${JSON.stringify(CLIENT_CLAIMS_STATEMENTS).replace(/","/g, '", "')}`,
      );
    }
    expect(claims).toContain(
      `context    = "datapoint"\n\t\tstatements = ${JSON.stringify(DATAPOINT_CLAIMS_STATEMENTS).replace(/","/g, '", "')}`,
    );
    expect(CLIENT_CLAIMS_STATEMENTS[0]).toBe('delete_matching_keys(attributes, "^k8s[.]")');
    const filter = block('otelcol.processor.filter "unknown_pods"');
    for (const [signal, what] of [
      ["traces", "span"],
      ["metrics", "metric"],
      ["logs", "log_record"],
    ]) {
      expect(filter).toContain(`${signal} {\n\t\t${what} = [${JSON.stringify(UNKNOWN_POD_CONDITION)}]`);
    }
    // The job rename on traces (their span metrics) and metrics, an app named like a stack's job kept in its own namespace.
    const apps = block('otelcol.processor.transform "apps"');
    const [rename] = otlpJobStatements([{ namespace: "shop-staging", name: "traefik" }]);
    expect(rename).toContain('and not (attributes["namespace"] == "shop-staging" and attributes["service.name"] == "traefik")');
    expect(apps.split(JSON.stringify(rename)).length - 1).toBe(2);
    expect(otlpJobStatements([{ namespace: "shop", name: "web" }])[0]).not.toContain(" not ");
  });

  test("off, with an app that sends OTLP: the endpoint's health row and rules stay, the span metrics go", async () => {
    const rendered = await render("staging", ["tracing.enabled=false", "apps=[{name: shop, namespace: shop, otlp: true}]"]);
    const alloy = rendered.files.get("log-collector/config.alloy") ?? "";
    expect(alloy).toContain('otelcol.receiver.otlp "apps"');
    expect(alloy).not.toContain("spanmetrics");
    expect(rows(rendered, "monitoring__stack-health.json")).toContain("Traces and the OTLP endpoint");
    expect(rows(rendered, "applications__app-overview.json").filter((r) => r.startsWith("Traces"))).toEqual([]);
    expect([...rendered.files.keys()]).toContain("prometheus/tracing.yml");
  });
});

describe("config", () => {
  test("tracing.retention under an hour, or not a duration, is refused by its key", () => {
    expect(problems("staging", { tracing: { enabled: true, retention: "30m" } })).toEqual([
      'monitoring:tracing.retention: must be at least 1h, so that a trace outlives the alert that leads to it; got "30m"',
    ]);
    // On by an app that sends OTLP, the same.
    expect(problems("staging", { apps: [{ name: "shop", namespace: "shop", otlp: true }], tracing: { retention: "30m" } })).toEqual([
      'monitoring:tracing.retention: must be at least 1h, so that a trace outlives the alert that leads to it; got "30m"',
    ]);
    expect(problems("staging", { tracing: { retention: "two days" } })).toEqual([
      expect.stringMatching(/^monitoring:tracing\.retention: /),
    ]);
    // Only while the backend runs: off, by its default or in a stack that keeps its claim, the retention is not read.
    expect(parse("staging", { tracing: { retention: "30m" } }).config.tracing.retention).toBe("30m");
    expect(parse("staging", { tracing: { enabled: false, retention: "30m" }, protectVolumes: true }).config.tracing.retention).toBe("30m");
  });

  test("the component refuses what config does, with the same problems(), before it registers anything", async () => {
    const args: TracingArgs = {
      namespace: "monitoring",
      environment: "staging",
      retention: "30m",
      storage: { size: "5Gi" },
      resources: PROFILE_DEFAULTS.staging.tracing.resources,
    };
    const run = (given: TracingArgs) =>
      runProgram({
        ...ALONE,
        program: async () => {
          const tracing = new Tracing("jaeger", given);
          return { claims: tracing.claims.length };
        },
      });
    await expect(run(args)).rejects.toThrow(
      'Tracing "jaeger": retention: must be at least 1h, so that a trace outlives the alert that leads to it; got "30m"',
    );
    // The claim alone runs no Jaeger: nothing of the retention is read.
    await expect(run({ ...args, dataOnly: true })).resolves.toMatchObject({ outputs: { claims: 1 } });
  });

  test("an app that sends OTLP needs the log collector's endpoint: without it, apps[].otlp is refused", () => {
    expect(problems("staging", { logCollector: { enabled: false }, apps: [{ ...api, otlp: true }] })).toEqual([
      expect.stringMatching(
        /^monitoring:apps\[0\]\.otlp: is true, but the OTLP endpoint for apps is the log collector's and logCollector\.enabled is false/,
      ),
    ]);
  });

  test("an app known only by its OTLP is not scraped, has OpenTelemetry's metric names, and nothing to probe", () => {
    const { config } = parse("staging", { apps: [{ name: "shop", namespace: "shop", otlp: true }] });
    expect(config.apps[0]).toMatchObject({ name: "shop", otlp: true, metrics: { requests: "http_server_request_duration_seconds_count" } });
    expect(problems("staging", { apps: [{ name: "shop" }] })).toEqual([expect.stringMatching(/^monitoring:apps\[0\]: .*"otlp: true"/)]);
    expect(problems("staging", { apps: [{ name: "shop", namespace: "shop", otlp: true, probe: {} }] })).toEqual([
      expect.stringMatching(/^monitoring:apps\[0\]\.probe: app "shop" sends OTLP only/),
    ]);
  });

  test("an app that sends OTLP names its namespace, and the OTLP endpoint admits only the namespaces of such apps", async () => {
    expect(problems("staging", { apps: [{ name: "shop", otlp: true }] })).toEqual([
      expect.stringMatching(/^monitoring:apps\[0\]\.namespace: app "shop" sends OTLP \(otlp: true\), so it needs "namespace"/),
    ]);
    // A URL app may name the namespace it sends OTLP from.
    expect(
      parse("staging", { apps: [{ name: "web", url: "http://web.example.com/metrics", namespace: "web", otlp: true }] }).config.apps[0],
    ).toMatchObject({
      otlpNamespace: "web",
    });
    const rendered = await render("staging", [
      "apps=[{name: shop, namespace: shop, otlp: true}, {name: cart, namespace: cart, service: cart, port: http, otlp: true}, {name: api, namespace: api, service: api, port: http}, {name: basket, namespace: shop, otlp: true}]",
    ]);
    const policy = objectOf(rendered, "NetworkPolicy", "alloy") as unknown as {
      spec: { ingress: Array<{ ports: Array<{ port: number }>; from: unknown[] }> };
    };
    expect(policy.spec.ingress[1]).toEqual({
      ports: [
        { protocol: "TCP", port: 4317 },
        { protocol: "TCP", port: 4318 },
      ],
      from: [
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "cart" } } },
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } } },
      ],
    });
  });
});
