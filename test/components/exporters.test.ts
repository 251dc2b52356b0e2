/** NodeExporter and KubeStateMetrics: alone under mocks, their flags, and in both real stacks. */
import * as crypto from "crypto";
import * as path from "path";
import * as bcrypt from "bcryptjs";
import * as YAML from "yaml";
import { PROFILE_DEFAULTS } from "../../config";
import {
  KSM_RESOURCES,
  KubeStateMetrics,
  kubeStateMetricsFlags,
  kubeStateMetricsRules,
} from "../../components/exporters/kube-state-metrics";
import {
  NODE_EXPORTER_PORT,
  NODE_EXPORTER_USER,
  NodeExporter,
  nodeExporterCredentials,
  nodeExporterFlags,
} from "../../components/exporters/node-exporter";
import { images } from "../../components/images";
import { K8sObject, Rendered, renderRun } from "../../cli/render";
import { RunResult, SecretValue, runProgram } from "../../cli/runner";
import { objectOf, objectsOf, render, renderConfig, ALONE } from "../support/render";
import { schemaProblems } from "../support/schema";
import { problems as configProblems } from "../config/support";
import { SecurityPodSpec, exceptionComments, restrictedExceptions } from "../support/security";

const RESOURCES = PROFILE_DEFAULTS.staging.nodeExporter.resources;
const STACK_SALT = Buffer.alloc(32, 5);

async function renderProgram(program: () => Record<string, unknown>): Promise<{ run: RunResult; rendered: Rendered }> {
  const run = await runProgram({ ...ALONE, program: async () => program() });
  return { run, rendered: renderRun(run, true) };
}

const SELECTOR = (name: string, instance = "staging") => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/instance": instance,
  "app.kubernetes.io/component": "exporter",
  "app.kubernetes.io/part-of": "monitoring-stack",
});
const PROMETHEUS_PODS = {
  "app.kubernetes.io/name": "prometheus",
  "app.kubernetes.io/instance": "staging",
  "app.kubernetes.io/part-of": "monitoring-stack",
};

