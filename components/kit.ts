/**
 * The shared kit: what every workload of the stack repeats, written once. Standard
 * labels, the restricted security context, requests and limits, probes, volume
 * claims. Exceptions to the restricted baseline live in the component that needs
 * them, with a comment saying why.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceRequirements, StorageSpec } from "./config";
import { ImageName, imageVersion, images } from "./images";

type Input<T> = pulumi.Input<T>;

/** The part-of label every object of the stack carries. */
export const PART_OF = "monitoring-stack";

/** Who a workload is: the values of its app.kubernetes.io labels. */
export interface WorkloadIdentity {
  /** app.kubernetes.io/name, e.g. "prometheus". */
  name: string;
  /** app.kubernetes.io/component, e.g. "metrics-server", "alerting". */
  component: string;
  /** app.kubernetes.io/instance: the stack's environment. */
  instance: string;
  /** The image the workload runs; its tag is app.kubernetes.io/version. */
  image: ImageName;
}

/** Labels that select a workload's pods: stable across upgrades (no version). */
export function selectorLabels(id: WorkloadIdentity): Record<string, string> {
  return {
    "app.kubernetes.io/name": id.name,
    "app.kubernetes.io/instance": id.instance,
    "app.kubernetes.io/component": id.component,
    "app.kubernetes.io/part-of": PART_OF,
  };
}

/** All standard labels of a workload's objects, version included. */
export function standardLabels(id: WorkloadIdentity): Record<string, string> {
  return {
    ...selectorLabels(id),
    "app.kubernetes.io/version": imageVersion(id.image),
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** Labels for objects that belong to the stack but to no single workload. */
export function stackLabels(instance: string): Record<string, string> {
  return {
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** Metadata of an object owned by a workload. */
export function objectMeta(
  id: WorkloadIdentity,
  namespace: Input<string>,
  name: string,
  extra: { annotations?: Record<string, Input<string>>; labels?: Record<string, string> } = {},
): k8s.types.input.meta.v1.ObjectMeta {
  return {
    name,
    namespace,
    labels: { ...standardLabels(id), ...extra.labels },
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  };
}

/** The image reference of a workload. */
export function imageOf(id: WorkloadIdentity): string {
  return images[id.image];
}

/**
 * Pod-level security of the restricted Pod Security Standard: non-root with a
 * fixed uid, the runtime's default seccomp profile, volumes owned by the group.
 */
export function restrictedPodSecurity(uid = 65534): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level security of the restricted standard: read-only root, no privilege, no capabilities. */
export function restrictedContainerSecurity(): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
  };
}

/** Requests and limits from config. */
export function resourcesOf(r: ResourceRequirements): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: r.requests.cpu, memory: r.requests.memory },
    limits: { ...(r.limits.cpu ? { cpu: r.limits.cpu } : {}), memory: r.limits.memory },
  };
}

/** An HTTP GET probe on a named port. */
export function httpProbe(
  path: string,
  port: string | number,
  timing: { initialDelaySeconds?: number; periodSeconds?: number; failureThreshold?: number; timeoutSeconds?: number } = {},
  scheme: "HTTP" | "HTTPS" = "HTTP",
): k8s.types.input.core.v1.Probe {
  return {
    httpGet: { path, port, scheme },
    initialDelaySeconds: timing.initialDelaySeconds ?? 0,
    periodSeconds: timing.periodSeconds ?? 10,
    timeoutSeconds: timing.timeoutSeconds ?? 5,
    failureThreshold: timing.failureThreshold ?? 3,
  };
}

/** A data claim's spec: one pod at a time, the storage's class, the given size. */
function claimSpec(storage: StorageSpec, size: string): k8s.types.input.core.v1.PersistentVolumeClaimSpec {
  return {
    accessModes: ["ReadWriteOnce"],
    ...(storage.storageClass ? { storageClassName: storage.storageClass } : {}),
    resources: { requests: { storage: size } },
  };
}

/**
 * A StatefulSet volume claim template from a storage spec. Its size is `templateSize` when
 * set: the template is immutable (a change replaces the StatefulSet), so it keeps the size
 * the claims had when the StatefulSet was created while an expansion grows the claims.
 */
