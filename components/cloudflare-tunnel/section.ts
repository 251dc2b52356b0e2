/** The Cloudflare tunnel's section of the stack file (`cloudflare`): its fields, its defaults per profile, its resolution and its problems. */
import { z } from "zod";
import { HEX32, bool, dnsLabel, durationWith, email, hostname, matching, replicas, resources } from "../kit/fields";
import { componentSection, onNodes, resolveResources } from "../kit/section";
import { EXPOSED_SERVICES } from "../kit/web";
import { CLOUDFLARE_TUNNEL_DEFAULTS, CloudflareTunnelArgs, CloudflareTunnelDefaults } from "./args";
import { publicMailDomains } from "./mail-domains";
import { problems } from "./problems";

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

const schema = z.strictObject({
  enabled: bool.optional(),
  accountId: matching(HEX32, "the 32-character hex Cloudflare account id").optional(),
  zoneId: matching(HEX32, "the 32-character hex Cloudflare zone id").optional(),
  tunnelName: dnsLabel.optional(),
  replicas: replicas.optional(),
  expose: z.array(z.enum(EXPOSED_SERVICES)).optional(),
  access: access.optional(),
  resources: resources.optional(),
});

/** cloudflare's fields as the stack gives them, and those of cloudflare.access. */
export type CloudflareFields = z.infer<typeof schema>;
export type TunnelAccessFields = z.infer<typeof access>;

/** The tunnel as config resolves it: the profile's defaults under what the stack gives; the account and the zone have none. */
export type CloudflareConfig = CloudflareTunnelDefaults & Partial<Pick<CloudflareTunnelArgs, "accountId" | "zoneId">>;

/** The `cloudflare` section (the API token is the provider's own key, cloudflare:apiToken). */
export const cloudflareSection = componentSection({
  schema,
  defaults: (profile): CloudflareConfig => CLOUDFLARE_TUNNEL_DEFAULTS[profile],
  resolve: (given, context): CloudflareConfig => {
    const defaults = CLOUDFLARE_TUNNEL_DEFAULTS[context.profile];
    return {
      enabled: given?.enabled ?? defaults.enabled,
      ...(given?.accountId ? { accountId: given.accountId } : {}),
      ...(given?.zoneId ? { zoneId: given.zoneId } : {}),
      tunnelName: given?.tunnelName ?? `${context.project}-${context.environment}`,
      replicas: given?.replicas ?? onNodes(context, defaults.replicas),
      expose: given?.expose ?? defaults.expose,
      access: {
        enabled: given?.access?.enabled ?? defaults.access.enabled,
        emails: given?.access?.emails ?? [],
        emailDomains: given?.access?.emailDomains ?? [],
        sessionDuration: given?.access?.sessionDuration ?? defaults.access.sessionDuration,
        ...(given?.access?.team ? { team: given.access.team } : {}),
      },
      resources: resolveResources(defaults.resources, given?.resources),
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
});
