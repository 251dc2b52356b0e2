/** What both live labs do as they start (support/lab.ts, support/two-stacks.ts). */
import { KubeObject, list } from "../../cluster/support/kube";
import { waitFor } from "../../../lab/processes/supervision";

/** Boots a lab; when that fails, stops what it started and throws what failed with the lab's diagnostics. */
export async function bootOrStop<T extends { diagnostics(): string; stop(): Promise<void> }>(
  lab: T,
  boot: () => Promise<void>,
): Promise<T> {
  try {
    await boot();
  } catch (err) {
    const message = `${err instanceof Error ? err.message : String(err)}\n${lab.diagnostics()}`;
    await lab.stop();
    throw new Error(message);
  }
  return lab;
}

/** Waits (3 minutes) until the pods of these namespaces all run, or are done (a Job's); returns them. */
export async function podsRunning(what: string, namespaces: ReadonlySet<string>): Promise<KubeObject[]> {
  return waitFor(
    what,
    async () => {
      const all = (await list("pods")).filter((p) => namespaces.has(p.metadata.namespace ?? ""));
      const pending = all.filter((p) => !["Running", "Succeeded"].includes(String((p.status as { phase?: string } | undefined)?.phase)));
      return all.length > 0 && pending.length === 0 ? all : undefined;
    },
    180_000,
    2000,
  );
}
