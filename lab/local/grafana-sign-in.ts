/**
 * What Grafana decides when someone signs in, from the settings of its grafana.ini and the claims an identity
 * provider sent, for the sign-in lab (test/live/sign-in.test.ts), which cannot run Grafana's server (it does not
 * build here). Written from the behaviour of Grafana's generic OAuth connector (pkg/login/social/connectors,
 * generic_oauth.go's UserInfo and social_base.go's role extraction) and of its JWT client (pkg/services/authn/clients/
 * jwt.go, pkg/services/auth/jwt/validation.go), with every JMESPath expression evaluated by the library Grafana uses
 * (jmespath.ts); this is our own code, not Grafana's:
 *
 * - generic OAuth: the ID token's claims, then the userinfo answer (api_url), each give the login, email, name,
 *   role and groups that the one before did not; a role is role_attribute_path's string, title-cased
 *   ("GrafanaAdmin" is Admin and server admin), and one that is no role (Viewer, Editor, Admin, None) is skipped;
 *   no role: refused under role_attribute_strict, else the default role; a user in none of allowed_groups
 *   (when set) is refused, and so is an email outside allowed_domains, and a new user when sign-up is off.
 * - JWT ([auth.jwt]): the signature against the key set (jwt.ts), the registered claims against expect_claims
 *   (iss, sub, aud: every expected audience in the token's) and the time claims with a minute of leeway, every other
 *   expected claim equal; login and email from username_claim and email_claim; the role as role_attribute_path gives
 *   it (no title-casing); no valid role is refused under role_attribute_strict, else left to the default role.
 */
import { Claims, JwkSet, JwtError, audiences, verifyJwt } from "./jwt";
import type { JmesSearch } from "./jmespath";

/** An INI document as Grafana reads it: sections of keys to string values. */
export type Ini = Record<string, Record<string, string>>;

/**
 * Parses an INI document as go-ini reads grafana.ini: `[section]`, `key = value`, `;` and `#` comment lines,
 * values in backquotes or double quotes taken whole. Keys before any section go to "" (go-ini's DEFAULT).
 */
export function parseIni(text: string): Ini {
  const doc: Ini = {};
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1].trim();
      doc[section] ??= {};
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new Error(`grafana.ini line is neither a section, a key nor a comment: ${line}`);
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const quoted = /^`(.*)`$/.exec(value) ?? /^"(.*)"$/.exec(value);
    if (quoted) value = quoted[1];
    (doc[section] ??= {})[key] = value;
  }
  return doc;
}

/** A list setting as Grafana splits it: a JSON array when bracketed, else words separated by commas or spaces. */
export function grafanaList(value: string | undefined): string[] {
  const text = (value ?? "").trim();
  if (text === "") return [];
  if (text.startsWith("[") && text.endsWith("]")) {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === "string")) throw new Error(`not a JSON array of strings: ${text}`);
    return parsed;
  }
  return text.split(/[\s,]+/).filter(Boolean);
}

/** A boolean setting as Grafana reads it (strconv.ParseBool), or the default when unset. */
export function grafanaBool(value: string | undefined, byDefault: boolean): boolean {
  if (value === undefined || value.trim() === "") return byDefault;
  const v = value.trim();
  if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return false;
  throw new Error(`not a boolean: ${value}`);
}

/** Replaces Grafana's `$__file{path}` and `$__env{NAME}` expansions through `read` (file paths, env names). */
export function expandValue(value: string, read: (kind: "file" | "env", name: string) => string): string {
  return value.replace(/\$__(file|env)\{([^}]*)\}/g, (_m, kind: "file" | "env", name: string) => {
    const content = read(kind, name);
    // Grafana trims a file's trailing whitespace and newline.
    return kind === "file" ? content.trimEnd() : content;
  });
}

export const ROLES = ["Viewer", "Editor", "Admin", "None"] as const;
export type Role = (typeof ROLES)[number];
const isRole = (r: string): r is Role => (ROLES as readonly string[]).includes(r);

