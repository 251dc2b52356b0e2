/**
 * Prometheus' admin API for the backup jobs alone. A NetworkPolicy admits a port, never a path: while
 * `--web.enable-admin-api` is on (backups), every client admitted to Prometheus' port would reach
 * /api/v1/admin too (delete_series, clean_tombstones, snapshot). So, with the admin API on, Prometheus
 * listens on the pod's loopback only, and a sidecar, Traefik's official image (the release whose binary
 * the tests run), serves the pod's ports:
 *
 * - `http` (9090, every client: Grafana, the replicas, the collector, Traefik, cloudflared, the backups'
 *   outcome): every path but /api/v1/admin, which gets Traefik's 404;
 * - `admin` (9092, the backup jobs of Prometheus alone: their own NetworkPolicy, components/backup):
 *   `POST /api/v1/admin/tsdb/snapshot`, and `GET /-/healthy` (a restore checks Prometheus is stopped),
 *   nothing else.
 *
 * Without the admin API nothing changes: Prometheus listens on 9090 itself, no sidecar.
 *
 * Weighed against it: Prometheus' own web config (basic auth, client certificates) covers every path alike, so each
 * client would hold the backups' credential; copying the TSDB's directory from the backup pod instead of a snapshot is
 * not consistent while Prometheus compacts blocks and truncates its WAL; and since Prometheus serves every path on
 * one listener, nothing can take the admin API off the pod's address but a proxy in front of every path, queries
 * included (what that costs: docs/benchmark.md, "The admin API's proxy"). Traefik rather than a smaller proxy
 * (nginx, Caddy): its release binary is the lab's already (the same release as the image), and its rule language is
 * the one the stack's public routes use; a smaller one would be a new image and a new pinned tool to test it with.
 */
import * as YAML from "yaml";
import { ResourceRequirements, requirements } from "../kit/resources";
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
export const PROXY_ROUTES_KEY = "routes.yml";

/** Traefik's encoded characters options (all allowed by default in v3.7): each refused in a path. */
const ENCODED_CHARACTERS = [
  "EncodedSlash",
  "EncodedBackSlash",
  "EncodedNullCharacter",
  "EncodedSemicolon",
  "EncodedPercent",
  "EncodedQuestionMark",
  "EncodedHash",
];

/** The proxy's container name. */
export const PROXY_CONTAINER = "proxy";

/**
 * The proxy's requests and limits, from its measured footprint (docs/benchmark.md, "The admin API's proxy"): 85 MiB
 * resident idle and 96 MiB after 6,000 queries (most of it its binary's mapped pages, 12 to 21 MiB its heap and
 * stacks), 0.35 CPU-seconds per 1,000 requests. Sized as the profiles are (lab/bench/figures.ts): the request the
 * steady figure × 1.25, the memory limit the peak × 2; CPU as Prometheus' queries and scrapes need, a few a second.
 */
export const PROXY_RESOURCES: ResourceRequirements = requirements("5m", "112Mi", "500m", "192Mi");

/**
 * The proxy's static configuration, as flags: the two entry points on every address of the pod, the
 * routes from the mounted directory (watched: a changed ConfigMap applies without a restart), Traefik's
 * /ping on `http` for the kubelet's probes, nothing sent home, no dashboard or API.
 */
export function proxyArgs(): string[] {
  return [
    `--entryPoints.http.address=:${PROMETHEUS_PORT}`,
    `--entryPoints.admin.address=:${PROMETHEUS_ADMIN_PORT}`,
    // A path Traefik would read otherwise than Prometheus (an encoded slash decoded by one of them only) is refused: no
    // spelling of /api/v1/admin gets past the rule. Prometheus' paths never carry these characters encoded.
    ...["http", "admin"].flatMap((entryPoint) =>
      ENCODED_CHARACTERS.map((c) => `--entryPoints.${entryPoint}.http.encodedCharacters.allow${c}=false`),
    ),
    `--providers.file.directory=${PROXY_CONFIG_DIR}`,
    "--providers.file.watch=true",
    "--ping=true",
    "--ping.entryPoint=http",
    "--global.checkNewVersion=false",
    "--global.sendAnonymousUsage=false",
    "--log.level=WARN",
  ];
}

/**
 * The proxy's routes (Traefik's file provider): `http` takes every path that is not under the admin API's
 * prefix; `admin` takes the snapshot (POST) and the health page (GET) alone. Both to Prometheus on the
 * loopback, the Host header passed (Prometheus' links use --web.external-url anyway).
 */
export function proxyRoutes(): string {
  const routes = {
    http: {
      routers: {
        prometheus: {
          entryPoints: ["http"],
          rule: `!PathPrefix(\`${ADMIN_API_PREFIX}\`)`,
          service: "prometheus",
        },
        snapshot: {
          entryPoints: ["admin"],
          rule: `(Method(\`POST\`) && Path(\`${SNAPSHOT_PATH}\`)) || (Method(\`GET\`) && Path(\`/-/healthy\`))`,
          service: "prometheus",
        },
      },
      services: {
        prometheus: { loadBalancer: { servers: [{ url: `http://${PROMETHEUS_LOOPBACK}` }], passHostHeader: true } },
      },
    },
  };
  return YAML.stringify(routes);
}
