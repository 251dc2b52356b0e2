/**
 * The credentials of the CI preview (docs/deployment.md: GitHub workflows), on the real engine, provider and
 * API server: the ServiceAccount and read-only roles of .github/preview-rbac.yaml (the namespaced ones
 * bound in the stack's and the app's namespaces, as the docs bind them), a token minted for it with
 * `kubectl create token`, a kubeconfig that holds only that token.
 *
 * The provider's preview sends each create and update to the API server as a server-side apply
 * with dryRun=All, and Kubernetes authorizes a dry-run like the write it simulates. With the
 * read-only role those requests are refused (403) and the provider falls back to the program's
 * own inputs for that resource: the preview succeeds, shows the same changes, and writes nothing.
 * The API server's own request counter (apiserver_request_total, by dry_run and code) shows
 * which of its dry-runs were answered and which refused.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { LocalWorkspace, PreviewResult } from "@pulumi/pulumi/automation";
import { ROOT } from "../../lab/tools/tools";
import { createTeamWorkloads, deleteNamespace } from "./support/apps";
import { kubectl, list } from "./support/kube";
import { StackHandle, openStack } from "./support/stack";

// A namespace of its own, so that this stack shares the tier's cluster with the others.
const NAMESPACE = "monitoring-preview-credentials";
const TEAM = "preview-credentials-team";
const RBAC = path.join(ROOT, ".github", "preview-rbac.yaml");
const SECRETS = {
  grafanaAdminPassword: "preview-credentials-grafana-password",
  "basicAuthPasswords.admin": "preview-credentials-basic-auth",
};

let handle: StackHandle;
let scratch: string;
let previewKubeconfig: string;

/** Dry-run requests the API server has answered so far, by whether it allowed them. */
async function dryRuns(): Promise<{ allowed: number; refused: number }> {
  const metrics = await kubectl(["get", "--raw", "/metrics"]);
  let allowed = 0;
  let refused = 0;
  for (const line of metrics.split("\n")) {
    if (!line.startsWith("apiserver_request_total{") || !line.includes('dry_run="All"')) continue;
    const code = /code="(\d+)"/.exec(line)?.[1] ?? "";
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (code.startsWith("2")) allowed += value;
    else if (code === "403") refused += value;
  }
  return { allowed, refused };
}

/** Identity and version of every object of the stack's namespace: any write changes them. */
async function versions(): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const o of await list("deployments,statefulsets,configmaps,secrets,services,persistentvolumeclaims", NAMESPACE)) {
    const meta = o.metadata as { uid: string; resourceVersion?: string };
    found[`${o.kind}/${o.metadata.name}`] = `${meta.uid}@${meta.resourceVersion}`;
  }
  return found;
}

/** A preview of the handle's stack with another kubeconfig (the CLI and the provider read KUBECONFIG). */
async function previewWith(kubeconfig: string): Promise<PreviewResult> {
  const workspace = handle.stack.workspace as LocalWorkspace;
  const own = workspace.envVars.KUBECONFIG;
  workspace.envVars.KUBECONFIG = kubeconfig;
  try {
    return await handle.stack.preview({ diff: true });
  } finally {
    workspace.envVars.KUBECONFIG = own;
  }
}

const changes = (result: PreviewResult) => Object.fromEntries(Object.entries(result.changeSummary).filter(([op]) => op !== "same"));

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "preview-credentials-"));
  await createTeamWorkloads(TEAM);
  handle = await openStack("staging", { secrets: SECRETS });
  handle.editStackFile((c) => {
    c["monitoring:namespace"] = NAMESPACE;
    // The app is scraped through its Service's port 80, by number: the program reads that
    // Service from the cluster at every preview, so the preview's role must let it.
    c["monitoring:apps"] = [{ name: "api", namespace: TEAM, service: "api", port: 80 }];
    delete c["monitoring:databases"];
    // What the preview's credentials are about needs no node agents and no logs.
    c["monitoring:nodeExporter"] = { enabled: false };
    c["monitoring:logCollector"] = { enabled: false };
    c["monitoring:loki"] = { enabled: false };
  });
});

