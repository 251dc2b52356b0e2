/**
 * .github/preview-rbac.yaml read as the API server would grant it: what the preview identity may
 * do cluster-wide (its ClusterRoleBinding) and what only where a RoleBinding gives it a role.
 * Cluster-wide it reads only cluster-scoped kinds, so no ConfigMap or Service of a namespace the
 * stack does not own; nowhere a Secret; no verb but reads. (On a real API server:
 * test/cluster/preview-credentials.test.ts.)
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ROOT } from "../../cli/stackfile";

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface Doc {
  kind: string;
  metadata: { name: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
}

const FILE = path.join(ROOT, ".github", "preview-rbac.yaml");

/**
 * Kubernetes' cluster-scoped resources of the groups a rule may name (the API reference's
 * "Cluster-scoped" kinds; `kubectl api-resources --namespaced=false`): the rest are namespaced.
 */
const CLUSTER_SCOPED: Record<string, string[]> = {
  "": ["namespaces", "nodes", "persistentvolumes", "componentstatuses"],
  "scheduling.k8s.io": ["priorityclasses"],
  "rbac.authorization.k8s.io": ["clusterroles", "clusterrolebindings"],
  "storage.k8s.io": ["storageclasses", "csidrivers", "csinodes", "volumeattachments"],
  "apiextensions.k8s.io": ["customresourcedefinitions"],
  "admissionregistration.k8s.io": ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
};

/** Each (group, resource, verb) a set of roles grants; `*` spelled as such. */
function grants(roles: Doc[]): string[] {
  return roles.flatMap((r) =>
    (r.rules ?? []).flatMap((rule) =>
      rule.apiGroups.flatMap((g) => rule.resources.flatMap((res) => rule.verbs.map((v) => `${g}/${res}:${v}`))),
    ),
  );
}

/** What the file grants cluster-wide (roles a ClusterRoleBinding binds) and what it leaves to RoleBindings. */
function layout(docs: Doc[]) {
  const roles = docs.filter((d) => d.kind === "ClusterRole");
  const bound = new Set(docs.filter((d) => d.kind === "ClusterRoleBinding").map((d) => d.roleRef?.name));
  return { clusterWide: grants(roles.filter((r) => bound.has(r.metadata.name))), all: grants(roles) };
}

/** The grants of `layout` that break a rule, each as its text. */
function problems(docs: Doc[]): string[] {
  const { clusterWide, all } = layout(docs);
  const scoped = (g: string) => {
    const [group, rest] = g.split("/");
    return (CLUSTER_SCOPED[group] ?? []).includes(rest.split(":")[0]);
  };
  return [
    ...clusterWide.filter((g) => !scoped(g)).map((g) => `cluster-wide ${g}: namespaced, so in every namespace`),
    ...all.filter((g) => /\/(secrets|\*):/.test(g)).map((g) => `${g}: Secrets`),
    ...all.filter((g) => !/:(get|list|watch)$/.test(g)).map((g) => `${g}: not a read`),
  ];
}

const read = () => YAML.parseAllDocuments(fs.readFileSync(FILE, "utf8")).map((d) => d.toJS() as Doc);

test("the preview identity reads only cluster-scoped kinds cluster-wide, no Secret anywhere, and writes nothing", () => {
  const docs = read();
  expect(problems(docs)).toEqual([]);
  // The roles the docs bind by RoleBinding exist, and hold what a preview of the stack reads in its namespaces.
  const names = docs.filter((d) => d.kind === "ClusterRole").map((d) => d.metadata.name);
  expect(names.sort()).toEqual(["monitoring-preview", "monitoring-preview-services", "monitoring-preview-stack"]);
  const docsText = fs.readFileSync(path.join(ROOT, "docs", "deployment.md"), "utf8");
  for (const role of ["monitoring-preview-stack", "monitoring-preview-services"])
    expect(docsText).toContain(`create rolebinding monitoring-preview --clusterrole=${role}`);
  expect(layout(docs).all).toEqual(expect.arrayContaining(["/configmaps:get", "apps/statefulsets:list", "/services:get"]));
});

test("the role as it was (every ConfigMap of the cluster), Secrets, or a write verb are refused", () => {
  const docs = read();
  // Before: the namespaced reads in the ClusterRole the ClusterRoleBinding binds.
  const before = docs.map((d) =>
    d.metadata.name === "monitoring-preview" && d.kind === "ClusterRole"
      ? { ...d, rules: [...(d.rules ?? []), { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }] }
      : d,
  );
  expect(problems(before)).toEqual([
    "cluster-wide /configmaps:get: namespaced, so in every namespace",
    "cluster-wide /configmaps:list: namespaced, so in every namespace",
    "cluster-wide /configmaps:watch: namespaced, so in every namespace",
  ]);
  const widened = docs.map((d) =>
    d.metadata.name === "monitoring-preview-stack"
      ? {
          ...d,
          rules: [
            { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
            { apiGroups: ["apps"], resources: ["deployments"], verbs: ["patch"] },
          ],
        }
      : d,
  );
  expect(problems(widened)).toEqual(["/secrets:get: Secrets", "apps/deployments:patch: not a read"]);
});
