/**
 * What of the built-in content (dashboards, their rows, rule files, alerts) ships with what the
 * stack runs: a component off takes the content only it feeds with it (contentOff).
 */
import { StackConfig } from "./config";
import { DATABASE_KINDS } from "../database-exporters/kinds";
import { DATABASE_TYPES } from "../kit/database-exporters";
import type { DashboardRow } from "../grafana/dashboards";

/**
 * Whether the collector runs the OTLP endpoint for apps: it runs, and there is something to
 * receive (a traces backend, or an app that says it sends OTLP).
 */
export function otlpEndpoint(cfg: StackConfig): boolean {
  return cfg.logCollector.enabled && (cfg.tracing.enabled || cfg.apps.some((a) => a.otlp));
}

/**
 * The alerts of rules/kubernetes.yml on what the cluster shares: its nodes and kubelets, and its
 * persistent volumes (which belong to no namespace). Only the stack that watches the cluster
 * (watch.cluster) ships them, so that they page once for two stacks on one cluster; the rest of the
 * file reads the namespaces each stack watches.
 */
export const CLUSTER_ALERTS = [
  "KubeNodeNotReady",
  "KubeNodePressure",
  "KubeletDown",
  "KubeNodeReadinessFlapping",
  "KubeletTooManyPods",
  "KubeletPlegDurationHigh",
  "KubePersistentVolumeErrors",
] as const;

/** The rows of the Kubernetes events (logCollector.events): the Logs dashboard's, the pod and workloads views'. */
const EVENTS_LOGS_ROW = "Kubernetes events";
const EVENTS_ROW = "Events";
/** The shipped LogQL rules on the events (rules/logs/). */
export const EVENTS_RULE_FILE = "events.yml";

/**
 * Whether the stack's Loki receives the Kubernetes events of its namespaces: logCollector.events, from
 * its own collector or from the one of the stack that serves it (sharedFrom).
 */
export function eventsCollected(cfg: StackConfig): boolean {
  return cfg.loki.enabled && cfg.logCollector.events && (cfg.logCollector.enabled || cfg.logCollector.sharedFrom !== undefined);
}

/** The Logs dashboard's row of the nodes' journal (logCollector.journal). */
const JOURNAL_LOGS_ROW = "Node journal";
/** The shipped LogQL rules on the nodes' journal (rules/logs/). */
export const JOURNAL_RULE_FILE = "node-journal.yml";

/**
 * Whether the stack's Loki receives the nodes' journal: logCollector.journal, from its own collector only (a serving
 * collector sends the node's journal to its own stack's Loki, never to a served stack's).
 */
export function journalCollected(cfg: StackConfig): boolean {
  return cfg.loki.enabled && cfg.logCollector.enabled && cfg.logCollector.journal;
}

/** The row of the Applications dashboard made of the span metrics (dashboards/applications/app-overview.json). */
const TRACES_ROW = "Traces: requests, errors and duration by span";
/** The row of Stack health on the OTLP endpoint and Jaeger (dashboards/monitoring/stack-health.json). */
const OTLP_HEALTH_ROW = "Traces and the OTLP endpoint";

/**
 * The built-in content only an optional component's metrics feed: the dashboards (by uid) and rule
 * files of the repository that ship only while it runs. Without Loki, the Logs dashboard would have
 * no datasource and the log pipeline's alerts nothing to read; without the node exporter, the Nodes
 * dashboard and rules/nodes.yml would stay empty; in a stack that does not watch the cluster
 * (watch.cluster), the node and volume alerts of rules/kubernetes.yml are the other stack's to
 * page for (CLUSTER_ALERTS); without kube-state-metrics, the views built on
 * it (their variables included) would. rules/kubernetes.yml stays: its kubelet and cAdvisor alerts
 * still apply, and its kube-state-metrics ones find no series and stay silent. The traces rows
 * (the span metrics of the Applications dashboard, Jaeger's and the OTLP endpoint's panels of
 * Stack health) and rules/tracing.yml ship with a traces backend or an OTLP endpoint to watch.
 * Only probes (apps[].probe, probes[]) feed the Uptime dashboard and rules/probes.yml (ProbeSlow
 * reads the thresholds the probes record). A database kind's dashboard and its alerts of
 * rules/databases.yml ship with a database of that kind in databases[], one row per kind of the
 * kinds table (components/database-exporters/kinds.ts), so that a new kind brings its content.
 */
