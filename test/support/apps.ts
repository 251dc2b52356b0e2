/** Apps as config resolves them (AppTarget), for the tests of the generated app rules. */
import type { AppTarget } from "../../components/prometheus/args";

/** An app as config.ts resolves it, with everything overridable. */
export function app(name: string, overrides: Partial<AppTarget> = {}): AppTarget {
  return {
    name,
    service: { namespace: "shop", name, port: "http" },
    path: "/metrics",
    scheme: "http",
    labels: {},
    metrics: {
      requests: "http_requests_total",
      duration: "http_request_duration_seconds",
      statusLabel: "status",
      methodLabel: "method",
      routeLabel: "endpoint",
      activeConnections: "http_connections_active",
    },
    slo: { availabilityRatio: 0.999, latencyP95Seconds: 0.5 },
    alerts: { latencyP95Seconds: 1, errorRatio: 0.05 },
    ...overrides,
  };
}

/** An app that names everything its own way, with its own objectives. */
export const shop = app("shop", {
  metrics: {
    requests: "shop_http_requests_total",
    duration: "shop_http_request_duration_seconds",
    statusLabel: "status_code",
    methodLabel: "verb",
    routeLabel: "handler",
    activeConnections: "shop_open_connections",
  },
  slo: { availabilityRatio: 0.995, latencyP95Seconds: 0.25, minRequestsPerSecond: 2 },
  alerts: { latencyP95Seconds: 0.75, errorRatio: 0.1 },
});
