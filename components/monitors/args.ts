/**
 * The Prometheus operator's objects without the operator: what the stack reads of the
 * monitoring.coreos.com/v1 kinds other charts publish (ServiceMonitor, PodMonitor, Probe,
 * PrometheusRule), and the CustomResourceDefinitions it installs for them when the cluster has none.
 */
import { images } from "../images";
import { PART_OF } from "../kit/labels";

/** The API group and version of the four kinds. */
export const MONITORING_GROUP = "monitoring.coreos.com";
export const MONITORING_VERSION = "v1";

/** The kinds the stack honours: each one's plural (the CRD's name is `<plural>.monitoring.coreos.com`). */
export const MONITOR_KINDS = {
  ServiceMonitor: { plural: "servicemonitors", singular: "servicemonitor", shortNames: ["smon"] },
  PodMonitor: { plural: "podmonitors", singular: "podmonitor", shortNames: ["pmon"] },
  Probe: { plural: "probes", singular: "probe", shortNames: ["prb"] },
  PrometheusRule: { plural: "prometheusrules", singular: "prometheusrule", shortNames: ["promrule"] },
} as const;

export type MonitorKind = keyof typeof MONITOR_KINDS;

/** The name of a kind's CRD: `<plural>.monitoring.coreos.com`. */
export function crdName(kind: MonitorKind): string {
  return `${MONITOR_KINDS[kind].plural}.${MONITORING_GROUP}`;
}

/**
 * The prometheus-operator release whose API the CRDs follow: the release of the config reloader
 * image the stack pins (components/images.ts), so that one bump moves both.
 */
export const PROMETHEUS_OPERATOR_RELEASE = images.configReloader.replace(/^.*:/, "").replace(/@.*$/, "");

/**
 * The label and annotation that mark the CRDs this stack installed: the label says a monitoring
 * stack owns them, the annotation which one (its namespace). A CRD without the label was installed
 * by someone else (the operator's chart, another tool) and is left alone (preflight/operator-crds.ts).
 */
export const CRD_OWNER_LABEL = "app.kubernetes.io/part-of";
export const CRD_OWNER_VALUE = PART_OF;
export const CRD_OWNER_ANNOTATION = "monitoring-stack/namespace";
export const CRD_RELEASE_ANNOTATION = "monitoring-stack/prometheus-operator-api";

/** How the stack treats the CRDs (config monitors.crds). */
export const CRD_MODES = ["auto", "install", "external"] as const;
export type CrdMode = (typeof CRD_MODES)[number];

/** The limits every monitor is held to (config monitors.limits). */
export interface MonitorLimits {
  samples: number;
  targets: number;
  labels: number;
}

/**
 * The limits of a monitor by default: an app's job's (prometheus' DEFAULT_SCRAPE_LIMITS: 10,000
 * samples, 100 targets, 30 labels on a series, its name and the target labels included).
 */
export const MONITOR_LIMITS: MonitorLimits = { samples: 10_000, targets: 100, labels: 30 };

/** The fields of a ServiceMonitor's, PodMonitor's and Probe's spec each limit is held on. */
export const MONITOR_LIMIT_FIELDS: Record<keyof MonitorLimits, string> = {
  samples: "sampleLimit",
  targets: "targetLimit",
  labels: "labelLimit",
};
