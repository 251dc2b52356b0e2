/**
 * Loki's push port, for the collectors alone, while a collector that pushes to it scrapes what tenants choose. Loki
 * serves every path on one port: a collector admitted to push there reaches its whole API, `/ingester/shutdown`
 * (Loki 3.7 takes it by GET: it flushes, leaves the ring and exits) and `/flush` among it. A collector that scrapes
 * the operator's monitors (monitors.enabled, or another stack's served to it) sends a GET wherever a monitor points
 * it: a tenant's EndpointSlice may list Loki's pod address, its endpoint `path: /ingester/shutdown`, and Loki would
 * stop at every scrape interval.
 *
 * So, then, a sidecar (kit/path-proxy.ts) serves the pod's `push` port, 3101, and lets through the two pushes alone,
 * by POST: `/loki/api/v1/push` (loki.write) and `/otlp/v1/logs` (the OTLP exporter); anything else gets Traefik's
 * 404. The collectors push there, and Loki's NetworkPolicy admits them there only; Grafana and Prometheus keep 3100,
 * Loki's own. Prometheus sends no request a tenant chose there (it follows no redirect:
 * components/prometheus/scrape-config.ts); Grafana's data source proxy forwards a signed-in user's GET to any path
 * (docs/security.md, the model's table: not guarded).
 *
 * Without such a collector nothing changes: no sidecar, the collector pushes on 3100.
 */
import { ProxyEntryPoint, pathProxyRoutes } from "../kit/path-proxy";
import { LOKI_PORT, LOKI_PUSH_PORT } from "../kit/services";

/** The ConfigMap holding the proxy's routes, and where the proxy container mounts it. */
export const PUSH_PROXY_CONFIG_MAP = "loki-push-proxy";
export const PUSH_PROXY_CONFIG_DIR = "/etc/loki-push-proxy";

/** The proxy's one entry point, `push`, which answers the kubelet's probes (/ping) too. */
export const PUSH_ENTRY_POINTS: readonly ProxyEntryPoint[] = [{ name: "push", port: LOKI_PUSH_PORT }];

/** The paths the collectors push to: Loki's push API (loki.write) and its OTLP logs receiver (otelcol.exporter.otlphttp). */
export const PUSH_PATHS = ["/loki/api/v1/push", "/otlp/v1/logs"] as const;

/** The proxy's routes: a POST to one of the push paths, to Loki on the pod's loopback; nothing else. */
export function pushProxyRoutes(): string {
  const paths = PUSH_PATHS.map((p) => `Path(\`${p}\`)`).join(" || ");
  return pathProxyRoutes(
    { push: { entryPoints: ["push"], rule: `Method(\`POST\`) && (${paths})` } },
    "loki",
    `http://127.0.0.1:${LOKI_PORT}`,
  );
}