export function volumeClaimTemplate(
  id: WorkloadIdentity,
  name: string,
  storage: StorageSpec,
): k8s.types.input.core.v1.PersistentVolumeClaim {
  return { metadata: { name, labels: selectorLabels(id) }, spec: claimSpec(storage, storage.templateSize ?? storage.size) };
}

/** The name the StatefulSet controller gives a replica's claim: `<template>-<statefulSet>-<ordinal>`. */
export function statefulSetClaimName(template: string, statefulSet: string, ordinal: number): string {
  return `${template}-${statefulSet}-${ordinal}`;
}

/**
 * Annotations of a data claim. Pulumi otherwise waits for a new claim to be Bound, which
 * never happens before a pod uses it when the StorageClass binds on first consumer
 * (local-path, most CSI drivers) and Pulumi cannot look the class up (no storageClassName:
 * the cluster default): the workload, which depends on its claim, would never start.
 */
export const DATA_CLAIM_ANNOTATIONS: Record<string, string> = { "pulumi.com/skipAwait": "true" };

/**
 * What the StatefulSet controller does with the claims of its volumeClaimTemplates: never
 * delete them, neither with the StatefulSet nor when it scales down. The claims are
 * Pulumi resources (statefulSetClaims), so Pulumi alone decides when they go: with
 * `Delete`, the controller would put owner references on them and the garbage collector
 * would delete Pulumi's claims, data included, whenever the StatefulSet is replaced
 * (a change of its immutable fields, such as the claim template's size).
 */
export function claimRetentionPolicy(): k8s.types.input.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy {
  return { whenDeleted: "Retain", whenScaled: "Retain" };
}

/**
 * A StatefulSet's data claims as Pulumi resources: for each replica, exactly the claim the
 * controller would make from the `template` claim template (its name from
 * statefulSetClaimName, the template's labels, size and class), so that the controller
 * finds it and uses it instead of making its own. Pass them to the StatefulSet's
 * `dependsOn`. The StatefulSet keeps its volumeClaimTemplates: they are how each replica's
 * pod mounts its own claim (a pod template cannot name a per-replica claim), and a replica
 * added outside Pulumi (kubectl scale) still gets one.
 *
 * Resources are named `<name>-<ordinal>`: the ordinal is the replica's stable identity.
 * Protected and kept in the cluster when removed (volumeOptions) when `protect`. The claims
 * request `storage.size`, which may exceed the template's `templateSize` after an expansion.
 */
export function statefulSetClaims(
  name: string,
  args: { id: WorkloadIdentity; namespace: Input<string>; statefulSet: string; replicas: number; storage: StorageSpec; protect: boolean },
  parent: pulumi.Resource,
  template = "data",
): k8s.core.v1.PersistentVolumeClaim[] {
  const { metadata } = volumeClaimTemplate(args.id, template, args.storage);
  const spec = claimSpec(args.storage, args.storage.size);
  return Array.from(
    { length: args.replicas },
    (_, ordinal) =>
      new k8s.core.v1.PersistentVolumeClaim(
        `${name}-${ordinal}`,
        {
          metadata: {
            ...metadata,
            name: statefulSetClaimName(template, args.statefulSet, ordinal),
            namespace: args.namespace,
            annotations: DATA_CLAIM_ANNOTATIONS,
          },
          spec,
        },
        { parent, ...volumeOptions(args.protect) },
      ),
  );
}

/** An emptyDir for scratch space (/tmp) under a read-only root filesystem. */
export function scratchVolume(name = "tmp", sizeLimit = "64Mi"): k8s.types.input.core.v1.Volume {
  return { name, emptyDir: { sizeLimit } };
}

/**
 * Each replica of a workload on a node of its own: required anti-affinity. For workloads
 * with more than one replica, which config never allows to outnumber the nodes (`nodes`).
 *
 * Required, not preferred: replicas that share a node gain no availability, and a drain of
 * that node (k3s upgrades drain) hangs on their disruption budget once the first one evicted
 * cannot start again elsewhere, as a replica whose volume lives on that node (local-path)
 * never can. With one replica per node, a drain evicts one replica of each workload, which
 * the budget allows, and a replica that cannot be placed stays Pending where it shows.
 */
