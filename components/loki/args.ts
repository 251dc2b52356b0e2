/** The Loki component's args: its section's values (section.ts) and what the stack wires in. */
import { EgressSettings } from "../kit/network";
import type { LokiSettings } from "./section";

/** The section's values (retention, storage, resources, the ingestion limits the stack sets), and the wiring. */
export interface LokiArgs extends Omit<LokiSettings, "enabled"> {
  /** The stack namespace. It must exist first: pass its MonitoringNamespace in `opts.dependsOn`. */
  namespace: string;
  /** The stack's environment: app.kubernetes.io/instance and the instance label of the pods admitted. */
  environment: string;
  /**
   * Protect the claim (the stored logs) from deletion and replacement, and keep it in the
   * cluster when it leaves the stack (`protect` + `retainOnDelete`; config protectVolumes).
   * Default false: the claim goes with the stack.
   */
  protectVolumes?: boolean;
  /**
   * The stack's salt: keys the digest of the bucket's key pair on the pod template (checksum/object-store), so that a
   * new pair rolls the pod (kit/secret-digest.ts). Without it, a new pair waits for the pod's next start.
   */
  stackSalt?: Buffer;
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
   * Loki's push port (push-proxy.ts): a sidecar serves port `push` (LOKI_PUSH_PORT) and lets the pushes through alone,
   * and the collectors are admitted there, never on Loki's own port. On while a collector that pushes here scrapes the
   * operator's monitors, and always for another stack's (`sharedCollector`), whose config this stack cannot see.
   * Default false: the collectors push on Loki's own port.
   */
  pushProxy?: boolean;
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