/** The settings of [auth.generic_oauth] the sign-in reads, and the redirect URI Grafana sends. */
export interface GenericOAuthSettings {
  enabled: boolean;
  name: string;
  clientId: string;
  clientSecret: string;
  authUrl: string;
  tokenUrl: string;
  apiUrl: string;
  scopes: string[];
  loginAttributePath: string;
  emailAttributePath: string;
  nameAttributePath: string;
  groupsAttributePath: string;
  roleAttributePath: string;
  roleAttributeStrict: boolean;
  allowedGroups: string[];
  allowedDomains: string[];
  allowSignUp: boolean;
  /** use_pkce: the code challenge (S256) sent with the authorization request, its verifier with the code. */
  usePkce: boolean;
  /** [users] auto_assign_org_role: the default role. */
  defaultRole: string;
  /** root_url without its trailing slash, then /login/generic_oauth (Grafana's redirect URL for this provider). */
  redirectUri: string;
}

/** Settings this lab does not evaluate: present, they would make its verdict wrong, so they are refused. */
const NOT_MODELLED_OAUTH = ["team_ids", "teams_url", "team_ids_attribute_path", "allowed_organizations", "skip_org_role_sync"];

/** [auth.generic_oauth] of a grafana.ini (secrets expanded by `read`), with Grafana's defaults for unset keys. */
export function genericOAuthSettings(ini: Ini, read: (kind: "file" | "env", name: string) => string): GenericOAuthSettings {
  const s = ini["auth.generic_oauth"];
  if (!s) throw new Error("grafana.ini has no [auth.generic_oauth] section");
  const unmodelled = NOT_MODELLED_OAUTH.filter((k) => (s[k] ?? "") !== "" && !(k === "skip_org_role_sync" && !grafanaBool(s[k], false)));
  if (unmodelled.length > 0) throw new Error(`[auth.generic_oauth] sets ${unmodelled.join(", ")}, which the sign-in lab does not evaluate`);
  const get = (k: string) => expandValue(s[k] ?? "", read);
  const rootUrl = ini.server?.root_url;
  if (!rootUrl) throw new Error("grafana.ini has no [server] root_url: Grafana's redirect URI is made from it");
  return {
    enabled: grafanaBool(s.enabled, false),
    name: get("name") || "OAuth",
    clientId: get("client_id"),
    clientSecret: get("client_secret"),
    authUrl: get("auth_url"),
    tokenUrl: get("token_url"),
    apiUrl: get("api_url"),
    scopes: grafanaList(get("scopes")),
    loginAttributePath: get("login_attribute_path"),
    emailAttributePath: get("email_attribute_path"),
    nameAttributePath: get("name_attribute_path"),
    groupsAttributePath: get("groups_attribute_path"),
    roleAttributePath: get("role_attribute_path"),
    roleAttributeStrict: grafanaBool(s.role_attribute_strict, false),
    allowedGroups: grafanaList(get("allowed_groups")),
    allowedDomains: grafanaList(get("allowed_domains")),
    allowSignUp: grafanaBool(s.allow_sign_up, true),
    usePkce: grafanaBool(s.use_pkce, false),
    defaultRole: ini.users?.auto_assign_org_role || "Viewer",
    redirectUri: `${expandValue(rootUrl, read).replace(/\/+$/, "")}/login/generic_oauth`,
  };
}

/** Who Grafana signs in, with which role; or why it refuses. */
export type SignInVerdict =
  | { signedIn: true; login: string; email: string; name: string; groups: string[]; role: Role; grafanaAdmin: boolean; warnings: string[] }
  | { signedIn: false; refused: string; warnings: string[] };

/** A string attribute as Grafana searches it: the expression's result when it is a string, else "". */
function stringAttr(search: JmesSearch, expression: string, data: unknown): { value: string; error?: string } {
  const [answer] = search([{ expression, data }]);
  if (answer.error !== undefined) return { value: "", error: answer.error };
  return { value: typeof answer.result === "string" ? answer.result : "" };
}

/** A list attribute as Grafana searches it: the string items of an array result, else none. */
function stringSliceAttr(search: JmesSearch, expression: string, data: unknown): { value: string[]; error?: string } {
  const [answer] = search([{ expression, data }]);
  if (answer.error !== undefined) return { value: [], error: answer.error };
  return { value: Array.isArray(answer.result) ? answer.result.filter((v): v is string => typeof v === "string") : [] };
}