afterAll(async () => {
  if (handle) await handle.stack.destroy().catch(() => undefined);
  handle?.dispose();
  await kubectl(["delete", "-f", RBAC, "--ignore-not-found"]).catch(() => undefined);
  await deleteNamespace(NAMESPACE);
  await deleteNamespace(TEAM);
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** The RoleBinding docs/deployment.md has an admin create in `namespace`, to one of the file's namespaced roles. */
async function bind(namespace: string, clusterRole: string): Promise<void> {
  await kubectl([
    "-n",
    namespace,
    "create",
    "rolebinding",
    "monitoring-preview",
    `--clusterrole=${clusterRole}`,
    "--serviceaccount=kube-system:monitoring-preview",
  ]);
}

describe("the CI preview's read-only credentials", () => {
  test("the stack is deployed with an admin's credentials", async () => {
    expect((await handle.stack.up()).summary.result).toBe("succeeded");
  });

  test("the documented ServiceAccount gets a token and a kubeconfig of its own, which can read and not write", async () => {
    await kubectl(["apply", "-f", RBAC]);
    // As docs/deployment.md binds them: the stack's objects in its namespace, the Services in the app's.
    await bind(NAMESPACE, "monitoring-preview-stack");
    await bind(TEAM, "monitoring-preview-services");
    const token = (await kubectl(["-n", "kube-system", "create", "token", "monitoring-preview", "--duration=1h"])).trim();
    // The admin kubeconfig's cluster (server and CA) with the token as its only credential.
    const admin = YAML.parse(fs.readFileSync(handle.env.KUBECONFIG, "utf8")) as {
      clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
    };
    const cluster = admin.clusters[0];
    previewKubeconfig = path.join(scratch, "preview.kubeconfig");
    fs.writeFileSync(
      previewKubeconfig,
      YAML.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [cluster],
        users: [{ name: "monitoring-preview", user: { token } }],
        contexts: [{ name: "preview", context: { cluster: cluster.name, user: "monitoring-preview" } }],
        "current-context": "preview",
      }),
      { mode: 0o600 },
    );
    const can = async (verb: string, resource: string, namespace = NAMESPACE) =>
      (await kubectl(["--kubeconfig", previewKubeconfig, "auth", "can-i", verb, resource, "-n", namespace]).catch(() => "no")).trim();
    expect({
      "get statefulsets": await can("get", "statefulsets.apps"),
      "get services (the team's)": await can("get", "services", TEAM),
      "get configmaps (the team's)": await can("get", "configmaps", TEAM),
      "list configmaps (kube-system's)": await can("list", "configmaps", "kube-system"),
      "get clusterroles": await can("get", "clusterroles.rbac.authorization.k8s.io"),
      "get secrets": await can("get", "secrets"),
      "patch statefulsets": await can("patch", "statefulsets.apps"),
      "create configmaps": await can("create", "configmaps"),
      "delete persistentvolumeclaims": await can("delete", "persistentvolumeclaims"),
    }).toEqual({
      "get statefulsets": "yes",
      "get services (the team's)": "yes",
      "get configmaps (the team's)": "no",
      "list configmaps (kube-system's)": "no",
      "get clusterroles": "yes",
      "get secrets": "no",
      "patch statefulsets": "no",
      "create configmaps": "no",
      "delete persistentvolumeclaims": "no",
    });
  });

  test("a preview of a change succeeds with them: no dry-run of theirs is answered, it writes nothing, and it shows what the admin's shows", async () => {
    // Updates (Prometheus' and Alertmanager's config and workloads, Grafana's datasources) and
    // creates (Loki's objects).
    handle.editStackFile((c) => {
      (c["monitoring:prometheus"] as Record<string, unknown>).retention = "5d";
      (c["monitoring:alertmanager"] as Record<string, unknown>).repeatInterval = "6h";
      c["monitoring:loki"] = { enabled: true };
    });
    const before = await versions();
    const start = await dryRuns();
    const readOnly = await previewWith(previewKubeconfig);
    const afterReadOnly = await dryRuns();
    expect(changes(readOnly)).toMatchObject({ create: expect.any(Number), update: expect.any(Number) });
    // No dry-run of this identity was answered. (Whether the provider sent any that the API server
    // refused is not shown here: the counter read by dryRuns() did not count a refused one on the
    // local control plane, so docs/deployment.md says what the provider's source does, not this test.)
    expect(afterReadOnly.allowed - start.allowed).toBe(0);
    expect(await versions()).toEqual(before);

    // The deploy's credentials: the same plan, now dry-run by the API server.
    const admin = await previewWith(handle.env.KUBECONFIG);
    const afterAdmin = await dryRuns();
    expect(changes(admin)).toEqual(changes(readOnly));
    expect(afterAdmin.allowed - afterReadOnly.allowed).toBeGreaterThan(0);
    expect(afterAdmin.refused - afterReadOnly.refused).toBe(0);
    expect(await versions()).toEqual(before);
  });

  test("without get on the team's Services, the preview of an app scraped by port number fails, naming the read", async () => {
    // Without the team namespace's binding: the one read the program itself makes.
    await kubectl(["-n", TEAM, "delete", "rolebinding", "monitoring-preview"]);
    const own = handle.env.KUBECONFIG;
    handle.env.KUBECONFIG = previewKubeconfig;
    try {
      // In a process of its own: a preview the engine stops leaves promises that jest would blame on the test.
      expect(await handle.failing("preview")).toMatch(/services "api" is forbidden/);
    } finally {
      handle.env.KUBECONFIG = own;
      await bind(TEAM, "monitoring-preview-services");
    }
  });
});
