/**
 * Egress NetworkPolicies: every pod the stack runs may reach DNS and exactly what it connects
 * to, nothing else (each namespace denies the rest). Checked on the rendered stacks: both
 * stack files and the production file with every component and kind of destination on.
 */
import type { K8sObject } from "../../cli/render";
import { blackboxEgressRules } from "../../components/blackbox-exporter";
import { receiverPorts } from "../../components/alertmanager/config-file";
import { grafanaEgressRules } from "../../components/grafana";
import { prometheusEgressRules } from "../../components/prometheus";
import { DEFAULT_EGRESS, EGRESS_COMPONENTS, addressPort, egressPolicySpec, urlPort } from "../../components/kit/network";
import { ConfigError, parseStackConfig } from "../../config";
import type { ProbeSpec } from "../../components/kit/probes";
import { EVERYTHING_SETS, EVERY_STACK_SHAPE } from "../support/everything";
import { render } from "../support/render";
import { schemaProblems } from "../support/schema";

type Rendered = Awaited<ReturnType<typeof render>>;

interface PolicySpec {
  podSelector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  policyTypes?: string[];
  egress?: Array<{ ports?: Array<{ port: number; protocol?: string }>; to?: unknown[] }>;
}

interface PodTemplate {
  id: string;
  namespace: string;
  labels: Record<string, string>;
  hostNetwork: boolean;
}

/** Every pod template of the objects the stack owns (not the team's workloads it patches). */
function podTemplates(rendered: Rendered): PodTemplate[] {
  return rendered.kubernetes
    .filter((o) => !o.patch && ["Deployment", "StatefulSet", "DaemonSet", "CronJob"].includes(o.object.kind))
    .map((o) => {
      type Template = { metadata: { labels: Record<string, string> }; spec: { hostNetwork?: boolean } };
      const spec = (o.object as K8sObject & { spec: { template?: Template; jobTemplate?: { spec: { template: Template } } } }).spec;
      // A CronJob's pods come from its Jobs' template (the backups).
      const template = spec.jobTemplate?.spec.template ?? (spec.template as Template);
      return {
        id: `${o.object.kind} ${o.object.metadata.namespace}/${o.object.metadata.name}`,
        namespace: o.object.metadata.namespace ?? "",
        labels: template.metadata.labels,
        hostNetwork: template.spec.hostNetwork === true,
      };
    });
}

function egressPolicies(rendered: Rendered, namespace: string): Array<{ name: string; spec: PolicySpec }> {
  return rendered.kubernetes
    .filter((o) => o.object.kind === "NetworkPolicy" && o.object.metadata.namespace === namespace)
    .map((o) => ({ name: o.object.metadata.name ?? "", spec: (o.object as K8sObject & { spec: PolicySpec }).spec }))
    .filter((p) => (p.spec.policyTypes ?? []).includes("Egress"));
}