export function spreadAcrossNodes(id: WorkloadIdentity): k8s.types.input.core.v1.Affinity {
  return {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selectorLabels(id) } },
      ],
    },
  };
}

/**
 * The rollout of a stateless Deployment: with one replica, the new pod first (maxSurge 1),
 * so that it never goes to zero; with several, each on a node of its own (spreadAcrossNodes)
 * and as many as the nodes, a surge pod would have no node to go to and the rollout would
 * wait forever: one old pod goes first, the others keep serving.
 */
export function rolloutStrategy(replicas: number): k8s.types.input.apps.v1.DeploymentStrategy {
  return replicas > 1
    ? { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }
    : { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
}

/**
 * Resource options for what holds data (volume claims, the namespace they live in) in a
 * stack that keeps its data (config protectVolumes): `protect`, so that Pulumi refuses to
 * delete or replace them (destroy stops at them), and `retainOnDelete`, so that once
 * unprotected, removing them from the stack leaves them, and the data, in the cluster.
 */
export function volumeOptions(protect: boolean): pulumi.CustomResourceOptions {
  return protect ? { protect: true, retainOnDelete: true } : {};
}

/** Who may open connections to a workload. */
export type IngressPeer =
  { pods: Record<string, string> } | { namespaces: Record<string, string>; pods?: Record<string, string> } | { anyNamespace: true };

/**
 * A NetworkPolicy that admits the given peers to the given ports of a workload's
 * pods; the namespace denies everything else by default (MonitoringNamespace).
 */
export function ingressPolicySpec(
  podSelector: Record<string, string>,
  rules: Array<{ ports: Array<number | string>; from: IngressPeer[] }>,
): k8s.types.input.networking.v1.NetworkPolicySpec {
  return {
    podSelector: { matchLabels: podSelector },
    policyTypes: ["Ingress"],
    ingress: rules.map((rule) => ({
      ports: rule.ports.map((port) => ({ protocol: "TCP", port })),
      from: rule.from.map((peer) => {
        if ("anyNamespace" in peer) return { namespaceSelector: {} };
        if ("namespaces" in peer) {
          return {
            namespaceSelector: { matchLabels: peer.namespaces },
            ...(peer.pods ? { podSelector: { matchLabels: peer.pods } } : {}),
          };
        }
        return { podSelector: { matchLabels: peer.pods } };
      }),
    })),
  };
}

/**
 * How Prometheus finds a component's metrics: Kubernetes endpoints discovery of the
 * Service that carries `selector` labels in `namespace`, on the named port. Every
 * component exposes its targets as plain data; MonitoringStack hands them all to
 * Prometheus, so a new component is scraped without editing prometheus.ts.
 */
export interface ScrapeTarget {
  /** The `job` label, e.g. "node-exporter". */
  job: string;
  namespace: string;
  /** Labels of the Service to scrape (its workload's selectorLabels). */
  selector: Record<string, string>;
  /** Name of the Service port that serves metrics. */
  port: string;
  /** Default /metrics. */
  path?: string;
  /** Default http. */
  scheme?: "http" | "https";
  /** Extra static labels on every series of the job, e.g. { database: "shop-postgres" }. */
  labels?: Record<string, string>;
  /** Default: the global scrape interval. */
  interval?: string;
  /**
   * Keep the labels the target exposes when they clash with target labels. For
   * exporters that describe other objects (kube-state-metrics reports `namespace`
   * and `pod` of the pods it watches), so that their labels win.
   */
  honorLabels?: boolean;
  /** What `instance` names: the node the pod runs on (node agents) or the pod. Default: the pod. */
  instance?: "node" | "pod";
}

/**
 * A PodDisruptionBudget that lets voluntary disruptions (node drains, upgrades) take
 * one replica of a workload at a time. Only for workloads with more than one replica, each
 * on a node of its own (spreadAcrossNodes): a drain then evicts one of them, which the budget
 * allows. On a single replica, or on replicas that share a node, it would block the drain.
 */
export function oneAtATimeDisruptionBudget(
  name: string,
  id: WorkloadIdentity,
  namespace: Input<string>,
  objectName: string,
  opts: pulumi.CustomResourceOptions,
): k8s.policy.v1.PodDisruptionBudget {
  return new k8s.policy.v1.PodDisruptionBudget(
    name,
    { metadata: objectMeta(id, namespace, objectName), spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(id) } } },
    opts,
  );
}

