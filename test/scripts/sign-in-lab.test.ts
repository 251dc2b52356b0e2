/**
 * The sign-in lab's own logic, offline (the lab itself, with Dex and the jmespath tool, is test/live/sign-in.test.ts):
 * grafana.ini read as go-ini and Grafana read it, tokens signed and verified with Node's crypto, expect_claims
 * checked as Grafana's JWT service checks them, and Grafana's verdicts from the search results an evaluator gives.
 */
import { grafanaIni, iniText } from "../../components/grafana/ini";
import { resolveSignIn } from "../../components/grafana/sign-in";
import { accessClaims } from "../../lab/local/cloudflare-access";
import {
  GenericOAuthSettings,
  JwtSettings,
  checkExpectedClaims,
  expandValue,
  genericOAuthSettings,
  genericOAuthVerdict,
  grafanaBool,
  grafanaList,
  jwtSettings,
  jwtVerdict,
  parseIni,
} from "../../lab/local/grafana-sign-in";
import type { JmesSearch } from "../../lab/local/jmespath";
import { decodeJwt, newSigningKey, signJwt, verifyJwt } from "../../lab/local/jwt";
import { handWrittenIni, handWrittenRead, LAB_CLIENT_SECRET } from "../live/support/sign-in";

const ISSUER = "https://dex.example.test/dex";
const TEAM = "acme-lab";
const AUD = "a".repeat(64);

/**
 * An evaluator for the verdict tests: each expression the hand-written ini uses, as a function of the data. The
 * real library answers in the live lab; here the tests check what Grafana does with the answers.
 */
function stubSearch(table: Record<string, (data: Record<string, unknown>) => unknown>): JmesSearch {
  return (queries) =>
    queries.map(({ expression, data }) => {
      const f = table[expression];
      return f ? { result: f(data as Record<string, unknown>) } : { error: `stub has no ${expression}` };
    });
}

describe("grafana.ini as Grafana reads it", () => {
  test("sections, keys, comments and backquoted values", () => {
    const ini = parseIni('; comment\n[server]\nroot_url = https://g.example.com/\n# another\n[auth.jwt]\nexpect_claims = `{"aud": "x"}`\n');
    expect(ini).toEqual({ server: { root_url: "https://g.example.com/" }, "auth.jwt": { expect_claims: '{"aud": "x"}' } });
    expect(() => parseIni("[server]\nnot a key\n")).toThrow(/neither a section, a key nor a comment/);
  });

  test("lists split on spaces and commas, or a JSON array; booleans as Go parses them", () => {
    expect(grafanaList("openid email,profile , groups")).toEqual(["openid", "email", "profile", "groups"]);
    expect(grafanaList('["a b", "c"]')).toEqual(["a b", "c"]);
    expect(grafanaList("")).toEqual([]);
    expect([grafanaBool("true", false), grafanaBool("0", true), grafanaBool(undefined, true)]).toEqual([true, false, true]);
    expect(() => grafanaBool("yes", false)).toThrow(/not a boolean/);
  });

  test("$__file{} values are read from the file, its trailing newline dropped", () => {
    expect(expandValue("$__file{/etc/grafana-secrets/oidc-client-secret}", handWrittenRead)).toBe(LAB_CLIENT_SECRET);
    expect(() => expandValue("$__file{/etc/other}", handWrittenRead)).toThrow(/has no file \/etc\/other/);
  });

  test("the generic OAuth and JWT settings of the hand-written ini, with Grafana's redirect URI", () => {
    const ini = parseIni(handWrittenIni({ issuer: ISSUER, team: TEAM, aud: AUD }));
    const oauth = genericOAuthSettings(ini, handWrittenRead);
    expect(oauth).toMatchObject({
      clientId: "grafana",
      clientSecret: LAB_CLIENT_SECRET,
      authUrl: `${ISSUER}/auth`,
      scopes: ["openid", "email", "profile", "groups"],
      allowedGroups: ["monitoring"],
      roleAttributeStrict: false,
      usePkce: true,
      redirectUri: "https://grafana.staging.example.com/login/generic_oauth",
    });
    const jwt = jwtSettings(ini, handWrittenRead);
    expect(jwt).toMatchObject({
      headerName: "Cf-Access-Jwt-Assertion",
      expectClaims: { aud: AUD, iss: `https://${TEAM}.cloudflareaccess.com` },
    });
    // A setting the lab does not evaluate is refused, not ignored.
    expect(() =>
      genericOAuthSettings({ ...ini, "auth.generic_oauth": { ...ini["auth.generic_oauth"], team_ids: "1" } }, handWrittenRead),
    ).toThrow(/team_ids, which the sign-in lab does not evaluate/);
  });
});

