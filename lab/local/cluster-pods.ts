/**
 * Pods the API server placed, run for real on their exact binaries: kwok's nodes run no process, so the cluster tier
 * does, for the pods it names, what a kubelet does for a container, in small, from what the API server holds (the pod,
 * the ConfigMaps and Secrets it mounts, a token of its service account):
 * - the container's volumes laid out under a directory of the pod's: ConfigMaps, Secrets and projected sources, with
 *   their items, the downward API's fields and the service account's token (the API server's admission adds that
 *   projected volume to a pod that mounts its token); an emptyDir or a claim as an empty directory (a claim's data
 *   stays on its node);
 * - its env (values, and the downward API's metadata.name, metadata.namespace, spec.nodeName and status.podIP), and its
 *   args with `$(VAR)` expanded as the kubelet expands them;
 * - then the only changes, which the cluster makes by giving each pod a network of its own: its args' absolute paths
 *   under the pod's directory, and its listen addresses (`:9093`, `0.0.0.0:9094`) bound to the pod's own address, as
 *   the pods here share one network (./pod-network.ts), each on its address.
 * That network's /etc/hosts answers what the cluster's DNS answers for a headless Service's pods, from its Endpoints;
 * the API server, on the host's loopback, is reached from it through a Unix socket (which crosses network namespaces)
 * at the address and port the kubeconfig names, so that its certificate holds.
 */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import type { LocalRun } from "../processes/children";
import { LOOPBACK } from "../ports";
import type { PodNetwork } from "./pod-network";

/** A flag (`--flag` or `-flag`) whose value is an absolute path: the same path under `root` (where its files were laid out). */
export function localPath(arg: string, root: string): string {
  const m = /^(--?[\w.-]+)=(\/.*)$/.exec(arg);
  return m ? `${m[1]}=${path.join(root, m[2])}` : arg;
}

/** The parts of a pod this reads (the API server's object). */
export interface ClusterPod {
  metadata: { name: string; namespace: string };
  spec: {
    nodeName?: string;
    serviceAccountName?: string;
    containers: ClusterContainer[];
    volumes?: PodVolume[];
  };
  status?: { podIP?: string };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } } & Record<string, unknown>;
}

export interface ClusterContainer {
  name: string;
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
}

interface KeyItems {
  name: string;
  items?: Array<{ key: string; path: string }>;
}

export interface PodVolume {
  name: string;
  configMap?: KeyItems;
  secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
  projected?: {
    sources: Array<{
      configMap?: KeyItems;
      secret?: KeyItems;
      serviceAccountToken?: { path: string };
      downwardAPI?: { items: Array<{ path: string; fieldRef?: { fieldPath: string } }> };
    }>;
  };
  emptyDir?: unknown;
  persistentVolumeClaim?: { claimName: string };
}

/** A ConfigMap's or Secret's data as the API server returns it (a Secret's base64). */
export interface DataObject {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
}

/** What the API server gives the pods' containers beside their objects. */
export interface PodContext {
  /** The namespace's ConfigMaps and Secrets. */
  objects: DataObject[];
  /** A token of the pod's service account (the TokenRequest API's), for a pod that mounts one. */
  serviceAccountToken?: string;
}