/** A label selector as the API server evaluates it (the stack writes matchLabels only). */
function selects(spec: PolicySpec, labels: Record<string, string>): boolean {
  if (spec.podSelector.matchExpressions) throw new Error("matchExpressions are not evaluated here");
  return Object.entries(spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/** A rule that lets DNS out: port 53 over UDP and TCP. */
function allowsDns(spec: PolicySpec): boolean {
  return (spec.egress ?? []).some((rule) =>
    ["UDP", "TCP"].every((protocol) => (rule.ports ?? []).some((p) => p.port === 53 && (p.protocol ?? "TCP") === protocol)),
  );
}

describe.each(EVERY_STACK_SHAPE)("the %s stack", (_title, stack, sets) => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render(stack, sets);
  });

  test("every pod template is selected by an egress policy of its namespace that allows DNS; host-network pods by one that allows nothing", () => {
    const templates = podTemplates(rendered);
    expect(templates.length).toBeGreaterThan(6);
    const uncovered = templates.filter((t) => {
      const mine = egressPolicies(rendered, t.namespace).filter((p) => selects(p.spec, t.labels));
      if (t.hostNetwork) return !mine.some((p) => p.name !== "default-deny-egress" && (p.spec.egress ?? []).length === 0);
      return !mine.some((p) => allowsDns(p.spec));
    });
    expect(uncovered.map((t) => t.id)).toEqual([]);
  });

  test("each namespace of the stack denies all egress its workloads' own policies do not allow", () => {
    const namespaces = rendered.kubernetes.filter((o) => o.object.kind === "Namespace").map((o) => o.object.metadata.name ?? "");
    expect(namespaces.length).toBeGreaterThan(0);
    for (const ns of namespaces) {
      expect(egressPolicies(rendered, ns).find((p) => p.name === "default-deny-egress")?.spec).toEqual({
        podSelector: {},
        policyTypes: ["Egress"],
      });
    }
  });

  test("every egress policy selects pods of a workload and passes the official schema", () => {
    const policies = rendered.kubernetes.filter((o) => o.object.kind === "NetworkPolicy" && o.object.metadata.name?.endsWith("-egress"));
    const templates = podTemplates(rendered);
    for (const p of policies) {
      const spec = (p.object as K8sObject & { spec: PolicySpec }).spec;
      expect({
        policy: p.object.metadata.name,
        selects: templates.some((t) => t.namespace === p.object.metadata.namespace && selects(spec, t.labels)),
      }).toEqual({
        policy: p.object.metadata.name,
        selects: true,
      });
      expect(schemaProblems(p.object)).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------------------
// What each component may reach, as rendered: whole policies

const DNS = {
  ports: [
    { port: 53, protocol: "UDP" },
    { port: 53, protocol: "TCP" },
  ],
};
const ANY_ADDRESS = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }];
/** Outside the cluster or named by a host: any address, and any pod. */
const ANYWHERE = [...ANY_ADDRESS, { namespaceSelector: {} }];
const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));
const API_SERVER = { ports: tcp(443, 6443), to: ANY_ADDRESS };
const pods = (name: string) => ({
  podSelector: { matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": "production" } },
});
const workload = (name: string, component: string) => ({
  matchLabels: {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/instance": "production",
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "monitoring-stack",
  },
});

describe("with every component on, each workload may reach exactly what it connects to", () => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render("production", EVERYTHING_SETS);
  });
  const policy = (name: string, namespace = "monitoring-production") =>
    rendered.kubernetes.find(
      (o) => o.object.kind === "NetworkPolicy" && o.object.metadata.name === name && o.object.metadata.namespace === namespace,
    )?.object.spec;

  test("Prometheus: the API server, every pod, the nodes' kubelet and node-exporter ports, the static target's and remote write's ports", () => {
    expect(policy("prometheus-egress")).toEqual({
      podSelector: workload("prometheus", "metrics-server"),
      policyTypes: ["Egress"],
      egress: [
        DNS,
        API_SERVER,
        { to: [{ namespaceSelector: {} }] },
        // node-exporter on production's port, the kubelet on 10250.
        { ports: tcp(9100, 10250), to: ANY_ADDRESS },
        // remote write (https: 443) and the minio target (:9000).
        { ports: tcp(443, 9000), to: ANYWHERE },
      ],
    });
  });

  test("Alertmanager: its peers on the gossip port, the receivers' ports (https, the smarthost's, the webhook's)", () => {
    expect(policy("alertmanager-egress")).toEqual({
      podSelector: workload("alertmanager", "alerting"),
      policyTypes: ["Egress"],
      egress: [
        DNS,
        {
          ports: [
            { port: 9094, protocol: "TCP" },
            { port: 9094, protocol: "UDP" },
          ],
          to: [{ podSelector: workload("alertmanager", "alerting") }],
        },
        { ports: tcp(443, 587, 8080), to: ANYWHERE },
      ],
    });
  });

  test("Grafana: its datasources' pods, the database's port, and the destination the team added", () => {
    expect(policy("grafana-egress")).toEqual({
      podSelector: workload("grafana", "visualization"),
      policyTypes: ["Egress"],
      egress: [
        DNS,
        { ports: tcp(9090), to: [pods("prometheus")] },
        { ports: tcp(9093), to: [pods("alertmanager")] },
        { ports: tcp(3100), to: [pods("loki")] },
        { ports: tcp(16686), to: [pods("jaeger")] },
        { ports: tcp(5432), to: ANYWHERE },
        { ports: tcp(8443), to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] },
      ],
    });
  });

  test("Loki: the Alertmanager pods, where its ruler sends the alerts of the LogQL rules", () => {
    expect(policy("loki-egress")).toEqual({
      podSelector: workload("loki", "log-store"),
      policyTypes: ["Egress"],
      egress: [DNS, { ports: tcp(9093), to: [{ podSelector: { matchLabels: workload("alertmanager", "alerting").matchLabels } }] }],
    });
  });

  test("the log collector: the API server, the stack's Loki, and for apps' OTLP Prometheus and Jaeger", () => {
    const stackPod = (app: string) => ({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-production" } },
      ...pods(app),
    });
    expect(policy("alloy-egress", "monitoring-production-agents")).toEqual({
      podSelector: workload("alloy", "log-collector"),
      policyTypes: ["Egress"],
      egress: [
        DNS,
        API_SERVER,
        { ports: tcp(3100), to: [stackPod("loki")] },
        { ports: tcp(9090), to: [stackPod("prometheus")] },
        { ports: tcp(4317), to: [stackPod("jaeger")] },
        // The Alloy cluster's gossip between the collector's own pods (the events).
        { ports: tcp(12345), to: [pods("alloy")] },
      ],
    });
  });

  test("the backups: their components' first replicas, Prometheus' first for their outcome, the store's port anywhere", () => {
    const first = (name: string) => ({
      podSelector: { matchLabels: { ...pods(name).podSelector.matchLabels, "statefulset.kubernetes.io/pod-name": `${name}-0` } },
    });
    // Grafana is on an external database here: not backed up.
    expect(policy("backup-egress")).toEqual({
      podSelector: workload("backup", "backup"),
      policyTypes: ["Egress"],
      egress: [
        DNS,
        // Prometheus' admin port (the snapshot, behind its proxy), then its own port for every job's outcome.
        { ports: tcp(9092), to: [first("prometheus")] },
        { ports: tcp(9093), to: [first("alertmanager")] },
        { ports: tcp(3100), to: [first("loki")] },
        { ports: tcp(9090), to: [first("prometheus")] },
        { ports: tcp(443), to: ANYWHERE },
      ],
    });
  });

  test("Jaeger: DNS only", () => {
    expect(policy("jaeger-egress")).toEqual({ podSelector: workload("jaeger", "trace-store"), policyTypes: ["Egress"], egress: [DNS] });
  });

  test("kube-state-metrics: the API server", () => {
    expect(policy("kube-state-metrics-egress")).toEqual({
      podSelector: workload("kube-state-metrics", "exporter"),
      policyTypes: ["Egress"],
      egress: [DNS, API_SERVER],
    });
  });

  test("node-exporter (host network): nothing at all", () => {
    expect(policy("node-exporter-egress", "monitoring-production-agents")).toEqual({
      podSelector: workload("node-exporter", "exporter"),
      policyTypes: ["Egress"],
      egress: [],
    });
  });

  test("the blackbox exporter: the probed URLs' and addresses' ports, and the probed app's namespace", () => {
    expect(policy("blackbox-exporter-egress")).toEqual({
      podSelector: workload("blackbox-exporter", "exporter"),
      policyTypes: ["Egress"],
      egress: [
        DNS,
        { ports: tcp(443, 587, 8080), to: ANYWHERE },
        // apps[0] is probed on its Service port's name: every port of its namespace's pods.
        { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } } }] },
      ],
    });
  });

  test("a standalone database exporter: its engine's port", () => {
    expect(policy("events-mongodb-exporter-egress")).toEqual({
      podSelector: workload("events-mongodb-exporter", "exporter"),
      policyTypes: ["Egress"],
      egress: [DNS, { ports: tcp(27017), to: ANYWHERE }],
    });
  });

  test("cloudflared: Cloudflare's edge (7844 over UDP and TCP, 443) and the service it publishes", () => {
    expect(policy("cloudflared-egress")).toEqual({
      podSelector: workload("cloudflared", "tunnel"),
      policyTypes: ["Egress"],
      egress: [
        DNS,
        {
          ports: [
            { port: 7844, protocol: "UDP" },
            { port: 7844, protocol: "TCP" },
            { port: 443, protocol: "TCP" },
          ],
          to: ANY_ADDRESS,
        },
        { ports: tcp(3000), to: [pods("grafana")] },
      ],
    });
  });
});

