/**
 * Promtail: its config (compared whole; no Promtail binary is available here, so
 * its relabelling runs through a small evaluator of Prometheus relabel rules, itself
 * tested below), the component alone under mocks, and both real stacks.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PROFILE_DEFAULTS } from "../components/config";
import { images } from "../components/images";
import { Promtail, PromtailArgs, RelabelRule, podLogRelabelling, promtailConfig } from "../components/promtail";
import { K8sObject, Rendered, renderRun } from "../scripts/lib/render";
import { RunResult, runProgram } from "../scripts/lib/runner";
import { objectOf, objectsOf, render, renderConfig, ALONE } from "./support/render";
import { schemaProblems } from "./support/schema";
import { exceptionComments, restrictedExceptions } from "./support/security";

// ---------------------------------------------------------------------------
// A relabel evaluator with Prometheus' semantics, for the rules Promtail runs

/** Go's Regexp.Expand: $n, ${n}, $name (the longest name), $$; unknown or unmatched groups are empty. */
function expand(template: string, match: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch !== "$") {
      out += ch;
      continue;
    }
    if (template[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    const braced = /^\{([a-zA-Z0-9_]+)\}/.exec(template.slice(i + 1));
    const bare = /^[a-zA-Z0-9_]+/.exec(template.slice(i + 1));
    const name = braced ? braced[1] : bare?.[0];
    if (name === undefined) {
      out += "$";
      continue;
    }
    i += braced ? braced[0].length : name.length;
    const value = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name];
    out += value ?? "";
  }
  return out;
}

/** Applies relabel rules to a label set; undefined when the target is dropped. */
function relabel(labels: Record<string, string>, rules: RelabelRule[]): Record<string, string> | undefined {
  const current = { ...labels };
  for (const rule of rules) {
    const value = (rule.source_labels ?? []).map((l) => current[l] ?? "").join(rule.separator ?? ";");
    const regex = new RegExp(`^(?:${rule.regex ?? "(.*)"})$`);
    const action = rule.action ?? "replace";
    if (action === "keep" && !regex.test(value)) return undefined;
    if (action === "drop" && regex.test(value)) return undefined;
    if (action === "replace") {
      const match = regex.exec(value);
      if (!match || rule.target_label === undefined) continue;
      const result = expand(rule.replacement ?? "$1", match);
      if (result === "") delete current[rule.target_label];
      else current[rule.target_label] = result;
    } else if (action !== "keep" && action !== "drop") {
      throw new Error(`the evaluator does not know action ${action}`);
    }
  }
  return current;
}

/** The labels a stream ends with: the internal `__` ones are dropped after relabelling. */
const publicLabels = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith("__")));

describe("the relabel evaluator", () => {
  const match = /^(?:(a)-(b)?)$/.exec("a-") as RegExpExecArray;

  test("expands templates as Go does", () => {
    expect(expand("$1/${1}x/$$1", match)).toBe("a/ax/$1");
    // "$1_" names a group "1_", which does not exist: empty. This is why the rules write ${1}_.
    expect(expand("$1_/$2_/end", match)).toBe("//end");
    expect(expand("${2}|$9|$", match)).toBe("||$");
  });

  test("replaces only when the regex matches the whole value, and deletes a label replaced by nothing", () => {
    expect(relabel({ a: "x-1" }, [{ source_labels: ["a"], regex: "x", target_label: "b" }])).toEqual({ a: "x-1" });
    expect(relabel({ a: "x-1" }, [{ source_labels: ["a"], regex: "x-(.*)", target_label: "b" }])).toEqual({ a: "x-1", b: "1" });
    expect(relabel({ a: "", b: "old" }, [{ source_labels: ["a"], target_label: "b" }])).toEqual({ a: "" });
    expect(relabel({ a: "1", b: "2" }, [{ source_labels: ["a", "b"], separator: "/", target_label: "c" }])).toEqual({
      a: "1",
      b: "2",
      c: "1/2",
    });
  });

  test("keeps, drops, and refuses actions it does not know", () => {
    expect(relabel({ a: "1" }, [{ source_labels: ["a"], regex: "2", action: "keep" }])).toBeUndefined();
    expect(relabel({ a: "1" }, [{ source_labels: ["a"], regex: "1", action: "drop" }])).toBeUndefined();
    expect(() => relabel({}, [{ action: "labelmap", regex: "x" }])).toThrow(/does not know action labelmap/);
  });
});

// ---------------------------------------------------------------------------
// Discovery labels of sample pods, as Kubernetes SD (role pod) reports them

