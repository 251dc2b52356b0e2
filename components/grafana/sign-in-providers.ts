/**
 * The providers a team signs in to Grafana with (config grafana.signIn), one row each, in the order
 * Grafana's login page lists them: the schema of `signIn.<provider>` with its line of the key
 * reference, the client secret an OAuth provider keeps in a secret key of its own, which conditions
 * of a role rule its claims carry and how the role mapping tests each, what it lets in without an
 * allow-list, its grafana.ini section, the ports it connects to and the words the render's summary
 * says of it. Everything that lists the providers (the section's schema and secret keys, the
 * resolution, the problems, grafana.ini, the egress ports, the client secrets' Secret, the summary)
 * reads this table; a new provider is a new row (and its test).
 */
import { z } from "zod";
import { bool, hostname, matching, nonEmpty } from "../kit/fields";
import { SecretStandIn, textStandIn } from "../kit/section";

/** The kinds of condition a role rule holds, in the order the role mapping tests them. */
export const CONDITION_KINDS = ["groups", "teams", "emails"] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

/** A value the role mapping quotes as a JMESPath raw string: no quote, backslash, backquote or control character. */
export const QUOTABLE = /^[^'\\`\u0000-\u001f\u007f]+$/;
export const quotable = (what: string) =>
  nonEmpty(what).regex(QUOTABLE, `must be ${what} without ' \\ \` or control characters (the role mapping quotes it)`);

/** A claim as a JMESPath path: identifiers joined by dots (`realm_access.roles`), an identifier of letters, digits, _ - : / and dots inside none. */
const CLAIM_PATH = /^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*$/;
const claimPath = (what: string) =>
  z
    .string({ error: `must be ${what}` })
    .regex(CLAIM_PATH, `must be ${what}: a claim name, or names joined by dots for a nested one (realm_access.roles)`);

/** An https:// URL. */
const httpsUrl = z.url({ protocol: /^https$/, error: "must be an https:// URL" }).refine((u) => !u.includes("`"), {
  message: "must not contain a backquote",
});

export const names = (what: string) => z.array(quotable(`a ${what}`), { error: `must be a list of ${what}s` });

/** A JMESPath raw string literal. QUOTABLE keeps quotes and backslashes out of what is quoted. */
export const raw = (text: string) => `'${text}'`;

/** A claim path as JMESPath: each name bare when it is an identifier, otherwise quoted. */
export function claimExpression(path: string): string {
  return path
    .split(".")
    .map((name) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name}"`))
    .join(".");
}

/**
 * Membership of a list claim: `contains(groups[*] || '', 'sre')`. `[*]` projects only a list (a
 * string claim gives null, so a group name is never matched as a substring); a missing or empty
 * list falls back to '' and matches nothing, instead of failing the evaluation.
 */
const member = (list: string, value: string) => `contains(${list}[*] || '', ${raw(value)})`;

/** One of these addresses, in the claim at `claim`. */
const emailIn = (emails: string[], claim: string) => `contains([${emails.map(raw).join(", ")}], ${claim})`;

/**
 * The OpenID Connect provider says it verified the address (`email_verified`, a boolean, or the
 * string "true" some providers send): an address a user may edit (Keycloak's profile, Entra ID's
 * `email`) is otherwise anyone's to claim. `to_string` gives "true" for both; no JMESPath literal
 * (backquoted), which grafana.ini's backquoted value could not hold.
 */
const verified = (claim: string) => `to_string(${claim}) == 'true'`;

/**
 * A list setting written so that Grafana cannot split a name: Grafana splits a list on commas and
 * spaces, unless it is a JSON array. Names without either stay comma-joined.
 */
export const iniList = (names: string[]) => (names.some((n) => /[\s,]/.test(n)) ? JSON.stringify(names) : names.join(","));

type IniSection = Record<string, string | number | boolean>;

/** The Cloudflare Access team and the AUD tag of the Access application in front of Grafana. */
export interface CloudflareAccessIdentity<Audience = string> {
  /** The team's name: <team>.cloudflareaccess.com. */
  team: string;
  /** The Access application's AUD tag, as Cloudflare gives it. */
  audience: Audience;
}

/** What a provider's grafana.ini section is written with besides its own settings. */
export interface ProviderIniContext {
  /** The OAuth keys every OAuth provider's section shares (enabled, sign-up, client id and secret file); none for another. */
  oauth: IniSection;
  /** With signIn.cloudflareAccess: the team and the AUD tag. */
  cloudflareAccess?: CloudflareAccessIdentity;
}

/** What every provider's row says. */
interface ProviderRow<Given, Resolved> {
  /** Its name in words, for the messages and the summary. */
  label: string;
  /** `signIn.<provider>` as the stack gives it. */
  schema: z.ZodType<Given>;
  /** Its line of the key reference. */
  docs: string;
  /** The provider as config resolves it; undefined when what is given turns it off. */
  resolve: (given: Given) => Resolved | undefined;
  /** How the role mapping tests each kind of condition its claims carry (the conditions it carries). */
  tests: Partial<Record<ConditionKind, (values: string[], provider: Resolved) => string[]>>;
  /**
   * No default role inside its role mapping: GitHub's expression is evaluated over the /user
   * document first, and over the team list only when that gives no role, so a fallback inside would
   * answer before the teams are looked at (the default is then [users] auto_assign_org_role's).
   */
  noFallback?: boolean;
  /**
   * A condition every user of the provider must meet that Grafana's own settings cannot hold (the
   * e-mail address verified, where the settings restrict by address): the role mapping is
   * `<guard> && (<rules and default role>)` and strict, so that a user failing it gets no role and is refused.
   */
  guard?: (provider: Resolved) => string | undefined;
  /** Whether its own settings let in only whom the stack names (an allow-list); strict roles are the table's reader's. */
  allowList: (provider: Resolved) => boolean;
  /** Its grafana.ini section's name and keys, without the role mapping's (added last); undefined when it cannot be written. */
  ini: (provider: Resolved, context: ProviderIniContext) => { section: string; keys: IniSection } | undefined;
  /** The ports it connects to on the internet (the egress policy's). */
  egressPorts: (provider: Resolved) => number[];
  /** Who it lets in, for the summary: `GitHub: members of organizations acme`. */
  who: (provider: Resolved) => string;
}

/** The client secret of an OAuth provider: its secret key and the file of the sign-in Secret it is read from. */
export interface ClientSecret<Key extends string> {
  key: Key;
  /** What it is, in the secret's message: "must be <what>". */
  what: string;
  file: string;
  standIn: SecretStandIn;
}

/** An OAuth provider: a login button, a client secret and a callback under root_url. */
export interface OAuthProviderRow<Given, Resolved extends { clientId: string }, Key extends string> extends ProviderRow<Given, Resolved> {
  kind: "oauth";
  secret: ClientSecret<Key>;
  /** The path of its callback under root_url. */
  callback: string;
  /** What it lets in without an allow-list, for the refusal or the warning. */
  unrestricted: string;
}

/** A provider that signs in without a login page, from what a proxy in front of Grafana vouches for. */
export interface ProxyProviderRow<Given, Resolved> extends ProviderRow<Given, Resolved> {
  kind: "proxy";
}

function oauthProvider<Given, Resolved extends { clientId: string }, Key extends string>(
  row: Omit<OAuthProviderRow<Given, Resolved, Key>, "kind">,
): OAuthProviderRow<Given, Resolved, Key> {
  return { kind: "oauth", ...row };
}

function proxyProvider<Given, Resolved>(row: Omit<ProxyProviderRow<Given, Resolved>, "kind">): ProxyProviderRow<Given, Resolved> {
  return { kind: "proxy", ...row };
}

/** The port a URL connects to (443 for https without one). */
const urlPort = (url: string) => (new URL(url).port === "" ? 443 : Number(new URL(url).port));

/** The header Cloudflare Access puts its signed token in, on every request it lets through. */
export const CF_ACCESS_HEADER = "Cf-Access-Jwt-Assertion";

/** Where Cloudflare Access publishes the keys its tokens are signed with. */
export function cloudflareAccessCertsUrl(team: string): string {
  return `https://${team}.cloudflareaccess.com/cdn-cgi/access/certs`;
}

export const OIDC_DEFAULT_SCOPES = ["openid", "email", "profile", "groups"];
export const OIDC_DEFAULT_CLAIMS = {
  login: "preferred_username",
  email: "email",
  emailVerified: "email_verified",
  name: "name",
  groups: "groups",
};
export const OIDC_DEFAULT_NAME = "OpenID Connect";

/** The claims of the OpenID Connect provider, resolved. */
export type OidcClaims = typeof OIDC_DEFAULT_CLAIMS;

const githubSchema = z.strictObject({
  clientId: quotable("the OAuth app's client id").describe("The GitHub OAuth app's client id; its secret is grafanaGithubClientSecret."),
  organizations: z
    .array(matching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "a GitHub organization's login such as acme"), {
      error: "must be a list of GitHub organizations",
    })
    .optional()
    .describe("Only members of these organizations sign in (allowed_organizations)."),
  teamIds: z
    .array(z.number({ error: "must be a team's numeric id" }).int("must be a whole number").positive("must be positive"), {
      error: "must be a list of numeric team ids",
    })
    .optional()
    .describe("Only members of these teams (numeric ids) sign in (team_ids)."),
});

