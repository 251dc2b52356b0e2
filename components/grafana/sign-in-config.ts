/**
 * grafana.signIn as the stack file gives it and as config resolves it: the schema of each provider,
 * the role rules, their defaults and the resolution (sign-in.ts renders and checks it).
 */
import { z } from "zod";
import { bool, hostname, matching, nonEmpty } from "../kit/fields";
/** The roles a rule gives: Grafana's basic roles of an organisation. */
export const SIGN_IN_ROLES = ["Admin", "Editor", "Viewer"] as const;
export type SignInRole = (typeof SIGN_IN_ROLES)[number];
/** What a user no rule places gets: a basic role, or None (signed in, sees nothing until given one). */
export const DEFAULT_ROLES = ["Viewer", "Editor", "None"] as const;
export type DefaultRole = (typeof DEFAULT_ROLES)[number];

/** The OAuth providers, in the order Grafana's login page lists them; Cloudflare Access signs in without one. */
export const OAUTH_PROVIDERS = ["github", "google", "oidc"] as const;
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];
export type SignInProvider = OAuthProvider | "cloudflareAccess";

/** Each OAuth provider's grafana.ini section and the path of its callback under root_url. */
export const PROVIDER_INI: Readonly<Record<OAuthProvider, { section: string; callback: string; secretKey: string; file: string }>> = {
  github: { section: "auth.github", callback: "login/github", secretKey: "grafanaGithubClientSecret", file: "github-client-secret" },
  google: { section: "auth.google", callback: "login/google", secretKey: "grafanaGoogleClientSecret", file: "google-client-secret" },
  oidc: {
    section: "auth.generic_oauth",
    callback: "login/generic_oauth",
    secretKey: "grafanaOidcClientSecret",
    file: "oidc-client-secret",
  },
};

/** The header Cloudflare Access puts its signed token in, on every request it lets through. */
export const CF_ACCESS_HEADER = "Cf-Access-Jwt-Assertion";