const CONTENT_FED_BY: ReadonlyArray<{
  runs: (cfg: StackConfig) => boolean;
  dashboards: string[];
  ruleFiles: string[];
  rows?: DashboardRow[];
  /** Alerts of rule files that otherwise ship (rules/databases.yml holds every kind's). */
  alerts?: string[];
}> = [
  { runs: (cfg) => cfg.loki.enabled, dashboards: ["logs"], ruleFiles: ["logs.yml"] },
  {
    runs: eventsCollected,
    dashboards: [],
    ruleFiles: [],
    rows: [
      { dashboard: "logs", row: EVENTS_LOGS_ROW },
      { dashboard: "k8s-pod", row: EVENTS_ROW },
      { dashboard: "workloads", row: EVENTS_ROW },
    ],
  },
  { runs: journalCollected, dashboards: [], ruleFiles: [], rows: [{ dashboard: "logs", row: JOURNAL_LOGS_ROW }] },
  { runs: (cfg) => cfg.backup.enabled, dashboards: [], ruleFiles: ["backup.yml"] },
  { runs: (cfg) => cfg.nodeExporter.enabled, dashboards: ["nodes"], ruleFiles: ["nodes.yml"] },
  { runs: (cfg) => cfg.watch.cluster, dashboards: [], ruleFiles: [], alerts: [...CLUSTER_ALERTS] },
  {
    // Its own, or another stack's shared with it (kubeStateMetrics.sharedFrom).
    runs: (cfg) => cfg.kubeStateMetrics.enabled || cfg.kubeStateMetrics.sharedFrom !== undefined,
    dashboards: ["k8s-cluster", "workloads", "k8s-pod", "k8s-volumes"],
    ruleFiles: [],
  },
  { runs: (cfg) => cfg.traefik.metrics.enabled, dashboards: ["traefik"], ruleFiles: ["traefik.yml"] },
  { runs: (cfg) => cfg.tracing.enabled, dashboards: [], ruleFiles: [], rows: [{ dashboard: "app-overview", row: TRACES_ROW }] },
  {
    runs: (cfg) => cfg.tracing.enabled || otlpEndpoint(cfg),
    dashboards: [],
    ruleFiles: ["tracing.yml"],
    rows: [{ dashboard: "stack-health", row: OTLP_HEALTH_ROW }],
  },
  { runs: (cfg) => cfg.probes.length > 0, dashboards: ["uptime"], ruleFiles: ["probes.yml"] },
  ...DATABASE_TYPES.map((type) => ({
    runs: (cfg: StackConfig) => cfg.databases.some((d) => d.type === type),
    dashboards: [DATABASE_KINDS[type].dashboard],
    ruleFiles: [],
    alerts: DATABASE_KINDS[type].alerts,
  })),
];

/** What of the built-in content is left out: nothing the stack runs feeds it. */
export interface ContentOff {
  dashboards: string[];
  ruleFiles: string[];
  rows: DashboardRow[];
  alerts: string[];
}

/** The dashboards, rows, rule files and alerts left out because the component that feeds them is off. */
export function contentOff(cfg: StackConfig): ContentOff {
  const off = CONTENT_FED_BY.filter((c) => !c.runs(cfg));
  return {
    dashboards: off.flatMap((c) => c.dashboards),
    ruleFiles: off.flatMap((c) => c.ruleFiles),
    rows: off.flatMap((c) => c.rows ?? []),
    alerts: off.flatMap((c) => c.alerts ?? []),
  };
}
