/**
 * Node and cluster metrics: node-exporter on every node (a DaemonSet in the agents
 * namespace, with the host access it needs and nothing more) and kube-state-metrics
 * (one Deployment with read-only RBAC on exactly the objects it reports).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceRequirements } from "../config";
import { ScrapeTarget } from "./kit/services";
import { WorkloadIdentity, imageOf, objectMeta, selectorLabels, standardLabels, prometheusPodLabels } from "./kit/labels";
import { httpProbe, resourcesOf, restrictedContainerSecurity, restrictedPodSecurity } from "./kit/pods";
import {
  ingressPolicySpec,
  DEFAULT_EGRESS,
  EgressRule,
  EgressSettings,
  apiServerEgress,
  egressPolicyName,
  egressPolicySpec,
  extraEgressRules,
} from "./kit/network";
import { StackComponent } from "./kit/component";
import { podPriority } from "./kit/priority";

// ---------------------------------------------------------------------------
// node-exporter

/** node-exporter's own default port; each stack of a cluster listens on its own (config nodeExporter.port). */
export const NODE_EXPORTER_PORT = 9100;

/** Where the host's root filesystem appears in the node-exporter container. */
export const HOST_ROOT = "/host/root";

/**
 * Mount points that say nothing about the node's disks: kernel filesystems and the
 * per-container and per-pod mounts of the container runtimes and the kubelet (k3s
 * keeps containerd under /run/k3s and /var/lib/rancher). Without this, every pod's
 * volumes and every container's overlay become a "filesystem" of the node.
 */
const EXCLUDED_MOUNT_POINTS = [
  "dev",
  "proc",
  "sys",
  "run/containerd/.+",
  "run/k3s/containerd/.+",
  "var/lib/containerd/.+",
  "var/lib/docker/.+",
  "var/lib/kubelet/pods/.+",
  "var/lib/kubelet/plugins/.+",
  "var/lib/rancher/k3s/agent/containerd/.+",
];

/** Virtual filesystem types: no disk behind them, so no "disk full" alert should ever see them. */
const EXCLUDED_FS_TYPES = [
  "autofs",
  "binfmt_misc",
  "bpf",
  "cgroup2?",
  "configfs",
  "debugfs",
  "devpts",
  "devtmpfs",
  "erofs",
  "fusectl",
  "hugetlbfs",
  "iso9660",
  "mqueue",
  "nsfs",
  "overlay",
  "proc",
  "procfs",
  "pstore",
  "ramfs",
  "rpc_pipefs",
  "securityfs",
  "selinuxfs",
  "squashfs",
  "sysfs",
  "tmpfs",
  "tracefs",
];

/** One virtual interface per pod (veth pairs, Calico, Cilium): their number follows the pods, not the node. */
const EXCLUDED_NET_DEVICES = "^(veth.+|cali.+|lxc.+|[a-f0-9]{15})$";

/** node-exporter's command line: host paths under HOST_ROOT, virtual filesystems and interfaces left out. */
export function nodeExporterFlags(port: number = NODE_EXPORTER_PORT): string[] {
  return [
    // Only the node's own address, not every interface of the host (docker bridges, VPNs).
    `--web.listen-address=[$(HOST_IP)]:${port}`,
    `--path.rootfs=${HOST_ROOT}`,
    `--path.udev.data=${HOST_ROOT}/run/udev/data`,
    `--collector.filesystem.mount-points-exclude=^/(${EXCLUDED_MOUNT_POINTS.join("|")})($|/)`,
    `--collector.filesystem.fs-types-exclude=^(${EXCLUDED_FS_TYPES.join("|")})$`,
    `--collector.netclass.ignored-devices=${EXCLUDED_NET_DEVICES}`,
    `--collector.netdev.device-exclude=${EXCLUDED_NET_DEVICES}`,
  ];
}

export interface NodeExporterArgs {
  /**
   * Namespace of the DaemonSet: the stack's agents namespace (`<namespace>-agents`,
   * Pod Security "privileged"). It must exist first: pass its MonitoringNamespace in
   * `opts.dependsOn`.
   */
  namespace: string;
  /** Namespace of the Prometheus pods that scrape the exporter (the stack namespace). */
  prometheusNamespace: string;
  /** The stack's environment: app.kubernetes.io/instance and the Prometheus pods' instance label. */
  environment: string;
  /**
   * The port it listens on, on each node's own address: on the host's network, so two stacks
   * on one cluster each need their own (config nodeExporter.port). Default NODE_EXPORTER_PORT.
   */
  port?: number;
  /** Requests and limits of the exporter container (config nodeExporter.resources). */
  resources: ResourceRequirements;
  /** The stack's PriorityClass for the pods. Default none. */
  priorityClassName?: string;
}

