/**
 * One kube-state-metrics for two stacks, as the stacks render it: production's serving staging
 * (kubeStateMetrics.shareWith) and staging scraping it (kubeStateMetrics.sharedFrom). Why one is
 * enough is measured by npm run bench (docs/benchmark.md, "kube-state-metrics once or twice").
 */
import * as YAML from "yaml";
import { watchSummary } from "../../cli/render";
import { objectOf, objectsOf, render } from "../support/render";
import { parse } from "../config/support";

const SHARE = "kubeStateMetrics.shareWith=[{namespace: monitoring-staging, namespaces: [monitoring-staging, shop-staging]}]";
const SERVED = "kubeStateMetrics.sharedFrom=monitoring-production";

interface Job {
  job_name: string;
  kubernetes_sd_configs?: Array<{ namespaces?: { names: string[] } }>;
  relabel_configs?: Array<{ source_labels?: string[]; regex?: string; action?: string }>;
  metric_relabel_configs?: Array<{ source_labels?: string[]; regex?: string; action?: string }>;
}

const jobOf = (prometheusYml: string | undefined, name: string): Job | undefined =>
  (YAML.parse(prometheusYml ?? "") as { scrape_configs: Job[] }).scrape_configs.find((j) => j.job_name === name);

describe("production's kube-state-metrics serving staging", () => {
  test("it reports staging's namespaces beside its own, and admits staging's Prometheus on the metrics port only", async () => {
    const rendered = await render("production", [SHARE]);
    const args = (
      objectOf(rendered, "Deployment", "kube-state-metrics").spec as { template: { spec: { containers: Array<{ args: string[] }> } } }
    ).template.spec.containers[0].args;
    expect(args.filter((a) => a.startsWith("--namespaces="))).toEqual([
      "--namespaces=kube-system,monitoring-production,monitoring-production-agents,monitoring-staging,shop,shop-staging",
    ]);
    const ingress = (objectOf(rendered, "NetworkPolicy", "kube-state-metrics").spec as { ingress: unknown[] }).ingress;
    expect(ingress).toContainEqual({
      from: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring-staging" } },
          podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/part-of": "monitoring-stack" } },
        },
      ],
      ports: [{ port: 8080, protocol: "TCP" }],
    });
    // Its own Prometheus keeps its namespaces' series and the cluster's (no namespace), not staging's: one stack pages for each.
    expect(jobOf(rendered.files.get("prometheus/prometheus.yml"), "kube-state-metrics")?.metric_relabel_configs).toEqual([
      { source_labels: ["namespace"], regex: "kube-system|monitoring-production|monitoring-production-agents|shop|", action: "keep" },
    ]);
  });

  test("without shareWith, production's renders as before: its own namespaces, its own Prometheus", async () => {
    const rendered = await render("production");
    const args = (
      objectOf(rendered, "Deployment", "kube-state-metrics").spec as { template: { spec: { containers: Array<{ args: string[] }> } } }
    ).template.spec.containers[0].args;
    expect(args.filter((a) => a.startsWith("--namespaces="))).toEqual([
      "--namespaces=kube-system,monitoring-production,monitoring-production-agents,shop",
    ]);
    expect((objectOf(rendered, "NetworkPolicy", "kube-state-metrics").spec as { ingress: unknown[] }).ingress).toHaveLength(1);
    expect(jobOf(rendered.files.get("prometheus/prometheus.yml"), "kube-state-metrics")?.metric_relabel_configs).toBeUndefined();
  });
});

describe("the render's summary says who runs it", () => {
  test("the serving stack names whom it serves, the served one whose it scrapes, a stack alone nothing", () => {
    const last = (c: Record<string, unknown>, profile: "staging" | "production") =>
      watchSummary(parse(profile, { profile, environment: profile, ...c }).config).filter((l) => l.includes("kube-state-metrics"));
    expect(
      last({ kubeStateMetrics: { shareWith: [{ namespace: "monitoring-staging", namespaces: ["shop-staging"] }] } }, "production"),
    ).toEqual(["  kube-state-metrics: also reports shop-staging for the stack in monitoring-staging, whose Prometheus it admits"]);
    expect(last({ kubeStateMetrics: { sharedFrom: "monitoring-production" } }, "staging")).toEqual([
      "  kube-state-metrics: the one of the stack in monitoring-production (kubeStateMetrics.sharedFrom), its series of these namespaces kept",
    ]);
    expect(last({}, "staging")).toEqual([]);
  });
});

describe("staging scraping production's kube-state-metrics", () => {
  test("it runs none of its own, and scrapes the one in monitoring-production keeping only its namespaces' series", async () => {
    const rendered = await render("staging", [SERVED]);
    expect(objectsOf(rendered, "Deployment").map((d) => d.metadata.name)).not.toContain("kube-state-metrics");
    expect(objectsOf(rendered, "ClusterRole").map((d) => d.metadata.name)).not.toContain("monitoring-staging-kube-state-metrics");
    const job = jobOf(rendered.files.get("prometheus/prometheus.yml"), "kube-state-metrics");
    expect(job?.kubernetes_sd_configs).toEqual([{ role: "endpoints", namespaces: { names: ["monitoring-production"] } }]);
    // Whatever the other stack's environment: its instance label is not asked for.
    expect(job?.relabel_configs?.map((r) => r.source_labels?.[0]).filter((l) => l?.includes("instance"))).toEqual([]);
    expect(job?.metric_relabel_configs).toEqual([
      { source_labels: ["namespace"], regex: "monitoring-staging|monitoring-staging-agents|shop-staging", action: "keep" },
    ]);
  });

  test("its cluster, workload, pod and volume dashboards still ship: the series come from the shared one", async () => {
    const served = await render("staging", [SERVED]);
    const off = await render("staging", ["kubeStateMetrics.enabled=false"]);
    const dashboards = (r: Awaited<ReturnType<typeof render>>) =>
      [...r.files.keys()].filter((f) => /^grafana\/.*(cluster|volumes)/.test(f)).sort();
    expect(dashboards(served).length).toBeGreaterThan(0);
    expect(dashboards(off)).toEqual([]);
    expect(jobOf(off.files.get("prometheus/prometheus.yml"), "kube-state-metrics")).toBeUndefined();
  });
});
