/** The traces backend's args (Jaeger v2 with its embedded Badger store) and its defaults in each profile. */
import { Profile, withOverrides } from "../kit/profiles";
import { ResourceRequirements, StorageSpec, requirements } from "../kit/resources";

export interface TracingArgs {
  /** The stack namespace. It must exist first: pass its MonitoringNamespace in `opts.dependsOn`. */
  namespace: string;
  /** The stack's environment: app.kubernetes.io/instance and the instance label of the pods admitted. */
  environment: string;
  /** How long spans are kept (config tracing.retention: staging 1d, production 3d): Badger's TTL, at least an hour. */
  retention: string;
  /** The volume of the StatefulSet, claim `data-jaeger-0` (config tracing.storage: staging 5Gi, production 20Gi). */
  storage: StorageSpec;
  /** Requests and limits of the Jaeger container (config tracing.resources). */
  resources: ResourceRequirements;
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

/**
 * What a profile sets of the traces backend (config `tracing`). `enabled` is off in both: whether
 * Jaeger runs follows the apps (on when one sends OTLP), which config/ resolves (components/stack/tracing.ts).
 */
export type TracingDefaults = Required<Pick<TracingArgs, "retention" | "storage" | "resources">> & { enabled: boolean };

// Memory: Badger's defaults hold up to five 64 MiB memtables and a 256 MiB block cache, which the
// memory limit leaves room for (npm run bench: at most 383 MiB at 489 spans/s).
// Retention and claim: the store levels off at spans/s x retention x the bytes a span takes
// (sizing.ts, measured by npm run jaeger-size); each profile's claim holds its retention at the
// rate SIZED_FOR_SPANS_PER_SECOND states (staging 25 spans/s for a day in 5Gi, production
// 50 spans/s for three days in 20Gi), within 70 % of the claim. The claims keep their sizes: a
// larger default would be refused on a class that cannot expand (k3s's local-path).
// Off unless something sends it spans: without an app that sends OTLP (apps[].otlp) Jaeger would
// hold a claim and memory for nothing. config/ turns it on for such an app, and the stack's own
// tracing.enabled wins either way (components/stack/tracing.ts); only an explicit false in a stack that
// protects its volumes keeps the claim (dataOnly).
const TRACING_STAGING: TracingDefaults = {
  enabled: false,
  retention: "1d",
  storage: { size: "5Gi" },
  resources: requirements("20m", "192Mi", "1", "768Mi"),
};

/** The traces backend in each profile: a day of spans in staging, three days (a weekend) in production. */
export const TRACING_DEFAULTS: Record<Profile, TracingDefaults> = {
  staging: TRACING_STAGING,
  production: withOverrides(TRACING_STAGING, {
    retention: "3d",
    storage: { size: "20Gi" },
    resources: requirements("30m", "256Mi", "2", "1Gi"),
  }),
};