/**
 * The in-cluster ports of the stack's Services that other components and the
 * exposing proxies reach (Service `<name>`, port `http`). One table: the datasources,
 * the routes, the tunnel and the components themselves read it.
 */
export const SERVICE_PORTS = { grafana: 3000, prometheus: 9090, alertmanager: 9093, loki: 3100 } as const;

/** `http://<service>.<namespace>.svc:<port>`: how pods of the cluster reach a Service. */
export function serviceUrl(service: string, namespace: string, port: number): string {
  return `http://${service}.${namespace}.svc:${port}`;
}

/** The pods of one workload of a stack, by its name and instance labels: who may connect. */
export function stackPods(app: string, environment: string): Record<string, string> {
  return { "app.kubernetes.io/name": app, "app.kubernetes.io/instance": environment };
}

/** The labels of a stack's Prometheus pods: who may scrape. */
export function prometheusPodLabels(environment: string): Record<string, string> {
  return { ...stackPods("prometheus", environment), "app.kubernetes.io/part-of": PART_OF };
}

/** Traefik's pods, where k3s installs it (kube-system): admitted to what Traefik publishes. */
export const TRAEFIK_PODS: IngressPeer = {
  namespaces: { "kubernetes.io/metadata.name": "kube-system" },
  pods: { "app.kubernetes.io/name": "traefik" },
};

/**
 * Paths of a published service that neither Traefik nor the tunnel routes to it. Grafana
 * serves its own metrics at /metrics, and its plugins' at /metrics/plugins/<id>, to anyone:
 * Prometheus scrapes them inside the cluster, and nobody outside needs them.
 */
export const UNPUBLISHED_PATH_PREFIXES: Partial<Record<keyof typeof SERVICE_PORTS, readonly string[]>> = { grafana: ["/metrics"] };

/** HSTS lifetime of every published UI: a year. */
export const HSTS_MAX_AGE_SECONDS = 31536000;

/**
 * The response headers every published UI gets, whichever path a request takes: Traefik's
 * security-headers Middleware sets them on its routes, and the services set them themselves
 * for the tunnel, which has no such middleware (Grafana in grafana.ini, Prometheus and
 * Alertmanager in their web config). HSTS with subdomains and no preload (a commitment only
 * the domain's owner can make), no MIME sniffing, no framing, and a referrer that never
 * carries a path to another site.
 */
export const SECURITY_HEADERS = {
  "Strict-Transport-Security": `max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains`,
  "X-Content-Type-Options": "nosniff",
  // Lower case: the one spelling Prometheus' web config accepts; browsers ignore the case.
  "X-Frame-Options": "deny",
  "Referrer-Policy": "strict-origin-when-cross-origin",
} as const;

/** Name of the web config file of Prometheus and Alertmanager (`--web.config.file`), beside their config. */
export const WEB_CONFIG_FILE = "web-config.yaml";

/**
 * The web config (`--web.config.file`) Prometheus and Alertmanager read on every request, with
 * the security headers they can set. Their web server (prometheus/exporter-toolkit, the same
 * list in the releases deployed) accepts only Strict-Transport-Security, X-Content-Type-Options,
 * X-Frame-Options, X-XSS-Protection and Content-Security-Policy: Referrer-Policy is the one it
 * cannot send. Browsers apply strict-origin-when-cross-origin, its value here, when a response
 * names none.
 */
export function webConfig(): { http_server_config: { headers: Record<string, string> } } {
  const headers = Object.fromEntries(Object.entries(SECURITY_HEADERS).filter(([name]) => name !== "Referrer-Policy"));
  return { http_server_config: { headers } };
}