/** A pod spec as the restricted-baseline check reads it, with what these tests read besides. */
interface PodSpec extends Omit<SecurityPodSpec, "containers"> {
  containers: Array<
    Omit<SecurityPodSpec["containers"][number], "ports"> & {
      args?: string[];
      ports?: Array<{ name?: string; containerPort: number; hostPort?: number }>;
      volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean; mountPropagation?: string }>;
      readinessProbe?: unknown;
      livenessProbe?: unknown;
      resources?: unknown;
    }
  >;
}
const podSpecOf = (o: K8sObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;

describe("NodeExporter alone", () => {
  let rendered: Rendered;
  let run: RunResult;
  beforeAll(async () => {
    ({ run, rendered } = await renderProgram(() => {
      const ne = new NodeExporter("ne", {
        namespace: "monitoring-agents",
        prometheusNamespace: "monitoring",
        environment: "staging",
        port: NODE_EXPORTER_PORT,
        resources: RESOURCES,
        stackSalt: STACK_SALT,
      });
      return { scrapeTargets: ne.scrapeTargets };
    }));
  });

  test("a DaemonSet runs node-exporter on every node, tainted ones included, with the host root read-only", () => {
    const ds = objectOf(rendered, "DaemonSet", "node-exporter");
    expect(ds.metadata.namespace).toBe("monitoring-agents");
    const pod = podSpecOf(ds);
    expect(pod.containers).toHaveLength(1);
    const [c] = pod.containers;
    expect(pod).toMatchObject({
      hostNetwork: true,
      hostPID: true,
      tolerations: [{ operator: "Exists" }],
      automountServiceAccountToken: false,
    });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } });
    expect(c).toMatchObject({ image: images.nodeExporter, ports: [{ name: "metrics", containerPort: 9100, protocol: "TCP" }] });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.volumes).toEqual([
      { name: "host-root", hostPath: { path: "/", type: "Directory" } },
      { name: "web", secret: { secretName: "node-exporter-web", defaultMode: 0o440 } },
    ]);
    expect(c.volumeMounts).toEqual([
      { name: "host-root", mountPath: "/host/root", readOnly: true, mountPropagation: "HostToContainer" },
      { name: "web", mountPath: "/etc/node-exporter", readOnly: true },
    ]);
    expect(c.args).toContain("--path.rootfs=/host/root");
    expect(c.readinessProbe).toBeDefined();
    expect(c.livenessProbe).toBeDefined();
  });

  test("it listens on the node's own address only", () => {
    const c = podSpecOf(objectOf(rendered, "DaemonSet", "node-exporter")).containers[0] as PodSpec["containers"][number] & {
      env: unknown[];
    };
    expect(c.args).toContain("--web.listen-address=[$(HOST_IP)]:9100");
    expect(c.env).toEqual([{ name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } }]);
  });

  test("its exceptions to the restricted baseline are exactly host network, host PID and the host root", () => {
    expect(restrictedExceptions(podSpecOf(objectOf(rendered, "DaemonSet", "node-exporter")))).toEqual([
      "hostNetwork",
      "hostPID",
      "hostPath:/",
    ]);
  });

  test("each exception says why in a comment where it is set", () => {
    const found = exceptionComments(
      path.join(__dirname, "..", "..", "components", "exporters", "node-exporter.ts"),
      /^(hostNetwork|hostPID): true|^\{ name: "[a-z-]+", (hostPath):/,
    );
    expect(found.map((f) => f.name)).toEqual(["hostNetwork", "hostPID", "hostPath"]);
    for (const { comment } of found) expect(comment).toMatch(/^\/\/ Exception: .{20,}/);
  });

  test("a headless Service names the metrics port, and only Prometheus may connect", () => {
    expect(objectOf(rendered, "Service", "node-exporter").spec).toEqual({
      clusterIP: "None",
      selector: SELECTOR("node-exporter"),
      ports: [{ name: "metrics", port: 9100, targetPort: "metrics", protocol: "TCP" }],
    });
    expect(objectOf(rendered, "NetworkPolicy", "node-exporter").spec).toEqual({
      podSelector: { matchLabels: SELECTOR("node-exporter") },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [{ protocol: "TCP", port: 9100 }],
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
              podSelector: { matchLabels: PROMETHEUS_PODS },
            },
          ],
        },
      ],
    });
  });

  test("its scrape target is job node-exporter with the node as instance, over TLS with basic auth", () => {
    const credentials = nodeExporterCredentials(STACK_SALT, "monitoring-agents");
    expect(run.outputs.scrapeTargets).toEqual([
      // hostPort: on the host's network, Prometheus reaches it at the nodes' addresses (its egress policy opens the port).
      {
        job: "node-exporter",
        namespace: "monitoring-agents",
        selector: SELECTOR("node-exporter"),
        port: "metrics",
        instance: "node",
        hostPort: NODE_EXPORTER_PORT,
        scheme: "https",
        tls: { caPem: credentials.certPem, serverName: "node-exporter.monitoring-agents.svc" },
        // A secret output: it reaches Prometheus' Secret, and the state, only encrypted.
        basicAuth: { username: "prometheus", password: new SecretValue(credentials.password) },
      },
    ]);
  });

  test("every object is valid, labelled and parented to the component", () => {
    expect(rendered.kubernetes.map((o) => `${o.object.kind}/${o.object.metadata.name}`).sort()).toEqual([
      "DaemonSet/node-exporter",
      "NetworkPolicy/node-exporter",
      "NetworkPolicy/node-exporter-egress",
      "Secret/node-exporter-web",
      "Service/node-exporter",
    ]);
    for (const o of rendered.kubernetes) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.component).toBe("node-exporter");
      expect(o.object.metadata.labels).toMatchObject(SELECTOR("node-exporter"));
    }
  });
});

