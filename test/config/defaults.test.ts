/** The profiles' defaults, and what the nodes make of replicas, namespaces and ports. */
import { PROFILE_DEFAULTS } from "../../config";
import { parse, problems, api } from "./support";

/** A dead man's switch, which a production stack expects (a warning without one). */
const WATCHED = { deadMansSwitchUrl: "https://hc-ping.com/uuid" };

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

  test("the retention size defaults to 85 % of the Prometheus volume, leaving at least 640MB free", () => {
    const { config } = parse("staging", { prometheus: { storage: { size: "10Gi" } } });
    expect(config.prometheus.retentionSize).toBe(`${Math.floor(10 * 1024 * 0.85)}MB`);
    // On a small volume, 85 % would leave a compaction less than the 640MB it writes beyond the cap (prometheus-retention-size).
    const cap = (size: string) => parse("staging", { prometheus: { storage: { size } } }).config.prometheus.retentionSize;
    expect([cap("1Gi"), cap("2Gi"), cap("4Gi"), cap("5Gi")]).toEqual(["384MB", "1408MB", "3456MB", `${Math.floor(5 * 1024 * 0.85)}MB`]);
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
    const off = parse(
      "production",
      { loki: { enabled: false }, logCollector: { enabled: false }, tracing: { enabled: false } },
      WATCHED,
    ).warnings;
    expect(off).toEqual([
      expect.stringMatching(/^monitoring:loki\.enabled is false in a stack that protects its volumes: Loki's claim data-loki-0 stays/),
      expect.stringMatching(
        /^monitoring:tracing\.enabled is false in a stack that protects its volumes: Jaeger's claim data-jaeger-0 stays/,
      ),
    ]);
    // Tracing off by its default (no app sends OTLP) keeps no claim, and says nothing.
    expect(parse("production", { loki: { enabled: false }, logCollector: { enabled: false } }, WATCHED).warnings).toEqual([
      expect.stringMatching(/^monitoring:loki\.enabled is false/),
    ]);
    const shared = parse(
      "production",
      { nodes: 2, grafana: { replicas: 2, database: { type: "postgres", host: "pg:5432", name: "grafana", user: "grafana" } } },
      { grafanaDatabasePassword: "pw", ...WATCHED },
    ).warnings;
    expect(shared).toEqual([
      expect.stringMatching(/^monitoring:grafana\.replicas is 2 on an external database in a stack that protects its volumes/),
    ]);
    // Nothing is kept, and nothing said, where volumes are not protected.
    expect(parse("staging", { loki: { enabled: false }, logCollector: { enabled: false }, tracing: { enabled: false } }).warnings).toEqual(
      [],
    );
  });

  test("a production stack with one Prometheus replica deploys with a warning", () => {
    const { warnings } = parse("production", { nodes: 2, prometheus: { replicas: 1 } }, WATCHED);
    expect(warnings).toEqual([expect.stringContaining("monitoring:prometheus.replicas is 1 in a production stack on 2 nodes")]);
  });
});

describe("stack config: nodes, replicas and the shared cluster", () => {
  test("on one node (the default) every workload runs once, production included, and nothing warns", () => {
    const { config, warnings } = parse("production", {}, WATCHED);
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

  test("the cluster's Traefik is scraped where k3s runs it, by the stack that watches the cluster, unless the stack says otherwise", () => {
    const k3s = { namespace: "kube-system", podLabels: { "app.kubernetes.io/name": "traefik" }, port: 9100 };
    expect(parse("staging", {}).config.traefik.metrics).toEqual({ enabled: false, ...k3s });
    expect(parse("production", {}).config.traefik.metrics).toEqual({ enabled: true, ...k3s });
    expect(parse("staging", { watch: { cluster: true } }).config.traefik.metrics).toEqual({ enabled: true, ...k3s });
    expect(parse("production", { watch: { cluster: false } }).config.traefik.metrics.enabled).toBe(false);
    const own = { namespace: "ingress", podLabels: { "app.kubernetes.io/instance": "edge" }, port: 9200 };
    expect(parse("staging", { traefik: { metrics: { enabled: true, ...own } } }).config.traefik.metrics).toEqual({ enabled: true, ...own });
    expect(parse("production", { traefik: { metrics: own } }).config.traefik.metrics).toEqual({ enabled: true, ...own });
    expect(parse("production", { traefik: { metrics: { enabled: false } } }).config.traefik.metrics.enabled).toBe(false);
  });

  test("a Traefik scrape with a bad namespace, labels or port is refused, naming the key", () => {
    expect(problems("staging", { traefik: { metrics: { namespace: "Kube_System" } } })).toEqual([
      "monitoring:traefik.metrics.namespace: must be a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters (got \"Kube_System\")",
    ]);
    expect(problems("staging", { traefik: { metrics: { podLabels: {} } } })).toEqual([
      "monitoring:traefik.metrics.podLabels: must name at least one label: without one every pod of the namespace would be scraped (got {})",
    ]);
    expect(problems("staging", { traefik: { metrics: { podLabels: { "app.kubernetes.io/name": "-traefik" } } } })).toEqual([
      expect.stringMatching(/^monitoring:traefik\.metrics\.podLabels\.app\.kubernetes\.io\/name: must be a Kubernetes label value/),
    ]);
    expect(problems("staging", { traefik: { metrics: { port: 0 } } })).toEqual([
      "monitoring:traefik.metrics.port: must be a port number 1-65535 (got 0)",
    ]);
    expect(problems("staging", { traefik: { metrics: { enable: true } } })).toEqual([
      expect.stringMatching(/^monitoring:traefik\.metrics/),
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
