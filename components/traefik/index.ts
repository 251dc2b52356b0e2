/**
 * TraefikExposure: publishes Grafana, Prometheus and Alertmanager through the
 * cluster's Traefik (k3s ships it in kube-system) with IngressRoutes over TLS,
 * security headers on every route, and basic auth, behind a rate limit, in front of
 * the two UIs that have no login of their own.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { StackComponent } from "../kit/component";
import { stackLabels } from "../kit/labels";
import { ExposedService, HSTS_MAX_AGE_SECONDS, SECURITY_HEADERS, UNPUBLISHED_METHODS, UNPUBLISHED_PATH_PREFIXES } from "../kit/web";
import { SERVICE_PORTS } from "../kit/services";
import { refuseProblems } from "../kit/problems";
import { bcryptHashFor, bcryptSaltFor } from "../kit/basic-auth";
import type { RateLimit, TraefikExposureArgs, TraefikRoute } from "./args";
import { problems } from "./section";

/**
 * Services that have no login of their own: anyone who reaches them can read every
 * metric or silence every alert, so a public route to them needs authentication.
 * Grafana has its own login (and an admin password from the stack).
 */
export const SERVICES_WITHOUT_LOGIN: readonly ExposedService[] = ["prometheus", "alertmanager"];

/** Names of the objects this component owns (one of each per stack). */
export const TRAEFIK_NAMES = {
  securityHeaders: "security-headers",
  basicAuth: "basic-auth",
  rateLimit: "rate-limit",
  /** The htpasswd Secret; Traefik reads its `users` key. */
  basicAuthSecret: "basic-auth-users",
} as const;

/** The key Traefik's basicAuth middleware reads htpasswd lines from. */
export const HTPASSWD_KEY = "users";

type Labels = Record<string, string>;

/** A Traefik custom resource as sent to the API server. */
export interface TraefikObject {
  apiVersion: "traefik.io/v1alpha1";
  kind: "IngressRoute" | "Middleware";
  metadata: { name: string; namespace: string; labels: Labels };
  spec: Record<string, unknown>;
}

/** Labels of the component's objects; a route also names the service it publishes. */
export function exposureLabels(environment: string, service?: ExposedService): Labels {
  return {
    ...stackLabels(environment),
    "app.kubernetes.io/component": "exposure",
    ...(service ? { "app.kubernetes.io/name": service } : {}),
  };
}

/**
 * Response headers every published UI gets (kit's SECURITY_HEADERS, which the tunnel's
 * services set themselves): HSTS for a year (subdomains included, no preload: that is a
 * commitment the domain owner makes), no MIME sniffing, no framing, a referrer that never
 * leaks paths to other sites, and the Server and X-Powered-By headers removed (Traefik
 * deletes a response header set to "").
 */
export function securityHeadersMiddleware(namespace: string, environment: string): TraefikObject {
  return {
    apiVersion: "traefik.io/v1alpha1",
    kind: "Middleware",
    metadata: { name: TRAEFIK_NAMES.securityHeaders, namespace, labels: exposureLabels(environment) },
    spec: {
      headers: {
        stsSeconds: HSTS_MAX_AGE_SECONDS,
        stsIncludeSubdomains: true,
        forceSTSHeader: true,
        contentTypeNosniff: true,
        frameDeny: true,
        referrerPolicy: SECURITY_HEADERS["Referrer-Policy"],
        customResponseHeaders: { Server: "", "X-Powered-By": "" },
      },
    },
  };
}

/**
 * Basic auth from the htpasswd Secret. The Authorization header is removed before
 * the request reaches Prometheus or Alertmanager: they do not use it.
 */
export function basicAuthMiddleware(namespace: string, environment: string): TraefikObject {
  return {
    apiVersion: "traefik.io/v1alpha1",
    kind: "Middleware",
    metadata: { name: TRAEFIK_NAMES.basicAuth, namespace, labels: exposureLabels(environment) },
    spec: { basicAuth: { secret: TRAEFIK_NAMES.basicAuthSecret, realm: "monitoring", removeHeader: true } },
  };
}

/**
 * The rate limit in front of basic auth, so that failed logins count too and Traefik checks at
 * most `average` bcrypt hashes a period for a client. Keyed by the address the connection comes
 * from (Traefik's ipStrategy with no depth), never by a header: the routes are reached directly,
 * not through the tunnel (which goes straight to the Services), so a header such as
 * CF-Connecting-IP or X-Forwarded-For is whatever the client wrote, and a new value for every
 * request would be a new bucket for every request.
 */
