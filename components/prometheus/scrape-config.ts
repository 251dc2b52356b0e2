/** prometheus.yml: its shape, its generator, and its cut into scrape files when hundreds of apps outgrow it. */
import * as crypto from "crypto";
import { ScrapeTarget } from "../kit/services";
import {
  PROMETHEUS_PATHS,
  CONFIG_KEY,
  APP_SCRAPE_KEY,
  numberedKey,
  GENERATED_FILE_BUDGET,
  PrometheusArgs,
  prometheusScrapeTarget,
} from "./args";
import { keepService, targetJob, podsJob, appJob, plainTargetJob, probeJob, kubeletJob, clusterTraefikJob } from "./scrape-jobs";
import { toYaml, configMapEntryBytes, cutByBytes } from "./files";
import { RemoteWriteConfigOptions, remoteWriteConfigOptions, remoteWriteFile } from "./remote-write";
import type { RelabelConfig, ScrapeConfig } from "./scrape-types";
import { JOB } from "../kit/stack-jobs";

/** The prometheus.yml object; YAML is made from it by the `yaml` package. */
export interface PrometheusConfig {
  global: {
    scrape_interval: string;
    scrape_timeout: string;
    evaluation_interval: string;
    external_labels: Record<string, string>;
  };
  rule_files: string[];
  /** Further files of scrape configs: the apps' jobs, once they no longer fit in prometheus.yml (see planConfigFiles). */
  scrape_config_files?: string[];
  scrape_configs: ScrapeConfig[];
  alerting?: {
    alert_relabel_configs: RelabelConfig[];
    alertmanagers: Array<{
      api_version: "v2";
      scheme: "http" | "https";
      kubernetes_sd_configs: NonNullable<ScrapeConfig["kubernetes_sd_configs"]>;
      relabel_configs: RelabelConfig[];
    }>;
  };
  remote_write?: Array<
    {
      name: string;
      url: string;
      basic_auth?: { username: string; password_file: string };
      authorization?: { type: "Bearer"; credentials_file: string };
    } & RemoteWriteConfigOptions
  >;
  /** What the OTLP receiver makes labels of, from the resource attributes (the rest go to target_info). */
  otlp?: { promote_resource_attributes: string[] };
}

/** What prometheusConfig needs: the args, without what only the workload uses. */
export type PrometheusConfigArgs = Pick<
  PrometheusArgs,
  | "namespace"
  | "environment"
  | "replicas"
  | "scrapeInterval"
  | "scrapeTimeout"
  | "evaluationInterval"
  | "externalLabels"
  | "scrapeLimits"
  | "apps"
  | "targets"
  | "probes"
  | "blackboxAddress"
  | "scrapeTargets"
  | "clusterTraefik"
  | "watchedNamespaces"
  | "alertmanager"
  | "remoteWrite"
  | "otlpReceiver"
>;

/** The resource attributes of apps' OTLP metrics that Prometheus makes labels: those the collector sets from the pod that sent. */
export const OTLP_PROMOTED_ATTRIBUTES = ["namespace", "pod", "app"] as const;

/** The targets of the stack's Services that Prometheus scrapes: its own, then the other components' (args.scrapeTargets). */
export function scrapedTargets(args: Pick<PrometheusArgs, "namespace" | "environment" | "scrapeTargets">): ScrapeTarget[] {
  return [prometheusScrapeTarget(args.namespace, args.environment), ...(args.scrapeTargets ?? [])];
}

/**
 * job_name of each target: its job when no other target shares it, otherwise the
 * job with a short digest of what makes the target unique (two standalone
 * exporters of one type share a job and differ by their `database` label). Two
 * targets that come out with the same name scrape the same thing: problems.ts refuses them.
 */
export function targetJobNames(targets: readonly ScrapeTarget[]): string[] {
  const digest = (t: ScrapeTarget) =>
    crypto
      .createHash("sha256")
      .update(JSON.stringify([t.namespace, Object.entries(t.selector).sort(), t.port, Object.entries(t.labels ?? {}).sort(), t.path ?? ""]))
      .digest("hex")
      .slice(0, 8);
  return targets.map((t) => (targets.filter((o) => o.job === t.job).length > 1 ? `${t.job}/${digest(t)}` : t.job));
}

/** Key of a remote-write credential in the Secret, and its file name under PROMETHEUS_PATHS.remoteWriteDir. */
export function remoteWriteCredentialKey(name: string): string {
  return remoteWriteFile(name, "credential");
}

/**
 * Every job with `follow_redirects: false` (Prometheus follows a target's redirects by default). A target
 * answers where Prometheus sent it, or its scrape fails ("server returned HTTP status 302"): an app's pod, or a
 * pod annotated for scraping (its `prometheus.io/path`), could otherwise redirect Prometheus' GET to any address
 * Prometheus' egress reaches — Loki's `/ingester/shutdown` or `/flush` on 3100, which Loki's ingress admits
 * Prometheus to for its scrape — and a job's credential (its bearer token or basic auth) would go along.
 */
function noRedirects(jobs: ScrapeConfig[]): ScrapeConfig[] {
  return jobs.map((job) => ({ ...job, follow_redirects: false }));
}

/**
 * The whole prometheus.yml as an object. Pure. It uses only fields that both
 * Prometheus 2.42 (Debian's promtool, which tests check it with) and 3.x (the image)
 * know, except the apps' `fallback_scrape_protocol` (3.0+); Debian's build lacks
 * Kubernetes discovery, and knows no fallback protocol: the tests check both apart.
 */