describe("networkPolicy keys narrow the API server and the nodes, and add destinations", () => {
  test("the API server's and the nodes' CIDRs and ports reach the policies of the workloads that use them", async () => {
    // A staging stack that watches the cluster: its Prometheus reaches node-exporter's port on the nodes too.
    const rendered = await render("staging", [
      "watch.cluster=true",
      "networkPolicy.apiServerCidrs=[192.168.1.10/32]",
      "networkPolicy.apiServerPorts=[6443]",
      "networkPolicy.nodeCidrs=[192.168.1.0/24, fd00::/64]",
      "networkPolicy.extraEgress.loki=[{ports: [9000, 443]}]",
    ]);
    const spec = (name: string, ns = "monitoring-staging") =>
      rendered.kubernetes.find(
        (o) => o.object.kind === "NetworkPolicy" && o.object.metadata.name === name && o.object.metadata.namespace === ns,
      )?.object.spec as PolicySpec;
    const apiServer = { ports: tcp(6443), to: [{ ipBlock: { cidr: "192.168.1.10/32" } }] };
    expect(spec("prometheus-egress").egress?.[1]).toEqual(apiServer);
    expect(spec("kube-state-metrics-egress").egress?.[1]).toEqual(apiServer);
    expect(spec("alloy-egress", "monitoring-staging-agents").egress?.[1]).toEqual(apiServer);
    expect(spec("prometheus-egress").egress?.[3]).toEqual({
      ports: tcp(9101, 10250),
      to: [{ ipBlock: { cidr: "192.168.1.0/24" } }, { ipBlock: { cidr: "fd00::/64" } }],
    });
    expect(spec("loki-egress").egress?.slice(-1)).toEqual([{ ports: tcp(9000, 443), to: ANYWHERE }]);
  });
});

