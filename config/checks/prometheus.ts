/**
 * What Prometheus would refuse or silently get wrong over several keys: its section against the
 * apps, targets and probes it scrapes and the jobs the other components add. Its section's own
 * problems are its component's (components/prometheus/problems.ts), which config collects with the
 * section (config/checks/sections.ts); the rules on the entries it scrapes are the component's too,
 * reported here at their place in the one list.
 */
import { durationSeconds, prometheusSizeBytes, prometheusSizeMB, quantityBytes } from "../../components/kit/units";
import { ArgsProblem } from "../../components/kit/problems";
import { BUILTIN_SCRAPE_JOBS } from "../../components/prometheus/args";
import { LOG_COLLECTOR_AGENT } from "../../components/log-collector/args";
import { appNameProblems, extraLabelProblems, takenJobProblems } from "../../components/prometheus/problems";
import { CheckInput } from "./check";
import { StackConfig } from "../../components/stack/config";

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

/** Problems of an entry of a list the stack scrapes (apps[i], targets[i], probes[i]), keyed below it. */
function entryProblems(entry: string, found: readonly ArgsProblem[], { key, problems }: Pick<CheckInput, "key" | "problems">): void {
  for (const p of found) problems.push({ key: key(`${entry}.${p.key}`), message: p.message });
}

/** Apps each with its own name (components/prometheus/problems.ts), first in the list. */
export function appNameChecks({ resolved, key, problems }: CheckInput): void {
  for (const p of appNameProblems(resolved.apps)) problems.push({ key: key(p.key), message: p.message });
}

/** What Prometheus would refuse or silently get wrong over several keys, and the component's rules on what it scrapes. */
export function prometheusRules(input: CheckInput): void {
  const { rawConfig, raw, resolved, key, problems } = input;
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
    entryProblems(`apps[${i}]`, [...takenJobProblems(app.name, taken, "app"), ...extraLabelProblems(app.labels)], input);
  });
  resolved.targets.forEach((target, i) => {
    entryProblems(`targets[${i}]`, takenJobProblems(target.name, taken, "target"), input);
    const seconds = (d: string) => durationSeconds(d) ?? 0;
    if (target.timeout !== undefined && seconds(target.timeout) > seconds(target.interval ?? prometheus.scrapeInterval)) {
      problems.push({
        key: key(`targets[${i}].timeout`),
        message: `must not be longer than the target's interval (${target.interval ?? prometheus.scrapeInterval}); got ${target.timeout}`,
        involves: [key(`targets[${i}].interval`), key("prometheus.scrapeInterval")],
      });
    }
  });
  resolved.targets.forEach((target, i) => entryProblems(`targets[${i}]`, extraLabelProblems(target.labels), input));
  (raw.probes ?? []).forEach((pr, i) => entryProblems(`probes[${i}]`, extraLabelProblems(pr.labels ?? {}, ["probe"]), input));
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
