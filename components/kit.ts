/**
 * The shared kit: what every workload of the stack repeats, written once. Standard
 * labels, the restricted security context, requests and limits, probes, volume
 * claims. Exceptions to the restricted baseline live in the component that needs
 * them, with a comment saying why.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ANYWHERE, API_SERVER_PORTS } from "../config";
import type { EgressComponent, ExtraEgress, ResourceRequirements, StackConfig, StorageSpec } from "../config";
import { ImageName, imageVersion, images } from "./images";

type Input<T> = pulumi.Input<T>;

/** The type token of a component of the stack: `monitoring:index:<Class>`. */
export type ComponentType = `monitoring:index:${string}`;

/**
 * The base of every component of the stack: what Pulumi records of a component is decided here,
 * once. The SDK sends a ComponentResource's constructor args to the engine, which keeps them in
 * the state as the component's inputs, in plain text unless each value is a Pulumi secret; and
 * the args of this stack's components are resolved config: webhook URLs, passwords, DSNs. So a
 * component records no args at all, whatever its args hold: its children's inputs, which
 * the providers need, are where the state keeps the config, with the secrets as secrets.
 * test/architecture.test.ts keeps every component on this base; test/sealed.test.ts sweeps
 * every recorded input for secret values.
 */
export abstract class StackComponent extends pulumi.ComponentResource {
  constructor(type: ComponentType, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
  }
}

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
  /**
   * The port on the node's own address, for a target on the host's network (node-exporter):
   * Prometheus reaches it at the nodes' addresses, which its egress policy opens on this port.
   */
  hostPort?: number;
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

// ---------------------------------------------------------------------------
// Egress: where a workload's pods may open connections

/**
 * A NetworkPolicy cannot name a host (a webhook's, an SMTP server's, Cloudflare's edge): a
 * destination outside the cluster is any address (ANYWHERE, from config) on its port, and the
 * port is what narrows it.
 */
export { ANYWHERE };

/** The port the kubelet serves its metrics (and cAdvisor's) on, on every node's address. */
export const KUBELET_PORT = 10250;

/** A port a workload connects to; TCP unless said otherwise. */
export type EgressPort = number | { port: number; protocol: "TCP" | "UDP" };

/** Where a workload may connect to. */
export type EgressPeer =
  /** Pods of the workload's own namespace with these labels. */
  | { pods: Record<string, string> }
  /** Pods of the namespaces with these labels (and these labels, when given). */
  | { namespaces: Record<string, string>; pods?: Record<string, string> }
  /** Every pod of every namespace. */
  | { anyNamespace: true }
  /** Addresses: outside the cluster, the nodes, the API server. */
  | { cidrs: readonly string[] };

/** One egress rule: these ports (none: every port) of these peers (none: anywhere). */
export interface EgressRule {
  ports?: EgressPort[];
  to?: EgressPeer[];
}

/**
 * The cluster's DNS, on port 53 over UDP and TCP, wherever it answers: CoreDNS pods
 * (kube-system's kube-dns Service), NodeLocal DNSCache on a link-local address of the node,
 * or a resolver of the host. Which one a cluster runs is not the stack's to know, so the
 * port alone narrows it. Every workload's policy starts with it (egressPolicySpec).
 */
export const DNS_EGRESS: EgressRule = {
  ports: [
    { port: 53, protocol: "UDP" },
    { port: 53, protocol: "TCP" },
  ],
};

/** These ports at any address and of any pod: a destination outside the cluster, or one config names by a host. */
export function anywhereOn(ports: EgressPort[]): EgressRule {
  // Both: ipBlock alone does not reach pods with every CNI (Cilium counts pods as the cluster, not the world).
  return { ports, to: [{ cidrs: ANYWHERE }, { anyNamespace: true }] };
}

/**
 * What a workload's egress policy takes from the cluster's layout (config networkPolicy):
 * where the API server and the nodes are, and the destinations a team adds.
 */
export interface EgressSettings {
  /**
   * The API server as a pod reaches it: the `kubernetes` Service (443) is rewritten by
   * kube-proxy to an endpoint before the policy sees it, the node's (or the control plane's)
   * address on the API server's own port (6443 on k3s). Both ports, by default at any address.
   */
  apiServer: { cidrs: string[]; ports: number[] };
  /** The nodes' addresses: where Prometheus reaches the kubelets and host-network exporters. Default ANYWHERE. */
  nodeCidrs: string[];
  /** Further destinations of this workload. Default none. */
  extra: ExtraEgress[];
}