// ---------------------------------------------------------------------------
// The pure parts

describe("egress building blocks", () => {
  test("a URL's port is its own or its scheme's; an address's is after the last colon", () => {
    expect([urlPort("https://a.example.com/x"), urlPort("http://a.example.com"), urlPort("http://a.example.com:8080/x")]).toEqual([
      443, 80, 8080,
    ]);
    expect([addressPort("mail.example.com:587"), addressPort("[fd00::1]:25")]).toEqual([587, 25]);
    expect(() => addressPort("mail.example.com")).toThrow('"mail.example.com" is not host:port');
  });

  test("every policy starts with DNS, and writes one ipBlock per CIDR", () => {
    expect(egressPolicySpec({ app: "x" }, [{ ports: [1], to: [{ cidrs: ["10.0.0.0/8", "::/0"] }] }])).toEqual({
      podSelector: { matchLabels: { app: "x" } },
      policyTypes: ["Egress"],
      egress: [DNS, { ports: tcp(1), to: [{ ipBlock: { cidr: "10.0.0.0/8" } }, { ipBlock: { cidr: "::/0" } }] }],
    });
  });

  test("Alertmanager's receiver ports: each webhook URL's and the smarthost's of its email receivers, once each", () => {
    expect(receiverPorts({})).toEqual([]);
    expect(
      receiverPorts(
        { discord: { webhookUrl: "https://discord.com/api/webhooks/1", criticalWebhookUrl: "https://discord.com/api/webhooks/2" } },
        {
          receivers: [
            { name: "a", webhook: { url: "http://hooks.internal:9000/x" }, sendResolved: true },
            { name: "b", email: { to: ["ops@example.com"] }, sendResolved: true },
          ],
          routes: [],
          defaultReceiver: "a",
          smtp: { smarthost: "smtp.example.com:25", from: "a@example.com", requireTls: true },
        },
      ),
    ).toEqual([25, 443, 9000]);
  });

  test("the blackbox exporter opens a probed pod port when config gives its number, every port when a Service port's name", () => {
    const service = (namespace: string, port: { port?: string; targetPort?: number }): ProbeSpec => ({
      name: `${namespace}-${port.port ?? port.targetPort}`,
      module: "http_2xx",
      target: { service: { namespace, name: "web", ...port }, scheme: "http", path: "/health" },
      labels: {},
      latencySeconds: 1,
    });
    const ns = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
    const rules = blackboxEgressRules({
      probes: [service("shop", { targetPort: 3000 }), service("shop", { targetPort: 8080 }), service("billing", { port: "http" })],
    });
    expect(egressPolicySpec({}, rules).egress).toEqual([DNS, { to: [ns("billing")] }, { ports: tcp(3000, 8080), to: [ns("shop")] }]);
  });

  test("Grafana's database port: the host's own, or the engine's", () => {
    const dbRule = (host: string, type: "postgres" | "mysql") =>
      grafanaEgressRules({ environment: "e", database: { type, host, name: "g", user: "g" } }).at(-1);
    expect(dbRule("db.internal", "mysql")?.ports).toEqual([3306]);
    expect(dbRule("db.internal:6432", "postgres")?.ports).toEqual([6432]);
  });

  test("Prometheus opens the nodes on the kubelet's port and each host-network target's", () => {
    const rules = prometheusEgressRules({
      scrapeTargets: [{ job: "node-exporter", namespace: "a", selector: {}, port: "metrics", hostPort: 9105 }],
      egress: DEFAULT_EGRESS,
    });
    expect(rules[2]).toEqual({ ports: [9105, 10250], to: [{ cidrs: DEFAULT_EGRESS.nodeCidrs }] });
    expect(rules).toHaveLength(3);
  });
});

