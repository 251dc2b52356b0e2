/**
 * Sign-in with the team's own accounts (config grafana.signIn): GitHub, Google, a generic OpenID
 * Connect provider and Cloudflare Access as the identity, with roles from the identity. The
 * section's own problems (its schema and resolution: sign-in-config.ts), and what it writes into grafana.ini:
 * [auth.github], [auth.google], [auth.generic_oauth], [auth.jwt] and the role mapping as the
 * JMESPath expression (`role_attribute_path`) Grafana evaluates over each provider's claims.
 */
import { ArgsProblem } from "../kit/problems";
import {
  CF_ACCESS_HEADER,
  OAUTH_PROVIDERS,
  OAuthProvider,
  OIDC_DEFAULT_CLAIMS,
  PROVIDER_INI,
  SignIn,
  SignInProvider,
  SignInRole,
  signInProviders,
} from "./sign-in-config";

export * from "./sign-in-config";

/** The kinds of condition a rule holds, and the providers whose claims carry each to the role mapping. */
type ConditionKind = "groups" | "emails" | "teams";
const CARRIED_BY: Readonly<Record<ConditionKind, readonly SignInProvider[]>> = {
  groups: ["oidc"],
  emails: ["google", "oidc", "cloudflareAccess"],
  teams: ["github"],
};
const CONDITION_KINDS: readonly ConditionKind[] = ["groups", "teams", "emails"];

/** Why a provider does not carry a kind of condition, for the refusal. */
const NOT_CARRIED: Readonly<Record<ConditionKind, string>> = {
  groups:
    "only OpenID Connect sends groups (signIn.oidc, claims.groups): GitHub gives its teams (use teams), Google and Cloudflare Access send none",
  emails:
    "only Google, OpenID Connect and Cloudflare Access give the role mapping a verified address (GitHub's user document holds only the public one, which a user may hide)",
  teams: "teams are GitHub's (signIn.github)",
};

/**
 * What grafana.signIn must keep together, keyed inside the grafana section (a client secret at its
 * own key): rules with a condition, conditions some configured provider carries, automatic sign-in
 * through one provider, a client secret for each provider.
 */
export function signInProblems(signIn: SignIn<unknown>): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const providers = signInProviders(signIn);
  if (providers.length === 0) {
    found.push({
      key: "signIn",
      message:
        "names no provider: give signIn.github, signIn.google, signIn.oidc or signIn.cloudflareAccess: true (or leave signIn out to keep the admin account alone)",
    });
  }
  signIn.roles.forEach((r, i) => {
    const at = `signIn.roles[${i}]`;
    const kinds = CONDITION_KINDS.filter((k) => (r[k] ?? []).length > 0);
    if ((r.organizations ?? []).length > 0) {
      found.push({
        key: `${at}.organizations`,
        message:
          "cannot be matched: no provider gives the role mapping a user's organizations (GitHub gives the teams a user is in, as organization/team: use teams, and keep the organization in signIn.github.organizations)",
      });
    }
    if (kinds.length === 0 && (r.organizations ?? []).length === 0) {
      found.push({
        key: at,
        message: `gives ${r.role} to nobody: a rule needs groups, emails or teams (got only the role)`,
      });
    }
    for (const kind of kinds) {
      if (!CARRIED_BY[kind].some((p) => providers.includes(p))) {
        found.push({
          key: `${at}.${kind}`,
          message: `cannot be matched with the providers configured (${providers.join(", ") || "none"}): ${NOT_CARRIED[kind]}`,
        });
      }
    }
  });
  if (signIn.strict && signIn.roles.length === 0) {
    found.push({
      key: "signIn.strict",
      message: "refuses every user no rule places, and signIn.roles has no rule: give rules or set strict: false",
      involves: ["signIn.roles"],
    });
  }
  const oauth = OAUTH_PROVIDERS.filter((p) => signIn[p] !== undefined);
  if (signIn.autoLogin && oauth.length !== 1) {
    found.push({
      key: "signIn.autoLogin",
      message:
        oauth.length === 0
          ? "needs one OAuth provider to sign in through (signIn.github, signIn.google or signIn.oidc); Cloudflare Access signs in without a login page"
          : `signs in through one provider, and ${oauth.length} are configured (${oauth.join(", ")}): keep one, or set autoLogin: false`,
    });
  }
  for (const p of oauth) {
    if (signIn[p]?.clientSecret === undefined) {
      found.push({
        key: PROVIDER_INI[p].secretKey,
        message: `grafana.signIn.${p} is set, so its client secret is needed: pulumi config set --secret ${PROVIDER_INI[p].secretKey} <value>`,
        involves: [`signIn.${p}`],
      });
    }
  }
  return found;
}

