/**
 * The log collector component (Grafana Alloy): alone under mocks, and in both real stacks;
 * and the refusal of the retired Promtail, with the way over. Alloy's config is tested in
 * test/components/alloy.test.ts, the stream labelling in test/components/relabelling.test.ts.
 */
import * as path from "path";
import * as YAML from "yaml";
import { alloyConfig } from "../../components/log-collector/alloy";
import { PROFILE_DEFAULTS } from "../../config";
import { LogCollectorArgs } from "../../components/log-collector/args";
import { images } from "../../components/images";
import { LogCollector } from "../../components/log-collector";
import { K8sObject, Rendered, renderRun } from "../../cli/render";
import { RecordedResource, RunResult, runProgram } from "../../cli/runner";
import { objectOf, objectsOf, render, renderConfig, ALONE } from "../support/render";
import { schemaProblems } from "../support/schema";
import { parse, problems } from "../config/support";
import { logCollectorArgs } from "../../components/stack/args";
import { SecurityPodSpec, exceptionComments, restrictedExceptions } from "../support/security";

/** The agent, as the component must render it. */
const agent = "alloy";
const expected = {
  port: 12345,
  file: "log-collector/config.alloy",
  configDir: "/etc/alloy",
  stateDir: "/var/lib/alloy",
  args: [
    "run",
    "/etc/alloy/config.alloy",
    "--server.http.listen-addr=0.0.0.0:12345",
    "--storage.path=/var/lib/alloy",
    "--disable-reporting",
    "--server.http.enable-pprof=false",
    "--server.http.disable-support-bundle",
  ],
  readiness: "/-/ready",
  liveness: "/-/ready",
} as const;

const SELECTOR = (instance = "staging") => ({
  "app.kubernetes.io/name": agent,
  "app.kubernetes.io/instance": instance,
  "app.kubernetes.io/component": "log-collector",
  "app.kubernetes.io/part-of": "monitoring-stack",
});

const baseArgs = (): LogCollectorArgs => ({
  namespace: "monitoring-agents",
  stackNamespace: "monitoring",
  environment: "staging",
  resources: PROFILE_DEFAULTS.staging.logCollector.resources,
});

async function renderCollector(args: LogCollectorArgs): Promise<{ run: RunResult; rendered: Rendered }> {
  const run = await runProgram({
    ...ALONE,
    program: async () => ({ scrapeTargets: new LogCollector(agent, args).scrapeTargets }),
  });
  return { run, rendered: renderRun(run, true) };
}

/** The pod spec as the restricted-baseline check reads it, plus what these tests look at. */
type PodSpec = SecurityPodSpec & {
  serviceAccountName?: string;
  tolerations?: unknown[];
  volumes?: Array<{ name: string; hostPath?: { path: string; type?: string } }>;
  containers: Array<
    SecurityPodSpec["containers"][number] & {
      image?: string;
      args?: string[];
      env?: unknown[];
      ports?: Array<{ name?: string; containerPort: number; hostPort?: number }>;
      volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
      readinessProbe?: { httpGet: { path: string; port: string } };
      livenessProbe?: { httpGet: { path: string; port: string } };
      resources?: unknown;
    }
  >;
};
const templateOf = (o: K8sObject) =>
  (o.spec as { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } }).template;

test("the exception check finds what it looks for", () => {
  const strict: PodSpec = {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      { name: "c", securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } },
    ],
  };
  expect(restrictedExceptions(strict)).toEqual([]);
  expect(
    restrictedExceptions({
      ...strict,
      securityContext: { runAsUser: 0 },
      volumes: [{ name: "v", hostPath: { path: "/x" } }],
      containers: [{ name: "c", securityContext: { capabilities: { add: ["DAC_READ_SEARCH"] } } }],
    }),
  ).toEqual([
    "hostPath:/x",
    "c:allowPrivilegeEscalation",
    "c:writableRoot",
    "c:root",
    "c:uid0",
    "c:seccomp",
    "c:capabilitiesKept",
    "c:capabilitiesAdded",
  ]);
});

