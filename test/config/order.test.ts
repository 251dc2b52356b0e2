/**
 * The order of the one list of problems, which the registry's loops keep (components/stack/sections.ts,
 * config/checks/index.ts): first what only resolving finds, in the order the sections resolve (each
 * after the sections it needs), then each section's own problems and the rules over several sections,
 * in the checks' declared order. The render matrix's refused stacks hold a few of these; here every
 * section that reports while resolving, and a stack with problems at many places of the checks.
 */
import { problems } from "./support";

const keys = (found: string[]) => found.map((line) => line.slice(0, line.indexOf(": ")));

test("what only resolving finds comes in the order the sections resolve: apps, databases, Prometheus' remote writes, targets, probes, Alertmanager, the log collector", () => {
  // Given in the reverse order, so that the order found is the loop's, not the stack file's.
  const found = problems(
    "staging",
    {
      logCollector: { externalLoki: { url: "https://loki.example.com/loki/api/v1/push", username: "u", bearerToken: true } },
      alertmanager: { defaultReceiver: "team" },
      probes: [{ name: "p", module: "tcp_connect", url: "http://p.example.com/" }],
      targets: [{ name: "t", url: "http://t.example.com:9000/metrics", namespace: "shop" }],
      prometheus: { remoteWrite: [{ name: "m", url: "https://m.example.com/push", username: "u" }] },
      databases: [{ name: "pg", type: "postgres", mode: "standalone" }],
      apps: [{ name: "a", service: "a", url: "http://a.example.com/metrics" }],
    },
    { externalLokiPassword: "loki-password-0123" },
  );
  expect(keys(found)).toEqual([
    "monitoring:apps[0]",
    "monitoring:apps[0]",
    "monitoring:databases[0]",
    "monitoring:prometheus.remoteWrite[0]",
    "monitoring:targets[0]",
    "monitoring:probes[0]",
    "monitoring:alertmanager.defaultReceiver",
    "monitoring:logCollector.externalLoki",
  ]);
});

test("the sections' problems and the rules over several sections come in the checks' declared order, after what resolving found", () => {
  const found = problems(
    "production",
    {
      nodes: 2,
      alertmanager: { replicas: 2 },
      prometheus: { replicas: 2, scrapeInterval: "30s", scrapeTimeout: "1m", retentionSize: "100TB" },
      grafana: { replicas: 3 },
      apps: [
        { name: "a", service: "a", namespace: "shop", port: "http" },
        { name: "a", service: "a2", namespace: "shop", port: "http" },
      ],
      targets: [{ name: "a", url: "http://t.example.com:9000/metrics" }],
      databases: [
        { name: "pg", type: "postgres", mode: "standalone" },
        { name: "pg", type: "redis", mode: "standalone", secretRef: { name: "s", key: "k" } },
      ],
      traefik: { enabled: true, expose: ["grafana"] },
      tracing: { enabled: true, retention: "30m" },
    },
    { databaseDsns: { pg: "redis://r.example.com:6379" } },
  );
  expect(keys(found)).toEqual([
    // Resolving the databases.
    "monitoring:databases[1].secretRef",
    // The apps' section, then the names across the lists, the databases' among them.
    "monitoring:apps[1].name",
    "monitoring:targets[0].name",
    "monitoring:databases[1].name",
    // Prometheus' section, the replicas against the nodes, Grafana's section.
    "monitoring:prometheus.scrapeTimeout",
    "monitoring:grafana.replicas",
    "monitoring:grafana.replicas",
    // What Traefik publishes, the traces backend's section, Prometheus over the stack, the databases' section.
    "monitoring:traefik.expose",
    "monitoring:traefik.tlsSecretName",
    "monitoring:tracing.retention",
    "monitoring:prometheus.retentionSize",
    "monitoring:databaseDsns.pg",
  ]);
});
