/** The traces backend's args (Jaeger v2 with its embedded Badger store): its section's values (section.ts) and what the stack wires in. */
import type { TracingSettings } from "./section";

/** The section's values (retention: Badger's TTL; storage, claim `data-jaeger-0`; resources), and the wiring. */
export interface TracingArgs extends Omit<TracingSettings, "enabled"> {
  /** The stack namespace. It must exist first: pass its MonitoringNamespace in `opts.dependsOn`. */
  namespace: string;
  /** The stack's environment: app.kubernetes.io/instance and the instance label of the pods admitted. */
  environment: string;
  /**
   * Protect the claim (the stored spans) from deletion and replacement, and keep it in the
   * cluster when it leaves the stack (config protectVolumes). Default false.
   */
  protectVolumes?: boolean;
  /**
   * Only the data claim, no workload: tracing turned off (config tracing.enabled false) in a
   * stack that protects its volumes keeps its spans, as Loki does its logs. Default false.
   */
  dataOnly?: boolean;
  /**
   * The collector admitted to send spans (OTLP): its namespace (the agents namespace) and
   * workload name. Default none: only Grafana (queries) and Prometheus (metrics) reach Jaeger.
   */
  collector?: { namespace: string; agent: string };
  /** The stack's PriorityClass for the pod. Default none. */
  priorityClassName?: string;
}
