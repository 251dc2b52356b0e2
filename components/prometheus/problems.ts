/**
 * What Prometheus refuses in its own args, each rule once. `argsProblems(args)` is the component's
 * check: its constructor runs it on its args (components/prometheus/plan.ts). Those of the section's
 * own values are the section's `problems` (section.ts), which config's loop runs. The rules on the
 * entries of apps[], targets[] and probes[] are exported one by one too: config reports them at
 * their own place in the one list, keyed by the stack's keys (stack-problems.ts).
 */
import { ArgsProblem, duplicateNameProblems, duplicates } from "../kit/problems";
import { BUILTIN_SCRAPE_JOBS, PrometheusArgs, RESERVED_TARGET_LABELS } from "./args";
import { targetJobNames, scrapedTargets } from "./scrape-config";
import { thresholdProblems } from "./rules/thresholds";
import { problems as settingsProblems } from "./section";
import { JOB } from "../kit/stack-jobs";

/** What the check reads: the section's values (config), or the whole args (the constructor). */
export type PrometheusProblemArgs = Pick<PrometheusArgs, "retention" | "scrapeInterval" | "scrapeTimeout"> &
  Partial<
    Pick<
      PrometheusArgs,
      | "namespace"
      | "environment"
      | "apps"
      | "targets"
      | "probes"
      | "blackboxAddress"
      | "scrapeTargets"
      | "clusterTraefik"
      | "thresholds"
      | "backups"
    >
  > & { remoteWrite?: ReadonlyArray<{ name: string }> };

/**
 * Everything Prometheus refuses in its args, keyed by the args' paths (`retention`, `apps[0].labels.job`, …):
 * the section's own problems, and those of what the stack wires in (the entries, the components' targets, the thresholds).
 */
export function argsProblems(args: PrometheusProblemArgs): ArgsProblem[] {
  return [
    ...settingsProblems(args),
    ...scrapedProblems(args),
    ...prefixed("thresholds", args.thresholds ? thresholdProblems(args.thresholds) : []),
  ];
}

/**
 * What the scrape jobs need of what they scrape: apps told apart by name, and from the jobs
 * Prometheus and the stack's components scrape; extra labels that leave the scrape config's own
 * alone; every app's Service port as discovery sees it; the stack's own targets each scraped once,
 * none named like one of Prometheus' own jobs; and the blackbox exporter's address with probes.
 */
function scrapedProblems(args: PrometheusProblemArgs): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const apps = args.apps ?? [];
  const targets = args.targets ?? [];
  const probes = args.probes ?? [];
  const scrapeTargets = args.scrapeTargets ?? [];
  scrapeTargets.forEach((t, i) => {
    for (const p of takenJobProblems(t.job, BUILTIN_SCRAPE_JOBS, "scrape target")) found.push({ ...p, key: `scrapeTargets[${i}].job` });
    found.push(...prefixed(`scrapeTargets[${i}]`, extraLabelProblems(t.labels ?? {})));
  });
  // Prometheus' own target first, as prometheus.yml scrapes them.
  const own =
    args.namespace !== undefined && args.environment !== undefined
      ? scrapedTargets({ namespace: args.namespace, environment: args.environment, scrapeTargets })
      : scrapeTargets;
  for (const job of duplicates(targetJobNames(own))) {
    found.push({ key: "scrapeTargets", message: `two targets of job ${job.split("/")[0]} scrape the same Service port; drop one` });
  }
  const taken = [
    ...BUILTIN_SCRAPE_JOBS,
    ...new Set(own.map((t) => t.job)),
    ...(args.clusterTraefik ? [JOB.traefik] : []),
    ...(probes.length > 0 ? [JOB.probe] : []),
    // The backups push their outcome under this job, with no namespace, as a URL app's or a target's series has none (BackupFailed).
    ...(args.backups ? [JOB.backup] : []),
  ];
  found.push(...appNameProblems(apps));
  apps.forEach((app, i) => {
    found.push(...prefixed(`apps[${i}]`, [...takenJobProblems(app.name, taken, "app"), ...extraLabelProblems(app.labels)]));
    const svc = app.service;
    if (
      svc &&
      svc.port === undefined &&
      svc.targetPort === undefined &&
      svc.targetPortName === undefined &&
      svc.servicePort !== undefined
    ) {
      found.push({
        key: `apps[${i}].service`,
        message: `the Service's port ${svc.servicePort} is not resolved yet; resolveAppServicePorts (preflight/service-ports.ts) reads it from the Service`,
      });
    }
  });
  targets.forEach((target, i) => {
    found.push(...prefixed(`targets[${i}]`, [...takenJobProblems(target.name, taken, "target"), ...extraLabelProblems(target.labels)]));
  });
  probes.forEach((probe, i) => found.push(...prefixed(`probes[${i}]`, extraLabelProblems(probe.labels, ["probe"]))));
  if (probes.length > 0 && !args.blackboxAddress) {
    found.push({
      key: "blackboxAddress",
      message: "is needed with probes: the blackbox exporter's Service as host:port, which Prometheus asks to probe",
    });
  }
  return found;
}

/** Apps each with its own name: one scrape job, one set of contract series and one rule group entry per app. */
export function appNameProblems(apps: ReadonlyArray<{ name: string }>): ArgsProblem[] {
  return duplicateNameProblems(
    "apps",
    apps.map((a) => a.name),
    "app",
  );
}

/** An app's or target's job (its name) against the jobs already scraped (`taken`), whose series its own would mix with; keyed `name`. */
export function takenJobProblems(name: string, taken: readonly string[], kind: string): ArgsProblem[] {
  if (!taken.includes(name)) return [];
  return [
    {
      key: "name",
      message: `is one of the jobs of the stack's own series, which the ${kind}'s would mix with; rename the ${kind} (taken: ${taken.join(", ")}) (got ${JSON.stringify(name)})`,
    },
  ];
}

/**
 * Extra target labels that the scrape config sets itself (RESERVED_TARGET_LABELS, and `extra`: a
 * probe's `probe`), or that Prometheus keeps for itself (`__`); keyed `labels.<label>`.
 */
export function extraLabelProblems(labels: Record<string, string>, extra: readonly string[] = []): ArgsProblem[] {
  const reserved = [...RESERVED_TARGET_LABELS, ...extra];
  return Object.keys(labels)
    .filter((label) => reserved.includes(label) || label.startsWith("__"))
    .map((label) => ({
      key: `labels.${label}`,
      message: reserved.includes(label)
        ? `is a label the scrape config sets itself (${reserved.join(", ")}); choose another name`
        : "starts with __, which Prometheus keeps for itself and drops after relabelling; choose another name",
    }));
}

/** Problems keyed below `at`. */
function prefixed(at: string, found: readonly ArgsProblem[]): ArgsProblem[] {
  return found.map((p) => ({
    ...p,
    key: `${at}.${p.key}`,
    ...(p.involves ? { involves: p.involves.map((k) => `${at}.${k}`) } : {}),
  }));
}