describe("the log collector alone", () => {
  let rendered: Rendered;
  let run: RunResult;
  beforeAll(async () => {
    ({ run, rendered } = await renderCollector(baseArgs()));
  });

  test("its objects are valid, labelled, in the agents namespace and parented to the component", () => {
    expect(rendered.kubernetes.map((o) => `${o.object.kind}/${o.object.metadata.name}`).sort()).toEqual([
      `ClusterRole/monitoring-agents-${agent}`,
      `ClusterRoleBinding/monitoring-agents-${agent}`,
      `ConfigMap/${agent}-config`,
      `DaemonSet/${agent}`,
      `NetworkPolicy/${agent}`,
      `NetworkPolicy/${agent}-egress`,
      `Service/${agent}`,
      `ServiceAccount/${agent}`,
    ]);
    for (const o of rendered.kubernetes) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.component).toBe("log-collector");
      expect(o.object.metadata.labels).toMatchObject(SELECTOR());
      if (!o.object.kind.startsWith("ClusterRole")) expect(o.object.metadata.namespace).toBe("monitoring-agents");
    }
  });

  test("the ConfigMap holds the agent's config, rendered under files/, and nothing warns", () => {
    expect(rendered.files.get(expected.file)).toBe(alloyConfig({ lokiPushUrl: "http://loki.monitoring.svc:3100/loki/api/v1/push" }));
    expect(run.warnings).toEqual([]);
  });

  test("RBAC: read-only pods and nodes, bound to its own ServiceAccount", () => {
    expect(objectOf(rendered, "ClusterRole", `monitoring-agents-${agent}`).rules).toEqual([
      { apiGroups: [""], resources: ["nodes", "pods"], verbs: ["get", "list", "watch"] },
    ]);
    const binding = objectOf(rendered, "ClusterRoleBinding", `monitoring-agents-${agent}`);
    expect({ roleRef: binding.roleRef, subjects: binding.subjects }).toEqual({
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `monitoring-agents-${agent}` },
      subjects: [{ kind: "ServiceAccount", name: agent, namespace: "monitoring-agents" }],
    });
    expect(objectOf(rendered, "ServiceAccount", agent).automountServiceAccountToken).toBe(true);
  });

  test("a DaemonSet runs the agent on every node, its node name as HOSTNAME, with probes and the profile's resources", () => {
    const ds = objectOf(rendered, "DaemonSet", agent);
    const pod = templateOf(ds).spec;
    expect(pod.serviceAccountName).toBe(agent);
    expect(pod.tolerations).toEqual([{ operator: "Exists" }]);
    expect(pod.containers).toHaveLength(1);
    const [c] = pod.containers;
    expect(c.image).toBe(images[agent]);
    expect(c.args).toEqual(expected.args);
    expect(c.env).toEqual([{ name: "HOSTNAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }]);
    expect(c.ports).toEqual([{ name: "http-metrics", containerPort: expected.port, protocol: "TCP" }]);
    expect(c.readinessProbe?.httpGet).toMatchObject({ path: expected.readiness, port: "http-metrics" });
    expect(c.livenessProbe?.httpGet).toMatchObject({ path: expected.liveness, port: "http-metrics" });
    const r = PROFILE_DEFAULTS.staging.logCollector.resources;
    expect(c.resources).toEqual({ requests: r.requests, limits: r.limits });
    expect(templateOf(ds).metadata.annotations?.["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
  });

  test("the host's pod logs are mounted read-only, the state directory is its own, the root filesystem is read-only", () => {
    const pod = templateOf(objectOf(rendered, "DaemonSet", agent)).spec;
    expect(pod.volumes).toEqual([
      { name: "config", configMap: { name: `${agent}-config` } },
      { name: "pod-logs", hostPath: { path: "/var/log/pods", type: "Directory" } },
      { name: "state", hostPath: { path: `/var/lib/${agent}-monitoring-agents`, type: "DirectoryOrCreate" } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: "config", mountPath: expected.configDir, readOnly: true },
      { name: "pod-logs", mountPath: "/var/log/pods", readOnly: true },
      { name: "state", mountPath: expected.stateDir },
      { name: "tmp", mountPath: "/tmp" },
    ]);
    expect(pod.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: false,
      capabilities: { drop: ["ALL"] },
    });
  });

  test("its exceptions to the restricted baseline are exactly the pod logs, its state, the token and root", () => {
    expect(restrictedExceptions(templateOf(objectOf(rendered, "DaemonSet", agent)).spec)).toEqual([
      "hostPath:/var/log/pods",
      `hostPath:/var/lib/${agent}-monitoring-agents`,
      "serviceAccountToken",
      `${agent}:root`,
      `${agent}:uid0`,
    ]);
  });

  test("a headless Service names the metrics port, and only Prometheus may connect", () => {
    expect(objectOf(rendered, "Service", agent).spec).toEqual({
      clusterIP: "None",
      selector: SELECTOR(),
      ports: [{ name: "http-metrics", port: expected.port, targetPort: "http-metrics", protocol: "TCP" }],
    });
    expect(objectOf(rendered, "NetworkPolicy", agent).spec).toEqual({
      podSelector: { matchLabels: SELECTOR() },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [{ protocol: "TCP", port: expected.port }],
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
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
  });

  test("its scrape target is the agent's job with the node as instance", () => {
    expect(run.outputs.scrapeTargets).toEqual([
      { job: agent, namespace: "monitoring-agents", selector: SELECTOR(), port: "http-metrics", instance: "node" },
    ]);
  });

  test("the stack runs it in the agents namespace, never the stack namespace (Pod Security restricted there)", () => {
    const args = logCollectorArgs(parse("staging", { namespace: "monitoring", logCollector: { agent: "alloy" } }).config);
    expect({ namespace: args.namespace, stackNamespace: args.stackNamespace }).toEqual({
      namespace: "monitoring-agents",
      stackNamespace: "monitoring",
    });
  });
});

test("each exception says why in a comment where it is set", () => {
  const found = exceptionComments(
    path.join(__dirname, "..", "..", "components", "log-collector", "index.ts"),
    /^(automountServiceAccountToken): true,|^(securityContext): \{$|^\{ name: "[a-z-]+", (hostPath):/,
  );
  expect(found.map((f) => f.name)).toEqual(["automountServiceAccountToken", "securityContext", "hostPath", "hostPath"]);
  for (const { comment } of found) expect(comment).toMatch(/^\/\/ Exception: .{30,}/);
});

describe.each(["staging", "production"] as const)("the %s stack", (stack) => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render(stack);
  });

  test("Alloy is the collector by default: in the privileged agents namespace, pushing to the stack's Loki, every object valid", () => {
    expect(objectOf(rendered, "Namespace", `monitoring-${stack}-agents`).metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "privileged",
    });
    const mine = rendered.kubernetes.filter((o) => o.component === "log-collector");
    // No app of the stack file sends OTLP: no OTLP endpoint's Service (test/components/tracing.test.ts).
    // 8, and for the events the ClusterRole that reads them and its RoleBinding in each namespace whose events it
    // reads: staging's 3 watched, production's 4 and default (the Nodes' events: it watches the cluster).
    expect(mine).toHaveLength({ staging: 12, production: 14 }[stack]);
    expect(mine.filter((o) => o.object.metadata.labels?.["app.kubernetes.io/name"] !== "alloy")).toEqual([]);
    for (const o of mine) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.object.metadata.labels?.["app.kubernetes.io/instance"]).toBe(stack);
    }
    expect(rendered.files.get("log-collector/config.alloy")).toContain(
      `url                 = "http://loki.monitoring-${stack}.svc:3100/loki/api/v1/push"`,
    );
    const r = PROFILE_DEFAULTS[stack].logCollector.resources;
    expect(templateOf(objectOf(rendered, "DaemonSet", "alloy")).spec.containers[0].resources).toEqual({
      requests: r.requests,
      limits: r.limits,
    });
  });

  test("Loki admits the collector's pods from the agents namespace", () => {
    const from = (objectOf(rendered, "NetworkPolicy", "loki").spec as { ingress: Array<{ from: unknown[] }> }).ingress[0].from;
    expect(from).toContainEqual({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": `monitoring-${stack}-agents` } },
      podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy", "app.kubernetes.io/instance": stack } },
    });
  });

  test("Prometheus scrapes job alloy in the agents namespace, the node as instance", () => {
    const prometheusYml = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as {
      scrape_configs: Array<{ job_name: string; kubernetes_sd_configs?: Array<{ namespaces?: { names: string[] } }> }>;
    };
    const job = prometheusYml.scrape_configs.find((j) => j.job_name === "alloy");
    expect(job?.kubernetes_sd_configs?.[0].namespaces?.names).toEqual([`monitoring-${stack}-agents`]);
  });
});

