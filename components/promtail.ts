/**
 * The log collector: Promtail on every node (a DaemonSet in the agents namespace),
 * tailing the pod log files the kubelet writes under /var/log/pods, labelling each
 * stream from Kubernetes discovery and pushing it to the stack's Loki.
 *
 * Upstream has deprecated Promtail in favour of Grafana Alloy: it is in long-term
 * support (fixes only) with an announced end of life. It is what this stack was asked to run;
 * the config key is the neutral `logCollector` so that a later switch to Alloy keeps
 * the stack files, the stream labels and Loki as they are.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import * as YAML from "yaml";
import type { ResourceRequirements, StackConfig } from "./config";
import {
  ScrapeTarget,
  WorkloadIdentity,
  httpProbe,
  imageOf,
  ingressPolicySpec,
  objectMeta,
  resourcesOf,
  restrictedContainerSecurity,
  scratchVolume,
  selectorLabels,
  standardLabels,
  serviceUrl,
  prometheusPodLabels,
} from "./kit";
import { LOKI_PORT } from "./loki";

/** Promtail's HTTP port (/ready, /metrics). */
export const PROMTAIL_PORT = 3101;

/** Where the kubelet writes every container's log: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log. */
export const POD_LOGS_DIR = "/var/log/pods";

/** Where the pod sees its files. */
export const PROMTAIL_PATHS = {
  config: "/etc/promtail",
  /** The positions file's directory: a host directory, see the volume. */
  positions: "/var/lib/promtail",
};
const CONFIG_FILE = "promtail.yaml";

/** A relabelling rule, as Prometheus and Promtail read it. */
export interface RelabelRule {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  target_label?: string;
  replacement?: string;
  action?: "replace" | "keep" | "drop" | "labelmap" | "labeldrop" | "labelkeep";
}

/** The discovery label of a pod label (Kubernetes SD replaces every character outside [a-zA-Z0-9_] with "_"). */
const podLabel = (name: string) => `__meta_kubernetes_pod_label_${name.replace(/[^a-zA-Z0-9_]/g, "_")}`;
/** The discovery label of a pod annotation. */
const podAnnotation = (name: string) => `__meta_kubernetes_pod_annotation_${name.replace(/[^a-zA-Z0-9_]/g, "_")}`;

/**
 * From the pod role's discovery labels to a stream's labels: exactly namespace, pod,
 * container, app, node and job (`<namespace>/<app>`), which the logs dashboard
 * queries, plus the internal `__host__` (which node tails it) and `__path__` (which
 * files). Every other discovery label is internal and dropped with the rest.
 */