const googleSchema = z.strictObject({
  clientId: quotable("the OAuth client's id").describe("The Google OAuth client's id; its secret is grafanaGoogleClientSecret."),
  domains: z
    .array(hostname, { error: "must be a list of domains such as [acme.com]" })
    .optional()
    .describe("Only addresses of these domains sign in (allowed_domains); one domain is also sent as Google's hd hint."),
});

const claims = z.strictObject({
  login: claimPath("a claim").optional().describe('Claim holding the login; default "preferred_username".'),
  email: claimPath("a claim").optional().describe('Claim holding the email address; default "email".'),
  emailVerified: claimPath("a claim")
    .optional()
    .describe('Claim saying the provider verified the address (true or "true"); default "email_verified".'),
  name: claimPath("a claim").optional().describe('Claim holding the display name; default "name".'),
  groups: claimPath("a claim").optional().describe('Claim holding the list of groups; default "groups".'),
});

const oidcSchema = z.strictObject({
  name: quotable("a button label")
    .max(40, "must be at most 40 characters")
    .optional()
    .describe('Label of the sign-in button; default "OpenID Connect".'),
  clientId: quotable("the client id").describe("The client's id at the provider; its secret is grafanaOidcClientSecret."),
  issuer: httpsUrl.describe("The provider's issuer URL; its discovery document is read at preview and up."),
  authUrl: httpsUrl.optional().describe("Authorization endpoint; default from the issuer's discovery document."),
  tokenUrl: httpsUrl.optional().describe("Token endpoint; default from the issuer's discovery document."),
  userinfoUrl: httpsUrl.optional().describe("Userinfo endpoint; default from the issuer's discovery document."),
  scopes: z
    .array(matching(/^[\x21\x23-\x5b\x5d-\x7e]+$/, "an OAuth scope"), { error: "must be a list of scopes" })
    .min(1, "must list at least one scope")
    .optional()
    .describe("Scopes asked for; default [openid, email, profile, groups]."),
  claims: claims.optional().describe("Which claims hold the login, email, name and groups."),
  groups: names("group name").optional().describe("Only members of these groups sign in (allowed_groups)."),
  domains: z
    .array(hostname, { error: "must be a list of domains such as [acme.com]" })
    .optional()
    .describe("Only addresses of these domains sign in (allowed_domains)."),
});