const titleCase = (s: string) => (s === "" ? s : s[0].toUpperCase() + s.slice(1).toLowerCase());
const str = (v: unknown) => (typeof v === "string" ? v : "");

/**
 * Grafana's generic OAuth sign-in on the claims of a verified ID token (source "token") and, when api_url is set,
 * the userinfo answer (source "API"), in that order, for a user Grafana has not seen (sign-up applies).
 */
export function genericOAuthVerdict(
  settings: GenericOAuthSettings,
  sources: Array<{ source: "token" | "API"; data: Claims }>,
  search: JmesSearch,
): SignInVerdict {
  const warnings: string[] = [];
  const user = { id: "", login: "", email: "", name: "", role: "", grafanaAdmin: false, groups: [] as string[] };
  for (const { source, data } of sources) {
    if (user.id === "") user.id = str(data.sub);
    // A setting's JMESPath over this source (its key names it in a warning): "" when unset, failing or not a string.
    const byPath = (expression: string | undefined, key: string) => {
      if (!expression) return "";
      const found = stringAttr(search, expression, data);
      if (found.error) warnings.push(`${source}: ${key}: ${found.error}`);
      return found.value;
    };
    if (user.name === "") user.name = byPath(settings.nameAttributePath, "name_attribute_path") || str(data.name) || str(data.display_name);
    if (user.login === "")
      user.login = str(data.login) || byPath(settings.loginAttributePath, "login_attribute_path") || str(data.username);
    if (user.email === "") user.email = str(data.email) || byPath(settings.emailAttributePath, "email_attribute_path");
    if (user.role === "") {
      const role = roleOf(settings, data, search);
      if (role.error) warnings.push(`${source}: ${role.error}`);
      else {
        user.role = role.role;
        user.grafanaAdmin = role.grafanaAdmin;
      }
    }
    if (user.groups.length === 0 && settings.groupsAttributePath) {
      const found = stringSliceAttr(search, settings.groupsAttributePath, data);
      if (found.error) warnings.push(`${source}: groups_attribute_path: ${found.error}`);
      else user.groups = found.value;
    }
  }
  if (user.role === "") {
    if (settings.roleAttributeStrict)
      return { signedIn: false, refused: "role_attribute_strict: the identity provider gave no role", warnings };
    user.role = settings.defaultRole;
  }
  if (user.email === "")
    return { signedIn: false, refused: "no email: Grafana would ask api_url/emails, which an OpenID provider does not serve", warnings };
  if (user.login === "") user.login = user.email;
  if (settings.allowedGroups.length > 0 && !user.groups.some((g) => settings.allowedGroups.includes(g))) {
    return {
      signedIn: false,
      refused: `not a member of allowed_groups (${settings.allowedGroups.join(", ")}): groups ${JSON.stringify(user.groups)}`,
      warnings,
    };
  }
  if (
    settings.allowedDomains.length > 0 &&
    !settings.allowedDomains.some((d) => user.email.toLowerCase().endsWith(`@${d.toLowerCase()}`))
  ) {
    return { signedIn: false, refused: `email ${user.email} outside allowed_domains`, warnings };
  }
  if (!settings.allowSignUp) return { signedIn: false, refused: "allow_sign_up is off and the user is new", warnings };
  if (!isRole(user.role)) return { signedIn: false, refused: `default role ${user.role} is no Grafana role`, warnings };
  return {
    signedIn: true,
    login: user.login,
    email: user.email,
    name: user.name,
    groups: user.groups,
    role: user.role,
    grafanaAdmin: user.grafanaAdmin,
    warnings,
  };
}