test("the log collector can be turned off alone", async () => {
  const rendered = await renderConfig("staging", { logCollector: { enabled: false } });
  expect(rendered.kubernetes.filter((o) => o.component === "log-collector")).toEqual([]);
  expect(objectsOf(rendered, "StatefulSet", "loki")).toHaveLength(1);
  const from = (objectOf(rendered, "NetworkPolicy", "loki").spec as { ingress: Array<{ from: unknown[] }> }).ingress[0].from;
  expect(JSON.stringify(from)).not.toMatch(/alloy/);
});

test("an unknown agent is refused, naming the key and what is allowed", async () => {
  await expect(renderConfig("staging", { logCollector: { agent: "fluent-bit" } })).rejects.toThrow(/logCollector\.agent.*alloy/);
});

describe("Promtail, retired: a stack file that still selects it", () => {
  test("is refused before any resource, naming the key, why, and exactly what to change", async () => {
    // The whole program refuses it, with this one problem, before it registers or reads anything.
    await expect(renderConfig("production", { logCollector: { agent: "promtail" } })).rejects.toThrow(
      /^Invalid stack configuration \(1 problem\):\n  - monitoring:logCollector\.agent: is "promtail"/,
    );
    const journal: RecordedResource[] = [];
    const run = runProgram({
      project: "monitoring",
      stack: "staging",
      config: { "monitoring:logCollector": JSON.stringify({ agent: "promtail" }) },
      secretKeys: [],
      journal,
    });
    await expect(run).rejects.toThrow(/  - monitoring:logCollector\.agent: is "promtail"/);
    expect(journal).toEqual([]);
    const [message] = problems("production", { logCollector: { agent: "promtail" } });
    expect(message).toMatch(/^monitoring:logCollector\.agent: is "promtail", which is no longer supported: /);
    // The reason: end of life, and gone from the Loki the stack runs.
    expect(message).toContain("Promtail reached its end of life in March 2026 (2026-03-02) and is not part of Loki 3.7 and later");
    // The replacement, and the default.
    expect(message).toContain("Grafana Alloy replaces it and is the default");
    // The fix: the key and the value, as commands.
    expect(message).toContain(
      "run npm run migrate -- --stack <stack>, which takes the key out (or pulumi config rm --path logCollector.agent), then pulumi up",
    );
    // What the switch does, and where it is explained.
    expect(message).toContain('docs/operations.md, "From Promtail to Alloy"');
    expect(message).not.toContain("logCollector.resources");
  });

  test("with resources set for Promtail, it says they now size Alloy", () => {
    const [message] = problems("staging", { logCollector: { agent: "promtail", resources: { limits: { memory: "160Mi" } } } });
    expect(message).toMatch(
      /logCollector\.resources is set and now sizes Alloy, which takes about 224 MiB resident .*raise its memory or remove it$/,
    );
  });

  test("is one problem among the others, and does not hide them", () => {
    const found = problems("staging", { logCollector: { agent: "promtail" }, prometheus: { retention: "banana" } });
    expect(found).toEqual([
      expect.stringMatching(/^monitoring:logCollector\.agent: is "promtail"/),
      expect.stringMatching(/^monitoring:prometheus\.retention: /),
    ]);
  });

  test("alloy, given or not, is accepted and renders the same stack", async () => {
    expect(parse("staging", { logCollector: { agent: "alloy" } }).warnings).toEqual(parse("staging", {}).warnings);
    const given = await renderConfig("staging", { logCollector: { agent: "alloy" } });
    const omitted = await renderConfig("staging", {});
    // Every object and file alike, but for the digest of the admin password, salted anew at every run.
    const text = (r: Rendered) =>
      JSON.stringify([r.kubernetes.map((o) => o.object), [...r.files]]).replace(/"checksum\/admin-password":"[0-9a-f]+"/g, "");
    expect(text(given)).toEqual(text(omitted));
  });
});

test("no render of either stack names Promtail anywhere", async () => {
  for (const stack of ["staging", "production"] as const) {
    const rendered = await render(stack);
    const text = [JSON.stringify(rendered.kubernetes.map((o) => o.object)), ...rendered.files.values()].join("\n");
    expect(text).toMatch(/alloy/);
    expect(text).not.toMatch(/promtail/i);
  }
});
