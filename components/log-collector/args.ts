/** The log collector's args, its agent, and its requirements. */
import * as pulumi from "@pulumi/pulumi";
import { EgressSettings } from "../kit/network";
import { ResourceRequirements, requirements } from "../kit/resources";
import { Profile, withOverrides } from "../kit/profiles";
import { WATCH_DEFAULTS } from "../kit/watch";
import type { ServedMonitors } from "./served-monitors";
import { JOB } from "../kit/stack-jobs";
import { LOKI_PORT, LOKI_PUSH_PORT, PROMETHEUS_WRITE_PORT, SERVICE_PORTS } from "../kit/services";

/**
 * The agent on every node: Grafana Alloy. Its name is the workload's, the scrape job's and the
 * image's, and the one value logCollector.agent takes.
 */
export const LOG_COLLECTOR_AGENT = JOB.alloy;

export interface LogCollectorArgs {
  /**
   * Namespace of the DaemonSet: the stack's agents namespace (`<namespace>-agents`,
   * Pod Security "privileged"). It must exist first: pass its MonitoringNamespace in `opts.dependsOn`.
   */
  namespace: string;
  /** Namespace of the stack: its Loki receives the logs, its Prometheus scrapes the agent. */
  stackNamespace: string;
  /** The stack's environment: app.kubernetes.io/instance and the Prometheus pods' instance label. */
  environment: string;
  /** Requests and limits of the agent's container (config logCollector.resources). */
  resources: ResourceRequirements;
  /** The namespaces whose pods' logs it collects (config watch). Default: every namespace's. */
  namespaces?: string[];
  /** Where the API server is, and further destinations (config networkPolicy). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pods. Default none. */
  priorityClassName?: string;
  /**
   * Alloy only: an OTLP endpoint for apps (gRPC 4317, HTTP 4318) on every node, behind the
   * `otlp` Service of the agents namespace; `traces` when the stack runs a traces backend to forward
   * spans to. Metrics go to Prometheus' OTLP receiver, logs to Loki's OTLP ingestion; the span
   * metrics derived from the spans every `scrapeInterval` (Prometheus'). Only pods of `fromNamespaces`
   * (those of the apps with apps[].otlp) reach it; none, it admits no one. Default none.
   */
  otlp?: { traces: boolean; scrapeInterval: string; fromNamespaces: string[]; apps?: Array<{ namespace: string; name: string }> };
  /**
   * Other stacks on the cluster this collector serves (config logCollector.shareWith): the pod logs
   * of `namespaces` go to the Loki of the stack in `stackNamespace`. Default none.
   */
  shares?: Array<{ stackNamespace: string; namespaces: string[] }>;
  /**
   * Ship the Kubernetes events of the namespaces it collects (config logCollector.events): Alloy's
   * clustering makes one pod of the DaemonSet watch each namespace, with events read-only there. Default false.
   */
  events?: boolean;
  /**
   * With `events` and `namespaces`: namespaces whose events it reads beyond those, read-only there: `default`,
   * where the Nodes' events are (SystemOOM, NodeNotReady), for the stack that watches the cluster. Default none.
   */
  eventsAlsoIn?: string[];
  /**
   * Read the node's journal (config logCollector.journal; components/log-collector/journal.ts): the host's
   * /var/log/journal, /run/log/journal and /etc/machine-id mounted read-only. Default false.
   */
  journal?: boolean;
  /**
   * The Prometheus operator's monitors (config monitors): ServiceMonitors, PodMonitors and Probes of
   * `namespaces` (none: every namespace) that carry `selector`'s labels, scraped by one collector of
   * the cluster each and remote-written to the stack's Prometheus; `secrets` (`<namespace>/<name>`)
   * the Secrets they may name, the only ones the collector may get. Default none.
   */
  monitors?: {
    namespaces?: string[];
    selector: Record<string, string>;
    secrets: string[];
    scrapeInterval: string;
    scrapeTimeout: string;
    /** The Services Prometheus scrapes itself (apps[], targets[]): the monitors leave their endpoints alone. */
    scrapedServices: Array<{ namespace: string; name: string }>;
    /** The monitors whose series keep the namespace they give (namespaces, or `<namespace>/<name>`); every other one's get its own. */
    honorLabels: string[];
    /** Samples in one scrape of a monitor that sets no sampleLimit. */
    sampleLimit: number;
  };
  /**
   * A Loki-compatible endpoint outside the cluster (config logCollector.externalLoki) that the stack's own pod logs
   * also go to, with its tenant and credential (a secret, mounted as a file); `only` when the stack runs no Loki of
   * its own (loki.enabled false). Default none.
   */
  external?: LogCollectorExternal;
  /**
   * The served stacks (of `shares`) whose monitors this collector scrapes (logCollector.shareWith[].monitors), each with
   * the settings it published (served-monitors.ts; none when not read yet): their samples go to that stack's Prometheus. Default none.
   */
  servedMonitors?: ServedMonitors[];
}

