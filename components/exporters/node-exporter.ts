/** node-exporter on every node: a DaemonSet in the agents namespace, with the host access it needs and nothing more. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { bcryptHashFor } from "../kit/basic-auth";
import { saltFor } from "../kit/salt";
import { NO_EXPIRY, selfSignedEd25519 } from "../kit/self-signed";
import { WEB_CONFIG_FILE } from "../kit/web";
import { ScrapeTarget } from "../kit/services";
import { WorkloadIdentity, imageOf, objectMeta, selectorLabels, standardLabels, prometheusPodLabels } from "../kit/labels";
import { resourcesOf, restrictedContainerSecurity, restrictedPodSecurity } from "../kit/pods";
import { workloadPolicies } from "../kit/network";
import { StackComponent } from "../kit/component";
import { podPriority } from "../kit/priority";
import type { NodeExporterSettings } from "./node-exporter-section";
import { JOB } from "../kit/stack-jobs";

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

/**
 * Where the container finds its web config (`--web.config.file`), its certificate and its key:
 * the keys of its Secret, mounted as one directory.
 */
export const NODE_EXPORTER_WEB = { dir: "/etc/node-exporter", config: WEB_CONFIG_FILE, cert: "tls.crt", key: "tls.key" } as const;

/** The one basic-auth user of node-exporter: the stack's Prometheus. */
export const NODE_EXPORTER_USER = "prometheus";

/** The uses of the stack's salt that node-exporter's password, bcrypt salt and TLS key are derived under (kit's saltFor). */
const SALT_USES = {
  password: "monitoring-stack/node-exporter/password/v1",
  hash: `monitoring-stack/node-exporter/basic-auth/v1:${NODE_EXPORTER_USER}`,
  key: "monitoring-stack/node-exporter/tls-key/v1",
} as const;

/** The certificate's notBefore: fixed, so that the certificate is the same on every `up`; it has no expiry (kit's NO_EXPIRY). */
export const NODE_EXPORTER_CERT_NOT_BEFORE = new Date(Date.UTC(2026, 0, 1));

/** The DNS name node-exporter's certificate carries, which Prometheus checks (tls_config.server_name): its Service's name. */
export function nodeExporterServerName(namespace: string): string {
  return `node-exporter.${namespace}.svc`;
}

/** What node-exporter and Prometheus share: the password, its bcrypt hash, the certificate and its key. */
export interface NodeExporterCredentials {
  password: string;
  hash: string;
  certPem: string;
  keyPem: string;
}

/**
 * node-exporter's credentials, derived from the stack's salt (preflight/stack-salt.ts: 32 random
 * bytes drawn on the first deployment and kept as a secret stack output): the same on every `up`,
 * another in every stack, without a `random` provider (which the cluster tier cannot run). The
 * password is saltFor's key for its use, base64url (43 characters); the TLS key is the Ed25519 key
 * whose seed is saltFor's key for its own use, and the certificate is self-signed (kit's self-signed.ts).
 */
export function nodeExporterCredentials(stackSalt: Buffer, namespace: string): NodeExporterCredentials {
  const password = saltFor(stackSalt, SALT_USES.password).toString("base64url");
  const { certPem, keyPem } = selfSignedEd25519(saltFor(stackSalt, SALT_USES.key), {
    commonName: "node-exporter",
    dnsNames: [nodeExporterServerName(namespace)],
    notBefore: NODE_EXPORTER_CERT_NOT_BEFORE,
    notAfter: NO_EXPIRY,
  });
  return { password, hash: bcryptHashFor(password, stackSalt, SALT_USES.hash), certPem, keyPem };
}

/**
 * node-exporter's web config (exporter-toolkit's `--web.config.file`): TLS 1.3 with the certificate
 * and key beside it in `dir`, and basic auth of NODE_EXPORTER_USER with the password's bcrypt hash,
 * on every path (the landing page too).
 */
export function nodeExporterWebConfig(hash: string, dir: string = NODE_EXPORTER_WEB.dir): string {
  return YAML.stringify({
    tls_server_config: { cert_file: `${dir}/${NODE_EXPORTER_WEB.cert}`, key_file: `${dir}/${NODE_EXPORTER_WEB.key}`, min_version: "TLS13" },
    basic_auth_users: { [NODE_EXPORTER_USER]: hash },
  });
}

