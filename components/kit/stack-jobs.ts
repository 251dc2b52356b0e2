/**
 * The `job` values of the stack's own series: what its Prometheus scrapes itself (the components'
 * jobs, the pod, kubelet and cadvisor jobs, the database exporters', the probes') and what its own
 * pods push (the backups' outcome). The built-in rules select the stack's series by `job` (and
 * `instance`) and then aggregate `namespace` away (NodeCpuHighUsage counts a node's CPUs by
 * `job, instance`; PrometheusJobDown takes `max by (job)`), so a series of a tenant's (a monitor's
 * target, an OTLP push) wearing one of these jobs would be counted with the stack's own and could
 * hide a node's load or a job's outage. The collector never lets a tenant's series carry one: it
 * writes `<namespace>/<job>` instead (tenantJobRename), the form of the pod logs' `job`, which no
 * job here has (none holds a '/').
 *
 * Every job the stack can have, whatever its config, so that the collector of one stack holds back
 * the jobs of another (a served stack's monitors) the same. test/config/checks.test.ts holds the
 * list to every job the render of a stack with every component on gives and every job the shipped
 * rules select on.
 */
import { DATABASE_TYPES, exporterJob } from "./database-exporters";
import { programmingError } from "./problems";

/**
 * Each of the stack's own jobs, named once: the components' scrape targets, Prometheus' built-in
 * jobs (scrape-jobs.ts) and the sections' `jobs` (what config reserves) read their `job` from here;
 * backup.sh, a shell script, pushes as JOB.backup (test/config/checks.test.ts holds it to this).
 */
export const JOB = {
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  grafana: "grafana",
  loki: "loki",
  alloy: "alloy",
  jaeger: "jaeger",
  cloudflared: "cloudflared",
  /** The cluster's Traefik, scraped by Prometheus when `traefik.metrics.enabled` (scrape-jobs.ts clusterTraefikJob). */
  traefik: "traefik",
  nodeExporter: "node-exporter",
  kubeStateMetrics: "kube-state-metrics",
  kubelet: "kubelet",
  cadvisor: "cadvisor",
  /** Pods annotated for scraping (scrape-jobs.ts). */
  pods: "kubernetes-pods",
  blackboxExporter: "blackbox-exporter",
  /** The probes' results, every probe's job (scrape-jobs.ts probeJob). */
  probe: "blackbox",
  /** The backup Jobs push their outcome to Prometheus' OTLP receiver as service "backup" (components/backup/backup.sh). */
  backup: "backup",
} as const;

export const STACK_JOBS: readonly string[] = [...Object.values(JOB), ...DATABASE_TYPES.map(exporterJob)];

/** STACK_JOBS as one alternation, sorted (anchored by Prometheus, Alloy and OTTL's IsMatch with ^…$); job names need no escaping. */
export function stackJobsRegex(): string {
  for (const job of STACK_JOBS) if (!/^[a-z0-9-]+$/.test(job)) programmingError(`not a plain job name: ${JSON.stringify(job)}`);
  return [...STACK_JOBS].sort().join("|");
}
