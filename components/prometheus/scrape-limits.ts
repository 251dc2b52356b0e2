/** The scrape limits of the stack's own jobs, and any job's limits as Prometheus' scrape_config fields. */
import { JOB } from "../kit/stack-jobs";
import type { ScrapeLimits } from "./scraped";
import type { ScrapeConfig } from "./scrape-types";

/**
 * The limits of the stack's own components' jobs (Prometheus, Alertmanager, Loki, Alloy, Jaeger,
 * Grafana, the database exporters, node-exporter, the cluster's Traefik). Sized from the real
 * binaries' /metrics on 127.0.0.1 (2026-11-23): Prometheus 1,002 samples, node-exporter 532 (its
 * default collectors on a small host), at most 12 labels exposed on a series (node-exporter's) and
 * label values of at most 77 characters (kube-state-metrics' container_id). 20,000 samples is 20
 * times Prometheus' own; 40 labels leave room for the 5 target labels and every exposed one twice;
 * 2048 characters hold the longest cgroup path or image reference. 100 targets: a component runs
 * at most 3 replicas.
 */
const COMPONENT_JOB_LIMITS: ScrapeLimits = {
  sampleLimit: 20_000,
  labelLimit: 40,
  labelNameLengthLimit: 128,
  labelValueLengthLimit: 2048,
  targetLimit: 100,
};

/** A job with one target a node (its agents, the kubelets): a cluster of up to 500 nodes. */
const PER_NODE_TARGETS = 500;

/**
 * What the jobs that grow with the cluster take over COMPONENT_JOB_LIMITS, sized for a busy node:
 * k3s's kubelet runs at most 110 pods (its default max-pods), and the sizes below hold them twice.
 * - kube-state-metrics: measured against the local control plane (kwok's node holding 110 pods of 2
 *   containers, with requests, limits and a Service each, 10 Deployments) with the stack's --resources:
 *   5,871 samples, 53 a pod. One kube-state-metrics describes the whole cluster: 60,000 holds about
 *   1,100 such pods (ten full nodes).
 * - cadvisor: no kubelet runs here; counted from cAdvisor v0.56's collectors the kubelet enables
 *   (CPU, memory, load, disk I/O and usage, network, processes, OOM: about 55 series a cgroup):
 *   110 pods with 2 containers, the pause container and the pod's cgroup are 440 cgroups, about
 *   24,000 samples a node. 60,000 is that, 2.5 times.
 * - kubelet: its own metrics (request and operation histograms, one set of volume series a claim),
 *   a few thousand: the component limit, with a target a node.
 * - kubernetes-pods: every annotated pod of the cluster is a target; each scrape is an app's
 *   (prometheus.scrapeLimits), the job takes up to 1,000 of them.
 * - blackbox: one probe's result, a few dozen samples.
 */
export const BUILTIN_JOB_LIMITS: Readonly<Record<string, Partial<ScrapeLimits>>> = {
  [JOB.kubeStateMetrics]: { sampleLimit: 60_000 },
  [JOB.cadvisor]: { sampleLimit: 60_000, targetLimit: PER_NODE_TARGETS },
  [JOB.kubelet]: { targetLimit: PER_NODE_TARGETS },
  [JOB.nodeExporter]: { targetLimit: PER_NODE_TARGETS },
  [JOB.alloy]: { targetLimit: PER_NODE_TARGETS },
  [JOB.pods]: { targetLimit: 1_000 },
  [JOB.probe]: { sampleLimit: 1_000 },
};

/** The limits of one of the stack's own jobs (by its `job` label). */
export function builtinJobLimits(job: string): ScrapeLimits {
  return { ...COMPONENT_JOB_LIMITS, ...BUILTIN_JOB_LIMITS[job] };
}

/** A job's limits as Prometheus' scrape_config fields. */
export function limitsOf(
  limits: ScrapeLimits,
): Pick<ScrapeConfig, "sample_limit" | "label_limit" | "label_name_length_limit" | "label_value_length_limit" | "target_limit"> {
  return {
    sample_limit: limits.sampleLimit,
    label_limit: limits.labelLimit,
    label_name_length_limit: limits.labelNameLengthLimit,
    label_value_length_limit: limits.labelValueLengthLimit,
    target_limit: limits.targetLimit,
  };
}