export function rateLimitMiddleware(namespace: string, environment: string, limit: RateLimit): TraefikObject {
  return {
    apiVersion: "traefik.io/v1alpha1",
    kind: "Middleware",
    metadata: { name: TRAEFIK_NAMES.rateLimit, namespace, labels: exposureLabels(environment) },
    // No sourceCriterion: Traefik then keys by the connection's address (an ipStrategy with no depth), and reads no header.
    spec: { rateLimit: { average: limit.average, burst: limit.burst, period: limit.period } },
  };
}

/** The TLS section of a route: the given Secret, the given resolver, or Traefik's default certificate (`{}`). */
export function routeTls(tls: { tlsSecretName?: string; certResolver?: string }): Record<string, string> {
  if (tls.tlsSecretName) return { secretName: tls.tlsSecretName };
  if (tls.certResolver) return { certResolver: tls.certResolver };
  return {};
}

/** Whether a service's route goes through basic auth. */
export function needsBasicAuth(service: ExposedService): boolean {
  return SERVICES_WITHOUT_LOGIN.includes(service);
}

/**
 * The rule of a service's route: its host, without the paths no one outside may reach
 * (Grafana's /metrics, Prometheus' receivers) and the writes of one method on a path it
 * publishes (Alertmanager's POST /api/v2/alerts). Traefik matches path prefixes on the path
 * with unreserved characters decoded (/%6Detrics is /metrics), as the services read it; a
 * request the rule leaves out matches no route, and Traefik answers 404.
 */
export function routeMatch(route: TraefikRoute): string {
  const excluded = [
    ...[...(UNPUBLISHED_PATH_PREFIXES[route.service] ?? []), ...(route.unpublished ?? [])].map(
      (prefix) => ` && !PathPrefix(\`${prefix}\`)`,
    ),
    ...(UNPUBLISHED_METHODS[route.service] ?? []).map((w) => ` && !(Method(\`${w.method}\`) && PathPrefix(\`${w.pathPrefix}\`))`),
  ];
  return `Host(\`${route.hostname}\`)${excluded.join("")}`;
}

/** The IngressRoute that publishes one service: its host, the middlewares, the Service port, TLS. */
export function ingressRoute(args: {
  namespace: string;
  environment: string;
  route: TraefikRoute;
  entryPoints: string[];
  tls: Record<string, string>;
  /** Whether the basic-auth routes go through the rate limit first. */
  rateLimited?: boolean;
}): TraefikObject {
  const { route } = args;
  const auth = needsBasicAuth(route.service);
  const middlewares = [
    { name: TRAEFIK_NAMES.securityHeaders, namespace: args.namespace },
    ...(auth && args.rateLimited ? [{ name: TRAEFIK_NAMES.rateLimit, namespace: args.namespace }] : []),
    ...(auth ? [{ name: TRAEFIK_NAMES.basicAuth, namespace: args.namespace }] : []),
  ];
  return {
    apiVersion: "traefik.io/v1alpha1",
    kind: "IngressRoute",
    metadata: { name: route.service, namespace: args.namespace, labels: exposureLabels(args.environment, route.service) },
    spec: {
      entryPoints: args.entryPoints,
      routes: [
        {
          kind: "Rule",
          match: routeMatch(route),
          middlewares,
          services: [{ kind: "Service", name: route.service, namespace: args.namespace, port: SERVICE_PORTS[route.service] }],
        },
      ],
      tls: args.tls,
    },
  };
}

/** htpasswd text: one `user:hash` line per user, in the given order. */
export function htpasswd(entries: Array<{ user: string; hash: string }>): string {
  return entries.map((e) => `${e.user}:${e.hash}\n`).join("");
}

/** The use of the stack's salt that the basic-auth bcrypt salts are derived under (kit's bcryptSaltFor, with the user). */
export const BASIC_AUTH_SALT_LABEL = "monitoring-stack/traefik-basic-auth/v2";

/**
 * The 16-byte bcrypt salt of a user's given password (kit's bcryptSaltFor of `<label>:<user>`):
 * another for every user and every stack, so that no table precomputed for one user name serves
 * two stacks; the same on every `up` of a stack, so that the htpasswd Secret shows no diff.
 */
export function basicAuthSalt(stackSalt: Buffer, user: string): Buffer {
  return bcryptSaltFor(stackSalt, `${BASIC_AUTH_SALT_LABEL}:${user}`);
}

