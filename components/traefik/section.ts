/**
 * Traefik's section of the stack file (`traefik`) and its secret key basicAuthPasswords: the
 * routes TraefikExposure publishes, and the scrape of the Traefik the cluster runs (k3s's own,
 * whether or not it publishes anything); its defaults, its resolution and its problems.
 */
import { z } from "zod";
import {
  BASIC_AUTH_USER,
  BASIC_AUTH_USER_MESSAGE,
  bool,
  dnsLabel,
  kubeLabels,
  matching,
  nonEmpty,
  notAMap,
  portNumber,
  secretMapMessage,
} from "../kit/fields";
import { SecretStandIns, componentSection, textStandIn } from "../kit/section";
import { EXPOSED_SERVICES } from "../kit/web";
import { Profile } from "../kit/profiles";
import { WATCH_DEFAULTS } from "../kit/watch";
import { problems } from "./problems";

/** A count of requests of the rate limit: Traefik reads a 64-bit integer, JavaScript holds 2^53 exactly. */
const requestCount = z
  .number({ error: "must be a whole number of requests, such as 10" })
  .int("must be a whole number of requests, such as 10")
  .min(1, "must be at least 1")
  .max(Number.MAX_SAFE_INTEGER, `must be at most ${Number.MAX_SAFE_INTEGER}`);

/** The rate limit's period: whole seconds, minutes or hours, which Traefik (a Go duration) and Prometheus read alike. */
const RATE_PERIOD = /^[1-9][0-9]{0,5}[smh]$/;
const RATE_PERIOD_MESSAGE = "a period in whole seconds, minutes or hours, such as 1s, 1m or 1h";

const schema = z.strictObject({
  enabled: bool.optional(),
  entryPoints: z.array(nonEmpty("an entry point name")).min(1, "must list at least one entry point").optional(),
  tlsSecretName: dnsLabel
    .optional()
    .describe("TLS Secret (in the stack's namespace) for the routes, or certResolver; production refuses neither, staging warns."),
  certResolver: nonEmpty("a certificate resolver name")
    .optional()
    .describe("Certificate resolver of Traefik's static config, or tlsSecretName."),
  expose: z.array(z.enum(EXPOSED_SERVICES)).optional(),
  basicAuthUsers: z
    .array(matching(BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE))
    .min(1, "must list at least one user")
    .optional()
    .describe("Basic-auth users; each password is the secret basicAuthPasswords.<user>, or a random one."),
  rateLimit: z
    .strictObject({
      enabled: bool.optional().describe("Rate-limit the basic-auth routes (Prometheus, Alertmanager), per client address; default true."),
      average: requestCount
        .optional()
        .describe("Requests a client address may make per period, on average, once its burst is spent; default 10."),
      burst: requestCount.optional().describe("Requests a client address may make at once; default 50 (a UI's page load)."),
      period: matching(RATE_PERIOD, RATE_PERIOD_MESSAGE).optional().describe("The period of average; default 1s."),
    })
    .optional()
    .describe("Traefik's rateLimit Middleware in front of basic auth: a client past its burst gets 429."),
  metrics: z
    .strictObject({
      enabled: bool
        .optional()
        .describe(
          "Scrape the cluster's Traefik (job traefik) for its dashboard and alerts; default watch.cluster (the cluster's, one stack's).",
        ),
      namespace: dnsLabel.optional().describe("Namespace of Traefik's pods; default kube-system, where k3s installs it."),
      podLabels: kubeLabels
        .optional()
        .describe("Labels of Traefik's pods, all matched; default app.kubernetes.io/name: traefik (k3s's chart)."),
      port: portNumber
        .optional()
        .describe("Container port of Traefik's metrics entry point; default 9100 (k3s's chart: entry point metrics)."),
    })
    .optional()
    .describe("The scrape of the Traefik the cluster runs (k3s's own ingress), independent of the routes above."),
});

/** basicAuthPasswords given whole rather than entry by entry: what it takes, and how to give it. */
export const BASIC_AUTH_PASSWORDS_MESSAGE = secretMapMessage("basicAuthPasswords", "user", "password");

/** The secret key Traefik's section reads (config/secrets.ts keeps its place among the others). */
export const traefikSecrets = {
  basicAuthPasswords: z.record(
    matching(BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE),
    z
      .string({ error: "must be a password" })
      .min(12, "must be at least 12 characters")
      // bcrypt reads the first 72 bytes only: a longer password would be accepted on its prefix.
      .refine((p) => Buffer.byteLength(p, "utf8") <= 72, { message: "must be at most 72 bytes (bcrypt ignores the rest)" }),
    notAMap(BASIC_AUTH_PASSWORDS_MESSAGE),
  ),
};

/** What the offline render stands in for an encrypted password: 19 to 72 characters, as the schema takes. */
export const traefikSecretStandIns: SecretStandIns<typeof traefikSecrets> = { basicAuthPasswords: textStandIn };

type Given = z.infer<typeof schema>;