describe("NodeExporter on a port of its own", () => {
  test("listens, is reached and admitted on the given port, so that another stack's exporter can run on the same nodes", async () => {
    const { rendered } = await renderProgram(() => {
      new NodeExporter("ne", {
        namespace: "b-agents",
        prometheusNamespace: "b",
        environment: "b",
        port: 19100,
        resources: RESOURCES,
        stackSalt: STACK_SALT,
      });
      return {};
    });
    const [c] = podSpecOf(objectOf(rendered, "DaemonSet", "node-exporter")).containers;
    expect(c.args).toContain("--web.listen-address=[$(HOST_IP)]:19100");
    expect(c).toMatchObject({ ports: [{ name: "metrics", containerPort: 19100, protocol: "TCP" }] });
    expect((objectOf(rendered, "Service", "node-exporter").spec as { ports: unknown[] }).ports).toEqual([
      { name: "metrics", port: 19100, targetPort: "metrics", protocol: "TCP" },
    ]);
    expect(nodeExporterFlags(19100)).toContain("--web.listen-address=[$(HOST_IP)]:19100");
  });

  test("a port that is none is refused by config, before anything is registered", () => {
    expect(configProblems("staging", { nodeExporter: { port: 0 } })).toEqual([expect.stringMatching(/^monitoring:nodeExporter\.port: /)]);
  });
});

describe("node-exporter behind TLS and basic auth", () => {
  type WebConfig = {
    tls_server_config: { cert_file: string; key_file: string; min_version: string };
    basic_auth_users: Record<string, string>;
  };
  let shown: Rendered;
  let hidden: Rendered;
  let run: RunResult;
  const program = (salt: Buffer) => () => {
    const ne = new NodeExporter("ne", {
      namespace: "monitoring-agents",
      prometheusNamespace: "monitoring",
      environment: "staging",
      port: NODE_EXPORTER_PORT,
      resources: RESOURCES,
      stackSalt: salt,
    });
    return { scrapeTargets: ne.scrapeTargets };
  };
  const webData = (r: Rendered) => objectOf(r, "Secret", "node-exporter-web").stringData as Record<string, string>;
  beforeAll(async () => {
    run = await runProgram({ ...ALONE, program: async () => program(STACK_SALT)() });
    shown = renderRun(run, true);
    hidden = renderRun(run, false);
  });

  test("its web config asks for TLS 1.3 with the certificate and key of its Secret, and basic auth of prometheus", () => {
    const data = webData(shown);
    expect(Object.keys(data).sort()).toEqual(["tls.crt", "tls.key", "web-config.yaml"]);
    const web = YAML.parse(data["web-config.yaml"]) as WebConfig;
    expect(web.tls_server_config).toEqual({
      cert_file: "/etc/node-exporter/tls.crt",
      key_file: "/etc/node-exporter/tls.key",
      min_version: "TLS13",
    });
    expect(Object.keys(web.basic_auth_users)).toEqual([NODE_EXPORTER_USER]);
    const [c] = podSpecOf(objectOf(shown, "DaemonSet", "node-exporter")).containers;
    // The flag names the file where the Secret is mounted.
    expect(c.args).toContain("--web.config.file=/etc/node-exporter/web-config.yaml");
    expect(c.volumeMounts).toContainEqual({ name: "web", mountPath: "/etc/node-exporter", readOnly: true });
  });

  test("the hash in the web config is bcrypt of the password Prometheus is given, and of no other", () => {
    const hash = (YAML.parse(webData(shown)["web-config.yaml"]) as WebConfig).basic_auth_users.prometheus;
    const password = (run.outputs.scrapeTargets as Array<{ basicAuth: { password: SecretValue } }>)[0].basicAuth.password.value as string;
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).toMatch(/^\$2a\$10\$/);
    expect(bcrypt.compareSync(password, hash)).toBe(true);
    expect(bcrypt.compareSync(`${password}x`, hash)).toBe(false);
  });

  test("the certificate names the Service, verifies with its own key, never expires, and its key is the one in the Secret", () => {
    const data = webData(shown);
    const cert = new crypto.X509Certificate(data["tls.crt"]);
    expect(cert.subjectAltName).toBe("DNS:node-exporter.monitoring-agents.svc");
    expect(cert.checkHost("node-exporter.monitoring-agents.svc")).toBe("node-exporter.monitoring-agents.svc");
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(crypto.createPrivateKey(data["tls.key"]))).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe("ed25519");
    expect(new Date(cert.validTo).getUTCFullYear()).toBe(9999);
    const target = (run.outputs.scrapeTargets as Array<{ tls: { caPem: string; serverName: string } }>)[0].tls;
    expect(target).toEqual({ caPem: data["tls.crt"], serverName: "node-exporter.monitoring-agents.svc" });
  });

  test("the Secret is a secret of the state: without --show-secrets every value is redacted", () => {
    expect(webData(hidden)).toEqual({ "tls.crt": "[secret]", "tls.key": "[secret]", "web-config.yaml": "[secret]" });
    expect(rendered(hidden)).not.toContain("PRIVATE KEY");
    expect(hidden.kubernetes.filter((o) => o.object.kind === "ConfigMap")).toEqual([]);
  });

  test("the same salt gives the same Secret on every run (no diff on a second up); another salt, another password and key", async () => {
    const again = renderRun(await runProgram({ ...ALONE, program: async () => program(Buffer.from(STACK_SALT))() }), true);
    expect(webData(again)).toEqual(webData(shown));
    const other = renderRun(await runProgram({ ...ALONE, program: async () => program(Buffer.alloc(32, 6))() }), true);
    for (const key of ["tls.crt", "tls.key", "web-config.yaml"]) expect(webData(other)[key]).not.toBe(webData(shown)[key]);
    expect(nodeExporterCredentials(Buffer.alloc(32, 6), "monitoring-agents").password).not.toBe(
      nodeExporterCredentials(STACK_SALT, "monitoring-agents").password,
    );
  });

  test("its probes open a TCP connection: no path answers without the password, and the pod spec carries none", () => {
    const [c] = podSpecOf(objectOf(shown, "DaemonSet", "node-exporter")).containers;
    expect(c.readinessProbe).toMatchObject({ tcpSocket: { port: "metrics" } });
    expect(c.livenessProbe).toMatchObject({ tcpSocket: { port: "metrics" }, periodSeconds: 20 });
    expect(JSON.stringify(c)).not.toMatch(/httpGet|Authorization/);
  });
});

