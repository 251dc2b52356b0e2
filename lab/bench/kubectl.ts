/** kubectl (.tools/bin) against the cluster KUBECONFIG names, for the bench's runs on the local control plane. */
import { execFile } from "child_process";
import { promisify } from "util";
import { binPath } from "../tools/tools";

const run = promisify(execFile);

async function kubectl(args: string[], input?: string): Promise<string> {
  const child = run(binPath("kubectl"), args, { env: process.env, maxBuffer: 256 * 1024 * 1024 });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

/** Applies the objects as one List, server-side. */
export async function kubectlApply(objects: object[]): Promise<void> {
  await kubectl(
    ["apply", "--server-side", "--field-manager=bench", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  );
}

/** `kubectl <args>`, parsed (args ending in `-o json`). */
export async function kubectlJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl(args)) as T;
}
