/** The compared Prometheus' scrapes (npm run bench -- --compare-rules), labelled as the anchor stack labels them. */

/**
 * The compared stack's scrapes carry the labels its rules and dashboards select on: kube-prometheus
 * scrapes cAdvisor as job "kubelet" with a `metrics_path` label of /metrics/cadvisor, and the kubelet's
 * own metrics with /metrics; our render's jobs are "cadvisor" and "kubelet". Without them, their
 * cAdvisor rules and panels would read nothing and cost nothing. Every other job keeps its name
 * (kube-state-metrics, node-exporter: the same in both).
 */
export function anchorJobLabels(config: object): unknown[] {
  const { scrape_configs: list } = config as { scrape_configs?: unknown };
  const jobs = Array.isArray(list) ? (list as Array<Record<string, unknown>>) : [];
  const added: Record<string, Array<Record<string, string>>> = {
    cadvisor: [
      { target_label: "job", replacement: "kubelet" },
      { target_label: "metrics_path", replacement: "/metrics/cadvisor" },
    ],
    kubelet: [{ target_label: "metrics_path", replacement: "/metrics" }],
  };
  return jobs.map((job) => {
    const extra = added[String(job.job_name)];
    if (!extra) return job;
    return { ...job, relabel_configs: [...((job.relabel_configs as unknown[] | undefined) ?? []), ...extra] };
  });
}