function dataOf(context: PodContext, kind: "ConfigMap" | "Secret", name: string, pod: string): Record<string, string> {
  const found = context.objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${pod} mounts ${kind} ${name}, which the API server does not hold`);
  const data = found.data ?? {};
  if (kind === "ConfigMap") return data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

/** The files of a volume's source: every key, or its items at their paths (a missing key is an error, as the kubelet's). */
function projected(data: Record<string, string>, items: KeyItems["items"], what: string): Record<string, string> {
  if (!items) return data;
  return Object.fromEntries(
    items.map((item) => {
      if (!(item.key in data)) throw new Error(`${what} has no key ${item.key}`);
      return [item.path, data[item.key]];
    }),
  );
}

/** The files a volume holds, by their path in it; undefined for a directory that starts empty. */
export function volumeFiles(pod: ClusterPod, volume: PodVolume, context: PodContext): Record<string, string> | undefined {
  const name = pod.metadata.name;
  if (volume.configMap) {
    const ref = volume.configMap;
    return projected(dataOf(context, "ConfigMap", ref.name, name), ref.items, `ConfigMap ${ref.name}`);
  }
  if (volume.secret) {
    const ref = volume.secret;
    return projected(dataOf(context, "Secret", ref.secretName, name), ref.items, `Secret ${ref.secretName}`);
  }
  if (volume.projected) {
    const files: Record<string, string> = {};
    for (const source of volume.projected.sources) {
      if (source.configMap)
        Object.assign(
          files,
          projected(dataOf(context, "ConfigMap", source.configMap.name, name), source.configMap.items, source.configMap.name),
        );
      else if (source.secret)
        Object.assign(files, projected(dataOf(context, "Secret", source.secret.name, name), source.secret.items, source.secret.name));
      else if (source.serviceAccountToken) files[source.serviceAccountToken.path] = tokenOf(pod, context);
      else if (source.downwardAPI)
        for (const item of source.downwardAPI.items) {
          if (!item.fieldRef) throw new Error(`${name}'s volume ${volume.name} projects ${item.path} from something but a field`);
          files[item.path] = fieldOf(pod, item.fieldRef.fieldPath);
        }
      else throw new Error(`${name}'s volume ${volume.name} has a projected source this runner does not know: ${JSON.stringify(source)}`);
    }
    return files;
  }
  if (volume.emptyDir !== undefined || volume.persistentVolumeClaim) return undefined;
  throw new Error(`${name}'s volume ${volume.name} is of a kind this runner does not know: ${JSON.stringify(volume)}`);
}

function tokenOf(pod: ClusterPod, context: PodContext): string {
  if (context.serviceAccountToken === undefined)
    throw new Error(
      `${pod.metadata.name} mounts its service account's token (${pod.spec.serviceAccountName ?? "default"}), and none was given`,
    );
  return context.serviceAccountToken;
}

/** The downward API's fields a container's env may read. */
function fieldOf(pod: ClusterPod, fieldPath: string): string {
  const fields: Record<string, string | undefined> = {
    "metadata.name": pod.metadata.name,
    "metadata.namespace": pod.metadata.namespace,
    "spec.nodeName": pod.spec.nodeName,
    "spec.serviceAccountName": pod.spec.serviceAccountName,
    "status.podIP": pod.status?.podIP,
  };
  const value = fields[fieldPath];
  if (value === undefined)
    throw new Error(`${pod.metadata.name}: the env reads ${fieldPath}, which this runner does not give (or the pod lacks)`);
  return value;
}

/** A container's env as the kubelet makes it: values and downward API fields, in order, each `$(VAR)` of an earlier one expanded. */
export function containerEnv(pod: ClusterPod, container: ClusterContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of container.env ?? []) {
    if (v.value !== undefined) env[v.name] = expand(v.value, env);
    else if (v.valueFrom?.fieldRef) env[v.name] = fieldOf(pod, v.valueFrom.fieldRef.fieldPath);
    else
      throw new Error(
        `${pod.metadata.name}/${container.name}: env ${v.name} comes from ${JSON.stringify(v.valueFrom)}, which this runner does not give`,
      );
  }
  return env;
}

/** `$(VAR)` expanded from `env` as the kubelet does: `$$` escapes, an unknown name stays as written. */
export function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) =>
    name === undefined ? "$" : (env[name] ?? whole),
  );
}

/** A listen flag for every address (`:P`, `0.0.0.0:P`, `[::]:P`): the pod's address, same port. */
function podListenArg(arg: string, address: string): string {
  const m = /^(--?[\w.-]*listen-address)=(?:|0\.0\.0\.0|\[::\]):(\d+)$/.exec(arg);
  return m ? `${m[1]}=${address}:${m[2]}` : arg;
}

