/** NetworkPolicies: who may open connections to a workload (ingress), and where its pods may connect to (egress). */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WorkloadIdentity, objectMeta, selectorLabels } from "./labels";
import { programmingError } from "./problems";

/** The workloads whose egress a team may widen (networkPolicy.extraEgress.<component>). */
export const EGRESS_COMPONENTS = [
  "prometheus",
  "alertmanager",
  "grafana",
  "loki",
  "logCollector",
  "kubeStateMetrics",
  "blackboxExporter",
  "databaseExporters",
  "cloudflared",
] as const;
export type EgressComponent = (typeof EGRESS_COMPONENTS)[number];

/**
 * Every address, IPv4 and IPv6: where a NetworkPolicy sends what it cannot name (a host outside the cluster).
 * A NetworkPolicy cannot name a host (a webhook's, an SMTP server's, Cloudflare's edge): a
 * destination outside the cluster is any address on its port, and the port is what narrows it.
 */
export const ANYWHERE: readonly string[] = ["0.0.0.0/0", "::/0"];
/**
 * The API server's ports as a pod meets them: the `kubernetes` Service's 443, and the API
 * server's own port (6443 on k3s and kubeadm), which is what a policy sees after kube-proxy's DNAT.
 */
export const API_SERVER_PORTS: readonly number[] = [443, 6443];

/** A destination a team adds to a workload's egress policy (networkPolicy.extraEgress.<component>[]). */
export interface ExtraEgress {
  /** TCP ports. */
  ports: number[];
  /** Where; default any address (0.0.0.0/0, ::/0) and any pod. */
  cidrs?: string[];
}

/** Who may open connections to a workload. */
export type IngressPeer =
  { pods: Record<string, string> } | { namespaces: Record<string, string>; pods?: Record<string, string> } | { anyNamespace: true };

/** Peers admitted to ports of a workload's pods. */
export interface IngressRule {
  ports: Array<number | string>;
  from: IngressPeer[];
}

/**
 * A NetworkPolicy that admits the given peers to the given ports of a workload's
 * pods; the namespace denies everything else by default (MonitoringNamespace).
 */
export function ingressPolicySpec(
  podSelector: Record<string, string>,
  rules: IngressRule[],
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

/** Traefik's pods, where k3s installs it (kube-system): admitted to what Traefik publishes. */
export const TRAEFIK_PODS: IngressPeer = {
  namespaces: { "kubernetes.io/metadata.name": "kube-system" },
  pods: { "app.kubernetes.io/name": "traefik" },
};

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
  if (!Number.isInteger(port) || port < 1 || port > 65535) programmingError(`"${address}" is not host:port`);
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

type PolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/**
 * The pair of NetworkPolicies every workload of the stack has: who may open connections to its pods
 * (named `<workload>`, Pulumi name `<resource>-network-policy`) and where they may connect (named
 * `egressPolicyName(<workload>)`, Pulumi name `<resource>-egress-policy`), both selecting the
 * workload's pods. Each side takes rules (ingressPolicySpec, egressPolicySpec: DNS always allowed)
 * or, where a workload needs another shape, a whole spec.
 */
export function workloadPolicies(
  resource: string,
  workload: { id: WorkloadIdentity; namespace: pulumi.Input<string>; name: string },
  sides: { ingress: IngressRule[] | PolicySpec; egress: EgressRule[] | PolicySpec },
  opts: pulumi.CustomResourceOptions,
): void {
  const { id, namespace, name } = workload;
  const selector = selectorLabels(id);
  new k8s.networking.v1.NetworkPolicy(
    `${resource}-network-policy`,
    {
      metadata: objectMeta(id, namespace, name),
      spec: Array.isArray(sides.ingress) ? ingressPolicySpec(selector, sides.ingress) : sides.ingress,
    },
    opts,
  );
  new k8s.networking.v1.NetworkPolicy(
    `${resource}-egress-policy`,
    {
      metadata: objectMeta(id, namespace, egressPolicyName(name)),
      spec: Array.isArray(sides.egress) ? egressPolicySpec(selector, sides.egress) : sides.egress,
    },
    opts,
  );
}
