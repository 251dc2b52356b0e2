/**
 * The objects that make the local cluster look like a single k3s node: the simulated
 * Nodes kwok plays the kubelet of and k3s's default StorageClass (its volumes are made on
 * demand by provisioner.ts).
 */
import { KubeObject } from "./kube";

/** Annotation kwok selects the nodes it manages by (--manage-nodes-with-annotation-selector). */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
export const KWOK_NODE_SELECTOR = `${KWOK_NODE_ANNOTATION}=fake`;

/** k3s's networks: --cluster-cidr and --service-cidr defaults. */
export const CLUSTER_CIDR = "10.42.0.0/16";
export const SERVICE_CIDR = "10.43.0.0/16";

/** k3s's default StorageClass, created by its local-storage manifest. */
export const STORAGE_CLASS = "local-path";
export const LOCAL_PATH_PROVISIONER = "rancher.io/local-path";

/** What a simulated node has: a small k3s server. */
export const NODE_CAPACITY = { cpu: "4", memory: "8Gi", pods: "110", "ephemeral-storage": "100Gi" };

export interface SimulatedNode {
  name: string;
  /** RFC 5737 documentation addresses (192.0.2.0/24): never routed, never loopback (Endpoints refuse loopback). */
  ip: string;
  server: boolean;
}

/** `k3s-server`, then `k3s-agent-1`, `k3s-agent-2`... */
export function nodeNames(count: number): SimulatedNode[] {
  if (!Number.isInteger(count) || count < 1 || count > 50) throw new Error(`nodes must be an integer from 1 to 50, got ${count}`);
  return Array.from({ length: count }, (_, i) =>
    i === 0 ? { name: "k3s-server", ip: "192.0.2.10", server: true } : { name: `k3s-agent-${i}`, ip: `192.0.2.${10 + i}`, server: false },
  );
}

/** The labels k3s puts on its nodes (plus topology labels, which k3s leaves unset without a cloud provider). */
export function nodeLabels(node: SimulatedNode): Record<string, string> {
  return {
    "kubernetes.io/hostname": node.name,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "beta.kubernetes.io/arch": "amd64",
    "node.kubernetes.io/instance-type": "k3s",
    "beta.kubernetes.io/instance-type": "k3s",
    "topology.kubernetes.io/region": "local",
    "topology.kubernetes.io/zone": "local-a",
    ...(node.server ? { "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true" } : {}),
  };
}

/**
 * A Node as a kubelet registers it, with its size and addresses in the status (the API
 * server keeps the status given on create). kwok then reports it Ready with its system
 * info (kwok-stages.ts), renews its lease and runs its pods.
 */
export function nodeObject(node: SimulatedNode): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: node.name,
      labels: nodeLabels(node),
      annotations: {
        [KWOK_NODE_ANNOTATION]: "fake",
        "k3s.io/hostname": node.name,
        "k3s.io/internal-ip": node.ip,
        "node.alpha.kubernetes.io/ttl": "0",
      },
    },
    spec: {},
    status: {
      capacity: NODE_CAPACITY,
      allocatable: NODE_CAPACITY,
      addresses: [
        { type: "InternalIP", address: node.ip },
        { type: "Hostname", address: node.name },
      ],
    },
  };
}

/** Exactly the StorageClass k3s ships (manifests/local-storage.yaml). */
export function storageClassObject(): KubeObject {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: STORAGE_CLASS, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer",
  };
}
