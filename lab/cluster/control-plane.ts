/**
 * The command lines of the control-plane components, k3s's choices where k3s makes one,
 * and how to tell each one is healthy. Every listener is on 127.0.0.1 (etcd client and
 * peer, the API server, the controller manager's and scheduler's health/metrics ports,
 * kwok's server); the test tier checks the sockets to prove it.
 */
import * as http from "http";
import * as path from "path";
import { ROOT } from "../tools/tools";
import { httpsRequest } from "./kube";
import { CLUSTER_CIDR, KWOK_NODE_SELECTOR, SERVICE_CIDR } from "./manifests";
import { Binary, StateDir } from "./paths";
import { Credentials } from "./pki";
import { LOOPBACK } from "../ports";

/** The ports of one cluster, chosen free at `up`. */
export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
  provisioner: number;
}

/** The issuer k3s gives service-account tokens, and the audiences it accepts. */
const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";

/**
 * Advertised in the `kubernetes` Service's endpoints. It is never listened on: the API
 * server binds 127.0.0.1 only. It cannot be 127.0.0.1, because Endpoints refuse loopback
 * addresses (the API server would fail to publish its own endpoints), so it is an
 * RFC 5737 documentation address, next to the simulated nodes' 192.0.2.10+.
 */
export const ADVERTISE_ADDRESS = "192.0.2.1";

export interface Component {
  name: "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok" | "local-path-provisioner";
  /** One of the built tools, or "node" for the provisioner (run by this Node.js). */
  binary: Binary | "node";
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Resolves true when the component reports itself healthy. */
  healthy: () => Promise<boolean>;
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(res.statusCode === 200 && /ok|"health":"true"/.test(Buffer.concat(chunks).toString("utf8"))));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

/** /healthz of a component serving its own self-signed certificate on the loopback. */
async function httpsHealthz(port: number): Promise<boolean> {
  try {
    const res = await httpsRequest(`https://${LOOPBACK}:${port}/healthz`, { timeoutMs: 2000 });
    return res.status === 200 && res.body.trim() === "ok";
  } catch {
    return false;
  }
}

/** The environment of a component: the caller's, without a KUBECONFIG that could point elsewhere. */
function componentEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.KUBECONFIG;
  return env;
}

export function etcd(state: StateDir, ports: Ports): Component {
  const client = `http://${LOOPBACK}:${ports.etcdClient}`;
  const peer = `http://${LOOPBACK}:${ports.etcdPeer}`;
  return {
    name: "etcd",
    binary: "etcd",
    args: [
      "--name=default",
      `--data-dir=${state.etcdData}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      "--initial-cluster-state=new",
      // A throwaway cluster: losing the last writes on a crash is fine, waiting for fsync is not.
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ],
    env: componentEnv(),
    healthy: () => httpOk(`${client}/health`),
  };
}

export function kubeApiserver(state: StateDir, ports: Ports, creds: Credentials, ready: () => Promise<boolean>): Component {
  return {
    name: "kube-apiserver",
    binary: "kube-apiserver",
    args: [
      `--etcd-servers=http://${LOOPBACK}:${ports.etcdClient}`,
      `--bind-address=${LOOPBACK}`,
      `--advertise-address=${ADVERTISE_ADDRESS}`,
      `--secure-port=${ports.apiserver}`,
      // No --tls-cert-file: the API server makes a self-signed CA and serving certificate here.
      `--cert-dir=${state.pki}`,
      `--token-auth-file=${creds.tokenFile}`,
      // As k3s: no anonymous requests, Node and RBAC authorization, NodeRestriction on top of the
      // default admission plugins (PodSecurity among them; named here so that it cannot be lost).
      "--anonymous-auth=false",
      "--authorization-mode=Node,RBAC",
      "--enable-admission-plugins=NodeRestriction,PodSecurity",
      "--allow-privileged=true",
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--api-audiences=${SERVICE_ACCOUNT_ISSUER},k3s`,
      `--service-account-key-file=${creds.serviceAccountPub}`,
      `--service-account-signing-key-file=${creds.serviceAccountKey}`,
      "--profiling=false",
    ],
    env: componentEnv(),
    healthy: ready,
  };
}

/**
 * Flags the controller manager and the scheduler share: identity and loopback serving.
 * No --authentication-kubeconfig: it makes them look up a client CA in kube-system's
 * extension-apiserver-authentication ConfigMap, which a token-only API server never
 * writes (they would log that forever). Their /healthz, /readyz and /livez stay open;
 * /metrics answers 403.
 */
function controlPlaneClientArgs(state: StateDir, name: string, port: number): string[] {
  return [
    `--kubeconfig=${state.componentKubeconfig(name)}`,
    `--bind-address=${LOOPBACK}`,
    `--secure-port=${port}`,
    `--cert-dir=${state.pki}/${name}`,
    // One instance each: no leader election (it only delays the start).
    "--leader-elect=false",
    "--profiling=false",
  ];
}

export function kubeControllerManager(state: StateDir, ports: Ports, creds: Credentials): Component {
  return {
    name: "kube-controller-manager",
    binary: "kube-controller-manager",
    args: [
      ...controlPlaneClientArgs(state, "kube-controller-manager", ports.controllerManager),
      // Every on-by-default controller: deployment, replicaset, statefulset, daemonset, job,
      // garbage collector, namespace (deletion), persistentvolume-binder, serviceaccount(-token),
      // node-ipam, node-lifecycle... The cloud ones need a cloud provider and stay idle.
      "--controllers=*",
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${creds.serviceAccountKey}`,
      `--root-ca-file=${state.apiserverCert}`,
      // k3s: pod CIDRs per node from 10.42.0.0/16, no cloud routes.
      "--allocate-node-cidrs=true",
      `--cluster-cidr=${CLUSTER_CIDR}`,
      "--node-cidr-mask-size=24",
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--configure-cloud-routes=false",
      // With one ServiceAccount per controller, start-up is ~100 requests: the default client
      // rate limit (20/s) alone made it take 4 s.
      "--kube-api-qps=200",
      "--kube-api-burst=400",
    ],
    env: componentEnv(),
    healthy: () => httpsHealthz(ports.controllerManager),
  };
}

