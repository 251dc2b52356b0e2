/** The Loki component's args and its defaults in each profile. */
import { EgressSettings } from "../kit/network";
import { Profile, withOverrides } from "../kit/profiles";
import { ResourceRequirements, StorageSpec, requirements } from "../kit/resources";
import { LokiIngestionOverrides } from "./limits";

export interface LokiArgs {
  /** The stack namespace. It must exist first: pass its MonitoringNamespace in `opts.dependsOn`. */
  namespace: string;
  /** The stack's environment: app.kubernetes.io/instance and the instance label of the pods admitted. */
  environment: string;
  /** How long logs are kept (config loki.retention: staging 3d, production 7d): whole days, at least one. */
  retention: string;
  /** The volume of the StatefulSet, claim `data-loki-0` (config loki.storage: staging 10Gi, production 30Gi). */
  storage: StorageSpec;
  /** Requests and limits of the Loki container (config loki.resources). */
  resources: ResourceRequirements;
  /**
   * Ingestion limits the stack sets itself (config loki.ingestion), in bytes; the others are
   * derived from the volume's size and the retention (components/loki/limits.ts). Default none.
   */
  ingestion?: LokiIngestionOverrides;
  /**
   * Protect the claim (the stored logs) from deletion and replacement, and keep it in the
   * cluster when it leaves the stack (`protect` + `retainOnDelete`; config protectVolumes).
   * Default false: the claim goes with the stack.
   */
  protectVolumes?: boolean;
  /**
   * Only the data claim, no workload: Loki is turned off (config loki.enabled false) in a
   * stack that protects its volumes. The claim stays, still protected, with the logs on
   * it, so that turning Loki off never makes Pulumi delete a protected resource, and
   * turning it on again finds its logs. Default false.
   */
  dataOnly?: boolean;
  /**
   * The log collector admitted to push: its namespace (the agents namespace) and its
   * workload name (the agent). Default: none, so only Grafana and Prometheus reach Loki.
   */
  logCollector?: { namespace: string; agent: string };
  /**
   * Another stack's collector admitted to push this stack's logs (config logCollector.sharedFrom):
   * its agents namespace and agent. That stack's environment is not known here: its pods are
   * picked by their name in that namespace. Default none.
   */
  sharedCollector?: { namespace: string; agent: string };
  /**
   * Where the ruler sends the alerts of the LogQL rules: the stack's Alertmanager, each peer's URL
   * (`http://alertmanager-<n>.alertmanager-cluster.<namespace>.svc:9093`, or the Service's with one
   * peer), and the pods its egress opens to. Default none: the ruler evaluates and sends nowhere.
   */
  alertmanager?: { urls: string[]; pods: Record<string, string> };
  /**
   * LogQL alerting rule files, file name to text (the shipped rules/logs/*.yml and the team's
   * `team.<name>.yml`): the ConfigMap `loki-rules`, the ruler's rules of the tenant `fake`. Default none.
   */
  ruleFiles?: Array<[string, string]>;
  /** Further destinations of its egress (config networkPolicy.extraEgress.loki). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pod. Default none. */
  priorityClassName?: string;
}

/** What a profile sets of Loki (config `loki`). */
export type LokiDefaults = Required<Pick<LokiArgs, "retention" | "storage" | "resources" | "ingestion">> & { enabled: boolean };

// npm run bench: 182 MiB and 13m steady, 235 MiB at the peak, plus 24 MiB for the two hours of
// chunks its ingester holds (× 1.25, × 2).
// Ingestion limits: derived from the volume and the retention unless given (components/loki/limits.ts).
const LOKI_STAGING: LokiDefaults = {
  enabled: true,
  retention: "3d",
  storage: { size: "10Gi" },
  resources: requirements("20m", "272Mi", "1", "528Mi"),
  ingestion: {},
};

/** Loki's defaults in each profile: three days of logs in staging, seven in production (kit/profiles.ts: the headroom). */
export const LOKI_DEFAULTS: Record<Profile, LokiDefaults> = {
  staging: LOKI_STAGING,
  production: withOverrides(LOKI_STAGING, {
    retention: "7d",
    storage: { size: "30Gi" },
    resources: requirements("20m", "320Mi", "2", "784Mi"),
  }),
};
