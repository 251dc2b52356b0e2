/** What Prometheus would refuse or silently get wrong over several keys; its section's own problems are its component's (components/prometheus/section.ts). */
import { durationSeconds, prometheusSizeBytes, prometheusSizeMB, quantityBytes } from "../../components/kit/units";
import { BUILTIN_SCRAPE_JOBS, RESERVED_TARGET_LABELS } from "../../components/prometheus/args";
import { LOG_COLLECTOR_AGENT } from "../../components/log-collector/args";
import { CheckInput } from "./check";
import { StackConfig } from "../resolved";

/** The jobs of the scrape targets the stack's own components add for a config (a test holds this to the render). */
export function componentScrapeJobs(resolved: StackConfig): string[] {
  return [
    "prometheus",
    "alertmanager",
    "grafana",
    ...(resolved.loki.enabled ? ["loki"] : []),
    ...(resolved.tracing.enabled ? ["jaeger"] : []),
    ...(resolved.logCollector.enabled ? [LOG_COLLECTOR_AGENT] : []),
    ...(resolved.nodeExporter.enabled ? ["node-exporter"] : []),
    ...(resolved.kubeStateMetrics.enabled ? ["kube-state-metrics"] : []),
    ...(resolved.cloudflare.enabled ? ["cloudflared"] : []),
    // The cluster's Traefik (scrape-jobs.ts clusterTraefikJob), when it is scraped.
    ...(resolved.traefik.metrics.enabled ? ["traefik"] : []),
    ...new Set(resolved.databases.map((db) => `${db.type}-exporter`)),
    // The exporter's own metrics, and the job of every probe it runs.
    ...(resolved.probes.length > 0 ? ["blackbox-exporter", "blackbox"] : []),
  ];
}

/** What Prometheus would refuse or silently get wrong, and what its component refuses. */
export function prometheusRules({ rawConfig, raw, resolved, key, problems }: CheckInput): void {
  const prometheus = resolved.prometheus;

  // A size cap at or over the volume never applies: the disk fills first.
  const volume = quantityBytes(prometheus.storage.size) ?? 0;
  const cap = prometheusSizeBytes(prometheus.retentionSize) ?? 0;
  if (raw.prometheus?.retentionSize !== undefined && cap >= volume) {
    problems.push({
      key: key("prometheus.retentionSize"),
      message:
        `must be smaller than the volume it lives on (prometheus.storage.size ${prometheus.storage.size}, ${prometheusSizeMB(volume)}), with room for the ` +
        `write-ahead log and compaction; the default is 85 % (${prometheusSizeMB(volume * 0.85)}) (got ${JSON.stringify(prometheus.retentionSize)})`,
      involves: [key("prometheus.storage.size")],
    });
  }

  const taken = [...BUILTIN_SCRAPE_JOBS, ...componentScrapeJobs(resolved)];
  resolved.apps.forEach((app, i) => {
    if (taken.includes(app.name)) {
      problems.push({
        key: key(`apps[${i}].name`),
        message: `is the job of one of the stack's own scrape jobs, whose series the app's would mix with; rename the app (taken: ${taken.join(", ")}) (got ${JSON.stringify(app.name)})`,
      });
    }
    for (const label of Object.keys(app.labels)) {
      const reserved = RESERVED_TARGET_LABELS.includes(label);
      if (reserved || label.startsWith("__")) {
        problems.push({
          key: key(`apps[${i}].labels.${label}`),
          message: reserved
            ? `is a label the scrape config sets itself (${RESERVED_TARGET_LABELS.join(", ")}); choose another name`
            : "starts with __, which Prometheus keeps for itself and drops after relabelling; choose another name",
        });
      }
    }
  });
  resolved.targets.forEach((target, i) => {
    if (taken.includes(target.name)) {
      problems.push({
        key: key(`targets[${i}].name`),
        message: `is the job of one of the stack's own scrape jobs, whose series the target's would mix with; rename the target (taken: ${taken.join(", ")}) (got ${JSON.stringify(target.name)})`,
      });
    }
    const seconds = (d: string) => durationSeconds(d) ?? 0;
    if (target.timeout !== undefined && seconds(target.timeout) > seconds(target.interval ?? prometheus.scrapeInterval)) {
      problems.push({
        key: key(`targets[${i}].timeout`),
        message: `must not be longer than the target's interval (${target.interval ?? prometheus.scrapeInterval}); got ${target.timeout}`,
        involves: [key(`targets[${i}].interval`), key("prometheus.scrapeInterval")],
      });
    }
  });
  const reservedLabels = (labels: Record<string, string>, owner: string, extra: readonly string[] = []) => {
    for (const label of Object.keys(labels)) {
      const reserved = [...RESERVED_TARGET_LABELS, ...extra].includes(label);
      if (reserved || label.startsWith("__")) {
        problems.push({
          key: key(`${owner}.labels.${label}`),
          message: reserved
            ? `is a label the scrape config sets itself (${[...RESERVED_TARGET_LABELS, ...extra].join(", ")}); choose another name`
            : "starts with __, which Prometheus keeps for itself and drops after relabelling; choose another name",
        });
      }
    }
  };
  resolved.targets.forEach((target, i) => reservedLabels(target.labels, `targets[${i}]`));
  (raw.probes ?? []).forEach((pr, i) => reservedLabels(pr.labels ?? {}, `probes[${i}]`, ["probe"]));
  resolved.apps.forEach((app, i) => {
    if (app.labels.probe !== undefined && raw.apps?.[i]?.probe !== undefined) {
      problems.push({
        key: key(`apps[${i}].labels.probe`),
        message: `is the label of the app's probe series (its name); choose another name`,
      });
    }
  });
  if ("environment" in prometheus.externalLabels) {
    problems.push({
      key: key("prometheus.externalLabels.environment"),
      message: `is the label the program sets from ${rawConfig.project}:environment ("${resolved.environment}"); set that key instead`,
    });
  }
  if (prometheus.replicas > 1 && "replica" in prometheus.externalLabels) {
    problems.push({
      key: key("prometheus.externalLabels.replica"),
      message: `is set by Prometheus itself when it runs more than one replica (prometheus.replicas is ${prometheus.replicas}); choose another name`,
      involves: [key("prometheus.replicas")],
    });
  }
}