/** Where the cluster's Traefik runs, and whether Prometheus scrapes it (job traefik). */
export type ClusterTraefikScrape = Required<NonNullable<Given["metrics"]>>;

/**
 * The Traefik k3s installs: its Helm chart (traefik 40.x in k3s 1.36) runs it in kube-system with
 * the chart's app.kubernetes.io/name label and Prometheus metrics on the entry point `metrics`,
 * container port 9100, which its Service does not expose (so the pods are scraped, not the Service).
 */
export const K3S_TRAEFIK: Omit<ClusterTraefikScrape, "enabled"> = {
  namespace: "kube-system",
  podLabels: { "app.kubernetes.io/name": "traefik" },
  port: 9100,
};

/** The rate limit of the basic-auth routes: every key given or defaulted. */
export type RateLimitConfig = Required<NonNullable<Given["rateLimit"]>>;

/** Traefik as config resolves it: every key given or defaulted (the certificate's source has no default). */
export type TraefikConfig = Required<Omit<Given, "tlsSecretName" | "certResolver" | "metrics" | "rateLimit">> &
  Pick<Given, "tlsSecretName" | "certResolver"> & {
    /** The rate limit in front of basic auth. */
    rateLimit: RateLimitConfig;
    /** Basic-auth passwords given as secrets, by user; the other users get random ones. */
    basicAuthPasswords: z.infer<typeof traefikSecrets.basicAuthPasswords>;
    /** The scrape of the cluster's own Traefik (job traefik), apart from the routes the stack gives it. */
    metrics: ClusterTraefikScrape;
  };

/**
 * What the stack sets of Traefik unless told otherwise, the same in every profile: no routes, and
 * the Traefik k3s runs scraped wherever the stack runs (k3s always installs it unless told not to).
 */
export const TRAEFIK_DEFAULTS: TraefikConfig = {
  enabled: false,
  entryPoints: ["websecure"],
  expose: [...EXPOSED_SERVICES],
  basicAuthUsers: ["admin"],
  basicAuthPasswords: {},
  // Per client address: 50 at once covers a page load of Prometheus' UI, 10 a second its queries;
  // a password guesser gets 10 tries a second, and Traefik checks no more bcrypt hashes than that.
  rateLimit: { enabled: true, average: 10, burst: 50, period: "1s" },
  metrics: { enabled: true, ...K3S_TRAEFIK },
};

/**
 * A profile's defaults: TRAEFIK_DEFAULTS, the cluster's Traefik scraped by the stack that watches the
 * cluster (watch.cluster's default; config resolves it with the stack's watch.cluster).
 */
function traefikDefaults(profile: Profile): TraefikConfig {
  return { ...TRAEFIK_DEFAULTS, metrics: { ...TRAEFIK_DEFAULTS.metrics, enabled: WATCH_DEFAULTS[profile].cluster } };
}

/** The `traefik` section, with basicAuthPasswords. */
export const traefikSection = componentSection({
  schema,
  secrets: traefikSecrets,
  standIns: traefikSecretStandIns,
  secretMessages: { basicAuthPasswords: BASIC_AUTH_PASSWORDS_MESSAGE },
  defaults: traefikDefaults,
  resolve: (given, context, secrets): TraefikConfig => {
    const defaults = traefikDefaults(context.profile);
    return {
      enabled: given?.enabled ?? defaults.enabled,
      entryPoints: given?.entryPoints ?? defaults.entryPoints,
      ...(given?.tlsSecretName ? { tlsSecretName: given.tlsSecretName } : {}),
      ...(given?.certResolver ? { certResolver: given.certResolver } : {}),
      expose: given?.expose ?? defaults.expose,
      basicAuthUsers: given?.basicAuthUsers ?? defaults.basicAuthUsers,
      basicAuthPasswords: secrets.basicAuthPasswords ?? {},
      rateLimit: {
        enabled: given?.rateLimit?.enabled ?? defaults.rateLimit.enabled,
        average: given?.rateLimit?.average ?? defaults.rateLimit.average,
        burst: given?.rateLimit?.burst ?? defaults.rateLimit.burst,
        period: given?.rateLimit?.period ?? defaults.rateLimit.period,
      },
      metrics: {
        enabled: given?.metrics?.enabled ?? defaults.metrics.enabled,
        namespace: given?.metrics?.namespace ?? defaults.metrics.namespace,
        podLabels: given?.metrics?.podLabels ?? defaults.metrics.podLabels,
        port: given?.metrics?.port ?? defaults.metrics.port,
      },
    };
  },
  // A Traefik that is off publishes nothing and needs no certificate; its users and their passwords are checked all the same.
  problems: (traefik) =>
    problems({
      ...(traefik.enabled
        ? {
            routes: traefik.expose.map((service) => ({ service })),
            tlsSecretName: traefik.tlsSecretName,
            certResolver: traefik.certResolver,
          }
        : { routes: [] }),
      basicAuthUsers: traefik.basicAuthUsers,
      basicAuthPasswords: traefik.basicAuthPasswords,
    }),
});
