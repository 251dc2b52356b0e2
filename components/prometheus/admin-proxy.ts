/**
 * Prometheus' admin API for the backup jobs alone, and its write receivers for the collectors alone. A NetworkPolicy
 * admits a port, never a path: while `--web.enable-admin-api` is on (backups), every client admitted to Prometheus'
 * port would reach /api/v1/admin too (delete_series, clean_tombstones, snapshot); and a collector that scrapes the
 * operator's monitors, admitted for its writes, sends a GET wherever a tenant's monitor points it, with the monitor's
 * `params`: a query of the tenant's, or /debug/pprof, at every scrape. So, with either, Prometheus listens on the pod's
 * loopback only, and a sidecar, Traefik's official image (the release whose binary the tests run), serves the pod's
 * ports:
 *
 * - `http` (9090, every client: Grafana, the replicas, Traefik, cloudflared, the backups' outcome, the collector
 *   without monitors): every path but /api/v1/admin, which gets Traefik's 404;
 * - `admin` (9092, with the admin API; the backup jobs of Prometheus alone: their own NetworkPolicy,
 *   components/backup): `POST /api/v1/admin/tsdb/snapshot`, and `GET /-/healthy` (a restore checks Prometheus is
 *   stopped), nothing else;
 * - `write` (9096, PROMETHEUS_WRITE_PORT, while a collector that scrapes monitors writes here; the collectors alone):
 *   `POST /api/v1/write` and `POST /api/v1/otlp/v1/metrics`, nothing else.
 *
 * With neither nothing changes: Prometheus listens on 9090 itself, no sidecar.
 *
 * The proxy is kit/path-proxy.ts's.
 *
 * Weighed against it: Prometheus' own web config (basic auth, client certificates) covers every path alike, so each
 * client would hold the backups' credential; copying the TSDB's directory from the backup pod instead of a snapshot is
 * not consistent while Prometheus compacts blocks and truncates its WAL; and since Prometheus serves every path on
 * one listener, nothing can take the admin API off the pod's address but a proxy in front of every path, queries
 * included (what that costs: docs/benchmark.md, "The admin API's proxy"). Traefik rather than a smaller proxy
 * (nginx, Caddy): its release binary is the lab's already (the same release as the image), and its rule language is
 * the one the stack's public routes use; a smaller one would be a new image and a new pinned tool to test it with.
 */
import { ProxyEntryPoint, pathProxyRoutes } from "../kit/path-proxy";
import { PROMETHEUS_WRITE_PORT } from "../kit/services";
import { PROMETHEUS_PORT } from "./args";

/** The loopback address Prometheus listens on while the proxy serves the pod's ports. */
export const PROMETHEUS_LOOPBACK = "127.0.0.1:9091";

/** The port of the proxy's `admin` entry point: the TSDB snapshot, for the backup jobs alone. */
export const PROMETHEUS_ADMIN_PORT = 9092;

/** The admin API's prefix: never on `http`. */
export const ADMIN_API_PREFIX = "/api/v1/admin";

/** The one admin call the backups make (backup.sh `snapshot`). */
export const SNAPSHOT_PATH = "/api/v1/admin/tsdb/snapshot";

/** The ConfigMap holding the proxy's routes, and where the proxy container mounts it. */
export const PROXY_CONFIG_MAP = "prometheus-proxy";
export const PROXY_CONFIG_DIR = "/etc/prometheus-proxy";

/** What the proxy serves: the admin port (the admin API on), the write port (a collector that scrapes monitors). */
export interface ProxiedPorts {
  admin: boolean;
  write: boolean;
}

/** The paths a collector writes to: remote writes and OTLP metrics. */
export const WRITE_PATHS = ["/api/v1/write", "/api/v1/otlp/v1/metrics"] as const;

/** The proxy's entry points: `http` for every client, `admin` for the backups, `write` for the collectors. */
export function proxyEntryPoints(ports: ProxiedPorts): ProxyEntryPoint[] {
  return [
    { name: "http", port: PROMETHEUS_PORT },
    ...(ports.admin ? [{ name: "admin", port: PROMETHEUS_ADMIN_PORT }] : []),
    ...(ports.write ? [{ name: "write", port: PROMETHEUS_WRITE_PORT }] : []),
  ];
}

/**
 * The proxy's routes (Traefik's file provider): `http` takes every path that is not under the admin API's
 * prefix; `admin` takes the snapshot (POST) and the health page (GET) alone; `write` the POSTs of WRITE_PATHS
 * alone. All to Prometheus on the loopback, the Host header passed (Prometheus' links use --web.external-url anyway).
 */
export function proxyRoutes(ports: ProxiedPorts): string {
  const writes = WRITE_PATHS.map((p) => `Path(\`${p}\`)`).join(" || ");
  return pathProxyRoutes(
    {
      prometheus: { entryPoints: ["http"], rule: `!PathPrefix(\`${ADMIN_API_PREFIX}\`)` },
      ...(ports.admin
        ? {
            snapshot: {
              entryPoints: ["admin"],
              rule: `(Method(\`POST\`) && Path(\`${SNAPSHOT_PATH}\`)) || (Method(\`GET\`) && Path(\`/-/healthy\`))`,
            },
          }
        : {}),
      ...(ports.write ? { writes: { entryPoints: ["write"], rule: `Method(\`POST\`) && (${writes})` } } : {}),
    },
    "prometheus",
    `http://${PROMETHEUS_LOOPBACK}`,
  );
}