/**
 * node-exporter on every node, tainted ones included. Restricted like every other
 * workload (non-root, read-only, no capabilities) except for three things it cannot
 * do without, each commented where it is set: the host's network and PID namespaces
 * and a read-only view of the host's root filesystem.
 */
export class NodeExporter extends StackComponent {
  public readonly daemonSet: k8s.apps.v1.DaemonSet;
  public readonly service: k8s.core.v1.Service;
  /** One target: every node's exporter, `instance` = the node name. */
  public readonly scrapeTargets: ScrapeTarget[];

  constructor(name: string, args: NodeExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    // Refused before anything is registered, so that nothing half-made is left behind.
    if (args.port !== undefined && (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535)) {
      throw new pulumi.ResourceError(`NodeExporter "${name}": port must be a port number 1-65535; got ${args.port}`, opts?.parent);
    }
    super("monitoring:index:NodeExporter", name, opts);
    const id: WorkloadIdentity = { name: "node-exporter", component: "exporter", instance: args.environment, image: "nodeExporter" };
    const labels = standardLabels(id);
    const port = args.port ?? NODE_EXPORTER_PORT;

    this.daemonSet = new k8s.apps.v1.DaemonSet(
      `${name}-daemonset`,
      {
        metadata: objectMeta(id, args.namespace, "node-exporter"),
        spec: {
          selector: { matchLabels: selectorLabels(id) },
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              ...podPriority(args.priorityClassName),
              // Exception: the host's network namespace, so that the network collectors
              // report the node's interfaces and sockets instead of the pod's veth.
              hostNetwork: true,
              // Exception: the host's PID namespace, so that /proc (and /proc/1/mounts,
              // which the filesystem collector reads) describes the node, not the pod.
              hostPID: true,
              // Every node, whatever its taints (control plane, dedicated pools, NotReady).
              tolerations: [{ operator: "Exists" }],
              nodeSelector: { "kubernetes.io/os": "linux" },
              securityContext: restrictedPodSecurity(65534),
              containers: [
                {
                  name: "node-exporter",
                  image: imageOf(id),
                  args: nodeExporterFlags(port),
                  env: [{ name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } }],
                  // On the host's network the container port is the node's port too: the scheduler places
                  // one such pod per node and port, so another stack's exporter needs another port.
                  ports: [{ name: "metrics", containerPort: port, protocol: "TCP" }],
                  // The landing page: cheap, unlike /metrics which runs every collector.
                  readinessProbe: httpProbe("/", "metrics"),
                  livenessProbe: httpProbe("/", "metrics", { periodSeconds: 20 }),
                  resources: resourcesOf(args.resources),
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: [
                    // HostToContainer: disks mounted on the node after the pod started show up too.
                    { name: "host-root", mountPath: HOST_ROOT, readOnly: true, mountPropagation: "HostToContainer" },
                  ],
                },
              ],
              volumes: [
                // Exception: the host's root filesystem, read-only, for the filesystem,
                // disk and udev data of the node (--path.rootfs).
                { name: "host-root", hostPath: { path: "/", type: "Directory" } },
              ],
            },
          },
        },
      },
      { parent: this },
    );

    // Headless: Prometheus scrapes every node's endpoint, never a load-balanced address.
    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, args.namespace, "node-exporter"),
        spec: {
          clusterIP: "None",
          selector: selectorLabels(id),
          ports: [{ name: "metrics", port, targetPort: "metrics", protocol: "TCP" }],
        },
      },
      { parent: this },
    );

    // Host-network pods sit outside what most CNIs enforce; the policy still says who
    // may connect, and holds wherever the CNI does apply it to host-network pods.
    new k8s.networking.v1.NetworkPolicy(
      `${name}-network-policy`,
      {
        metadata: objectMeta(id, args.namespace, "node-exporter"),
        spec: ingressPolicySpec(selectorLabels(id), [
          {
            ports: [port],
            from: [
              { namespaces: { "kubernetes.io/metadata.name": args.prometheusNamespace }, pods: prometheusPodLabels(args.environment) },
            ],
          },
        ]),
      },
      { parent: this },
    );
    // It connects to nothing (not even DNS). Like its ingress, this holds only where the CNI applies
    // policies to host-network pods; it says so for the record and for those that do.
    new k8s.networking.v1.NetworkPolicy(
      `${name}-egress-policy`,
      {
        metadata: objectMeta(id, args.namespace, egressPolicyName("node-exporter")),
        spec: { podSelector: { matchLabels: selectorLabels(id) }, policyTypes: ["Egress"], egress: [] },
      },
      { parent: this },
    );

    this.scrapeTargets = [
      { job: "node-exporter", namespace: args.namespace, selector: selectorLabels(id), port: "metrics", instance: "node", hostPort: port },
    ];
    this.registerOutputs({ scrapeTargets: this.scrapeTargets });
  }
}

