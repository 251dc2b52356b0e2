/**
 * The local cluster's volume provisioner: what k3s's local-path provisioner does for the
 * StorageClasses whose provisioner is rancher.io/local-path, as one more process of the
 * cluster (started by `up`, bounded by the cluster's TTL, stopped by `down`).
 *
 * Every second it lists the claims and volumes (a poll, not a watch: a handful of small
 * lists on 127.0.0.1) and:
 * - for each Pending claim of such a class that the PV controller handed to this provisioner
 *   (volume.kubernetes.io/storage-provisioner) and the scheduler placed on a node
 *   (volume.kubernetes.io/selected-node: WaitForFirstConsumer), creates PersistentVolume
 *   `pvc-<claim uid>`, bound to that claim (claimRef with its uid), of the size it requests,
 *   hostPath `<volumes>/pvc-<uid>_<namespace>_<claim>` on that node (node affinity on
 *   kubernetes.io/hostname), reclaim policy from the class; the PV controller binds the two;
 * - for each Released volume it made whose policy is Delete, removes its directory and
 *   then the PersistentVolume. A Retain volume stays Released, directory and data too.
 *
 *   node -r cli/fast-start.js lab/cluster/provisioner.ts \
 *     --state-dir=<cluster state dir> --port=<health port>
 *
 * It answers GET /healthz on 127.0.0.1:<port> once its first pass has succeeded.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { KubeClient, KubeObject } from "./kube";
import { LOCAL_PATH_PROVISIONER } from "./manifests";
import { StateDir } from "./paths";

/** Set by the PV controller on a claim it leaves to an external provisioner, and by the scheduler on a delayed-binding claim. */
export const PROVISIONER_ANNOTATION = "volume.kubernetes.io/storage-provisioner";
const BETA_PROVISIONER_ANNOTATION = "volume.beta.kubernetes.io/storage-provisioner";
export const SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node";
const PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
/** Where local-path records the node a volume was made on. */
const LOCAL_PATH_NODE_ANNOTATION = "local.path.provisioner/selected-node";

const POLL_MS = 1000;

interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  annotations?: Record<string, string>;
}

export interface Claim {
  metadata: Meta & { namespace: string; uid: string };
  spec: {
    storageClassName?: string;
    volumeName?: string;
    accessModes?: string[];
    volumeMode?: string;
    resources?: { requests?: { storage?: string } };
  };
  status?: { phase?: string };
}

export interface Volume {
  metadata: Meta;
  spec: { persistentVolumeReclaimPolicy?: string; hostPath?: { path: string }; claimRef?: { namespace?: string; name?: string } };
  status?: { phase?: string };
}

export interface StorageClass {
  metadata: Meta;
  provisioner: string;
  reclaimPolicy?: string;
}

/** The classes this provisioner serves, by name. */
export function servedClasses(classes: StorageClass[]): Map<string, StorageClass> {
  return new Map(classes.filter((c) => c.provisioner === LOCAL_PATH_PROVISIONER).map((c) => [c.metadata.name, c]));
}

/** The node a claim waits for a volume on, when it is this provisioner's to make; undefined otherwise. */
export function pendingOn(claim: Claim, served: Map<string, StorageClass>): string | undefined {
  const annotations = claim.metadata.annotations ?? {};
  const provisioner = annotations[PROVISIONER_ANNOTATION] ?? annotations[BETA_PROVISIONER_ANNOTATION];
  if (claim.spec.volumeName || (claim.status?.phase ?? "Pending") !== "Pending") return undefined;
  if (provisioner !== LOCAL_PATH_PROVISIONER || !served.has(claim.spec.storageClassName ?? "")) return undefined;
  return annotations[SELECTED_NODE_ANNOTATION] || undefined;
}