/** The OpenID Connect provider as config resolves it. */
export interface OidcProvider {
  name: string;
  clientId: string;
  issuer: string;
  authUrl?: string;
  tokenUrl?: string;
  userinfoUrl?: string;
  scopes: string[];
  claims: OidcClaims;
  groups: string[];
  domains: string[];
}

/** The providers, in the order of Grafana's login page, grafana.ini and the summary. */
export const SIGN_IN_PROVIDERS = {
  github: oauthProvider({
    label: "GitHub",
    schema: githubSchema,
    docs: "Sign in with GitHub. Secret: grafanaGithubClientSecret.",
    secret: {
      key: "grafanaGithubClientSecret",
      what: "the GitHub OAuth app's client secret",
      file: "github-client-secret",
      standIn: textStandIn,
    },
    callback: "login/github",
    unrestricted: "any GitHub account: set signIn.github.organizations or teamIds",
    resolve: (given): { clientId: string; organizations: string[]; teamIds: number[] } => ({
      clientId: given.clientId,
      organizations: given.organizations ?? [],
      teamIds: given.teamIds ?? [],
    }),
    // Grafana hands GitHub's role mapping the user's teams as a `groups` list of `@organization/team-slug`.
    tests: { teams: (teams) => teams.map((t) => member("groups", `@${t}`)) },
    noFallback: true,
    allowList: (g) => g.organizations.length > 0 || g.teamIds.length > 0,
    ini: (g, { oauth }) => ({
      section: "auth.github",
      keys: {
        ...oauth,
        scopes: "user:email,read:org",
        ...(g.organizations.length > 0 ? { allowed_organizations: g.organizations.join(",") } : {}),
        ...(g.teamIds.length > 0 ? { team_ids: g.teamIds.join(",") } : {}),
      },
    }),
    egressPorts: () => [443],
    who: (g) => {
      const allow = [
        ...(g.organizations.length > 0 ? [`organizations ${g.organizations.join(", ")}`] : []),
        ...(g.teamIds.length > 0 ? [`team ids ${g.teamIds.join(", ")}`] : []),
      ];
      return `GitHub: ${allow.length > 0 ? `members of ${allow.join(" and ")}` : "ANY GitHub account"}`;
    },
  }),
  google: oauthProvider({
    label: "Google",
    schema: googleSchema,
    docs: "Sign in with Google. Secret: grafanaGoogleClientSecret.",
    secret: {
      key: "grafanaGoogleClientSecret",
      what: "the Google OAuth client's secret",
      file: "google-client-secret",
      standIn: textStandIn,
    },
    callback: "login/google",
    unrestricted: "any Google account: set signIn.google.domains",
    resolve: (given): { clientId: string; domains: string[] } => ({ clientId: given.clientId, domains: given.domains ?? [] }),
    tests: { emails: (emails) => [emailIn(emails, "email")] },
    allowList: (g) => g.domains.length > 0,
    ini: (g, { oauth }) => ({
      section: "auth.google",
      keys: {
        ...oauth,
        scopes: "openid email profile",
        ...(g.domains.length > 0 ? { allowed_domains: g.domains.join(",") } : {}),
        // Google's account chooser then offers only that domain's accounts (allowed_domains is what is checked).
        ...(g.domains.length === 1 ? { hosted_domain: g.domains[0] } : {}),
      },
    }),
    egressPorts: () => [443],
    who: (g) => `Google: ${g.domains.length > 0 ? `addresses of ${g.domains.join(", ")}` : "ANY Google account"}`,
  }),
  oidc: oauthProvider({
    label: "OpenID Connect",
    schema: oidcSchema,
    docs: "Sign in with an OpenID Connect provider. Secret: grafanaOidcClientSecret.",
    secret: {
      key: "grafanaOidcClientSecret",
      what: "the OpenID Connect client's secret",
      file: "oidc-client-secret",
      standIn: textStandIn,
    },
    callback: "login/generic_oauth",
    unrestricted: "every account of the provider: set signIn.oidc.groups or domains, or strict roles",
    resolve: (given): OidcProvider => ({
      name: given.name ?? OIDC_DEFAULT_NAME,
      clientId: given.clientId,
      issuer: given.issuer,
      ...(given.authUrl ? { authUrl: given.authUrl } : {}),
      ...(given.tokenUrl ? { tokenUrl: given.tokenUrl } : {}),
      ...(given.userinfoUrl ? { userinfoUrl: given.userinfoUrl } : {}),
      scopes: given.scopes ?? OIDC_DEFAULT_SCOPES,
      claims: { ...OIDC_DEFAULT_CLAIMS, ...given.claims },
      groups: given.groups ?? [],
      domains: given.domains ?? [],
    }),
    tests: {
      groups: (groups, o) => groups.map((g) => member(claimExpression(o.claims.groups), g)),
      // Only on an address the provider verified.
      emails: (emails, o) => [
        `(${verified(claimExpression(o.claims.emailVerified))} && ${emailIn(emails, claimExpression(o.claims.email))})`,
      ],
    },
    // allowed_domains checks the address whether or not the provider verified it: a verified one is required too.
    guard: (o) => (o.domains.length > 0 ? verified(claimExpression(o.claims.emailVerified)) : undefined),
    allowList: (o) => o.groups.length > 0 || o.domains.length > 0,
    ini: (o, { oauth }) => ({
      section: "auth.generic_oauth",
      keys: {
        name: o.name,
        ...oauth,
        scopes: o.scopes.join(" "),
        // Given, or read from the issuer's discovery document before the program builds anything (preflight/oidc-discovery.ts).
        auth_url: o.authUrl ?? "",
        token_url: o.tokenUrl ?? "",
        api_url: o.userinfoUrl ?? "",
        login_attribute_path: claimExpression(o.claims.login),
        email_attribute_path: claimExpression(o.claims.email),
        name_attribute_path: claimExpression(o.claims.name),
        groups_attribute_path: claimExpression(o.claims.groups),
        ...(o.groups.length > 0 ? { allowed_groups: iniList(o.groups) } : {}),
        ...(o.domains.length > 0 ? { allowed_domains: o.domains.join(",") } : {}),
        use_pkce: true,
      },
    }),
    // Each port of its URLs: a NetworkPolicy cannot name their hosts.
    egressPorts: (o) => [o.issuer, o.authUrl, o.tokenUrl, o.userinfoUrl].flatMap((url) => (url !== undefined ? [urlPort(url)] : [])),
    who: (o) => {
      const allow = [
        ...(o.groups.length > 0 ? [`members of ${o.groups.join(", ")}`] : []),
        ...(o.domains.length > 0 ? [`verified addresses of ${o.domains.join(", ")}`] : []),
      ];
      return `${o.name} (${o.issuer}): ${allow.length > 0 ? allow.join(" with ") : "EVERY account of the provider"}`;
    },
  }),
  cloudflareAccess: proxyProvider({
    label: "Cloudflare Access",
    schema: bool,
    docs: "Sign in as the identity Cloudflare Access checked (its Cf-Access-Jwt-Assertion token); needs cloudflare.access.",
    resolve: (given): true | undefined => (given ? true : undefined),
    tests: { emails: (emails) => [emailIn(emails, "email")] },
    // Access lets through only its policy's addresses and domains (cloudflare.access).
    allowList: () => true,
    ini: (_access, { cloudflareAccess }) =>
      cloudflareAccess
        ? {
            section: "auth.jwt",
            keys: {
              enabled: true,
              header_name: CF_ACCESS_HEADER,
              email_claim: "email",
              username_claim: "email",
              jwk_set_url: cloudflareAccessCertsUrl(cloudflareAccess.team),
              // The token must be Access's, for the application in front of this Grafana.
              expect_claims: JSON.stringify({
                aud: cloudflareAccess.audience,
                iss: `https://${cloudflareAccess.team}.cloudflareaccess.com`,
              }),
              // Access lets through only its policy's people: they are signed up on their first visit.
              auto_sign_up: true,
            },
          }
        : undefined,
    egressPorts: () => [443],
    who: () => "Cloudflare Access: whom cloudflare.access lets through",
  }),
};