/** The rules that apply to a provider: the rules with a condition it carries, each kept to those conditions. */
function rulesFor(
  signIn: SignIn<unknown>,
  provider: SignInProvider,
): Array<{ role: SignInRole; conditions: Partial<Record<ConditionKind, string[]>> }> {
  return signIn.roles.flatMap((r) => {
    const conditions = Object.fromEntries(
      CONDITION_KINDS.filter((k) => CARRIED_BY[k].includes(provider) && (r[k] ?? []).length > 0).map((k) => [k, r[k] as string[]]),
    );
    return Object.keys(conditions).length > 0 ? [{ role: r.role, conditions }] : [];
  });
}

/** A JMESPath raw string literal. QUOTABLE keeps quotes and backslashes out of what is quoted. */
const raw = (text: string) => `'${text}'`;

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

/** The role mapping of one provider, as Grafana's role_attribute_path; undefined when no rule applies to it. */
export function roleAttributePath(signIn: SignIn<unknown>, provider: SignInProvider): string | undefined {
  const emailClaim = provider === "oidc" ? claimExpression(signIn.oidc?.claims.email ?? OIDC_DEFAULT_CLAIMS.email) : "email";
  const groupsClaim = claimExpression(signIn.oidc?.claims.groups ?? OIDC_DEFAULT_CLAIMS.groups);
  const rules = rulesFor(signIn, provider).map(({ role, conditions }) => {
    const tests = [
      ...(conditions.groups ?? []).map((g) => member(groupsClaim, g)),
      // Grafana hands GitHub's role mapping the user's teams as a `groups` list of `@organization/team-slug`.
      ...(conditions.teams ?? []).map((t) => member("groups", `@${t}`)),
      ...(conditions.emails ? [`contains([${conditions.emails.map(raw).join(", ")}], ${emailClaim})`] : []),
    ];
    return `${tests.length > 1 ? `(${tests.join(" || ")})` : tests[0]} && ${raw(role)}`;
  });
  if (rules.length === 0) return undefined;
  // GitHub's expression is evaluated over the /user document first, and over the team list only when
  // that gives no role: a fallback inside would answer before the teams are looked at. The default
  // role is then [users] auto_assign_org_role's, as for every provider when no rule places a user.
  const fallback = signIn.strict || provider === "github" ? [] : [raw(signIn.defaultRole)];
  return [...rules, ...fallback].join(" || ");
}

/** Whether a provider lets in only whom the stack names: an allow-list, or strict roles with a rule for it. */
export function restricts(signIn: SignIn<unknown>, provider: SignInProvider): boolean {
  const strictRules = signIn.strict && rulesFor(signIn, provider).length > 0;
  switch (provider) {
    case "github":
      return (signIn.github?.organizations.length ?? 0) > 0 || (signIn.github?.teamIds.length ?? 0) > 0 || strictRules;
    case "google":
      return (signIn.google?.domains.length ?? 0) > 0 || strictRules;
    case "oidc":
      return (signIn.oidc?.groups.length ?? 0) > 0 || (signIn.oidc?.domains.length ?? 0) > 0 || strictRules;
    case "cloudflareAccess":
      // Access lets through only its policy's addresses and domains (cloudflare.access).
      return true;
  }
}

/** What an unrestricted provider lets in, for the refusal or the warning. */
export const UNRESTRICTED: Readonly<Record<OAuthProvider, string>> = {
  github: "any GitHub account: set signIn.github.organizations or teamIds",
  google: "any Google account: set signIn.google.domains",
  oidc: "every account of the provider: set signIn.oidc.groups or domains, or strict roles",
};

/** The Cloudflare Access team and the AUD tag of the Access application in front of Grafana. */
export interface CloudflareAccessIdentity<Audience = string> {
  /** The team's name: <team>.cloudflareaccess.com. */
  team: string;
  /** The Access application's AUD tag, as Cloudflare gives it. */
  audience: Audience;
}

