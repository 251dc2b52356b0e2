/**
 * What Prometheus would refuse or silently get wrong over several keys of the stack: its section
 * against what the stack gave (a size cap over the volume), the environment label the program sets,
 * and the entries it scrapes (apps[], targets[], probes[]: lists.ts) against the jobs the stack's own
 * components add and against their labels. Keyed from the top of the stack file; config lists them
 * at their place in the one list (config/checks/index.ts). Its section's own problems are problems.ts'.
 */
import { z } from "zod";
import { ProbeSpec } from "../kit/probes";
import { durationSeconds, prometheusSizeBytes, prometheusSizeMB, quantityBytes } from "../kit/units";
import { ArgsProblem } from "../kit/problems";
import { AppTarget, BUILTIN_SCRAPE_JOBS, ScrapeTargetSpec } from "./args";
import { extraLabelProblems, takenJobProblems } from "./problems";
import { appSchema, probeSchema } from "./scraped";
import { PROMETHEUS_BEYOND_CAP_BYTES, PROMETHEUS_MIN_VOLUME, PrometheusSettings, defaultRetentionSize, prometheusSection } from "./section";

/** What the rules read of the stack: its resolved values, and what it gave of Prometheus and the lists. */
export interface PrometheusStack {
  project: string;
  environment: string;
  prometheus: PrometheusSettings;
  apps: readonly AppTarget[];
  targets: readonly ScrapeTargetSpec[];
  probes: readonly ProbeSpec[];
  given: {
    prometheus?: z.infer<(typeof prometheusSection)["schema"]>;
    apps?: ReadonlyArray<z.infer<typeof appSchema>>;
    probes?: ReadonlyArray<z.infer<typeof probeSchema>>;
  };
  /** The jobs of the series the stack's own components give Prometheus, scraped or pushed (components/stack/config.ts componentJobs). */
  componentJobs: readonly string[];
}

/** Problems of an entry of a list the stack scrapes (apps[i], targets[i], probes[i]), keyed below it. */
function entryProblems(entry: string, found: readonly ArgsProblem[], problems: ArgsProblem[]): void {
  for (const p of found) problems.push({ key: `${entry}.${p.key}`, message: p.message });
}

/** What Prometheus would refuse or silently get wrong over several keys, and the component's rules on what it scrapes. */
export function prometheusStackProblems(stack: PrometheusStack): ArgsProblem[] {
  const { prometheus, given } = stack;
  const problems: ArgsProblem[] = [];

  // A compaction writes beyond the cap (a chunk file preallocated at 512 MiB): a cap that leaves less free never applies, the disk fills first.
  const volume = quantityBytes(prometheus.storage.size) ?? 0;
  const cap = prometheusSizeBytes(prometheus.retentionSize) ?? 0;
  const beyond = prometheusSizeMB(PROMETHEUS_BEYOND_CAP_BYTES);
  if (volume < (quantityBytes(PROMETHEUS_MIN_VOLUME) ?? 0)) {
    problems.push({
      key: "prometheus.storage.size",
      message:
        `must be at least ${PROMETHEUS_MIN_VOLUME}: beyond its data Prometheus needs ${beyond} free for a compaction (its chunk file is preallocated at 512 MiB), ` +
        `or every compaction fails and the volume fills (got ${JSON.stringify(prometheus.storage.size)})`,
    });
  } else if (given.prometheus?.retentionSize !== undefined && cap > volume - PROMETHEUS_BEYOND_CAP_BYTES) {
    problems.push({
      key: "prometheus.retentionSize",
      message:
        `must leave ${beyond} of the volume free (prometheus.storage.size ${prometheus.storage.size}, ${prometheusSizeMB(volume)}): a compaction writes ` +
        `beyond the cap (its chunk file is preallocated at 512 MiB), and fails without room, and then the volume fills. At most ` +
        `${prometheusSizeMB(volume - PROMETHEUS_BEYOND_CAP_BYTES)}; the default is ${defaultRetentionSize(volume)} (got ${JSON.stringify(prometheus.retentionSize)})`,
      involves: ["prometheus.storage.size"],
    });
  }

  const taken = [...BUILTIN_SCRAPE_JOBS, ...stack.componentJobs];
  stack.apps.forEach((app, i) => {
    entryProblems(`apps[${i}]`, [...takenJobProblems(app.name, taken, "app"), ...extraLabelProblems(app.labels)], problems);
  });
  stack.targets.forEach((target, i) => {
    entryProblems(`targets[${i}]`, takenJobProblems(target.name, taken, "target"), problems);
    const seconds = (d: string) => durationSeconds(d) ?? 0;
    if (target.timeout !== undefined && seconds(target.timeout) > seconds(target.interval ?? prometheus.scrapeInterval)) {
      problems.push({
        key: `targets[${i}].timeout`,
        message: `must not be longer than the target's interval (${target.interval ?? prometheus.scrapeInterval}); got ${target.timeout}`,
        involves: [`targets[${i}].interval`, "prometheus.scrapeInterval"],
      });
    }
  });
  stack.targets.forEach((target, i) => entryProblems(`targets[${i}]`, extraLabelProblems(target.labels), problems));
  (given.probes ?? []).forEach((pr, i) => entryProblems(`probes[${i}]`, extraLabelProblems(pr.labels ?? {}, ["probe"]), problems));
  stack.apps.forEach((app, i) => {
    if (app.labels.probe !== undefined && given.apps?.[i]?.probe !== undefined) {
      problems.push({
        key: `apps[${i}].labels.probe`,
        message: `is the label of the app's probe series (its name); choose another name`,
      });
    }
  });
  if ("environment" in prometheus.externalLabels) {
    problems.push({
      key: "prometheus.externalLabels.environment",
      message: `is the label the program sets from ${stack.project}:environment ("${stack.environment}"); set that key instead`,
    });
  }
  if (prometheus.replicas > 1 && "replica" in prometheus.externalLabels) {
    problems.push({
      key: "prometheus.externalLabels.replica",
      message: `is set by Prometheus itself when it runs more than one replica (prometheus.replicas is ${prometheus.replicas}); choose another name`,
      involves: ["prometheus.replicas"],
    });
  }
  return problems;
}