type Rows = typeof SIGN_IN_PROVIDERS;

export type SignInProvider = keyof Rows;

/** The providers that sign in through OAuth (a login button and a client secret). */
export type OAuthProvider = { [K in SignInProvider]: Rows[K] extends { kind: "oauth" } ? K : never }[SignInProvider];

/** A provider as config resolves it. */
export type ResolvedProvider<K extends SignInProvider> = NonNullable<ReturnType<Rows[K]["resolve"]>>;

/** The secret key of each OAuth provider's client secret. */
export type SignInSecretKey = Rows[OAuthProvider]["secret"]["key"];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProviderRow = (OAuthProviderRow<any, any, string> | ProxyProviderRow<any, any>) & ProviderRow<any, any>;

/** The rows in order, each with its name. */
export const SIGN_IN_PROVIDER_ROWS = Object.entries(SIGN_IN_PROVIDERS) as Array<[SignInProvider, AnyProviderRow]>;

/** The OAuth providers in order, each with its row. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const OAUTH_PROVIDER_ROWS = SIGN_IN_PROVIDER_ROWS.filter((entry): entry is [OAuthProvider, OAuthProviderRow<any, any, string>] => {
  return entry[1].kind === "oauth";
});

/** The OAuth providers, in the order Grafana's login page lists them; Cloudflare Access signs in without one. */
export const OAUTH_PROVIDERS: readonly OAuthProvider[] = OAUTH_PROVIDER_ROWS.map(([name]) => name);

/** Each OAuth provider's client secret key, as the section declares it. */
export const SIGN_IN_SECRETS = Object.fromEntries(OAUTH_PROVIDER_ROWS.map(([, row]) => [row.secret.key, nonEmpty(row.secret.what)])) as {
  [Key in SignInSecretKey]: z.ZodString;
};

/** What the offline render stands in for each client secret. */
export const SIGN_IN_SECRET_STAND_INS = Object.fromEntries(OAUTH_PROVIDER_ROWS.map(([, row]) => [row.secret.key, row.secret.standIn])) as {
  [Key in SignInSecretKey]: SecretStandIn;
};

/** The providers in words, for a message: `signIn.github, signIn.google or signIn.oidc`. */
export function listed(items: string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}` : (items[0] ?? "");
}
