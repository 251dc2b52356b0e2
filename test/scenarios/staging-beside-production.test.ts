/**
 * Staging and production on one cluster, as the renders say it: no object of one is an
 * object of the other (namespaced or cluster-scoped), one node-exporter runs (production's, which
 * watches the cluster) and a staging one turned on takes another port of the node, and each
 * Prometheus leaves the other stack's labelled pods and database exporters alone.
 * test/cluster/shared-cluster.test.ts deploys both on one node.
 */
import * as YAML from "yaml";
import type { Rendered } from "../../cli/render";
import { ENVIRONMENT_LABEL } from "../../components/kit/database-exporters";
import { objectOf, objectsOf, render } from "../support/render";

const rendered: Partial<Record<"staging" | "production", Rendered>> = {};
beforeAll(async () => {
  rendered.staging = await render("staging");
  rendered.production = await render("production");
});

/** Every object's identity in the cluster: kind, namespace (none for cluster-scoped objects) and name; patches aside. */
const identities = (r: Rendered) =>
  r.kubernetes.filter((o) => !o.patch).map((o) => `${o.object.kind}/${o.object.metadata.namespace ?? ""}/${o.object.metadata.name}`);

test("no object of one stack is an object of the other", () => {
  const staging = new Set(identities(rendered.staging as Rendered));
  expect(identities(rendered.production as Rendered).filter((id) => staging.has(id))).toEqual([]);
  const namespaces = (r: Rendered) => r.kubernetes.filter((o) => o.object.kind === "Namespace").map((o) => o.object.metadata.name);
  expect(namespaces(rendered.staging as Rendered)).toEqual(["monitoring-staging", "monitoring-staging-agents"]);
  expect(namespaces(rendered.production as Rendered)).toEqual(["monitoring-production", "monitoring-production-agents"]);
});

test("only the stack that watches the cluster runs node-exporter; a staging one turned on listens on another port of the node", async () => {
  const port = (r: Rendered) =>
    (
      objectOf(r, "DaemonSet", "node-exporter").spec as {
        template: { spec: { containers: Array<{ ports: Array<{ containerPort: number }> }> } };
      }
    ).template.spec.containers[0].ports[0].containerPort;
  expect(objectsOf(rendered.staging as Rendered, "DaemonSet", "node-exporter")).toEqual([]);
  const stagingAlone = await render("staging", ["watch.cluster=true"]);
  expect([port(stagingAlone), port(rendered.production as Rendered)]).toEqual([9101, 9100]);
});

test("each Prometheus scrapes annotated pods, but of the exporter sidecars only its own stack's", () => {
  for (const stack of ["staging", "production"] as const) {
    const config = YAML.parse((rendered[stack] as Rendered).files.get("prometheus/prometheus.yml") ?? "") as {
      scrape_configs: Array<{ job_name: string; relabel_configs: Array<{ source_labels?: string[]; regex?: string; action?: string }> }>;
    };
    const pods = config.scrape_configs.find((j) => j.job_name === "kubernetes-pods");
    const label = `__meta_kubernetes_pod_label_${ENVIRONMENT_LABEL.replace(/[^a-zA-Z0-9_]/g, "_")}`;
    const rule = pods?.relabel_configs.find((r) => r.source_labels?.includes(label));
    expect(rule).toMatchObject({ action: "keep" });
    // Relabel regexes are anchored: a pod without the label, or with this stack's environment, stays.
    const keeps = (value: string) => new RegExp(`^(?:${rule?.regex})$`).test(value);
    expect([keeps(""), keeps(stack), keeps(stack === "staging" ? "production" : "staging")]).toEqual([true, true, false]);
  }
});

test("each stack's database exporters run in its own namespace, and its Prometheus scrapes those only", () => {
  for (const stack of ["staging", "production"] as const) {
    const r = rendered[stack] as Rendered;
    // No sidecar: nothing is patched into the databases' pods that both stacks watch.
    expect(r.kubernetes.filter((o) => o.patch)).toEqual([]);
    const config = YAML.parse(r.files.get("prometheus/prometheus.yml") ?? "") as {
      scrape_configs: Array<{ job_name: string; kubernetes_sd_configs?: Array<{ role: string; namespaces?: { names: string[] } }> }>;
    };
    for (const job of ["postgres-exporter", "redis-exporter"]) {
      const jobs = config.scrape_configs.filter((j) => j.job_name === job || j.job_name.startsWith(`${job}/`));
      expect(jobs.length).toBeGreaterThan(0);
      for (const j of jobs)
        expect(j.kubernetes_sd_configs).toEqual([{ role: "endpoints", namespaces: { names: [`monitoring-${stack}`] } }]);
    }
  }
});
