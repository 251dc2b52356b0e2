/** What every published UI gets: the paths that are never published, the security headers, the web config of Prometheus and Alertmanager. */
import { SERVICE_PORTS } from "./services";

/** The services Traefik or the Cloudflare tunnel can publish. */
export const EXPOSED_SERVICES = ["grafana", "prometheus", "alertmanager"] as const;
export type ExposedService = (typeof EXPOSED_SERVICES)[number];

/**
 * Paths of a published service that neither Traefik nor the tunnel routes to it, whatever the
 * method: a published UI is for reading, and what writes comes from inside the cluster, to the
 * Service. Grafana serves its own metrics at /metrics, and its plugins' at
 * /metrics/plugins/<id>, to anyone: Prometheus scrapes them inside the cluster. Prometheus takes
 * samples in at /api/v1/otlp/v1/metrics (the collector's OTLP, --web.enable-otlp-receiver) and
 * /api/v1/write (a remote-write receiver, --web.enable-remote-write-receiver): from outside,
 * anyone let in could write series into it. Alertmanager reloads its config on POST /-/reload,
 * which its reloader sidecar calls on 127.0.0.1.
 */
export const UNPUBLISHED_PATH_PREFIXES: Partial<Record<keyof typeof SERVICE_PORTS, readonly string[]>> = {
  grafana: ["/metrics"],
  prometheus: ["/api/v1/write", "/api/v1/otlp"],
  alertmanager: ["/-/reload"],
};

/** A request of one method under a path prefix. */
export interface MethodOnPath {
  method: string;
  pathPrefix: string;
}

/**
 * Requests of one method that Traefik does not route, where the same path is published for
 * reading: Alertmanager takes alerts in on POST /api/v2/alerts, which Prometheus sends to the
 * Service from inside the cluster; from outside, anyone let in could page the receivers with
 * alerts of their own (GET /api/v2/alerts lists them for the UI, and stays). The tunnel's rules
 * match a hostname and a path, never a method: on the tunnel, Cloudflare Access is what keeps
 * them out (docs/security.md).
 */
export const UNPUBLISHED_METHODS: Partial<Record<keyof typeof SERVICE_PORTS, readonly MethodOnPath[]>> = {
  alertmanager: [{ method: "POST", pathPrefix: "/api/v2/alerts" }],
};

/** HSTS lifetime of every published UI: a year. */
export const HSTS_MAX_AGE_SECONDS = 31536000;

/**
 * The response headers every published UI gets, whichever path a request takes: Traefik's
 * security-headers Middleware sets them on its routes, and the services set them themselves
 * for the tunnel, which has no such middleware (Grafana in grafana.ini, Prometheus and
 * Alertmanager in their web config). HSTS with subdomains and no preload (a commitment only
 * the domain's owner can make), no MIME sniffing, no framing, and a referrer that never
 * carries a path to another site.
 */
export const SECURITY_HEADERS = {
  "Strict-Transport-Security": `max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains`,
  "X-Content-Type-Options": "nosniff",
  // Lower case: the one spelling Prometheus' web config accepts; browsers ignore the case.
  "X-Frame-Options": "deny",
  "Referrer-Policy": "strict-origin-when-cross-origin",
} as const;

/** Name of the web config file of Prometheus and Alertmanager (`--web.config.file`), beside their config. */
export const WEB_CONFIG_FILE = "web-config.yaml";

/**
 * The web config (`--web.config.file`) Prometheus and Alertmanager read on every request, with
 * the security headers they can set. Their web server (prometheus/exporter-toolkit, the same
 * list in the releases deployed) accepts only Strict-Transport-Security, X-Content-Type-Options,
 * X-Frame-Options, X-XSS-Protection and Content-Security-Policy: Referrer-Policy is the one it
 * cannot send. Browsers apply strict-origin-when-cross-origin, its value here, when a response
 * names none.
 */
export function webConfig(): { http_server_config: { headers: Record<string, string> } } {
  const headers = Object.fromEntries(Object.entries(SECURITY_HEADERS).filter(([name]) => name !== "Referrer-Policy"));
  return { http_server_config: { headers } };
}