/** What signInIni writes besides the settings: where each client secret's file is. */
export interface SignInIniArgs {
  /** `$__file{<path>}` of a file of the secrets volume. */
  secretFile: (file: string) => string;
  /** With cloudflareAccess: the team and the AUD tag. */
  cloudflareAccess?: CloudflareAccessIdentity;
}

type IniSection = Record<string, string | number | boolean>;

/** The role mapping's keys of a section: the expression and the strict mode, when a rule applies. */
function roleKeys(signIn: SignIn<unknown>, provider: SignInProvider): IniSection {
  const path = roleAttributePath(signIn, provider);
  return {
    ...(path !== undefined ? { role_attribute_path: path } : {}),
    role_attribute_strict: signIn.strict,
  };
}

/** The OAuth keys every provider's section shares. */
function oauthKeys(signIn: SignIn<unknown>, provider: OAuthProvider, clientId: string, args: SignInIniArgs): IniSection {
  return {
    enabled: true,
    // Sign-up of unknown users follows the restriction: without one, only users the admin creates sign in.
    allow_sign_up: restricts(signIn, provider),
    auto_login: signIn.autoLogin,
    client_id: clientId,
    client_secret: args.secretFile(PROVIDER_INI[provider].file),
  };
}

/** The grafana.ini sections of grafana.signIn, in Grafana's order; [users] and [auth] keys are merged by grafanaIni. */
export function signInIni(signIn: SignIn<unknown>, args: SignInIniArgs): Record<string, IniSection> {
  const sections: Record<string, IniSection> = {};
  if (signIn.github) {
    const g = signIn.github;
    sections["auth.github"] = {
      ...oauthKeys(signIn, "github", g.clientId, args),
      scopes: "user:email,read:org",
      ...(g.organizations.length > 0 ? { allowed_organizations: g.organizations.join(",") } : {}),
      ...(g.teamIds.length > 0 ? { team_ids: g.teamIds.join(",") } : {}),
      ...roleKeys(signIn, "github"),
    };
  }
  if (signIn.google) {
    const g = signIn.google;
    sections["auth.google"] = {
      ...oauthKeys(signIn, "google", g.clientId, args),
      scopes: "openid email profile",
      ...(g.domains.length > 0 ? { allowed_domains: g.domains.join(",") } : {}),
      // Google's account chooser then offers only that domain's accounts (allowed_domains is what is checked).
      ...(g.domains.length === 1 ? { hosted_domain: g.domains[0] } : {}),
      ...roleKeys(signIn, "google"),
    };
  }
  if (signIn.oidc) {
    const o = signIn.oidc;
    sections["auth.generic_oauth"] = {
      name: o.name,
      ...oauthKeys(signIn, "oidc", o.clientId, args),
      scopes: o.scopes.join(" "),
      // Given, or read from the issuer's discovery document before the program builds anything (preflight/oidc-discovery.ts).
      auth_url: o.authUrl ?? "",
      token_url: o.tokenUrl ?? "",
      api_url: o.userinfoUrl ?? "",
      login_attribute_path: claimExpression(o.claims.login),
      email_attribute_path: claimExpression(o.claims.email),
      name_attribute_path: claimExpression(o.claims.name),
      groups_attribute_path: claimExpression(o.claims.groups),
      ...(o.groups.length > 0 ? { allowed_groups: o.groups.join(",") } : {}),
      ...(o.domains.length > 0 ? { allowed_domains: o.domains.join(",") } : {}),
      use_pkce: true,
      ...roleKeys(signIn, "oidc"),
    };
  }
  if (signIn.cloudflareAccess && args.cloudflareAccess) {
    const { team, audience } = args.cloudflareAccess;
    sections["auth.jwt"] = {
      enabled: true,
      header_name: CF_ACCESS_HEADER,
      email_claim: "email",
      username_claim: "email",
      jwk_set_url: cloudflareAccessCertsUrl(team),
      // The token must be Access's, for the application in front of this Grafana.
      expect_claims: JSON.stringify({ aud: audience, iss: `https://${team}.cloudflareaccess.com` }),
      // Access lets through only its policy's people: they are signed up on their first visit.
      auto_sign_up: true,
      ...roleKeys(signIn, "cloudflareAccess"),
    };
  }
  return sections;
}