/** The volume local-path makes for a claim on a node: name, directory, size, access modes, reclaim policy and affinity as it sets them. */
export function volumeFor(claim: Claim, node: string, storageClass: StorageClass, volumesRoot: string): KubeObject {
  const name = `pvc-${claim.metadata.uid}`;
  const dir = path.join(volumesRoot, [name, claim.metadata.namespace, claim.metadata.name].join("_"));
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name,
      annotations: { [PROVISIONED_BY]: LOCAL_PATH_PROVISIONER, [LOCAL_PATH_NODE_ANNOTATION]: node },
    },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.storage ?? "1Gi" },
      accessModes: claim.spec.accessModes ?? ["ReadWriteOnce"],
      volumeMode: claim.spec.volumeMode ?? "Filesystem",
      persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? "Delete",
      storageClassName: storageClass.metadata.name,
      claimRef: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
      },
      hostPath: { path: dir, type: "DirectoryOrCreate" },
      nodeAffinity: {
        required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] },
      },
    },
  };
}

/** Whether a volume is this provisioner's, Released, and to be deleted with its directory. */
export function toDelete(volume: Volume): boolean {
  return (
    volume.metadata.annotations?.[PROVISIONED_BY] === LOCAL_PATH_PROVISIONER &&
    volume.status?.phase === "Released" &&
    volume.spec.persistentVolumeReclaimPolicy === "Delete"
  );
}

/** One pass: a volume for every claim waiting for one, and the Released Delete volumes removed. Returns what it did. */
export async function reconcile(client: KubeClient, volumesRoot: string): Promise<string[]> {
  const [classes, claims, volumes] = await Promise.all([
    client.get<{ items: StorageClass[] }>("/apis/storage.k8s.io/v1/storageclasses"),
    client.get<{ items: Claim[] }>("/api/v1/persistentvolumeclaims"),
    client.get<{ items: Volume[] }>("/api/v1/persistentvolumes"),
  ]);
  const served = servedClasses(classes.items);
  const done: string[] = [];
  for (const claim of claims.items) {
    const node = pendingOn(claim, served);
    if (node === undefined) continue;
    const volume = volumeFor(claim, node, served.get(claim.spec.storageClassName as string) as StorageClass, volumesRoot);
    const dir = (volume.spec as { hostPath: { path: string } }).hostPath.path;
    fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
    if ((await client.create(volume)) === "created") {
      done.push(`created ${volume.metadata.name} for ${claim.metadata.namespace}/${claim.metadata.name} on ${node} at ${dir}`);
    }
  }
  for (const volume of volumes.items.filter(toDelete)) {
    const dir = volume.spec.hostPath?.path;
    // Only ever a directory this provisioner made, under the cluster's volumes.
    if (dir && path.dirname(dir) === volumesRoot) fs.rmSync(dir, { recursive: true, force: true });
    const res = await client.request("DELETE", `/api/v1/persistentvolumes/${volume.metadata.name}`);
    if (res.status !== 200 && res.status !== 202 && res.status !== 404) {
      throw new Error(`delete PersistentVolume ${volume.metadata.name}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    }
    const claim = volume.spec.claimRef;
    done.push(`deleted ${volume.metadata.name} (claim ${claim?.namespace}/${claim?.name} gone) and ${dir}`);
  }
  return done;
}

function argValue(argv: string[], flag: string): string {
  const arg = argv.find((a) => a.startsWith(`${flag}=`));
  if (!arg) throw new Error(`${flag}=... is required`);
  return arg.slice(flag.length + 1);
}

async function main(argv: string[]): Promise<void> {
  const state = new StateDir(argValue(argv, "--state-dir"));
  const port = Number(argValue(argv, "--port"));
  const recorded = JSON.parse(fs.readFileSync(state.stateFile, "utf8")) as { server: string; adminToken: string };
  const client = new KubeClient(recorded.server, recorded.adminToken, state.apiserverCert, new https.Agent({ keepAlive: true }));
  let healthy = false;
  http
    .createServer((_req, res) => {
      res.writeHead(healthy ? 200 : 503, { "Content-Type": "text/plain" });
      res.end(healthy ? "ok" : "not yet");
    })
    .listen(port, "127.0.0.1");
  const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);
  log(`serving class(es) of ${LOCAL_PATH_PROVISIONER}; volumes under ${state.volumes}`);
  let lastError = "";
  for (;;) {
    try {
      for (const line of await reconcile(client, state.volumes)) log(line);
      healthy = true;
      lastError = "";
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Once per distinct error: an API server that is restarting must not fill the log.
      if (message !== lastError) log(`error: ${message}`);
      lastError = message;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`local-path provisioner: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
