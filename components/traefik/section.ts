/**
 * Traefik's section of the stack file (`traefik`) and its secret key basicAuthPasswords: the
 * routes TraefikExposure publishes, and the scrape of the Traefik the cluster runs (k3s's own,
 * whether or not it publishes anything). Its fields are declared here once (the defaults, the
 * resolved values and TraefikExposure's args are typed from the schema); its defaults, its
 * resolution, and its problems: one certificate source, each route and each user once, a password
 * only for a user.
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
import { ArgsProblem, duplicates } from "../kit/problems";
import { FieldsOf, SecretStandIns, componentSection, overDefaults, textStandIn } from "../kit/section";
import { EXPOSED_SERVICES, ExposedService } from "../kit/web";
import { Profile } from "../kit/profiles";
import { WATCH_DEFAULTS } from "../kit/watch";
import { JOB } from "../kit/stack-jobs";

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
  /** Traefik entry points the routes bind to (k3s' HTTPS entry point, websecure, by default). */
  entryPoints: z.array(nonEmpty("an entry point name")).min(1, "must list at least one entry point").optional(),
  /** The routes' certificate: a TLS Secret, exclusive with certResolver. No default. */
  tlsSecretName: dnsLabel
    .optional()
    .describe("TLS Secret (in the stack's namespace) for the routes, or certResolver; production refuses neither, staging warns."),
  /** The routes' certificate from a resolver (an ACME one), exclusive with tlsSecretName. No default. */
  certResolver: nonEmpty("a certificate resolver name")
    .optional()
    .describe("Certificate resolver of Traefik's static config, or tlsSecretName."),
  expose: z.array(z.enum(EXPOSED_SERVICES)).optional(),
  /** Users of the basic-auth middleware in front of Prometheus and Alertmanager; unused when neither is published. */
  basicAuthUsers: z
    .array(matching(BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE))
    .min(1, "must list at least one user")
    .optional()
    .describe("Basic-auth users; each password is the secret basicAuthPasswords.<user>, or a random one."),
  /** Per client address: Traefik answers 429 to an address past its burst, until its average per period lets it in again. */
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

/** Traefik as config resolves it: every key given or defaulted (the certificate's source has no default), and the passwords given. */
export type TraefikConfig = Omit<FieldsOf<typeof schema, "tlsSecretName" | "certResolver">, "rateLimit" | "metrics"> & {
  /** The rate limit in front of basic auth, every key given or defaulted. */
  rateLimit: Required<Fields["rateLimit"]>;
  /** Basic-auth passwords given as secrets, by user; the other users get random ones. */
  basicAuthPasswords: z.infer<typeof traefikSecrets.basicAuthPasswords>;
  /** The scrape of the cluster's own Traefik (job traefik), apart from the routes the stack gives it. */
  metrics: ClusterTraefikScrape;
};

type Fields = FieldsOf<typeof schema>;

/**
 * What the stack sets of Traefik unless told otherwise, the same in every profile: no routes, and
 * the Traefik k3s runs scraped wherever the stack runs (k3s always installs it unless told not to).
 */
const TRAEFIK_DEFAULTS: TraefikConfig = {
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
    const { tlsSecretName, certResolver, rateLimit, metrics, ...plain } = given ?? {};
    return {
      ...overDefaults(defaults, plain, context),
      ...(tlsSecretName ? { tlsSecretName } : {}),
      ...(certResolver ? { certResolver } : {}),
      basicAuthPasswords: secrets.basicAuthPasswords ?? {},
      rateLimit: overDefaults(defaults.rateLimit, rateLimit, context),
      metrics: overDefaults(defaults.metrics, metrics, context),
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
  // The cluster's Traefik (scrape-jobs.ts clusterTraefikJob), when it is scraped.
  jobs: (traefik) => (traefik.metrics.enabled ? [JOB.traefik] : []),
});

/**
 * The certificate's source chosen once; each published service and each basic-auth user listed
 * once; each given basic-auth password (the secret key basicAuthPasswords) for one of the users.
 */
export function problems(
  args: Pick<TraefikConfig, "tlsSecretName" | "certResolver" | "basicAuthUsers"> &
    Partial<Record<"basicAuthPasswords", Record<string, unknown>>> & {
      routes: ReadonlyArray<{ service: ExposedService }>;
    },
): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  if (args.tlsSecretName && args.certResolver) {
    found.push({ key: "certResolver", message: "choose tlsSecretName or certResolver, not both" });
  }
  for (const service of duplicates(args.routes.map((r) => r.service))) {
    found.push({ key: "expose", message: `lists ${service} more than once` });
  }
  for (const name of duplicates(args.basicAuthUsers)) {
    found.push({ key: "basicAuthUsers", message: `user "${name}" is listed more than once` });
  }
  // The user is the key of the secret map, never the password: only the name is echoed.
  for (const user of Object.keys(args.basicAuthPasswords ?? {})) {
    if (!args.basicAuthUsers.includes(user)) {
      found.push({
        key: `basicAuthPasswords.${user}`,
        message: `no user "${user}" in traefik.basicAuthUsers (${args.basicAuthUsers.join(", ")}): add the user there, or remove the password with: pulumi config rm --path 'basicAuthPasswords.${user}'`,
        involves: ["basicAuthUsers"],
      });
    }
  }
  return found;
}