/** A value the role mapping quotes as a JMESPath raw string: no quote, backslash, backquote or control character. */
const QUOTABLE = /^[^'\\`\u0000-\u001f\u007f]+$/;
const quotable = (what: string) =>
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

const names = (what: string) => z.array(quotable(`a ${what}`), { error: `must be a list of ${what}s` });

const github = z.strictObject({
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

const google = z.strictObject({
  clientId: quotable("the OAuth client's id").describe("The Google OAuth client's id; its secret is grafanaGoogleClientSecret."),
  domains: z
    .array(hostname, { error: "must be a list of domains such as [acme.com]" })
    .optional()
    .describe("Only addresses of these domains sign in (allowed_domains); one domain is also sent as Google's hd hint."),
});

const claims = z.strictObject({
  login: claimPath("a claim").optional().describe('Claim holding the login; default "preferred_username".'),
  email: claimPath("a claim").optional().describe('Claim holding the email address; default "email".'),
  name: claimPath("a claim").optional().describe('Claim holding the display name; default "name".'),
  groups: claimPath("a claim").optional().describe('Claim holding the list of groups; default "groups".'),
});

const oidc = z.strictObject({
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

const rule = z.strictObject({
  role: z.enum(SIGN_IN_ROLES).describe("Admin, Editor or Viewer."),
  groups: names("group name").optional().describe("Members of any of these groups (OpenID Connect's groups claim)."),
  emails: z
    .array(z.email({ error: "must be an email address" }).regex(QUOTABLE, "must not hold ' \\ or `"), {
      error: "must be a list of email addresses",
    })
    .optional()
    .describe("Any of these addresses (Google, OpenID Connect, Cloudflare Access)."),
  teams: z
    .array(matching(/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/, "a GitHub team as organization/team-slug such as acme/sre"), {
      error: "must be a list of GitHub teams such as [acme/sre]",
    })
    .optional()
    .describe("Members of any of these GitHub teams, as organization/team-slug."),
  organizations: z
    .array(z.string(), { error: "must be a list of organizations" })
    .optional()
    .describe("Refused: no provider gives the role mapping a user's organizations (GitHub gives its teams: use teams)."),
});

/** grafana.signIn as the stack file gives it. */
export const signInSchema = z.strictObject({
  github: github.optional().describe("Sign in with GitHub. Secret: grafanaGithubClientSecret."),
  google: google.optional().describe("Sign in with Google. Secret: grafanaGoogleClientSecret."),
  oidc: oidc.optional().describe("Sign in with an OpenID Connect provider. Secret: grafanaOidcClientSecret."),
  cloudflareAccess: bool
    .optional()
    .describe("Sign in as the identity Cloudflare Access checked (its Cf-Access-Jwt-Assertion token); needs cloudflare.access."),
  roles: z.array(rule, { error: "must be a list of rules such as [{ role: Admin, groups: [sre] }]" }).optional(),
  defaultRole: z.enum(DEFAULT_ROLES).optional().describe("Role of a user no rule places: Viewer (default), Editor or None."),
  strict: bool.optional().describe("Refuse a user no rule places (role_attribute_strict); default false."),
  autoLogin: bool.optional().describe("Skip the login page and sign in through the one OAuth provider; default false."),
});

export type SignInFields = z.infer<typeof signInSchema>;
export type RoleRule = z.infer<typeof rule>;

/** The claims of the OpenID Connect provider, resolved. */
export interface OidcClaims {
  login: string;
  email: string;
  name: string;
  groups: string;
}

/** grafana.signIn as config resolves it; `Secret` is the client secrets' type (a string in config, an Input in the component's args). */
export interface SignIn<Secret = string> {
  github?: { clientId: string; organizations: string[]; teamIds: number[]; clientSecret?: Secret };
  google?: { clientId: string; domains: string[]; clientSecret?: Secret };
  oidc?: {
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
    clientSecret?: Secret;
  };
  cloudflareAccess: boolean;
  roles: RoleRule[];
  defaultRole: DefaultRole;
  strict: boolean;
  autoLogin: boolean;
}

export const OIDC_DEFAULT_SCOPES = ["openid", "email", "profile", "groups"];
export const OIDC_DEFAULT_CLAIMS: OidcClaims = { login: "preferred_username", email: "email", name: "name", groups: "groups" };
export const OIDC_DEFAULT_NAME = "OpenID Connect";

/** The client secrets by provider, as the stack gives them. */
export type SignInSecrets = Partial<Record<OAuthProvider, string>>;

/** grafana.signIn over its defaults, with the client secrets the stack gives. */
export function resolveSignIn(given: SignInFields, secrets: SignInSecrets): SignIn {
  const secret = (p: OAuthProvider) => (secrets[p] !== undefined ? { clientSecret: secrets[p] } : {});
  return {
    ...(given.github
      ? {
          github: {
            clientId: given.github.clientId,
            organizations: given.github.organizations ?? [],
            teamIds: given.github.teamIds ?? [],
            ...secret("github"),
          },
        }
      : {}),
    ...(given.google ? { google: { clientId: given.google.clientId, domains: given.google.domains ?? [], ...secret("google") } } : {}),
    ...(given.oidc
      ? {
          oidc: {
            name: given.oidc.name ?? OIDC_DEFAULT_NAME,
            clientId: given.oidc.clientId,
            issuer: given.oidc.issuer,
            ...(given.oidc.authUrl ? { authUrl: given.oidc.authUrl } : {}),
            ...(given.oidc.tokenUrl ? { tokenUrl: given.oidc.tokenUrl } : {}),
            ...(given.oidc.userinfoUrl ? { userinfoUrl: given.oidc.userinfoUrl } : {}),
            scopes: given.oidc.scopes ?? OIDC_DEFAULT_SCOPES,
            claims: { ...OIDC_DEFAULT_CLAIMS, ...given.oidc.claims },
            groups: given.oidc.groups ?? [],
            domains: given.oidc.domains ?? [],
            ...secret("oidc"),
          },
        }
      : {}),
    cloudflareAccess: given.cloudflareAccess ?? false,
    roles: given.roles ?? [],
    defaultRole: given.defaultRole ?? "Viewer",
    strict: given.strict ?? false,
    autoLogin: given.autoLogin ?? false,
  };
}

/** The providers configured, OAuth ones first. */
export function signInProviders(signIn: SignIn<unknown>): SignInProvider[] {
  return [...OAUTH_PROVIDERS.filter((p) => signIn[p] !== undefined), ...(signIn.cloudflareAccess ? ["cloudflareAccess" as const] : [])];
}
