/**
 * What each stack watches (watch), as the renders say it: kube-state-metrics' namespaces, the
 * kubelet's and cAdvisor's series kept by namespace, the annotated pods and the pod logs of the
 * watched namespaces, and the cluster's shared pieces (node-exporter, the node alerts, the
 * cluster's Traefik) in the stack that watches the cluster only. test/e2e/watch.test.ts runs the
 * rendered cAdvisor job in the real Prometheus.
 */
import * as YAML from "yaml";
import type { Rendered } from "../../cli/render";
import { watchSummary } from "../../cli/render";
import { CLUSTER_ALERTS } from "../../components/stack/content";
import { parseStackConfig } from "../../config";
import { readStackConfig } from "../../cli/stackfile";
import { containerArgs, objectsOf } from "../../lab/local/rendered";
import { render } from "../support/render";

type Job = {
  job_name: string;
  kubernetes_sd_configs?: Array<{ role: string; namespaces?: { names: string[] } }>;
  metric_relabel_configs?: Array<{ source_labels?: string[]; regex?: string; action?: string }>;
};

const STAGING = ["monitoring-staging", "monitoring-staging-agents", "shop-staging"];
const PRODUCTION = ["kube-system", "monitoring-production", "monitoring-production-agents", "shop"];

const jobs = (r: Rendered): Job[] =>
  (YAML.parse(r.files.get("prometheus/prometheus.yml") ?? "") as { scrape_configs: Job[] }).scrape_configs;
const job = (r: Rendered, name: string) => jobs(r).find((j) => j.job_name === name);
const alertsOf = (r: Rendered, file: string): string[] =>
  (YAML.parse(r.files.get(`prometheus/${file}`) ?? "groups: []") as { groups: Array<{ rules: Array<{ alert?: string }> }> }).groups.flatMap(
    (g) => g.rules.flatMap((rule) => (rule.alert ? [rule.alert] : [])),
  );
const ksmNamespaces = (r: Rendered) => containerArgs(r, "Deployment", "kube-state-metrics").filter((a) => a.startsWith("--namespaces"));
/** Whether a metric_relabel keep rule (anchored, as Prometheus' regexes are) keeps a series of this namespace. */
const keeps = (j: Job | undefined, namespace: string) => {
  const rule = j?.metric_relabel_configs?.find((r) => r.action === "keep" && r.source_labels?.join() === "namespace");
  if (!rule) throw new Error(`no keep rule on namespace in job ${j?.job_name}`);
  return new RegExp(`^(?:${rule.regex})$`).test(namespace);
};

const rendered: Partial<Record<"staging" | "production" | "everything", Rendered>> = {};
beforeAll(async () => {
  rendered.staging = await render("staging");
  rendered.production = await render("production");
  rendered.everything = await render("staging", ['watch.namespaces=["*"]', "watch.cluster=true"]);
});
const staging = () => rendered.staging as Rendered;
const production = () => rendered.production as Rendered;
const everything = () => rendered.everything as Rendered;

describe.each([
  ["staging", STAGING, staging],
  ["production", PRODUCTION, production],
] as const)("the %s stack watches its own namespaces", (stack, watched, r) => {
  test("kube-state-metrics reports the objects of those namespaces only", () => {
    expect(ksmNamespaces(r())).toEqual([`--namespaces=${watched.join(",")}`]);
  });

  test("the kubelet and cAdvisor jobs store the series of those namespaces and of none, another stack's not", () => {
    const other = stack === "staging" ? "shop" : "shop-staging";
    for (const name of ["kubelet", "cadvisor"]) {
      expect([...watched, ""].map((ns) => keeps(job(r(), name), ns))).toEqual([...watched, ""].map(() => true));
      expect([other, "kube-systemx", `x${watched[0]}`].map((ns) => keeps(job(r(), name), ns))).toEqual([false, false, false]);
    }
    if (stack === "staging") expect(keeps(job(r(), "cadvisor"), "kube-system")).toBe(false);
  });

  test("the annotated pods are found in those namespaces only", () => {
    expect(job(r(), "kubernetes-pods")?.kubernetes_sd_configs).toEqual([{ role: "pod", namespaces: { names: watched } }]);
  });

  test("the log collector tails the logs of those namespaces' pods only", () => {
    const alloy = r().files.get("log-collector/config.alloy") ?? "";
    expect(alloy).toContain(`namespaces {\n\t\tnames = [${watched.map((n) => `"${n}"`).join(", ")}]\n\t}`);
  });
});