// ---------------------------------------------------------------------------
// kube-state-metrics

export const KSM_METRICS_PORT = 8080;
export const KSM_TELEMETRY_PORT = 8081;

/**
 * What kube-state-metrics reports, with the API group of each resource: the one list
 * both its ClusterRole and its `--resources` flag are made from, so it can neither
 * read more than it reports nor report what it may not read. Pods, workloads, jobs,
 * nodes and volumes are what the restart, readiness and volume alerts need. Secrets
 * and ConfigMaps are left out on purpose: listing them would hand it their contents.
 */
export const KSM_RESOURCES: ReadonlyArray<{ resource: string; apiGroup: string }> = [
  { resource: "namespaces", apiGroup: "" },
  { resource: "nodes", apiGroup: "" },
  { resource: "persistentvolumeclaims", apiGroup: "" },
  { resource: "persistentvolumes", apiGroup: "" },
  { resource: "pods", apiGroup: "" },
  { resource: "resourcequotas", apiGroup: "" },
  { resource: "services", apiGroup: "" },
  { resource: "daemonsets", apiGroup: "apps" },
  { resource: "deployments", apiGroup: "apps" },
  { resource: "replicasets", apiGroup: "apps" },
  { resource: "statefulsets", apiGroup: "apps" },
  { resource: "horizontalpodautoscalers", apiGroup: "autoscaling" },
  { resource: "cronjobs", apiGroup: "batch" },
  { resource: "jobs", apiGroup: "batch" },
  { resource: "poddisruptionbudgets", apiGroup: "policy" },
  { resource: "storageclasses", apiGroup: "storage.k8s.io" },
];

/** ClusterRole rules: list and watch, one rule per API group, of exactly KSM_RESOURCES. */
export function kubeStateMetricsRules(): Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> {
  const groups = [...new Set(KSM_RESOURCES.map((r) => r.apiGroup))];
  return groups.map((group) => ({
    apiGroups: [group],
    resources: KSM_RESOURCES.filter((r) => r.apiGroup === group).map((r) => r.resource),
    verbs: ["list", "watch"],
  }));
}

/** kube-state-metrics' command line. */
export function kubeStateMetricsFlags(): string[] {
  return [
    `--port=${KSM_METRICS_PORT}`,
    `--telemetry-port=${KSM_TELEMETRY_PORT}`,
    `--resources=${KSM_RESOURCES.map((r) => r.resource).join(",")}`,
  ];
}

export interface KubeStateMetricsArgs {
  /** The stack namespace. It must exist first: pass its MonitoringNamespace in `opts.dependsOn`. */
  namespace: string;
  /** The stack's environment: app.kubernetes.io/instance and the Prometheus pods' instance label. */
  environment: string;
  /** Requests and limits of the container (config kubeStateMetrics.resources). */
  resources: ResourceRequirements;
  /** Where the API server is, and further destinations (config networkPolicy). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pod. Default none. */
  priorityClassName?: string;
}

/** Where kube-state-metrics connects, besides DNS: the API server, which it lists and watches. */
export function kubeStateMetricsEgressRules(args: Pick<KubeStateMetricsArgs, "egress">): EgressRule[] {
  const egress = args.egress ?? DEFAULT_EGRESS;
  return [apiServerEgress(egress), ...extraEgressRules(egress)];
}