/** The OpenID Connect endpoints the stack does not give, as `signIn.oidc.<key>` names them. */
export function missingOidcEndpoints(signIn: SignIn<unknown> | undefined): Array<"authUrl" | "tokenUrl" | "userinfoUrl"> {
  const o = signIn?.oidc;
  if (!o) return [];
  return (["authUrl", "tokenUrl", "userinfoUrl"] as const).filter((k) => o[k] === undefined);
}

/**
 * The ports Grafana's sign-in connects to on the internet: 443 for GitHub's, Google's and Cloudflare
 * Access' APIs and keys, and each port of the OpenID Connect provider's URLs (a NetworkPolicy
 * cannot name their hosts). None without a provider.
 */
export function signInEgressPorts(signIn: SignIn<unknown> | undefined): number[] {
  if (!signIn) return [];
  const ports = new Set<number>();
  if (signIn.github || signIn.google || signIn.cloudflareAccess) ports.add(443);
  const o = signIn.oidc;
  if (o) {
    for (const url of [o.issuer, o.authUrl, o.tokenUrl, o.userinfoUrl]) {
      if (url !== undefined) ports.add(new URL(url).port === "" ? 443 : Number(new URL(url).port));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** Where Cloudflare Access publishes the keys its tokens are signed with. */
export function cloudflareAccessCertsUrl(team: string): string {
  return `https://${team}.cloudflareaccess.com/cdn-cgi/access/certs`;
}

/** The [users] keys of sign-in: the role of a user no rule places (not written with strict roles: such a user is refused). */
export function signInUsers(signIn: SignIn<unknown>): IniSection {
  return signIn.strict ? {} : { auto_assign_org_role: signIn.defaultRole };
}

/** Who signs in and with which role, one line each: for the render's summary and the stack output. */
export function describeSignIn(signIn: SignIn<unknown> | undefined, adminUser: string, rootUrl?: string): string[] {
  const lines: string[] = [];
  if (!signIn) return [`admin account only (${adminUser}, password grafanaAdminPassword or generated): no signIn provider`];
  const who: Record<SignInProvider, () => string> = {
    github: () => {
      const g = signIn.github!;
      const allow = [
        ...(g.organizations.length > 0 ? [`organizations ${g.organizations.join(", ")}`] : []),
        ...(g.teamIds.length > 0 ? [`team ids ${g.teamIds.join(", ")}`] : []),
      ];
      return `GitHub: ${allow.length > 0 ? `members of ${allow.join(" and ")}` : "ANY GitHub account"}`;
    },
    google: () => {
      const g = signIn.google!;
      return `Google: ${g.domains.length > 0 ? `addresses of ${g.domains.join(", ")}` : "ANY Google account"}`;
    },
    oidc: () => {
      const o = signIn.oidc!;
      const allow = [
        ...(o.groups.length > 0 ? [`members of ${o.groups.join(", ")}`] : []),
        ...(o.domains.length > 0 ? [`addresses of ${o.domains.join(", ")}`] : []),
      ];
      return `${o.name} (${o.issuer}): ${allow.length > 0 ? allow.join(" with ") : "EVERY account of the provider"}`;
    },
    cloudflareAccess: () => "Cloudflare Access: whom cloudflare.access lets through",
  };
  for (const p of signInProviders(signIn)) {
    const suffix = p === "cloudflareAccess" || restricts(signIn, p) ? "" : " (sign-up off: only users the admin creates)";
    lines.push(`${who[p]()}${suffix}`);
    if (p !== "cloudflareAccess" && rootUrl) lines.push(`  callback: ${rootUrl.replace(/\/$/, "")}/${PROVIDER_INI[p].callback}`);
  }
  signIn.roles.forEach((r) => {
    const what = [
      ...(r.groups?.length ? [`groups ${r.groups.join(", ")}`] : []),
      ...(r.teams?.length ? [`teams ${r.teams.join(", ")}`] : []),
      ...(r.emails?.length ? [`emails ${r.emails.join(", ")}`] : []),
    ];
    lines.push(`role ${r.role}: ${what.join(" or ")}`);
  });
  lines.push(signIn.strict ? "anyone else: refused (strict)" : `anyone else: ${signIn.defaultRole}`);
  lines.push(
    `break-glass: ${adminUser} (password grafanaAdminPassword or generated)${signIn.autoLogin ? ", at /login?disableAutoLogin" : ""}`,
  );
  return lines;
}