/**
 * Whether the collector scrapes the operator's monitors, its own stack's or a served stack's (configured, read or not):
 * then it sends a GET wherever a tenant's monitor points it, and pushes to Loki's push port, which lets the pushes
 * through and nothing else (components/loki/push-proxy.ts), never to Loki's own, and writes to Prometheus' write port
 * (components/prometheus/admin-proxy.ts). The stack gives its Loki and its Prometheus the proxy by this
 * (components/stack/args.ts).
 */
export function scrapesMonitors(args: Pick<LogCollectorArgs, "monitors" | "servedMonitors">): boolean {
  return args.monitors !== undefined || (args.servedMonitors ?? []).length > 0;
}

/**
 * The port the collector pushes to on its own stack's Loki: the push port while it scrapes monitors, Loki's own
 * otherwise. A served stack's Loki (`shares`) always has the push port: it admits a collector it cannot tell the
 * config of (components/stack/args.ts).
 */
export function lokiPushPortOf(args: Pick<LogCollectorArgs, "monitors" | "servedMonitors">): number {
  return scrapesMonitors(args) ? LOKI_PUSH_PORT : LOKI_PORT;
}

/**
 * The port the collector writes to on its own stack's Prometheus (remote writes of the monitors' samples, apps' OTLP
 * metrics): the write port while it scrapes monitors, Prometheus' own otherwise, as lokiPushPortOf. A served stack's
 * Prometheus always has the write port (components/stack/args.ts).
 */
export function prometheusWritePortOf(args: Pick<LogCollectorArgs, "monitors" | "servedMonitors">): number {
  return scrapesMonitors(args) ? PROMETHEUS_WRITE_PORT : SERVICE_PORTS.prometheus;
}

/** The external endpoint of the stack's own pod logs, as the component takes it. */
export interface LogCollectorExternal {
  url: string;
  tenant?: string;
  auth?: { type: "basic"; username: string; password: pulumi.Input<string> } | { type: "bearer"; token: pulumi.Input<string> };
  only: boolean;
}

/** What a profile sets of the log collector (config `logCollector`). */
export type LogCollectorDefaults = Pick<LogCollectorArgs, "resources"> & { enabled: boolean; events: boolean; journal: boolean };

// Alloy, measured by npm run bench: 224 MiB resident and 29m steady, 227 MiB at
// the peak — 42 MiB its own heap, the rest its 400 MB binary's mapped pages (× 1.25, × 2).
// The journal is the node's: read by the stack that watches the cluster (watch.cluster, production by default), which
// config resolves it with (components/stack/sections.ts), so that two stacks on one node do not store it twice.
const LOG_COLLECTOR_STAGING: LogCollectorDefaults = {
  enabled: true,
  events: true,
  journal: WATCH_DEFAULTS.staging.cluster,
  resources: requirements("40m", "288Mi", "200m", "464Mi"),
};

/** The log collector's defaults in each profile (kit/profiles.ts: the headroom). */
export const LOG_COLLECTOR_DEFAULTS: Record<Profile, LogCollectorDefaults> = {
  staging: LOG_COLLECTOR_STAGING,
  production: withOverrides(LOG_COLLECTOR_STAGING, {
    journal: WATCH_DEFAULTS.production.cluster,
    resources: requirements("45m", "336Mi", "500m", "688Mi"),
  }),
};

/**
 * The ConfigMap, in the agents namespace of a stack whose collector serves others, that says which
 * namespaces' logs it sends to which stack: `<SHARED_LOGS_KEY>` holds `{"<stack namespace>": ["<namespace>", …]}`.
 * A stack served by it (logCollector.sharedFrom) reads it before it deploys (preflight/shared-logs.ts).
 */
export const SHARED_LOGS_CONFIGMAP = "shared-logs";
export const SHARED_LOGS_KEY = "shares.json";

/** The shared-logs record: each served stack's namespace to its namespaces, sorted, as JSON. */
export function sharedLogsRecord(shares: ReadonlyArray<{ stackNamespace: string; namespaces: readonly string[] }>): string {
  const record = Object.fromEntries(
    [...shares].sort((a, b) => a.stackNamespace.localeCompare(b.stackNamespace)).map((s) => [s.stackNamespace, [...s.namespaces].sort()]),
  );
  return `${JSON.stringify(record, null, 2)}\n`;
}
