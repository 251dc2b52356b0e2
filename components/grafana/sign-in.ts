/**
 * Sign-in with the team's own accounts (config grafana.signIn): the providers of
 * sign-in-providers.ts (GitHub, Google, a generic OpenID Connect provider and Cloudflare Access as
 * the identity), with roles from the identity. The section's own problems (its schema and
 * resolution: sign-in-config.ts), and what it writes into grafana.ini: each provider's section and
 * the role mapping as the JMESPath expression (`role_attribute_path`) Grafana evaluates over each
 * provider's claims.
 */
import { ArgsProblem } from "../kit/problems";
import {
  CONDITION_KINDS,
  CloudflareAccessIdentity,
  ConditionKind,
  OAUTH_PROVIDER_ROWS,
  OAuthProvider,
  SIGN_IN_PROVIDER_ROWS,
  SignIn,
  SignInProvider,
  SignInRole,
  listed,
  raw,
  signInProviders,
} from "./sign-in-config";

export * from "./sign-in-config";

/** A provider's row, whatever its kind. */
const rowOf = (provider: SignInProvider) => SIGN_IN_PROVIDER_ROWS.find(([name]) => name === provider)![1];

/** The providers whose claims carry a kind of condition to the role mapping. */
const carriers = (kind: ConditionKind) => SIGN_IN_PROVIDER_ROWS.filter(([, row]) => row.tests[kind] !== undefined).map(([name]) => name);

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
  // A proxy's identity comes with every request it lets through, whatever session an OAuth sign-in
  // made: two identities for one person, and which Grafana takes is its order of authentication,
  // not the stack's. Refused: the proxy alone, or the OAuth providers (the proxy still guarding the way in).
  for (const [p, row] of SIGN_IN_PROVIDER_ROWS) {
    const others = providers.filter((o) => o !== p);
    if (row.kind === "proxy" && signIn[p] !== undefined && others.length > 0) {
      found.push({
        key: `signIn.${p}`,
        message:
          `signs in whom ${row.label} let through on every request, and ${others.map((o) => `signIn.${o}`).join(", ")} ` +
          `${others.length > 1 ? "sign" : "signs"} in the same people through a login page: Grafana would hold two identities for one person, ` +
          `with the role of whichever it checks first. Keep ${row.label} as the identity alone, or remove signIn.${p} and keep ` +
          `${others.length > 1 ? "the others" : `signIn.${others[0]}`} (${row.label} can still guard the way in)`,
        involves: others.map((o) => `signIn.${o}`),
      });
    }
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
      if (!carriers(kind).some((p) => providers.includes(p))) {
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
  const oauth = OAUTH_PROVIDER_ROWS.filter(([p]) => signIn[p] !== undefined);
  if (signIn.autoLogin && oauth.length !== 1) {
    found.push({
      key: "signIn.autoLogin",
      message:
        oauth.length === 0
          ? `needs one OAuth provider to sign in through (${listed(OAUTH_PROVIDER_ROWS.map(([p]) => `signIn.${p}`))}); ` +
            SIGN_IN_PROVIDER_ROWS.filter(([, row]) => row.kind !== "oauth")
              .map(([, row]) => `${row.label} signs in without a login page`)
              .join("; ")
          : `signs in through one provider, and ${oauth.length} are configured (${oauth.map(([p]) => p).join(", ")}): keep one, or set autoLogin: false`,
    });
  }
  for (const [p, row] of oauth) {
    if (signIn[p]?.clientSecret === undefined) {
      found.push({
        key: row.secret.key,
        message: `grafana.signIn.${p} is set, so its client secret is needed: pulumi config set --secret ${row.secret.key} <value>`,
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
  const row = rowOf(provider);
  return signIn.roles.flatMap((r) => {
    const conditions = Object.fromEntries(
      CONDITION_KINDS.filter((k) => row.tests[k] !== undefined && (r[k] ?? []).length > 0).map((k) => [k, r[k] as string[]]),
    );
    return Object.keys(conditions).length > 0 ? [{ role: r.role, conditions }] : [];
  });
}

/** The role mapping of one provider, as Grafana's role_attribute_path; undefined when no rule applies to it (or it is not configured). */
export function roleAttributePath(signIn: SignIn<unknown>, provider: SignInProvider): string | undefined {
  const row = rowOf(provider);
  const resolved = signIn[provider];
  if (resolved === undefined) return undefined;
  const rules = rulesFor(signIn, provider).map(({ role, conditions }) => {
    const tests = CONDITION_KINDS.flatMap((k) => (conditions[k] ? row.tests[k]!(conditions[k], resolved) : []));
    return `${tests.length > 1 ? `(${tests.join(" || ")})` : tests[0]} && ${raw(role)}`;
  });
  // Without a fallback (strict, or a provider whose row has none), a user no rule places gets [users]
  // auto_assign_org_role's role, as for every provider, or is refused with strict roles.
  const fallback = signIn.strict || row.noFallback ? [] : [raw(signIn.defaultRole)];
  const guard = row.guard?.(resolved);
  if (guard !== undefined) return rules.length + fallback.length > 0 ? `${guard} && (${[...rules, ...fallback].join(" || ")})` : undefined;
  if (rules.length === 0) return undefined;
  return [...rules, ...fallback].join(" || ");
}

/** Whether a provider lets in only whom the stack names: its allow-list, or strict roles with a rule for it. */
export function restricts(signIn: SignIn<unknown>, provider: SignInProvider): boolean {
  const resolved = signIn[provider];
  const strictRules = signIn.strict && rulesFor(signIn, provider).length > 0;
  return (resolved !== undefined && rowOf(provider).allowList(resolved)) || strictRules;
}

/** What an unrestricted provider lets in, for the refusal or the warning. */
export const UNRESTRICTED = Object.fromEntries(OAUTH_PROVIDER_ROWS.map(([p, row]) => [p, row.unrestricted])) as Readonly<
  Record<OAuthProvider, string>
>;

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
  const resolved = signIn[provider];
  // A guard holds only under strict roles: without them, a user it refuses a role gets the default one.
  const guarded = resolved !== undefined && rowOf(provider).guard?.(resolved) !== undefined;
  return {
    ...(path !== undefined ? { role_attribute_path: path } : {}),
    role_attribute_strict: signIn.strict || guarded,
  };
}

/** The grafana.ini sections of grafana.signIn, in the table's order; [users] and [auth] keys are merged by grafanaIni. */
export function signInIni(signIn: SignIn<unknown>, args: SignInIniArgs): Record<string, IniSection> {
  const sections: Record<string, IniSection> = {};
  for (const [p, row] of SIGN_IN_PROVIDER_ROWS) {
    const provider = signIn[p];
    if (provider === undefined) continue;
    const oauth: IniSection =
      row.kind === "oauth"
        ? {
            enabled: true,
            // Sign-up of unknown users follows the restriction: without one, only users the admin creates sign in.
            allow_sign_up: restricts(signIn, p),
            auto_login: signIn.autoLogin,
            client_id: (provider as { clientId: string }).clientId,
            client_secret: args.secretFile(row.secret.file),
          }
        : {};
    const ini = row.ini(provider, { oauth, ...(args.cloudflareAccess ? { cloudflareAccess: args.cloudflareAccess } : {}) });
    if (ini) sections[ini.section] = { ...ini.keys, ...roleKeys(signIn, p) };
  }
  return sections;
}

/** The client secrets of the OAuth providers configured, by the file of the sign-in Secret each is read from. */
export function signInClientSecrets<Secret>(signIn: SignIn<Secret> | undefined): Array<[string, Secret]> {
  return OAUTH_PROVIDER_ROWS.flatMap(([p, row]) => {
    const secret = signIn?.[p]?.clientSecret;
    return secret !== undefined ? [[row.secret.file, secret as Secret] as [string, Secret]] : [];
  });
}

/** The OpenID Connect endpoints the stack does not give, as `signIn.oidc.<key>` names them. */
export function missingOidcEndpoints(signIn: SignIn<unknown> | undefined): Array<"authUrl" | "tokenUrl" | "userinfoUrl"> {
  const o = signIn?.oidc;
  if (!o) return [];
  return (["authUrl", "tokenUrl", "userinfoUrl"] as const).filter((k) => o[k] === undefined);
}

/**
 * The ports Grafana's sign-in connects to on the internet, each provider's (443 for GitHub's,
 * Google's and Cloudflare Access' APIs and keys, each port of the OpenID Connect provider's URLs: a
 * NetworkPolicy cannot name their hosts). None without a provider.
 */
export function signInEgressPorts(signIn: SignIn<unknown> | undefined): number[] {
  if (!signIn) return [];
  const ports = new Set(SIGN_IN_PROVIDER_ROWS.flatMap(([p, row]) => (signIn[p] !== undefined ? row.egressPorts(signIn[p]) : [])));
  return [...ports].sort((a, b) => a - b);
}

/** The [users] keys of sign-in: the role of a user no rule places (not written with strict roles: such a user is refused). */
export function signInUsers(signIn: SignIn<unknown>): IniSection {
  return signIn.strict ? {} : { auto_assign_org_role: signIn.defaultRole };
}

/** Who signs in and with which role, one line each: for the render's summary and the stack output. */
export function describeSignIn(signIn: SignIn<unknown> | undefined, adminUser: string, rootUrl?: string): string[] {
  const lines: string[] = [];
  if (!signIn) return [`admin account only (${adminUser}, password grafanaAdminPassword or generated): no signIn provider`];
  for (const p of signInProviders(signIn)) {
    const row = rowOf(p);
    const suffix = row.kind !== "oauth" || restricts(signIn, p) ? "" : " (sign-up off: only users the admin creates)";
    lines.push(`${row.who(signIn[p])}${suffix}`);
    if (row.kind === "oauth" && rootUrl) lines.push(`  callback: ${rootUrl.replace(/\/$/, "")}/${row.callback}`);
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