/** node-exporter's command line: TLS and basic auth from its web config, host paths under HOST_ROOT, virtual filesystems and interfaces left out. */
export function nodeExporterFlags(port: number = NODE_EXPORTER_PORT): string[] {
  return [
    // Only the node's own address, not every interface of the host (docker bridges, VPNs).
    `--web.listen-address=[$(HOST_IP)]:${port}`,
    // TLS and basic auth: the host's address may be a public one, and nothing else stands in front.
    `--web.config.file=${NODE_EXPORTER_WEB.dir}/${NODE_EXPORTER_WEB.config}`,
    `--path.rootfs=${HOST_ROOT}`,
    `--path.udev.data=${HOST_ROOT}/run/udev/data`,
    `--collector.filesystem.mount-points-exclude=^/(${EXCLUDED_MOUNT_POINTS.join("|")})($|/)`,
    `--collector.filesystem.fs-types-exclude=^(${EXCLUDED_FS_TYPES.join("|")})$`,
    `--collector.netclass.ignored-devices=${EXCLUDED_NET_DEVICES}`,
    `--collector.netdev.device-exclude=${EXCLUDED_NET_DEVICES}`,
  ];
}

/**
 * The section's resolved values (node-exporter-section.ts: the port it listens on, on each node's own
 * address, and its resources), and what the stack wires in.
 */
export interface NodeExporterArgs extends Omit<NodeExporterSettings, "enabled"> {
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
  /** The stack's PriorityClass for the pods. Default none. */
  priorityClassName?: string;
  /** The stack's salt (preflight/stack-salt.ts): the password, its hash and the TLS key are derived from it (nodeExporterCredentials). */
  stackSalt: Buffer;
}

/** A TCP probe of the metrics port, as often and as patient as the kit's HTTP probes. */
function tcpProbe(): k8s.types.input.core.v1.Probe {
  return { tcpSocket: { port: "metrics" }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 };
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
    super("monitoring:index:NodeExporter", name, opts);
    const id: WorkloadIdentity = { name: "node-exporter", component: "exporter", instance: args.environment, image: "nodeExporter" };
    const labels = standardLabels(id);
    const port = args.port;
    const credentials = nodeExporterCredentials(args.stackSalt, args.namespace);

    // The web config, the certificate and the key, in one Secret: the key and the hash never in a ConfigMap, all of it a Pulumi secret.
    const webSecret = new k8s.core.v1.Secret(
      `${name}-web`,
      {
        metadata: objectMeta(id, args.namespace, "node-exporter-web"),
        type: "Opaque",
        stringData: pulumi.secret({
          [NODE_EXPORTER_WEB.config]: nodeExporterWebConfig(credentials.hash),
          [NODE_EXPORTER_WEB.cert]: credentials.certPem,
          [NODE_EXPORTER_WEB.key]: credentials.keyPem,
        }),
      },
      { parent: this },
    );

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
                  // A TCP connection: every path asks for the password, which a probe would have to carry in the pod spec.
                  readinessProbe: tcpProbe(),
                  livenessProbe: { ...tcpProbe(), periodSeconds: 20 },
                  resources: resourcesOf(args.resources),
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: [
                    // HostToContainer: disks mounted on the node after the pod started show up too.
                    { name: "host-root", mountPath: HOST_ROOT, readOnly: true, mountPropagation: "HostToContainer" },
                    { name: "web", mountPath: NODE_EXPORTER_WEB.dir, readOnly: true },
                  ],
                },
              ],
              volumes: [
                // Exception: the host's root filesystem, read-only, for the filesystem,
                // disk and udev data of the node (--path.rootfs).
                { name: "host-root", hostPath: { path: "/", type: "Directory" } },
                // Read by the exporter (user 65534, the pod's fsGroup) and nobody else.
                { name: "web", secret: { secretName: webSecret.metadata.name, defaultMode: 0o440 } },
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
    // It connects to nothing (not even DNS: a spec of its own, not egressPolicySpec's). Like its
    // ingress, this holds only where the CNI applies policies to host-network pods; it says so for
    // the record and for those that do.
    workloadPolicies(
      name,
      { id, namespace: args.namespace, name: "node-exporter" },
      {
        ingress: [
          {
            ports: [port],
            from: [
              { namespaces: { "kubernetes.io/metadata.name": args.prometheusNamespace }, pods: prometheusPodLabels(args.environment) },
            ],
          },
        ],
        egress: { podSelector: { matchLabels: selectorLabels(id) }, policyTypes: ["Egress"], egress: [] },
      },
      { parent: this },
    );

    this.scrapeTargets = [
      {
        job: JOB.nodeExporter,
        namespace: args.namespace,
        selector: selectorLabels(id),
        port: "metrics",
        instance: "node",
        hostPort: port,
        scheme: "https",
        tls: { caPem: credentials.certPem, serverName: nodeExporterServerName(args.namespace) },
        basicAuth: { username: NODE_EXPORTER_USER, password: pulumi.secret(credentials.password) },
      },
    ];
    this.registerOutputs({ scrapeTargets: this.scrapeTargets });
  }
}