/** The egress settings of a stack that says nothing (config networkPolicy's defaults). */
export const DEFAULT_EGRESS: EgressSettings = {
  apiServer: { cidrs: [...ANYWHERE], ports: [...API_SERVER_PORTS] },
  nodeCidrs: [...ANYWHERE],
  extra: [],
};

/** A workload's egress settings from the stack config (networkPolicy). */
export function egressSettings(cfg: Pick<StackConfig, "networkPolicy">, component: EgressComponent): EgressSettings {
  const np = cfg.networkPolicy;
  return { apiServer: { cidrs: np.apiServerCidrs, ports: np.apiServerPorts }, nodeCidrs: np.nodeCidrs, extra: np.extraEgress[component] };
}

/** The API server, for workloads that watch it (discovery, kube-state-metrics, the log collector). */
export function apiServerEgress(settings: EgressSettings): EgressRule {
  return { ports: settings.apiServer.ports, to: [{ cidrs: settings.apiServer.cidrs }] };
}

/** A team's further destinations, as rules. */
export function extraEgressRules(settings: EgressSettings): EgressRule[] {
  return settings.extra.map((e) => (e.cidrs ? { ports: e.ports, to: [{ cidrs: e.cidrs }] } : anywhereOn(e.ports)));
}

/** The port a URL connects to: its own, or its scheme's (80, 443). */
export function urlPort(url: string): number {
  const u = new URL(url);
  if (u.port !== "") return Number(u.port);
  return u.protocol === "https:" ? 443 : 80;
}

/** The port of a `host:port` address (`[::1]:25` included). */
export function addressPort(address: string): number {
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${address}" is not host:port`);
  return port;
}

/** Each port once, in order: a rule that lists a port twice reads as a mistake. */
export function uniquePorts(ports: number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** A peer as the API writes it: one ipBlock per CIDR, since a NetworkPolicyPeer holds one. */
function egressPeers(peer: EgressPeer): k8s.types.input.networking.v1.NetworkPolicyPeer[] {
  if ("cidrs" in peer) return peer.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  if ("anyNamespace" in peer) return [{ namespaceSelector: {} }];
  if ("namespaces" in peer) {
    return [{ namespaceSelector: { matchLabels: peer.namespaces }, ...(peer.pods ? { podSelector: { matchLabels: peer.pods } } : {}) }];
  }
  return [{ podSelector: { matchLabels: peer.pods } }];
}

/**
 * A NetworkPolicy that lets a workload's pods open connections to DNS (DNS_EGRESS) and to
 * what the rules name, nothing else; the namespace denies all other egress by default
 * (MonitoringNamespace). Loopback (a sidecar reloading its neighbour on 127.0.0.1) is never
 * filtered.
 */
export function egressPolicySpec(
  podSelector: Record<string, string>,
  rules: EgressRule[],
): k8s.types.input.networking.v1.NetworkPolicySpec {
  return {
    podSelector: { matchLabels: podSelector },
    policyTypes: ["Egress"],
    egress: [DNS_EGRESS, ...rules].map((rule) => ({
      ...(rule.ports ? { ports: rule.ports.map((p) => (typeof p === "number" ? { protocol: "TCP", port: p } : p)) } : {}),
      ...(rule.to ? { to: rule.to.flatMap(egressPeers) } : {}),
    })),
  };
}

/** The name of a workload's egress policy: `<workload>-egress`, beside its ingress policy `<workload>`. */
export function egressPolicyName(workload: string): string {
  return `${workload}-egress`;
}

// ---------------------------------------------------------------------------
// Priority

/**
 * The stack's PriorityClass: cluster-scoped, so named after the stack's namespace, which
 * is the stack's own on a shared cluster (staging and production side by side).
 */
export function stackPriorityClassName(namespace: string): string {
  return `${namespace}-priority`;
}

/** The PriorityClass the stack's pods get from the stack config (priorityClass), if any. */
export function stackPriorityClass(cfg: Pick<StackConfig, "namespace" | "priorityClass">): string | undefined {
  return cfg.priorityClass.enabled ? stackPriorityClassName(cfg.namespace) : undefined;
}

/** `priorityClassName` on a pod spec when the stack has a class; nothing otherwise. */
export function podPriority(priorityClassName: string | undefined): { priorityClassName?: string } {
  return priorityClassName ? { priorityClassName } : {};
}

// ---------------------------------------------------------------------------
// Published paths and security headers

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