describe("tokens", () => {
  test("a token verifies against the key set holding its key, not against another key with its kid", () => {
    const key = newSigningKey("k1");
    const token = signJwt({ sub: "u", aud: ["x"] }, key);
    expect(verifyJwt(token, { keys: [key.jwk] })).toEqual({ sub: "u", aud: ["x"] });
    expect(() => verifyJwt(token, { keys: [newSigningKey("k1").jwk] })).toThrow(/signature does not verify/);
    expect(() => verifyJwt(token, { keys: [newSigningKey("k2").jwk] })).toThrow(/no RSA key k1/);
    // An unsigned token is refused whatever its claims.
    const { claims } = decodeJwt(token);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`;
    expect(() => verifyJwt(unsigned, { keys: [key.jwk] })).toThrow(/algorithm none refused/);
  });

  test("expect_claims: the audience, the issuer, the time claims and other claims as Grafana checks them", () => {
    const claims = accessClaims({ team: TEAM, aud: AUD, email: "alice@example.com" });
    const expect_ = { aud: AUD, iss: `https://${TEAM}.cloudflareaccess.com` };
    expect(() => checkExpectedClaims(claims, expect_)).not.toThrow();
    expect(() => checkExpectedClaims({ ...claims, aud: ["b".repeat(64)] }, expect_)).toThrow(/invalid audience/);
    expect(() => checkExpectedClaims({ ...claims, iss: "https://x.cloudflareaccess.com" }, expect_)).toThrow(/invalid issuer/);
    const now = Date.now() / 1000;
    expect(() => checkExpectedClaims({ ...claims, exp: now - 30 }, expect_)).not.toThrow(); // within the minute of leeway
    expect(() => checkExpectedClaims({ ...claims, exp: now - 90 }, expect_)).toThrow(/expired/);
    expect(() => checkExpectedClaims({ ...claims, nbf: now + 600 }, expect_)).toThrow(/not valid yet/);
    expect(() => checkExpectedClaims(claims, { ...expect_, type: "org" })).toThrow(/"type" claim mismatch/);
    expect(() => checkExpectedClaims(claims, { ...expect_, custom: 1 })).toThrow(/"custom" claim is missing/);
  });
});

describe("Grafana's verdicts", () => {
  const ini = parseIni(handWrittenIni({ issuer: ISSUER, team: TEAM, aud: AUD }));
  const oauth: GenericOAuthSettings = genericOAuthSettings(ini, handWrittenRead);
  const roles = (d: Record<string, unknown>) => {
    const groups = Array.isArray(d.groups) ? (d.groups as string[]) : [];
    return groups.includes("sre") ? "Admin" : groups.includes("dev") ? "Editor" : "Viewer";
  };
  const search = stubSearch({
    [oauth.roleAttributePath]: roles,
    preferred_username: (d) => d.preferred_username,
    email: (d) => d.email,
    name: (d) => d.name,
    groups: (d) => d.groups,
  });
  const token = (groups: string[], extra: Record<string, unknown> = {}) => ({
    source: "token" as const,
    data: { sub: "s", email: "u@example.com", preferred_username: "u", name: "U", groups, ...extra },
  });

  test("role from the mapping, groups from groups_attribute_path, login from login_attribute_path", () => {
    expect(genericOAuthVerdict(oauth, [token(["monitoring", "sre"])], search)).toMatchObject({
      signedIn: true,
      role: "Admin",
      login: "u",
      groups: ["monitoring", "sre"],
    });
    expect(genericOAuthVerdict(oauth, [token(["monitoring"])], search)).toMatchObject({ signedIn: true, role: "Viewer" });
  });

  test("outside allowed_groups, without an email, or with sign-up off: refused", () => {
    expect(genericOAuthVerdict(oauth, [token(["sre"])], search)).toMatchObject({
      signedIn: false,
      refused: expect.stringMatching(/allowed_groups/),
    });
    expect(genericOAuthVerdict(oauth, [token(["monitoring"], { email: undefined })], search)).toMatchObject({ signedIn: false });
    expect(genericOAuthVerdict({ ...oauth, allowSignUp: false }, [token(["monitoring"])], search)).toMatchObject({
      signedIn: false,
      refused: expect.stringMatching(/allow_sign_up/),
    });
  });

  test("a role that is no Grafana role is skipped for the next source; none left under strict mode: refused", () => {
    const odd = stubSearch({
      ...Object.fromEntries(["preferred_username", "email", "name", "groups"].map((k) => [k, (d: Record<string, unknown>) => d[k]])),
      [oauth.roleAttributePath]: (d) => d.role,
    });
    const api = { source: "API" as const, data: { role: "editor" } };
    expect(genericOAuthVerdict(oauth, [token(["monitoring"], { role: "Owner" }), api], odd)).toMatchObject({
      signedIn: true,
      role: "Editor",
    });
    expect(genericOAuthVerdict({ ...oauth, roleAttributeStrict: true }, [token(["monitoring"], { role: "Owner" })], odd)).toMatchObject({
      signedIn: false,
      refused: expect.stringMatching(/role_attribute_strict/),
    });
    expect(genericOAuthVerdict(oauth, [token(["monitoring"], { role: "GrafanaAdmin" })], odd)).toMatchObject({
      role: "Admin",
      grafanaAdmin: true,
    });
  });

  test("[auth.jwt]: a verified token with the expected claims signs in; the header missing or a wrong key refuses", () => {
    const jwt: JwtSettings = jwtSettings(ini, handWrittenRead);
    const key = newSigningKey("k");
    const emailRole = stubSearch({ [jwt.roleAttributePath]: (d) => (d.email === "alice@example.com" ? "Admin" : "Viewer") });
    const header = (k = key) => ({
      "cf-access-jwt-assertion": signJwt(accessClaims({ team: TEAM, aud: AUD, email: "alice@example.com" }), k),
    });
    expect(jwtVerdict(jwt, header(), { keys: [key.jwk] }, emailRole)).toMatchObject({
      signedIn: true,
      role: "Admin",
      login: "alice@example.com",
    });
    expect(jwtVerdict(jwt, {}, { keys: [key.jwk] }, emailRole)).toMatchObject({
      signedIn: false,
      refused: "no Cf-Access-Jwt-Assertion header",
    });
    // Off (no [auth.jwt] section, Grafana's default): the same good token signs in no one.
    expect(jwtSettings({}, handWrittenRead).enabled).toBe(false);
    expect(jwtVerdict({ ...jwt, enabled: false }, header(), { keys: [key.jwk] }, emailRole)).toMatchObject({
      signedIn: false,
      refused: "[auth.jwt] is not enabled",
    });
    expect(jwtVerdict(jwt, header(newSigningKey("k")), { keys: [key.jwk] }, emailRole)).toMatchObject({
      signedIn: false,
      refused: expect.stringMatching(/signature/),
    });
  });
});