export function kubeScheduler(state: StateDir, ports: Ports): Component {
  return {
    name: "kube-scheduler",
    binary: "kube-scheduler",
    args: controlPlaneClientArgs(state, "kube-scheduler", ports.scheduler),
    env: componentEnv(),
    healthy: () => httpsHealthz(ports.scheduler),
  };
}

/**
 * kwok plays the kubelet of the nodes annotated kwok.x-k8s.io/node=fake, with the stages
 * in its --config (kwok-stages.ts). Its node heartbeat is the Lease it renews every 10 s
 * (a quarter of --node-lease-duration-seconds), as a kubelet does. Its server (health, metrics; no --node-port, so no kubelet endpoint is
 * advertised) listens on the loopback; without --server-address it would not start, and
 * with --node-port alone it would bind 0.0.0.0. KWOK_WORKDIR keeps it from loading
 * ~/.kwok/kwok.yaml.
 */
export function kwok(state: StateDir, ports: Ports, kwokConfig: string): Component {
  return {
    name: "kwok",
    binary: "kwok",
    args: [
      `--kubeconfig=${state.componentKubeconfig("kwok")}`,
      `--config=${kwokConfig}`,
      "--manage-all-nodes=false",
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_SELECTOR}`,
      `--server-address=${LOOPBACK}:${ports.kwok}`,
      "--node-lease-duration-seconds=40",
    ],
    env: componentEnv({ KWOK_WORKDIR: state.kwok }),
    healthy: () => httpOk(`http://${LOOPBACK}:${ports.kwok}/healthz`),
  };
}

/**
 * The volume provisioner (provisioner.ts), run by this Node.js with the repository's
 * transpile cache; its health port answers once its first pass over the claims succeeded.
 */
export function localPathProvisioner(state: StateDir, ports: Ports): Component {
  return {
    name: "local-path-provisioner",
    binary: "node",
    args: [
      "-r",
      path.join(ROOT, "cli", "fast-start.js"),
      path.join(ROOT, "lab", "cluster", "provisioner.ts"),
      `--state-dir=${state.root}`,
      `--port=${ports.provisioner}`,
    ],
    env: componentEnv(),
    healthy: () => httpOk(`http://${LOOPBACK}:${ports.provisioner}/healthz`),
  };
}
