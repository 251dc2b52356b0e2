/**
 * Promtail's configuration, and the stream labelling both log collectors share: the pod
 * role's discovery labels turned into exactly the labels the logs dashboard queries.
 *
 * Promtail reached its end of life on 2026-03-02 and is gone from Loki 3.7; Grafana Alloy
 * (components/log-collector/alloy.ts) is the default collector. Promtail stays selectable
 * (logCollector.agent: promtail), pinned to its last release, for teams that run it now.
 */
import { lokiPushUrl } from "../kit/services";

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
export const PROMTAIL_CONFIG_FILE = "promtail.yaml";

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
        url: lokiPushUrl(args.lokiNamespace),
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