export function podLogRelabelling(): RelabelRule[] {
  return [
    // Promtail tails only files on its own node: targets whose __host__ is another node are dropped.
    { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "__host__" },
    { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node" },
    { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
    { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
    { source_labels: ["__meta_kubernetes_pod_container_name"], target_label: "container" },
    // app: the last of these that is set wins: the pod's name; the name of the workload
    // that owns it (a ReplicaSet, StatefulSet, DaemonSet or Job; a Deployment is its
    // ReplicaSet's name without the pod-template-hash; a CronJob is its Job's name
    // without the schedule's timestamp); the `app` label; the app.kubernetes.io/name
    // label. A node (static pods) is not a workload: such pods keep their own name.
    { source_labels: ["__meta_kubernetes_pod_name"], target_label: "app" },
    {
      source_labels: ["__meta_kubernetes_pod_controller_kind", "__meta_kubernetes_pod_controller_name"],
      regex: "(?:ReplicaSet|StatefulSet|DaemonSet|Job|ReplicationController);(.+)",
      target_label: "app",
    },
    {
      source_labels: ["__meta_kubernetes_pod_controller_kind", "__meta_kubernetes_pod_controller_name", podLabel("pod-template-hash")],
      // The hash is written in the alphabet Kubernetes uses for generated names (no vowels, no 0, 1 or 3).
      regex: "ReplicaSet;(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10};.+",
      target_label: "app",
    },
    {
      source_labels: ["__meta_kubernetes_pod_controller_kind", "__meta_kubernetes_pod_controller_name"],
      regex: "Job;(.+)-[0-9]{8,}",
      target_label: "app",
    },
    { source_labels: [podLabel("app")], regex: "(.+)", target_label: "app" },
    { source_labels: [podLabel("app.kubernetes.io/name")], regex: "(.+)", target_label: "app" },
    { source_labels: ["namespace", "app"], separator: "/", target_label: "job" },
    // The directory of a pod is named after its uid; a static pod's mirror has another
    // uid than the one the kubelet wrote its logs under, kept in the config.mirror annotation.
    { source_labels: ["__meta_kubernetes_pod_uid"], target_label: "__tmp_pod_uid" },
    {
      source_labels: [podAnnotation("kubernetes.io/config.mirror")],
      regex: "(.+)",
      target_label: "__tmp_pod_uid",
    },
    {
      source_labels: ["__meta_kubernetes_namespace", "__meta_kubernetes_pod_name", "__tmp_pod_uid", "__meta_kubernetes_pod_container_name"],
      separator: ";",
      regex: "(.+);(.+);(.+);(.+)",
      // ${n}, not $n: Go would read "$1_" as a group named "1_".
      replacement: `${POD_LOGS_DIR}/\${1}_\${2}_\${3}/\${4}/*.log`,
      target_label: "__path__",
    },
  ];
}

export interface PromtailConfigArgs {
  /** Namespace of the stack's Loki Service: pushes go to http://loki.<namespace>.svc:3100. */
  lokiNamespace: string;
}

/**
 * promtail.yaml: discover the pods of the cluster, keep those on this node, tail
 * their files, parse the container runtime's (CRI) line format, push to Loki.
 */
export function promtailConfig(args: PromtailConfigArgs): Record<string, unknown> {
  return {
    server: { http_listen_port: PROMTAIL_PORT, grpc_listen_port: 0, log_level: "info" },
    positions: { filename: `${PROMTAIL_PATHS.positions}/positions.yaml` },
    clients: [
      {
        url: `${serviceUrl("loki", args.lokiNamespace, LOKI_PORT)}/loki/api/v1/push`,
        // Keep retrying for about 3.5 minutes (backoff 0.5s doubling to 30s, 12 tries: Loki restarting, a node drain) before dropping a batch.
        backoff_config: { min_period: "500ms", max_period: "30s", max_retries: 12 },
      },
    ],
    scrape_configs: [
      {
        job_name: "kubernetes-pods",
        // Every pod of the cluster is discovered (one watch per node); relabelling keeps
        // this node's (__host__). A field selector would need the node name in the file.
        kubernetes_sd_configs: [{ role: "pod" }],
        relabel_configs: podLogRelabelling(),
        pipeline_stages: [
          // containerd (and k3s) write "<time> <stream> <P|F> <line>": the line, its own
          // timestamp, the `stream` label (stdout/stderr), partial lines joined back.
          { cri: {} },
          // The file name (<restart>.log) would start a new stream at every container restart.
          { labeldrop: ["filename"] },
        ],
      },
    ],
  };
}

export interface PromtailArgs {
  /**
   * Namespace of the DaemonSet: the stack's agents namespace (`<namespace>-agents`,
   * Pod Security "privileged"). It must exist first: pass its MonitoringNamespace in `opts.dependsOn`.
   */
  namespace: string;
  /** Namespace of the stack: its Loki receives the logs, its Prometheus scrapes Promtail. */
  stackNamespace: string;
  /** The stack's environment: app.kubernetes.io/instance and the Prometheus pods' instance label. */
  environment: string;
  /** Requests and limits of the Promtail container (config logCollector.resources). */
  resources: ResourceRequirements;
}

/** The Promtail component's args for a validated stack config. */
export function promtailArgs(cfg: StackConfig): PromtailArgs {
  return {
    namespace: `${cfg.namespace}-agents`,
    stackNamespace: cfg.namespace,
    environment: cfg.environment,
    resources: cfg.logCollector.resources,
  };
}

/** The args, or a ResourceError naming the one that cannot be deployed. */
function checkedArgs(name: string, args: PromtailArgs): PromtailArgs {
  if (args.namespace === args.stackNamespace) {
    // The stack namespace enforces "restricted": a pod running as root with host paths would be refused there.
    throw new pulumi.ResourceError(
      `Promtail "${name}": namespace must be the agents namespace (Pod Security "privileged"), not the stack namespace "${args.stackNamespace}"`,
      undefined,
    );
  }
  return args;
}

/**
 * Promtail on every node, tainted ones included. Restricted like every other
 * workload (read-only root, no capabilities, no privilege escalation, default
 * seccomp) except for what tailing the node's pod logs takes, each commented where
 * it is set: the host's pod logs (read-only), a host directory for its positions,
 * root, and a service-account token.
 */
export class Promtail extends pulumi.ComponentResource {
  public readonly daemonSet: k8s.apps.v1.DaemonSet;
  public readonly clusterRole: k8s.rbac.v1.ClusterRole;
  /** One target: every node's Promtail (job `promtail`), `instance` = the node name. */
  public readonly scrapeTargets: ScrapeTarget[];

  constructor(name: string, args: PromtailArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitoring:index:Promtail", name, checkedArgs(name, args), opts);
    const id: WorkloadIdentity = { name: "promtail", component: "log-collector", instance: args.environment, image: "promtail" };
    const labels = standardLabels(id);
    const ns = args.namespace;

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      // It watches pods through the API, so its pods get a token; nothing else shares this account.
      { metadata: objectMeta(id, ns, "promtail"), automountServiceAccountToken: true },
      { parent: this },
    );
    // Cluster-scoped names carry the namespace: two stacks in one cluster must not share a role.
    const clusterName = `${ns}-promtail`;
    this.clusterRole = new k8s.rbac.v1.ClusterRole(
      `${name}-cluster-role`,
      {
        metadata: { name: clusterName, labels },
        // Pods to discover (every namespace's logs), nodes for the node role; read-only.
        rules: [{ apiGroups: [""], resources: ["nodes", "pods"], verbs: ["get", "list", "watch"] }],
      },
      { parent: this },
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-cluster-role-binding`,
      {
        metadata: { name: clusterName, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: this.clusterRole.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: ns }],
      },
      { parent: this },
    );

    const configYaml = YAML.stringify(promtailConfig({ lokiNamespace: args.stackNamespace }), {
      lineWidth: 0,
      aliasDuplicateObjects: false,
    });
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: objectMeta(id, ns, "promtail-config"), data: { [CONFIG_FILE]: configYaml } },
      { parent: this },
    );
    // Promtail reads its file once, at start: the checksum rolls the pods when it changes.
    const checksum = crypto.createHash("sha256").update(configYaml).digest("hex");

    this.daemonSet = new k8s.apps.v1.DaemonSet(
      `${name}-daemonset`,
      {
        metadata: objectMeta(id, ns, "promtail"),
        spec: {
          selector: { matchLabels: selectorLabels(id) },
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: { labels, annotations: { "checksum/config": checksum } },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              // Exception: a service-account token, because Promtail discovers pods through the API.
              automountServiceAccountToken: true,
              // Every node, whatever its taints: a node's pods log wherever they run.
              tolerations: [{ operator: "Exists" }],
              nodeSelector: { "kubernetes.io/os": "linux" },
              // Exception: root (uid 0). The runtime writes pod logs as root:root, mode 0640,
              // so only root can read them. Root here holds no capability at all (every one
              // is dropped below): it reads root's own files and writes its own directory,
              // and cannot override permissions, escalate or touch anything else.
              securityContext: {
                runAsNonRoot: false,
                runAsUser: 0,
                runAsGroup: 0,
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  name: "promtail",
                  image: imageOf(id),
                  args: [`-config.file=${PROMTAIL_PATHS.config}/${CONFIG_FILE}`],
                  // The node this pod runs on: Promtail compares it with each target's __host__.
                  env: [{ name: "HOSTNAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                  ports: [{ name: "http-metrics", containerPort: PROMTAIL_PORT, protocol: "TCP" }],
                  // Ready once it tails at least one file (every node runs at least this pod).
                  readinessProbe: httpProbe("/ready", "http-metrics", { initialDelaySeconds: 10 }),
                  // Alive while the HTTP server answers, ready or not.
                  livenessProbe: httpProbe("/metrics", "http-metrics", { initialDelaySeconds: 10, periodSeconds: 30 }),
                  resources: resourcesOf(args.resources),
                  securityContext: { ...restrictedContainerSecurity(), runAsNonRoot: false },
                  volumeMounts: [
                    { name: "config", mountPath: PROMTAIL_PATHS.config, readOnly: true },
                    { name: "pod-logs", mountPath: POD_LOGS_DIR, readOnly: true },
                    { name: "positions", mountPath: PROMTAIL_PATHS.positions },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: config.metadata.name } },
                // Exception: the node's pod logs, read-only: what Promtail is for. With
                // containerd (k3s included) they are real files under /var/log/pods.
                { name: "pod-logs", hostPath: { path: POD_LOGS_DIR, type: "Directory" } },
                // Exception: a host directory of its own for the positions file (how far each
                // file has been read). On the node, not in the pod, so that a restart or an
                // upgrade resumes where it stopped instead of sending every file again.
                { name: "positions", hostPath: { path: `/var/lib/promtail-${ns}`, type: "DirectoryOrCreate" } },
                scratchVolume("tmp"),
              ],
            },
          },
        },
      },
      { parent: this },
    );

    // Headless: Prometheus scrapes every node's Promtail, never a load-balanced address.
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, "promtail"),
        spec: {
          clusterIP: "None",
          selector: selectorLabels(id),
          ports: [{ name: "http-metrics", port: PROMTAIL_PORT, targetPort: "http-metrics", protocol: "TCP" }],
        },
      },
      { parent: this },
    );

    // Nothing connects to Promtail but Prometheus; it only opens connections (to the API and Loki).
    new k8s.networking.v1.NetworkPolicy(
      `${name}-network-policy`,
      {
        metadata: objectMeta(id, ns, "promtail"),
        spec: ingressPolicySpec(selectorLabels(id), [
          {
            ports: [PROMTAIL_PORT],
            from: [{ namespaces: { "kubernetes.io/metadata.name": args.stackNamespace }, pods: prometheusPodLabels(args.environment) }],
          },
        ]),
      },
      { parent: this },
    );

    this.scrapeTargets = [{ job: "promtail", namespace: ns, selector: selectorLabels(id), port: "http-metrics", instance: "node" }];
    this.registerOutputs({ scrapeTargets: this.scrapeTargets });
  }
}