// ---------------------------------------------------------------------------
// Config: refused before anything is created, naming the key

/** The problems of a staging config, as "key: message" lines. */
function configProblems(plain: Record<string, unknown>): string[] {
  const values = Object.fromEntries(Object.entries(plain).map(([k, v]) => [`monitoring:${k}`, JSON.stringify(v)]));
  try {
    parseStackConfig({ project: "monitoring", stack: "staging", values, secretKeys: [] });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error("the config was accepted");
}

describe("networkPolicy and priorityClass config", () => {
  test("defaults: the API server anywhere on 443 and 6443, the nodes anywhere, nothing added; a class of 1000000", () => {
    const { config } = parseStackConfig({ project: "monitoring", stack: "production", values: {}, secretKeys: [] });
    expect(config.networkPolicy).toEqual({
      apiServerCidrs: ["0.0.0.0/0", "::/0"],
      apiServerPorts: [443, 6443],
      nodeCidrs: ["0.0.0.0/0", "::/0"],
      extraEgress: Object.fromEntries(EGRESS_COMPONENTS.map((c) => [c, []])),
    });
    expect(config.priorityClass).toEqual({ enabled: true, value: 1000000 });
  });

  test("a CIDR that is not one, an empty list, a port out of range or an unknown component is refused, naming the key", () => {
    expect(
      configProblems({
        networkPolicy: {
          apiServerCidrs: ["10.0.0.0/33"],
          apiServerPorts: [],
          nodeCidrs: ["node-1"],
          extraEgress: { grafana: [{ ports: [70000] }], graphana: [{ ports: [1] }] },
        },
      }),
    ).toEqual([
      'monitoring:networkPolicy.apiServerCidrs[0]: must be a CIDR: an address and a prefix length such as 10.0.0.0/8 or fd00::/8 (got "10.0.0.0/33")',
      "monitoring:networkPolicy.apiServerPorts: must list at least one port (got [])",
      'monitoring:networkPolicy.nodeCidrs[0]: must be a CIDR: an address and a prefix length such as 10.0.0.0/8 or fd00::/8 (got "node-1")',
      expect.stringMatching(/^monitoring:networkPolicy\.extraEgress\.grafana\[0\]\.ports\[0\]: must be a port number 1-65535/),
      expect.stringMatching(/^monitoring:networkPolicy\.extraEgress\.graphana: .*grafana/),
    ]);
  });

  test("a priority at or above the system's range, or not a whole number, is refused", () => {
    expect(configProblems({ priorityClass: { value: 2000000000 } })).toEqual([
      "monitoring:priorityClass.value: must be at most 1000000000: higher values are kept for the system's own classes (got 2000000000)",
    ]);
    expect(configProblems({ priorityClass: { value: 1.5, enabled: "yes" } })).toEqual([
      expect.stringMatching(/^monitoring:priorityClass\.enabled: must be true or false/),
      expect.stringMatching(/^monitoring:priorityClass\.value: must be a whole number 1-1000000000/),
    ]);
  });
});