/** Every object of a render as text. */
function rendered(r: Rendered): string {
  return JSON.stringify(r.kubernetes.map((o) => o.object));
}

describe("node-exporter's collector flags", () => {
  const flag = (name: string) => {
    const value = nodeExporterFlags().find((f) => f.startsWith(`--${name}=`));
    if (!value) throw new Error(`no --${name}`);
    return new RegExp(value.slice(name.length + 3));
  };

  test.each([
    ["/var/lib/kubelet/pods/0b5d/volumes/kubernetes.io~empty-dir/tmp", true],
    ["/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/4f1a/rootfs", true],
    ["/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/4f1a/shm", true],
    ["/var/lib/docker/overlay2/4f1a/merged", true],
    ["/proc", true],
    ["/sys/fs/cgroup", true],
    ["/", false],
    ["/boot/efi", false],
    ["/var/lib/rancher", false],
    ["/mnt/data", false],
  ])("mount point %s excluded: %s", (mountPoint, excluded) => {
    expect(flag("collector.filesystem.mount-points-exclude").test(mountPoint)).toBe(excluded);
  });

  test.each([
    ["tmpfs", true],
    ["overlay", true],
    ["squashfs", true],
    ["cgroup2", true],
    ["ext4", false],
    ["xfs", false],
    ["btrfs", false],
    ["zfs", false],
  ])("filesystem type %s excluded: %s", (fsType, excluded) => {
    expect(flag("collector.filesystem.fs-types-exclude").test(fsType)).toBe(excluded);
  });

  test.each([
    ["veth3c1a2b4d", true],
    ["cali12ab34cd56e", true],
    ["eth0", false],
    ["ens18", false],
    ["cni0", false],
    ["flannel.1", false],
  ])("network device %s excluded: %s", (device, excluded) => {
    expect(flag("collector.netdev.device-exclude").test(device)).toBe(excluded);
    expect(flag("collector.netclass.ignored-devices").test(device)).toBe(excluded);
  });
});

