/**
 * grafana.signIn as the stack file gives it and as config resolves it: the providers' schemas from
 * their table (sign-in-providers.ts), the role rules, their defaults and the resolution (sign-in.ts
 * renders and checks it).
 */
import { z } from "zod";
import { bool, matching } from "../kit/fields";
import {
  OAuthProvider,
  QUOTABLE,
  ResolvedProvider,
  SIGN_IN_PROVIDERS,
  SIGN_IN_PROVIDER_ROWS,
  SignInProvider,
  SignInSecretKey,
  names,
} from "./sign-in-providers";

export * from "./sign-in-providers";

/** The roles a rule gives: Grafana's basic roles of an organisation. */
export const SIGN_IN_ROLES = ["Admin", "Editor", "Viewer"] as const;
export type SignInRole = (typeof SIGN_IN_ROLES)[number];
/** What a user no rule places gets: a basic role, or None (signed in, sees nothing until given one). */
export const DEFAULT_ROLES = ["Viewer", "Editor", "None"] as const;
export type DefaultRole = (typeof DEFAULT_ROLES)[number];

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

type Rows = typeof SIGN_IN_PROVIDERS;

/** Each provider's `signIn.<provider>` schema, optional, with its line of the key reference. */
const providerSchemas = Object.fromEntries(
  SIGN_IN_PROVIDER_ROWS.map(([name, row]) => [name, row.schema.optional().describe(row.docs)]),
) as { [K in SignInProvider]: z.ZodOptional<Rows[K]["schema"]> };

/** grafana.signIn as the stack file gives it. */
export const signInSchema = z.strictObject({
  ...providerSchemas,
  roles: z.array(rule, { error: "must be a list of rules such as [{ role: Admin, groups: [sre] }]" }).optional(),
  defaultRole: z.enum(DEFAULT_ROLES).optional().describe("Role of a user no rule places: Viewer (default), Editor or None."),
  strict: bool.optional().describe("Refuse a user no rule places (role_attribute_strict); default false."),
  autoLogin: bool.optional().describe("Skip the login page and sign in through the one OAuth provider; default false."),
});

export type SignInFields = z.infer<typeof signInSchema>;
export type RoleRule = z.infer<typeof rule>;

/**
 * grafana.signIn as config resolves it: each provider configured as its row resolves it, an OAuth
 * provider with its client secret; `Secret` is the client secrets' type (a string in config, an
 * Input in the component's args).
 */
export type SignIn<Secret = string> = {
  [K in SignInProvider]?: ResolvedProvider<K> & (K extends OAuthProvider ? { clientSecret?: Secret } : unknown);
} & {
  roles: RoleRule[];
  defaultRole: DefaultRole;
  strict: boolean;
  autoLogin: boolean;
};

/** The client secrets by secret key, as the stack gives them. */
export type SignInSecrets = Partial<Record<SignInSecretKey, string>>;

/** grafana.signIn over its defaults, with the client secrets the stack gives. */
export function resolveSignIn(given: SignInFields, secrets: SignInSecrets): SignIn {
  const providers = SIGN_IN_PROVIDER_ROWS.flatMap(([name, row]) => {
    const fields = given[name];
    const provider = fields === undefined ? undefined : row.resolve(fields);
    if (provider === undefined) return [];
    const secret = row.kind === "oauth" ? secrets[row.secret.key as SignInSecretKey] : undefined;
    return [[name, secret !== undefined ? { ...provider, clientSecret: secret } : provider]];
  });
  return {
    ...(Object.fromEntries(providers) as Omit<SignIn, "roles" | "defaultRole" | "strict" | "autoLogin">),
    roles: given.roles ?? [],
    defaultRole: given.defaultRole ?? "Viewer",
    strict: given.strict ?? false,
    autoLogin: given.autoLogin ?? false,
  };
}

/** The providers configured, in the table's order (OAuth ones first). */
export function signInProviders(signIn: SignIn<unknown>): SignInProvider[] {
  return SIGN_IN_PROVIDER_ROWS.filter(([name]) => signIn[name] !== undefined).map(([name]) => name);
}