/** role_attribute_path on one source, as Grafana's social base extracts it (an error is logged and the next source tried). */
function roleOf(settings: GenericOAuthSettings, data: Claims, search: JmesSearch): { role: string; grafanaAdmin: boolean; error?: string } {
  if (settings.roleAttributePath === "") {
    return settings.roleAttributeStrict
      ? { role: "", grafanaAdmin: false, error: "role_attribute_path not set and role_attribute_strict is set" }
      : { role: "", grafanaAdmin: false };
  }
  let found = stringAttr(search, settings.roleAttributePath, data);
  // Grafana searches the expression again on {"groups": [...]} (the connector's own groups: none for generic OAuth).
  if (found.error || found.value === "") found = stringAttr(search, settings.roleAttributePath, { groups: [] });
  if (found.value !== "") {
    if (found.value.toLowerCase() === "grafanaadmin") return { role: "Admin", grafanaAdmin: true };
    const role = titleCase(found.value);
    if (isRole(role)) return { role, grafanaAdmin: false };
    return { role: "", grafanaAdmin: false, error: `invalid role: ${role}` };
  }
  if (settings.roleAttributeStrict)
    return { role: "", grafanaAdmin: false, error: "idP did not return a role attribute, but role_attribute_strict is set" };
  return { role: "", grafanaAdmin: false };
}

/** The settings of [auth.jwt] the sign-in reads. */
export interface JwtSettings {
  enabled: boolean;
  headerName: string;
  jwkSetUrl: string;
  expectClaims: Record<string, unknown>;
  usernameClaim: string;
  emailClaim: string;
  usernameAttributePath: string;
  emailAttributePath: string;
  roleAttributePath: string;
  roleAttributeStrict: boolean;
  groupsAttributePath: string;
  autoSignUp: boolean;
  defaultRole: string;
}

/** [auth.jwt] of a grafana.ini (secrets expanded by `read`), with Grafana's defaults for unset keys. */
export function jwtSettings(ini: Ini, read: (kind: "file" | "env", name: string) => string): JwtSettings {
  // No section: Grafana's defaults, [auth.jwt] off.
  const s = ini["auth.jwt"] ?? {};
  if ((s.jwk_set_file ?? "") !== "" || (s.key_file ?? "") !== "")
    throw new Error("[auth.jwt] reads keys from a file: the sign-in lab serves a jwk_set_url");
  if (grafanaBool(s.skip_org_role_sync, false)) throw new Error("[auth.jwt] skip_org_role_sync: the sign-in lab does not evaluate it");
  const get = (k: string) => expandValue(s[k] ?? "", read);
  const expect = get("expect_claims") || "{}";
  return {
    enabled: grafanaBool(s.enabled, false),
    headerName: get("header_name"),
    jwkSetUrl: get("jwk_set_url"),
    expectClaims: JSON.parse(expect) as Record<string, unknown>,
    usernameClaim: get("username_claim"),
    emailClaim: get("email_claim"),
    usernameAttributePath: get("username_attribute_path"),
    emailAttributePath: get("email_attribute_path"),
    roleAttributePath: get("role_attribute_path"),
    roleAttributeStrict: grafanaBool(s.role_attribute_strict, false),
    groupsAttributePath: get("groups_attribute_path"),
    autoSignUp: grafanaBool(s.auto_sign_up, false),
    defaultRole: ini.users?.auto_assign_org_role || "Viewer",
  };
}

/** go-jose's default leeway for exp, nbf and iat. */
const LEEWAY_SECONDS = 60;

/**
 * The token's registered and expected claims checked as Grafana's JWT service checks them (validation.go);
 * an error names the claim.
 */