export function prometheusConfig(args: PrometheusConfigArgs): PrometheusConfig {
  const extra = args.externalLabels;
  const ha = args.replicas > 1;
  const targets = scrapedTargets(args);
  const apps = args.apps ?? [];
  const plain = args.targets ?? [];
  const probes = args.probes ?? [];
  const names = targetJobNames(targets);
  const limits = args.scrapeLimits;
  // What the args must keep together (names, labels, the blackbox exporter's address with probes)
  // is problems.ts': the constructor refuses args with problems before it renders anything.

  const config: PrometheusConfig = {
    global: {
      scrape_interval: args.scrapeInterval,
      scrape_timeout: args.scrapeTimeout,
      evaluation_interval: args.evaluationInterval,
      external_labels: {
        environment: args.environment,
        // Prometheus 3 expands ${VAR} in external labels (so a literal `$` is written `$$`):
        // each replica names itself from POD_NAME, which the downward API sets.
        ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v.replace(/\$/g, "$$$$")])),
        ...(ha ? { replica: "${POD_NAME}" } : {}),
      },
    },
    // An absolute glob: auto-reload watches the files it matches (fixed for absolute paths in Prometheus 3.4).
    rule_files: [`${PROMETHEUS_PATHS.rulesDir}/*.yml`],
    scrape_configs: noRedirects([
      ...targets.map((t, i) => targetJob(t, names[i], args.scrapeTimeout)),
      podsJob(args.environment, args.clusterTraefik, limits, args.watchedNamespaces),
      ...(args.clusterTraefik ? [clusterTraefikJob(args.clusterTraefik)] : []),
      // An app that only sends OTLP has nothing to scrape.
      ...apps.filter((a) => a.service || a.url).map((a) => appJob(a, args.scrapeTimeout, { ...limits, ...a.limits })),
      ...plain.map((t) => plainTargetJob(t, args.scrapeTimeout, { ...limits, ...t.limits })),
      ...probes.map((pr) => probeJob(pr, args.blackboxAddress ?? "", args.scrapeTimeout)),
      kubeletJob(JOB.kubelet, "/metrics", args.watchedNamespaces),
      kubeletJob(JOB.cadvisor, "/metrics/cadvisor", args.watchedNamespaces),
    ]),
  };
  if (args.alertmanager) {
    const am = args.alertmanager;
    config.alerting = {
      // Replicas evaluate the same rules: without their `replica` label the alerts are identical and Alertmanager deduplicates them.
      alert_relabel_configs: [{ action: "labeldrop", regex: "replica" }],
      alertmanagers: [
        {
          api_version: "v2",
          scheme: am.scheme ?? "http",
          kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [am.namespace] } }],
          relabel_configs: keepService(am.selector, am.port),
        },
      ],
    };
  }
  // The collector sets these resource attributes from the pod that sent (components/log-collector/alloy.ts),
  // so that an OTLP app's series carry the labels of a scraped one; service.name and service.instance.id make job and instance.
  if (args.otlpReceiver) config.otlp = { promote_resource_attributes: [...OTLP_PROMOTED_ATTRIBUTES] };
  const remoteWrite = args.remoteWrite ?? [];
  if (remoteWrite.length > 0) {
    config.remote_write = remoteWrite.map((rw) => {
      const file = `${PROMETHEUS_PATHS.remoteWriteDir}/${remoteWriteCredentialKey(rw.name)}`;
      return {
        name: rw.name,
        url: rw.url,
        ...(rw.auth?.type === "basic" ? { basic_auth: { username: rw.auth.username, password_file: file } } : {}),
        ...(rw.auth?.type === "bearer" ? { authorization: { type: "Bearer" as const, credentials_file: file } } : {}),
        ...remoteWriteConfigOptions(rw.name, rw.options ?? {}, PROMETHEUS_PATHS.remoteWriteDir),
      };
    });
  }
  return config;
}

const APP_SCRAPE_HEADER =
  "The apps' scrape jobs: rendered by components/prometheus/scrape-config.ts from the stack config; prometheus.yml includes them.";

const CONFIG_HEADER = "Rendered by components/prometheus/scrape-config.ts from the stack config; edit the config, not this file.";

/**
 * The files of the config directory: prometheus.yml, and, when it would outgrow
 * GENERATED_FILE_BUDGET (hundreds of apps), the apps' jobs moved out into apps.scrape.yml,
 * apps-2.scrape.yml, ..., which prometheus.yml includes (scrape_config_files) and Prometheus
 * reloads with it. Returns the prometheus.yml object as written, and every file by key.
 */
export function planConfigFiles(
  config: PrometheusConfig,
  appJobs: readonly string[],
): { config: PrometheusConfig; files: Array<[string, string]> } {
  const whole = toYaml(config, CONFIG_HEADER);
  if (configMapEntryBytes(CONFIG_KEY, whole) <= GENERATED_FILE_BUDGET) return { config, files: [[CONFIG_KEY, whole]] };
  const isApp = (job: ScrapeConfig) => appJobs.includes(job.job_name);
  const apps = config.scrape_configs.filter(isApp);
  const render = (run: ScrapeConfig[]) => toYaml({ scrape_configs: run }, APP_SCRAPE_HEADER);
  const scrapeFiles = cutByBytes(apps, render, GENERATED_FILE_BUDGET).map((run, i): [string, string] => [
    numberedKey(APP_SCRAPE_KEY, i),
    render(run),
  ]);
  const main: PrometheusConfig = {
    ...config,
    scrape_config_files: [`${PROMETHEUS_PATHS.configDir}/*.scrape.yml`],
    scrape_configs: config.scrape_configs.filter((job) => !isApp(job)),
  };
  return { config: main, files: [[CONFIG_KEY, toYaml(main, CONFIG_HEADER)], ...scrapeFiles] };
}
