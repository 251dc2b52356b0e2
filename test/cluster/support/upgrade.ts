/**
 * The upgrade of a deployed stack from an earlier release to HEAD, as docs/upgrading.md tells a
 * user to do it, on the real engine: the release's own program (support/release.ts) deploys its own
 * stack file; data is written on every claim; `npm run migrate --previous` rewrites the stack file;
 * `pulumi up` with HEAD's program on the same state. What the engine did is read from its own step
 * events (the `op` of each resource), and the cluster is compared with what it held before.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import * as YAML from "yaml";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { ROOT } from "../../../lab/tools/tools";
import { createTeamWorkloads, deleteNamespace } from "./apps";
import { KubeObject, get, list, notReady, waitFor } from "./kube";
import { Release, checkOutRelease, upWithRelease } from "./release";
import { StackHandle, openStack } from "./stack";

const execFileAsync = promisify(execFile);

/** The kinds that hold data or the team's own values: none may be replaced or deleted by an upgrade. */
export const KEPT_TYPES = [
  "kubernetes:core/v1:PersistentVolumeClaim",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:core/v1:Namespace",
  "kubernetes:core/v1:Secret",
];
/** The engine's steps that remove an object from the cluster, or from the stack's hands. */
export const LOSING_OPS = ["delete", "replace", "create-replacement", "delete-replaced", "discard", "discard-replaced"];

export interface Step {
  op: string;
  type: string;
  name: string;
}

/** Collects the engine's steps (each resource's `op`) from an operation's event stream. */
export function stepCollector(): { onEvent: (event: EngineEvent) => void; steps: Step[] } {
  const steps: Step[] = [];
  return {
    steps,
    onEvent(event) {
      const metadata = event.resourcePreEvent?.metadata;
      if (metadata) steps.push({ op: metadata.op, type: metadata.type, name: metadata.urn.split("::").pop() ?? metadata.urn });
    },
  };
}

/** The steps that replace or delete a kept kind, as `op type name`. */
export function losses(steps: Step[]): string[] {
  return steps.filter((s) => KEPT_TYPES.includes(s.type) && LOSING_OPS.includes(s.op)).map((s) => `${s.op} ${s.type} ${s.name}`);
}

const MARKER = "written-before-the-upgrade";

export interface UpgradeCase {
  version: string;
  /** The stack (and profile) name. */
  stackName: string;
  /** The release's stack file: a path, relative to the repository, or `git:<path>` for the file at the release's commit. */
  stackFile: string;
  /** The team's namespace of the stack file's apps and databases. */
  team: string;
  secrets: Record<string, string>;
  /** Whether the stack file protects its volumes (production): destroy must stop at them. */
  protectedVolumes: boolean;
}

interface Identity {
  kind: string;
  uid: string;
}

