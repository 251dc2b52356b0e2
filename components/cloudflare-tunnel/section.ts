/**
 * The Cloudflare tunnel's section of the stack file (`cloudflare`): its fields, declared here once
 * (the defaults and resolved values are typed from the schema), its defaults per profile, its
 * resolution and its problems: the account and the zone, Access in front of what has no login, each route once.
 */
import { z } from "zod";
import { HEX32, bool, dnsLabel, durationWith, email, hostname, replicas, resources } from "../kit/fields";
import { ArgsProblem, duplicates } from "../kit/problems";
import { Profile, withOverrides } from "../kit/profiles";
import { requirements } from "../kit/resources";
import { FieldsOf, componentSection, onNodes, overDefaults } from "../kit/section";
import { EXPOSED_SERVICES, ExposedService } from "../kit/web";
import { publicMailDomains } from "./mail-domains";
import { JOB } from "../kit/stack-jobs";

/** Cloudflare Access in front of every hostname of the tunnel. */
const access = z.strictObject({
  enabled: bool.optional(),
  /** Email addresses allowed in. */
  emails: z.array(email).optional(),
  /** Email domains whose addresses are allowed in, e.g. "example.com". */
  emailDomains: z.array(hostname).optional(),
  /** How long a login lasts, as a Prometheus duration (e.g. "24h"), at least 1s (Cloudflare counts whole seconds); sent to Cloudflare as a Go duration. */
  sessionDuration: durationWith((ms) => (ms >= 1000 ? undefined : "must be at least 1s")).optional(),
  /** The Zero Trust team's name: <team>.cloudflareaccess.com. */
  team: dnsLabel
    .optional()
    .describe("The Zero Trust team's name (<team>.cloudflareaccess.com); needed by grafana.signIn.cloudflareAccess."),
});

/**
 * A Cloudflare id: 32 hex characters in lower case, as Cloudflare's dashboard and API write it. One
 * given in upper case is refused with its lower-case form, which the provider would otherwise
 * compare against the API's own spelling.
 */
const cloudflareId = (what: string) =>
  z.string({ error: `must be the 32-character hex Cloudflare ${what}` }).refine((v) => HEX32.test(v), {
    error: (issue) => {
      const given = issue.input as string;
      return /^[0-9a-fA-F]{32}$/.test(given)
        ? `must be the 32-character hex Cloudflare ${what} in lower case, as the dashboard shows it: did you mean "${given.toLowerCase()}"?`
        : `must be the 32-character hex Cloudflare ${what}`;
    },
  });

const schema = z.strictObject({
  enabled: bool.optional(),
  /** Cloudflare account id (32 hex characters). */
  accountId: cloudflareId("account id").optional(),
  /** Cloudflare zone id of the hostnames' domain (32 hex characters). */
  zoneId: cloudflareId("zone id").optional(),
  /** Name of the tunnel in the Zero Trust dashboard, e.g. "monitoring-production". */
  tunnelName: dnsLabel.optional(),
  /** cloudflared replicas; more than one adds a PodDisruptionBudget and spreads them across nodes. */
  replicas: replicas.optional(),
  expose: z.array(z.enum(EXPOSED_SERVICES)).optional(),
  access: access.optional(),
  resources: resources.optional(),
});

/** cloudflare.access resolved: the team's name only when given. */
type AccessSettings = Omit<FieldsOf<typeof access>, "team"> & { team?: string };

/** Who Cloudflare Access lets through, and for how long (config cloudflare.access, where each field is defined). */
export type TunnelAccess = Omit<AccessSettings, "enabled" | "team">;

/** The tunnel as config resolves it: each field of the section; the account and the zone have no default. */
export type CloudflareSettings = Omit<FieldsOf<typeof schema>, "accountId" | "zoneId" | "access"> &
  Partial<Pick<FieldsOf<typeof schema>, "accountId" | "zoneId">> & { access: AccessSettings };

const CLOUDFLARE_TUNNEL_STAGING: CloudflareSettings = {
  enabled: false,
  // Derived from the project and environment when not given (see the resolution below).
  tunnelName: "",
  replicas: 1,
  expose: ["grafana"],
  access: { enabled: false, emails: [], emailDomains: [], sessionDuration: "24h" },
  resources: requirements("20m", "64Mi", "200m", "128Mi"),
};