function discovered(pod: {
  namespace: string;
  name: string;
  uid: string;
  container: string;
  node?: string;
  controller?: [string, string];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}): Record<string, string> {
  const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, "_");
  return {
    __address__: "10.42.0.17",
    __meta_kubernetes_namespace: pod.namespace,
    __meta_kubernetes_pod_name: pod.name,
    __meta_kubernetes_pod_uid: pod.uid,
    __meta_kubernetes_pod_container_name: pod.container,
    __meta_kubernetes_pod_container_init: "false",
    __meta_kubernetes_pod_node_name: pod.node ?? "node-1",
    __meta_kubernetes_pod_phase: "Running",
    __meta_kubernetes_pod_ip: "10.42.0.17",
    ...(pod.controller
      ? { __meta_kubernetes_pod_controller_kind: pod.controller[0], __meta_kubernetes_pod_controller_name: pod.controller[1] }
      : {}),
    ...Object.fromEntries(
      Object.entries(pod.labels ?? {}).flatMap(([k, v]) => [
        [`__meta_kubernetes_pod_label_${sanitize(k)}`, v],
        [`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`, "true"],
      ]),
    ),
    ...Object.fromEntries(Object.entries(pod.annotations ?? {}).map(([k, v]) => [`__meta_kubernetes_pod_annotation_${sanitize(k)}`, v])),
  };
}

const UID = "0b5d2f7e-4c1a-4d3e-9f2b-6a7c8d9e0f11";

describe("podLogRelabelling", () => {
  test.each([
    [
      "a Deployment's pod named by app.kubernetes.io/name (which wins over app)",
      discovered({
        namespace: "shop",
        name: "web-6b7f5c9d4-x2k4q",
        uid: UID,
        container: "nginx",
        controller: ["ReplicaSet", "web-6b7f5c9d4"],
        labels: { "app.kubernetes.io/name": "storefront", app: "legacy", "pod-template-hash": "6b7f5c9d4" },
      }),
      "storefront",
    ],
    [
      "a pod with only the app label",
      discovered({
        namespace: "shop",
        name: "api-0",
        uid: UID,
        container: "api",
        controller: ["StatefulSet", "api"],
        labels: { app: "orders" },
      }),
      "orders",
    ],
    [
      "a Deployment's pod without labels: the Deployment's name",
      discovered({
        namespace: "shop",
        name: "worker-6b7f5c9d4-9zqkp",
        uid: UID,
        container: "worker",
        controller: ["ReplicaSet", "worker-6b7f5c9d4"],
        labels: { "pod-template-hash": "6b7f5c9d4" },
      }),
      "worker",
    ],
    [
      "a StatefulSet's pod without labels: the StatefulSet's name",
      discovered({ namespace: "data", name: "postgres-0", uid: UID, container: "postgres", controller: ["StatefulSet", "postgres"] }),
      "postgres",
    ],
    [
      "a CronJob's pod without labels: the CronJob's name",
      discovered({
        namespace: "ops",
        name: "backup-29012345-7xk2p",
        uid: UID,
        container: "backup",
        controller: ["Job", "backup-29012345"],
      }),
      "backup",
    ],
    ["a bare pod: its own name", discovered({ namespace: "default", name: "debug", uid: UID, container: "shell" }), "debug"],
  ])("%s gets the dashboard's labels and its log files", (_, labels, app) => {
    const result = relabel(labels, podLogRelabelling());
    expect(result).toBeDefined();
    const out = result ?? {};
    const ns = labels.__meta_kubernetes_namespace;
    const pod = labels.__meta_kubernetes_pod_name;
    const container = labels.__meta_kubernetes_pod_container_name;
    expect(publicLabels(out)).toEqual({ namespace: ns, pod, container, app, node: "node-1", job: `${ns}/${app}` });
    expect(out.__path__).toBe(`/var/log/pods/${ns}_${pod}_${UID}/${container}/*.log`);
    expect(out.__host__).toBe("node-1");
  });

  test("a static pod's files are found under the uid of its config, not of its mirror", () => {
    const out = relabel(
      discovered({
        namespace: "kube-system",
        name: "kube-apiserver-node-2",
        uid: UID,
        container: "kube-apiserver",
        node: "node-2",
        controller: ["Node", "node-2"],
        annotations: { "kubernetes.io/config.mirror": "5e1c0a3f9b7d4e2a8c6b0d1f3e5a7c9b" },
      }),
      podLogRelabelling(),
    );
    expect(out?.__path__).toBe("/var/log/pods/kube-system_kube-apiserver-node-2_5e1c0a3f9b7d4e2a8c6b0d1f3e5a7c9b/kube-apiserver/*.log");
    // A node is not a workload: the pod keeps its own name.
    expect(out?.app).toBe("kube-apiserver-node-2");
    expect(out?.__host__).toBe("node-2");
  });

  test("a ReplicaSet name without a pod-template-hash is kept whole", () => {
    const out = relabel(
      discovered({ namespace: "shop", name: "web-db-x2k4q", uid: UID, container: "web", controller: ["ReplicaSet", "web-db"] }),
      podLogRelabelling(),
    );
    expect(out?.app).toBe("web-db");
  });

  test("produces exactly the stream labels the logs dashboard queries", () => {
    const dashboard = fs.readFileSync(path.join(__dirname, "..", "dashboards", "logs", "logs.json"), "utf8");
    const out =
      relabel(discovered({ namespace: "shop", name: "debug", uid: UID, container: "shell", labels: { app: "x" } }), podLogRelabelling()) ??
      {};
    for (const label of ["namespace", "app"]) expect(dashboard).toMatch(new RegExp(`[{,]\\s*${label}=~`));
    expect(Object.keys(publicLabels(out)).sort()).toEqual(["app", "container", "job", "namespace", "node", "pod"]);
  });
});

