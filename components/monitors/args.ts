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

/** What a stack's config says of the four kinds (config `monitors`). */
export interface MonitorsSettings {
  /** Honour the four kinds. Default false: nothing of this feature is deployed. */
  enabled: boolean;
  /**
   * The namespaces whose monitors and rules are read; undefined: the stack's watched ones (watch),
   * every namespace when it watches every namespace.
   */
  namespaces?: string[];
  /** Labels every monitor and rule object must carry (a label selector's matchLabels); empty: every object. */
  selector: Record<string, string>;
  /** The Secrets, `<namespace>/<name>`, the monitors may name (basicAuth, bearerTokenSecret, tlsConfig): the collector may get those and no other. */
  secrets: string[];
  /** auto: install the CRDs unless another owner did (read at preview and up); install: always; external: never. */
  crds: CrdMode;
  /** Load the PrometheusRules into Prometheus (read at preview and up). Default true. */
  rules: boolean;
  /**
   * The monitors whose series keep the namespace labels they give (their honorLabels honoured across
   * namespaces): a namespace, or one object as `<namespace>/<name>`. Every other monitor's series get
   * its own namespace, whatever its relabelings or honorLabels say. Default none.
   */
  honorLabels: string[];
  /**
   * What one monitor may take in, whatever it sets itself (the lower wins): `samples` in one scrape
   * (sampleLimit), `targets` of one endpoint's scrape (targetLimit), `labels` on one series (labelLimit).
   */
  limits: MonitorLimits;
}

/** The limits every monitor is held to (config monitors.limits). */
export interface MonitorLimits {
  samples: number;
  targets: number;
  labels: number;
}

/** The samples one scrape of a monitor may return by default: the limit of an app's job (DEFAULT_SCRAPE_LIMITS). */
export const MONITOR_SAMPLE_LIMIT = 10_000;

/**
 * The limits of a monitor by default: an app's job's (DEFAULT_SCRAPE_LIMITS: 10,000 samples, 100
 * targets, 30 labels on a series, its name and the target labels included).
 */
export const MONITOR_LIMITS: MonitorLimits = { samples: MONITOR_SAMPLE_LIMIT, targets: 100, labels: 30 };

/** The fields of a ServiceMonitor's, PodMonitor's and Probe's spec each limit is held on. */
export const MONITOR_LIMIT_FIELDS: Record<keyof MonitorLimits, string> = {
  samples: "sampleLimit",
  targets: "targetLimit",
  labels: "labelLimit",
};

export const MONITORS_DEFAULTS: MonitorsSettings = {
  enabled: false,
  selector: {},
  secrets: [],
  crds: "auto",
  rules: true,
  honorLabels: [],
  limits: { ...MONITOR_LIMITS },
};