/**
 * kube-state-metrics: metrics about Kubernetes objects (restarts, readiness, replicas,
 * volume claims) read from the API with a read-only ClusterRole.
 *
 * One replica in every profile, production included: two replicas would export every
 * series twice, and a PodDisruptionBudget on one replica would only block node drains.
 * A restart costs a few scrapes, which the alerts' `for` windows absorb.
 */
export class KubeStateMetrics extends StackComponent {
  public readonly deployment: k8s.apps.v1.Deployment;
  public readonly service: k8s.core.v1.Service;
  public readonly clusterRole: k8s.rbac.v1.ClusterRole;
  /** One target, with honorLabels: the `namespace` and `pod` labels it reports are those of the objects it describes. */
  public readonly scrapeTargets: ScrapeTarget[];

  constructor(name: string, args: KubeStateMetricsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitoring:index:KubeStateMetrics", name, opts);
    const id: WorkloadIdentity = {
      name: "kube-state-metrics",
      component: "exporter",
      instance: args.environment,
      image: "kubeStateMetrics",
    };
    const labels = standardLabels(id);

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      // It reads the API, so its pods get a token; nothing else in the stack shares this account.
      { metadata: objectMeta(id, args.namespace, "kube-state-metrics"), automountServiceAccountToken: true },
      { parent: this },
    );

    // Cluster-scoped names carry the namespace: two stacks in one cluster must not share a role.
    const clusterName = `${args.namespace}-kube-state-metrics`;
    this.clusterRole = new k8s.rbac.v1.ClusterRole(
      `${name}-cluster-role`,
      { metadata: { name: clusterName, labels }, rules: kubeStateMetricsRules() },
      { parent: this },
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-cluster-role-binding`,
      {
        metadata: { name: clusterName, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: this.clusterRole.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: args.namespace }],
      },
      { parent: this },
    );

    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: objectMeta(id, args.namespace, "kube-state-metrics"),
        spec: {
          replicas: 1,
          selector: { matchLabels: selectorLabels(id) },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              ...podPriority(args.priorityClassName),
              // It lists and watches the API: the one pod of the exporters that needs a token.
              automountServiceAccountToken: true,
              nodeSelector: { "kubernetes.io/os": "linux" },
              securityContext: restrictedPodSecurity(65534),
              containers: [
                {
                  name: "kube-state-metrics",
                  image: imageOf(id),
                  args: kubeStateMetricsFlags(),
                  ports: [
                    { name: "http-metrics", containerPort: KSM_METRICS_PORT, protocol: "TCP" },
                    { name: "telemetry", containerPort: KSM_TELEMETRY_PORT, protocol: "TCP" },
                  ],
                  // /livez answers while the process works; /readyz once its caches are filled.
                  livenessProbe: httpProbe("/livez", "http-metrics", { initialDelaySeconds: 5, periodSeconds: 20 }),
                  readinessProbe: httpProbe("/readyz", "telemetry", { initialDelaySeconds: 5 }),
                  resources: resourcesOf(args.resources),
                  securityContext: restrictedContainerSecurity(),
                },
              ],
            },
          },
        },
      },
      { parent: this },
    );

    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, args.namespace, "kube-state-metrics"),
        spec: {
          selector: selectorLabels(id),
          ports: [
            { name: "http-metrics", port: KSM_METRICS_PORT, targetPort: "http-metrics", protocol: "TCP" },
            { name: "telemetry", port: KSM_TELEMETRY_PORT, targetPort: "telemetry", protocol: "TCP" },
          ],
        },
      },
      { parent: this },
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-network-policy`,
      {
        metadata: objectMeta(id, args.namespace, "kube-state-metrics"),
        spec: ingressPolicySpec(selectorLabels(id), [
          { ports: [KSM_METRICS_PORT, KSM_TELEMETRY_PORT], from: [{ pods: prometheusPodLabels(args.environment) }] },
        ]),
      },
      { parent: this },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-egress-policy`,
      {
        metadata: objectMeta(id, args.namespace, egressPolicyName("kube-state-metrics")),
        spec: egressPolicySpec(selectorLabels(id), kubeStateMetricsEgressRules(args)),
      },
      { parent: this },
    );

    this.scrapeTargets = [
      { job: "kube-state-metrics", namespace: args.namespace, selector: selectorLabels(id), port: "http-metrics", honorLabels: true },
    ];
    this.registerOutputs({ scrapeTargets: this.scrapeTargets });
  }
}