/** The tunnel's defaults in each profile: two connectors in production (kit/profiles.ts: the headroom). */
const CLOUDFLARE_TUNNEL_DEFAULTS: Record<Profile, CloudflareSettings> = {
  staging: CLOUDFLARE_TUNNEL_STAGING,
  production: withOverrides(CLOUDFLARE_TUNNEL_STAGING, { replicas: 2, resources: requirements("50m", "64Mi", "500m", "256Mi") }),
};

/** The `cloudflare` section (the API token is the provider's own key, cloudflare:apiToken). */
export const cloudflareSection = componentSection({
  schema,
  defaults: (profile): CloudflareSettings => CLOUDFLARE_TUNNEL_DEFAULTS[profile],
  resolve: (given, context): CloudflareSettings => {
    const defaults = CLOUDFLARE_TUNNEL_DEFAULTS[context.profile];
    const { accountId, zoneId, access, ...fields } = given ?? {};
    const { team, ...accessFields } = access ?? {};
    return {
      // The tunnel's name is derived from the project and environment, its connectors no more than the nodes.
      ...overDefaults(
        { ...defaults, tunnelName: `${context.project}-${context.environment}`, replicas: onNodes(context, defaults.replicas) },
        fields,
        context,
      ),
      ...(accountId ? { accountId } : {}),
      ...(zoneId ? { zoneId } : {}),
      access: { ...overDefaults(defaults.access, accessFields, context), ...(team ? { team } : {}) },
    };
  },
  // Only a tunnel that runs needs its account, its zone and a way in.
  problems: (cloudflare) =>
    cloudflare.enabled
      ? problems({
          ...(cloudflare.accountId ? { accountId: cloudflare.accountId } : {}),
          ...(cloudflare.zoneId ? { zoneId: cloudflare.zoneId } : {}),
          routes: cloudflare.expose.map((service) => ({ service })),
          ...(cloudflare.access.enabled ? { access: cloudflare.access } : {}),
        })
      : [],
  // Cloudflare Access lets in every address of a domain it is given: a public mail provider's is anyone's.
  warnings: (cloudflare) => {
    const open = cloudflare.enabled && cloudflare.access.enabled ? publicMailDomains(cloudflare.access.emailDomains) : [];
    if (open.length === 0) return [];
    return [
      {
        key: "access.emailDomains",
        message:
          `lists ${open.map((d) => JSON.stringify(d)).join(", ")}, the domain${open.length === 1 ? "" : "s"} of a public mail provider: ` +
          `anyone who opens an address there gets through Cloudflare Access to ${cloudflare.expose.join(", ")}. List the people ` +
          `in cloudflare.access.emails instead (and keep emailDomains for your organisation's own domain)`,
      },
    ];
  },
  jobs: (cloudflare) => (cloudflare.enabled ? [JOB.cloudflared] : []),
});

/**
 * The account and the zone given; Prometheus and Alertmanager (no login of their own) published
 * only behind Cloudflare Access; each published service listed once; Access, when on, with
 * someone to let in.
 */
export function problems(
  args: Partial<Pick<CloudflareSettings, "accountId" | "zoneId">> & {
    access?: TunnelAccess;
    routes: ReadonlyArray<{ service: ExposedService }>;
  },
): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  if (!args.accountId) {
    found.push({ key: "accountId", message: "is required when cloudflare.enabled is true (the 32-character hex account id)" });
  }
  if (!args.zoneId) {
    found.push({ key: "zoneId", message: "is required when cloudflare.enabled is true (the 32-character hex zone id of the domain)" });
  }
  for (const { service } of args.routes) {
    if (service !== "grafana" && !args.access) {
      found.push({
        key: "expose",
        message: `exposing ${service} on the internet needs cloudflare.access.enabled (it has no login of its own)`,
      });
    }
  }
  for (const service of duplicates(args.routes.map((r) => r.service))) {
    found.push({ key: "expose", message: `lists ${service} more than once` });
  }
  if (args.access && args.access.emails.length === 0 && args.access.emailDomains.length === 0) {
    found.push({ key: "access", message: "is enabled but allows nobody: give emails or emailDomains" });
  }
  return found;
}