// ---------------------------------------------------------------------------
// promtailConfig

describe("promtailConfig", () => {
  test("discovers pods, keeps this node's, parses CRI lines, drops the file name, pushes to the stack's Loki", () => {
    expect(promtailConfig({ lokiNamespace: "monitoring" })).toEqual({
      server: { http_listen_port: 3101, grpc_listen_port: 0, log_level: "info" },
      positions: { filename: "/var/lib/promtail/positions.yaml" },
      clients: [
        {
          url: "http://loki.monitoring.svc:3100/loki/api/v1/push",
          backoff_config: { min_period: "500ms", max_period: "30s", max_retries: 12 },
        },
      ],
      scrape_configs: [
        {
          job_name: "kubernetes-pods",
          kubernetes_sd_configs: [{ role: "pod" }],
          relabel_configs: podLogRelabelling(),
          pipeline_stages: [{ cri: {} }, { labeldrop: ["filename"] }],
        },
      ],
    });
  });

  test("every relabel regex is a valid anchored RE2-style pattern and every rule writes a label", () => {
    for (const rule of podLogRelabelling()) {
      expect(() => new RegExp(`^(?:${rule.regex ?? "(.*)"})$`)).not.toThrow();
      expect(rule.regex ?? "").not.toMatch(/\(\?[=!<]/);
      expect(rule.target_label).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
    }
  });
});

// ---------------------------------------------------------------------------
// The component

const SELECTOR = (instance = "staging") => ({
  "app.kubernetes.io/name": "promtail",
  "app.kubernetes.io/instance": instance,
  "app.kubernetes.io/component": "log-collector",
  "app.kubernetes.io/part-of": "monitoring-stack",
});

const BASE_ARGS: PromtailArgs = {
  namespace: "monitoring-agents",
  stackNamespace: "monitoring",
  environment: "staging",
  resources: PROFILE_DEFAULTS.staging.logCollector.resources,
};

async function renderPromtail(args: PromtailArgs): Promise<{ run: RunResult; rendered: Rendered }> {
  const run = await runProgram({
    ...ALONE,
    program: async () => ({ scrapeTargets: new Promtail("promtail", args).scrapeTargets }),
  });
  return { run, rendered: renderRun(run, true) };
}

interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  tolerations?: unknown[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  volumes?: Array<{ name: string; hostPath?: { path: string; type?: string } }>;
  containers: Array<{
    name: string;
    image?: string;
    args?: string[];
    env?: unknown[];
    ports?: Array<{ name?: string; containerPort: number; hostPort?: number }>;
    securityContext?: {
      privileged?: boolean;
      allowPrivilegeEscalation?: boolean;
      readOnlyRootFilesystem?: boolean;
      runAsNonRoot?: boolean;
      runAsUser?: number;
      capabilities?: { add?: string[]; drop?: string[] };
      seccompProfile?: { type: string };
    };
    volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
    readinessProbe?: { httpGet: { path: string; port: string } };
    livenessProbe?: { httpGet: { path: string; port: string } };
    resources?: unknown;
  }>;
}
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

describe("Promtail alone", () => {
  let rendered: Rendered;
  let run: RunResult;
  beforeAll(async () => {
    ({ run, rendered } = await renderPromtail(BASE_ARGS));
  });

  test("its objects are valid, labelled, in the agents namespace and parented to the component", () => {
    expect(rendered.kubernetes.map((o) => `${o.object.kind}/${o.object.metadata.name}`).sort()).toEqual([
      "ClusterRole/monitoring-agents-promtail",
      "ClusterRoleBinding/monitoring-agents-promtail",
      "ConfigMap/promtail-config",
      "DaemonSet/promtail",
      "NetworkPolicy/promtail",
      "Service/promtail",
      "ServiceAccount/promtail",
    ]);
    for (const o of rendered.kubernetes) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.component).toBe("promtail");
      expect(o.object.metadata.labels).toMatchObject(SELECTOR());
      if (!o.object.kind.startsWith("ClusterRole")) expect(o.object.metadata.namespace).toBe("monitoring-agents");
    }
  });

  test("the ConfigMap holds promtailConfig as YAML, rendered to files/promtail/promtail.yaml", () => {
    expect(YAML.parse(rendered.files.get("promtail/promtail.yaml") ?? "")).toEqual(promtailConfig({ lokiNamespace: "monitoring" }));
  });

  test("RBAC: read-only pods and nodes, bound to its own ServiceAccount", () => {
    expect(objectOf(rendered, "ClusterRole", "monitoring-agents-promtail").rules).toEqual([
      { apiGroups: [""], resources: ["nodes", "pods"], verbs: ["get", "list", "watch"] },
    ]);
    const binding = objectOf(rendered, "ClusterRoleBinding", "monitoring-agents-promtail");
    expect({ roleRef: binding.roleRef, subjects: binding.subjects }).toEqual({
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "monitoring-agents-promtail" },
      subjects: [{ kind: "ServiceAccount", name: "promtail", namespace: "monitoring-agents" }],
    });
    expect(objectOf(rendered, "ServiceAccount", "promtail").automountServiceAccountToken).toBe(true);
  });

  test("a DaemonSet runs Promtail on every node, its node name as HOSTNAME, with probes and the profile's resources", () => {
    const ds = objectOf(rendered, "DaemonSet", "promtail");
    const pod = templateOf(ds).spec;
    expect(pod.serviceAccountName).toBe("promtail");
    expect(pod.tolerations).toEqual([{ operator: "Exists" }]);
    expect(pod.containers).toHaveLength(1);
    const [c] = pod.containers;
    expect(c.image).toBe(images.promtail);
    expect(c.args).toEqual(["-config.file=/etc/promtail/promtail.yaml"]);
    expect(c.env).toEqual([{ name: "HOSTNAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }]);
    expect(c.ports).toEqual([{ name: "http-metrics", containerPort: 3101, protocol: "TCP" }]);
    expect(c.readinessProbe?.httpGet).toMatchObject({ path: "/ready", port: "http-metrics" });
    expect(c.livenessProbe?.httpGet).toMatchObject({ path: "/metrics", port: "http-metrics" });
    expect(c.resources).toEqual({ requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } });
    expect(templateOf(ds).metadata.annotations?.["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
  });

  test("the host's pod logs are mounted read-only, the positions directory is its own, the root filesystem is read-only", () => {
    const pod = templateOf(objectOf(rendered, "DaemonSet", "promtail")).spec;
    expect(pod.volumes).toEqual([
      { name: "config", configMap: { name: "promtail-config" } },
      { name: "pod-logs", hostPath: { path: "/var/log/pods", type: "Directory" } },
      { name: "positions", hostPath: { path: "/var/lib/promtail-monitoring-agents", type: "DirectoryOrCreate" } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: "config", mountPath: "/etc/promtail", readOnly: true },
      { name: "pod-logs", mountPath: "/var/log/pods", readOnly: true },
      { name: "positions", mountPath: "/var/lib/promtail" },
      { name: "tmp", mountPath: "/tmp" },
    ]);
    expect(pod.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: false,
      capabilities: { drop: ["ALL"] },
    });
  });

  test("its exceptions to the restricted baseline are exactly the pod logs, the positions, the token and root", () => {
    expect(restrictedExceptions(templateOf(objectOf(rendered, "DaemonSet", "promtail")).spec)).toEqual([
      "hostPath:/var/log/pods",
      "hostPath:/var/lib/promtail-monitoring-agents",
      "serviceAccountToken",
      "promtail:root",
      "promtail:uid0",
    ]);
  });

  test("each exception says why in a comment where it is set", () => {
    const found = exceptionComments(
      path.join(__dirname, "..", "components", "promtail.ts"),
      /^(automountServiceAccountToken): true,|^(securityContext): \{$|^\{ name: "[a-z-]+", (hostPath):/,
    );
    expect(found.map((f) => f.name)).toEqual(["automountServiceAccountToken", "securityContext", "hostPath", "hostPath"]);
    for (const { comment } of found) expect(comment).toMatch(/^\/\/ Exception: .{30,}/);
  });

  test("a headless Service names the metrics port, and only Prometheus may connect", () => {
    expect(objectOf(rendered, "Service", "promtail").spec).toEqual({
      clusterIP: "None",
      selector: SELECTOR(),
      ports: [{ name: "http-metrics", port: 3101, targetPort: "http-metrics", protocol: "TCP" }],
    });
    expect(objectOf(rendered, "NetworkPolicy", "promtail").spec).toEqual({
      podSelector: { matchLabels: SELECTOR() },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [{ protocol: "TCP", port: 3101 }],
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

  test("its scrape target is job promtail with the node as instance", () => {
    expect(run.outputs.scrapeTargets).toEqual([
      { job: "promtail", namespace: "monitoring-agents", selector: SELECTOR(), port: "http-metrics", instance: "node" },
    ]);
  });

  test("refuses to run in the stack namespace, naming the argument", async () => {
    await expect(renderPromtail({ ...BASE_ARGS, namespace: "monitoring" })).rejects.toThrow(
      /Promtail "promtail": namespace must be the agents namespace \(Pod Security "privileged"\), not the stack namespace "monitoring"/,
    );
  });
});

describe.each(["staging", "production"] as const)("the %s stack", (stack) => {
  let rendered: Rendered;
  beforeAll(async () => {
    rendered = await render(stack);
  });

  test("Promtail runs in the privileged agents namespace and pushes to the stack's Loki, every object valid", () => {
    expect(objectOf(rendered, "Namespace", "monitoring-agents").metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "privileged",
    });
    const mine = rendered.kubernetes.filter((o) => o.component === "promtail");
    expect(mine).toHaveLength(7);
    for (const o of mine) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.object.metadata.labels?.["app.kubernetes.io/instance"]).toBe(stack);
    }
    const config = YAML.parse(rendered.files.get("promtail/promtail.yaml") ?? "") as { clients: Array<{ url: string }> };
    expect(config.clients.map((c) => c.url)).toEqual(["http://loki.monitoring.svc:3100/loki/api/v1/push"]);
    const r = PROFILE_DEFAULTS[stack].logCollector.resources;
    expect(templateOf(objectOf(rendered, "DaemonSet", "promtail")).spec.containers[0].resources).toEqual({
      requests: r.requests,
      limits: r.limits,
    });
  });

  test("its exceptions are the same as alone", () => {
    expect(restrictedExceptions(templateOf(objectOf(rendered, "DaemonSet", "promtail")).spec)).toEqual([
      "hostPath:/var/log/pods",
      "hostPath:/var/lib/promtail-monitoring-agents",
      "serviceAccountToken",
      "promtail:root",
      "promtail:uid0",
    ]);
  });

  test("Loki admits the collector's pods from the agents namespace", () => {
    const from = (objectOf(rendered, "NetworkPolicy", "loki").spec as { ingress: Array<{ from: unknown[] }> }).ingress[0].from;
    expect(from).toContainEqual({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-agents" } },
      podSelector: { matchLabels: { "app.kubernetes.io/name": "promtail", "app.kubernetes.io/instance": stack } },
    });
  });

  test("Prometheus scrapes job promtail in the agents namespace, the node as instance", () => {
    const prometheusYml = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as {
      scrape_configs: Array<{ job_name: string; kubernetes_sd_configs?: Array<{ namespaces?: { names: string[] } }> }>;
    };
    const job = prometheusYml.scrape_configs.find((j) => j.job_name === "promtail");
    expect(job?.kubernetes_sd_configs?.[0].namespaces?.names).toEqual(["monitoring-agents"]);
  });
});

test("the log collector can be turned off alone", async () => {
  const rendered = await renderConfig("staging", { logCollector: { enabled: false } });
  expect(rendered.kubernetes.filter((o) => o.component === "promtail")).toEqual([]);
  expect(objectsOf(rendered, "StatefulSet", "loki")).toHaveLength(1);
  const from = (objectOf(rendered, "NetworkPolicy", "loki").spec as { ingress: Array<{ from: unknown[] }> }).ingress[0].from;
  expect(JSON.stringify(from)).not.toContain("promtail");
});
