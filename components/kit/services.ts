/** How the components reach one another: the stack's Service ports and URLs, and how Prometheus finds a component's metrics. */
import type * as pulumi from "@pulumi/pulumi";

/**
 * How Prometheus finds a component's metrics: Kubernetes endpoints discovery of the
 * Service that carries `selector` labels in `namespace`, on the named port. Every
 * component exposes its targets as plain data; MonitoringStack hands them all to
 * Prometheus, so a new component is scraped without editing prometheus.ts.
 */

export interface ScrapeTarget {
  /** The `job` label, e.g. "node-exporter". */
  job: string;
  namespace: string;
  /** Labels of the Service to scrape (its workload's selectorLabels). */
  selector: Record<string, string>;
  /** Name of the Service port that serves metrics. */
  port: string;
  /** Default /metrics. */
  path?: string;
  /** Default http. */
  scheme?: "http" | "https";
  /** Extra static labels on every series of the job, e.g. { database: "shop-postgres" }. */
  labels?: Record<string, string>;
  /** Default: the global scrape interval. */
  interval?: string;
  /**
   * Keep the labels the target exposes when they clash with target labels. For
   * exporters that describe other objects (kube-state-metrics reports `namespace`
   * and `pod` of the pods it watches), so that their labels win.
   */
  honorLabels?: boolean;
  /**
   * Keep only the series whose `namespace` is one of these (metric relabelling): another stack's
   * kube-state-metrics shared with this one reports that stack's namespaces too. Default: every series.
   */
  keepNamespaces?: readonly string[];
  /** What `instance` names: the node the pod runs on (node agents) or the pod. Default: the pod. */
  instance?: "node" | "pod";
  /**
   * The port on the node's own address, for a target on the host's network (node-exporter):
   * Prometheus reaches it at the nodes' addresses, which its egress policy opens on this port.
   */
  hostPort?: number;
  /**
   * A target that serves TLS (with scheme https): the certificate Prometheus verifies it with (PEM,
   * its `ca_file`) and the DNS name that certificate carries (its `server_name`). The certificate
   * reaches Prometheus in its scrape credentials Secret, beside the password.
   */
  tls?: { caPem: pulumi.Input<string>; serverName: string };
  /** Basic auth: the user, and the password, a secret that reaches Prometheus in its scrape credentials Secret, never its config. */
  basicAuth?: { username: string; password: pulumi.Input<string> };
}

/**
 * The in-cluster ports of the stack's Services that other components and the
 * exposing proxies reach (Service `<name>`, port `http`). One table: the datasources,
 * the routes, the tunnel and the components themselves read it.
 */
export const SERVICE_PORTS = { grafana: 3000, prometheus: 9090, alertmanager: 9093, loki: 3100 } as const;

/** `http://<service>.<namespace>.svc:<port>`: how pods of the cluster reach a Service. */
export function serviceUrl(service: string, namespace: string, port: number): string {
  return `http://${service}.${namespace}.svc:${port}`;
}

export const LOKI_PORT = SERVICE_PORTS.loki;

/**
 * Loki's push port (Service port `push`) while a collector that scrapes the operator's monitors pushes to it: a proxy
 * that lets through the pushes alone (components/loki/push-proxy.ts). Otherwise the collectors push on LOKI_PORT.
 */
export const LOKI_PUSH_PORT = 3101;

/** Where log collectors push to the Loki of the stack in `namespace`, on `port` (LOKI_PORT or LOKI_PUSH_PORT). */
export function lokiPushUrl(namespace: string, port: number): string {
  return `${serviceUrl("loki", namespace, port)}/loki/api/v1/push`;
}

/**
 * The OTLP ports (gRPC, HTTP) every OpenTelemetry receiver listens on by default: the log
 * collector's, where apps send, and the traces backend's, where the collector forwards traces.
 */
export const OTLP_PORTS = { grpc: 4317, http: 4318 } as const;

/** The traces backend's query API (Jaeger's HTTP API and UI): Grafana's traces datasource. */
export const TRACES_QUERY_PORT = 16686;

/** The traces backend's Service (and StatefulSet, and app.kubernetes.io/name) in the stack's namespace. */
export const TRACES_SERVICE = "jaeger";

/** Where the collector sends spans (OTLP gRPC, host:port) to the traces backend of the stack in `namespace`. */
export function tracesOtlpEndpoint(namespace: string): string {
  return `${TRACES_SERVICE}.${namespace}.svc:${OTLP_PORTS.grpc}`;
}

/**
 * Prometheus' write port (Service port `write`) while a collector that scrapes the operator's monitors writes to it: a
 * proxy that lets through the remote writes and OTLP metrics alone (components/prometheus/admin-proxy.ts). Otherwise
 * the collectors write on Prometheus' own port.
 */
export const PROMETHEUS_WRITE_PORT = 9096;

/** Prometheus' OTLP base URL in `namespace` (an OTLP/HTTP exporter adds /v1/metrics), on `port` (its own or the write port). */
export function prometheusOtlpUrl(namespace: string, port: number): string {
  return `${serviceUrl("prometheus", namespace, port)}/api/v1/otlp`;
}

/** Prometheus' remote-write receiver in a stack namespace (`--web.enable-remote-write-receiver`), on `port` as above. */
export function prometheusRemoteWriteUrl(namespace: string, port: number): string {
  return `${serviceUrl("prometheus", namespace, port)}/api/v1/write`;
}

/** Loki's OTLP base URL in `namespace`, on `port` as lokiPushUrl's (an OTLP/HTTP exporter adds /v1/logs). */
export function lokiOtlpUrl(namespace: string, port: number): string {
  return `${serviceUrl("loki", namespace, port)}/otlp`;
}