describe("KubeStateMetrics alone", () => {
  let rendered: Rendered;
  let run: RunResult;
  beforeAll(async () => {
    ({ run, rendered } = await renderProgram(() => {
      const ksm = new KubeStateMetrics("ksm", {
        namespace: "monitoring",
        environment: "staging",
        resources: PROFILE_DEFAULTS.staging.kubeStateMetrics.resources,
      });
      return { scrapeTargets: ksm.scrapeTargets };
    }));
  });

  const ksmArgs = () => podSpecOf(objectOf(rendered, "Deployment", "kube-state-metrics")).containers[0].args ?? [];

  test("the ClusterRole lists and watches exactly the resources of --resources", () => {
    const role = objectOf(rendered, "ClusterRole", "monitoring-kube-state-metrics") as K8sObject & {
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    };
    const flag = ksmArgs().find((a) => a.startsWith("--resources="));
    expect(flag).toBeDefined();
    const reported = (flag ?? "").slice("--resources=".length).split(",").sort();
    const readable = role.rules.flatMap((r) => r.resources).sort();
    expect(readable).toEqual(reported);
    for (const rule of role.rules) expect(rule.verbs).toEqual(["list", "watch"]);
    expect(new Set(readable).size).toBe(readable.length);
  });

  test("it reports what the restart, readiness and volume alerts need, and never reads Secrets or ConfigMaps", () => {
    const reported = KSM_RESOURCES.map((r) => r.resource);
    for (const needed of [
      "pods",
      "deployments",
      "statefulsets",
      "daemonsets",
      "replicasets",
      "nodes",
      "persistentvolumeclaims",
      "persistentvolumes",
      "namespaces",
      "services",
      "jobs",
      "cronjobs",
    ]) {
      expect(reported).toContain(needed);
    }
    expect(reported).not.toContain("secrets");
    expect(reported).not.toContain("configmaps");
  });

  test("each resource is granted in its own API group", () => {
    const GROUPS: Record<string, string> = {
      namespaces: "",
      nodes: "",
      persistentvolumeclaims: "",
      persistentvolumes: "",
      pods: "",
      resourcequotas: "",
      services: "",
      daemonsets: "apps",
      deployments: "apps",
      replicasets: "apps",
      statefulsets: "apps",
      horizontalpodautoscalers: "autoscaling",
      cronjobs: "batch",
      jobs: "batch",
      poddisruptionbudgets: "policy",
      storageclasses: "storage.k8s.io",
    };
    const granted = Object.fromEntries(kubeStateMetricsRules().flatMap((rule) => rule.resources.map((r) => [r, rule.apiGroups.join(",")])));
    expect(granted).toEqual(GROUPS);
    expect(kubeStateMetricsFlags()).toContain(`--resources=${KSM_RESOURCES.map((r) => r.resource).join(",")}`);
  });

  test("its ServiceAccount is bound to the ClusterRole, and only its pod gets a token", () => {
    expect(objectOf(rendered, "ServiceAccount", "kube-state-metrics")).toMatchObject({
      automountServiceAccountToken: true,
      metadata: { namespace: "monitoring" },
    });
    const binding = objectOf(rendered, "ClusterRoleBinding", "monitoring-kube-state-metrics");
    expect({ roleRef: binding.roleRef, subjects: binding.subjects }).toEqual({
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "monitoring-kube-state-metrics" },
      subjects: [{ kind: "ServiceAccount", name: "kube-state-metrics", namespace: "monitoring" }],
    });
    const pod = podSpecOf(objectOf(rendered, "Deployment", "kube-state-metrics")) as PodSpec & { serviceAccountName: string };
    expect(pod.serviceAccountName).toBe("kube-state-metrics");
    expect(restrictedExceptions(pod)).toEqual(["serviceAccountToken"]);
  });

  test("one replica serves http-metrics and telemetry, with liveness and readiness probes", () => {
    const deployment = objectOf(rendered, "Deployment", "kube-state-metrics");
    expect((deployment.spec as { replicas: number }).replicas).toBe(1);
    const [c] = podSpecOf(deployment).containers;
    expect(c).toMatchObject({
      image: images.kubeStateMetrics,
      ports: [
        { name: "http-metrics", containerPort: 8080, protocol: "TCP" },
        { name: "telemetry", containerPort: 8081, protocol: "TCP" },
      ],
      livenessProbe: { httpGet: { path: "/livez", port: "http-metrics" } },
      readinessProbe: { httpGet: { path: "/readyz", port: "telemetry" } },
    });
    expect(objectOf(rendered, "Service", "kube-state-metrics").spec).toEqual({
      selector: SELECTOR("kube-state-metrics"),
      ports: [
        { name: "http-metrics", port: 8080, targetPort: "http-metrics", protocol: "TCP" },
        { name: "telemetry", port: 8081, targetPort: "telemetry", protocol: "TCP" },
      ],
    });
    expect(objectOf(rendered, "NetworkPolicy", "kube-state-metrics").spec).toEqual({
      podSelector: { matchLabels: SELECTOR("kube-state-metrics") },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [
            { protocol: "TCP", port: 8080 },
            { protocol: "TCP", port: 8081 },
          ],
          from: [{ podSelector: { matchLabels: PROMETHEUS_PODS } }],
        },
      ],
    });
  });

  test("its scrape target keeps the labels it reports (honorLabels)", () => {
    expect(run.outputs.scrapeTargets).toEqual([
      {
        job: "kube-state-metrics",
        namespace: "monitoring",
        selector: SELECTOR("kube-state-metrics"),
        port: "http-metrics",
        honorLabels: true,
      },
    ]);
  });

  test("every object is valid and belongs to the component", () => {
    // ServiceAccount, ClusterRole and its binding, Deployment, Service, and the ingress and egress NetworkPolicies.
    expect(rendered.kubernetes).toHaveLength(7);
    for (const o of rendered.kubernetes) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.component).toBe("kube-state-metrics");
    }
  });
});

