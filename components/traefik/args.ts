/** The TraefikExposure component's args: the routes it publishes, their certificate, basic auth and rate limit. */
import type * as pulumi from "@pulumi/pulumi";
import type { ExposedService } from "../kit/web";

/** One published service. */
export interface TraefikRoute {
  /** Which service of the stack (Service `<service>` in the stack's namespace). */
  service: ExposedService;
  /** The public hostname, e.g. "grafana.example.com". */
  hostname: string;
  /** Path prefixes left out beside the service's own (Prometheus' /api/v1/admin while backups use it). Default none. */
  unpublished?: string[];
}

export interface TraefikExposureArgs {
  /** Namespace of the stack: the Services, the routes and their middlewares live there. */
  namespace: string;
  /** The stack's environment; the app.kubernetes.io/instance label. */
  environment: string;
  /** The services to publish and their hostnames; at least one, each service once. */
  routes: TraefikRoute[];
  /** Traefik entry points the routes bind to. Default ["websecure"] (k3s' HTTPS entry point). */
  entryPoints?: string[];
  /** TLS Secret (in the stack's namespace) that holds the routes' certificate. Default: none. Exclusive with certResolver. */
  tlsSecretName?: string;
  /** Traefik certificate resolver (e.g. an ACME resolver) that issues the routes' certificate. Default: none. Exclusive with tlsSecretName. */
  certResolver?: string;
  /**
   * Users of the basic-auth middleware in front of Prometheus and Alertmanager; each
   * gets a random password unless basicAuthPasswords gives one. Default ["admin"].
   * Unused when neither is published.
   */
  basicAuthUsers?: string[];
  /**
   * Passwords of some or all basicAuthUsers, by user (secrets; config basicAuthPasswords).
   * A user given here gets no random password: its htpasswd line is basicAuthHash of
   * this one. Default: none, every user gets a random password.
   */
  basicAuthPasswords?: Record<string, pulumi.Input<string>>;
  /**
   * A rate limit in front of basic auth, per client address: Traefik answers 429 to an address
   * past its burst, until its average per period lets it in again. Default: none.
   */
  rateLimit?: RateLimit;
  /**
   * The stack's salt (preflight/stack-salt.ts): the bcrypt salt of each given password is
   * derived from it and the user (basicAuthSalt).
   */
  stackSalt: Buffer;
}

/** Traefik's rateLimit: `average` requests per `period` (a Go duration such as 1s), `burst` at once. */
export interface RateLimit {
  average: number;
  burst: number;
  period: string;
}