/** The container's files laid out under `root` (the pod's directory), its args and env: what to start it with. */
export function layOutContainer(
  pod: ClusterPod,
  containerName: string,
  context: PodContext,
  root: string,
): { args: string[]; env: Record<string, string> } {
  const container = pod.spec.containers.find((c) => c.name === containerName);
  if (!container) throw new Error(`${pod.metadata.name} has no container ${containerName}`);
  const address = pod.status?.podIP;
  if (!address) throw new Error(`${pod.metadata.name} has no address yet (status.podIP): it is not running`);
  for (const mount of container.volumeMounts ?? []) {
    if (mount.subPath)
      throw new Error(`${pod.metadata.name}/${containerName} mounts ${mount.name} with a subPath, which this runner does not lay out`);
    const dir = path.join(root, mount.mountPath);
    fs.mkdirSync(dir, { recursive: true });
    const volume = (pod.spec.volumes ?? []).find((v) => v.name === mount.name);
    // No volume of that name: a claim of a StatefulSet's template (a rendered template lists it there, not among its
    // volumes; the API server's pod lists it as a persistentVolumeClaim). Either way it starts empty here.
    const files = volume ? volumeFiles(pod, volume, context) : undefined;
    for (const [file, content] of Object.entries(files ?? {})) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
    }
  }
  const env = containerEnv(pod, container);
  const args = (container.args ?? []).map((a) => podListenArg(localPath(expand(a, env), root), address));
  return { args, env };
}

/**
 * What the cluster's DNS answers for the pods of headless Services, from their Endpoints (ready and not ready
 * addresses, as `publishNotReadyAddresses` publishes both): `<hostname>.<service>.<namespace>.svc` and its
 * `.cluster.local` form, as /etc/hosts lines. A pod without an address (Pending) has no name.
 */
export function headlessHosts(endpoints: Array<{ metadata: { name: string; namespace?: string }; subsets?: unknown }>): string {
  const lines: string[] = [`${LOOPBACK} localhost`];
  for (const ep of endpoints) {
    const subsets = (ep.subsets ?? []) as Array<{
      addresses?: Array<{ ip: string; hostname?: string }>;
      notReadyAddresses?: Array<{ ip: string; hostname?: string }>;
    }>;
    for (const subset of subsets) {
      for (const a of [...(subset.addresses ?? []), ...(subset.notReadyAddresses ?? [])]) {
        if (!a.hostname) continue;
        const name = `${a.hostname}.${ep.metadata.name}.${ep.metadata.namespace}.svc`;
        lines.push(`${a.ip} ${name} ${name}.cluster.local`);
      }
    }
  }
  return `${[...new Set(lines)].join("\n")}\n`;
}

/** Copies bytes both ways between two sockets, each closed with the other. */
function splice(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", close);
  b.on("error", close);
  a.on("close", close);
  b.on("close", close);
}

/** The forwarder inside the network: it listens on an address and port, and carries each connection to a Unix socket. */
const FORWARDER = `
const net = require("net");
const [host, port, socket] = process.argv.slice(1);
net.createServer((c) => {
  const up = net.connect(socket);
  c.pipe(up); up.pipe(c);
  const close = () => { c.destroy(); up.destroy(); };
  c.on("error", close); up.on("error", close); c.on("close", close); up.on("close", close);
}).listen(Number(port), host, () => console.log("forwarding " + host + ":" + port));
`;

/**
 * The API server reached from inside a pod network at the loopback address and port it has outside (so that its
 * certificate's 127.0.0.1 holds): a Unix socket in `dir` carries each connection to it; stopped with `close`.
 */
export class ApiServerBridge {
  private readonly server: net.Server;
  readonly socket: string;

  private constructor(
    private readonly port: number,
    dir: string,
  ) {
    this.socket = path.join(dir, "apiserver.sock");
    this.server = net.createServer((c) => splice(c, net.connect(port, LOOPBACK)));
  }

  static async open(apiServer: string, dir: string): Promise<ApiServerBridge> {
    const url = new URL(apiServer);
    if (url.hostname !== LOOPBACK) throw new Error(`the API server must be on ${LOOPBACK} to be bridged, not ${url.hostname}`);
    const bridge = new ApiServerBridge(Number(url.port || 443), dir);
    await new Promise<void>((resolve, reject) => {
      bridge.server.once("error", reject);
      bridge.server.listen(bridge.socket, () => resolve());
    });
    return bridge;
  }

  /** Starts the forwarder in `network`, and waits until it listens. */
  async into(run: LocalRun, network: PodNetwork): Promise<void> {
    network.start("apiserver-bridge", process.execPath, ["-e", FORWARDER, LOOPBACK, String(this.port), this.socket]);
    await run.waitFor(
      "the API server's bridge listening in the pod network",
      async () => ((await network.listening()).includes(`${LOOPBACK}:${this.port}`) ? true : undefined),
      15_000,
      200,
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