test("the exception check finds what it looks for", () => {
  const pod: PodSpec = {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      { name: "c", securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } },
    ],
  };
  expect(restrictedExceptions(pod)).toEqual([]);
  const loose: PodSpec = {
    ...pod,
    hostIPC: true,
    containers: [
      {
        name: "c",
        ports: [{ containerPort: 80, hostPort: 80 }],
        securityContext: { privileged: true, capabilities: { add: ["NET_ADMIN"] } },
      },
    ],
  };
  expect(restrictedExceptions(loose)).toEqual([
    "hostIPC",
    "c:privileged",
    "c:allowPrivilegeEscalation",
    "c:writableRoot",
    "c:capabilitiesKept",
    "c:capabilitiesAdded",
    "c:hostPort",
  ]);
});

describe.each(["staging", "production"] as const)("the %s stack", (stack) => {
  let rendered: Rendered;
  beforeAll(async () => {
    // Each as it runs alone on its cluster: it watches the cluster's nodes (watch.cluster), and so runs node-exporter.
    rendered = await render(stack, ["watch.cluster=true"]);
  });

  test("node-exporter runs in the privileged agents namespace, kube-state-metrics in the stack namespace", () => {
    const ns = `monitoring-${stack}`;
    expect(objectOf(rendered, "Namespace", `${ns}-agents`).metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "privileged",
    });
    expect(objectOf(rendered, "DaemonSet", "node-exporter").metadata.namespace).toBe(`${ns}-agents`);
    expect(objectOf(rendered, "Service", "node-exporter").metadata.namespace).toBe(`${ns}-agents`);
    expect(objectOf(rendered, "Deployment", "kube-state-metrics").metadata.namespace).toBe(ns);
    expect(objectOf(rendered, "Service", "kube-state-metrics").metadata.namespace).toBe(ns);
  });

  test("node-exporter listens on the profile's own port of the node, so that staging and production share the nodes", () => {
    const port = PROFILE_DEFAULTS[stack].nodeExporter.port;
    expect(port).toBe(stack === "production" ? 9100 : 9101);
    const [c] = podSpecOf(objectOf(rendered, "DaemonSet", "node-exporter")).containers;
    expect(c.args).toContain(`--web.listen-address=[$(HOST_IP)]:${port}`);
    expect(c).toMatchObject({ ports: [{ name: "metrics", containerPort: port, protocol: "TCP" }] });
    expect((objectOf(rendered, "Service", "node-exporter").spec as { ports: Array<{ port: number }> }).ports[0].port).toBe(port);
    const policy = objectOf(rendered, "NetworkPolicy", "node-exporter").spec as { ingress: Array<{ ports: Array<{ port: number }> }> };
    expect(policy.ingress[0].ports).toEqual([{ protocol: "TCP", port }]);
  });

  test("the exporters' objects are valid and carry the stack's environment", () => {
    const mine = rendered.kubernetes.filter((o) => o.component === "node-exporter" || o.component === "kube-state-metrics");
    // node-exporter: DaemonSet, Service, its web Secret, two NetworkPolicies; kube-state-metrics: seven objects.
    expect(mine).toHaveLength(12);
    for (const o of mine) {
      expect(schemaProblems(o.object)).toEqual([]);
      expect(o.object.metadata.labels?.["app.kubernetes.io/instance"]).toBe(stack);
    }
  });

  test("Prometheus scrapes node-exporter over TLS with basic auth, from files of its scrape credentials Secret", () => {
    const config = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as {
      scrape_configs: Array<Record<string, unknown> & { job_name: string }>;
    };
    const job = config.scrape_configs.find((j) => j.job_name === "node-exporter");
    expect(job).toMatchObject({
      scheme: "https",
      basic_auth: { username: "prometheus", password_file: "/etc/prometheus/secrets/scrape/node-exporter-password" },
      tls_config: {
        ca_file: "/etc/prometheus/secrets/scrape/node-exporter-ca.crt",
        server_name: `node-exporter.monitoring-${stack}-agents.svc`,
      },
    });
    expect(job).not.toHaveProperty("tls_config.insecure_skip_verify");
    const sts = objectOf(rendered, "StatefulSet", "prometheus").spec as {
      template: { spec: { volumes: Array<{ name: string; secret?: unknown }>; containers: Array<{ volumeMounts: unknown[] }> } };
    };
    expect(sts.template.spec.volumes).toContainEqual({
      name: "scrape-credentials",
      secret: { secretName: "prometheus-scrape-credentials", defaultMode: 0o440 },
    });
    expect(sts.template.spec.containers[0].volumeMounts).toContainEqual({
      name: "scrape-credentials",
      mountPath: "/etc/prometheus/secrets/scrape",
      readOnly: true,
    });
  });

  test("Prometheus' password opens node-exporter's hash and its CA is node-exporter's certificate; neither is in any ConfigMap", () => {
    const scrape = objectOf(rendered, "Secret", "prometheus-scrape-credentials");
    expect(scrape.metadata.namespace).toBe(`monitoring-${stack}`);
    const creds = scrape.stringData as Record<string, string>;
    expect(Object.keys(creds).sort()).toEqual(["node-exporter-ca.crt", "node-exporter-password"]);
    const web = objectOf(rendered, "Secret", "node-exporter-web").stringData as Record<string, string>;
    const hash = (YAML.parse(web["web-config.yaml"]) as { basic_auth_users: Record<string, string> }).basic_auth_users.prometheus;
    expect(bcrypt.compareSync(creds["node-exporter-password"], hash)).toBe(true);
    expect(creds["node-exporter-ca.crt"]).toBe(web["tls.crt"]);
    const configMaps = JSON.stringify(rendered.kubernetes.filter((o) => o.object.kind === "ConfigMap").map((o) => o.object));
    expect(configMaps).not.toContain(creds["node-exporter-password"]);
    expect(configMaps).not.toContain(hash);
    expect(configMaps).not.toContain("PRIVATE KEY");
    // Nor anywhere but the two Secrets.
    const elsewhere = JSON.stringify(rendered.kubernetes.filter((o) => o.object.kind !== "Secret").map((o) => o.object));
    expect(elsewhere).not.toContain(creds["node-exporter-password"]);
  });

  test("resources come from the stack's profile", () => {
    const [c] = podSpecOf(objectOf(rendered, "Deployment", "kube-state-metrics")).containers;
    const r = PROFILE_DEFAULTS[stack].kubeStateMetrics.resources;
    expect(c.resources).toEqual({ requests: r.requests, limits: r.limits });
  });
});

