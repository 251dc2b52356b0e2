/** kube-state-metrics: one Deployment with read-only RBAC on exactly the objects it reports. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ScrapeTarget } from "../kit/services";
import { PART_OF, WorkloadIdentity, imageOf, objectMeta, selectorLabels, standardLabels, prometheusPodLabels } from "../kit/labels";
import { httpProbe, resourcesOf, restrictedContainerSecurity, restrictedPodSecurity } from "../kit/pods";
import {
  apiServerEgress,
  DEFAULT_EGRESS,
  EgressRule,
  EgressSettings,
  extraEgressRules,
  IngressPeer,
  workloadPolicies,
} from "../kit/network";
import { StackComponent } from "../kit/component";
import { podPriority } from "../kit/priority";
import type { KubeStateMetricsSection } from "./kube-state-metrics-section";
import { JOB } from "../kit/stack-jobs";

/** The name of its Deployment and container (what a stack that scrapes it reads: preflight/shared-kube-state-metrics.ts). */
export const KUBE_STATE_METRICS_NAME = "kube-state-metrics";
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

/**
 * kube-state-metrics' command line; with `namespaces`, the namespaced objects of those namespaces only
 * (`--namespaces`: it lists and watches each apart). Nodes, volumes, StorageClasses and namespaces,
 * which belong to no namespace, are reported whatever it is given.
 */
export function kubeStateMetricsFlags(namespaces?: readonly string[], customResourceState?: string): string[] {
  return [
    `--port=${KSM_METRICS_PORT}`,
    `--telemetry-port=${KSM_TELEMETRY_PORT}`,
    `--resources=${KSM_RESOURCES.map((r) => r.resource).join(",")}`,
    ...(namespaces ? [`--namespaces=${namespaces.join(",")}`] : []),
    ...(customResourceState !== undefined ? [`--custom-resource-state-config=${customResourceState}`] : []),
  ];
}

/** The section's resources (kube-state-metrics-section.ts), and what the stack wires in: what it reports, for whom. */
export interface KubeStateMetricsArgs extends Pick<KubeStateMetricsSection, "resources"> {
  /** The stack namespace. It must exist first: pass its MonitoringNamespace in `opts.dependsOn`. */
  namespace: string;
  /** The stack's environment: app.kubernetes.io/instance and the Prometheus pods' instance label. */
  environment: string;
  /** The namespaces whose objects it reports (config watch); the cluster-scoped ones always. Default: every namespace. */
  namespaces?: string[];
  /**
   * The namespaces of other stacks on the cluster whose Prometheus scrape it (config
   * kubeStateMetrics.shareWith): its metrics port admits their Prometheus pods. Default none.
   */
  sharedWith?: string[];
  /**
   * With `sharedWith`: the namespaces this stack watches, whose series (and those of no namespace:
   * nodes, volumes) its own Prometheus keeps of everything the shared one reports. Default: every series.
   */
  keepNamespaces?: string[];
  /** Where the API server is, and further destinations (config networkPolicy). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pod. Default none. */
  priorityClassName?: string;
  /**
   * Metrics of custom resources (`--custom-resource-state-config`, inline): the config's YAML and the
   * resources it reads (list and watch, added to the ClusterRole). Default none.
   */
  customResourceState?: { config: string; reads: Array<{ apiGroup: string; resource: string }> };
}

/** The Prometheus pods of the stack in `namespace`, which scrape a kube-state-metrics shared with it. */
function sharingPrometheus(namespace: string): IngressPeer {
  return {
    namespaces: { "kubernetes.io/metadata.name": namespace },
    pods: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/part-of": PART_OF },
  };
}

/**
 * The scrape target of a kube-state-metrics another stack runs and shares with this one (config
 * kubeStateMetrics.sharedFrom): the one in that namespace, whatever its environment, keeping the
 * series of this stack's namespaces (`keep`).
 */
export function sharedKubeStateMetricsTarget(namespace: string, keep: string[] | undefined): ScrapeTarget {
  const selector = {
    "app.kubernetes.io/name": "kube-state-metrics",
    "app.kubernetes.io/component": "exporter",
    "app.kubernetes.io/part-of": PART_OF,
  };
  return {
    job: JOB.kubeStateMetrics,
    namespace,
    selector,
    port: "http-metrics",
    honorLabels: true,
    ...(keep ? { keepNamespaces: keep } : {}),
  };
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
      {
        metadata: { name: clusterName, labels },
        rules: [
          ...kubeStateMetricsRules(),
          ...(args.customResourceState?.reads ?? []).map((r) => ({
            apiGroups: [r.apiGroup],
            resources: [r.resource],
            verbs: ["list", "watch"],
          })),
        ],
      },
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
        metadata: objectMeta(id, args.namespace, KUBE_STATE_METRICS_NAME),
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
                  name: KUBE_STATE_METRICS_NAME,
                  image: imageOf(id),
                  args: kubeStateMetricsFlags(args.namespaces, args.customResourceState?.config),
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
        metadata: objectMeta(id, args.namespace, KUBE_STATE_METRICS_NAME),
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

    workloadPolicies(
      name,
      { id, namespace: args.namespace, name: KUBE_STATE_METRICS_NAME },
      {
        ingress: [
          { ports: [KSM_METRICS_PORT, KSM_TELEMETRY_PORT], from: [{ pods: prometheusPodLabels(args.environment) }] },
          // The stacks that scrape it instead of running their own: their Prometheus, on the metrics port.
          ...((args.sharedWith ?? []).length > 0
            ? [{ ports: [KSM_METRICS_PORT], from: (args.sharedWith ?? []).map((ns) => sharingPrometheus(ns)) }]
            : []),
        ],
        egress: kubeStateMetricsEgressRules(args),
      },
      { parent: this },
    );

    this.scrapeTargets = [
      {
        job: JOB.kubeStateMetrics,
        namespace: args.namespace,
        selector: selectorLabels(id),
        port: "http-metrics",
        honorLabels: true,
        // Shared, it reports other stacks' namespaces too: this stack keeps its own, and the cluster's ("").
        ...(args.keepNamespaces && (args.sharedWith ?? []).length > 0 ? { keepNamespaces: [...args.keepNamespaces, ""] } : {}),
      },
    ];
    this.registerOutputs({ scrapeTargets: this.scrapeTargets });
  }
}
