/** The TraefikExposure component's args: the routes it publishes, their certificate, basic auth and rate limit. */
import type * as pulumi from "@pulumi/pulumi";
import type { ExposedService } from "../kit/web";
import type { TraefikConfig } from "./section";

/** One published service. */
export interface TraefikRoute {
  /** Which service of the stack (Service `<service>` in the stack's namespace). */
  service: ExposedService;
  /** The public hostname, e.g. "grafana.example.com". */
  hostname: string;
  /** Path prefixes left out beside the service's own (Prometheus' /api/v1/admin while backups use it). Default none. */
  unpublished?: string[];
}

/**
 * The section's resolved values (section.ts: the entry points, the certificate's source, the basic-auth
 * users, the rate limit), the passwords given as Pulumi secrets, and what the stack wires in: the
 * routes (the services the section exposes, with their hostnames). Whether Traefik is on and the
 * scrape of the cluster's Traefik are the stack's and Prometheus' concern.
 */
export interface TraefikExposureArgs extends Omit<TraefikConfig, "enabled" | "expose" | "metrics" | "basicAuthPasswords"> {
  /** Namespace of the stack: the Services, the routes and their middlewares live there. */
  namespace: string;
  /** The stack's environment; the app.kubernetes.io/instance label. */
  environment: string;
  /** The services to publish and their hostnames; at least one, each service once. */
  routes: TraefikRoute[];
  /**
   * Passwords of some or all basicAuthUsers, by user (secrets; config basicAuthPasswords).
   * A user given here gets no random password: its htpasswd line is basicAuthHash of
   * this one. Default: none, every user gets a random password.
   */
  basicAuthPasswords?: Record<string, pulumi.Input<string>>;
  /**
   * The stack's salt (preflight/stack-salt.ts): the bcrypt salt of each given password is
   * derived from it and the user (basicAuthSalt).
   */
  stackSalt: Buffer;
}

/** Traefik's rateLimit Middleware: `average` requests per `period` (a Go duration such as 1s), `burst` at once. */
export type RateLimit = Omit<TraefikConfig["rateLimit"], "enabled">;