describe("the cluster's shared pieces belong to the stack that watches the cluster", () => {
  test("production (watch.cluster by default) runs node-exporter and ships the node alerts, the Nodes dashboard and the cluster's Traefik", () => {
    expect(objectsOf(production(), "DaemonSet", "node-exporter")).toHaveLength(1);
    expect(jobs(production()).map((j) => j.job_name)).toEqual(expect.arrayContaining(["node-exporter", "traefik"]));
    expect(alertsOf(production(), "kubernetes.yml")).toEqual(expect.arrayContaining([...CLUSTER_ALERTS]));
    expect(alertsOf(production(), "nodes.yml")).toContain("NodeFilesystemAlmostFull");
    expect(alertsOf(production(), "traefik.yml")).toContain("TraefikDown");
    expect([...production().files.keys()]).toEqual(expect.arrayContaining(["grafana/infrastructure__nodes.json"]));
  });

  test("staging ships none of it, and keeps the alerts on its own namespaces' objects", () => {
    expect(objectsOf(staging(), "DaemonSet", "node-exporter")).toEqual([]);
    expect(jobs(staging()).map((j) => j.job_name)).not.toEqual(expect.arrayContaining(["node-exporter"]));
    expect(jobs(staging()).map((j) => j.job_name)).not.toContain("traefik");
    const kubernetes = alertsOf(staging(), "kubernetes.yml");
    expect(kubernetes.filter((a) => (CLUSTER_ALERTS as readonly string[]).includes(a))).toEqual([]);
    expect(kubernetes).toEqual(expect.arrayContaining(["KubeJobFailed", "KubePodCrashLooping", "KubePersistentVolumeAlmostFull"]));
    const files = [...staging().files.keys()];
    expect(files.filter((f) => /nodes\.yml$|traefik\.yml$|__nodes\.json$|__traefik\.json$/.test(f))).toEqual([]);
  });

  test("every alert the stack that watches the cluster ships is an alert of rules/kubernetes.yml", () => {
    expect(
      alertsOf(production(), "kubernetes.yml")
        .filter((a) => (CLUSTER_ALERTS as readonly string[]).includes(a))
        .sort(),
    ).toEqual([...CLUSTER_ALERTS].sort());
  });
});

describe('watch.namespaces: ["*"] watches every namespace, as before', () => {
  test("no namespace filter anywhere, and kube-system's series with the rest", () => {
    expect(ksmNamespaces(everything())).toEqual([]);
    expect(job(everything(), "kubelet")?.metric_relabel_configs).toBeUndefined();
    // cAdvisor's job keeps every series: its one metric relabelling labels the pods' own cgroups (test/e2e/cadvisor-cgroup.test.ts).
    expect(job(everything(), "cadvisor")?.metric_relabel_configs?.map((c) => c.action ?? "replace")).toEqual(["replace"]);
    expect(job(everything(), "kubernetes-pods")?.kubernetes_sd_configs).toEqual([{ role: "pod" }]);
    expect(everything().files.get("log-collector/config.alloy")).not.toContain("namespaces {");
    // watch.cluster: true in a staging stack brings its node-exporter back, on staging's port.
    expect(objectsOf(everything(), "DaemonSet", "node-exporter")).toHaveLength(1);
  });
});

describe("the summary says what the stack watches", () => {
  const configOf = (stack: string, sets: string[] = []) => {
    const input = readStackConfig(stack, sets);
    return parseStackConfig({ project: input.project, stack, values: input.config, secretKeys: input.secretKeys }).config;
  };

  test("staging: its namespaces, and that another stack watches the cluster", () => {
    expect(watchSummary(configOf("staging"))).toEqual([
      "Watches (watch.namespaces, watch.cluster):",
      `  namespaces: ${STAGING.join(", ")}`,
      "  cluster: no, the nodes, kube-system and the cluster's Traefik are left to the stack on the cluster with watch.cluster: true (set it here if none has it)",
    ]);
  });

  test("production: its namespaces with kube-system, and the node alerts it pages for", () => {
    const [, namespaces, cluster] = watchSummary(configOf("production"));
    expect(namespaces).toBe(`  namespaces: ${PRODUCTION.join(", ")}`);
    expect(cluster).toMatch(
      /^ {2}cluster: yes, this stack watches the node alerts \(KubeNodeNotReady, .*rules\/nodes\.yml\), node-exporter, kube-system, the cluster's Traefik; no other stack on the cluster should \(watch\.cluster: false there\)$/,
    );
  });

  test('every namespace, with ["*"]', () => {
    expect(watchSummary(configOf("staging", ['watch.namespaces=["*"]']))[1]).toBe(
      '  namespaces: every namespace (watch.namespaces: ["*"])',
    );
  });
});
