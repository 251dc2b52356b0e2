/**
 * The stream labelling of the log collector: the pod role's discovery labels turned into
 * exactly the labels the logs dashboard queries, and the files each pod's streams come from.
 */

/** Where the kubelet writes every container's log: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log. */
export const POD_LOGS_DIR = "/var/log/pods";

/** A relabelling rule, as Prometheus and Alloy read it. */
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
 * queries, plus the internal `__path__` (which files). Every other discovery label is
 * internal and dropped with the rest.
 */
export function podLogRelabelling(): RelabelRule[] {
  return [
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