describe("the agents namespace", () => {
  test("is not created when no node agent is enabled", async () => {
    const rendered = await renderConfig("staging", { nodeExporter: { enabled: false }, logCollector: { enabled: false } });
    expect(objectsOf(rendered, "Namespace", "monitoring-staging-agents")).toEqual([]);
    expect(objectsOf(rendered, "DaemonSet")).toEqual([]);
  });

  test("is created for the log collector alone, and named after the stack namespace", async () => {
    const rendered = await renderConfig("staging", { namespace: "observability", nodeExporter: { enabled: false } });
    expect(objectsOf(rendered, "Namespace", "observability-agents")).toHaveLength(1);
    expect(objectsOf(rendered, "DaemonSet", "node-exporter")).toEqual([]);
    // Its content goes with it: the Nodes dashboard, the links to it and rules/nodes.yml.
    const files = [...rendered.files.keys()];
    expect(files.filter((f) => /nodes\.json|prometheus\/nodes\.yml/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".json") && (rendered.files.get(f) ?? "").includes('"/d/nodes'))).toEqual([]);
  });

  test("kube-state-metrics can be turned off", async () => {
    const rendered = await renderConfig("staging", { kubeStateMetrics: { enabled: false }, watch: { cluster: true } });
    expect(rendered.kubernetes.filter((o) => o.component === "kube-state-metrics")).toEqual([]);
    expect(objectsOf(rendered, "DaemonSet", "node-exporter")).toHaveLength(1);
    // The views built on its series go with it; the kubelet's and cAdvisor's stay, and rules/kubernetes.yml too.
    const files = [...rendered.files.keys()];
    expect(files.filter((f) => f.startsWith("grafana/infrastructure__")).sort()).toEqual([
      "grafana/infrastructure__kubelet.json",
      "grafana/infrastructure__networking.json",
      "grafana/infrastructure__nodes.json",
      "grafana/infrastructure__traefik.json",
    ]);
    expect(files).toContain("prometheus/kubernetes.yml");
    expect(
      files.filter((f) => f.endsWith(".json") && /"\/d\/(k8s-(cluster|pod|volumes)|workloads)/.test(rendered.files.get(f) ?? "")),
    ).toEqual([]);
  });
});

describe("the cluster's Traefik", () => {
  test("left unscraped takes its dashboard and rules/traefik.yml along, and nothing else", async () => {
    const on = [...(await renderConfig("staging", { watch: { cluster: true } })).files.keys()];
    const off = [...(await renderConfig("staging", { watch: { cluster: true }, traefik: { metrics: { enabled: false } } })).files.keys()];
    expect(on).toEqual(expect.arrayContaining(["grafana/infrastructure__traefik.json", "prometheus/traefik.yml"]));
    expect(on.filter((f) => !off.includes(f)).sort()).toEqual(["grafana/infrastructure__traefik.json", "prometheus/traefik.yml"]);
  });
});