/** The bcrypt hash of a given basic-auth password under the stack's salt (basicAuthSalt): a new password, a new hash. */
export function basicAuthHash(user: string, password: string, stackSalt: Buffer): string {
  return bcryptHashFor(password, stackSalt, `${BASIC_AUTH_SALT_LABEL}:${user}`);
}

/**
 * Traefik IngressRoutes for the published services, a security-headers
 * Middleware on every route and, in front of Prometheus and Alertmanager, a
 * basic-auth Middleware whose users get the given or random passwords (bcrypt in an
 * htpasswd Secret). Traefik's pods are admitted by the NetworkPolicies of the services.
 */
export class TraefikExposure extends StackComponent {
  /** https://<hostname> of each published service. */
  public readonly urls: Partial<Record<ExposedService, string>>;
  /** The basic-auth users (empty when no published service needs basic auth). */
  public readonly basicAuthUsers: string[];
  /** The basic-auth passwords by user (secret; empty when no published service needs basic auth). */
  public readonly basicAuthPasswords: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: TraefikExposureArgs, opts?: pulumi.ComponentResourceOptions) {
    // What config's schema refuses is trusted; what its problems() finds is refused before any resource.
    refuseProblems("TraefikExposure", name, problems(args), opts);
    super("monitoring:index:TraefikExposure", name, opts);
    const child = { parent: this };
    const ns = args.namespace;

    this.urls = Object.fromEntries(args.routes.map((r) => [r.service, `https://${r.hostname}`]));

    const withBasicAuth = args.routes.some((r) => needsBasicAuth(r.service));
    this.basicAuthUsers = withBasicAuth ? [...args.basicAuthUsers] : [];
    // A given password is hashed here; any other user gets a RandomPassword, keyed by user
    // name, so that reordering the list never regenerates a password.
    const given = args.basicAuthPasswords ?? {};
    const passwords = this.basicAuthUsers.map((user) => {
      const password = given[user];
      if (password !== undefined) {
        const secret = pulumi.secret(password);
        return { user, password: secret, hash: secret.apply((p) => basicAuthHash(user, p, args.stackSalt)) };
      }
      const generated = new random.RandomPassword(`${name}-password-${user}`, { length: 32, special: false }, child);
      return { user, password: generated.result, hash: generated.bcryptHash };
    });
    this.basicAuthPasswords = pulumi.secret(
      pulumi.all(passwords.map((p) => p.password)).apply((results) => Object.fromEntries(results.map((r, i) => [passwords[i].user, r]))),
    );

    const middlewares: k8s.apiextensions.CustomResource[] = [
      new k8s.apiextensions.CustomResource(`${name}-security-headers`, securityHeadersMiddleware(ns, args.environment), child),
    ];
    const rateLimited = withBasicAuth && args.rateLimit.enabled;
    if (rateLimited) {
      middlewares.push(
        new k8s.apiextensions.CustomResource(`${name}-rate-limit`, rateLimitMiddleware(ns, args.environment, args.rateLimit), child),
      );
    }
    if (withBasicAuth) {
      const lines = pulumi
        .all(passwords.map((p) => p.hash))
        .apply((hashes) => htpasswd(hashes.map((hash, i) => ({ user: passwords[i].user, hash }))));
      const secret = new k8s.core.v1.Secret(
        `${name}-basic-auth-users`,
        {
          metadata: { name: TRAEFIK_NAMES.basicAuthSecret, namespace: ns, labels: exposureLabels(args.environment) },
          type: "Opaque",
          stringData: { [HTPASSWD_KEY]: pulumi.secret(lines) },
        },
        child,
      );
      middlewares.push(
        new k8s.apiextensions.CustomResource(`${name}-basic-auth`, basicAuthMiddleware(ns, args.environment), {
          parent: this,
          dependsOn: [secret],
        }),
      );
    }

    const tls = routeTls(args);
    for (const route of args.routes) {
      new k8s.apiextensions.CustomResource(
        `${name}-${route.service}`,
        ingressRoute({ namespace: ns, environment: args.environment, route, entryPoints: args.entryPoints, tls, rateLimited }),
        { parent: this, dependsOn: middlewares },
      );
    }

    this.registerOutputs({ urls: this.urls, basicAuthUsers: this.basicAuthUsers, basicAuthPasswords: this.basicAuthPasswords });
  }
}