/**
 * The grafana.ini the stack renders for OpenID Connect group names with a separator, read as Grafana reads it
 * (go-ini, then Grafana's list splitting): the allowed group stays whole, so a member of "Team" alone is refused.
 * The evaluator answers only the attribute paths (no role mapping is rendered without rules); the live lab signs the
 * same users in through Dex (test/live/sign-in.test.ts).
 */
describe("a group name with a separator, as the stack renders it", () => {
  const rendered = iniText(
    grafanaIni({
      rootUrl: "https://grafana.example.com",
      signIn: resolveSignIn(
        {
          oidc: {
            clientId: "grafana",
            issuer: ISSUER,
            authUrl: `${ISSUER}/auth`,
            tokenUrl: `${ISSUER}/token`,
            userinfoUrl: `${ISSUER}/userinfo`,
            groups: ["Monitoring Team", "ops,oncall"],
          },
        },
        { grafanaOidcClientSecret: LAB_CLIENT_SECRET },
      ),
    }),
  );
  const oauth = genericOAuthSettings(parseIni(rendered), () => LAB_CLIENT_SECRET);
  const search = stubSearch({
    preferred_username: (d) => d.preferred_username,
    email: (d) => d.email,
    name: (d) => d.name,
    groups: (d) => d.groups,
  });
  const member = (groups: string[]) =>
    genericOAuthVerdict(
      oauth,
      [{ source: "token", data: { sub: "s", email: "u@example.com", preferred_username: "u", name: "U", groups } }],
      search,
    );

  test("allowed_groups holds each name whole", () => {
    expect(oauth.allowedGroups).toEqual(["Monitoring Team", "ops,oncall"]);
  });

  test('a member of "Team", "Monitoring" or "ops" alone is refused; of "Monitoring Team" or "ops,oncall" signed in', () => {
    for (const groups of [["Team"], ["Monitoring"], ["ops"], ["oncall"]]) {
      expect(member(groups)).toMatchObject({ signedIn: false, refused: expect.stringMatching(/allowed_groups/) });
    }
    expect(member(["Monitoring Team"])).toMatchObject({ signedIn: true });
    expect(member(["ops,oncall"])).toMatchObject({ signedIn: true });
  });
});

describe("the verified-address guard, as grafana.ini carries it", () => {
  test("the role mapping reads back whole as go-ini reads it (no backquote inside the backquoted value)", () => {
    const signIn = resolveSignIn(
      {
        oidc: {
          clientId: "grafana",
          issuer: ISSUER,
          authUrl: `${ISSUER}/auth`,
          tokenUrl: `${ISSUER}/token`,
          userinfoUrl: `${ISSUER}/userinfo`,
          domains: ["example.com"],
        },
        roles: [{ role: "Admin", emails: ["alice@example.com"] }],
      },
      { grafanaOidcClientSecret: LAB_CLIENT_SECRET },
    );
    const oauth = genericOAuthSettings(
      parseIni(iniText(grafanaIni({ rootUrl: "https://grafana.example.com", signIn }))),
      () => LAB_CLIENT_SECRET,
    );
    expect(oauth.roleAttributePath).toBe(
      "to_string(email_verified) == 'true' && ((to_string(email_verified) == 'true' && contains(['alice@example.com'], email)) && 'Admin' || 'Viewer')",
    );
    expect(oauth.roleAttributeStrict).toBe(true);
  });
});
