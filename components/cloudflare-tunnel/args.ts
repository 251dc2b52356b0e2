/** The Cloudflare tunnel component's args, and the fixed names and ports others read. */
import { EgressSettings } from "../kit/network";
import type { ExposedService } from "../kit/web";
import type { CloudflareSettings, TunnelAccess } from "./section";

/** cloudflared's metrics server: /metrics, /ready (connected to the edge) and /healthcheck. */
export const CLOUDFLARED_METRICS_PORT = 2000;

/** The distroless image's `nonroot` user. */
export const CLOUDFLARED_UID = 65532;

/** Name of the Secret that holds the connector token, and its key. */
export const TOKEN_SECRET = { name: "cloudflared-token", key: "tunnel-token" } as const;

/** The catch-all rule cloudflared requires last: anything not matched by a hostname gets a 404. */
export const CATCH_ALL = { service: "http_status:404" } as const;

/** One service published through the tunnel. */
export interface TunnelRoute {
  /** Which service of the stack (Service `<service>` in the stack's namespace). */
  service: ExposedService;
  /** The public hostname, in the zone; e.g. "grafana.example.com". */
  hostname: string;
  /** Path prefixes answered 404 beside the service's own (Prometheus' /api/v1/admin while backups use it). Default none. */
  unpublished?: string[];
}

/**
 * The section's resolved values (section.ts: the account and the zone, which the section's problems
 * require of a tunnel that runs, the tunnel's name, replicas, resources), and what the stack wires in:
 * the routes (the services the section exposes, with their hostnames), and Access when it is on.
 */
export interface CloudflareTunnelArgs
  extends Required<Pick<CloudflareSettings, "accountId" | "zoneId">>, Pick<CloudflareSettings, "tunnelName" | "replicas" | "resources"> {
  /** Namespace of the stack: the cloudflared pods run there and reach the Services there. */
  namespace: string;
  /** The stack's environment; the app.kubernetes.io/instance label. */
  environment: string;
  /** The services to publish and their hostnames; at least one, each service and hostname once. */
  routes: TunnelRoute[];
  /** Cloudflare Access in front of every hostname. Default: none (the services' own logins only). */
  access?: TunnelAccess;
  /** Further destinations of its egress (config networkPolicy.extraEgress.cloudflared). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pods. Default none. */
  priorityClassName?: string;
  /** The stack's salt (preflight/stack-salt.ts): keys the digest of the connector token in the pods' checksum/token. */
  stackSalt: Buffer;
}

/**
 * Cloudflare as cloudflared reaches it: the tunnel's connections to the edge on 7844 (QUIC over
 * UDP, or HTTP/2 over TCP), which it needs, and 443 for the HTTPS calls Cloudflare lists as
 * optional (update checks, Access token validation, error reports): without them cloudflared
 * runs but logs errors every time.
 */
export const CLOUDFLARE_EDGE_PORTS = { tunnel: 7844, api: 443 } as const;
