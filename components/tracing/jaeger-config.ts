/**
 * Jaeger v2's configuration: an OpenTelemetry Collector pipeline (OTLP in, Jaeger's storage
 * exporter out) with the jaeger_storage extension on Badger, the embedded key-value store,
 * on the pod's volume, and the jaeger_query extension serving the HTTP API Grafana reads.
 */
import { validSeconds } from "../kit/units";
import { OTLP_PORTS, TRACES_QUERY_PORT } from "../kit/services";

/** Where the pod sees its files. */
export const JAEGER_PATHS = { config: "/etc/jaeger", data: "/var/jaeger" };

/** The ports of the pod besides OTLP's and the query API's: its own metrics, its health, the query gRPC API. */
export const JAEGER_PORTS = { metrics: 8888, health: 13133, queryGrpc: 16685 } as const;

/** The one Badger store, named in the storage extension, the exporter and the query extension. */
const STORE = "badger";

/** A retention (`2d`; at least an hour, problems.ts) as the Go duration Badger's TTL takes (`48h`). */
export function badgerTtl(retention: string): string {
  const seconds = validSeconds(retention);
  return seconds % 3600 === 0 ? `${seconds / 3600}h` : `${seconds}s`;
}

/** Everything listens on every address: the pod's NetworkPolicy says who reaches what. */
const listen = (port: number) => `0.0.0.0:${port}`;

/** jaeger.yaml: spans kept `retention`, from OTLP gRPC (the collector), queried on TRACES_QUERY_PORT. */
export function jaegerConfig(args: { retention: string }): Record<string, unknown> {
  return {
    service: {
      extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
      pipelines: {
        traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["jaeger_storage_exporter"] },
      },
      telemetry: {
        resource: { "service.name": "jaeger" },
        // Its own metrics (otelcol_receiver_refused_spans, otelcol_exporter_send_failed_spans, …) for Prometheus.
        metrics: { level: "detailed", readers: [{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: JAEGER_PORTS.metrics } } } }] },
        logs: { level: "info" },
      },
    },
    extensions: {
      healthcheckv2: { use_v2: true, http: { endpoint: listen(JAEGER_PORTS.health) } },
      jaeger_query: {
        storage: { traces: STORE },
        // On by default in v2: the query service would send its own spans to localhost:4317, its own receiver.
        enable_tracing: false,
        http: { endpoint: listen(TRACES_QUERY_PORT) },
        grpc: { endpoint: listen(JAEGER_PORTS.queryGrpc) },
      },
      jaeger_storage: {
        backends: {
          [STORE]: {
            badger: {
              directories: { keys: `${JAEGER_PATHS.data}/keys`, values: `${JAEGER_PATHS.data}/values` },
              ephemeral: false,
              ttl: { spans: badgerTtl(args.retention) },
            },
          },
        },
      },
    },
    // OTLP over gRPC only: the collector is the one sender (apps send to the collector).
    receivers: { otlp: { protocols: { grpc: { endpoint: listen(OTLP_PORTS.grpc) } } } },
    processors: {
      // Refuses spans (the collector retries) before the container nears its memory limit.
      memory_limiter: { check_interval: "1s", limit_percentage: 80, spike_limit_percentage: 20 },
      batch: {},
    },
    exporters: { jaeger_storage_exporter: { trace_storage: STORE } },
  };
}
