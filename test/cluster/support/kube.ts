/**
 * kubectl against the local control plane, for what the cluster tier checks on the API
 * server itself: objects, readiness, owners, and the volumes' data on the (simulated) node.
 */
import { execFile } from "child_process";
import { promisify } from "util";
import { binPath } from "../../../lab/tools/tools";

const execFileAsync = promisify(execFile);

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    /** The objects that own this one; `controller` marks the one that manages it. */
    ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }>;
  };
  spec?: Record<string, unknown> & { [key: string]: unknown };
  status?: Record<string, unknown> & { [key: string]: unknown };
}

export async function kubectl(args: string[], input?: string): Promise<string> {
  const child = execFileAsync(binPath("kubectl"), args, { env: process.env, maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  const { stdout } = await child;
  return stdout;
}

/** kubectl with what it printed on stderr too: the API server's warnings arrive there. */
export async function kubectlWithWarnings(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(binPath("kubectl"), args, { env: process.env, maxBuffer: 64 * 1024 * 1024 });
}

/** `kubectl get -o json` of a list; an empty list when the namespace or kind has none. */
export async function list(kind: string, namespace?: string, selector?: string): Promise<KubeObject[]> {
  const args = ["get", kind, "-o", "json", ...(namespace ? ["-n", namespace] : ["-A"]), ...(selector ? ["-l", selector] : [])];
  return (JSON.parse(await kubectl(args)) as { items: KubeObject[] }).items;
}

export async function get(kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
  try {
    return JSON.parse(await kubectl(["get", kind, name, "-o", "json", ...(namespace ? ["-n", namespace] : [])])) as KubeObject;
  } catch (err) {
    if (String((err as { stderr?: string }).stderr ?? err).includes("NotFound")) return undefined;
    throw err;
  }
}

export async function apply(manifest: unknown): Promise<void> {
  await kubectl(["apply", "--server-side", "--field-manager=cluster-tier", "-f", "-"], JSON.stringify(manifest));
}

/** Why a workload is not ready, or undefined when it is. */
export function notReady(obj: KubeObject): string | undefined {
  const spec = (obj.spec ?? {}) as { replicas?: number };
  const status = (obj.status ?? {}) as Record<string, number | undefined>;
  const id = `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`;
  if (obj.kind === "DaemonSet") {
    const want = status.desiredNumberScheduled ?? 0;
    if (want === 0 || status.numberReady !== want || status.updatedNumberScheduled !== want) {
      return `${id}: ${status.numberReady ?? 0}/${want} ready, ${status.updatedNumberScheduled ?? 0} updated`;
    }
    return undefined;
  }
  const want = spec.replicas ?? 1;
  if (status.readyReplicas !== want || status.updatedReplicas !== want) {
    return `${id}: ${status.readyReplicas ?? 0}/${want} ready, ${status.updatedReplicas ?? 0} updated`;
  }
  return undefined;
}

/** Polls until `check` returns undefined (done) or the time runs out; then fails with its last answer. */
export async function waitFor(what: string, check: () => Promise<string | undefined>, seconds = 120): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let last: string | undefined = "not checked";
  while (Date.now() < deadline) {
    last = await check();
    if (last === undefined) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: still not done after ${seconds} s: ${last}`);
}