export function checkExpectedClaims(claims: Claims, expect: Record<string, unknown>, nowSeconds = Date.now() / 1000): void {
  for (const key of ["iss", "sub"] as const) {
    if (claims[key] !== undefined && typeof claims[key] !== "string")
      throw new JwtError(`"${key}" claim has invalid type, string expected`);
  }
  const tokenAud = audiences(claims);
  for (const key of ["exp", "nbf", "iat"] as const) {
    if (claims[key] !== undefined && claims[key] !== null && typeof claims[key] !== "number") {
      throw new JwtError(`"${key}" claim has invalid type, number expected`);
    }
  }
  if (expect.iss !== undefined && claims.iss !== expect.iss)
    throw new JwtError(`validation failed, invalid issuer claim (iss): ${String(claims.iss)}`);
  if (expect.sub !== undefined && claims.sub !== expect.sub) throw new JwtError(`validation failed, invalid subject claim (sub)`);
  if (expect.aud !== undefined) {
    const wanted = typeof expect.aud === "string" ? [expect.aud] : (expect.aud as string[]);
    if (!wanted.every((a) => tokenAud.includes(a))) {
      throw new JwtError(
        `validation failed, invalid audience claim (aud): ${JSON.stringify(tokenAud)}, expected ${JSON.stringify(wanted)}`,
      );
    }
  }
  const exp = claims.exp as number | undefined;
  const nbf = claims.nbf as number | undefined;
  const iat = claims.iat as number | undefined;
  if (typeof exp === "number" && nowSeconds - LEEWAY_SECONDS > exp) throw new JwtError("validation failed, token is expired (exp)");
  if (typeof nbf === "number" && nowSeconds + LEEWAY_SECONDS < nbf) throw new JwtError("validation failed, token not valid yet (nbf)");
  if (typeof iat === "number" && nowSeconds + LEEWAY_SECONDS < iat)
    throw new JwtError("validation failed, token issued in the future (iat)");
  for (const [key, expected] of Object.entries(expect)) {
    if (["iss", "sub", "aud"].includes(key)) continue;
    if (!(key in claims)) throw new JwtError(`"${key}" claim is missing`);
    if (JSON.stringify(claims[key]) !== JSON.stringify(expected)) throw new JwtError(`"${key}" claim mismatch`);
  }
}

/**
 * Grafana's JWT sign-in of the token a request carries in settings.headerName: verified against the key set
 * (fetched from jwk_set_url by the caller), the claims against expect_claims, then login, email, role and groups.
 */
export function jwtVerdict(settings: JwtSettings, headers: Record<string, string>, keys: JwkSet, search: JmesSearch): SignInVerdict {
  const warnings: string[] = [];
  // Off (Grafana's default, as with no [auth.jwt] section): no header is read, whatever it carries.
  if (!settings.enabled) return { signedIn: false, refused: "[auth.jwt] is not enabled", warnings };
  const header = Object.entries(headers).find(([k]) => k.toLowerCase() === settings.headerName.toLowerCase())?.[1];
  if (!header) return { signedIn: false, refused: `no ${settings.headerName} header`, warnings };
  let claims: Claims;
  try {
    claims = verifyJwt(header, keys);
    checkExpectedClaims(claims, settings.expectClaims);
  } catch (err) {
    if (err instanceof JwtError) return { signedIn: false, refused: `failed to verify JWT: ${err.message}`, warnings };
    throw err;
  }
  if (str(claims.sub) === "") return { signedIn: false, refused: "missing mandatory 'sub' claim", warnings };
  let login = "";
  if (settings.usernameClaim) login = str(claims[settings.usernameClaim]);
  else if (settings.usernameAttributePath) login = stringAttr(search, settings.usernameAttributePath, claims).value;
  let email = "";
  if (settings.emailClaim) email = str(claims[settings.emailClaim]);
  else if (settings.emailAttributePath) email = stringAttr(search, settings.emailAttributePath, claims).value;
  let role = "";
  let grafanaAdmin = false;
  if (settings.roleAttributePath) {
    const found = stringAttr(search, settings.roleAttributePath, claims);
    if (found.error) warnings.push(`role_attribute_path: ${found.error}`);
    else if (found.value === "GrafanaAdmin") [role, grafanaAdmin] = ["Admin", true];
    else role = found.value;
  }
  if (!isRole(role)) {
    if (settings.roleAttributeStrict) return { signedIn: false, refused: `invalid role claim in JWT: ${role}`, warnings };
    // No role to sync: a new user gets the default role.
    role = settings.defaultRole;
  }
  const groups = settings.groupsAttributePath ? stringSliceAttr(search, settings.groupsAttributePath, claims).value : [];
  if (login === "" && email === "") return { signedIn: false, refused: "missing login and email claim in JWT", warnings };
  if (!settings.autoSignUp) return { signedIn: false, refused: "auto_sign_up is off and the user is new", warnings };
  if (!isRole(role)) return { signedIn: false, refused: `default role ${role} is no Grafana role`, warnings };
  return { signedIn: true, login: login || email, email, name: str(claims.name), groups, role, grafanaAdmin, warnings };
}