export function describeUpgrade(c: UpgradeCase): void {
  const NAMESPACES = [`monitoring-${c.stackName}`, `monitoring-${c.stackName}-agents`];
  let handle: StackHandle;
  let release: Release;
  let stackFile: string;
  let before: Record<string, Identity>;
  let claims: Array<{ name: string; uid: string; dir: string }>;
  let destroyed = false;

  /** The stack's kept objects in the cluster: kind/namespace/name and uid. */
  async function kept(): Promise<Record<string, Identity>> {
    const found: Record<string, Identity> = {};
    for (const ns of NAMESPACES) {
      const namespace = await get("namespace", ns);
      if (namespace) found[`Namespace/${ns}`] = { kind: "Namespace", uid: namespace.metadata.uid };
      for (const o of await list("persistentvolumeclaims,statefulsets,secrets", ns)) {
        found[`${o.kind}/${ns}/${o.metadata.name}`] = { kind: o.kind, uid: o.metadata.uid };
      }
    }
    return found;
  }

  async function workloadsReady(): Promise<void> {
    await waitFor(
      "every workload Ready",
      async () => {
        const all: KubeObject[] = [];
        for (const ns of NAMESPACES) all.push(...(await list("deployments,statefulsets,daemonsets", ns)));
        const waiting = all.map(notReady).filter((x) => x !== undefined);
        return all.length === 0 ? "no workload" : waiting.length ? waiting.join("; ") : undefined;
      },
      300,
    );
  }

  beforeAll(async () => {
    await createTeamWorkloads(c.team);
    handle = await openStack(c.stackName);
    stackFile = path.join(handle.workDir, `Pulumi.${c.stackName}.yaml`);
    release = checkOutRelease(c.version, path.dirname(handle.workDir));
    process.stderr.write(
      `release ${c.version} (${release.commit}) checked out in ${release.seconds} s, dependencies: ${release.dependencies}\n`,
    );
    // The release's stack file in place of HEAD's, keeping the stack's encryption salt; then its secrets.
    const text = c.stackFile.startsWith("git:")
      ? fs.readFileSync(path.join(release.dir, c.stackFile.slice(4)), "utf8")
      : fs.readFileSync(path.join(ROOT, c.stackFile), "utf8");
    const salt = (YAML.parse(fs.readFileSync(stackFile, "utf8")) as { encryptionsalt?: string }).encryptionsalt;
    fs.writeFileSync(stackFile, `${salt ? `encryptionsalt: ${salt}\n` : ""}${text}`);
    // The Cloudflare provider cannot be built here (lab/tools/tools.ts): the tunnel stays off.
    handle.editStackFile((config) => {
      const cloudflare = config["monitoring:cloudflare"] as Record<string, unknown> | undefined;
      if (cloudflare) cloudflare.enabled = false;
    });
    for (const [key, value] of Object.entries(c.secrets)) {
      await handle.stack.setConfig(`monitoring:${key}`, { value, secret: true }, key.includes("."));
    }
  });

  afterAll(async () => {
    if (handle && !destroyed) {
      await handle.cli(["state", "unprotect", "--all", "--yes"]).catch(() => undefined);
      await handle.stack.destroy().catch(() => undefined);
    }
    handle?.dispose();
    for (const ns of [...NAMESPACES, c.team]) await deleteNamespace(ns);
  });

  describe(`${c.stackName}: release ${c.version} upgraded to HEAD on the same state`, () => {
    test(`release ${c.version}'s own program deploys its ${c.stackName} stack file, and data is written on every claim`, async () => {
      const summary = await upWithRelease(release, c.stackName, stackFile, handle.env);
      expect(summary.result).toBe("succeeded");
      await workloadsReady();
      claims = [];
      for (const pvc of await list("persistentvolumeclaims", NAMESPACES[0])) {
        const volume = String((pvc.spec as { volumeName?: string }).volumeName);
        const pv = (await get("persistentvolume", volume)) as KubeObject;
        const dir = (pv.spec as { hostPath: { path: string } }).hostPath.path;
        fs.writeFileSync(path.join(dir, MARKER), pvc.metadata.uid);
        claims.push({ name: pvc.metadata.name, uid: pvc.metadata.uid, dir });
      }
      // Prometheus, Alertmanager, Loki, Grafana at least (Jaeger too where the file turns tracing on).
      expect(claims.map((x) => x.name)).toEqual(
        expect.arrayContaining(["data-alertmanager-0", "data-loki-0", "data-prometheus-0", "grafana"]),
      );
      before = await kept();
    });

    test("npm run migrate --previous makes the stack file one HEAD takes (it prints what it rewrote), and a second run finds nothing to do", async () => {
      const outputs = path.join(path.dirname(handle.workDir), "outputs.json");
      fs.writeFileSync(outputs, (await handle.cli(["stack", "output", "--json"])).stdout);
      const migrate = () =>
        execFileAsync(
          "npm",
          ["run", "--silent", "migrate", "--", "--stack", c.stackName, "--stack-file", stackFile, "--previous", outputs],
          {
            cwd: ROOT,
          },
        );
      const first = await migrate();
      process.stderr.write(`npm run migrate (${c.stackName}):\n${first.stdout}${first.stderr}\n`);
      const second = await migrate();
      expect(second.stdout).toMatch(/nothing to (do|migrate)/i);
    });

    test("pulumi up with HEAD's program replaces or deletes no claim, StatefulSet, namespace or Secret, by the engine's own steps", async () => {
      const preview = stepCollector();
      await handle.stack.preview({ onEvent: preview.onEvent });
      expect(losses(preview.steps)).toEqual([]);
      const up = stepCollector();
      const result = await handle.stack.up({ onEvent: up.onEvent });
      expect(result.summary.result).toBe("succeeded");
      expect(losses(up.steps)).toEqual([]);
      // The steps the engine took, for the report: counts by op.
      const ops: Record<string, number> = {};
      for (const s of up.steps) ops[s.op] = (ops[s.op] ?? 0) + 1;
      process.stderr.write(`${c.stackName} upgrade ${c.version} to HEAD, steps: ${JSON.stringify(ops)}\n`);
      // The cluster agrees: every kept object the release made is the same object.
      const after = await kept();
      const gone = Object.entries(before)
        .filter(([key, id]) => after[key]?.uid !== id.uid)
        .map(([key]) => `${key} ${after[key] ? "replaced" : "deleted"}`);
      expect(gone).toEqual([]);
    });

    test("every workload is Ready and what was written on the claims is still there", async () => {
      await workloadsReady();
      for (const claim of claims) {
        const pvc = (await get("persistentvolumeclaim", claim.name, NAMESPACES[0])) as KubeObject;
        expect({ claim: claim.name, uid: pvc.metadata.uid }).toEqual({ claim: claim.name, uid: claim.uid });
        expect(fs.readFileSync(path.join(claim.dir, MARKER), "utf8")).toBe(claim.uid);
      }
    });

    test("the next preview changes nothing", async () => {
      await handle.stack.preview({ expectNoChanges: true });
    });

    if (c.protectedVolumes) {
      test("destroy still stops at the protected data and deletes nothing", async () => {
        const whole = await kept();
        await expect(handle.cli(["destroy", "--yes"])).rejects.toThrow(/protected/);
        expect(await kept()).toEqual(whole);
      });
    }

    test("after the documented unprotect, destroy removes the stack", async () => {
      if (c.protectedVolumes) await handle.cli(["state", "unprotect", "--all", "--yes"]);
      const result = await handle.stack.destroy();
      destroyed = true;
      expect(result.summary.result).toBe("succeeded");
    });
  });
}
