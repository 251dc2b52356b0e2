/**
 * The sign-in lab (issue 34, "Proof"): Grafana's sign-in settings against a real OpenID Connect provider and against
 * Cloudflare Access's tokens, on 127.0.0.1, every process bounded in time. Grafana's server does not build here, so
 * the lab plays its part (lab/local/grafana-sign-in.ts), with the JMESPath library Grafana evaluates the role
 * mapping with (the jmespath tool) on the claims of real, verified tokens:
 *
 * - Dex (the dex tool, release v2.45.1) with in-memory storage, its password database holding a team in groups, and
 *   Grafana as a static client with the settings' client id, secret and the redirect URI Grafana sends
 *   (<root_url>/login/generic_oauth). Its issuer is the settings' own: the endpoints the settings name must be the
 *   ones its discovery document gives.
 * - The authorization-code flow through Dex's own login form; the code exchanged at token_url with the client secret;
 *   the ID token verified against Dex's key set; userinfo from api_url. Then Grafana's verdict: an SRE is Admin, a
 *   developer Editor, a member of the allowed group only the default role, and a user outside allowed_groups is
 *   refused; under role_attribute_strict the user no rule places is refused.
 * - Cloudflare Access: tokens with the claims Access sends, signed with a key of the team's key set served here,
 *   through [auth.jwt]: the role from the mapping; a token for another audience, another issuer, signed by a key
 *   outside the set, or expired, is refused.
 *
 * The same proof runs on a hand-written grafana.ini in the shape the stack writes, and on the grafana.ini a stack
 * file with grafana.signIn renders (renderedSignIn), which needs the render of grafana.signIn.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { accessClaims, accessToken, serveAccessCerts } from "../../lab/local/cloudflare-access";
import { DexUser, startDex } from "../../lab/local/dex";
import {
  GenericOAuthSettings,
  Ini,
  JwtSettings,
  SignInVerdict,
  genericOAuthSettings,
  genericOAuthVerdict,
  jwtSettings,
  jwtVerdict,
  parseIni,
} from "../../lab/local/grafana-sign-in";
import { jmespathSearch } from "../../lab/local/jmespath";
import { Claims, newSigningKey } from "../../lab/local/jwt";
import { FlowRefused, authorizationCodeFlow, discover, keySet } from "../../lab/local/oidc-flow";
import { LocalRun } from "../../lab/processes/children";
import { ROOT } from "../../cli/stackfile";
import { LAB_CLIENT_SECRET, RenderedSignIn, SPLIT_TEAM, TEAM, handWrittenIni, handWrittenRead, renderedSignIn } from "./support/sign-in";

jest.setTimeout(180_000);

const run = new LocalRun(10 * 60_000);
const dirs: string[] = [];
afterAll(async () => {
  await run.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sign-in-lab-"));
  dirs.push(dir);
  return dir;
};

/** Dex's issuer from the settings' auth_url (<issuer>/auth, Dex's authorization endpoint). */
function issuerOf(settings: GenericOAuthSettings): string {
  if (!settings.authUrl.endsWith("/auth")) throw new Error(`auth_url ${settings.authUrl} is not a Dex issuer's /auth`);
  return settings.authUrl.slice(0, -"/auth".length);
}

/** The team and the AUD tag the [auth.jwt] settings expect: from jwk_set_url and expect_claims. */
function accessOf(settings: JwtSettings): { team: string; aud: string } {
  const team = /^https:\/\/([a-z0-9-]+)\.cloudflareaccess\.com\/cdn-cgi\/access\/certs$/.exec(settings.jwkSetUrl)?.[1];
  if (!team) throw new Error(`jwk_set_url ${settings.jwkSetUrl} is not a Cloudflare Access team's certs URL`);
  const aud = settings.expectClaims.aud;
  if (typeof aud !== "string" && !(Array.isArray(aud) && aud.length === 1 && typeof aud[0] === "string")) {
    throw new Error(`expect_claims has no single aud: ${JSON.stringify(settings.expectClaims)}`);
  }
  return { team, aud: typeof aud === "string" ? aud : (aud[0] as string) };
}

/** The lab for one grafana.ini: Dex with Grafana's client and the team, and the Access team's key set. */
async function signInLab(ini: Ini, read: RenderedSignIn["read"], users: DexUser[]) {
  const oauth = genericOAuthSettings(ini, read);
  const jwt = jwtSettings(ini, read);
  const dex = await startDex(run, {
    dir: tempDir(),
    issuer: issuerOf(oauth),
    clients: [{ id: oauth.clientId, secret: oauth.clientSecret, name: "Grafana", redirectURIs: [oauth.redirectUri] }],
    users,
  });
  const discovery = await discover(dex.issuer, dex.reach);
  const { team, aud } = accessOf(jwt);
  const teamKey = newSigningKey("access-lab-1");
  const certs = await serveAccessCerts(run, team, [teamKey]);

  /** Signs a Dex user in as Grafana would, and Grafana's verdict on the claims. */
  const signIn = async (user: DexUser, settings: GenericOAuthSettings = oauth) => {
    const flow = await run.explain(authorizationCodeFlow(settings, { login: user.email, password: user.password }, dex.reach, discovery));
    const sources = [
      { source: "token" as const, data: flow.idClaims },
      ...(flow.userinfo ? [{ source: "API" as const, data: flow.userinfo }] : []),
    ];
    return { flow, verdict: genericOAuthVerdict(settings, sources, jmespathSearch) };
  };

  /** Grafana's verdict on a request Access let through with a token of these claims (signed by `key`, the team's by default). */
  const throughAccess = async (claims: Claims, key = teamKey, settings: JwtSettings = jwt): Promise<SignInVerdict> => {
    const keys = await keySet(settings.jwkSetUrl, certs.reach);
    return jwtVerdict(settings, { [settings.headerName]: accessToken(claims, key) }, keys, jmespathSearch);
  };
  return { oauth, jwt, dex, discovery, team, aud, signIn, throughAccess };
}

type Lab = Awaited<ReturnType<typeof signInLab>>;

const roleOf = (v: SignInVerdict) => (v.signedIn ? v.role : `refused: ${v.refused}`);

/** The proof, on the settings of one grafana.ini (the hand-written one, the rendered one). */
function proveSignIn(name: string, makeLab: () => Promise<Lab>) {
  describe(name, () => {
    let lab: Lab;
    beforeAll(async () => {
      lab = await makeLab();
    });

    test("the settings name Dex's own endpoints, and Grafana's redirect URI comes from root_url", () => {
      expect({ auth: lab.oauth.authUrl, token: lab.oauth.tokenUrl, api: lab.oauth.apiUrl }).toEqual({
        auth: lab.discovery.authorization_endpoint,
        token: lab.discovery.token_endpoint,
        api: lab.discovery.userinfo_endpoint,
      });
      expect(lab.oauth.redirectUri).toMatch(/^https:\/\/[^/]+\/login\/generic_oauth$/);
      for (const scope of lab.oauth.scopes) expect(lab.discovery.scopes_supported).toContain(scope);
    });

    test("an SRE signs in through Dex as Admin: the ID token is Dex's, verified, and carries the groups", async () => {
      const { flow, verdict } = await lab.signIn(TEAM.alice);
      expect(flow.callback.startsWith(`${lab.oauth.redirectUri}?code=`)).toBe(true);
      expect(flow.idClaims).toMatchObject({
        iss: lab.dex.issuer,
        aud: lab.oauth.clientId,
        email: TEAM.alice.email,
        groups: TEAM.alice.groups,
      });
      expect(verdict).toMatchObject({ signedIn: true, role: "Admin", login: "alice", email: TEAM.alice.email, name: "Alice Admin" });
      expect(verdict.signedIn && verdict.groups).toEqual(TEAM.alice.groups);
    });

    test("a developer is Editor, a member of the allowed group only gets the default role", async () => {
      expect(roleOf((await lab.signIn(TEAM.dave)).verdict)).toBe("Editor");
      expect(roleOf((await lab.signIn(TEAM.val)).verdict)).toEqual(
        lab.oauth.roleAttributeStrict ? expect.stringMatching(/^refused/) : "Viewer",
      );
    });

    test("a user outside allowed_groups gets a real token from Dex, and Grafana refuses them", async () => {
      const { flow, verdict } = await lab.signIn(TEAM.mallory);
      expect(flow.idClaims.groups).toEqual(TEAM.mallory.groups);
      expect(verdict.signedIn).toBe(false);
      expect(!verdict.signedIn && verdict.refused).toMatch(/allowed_groups/);
    });

    test("under role_attribute_strict, the user no rule places is refused and the others keep their roles", async () => {
      const strict = {
        ...lab.oauth,
        roleAttributeStrict: true,
        roleAttributePath: lab.oauth.roleAttributePath.replace(/ \|\| '(Viewer|Editor|None)'$/, ""),
      };
      expect(roleOf((await lab.signIn(TEAM.alice, strict)).verdict)).toBe("Admin");
      expect(roleOf((await lab.signIn(TEAM.val, strict)).verdict)).toMatch(/^refused: role_attribute_strict/);
    });

    test("with use_pkce, Dex refuses the code exchange without the verifier of the challenge", async () => {
      expect(lab.oauth.usePkce).toBe(true);
      const login = { login: TEAM.alice.email, password: TEAM.alice.password };
      await expect(authorizationCodeFlow(lab.oauth, login, lab.dex.reach, lab.discovery, { codeVerifier: "x".repeat(43) })).rejects.toThrow(
        /token exchange .*HTTP 400/,
      );
    });

    test("Dex refuses a wrong password, and the code exchange with another client secret", async () => {
      await expect(
        authorizationCodeFlow(lab.oauth, { login: TEAM.alice.email, password: "wrong" }, lab.dex.reach, lab.discovery),
      ).rejects.toThrow(FlowRefused);
      await expect(
        authorizationCodeFlow(
          { ...lab.oauth, clientSecret: "not-the-secret" },
          { login: TEAM.alice.email, password: TEAM.alice.password },
          lab.dex.reach,
          lab.discovery,
        ),
      ).rejects.toThrow(/token exchange .*HTTP 401/);
    });

    test("Cloudflare Access: the team's tokens sign in with the role the mapping gives their address", async () => {
      const claims = (email: string) => accessClaims({ team: lab.team, aud: lab.aud, email });
      const alice = await lab.throughAccess(claims(TEAM.alice.email));
      expect(alice).toMatchObject({ signedIn: true, role: "Admin", login: TEAM.alice.email, email: TEAM.alice.email });
      expect(roleOf(await lab.throughAccess(claims(TEAM.dave.email)))).toBe("Editor");
      expect(roleOf(await lab.throughAccess(claims(TEAM.val.email)))).toEqual(
        lab.jwt.roleAttributeStrict ? expect.stringMatching(/^refused/) : "Viewer",
      );
    });

    test("Cloudflare Access: another audience, another issuer, a key outside the team's set or an expired token is refused", async () => {
      const good = accessClaims({ team: lab.team, aud: lab.aud, email: TEAM.alice.email });
      const refused = async (claims: Claims, key?: ReturnType<typeof newSigningKey>) => {
        const v = await lab.throughAccess(claims, key);
        return v.signedIn ? "signed in" : v.refused;
      };
      expect(await refused({ ...good, aud: ["0".repeat(64)] })).toMatch(/audience/);
      expect(await refused({ ...good, iss: "https://another-team.cloudflareaccess.com" })).toMatch(/issuer/);
      expect(await refused(good, newSigningKey("access-lab-1"))).toMatch(/signature does not verify/);
      expect(await refused({ ...good, exp: Math.floor(Date.now() / 1000) - 600 })).toMatch(/expired/);
    });
  });
}

const LAB_ISSUER = "https://dex.example.test/dex";
const LAB_TEAM = "acme-lab";
const LAB_AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

proveSignIn("sign-in lab on a hand-written grafana.ini", async () =>
  signInLab(parseIni(handWrittenIni({ issuer: LAB_ISSUER, team: LAB_TEAM, aud: LAB_AUD })), handWrittenRead, Object.values(TEAM)),
);

/**
 * The staging stack file with grafana.signIn as the contract of issue 34 gives it: Dex at LAB_ISSUER, the allowed
 * group, roles by group (OpenID Connect) and by address (OpenID Connect, Cloudflare Access), and Cloudflare Access in
 * front. Cloudflare Access as the identity is refused beside another provider, so each is a stack of its own: `oidc`
 * (with `oidc` over the contract's, e.g. domains or groups) or `cloudflareAccess`.
 */
function signInStack(provider: "oidc" | "cloudflareAccess" | "both", oidc: Record<string, unknown> = {}): string {
  const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8")) as { config: Record<string, unknown> };
  doc.config["monitoring:grafana"] = {
    ...(doc.config["monitoring:grafana"] as object | undefined),
    signIn: {
      ...(provider !== "cloudflareAccess"
        ? {
            ...(provider === "both" ? { cloudflareAccess: true } : {}),
            oidc: {
              name: "Dex",
              clientId: "grafana",
              issuer: LAB_ISSUER,
              authUrl: `${LAB_ISSUER}/auth`,
              tokenUrl: `${LAB_ISSUER}/token`,
              userinfoUrl: `${LAB_ISSUER}/userinfo`,
              scopes: ["openid", "email", "profile", "groups"],
              claims: { login: "preferred_username", email: "email", name: "name", groups: "groups" },
              groups: ["monitoring"],
              ...oidc,
            },
          }
        : { cloudflareAccess: true }),
      roles: [
        { role: "Admin", ...(provider !== "cloudflareAccess" ? { groups: ["sre"] } : {}), emails: [TEAM.alice.email] },
        { role: "Editor", ...(provider !== "cloudflareAccess" ? { groups: ["dev"] } : {}), emails: [TEAM.dave.email] },
      ],
      defaultRole: "Viewer",
      strict: false,
    },
  };
  const cloudflare = doc.config["monitoring:cloudflare"] as Record<string, unknown>;
  doc.config["monitoring:cloudflare"] = {
    ...cloudflare,
    enabled: true,
    access: { enabled: true, team: LAB_TEAM, emails: [TEAM.alice.email, TEAM.dave.email, TEAM.val.email] },
  };
  // The tunnel on, Grafana is published through it alone, as staging's stack file says (config/checks/exposure.ts).
  const traefik = doc.config["monitoring:traefik"] as { expose: string[] };
  doc.config["monitoring:traefik"] = { ...traefik, expose: traefik.expose.filter((service) => service !== "grafana") };
  return YAML.stringify(doc);
}

/** The grafana.ini of the OpenID Connect stack (`oidc` over the contract's), with [auth.jwt] of the Cloudflare Access stack's. */
async function renderedLabIni(oidc: Record<string, unknown> = {}): Promise<RenderedSignIn> {
  const rendered = await renderedSignIn(signInStack("oidc", oidc), {
    grafanaOidcClientSecret: LAB_CLIENT_SECRET,
    "cloudflare:apiToken": "lab-token",
  });
  const access = await renderedSignIn(signInStack("cloudflareAccess"), { "cloudflare:apiToken": "lab-token" });
  return { ...rendered, ini: { ...rendered.ini, "auth.jwt": access.ini["auth.jwt"] } };
}

proveSignIn("sign-in lab on the grafana.ini the stack renders for grafana.signIn", async () => {
  const rendered = await renderedLabIni();
  expect(rendered.clientSecret).toBe(LAB_CLIENT_SECRET);
  return signInLab(rendered.ini, rendered.read, Object.values(TEAM));
});

/**
 * Identity (issue 45) on the grafana.ini the stack renders, with the JMESPath library Grafana evaluates the role
 * mapping with. Dex verifies every address it holds, so an unverified one is a token's claims given to Grafana's
 * verdict directly (the same claims verified make the Admin, so the check can fail); the group names go through Dex.
 */
describe("identity on the rendered grafana.ini", () => {
  const claims = (emailVerified: unknown) => ({
    sub: "eve",
    email: TEAM.alice.email,
    ...(emailVerified !== undefined ? { email_verified: emailVerified } : {}),
    preferred_username: "eve",
    name: "Eve",
    groups: ["monitoring"],
  });
  const verdict = (oauth: GenericOAuthSettings, emailVerified: unknown) =>
    roleOf(genericOAuthVerdict(oauth, [{ source: "token", data: claims(emailVerified) }], jmespathSearch));

  test("a user whose unverified address matches an Admin rule is not Admin", async () => {
    const rendered = await renderedLabIni();
    const oauth = genericOAuthSettings(rendered.ini, rendered.read);
    expect([verdict(oauth, false), verdict(oauth, undefined), verdict(oauth, "false")]).toEqual(["Viewer", "Viewer", "Viewer"]);
    expect([verdict(oauth, true), verdict(oauth, "true")]).toEqual(["Admin", "Admin"]);
  });

  test("with domains, an unverified address is refused (strict), a verified one signs in", async () => {
    const rendered = await renderedLabIni({ domains: ["example.com"] });
    const oauth = genericOAuthSettings(rendered.ini, rendered.read);
    expect(oauth.roleAttributeStrict).toBe(true);
    expect(verdict(oauth, false)).toMatch(/^refused: role_attribute_strict/);
    expect(verdict(oauth, true)).toBe("Admin");
  });

  test('a member of "Team" is not let in by "Monitoring Team"; a member of "Monitoring Team" is', async () => {
    const rendered = await renderedLabIni({ groups: ["Monitoring Team"] });
    const lab = await signInLab(rendered.ini, rendered.read, Object.values(SPLIT_TEAM));
    expect(lab.oauth.allowedGroups).toEqual(["Monitoring Team"]);
    expect(roleOf((await lab.signIn(SPLIT_TEAM.mona)).verdict)).toBe("Viewer");
    expect(roleOf((await lab.signIn(SPLIT_TEAM.tess)).verdict)).toMatch(/^refused: not a member of allowed_groups/);
  });

  test("Cloudflare Access beside OpenID Connect: as a second identity refused by name; as the gate, Grafana reads no Access token and Dex's identity gives the role", async () => {
    const secrets = { grafanaOidcClientSecret: LAB_CLIENT_SECRET, "cloudflare:apiToken": "lab-token" };
    await expect(renderedSignIn(signInStack("both"), secrets)).rejects.toThrow(
      /monitoring:grafana\.signIn\.cloudflareAccess: signs in whom Cloudflare Access let through on every request, and signIn\.oidc/,
    );
    // The OpenID Connect stack keeps Access in front of Grafana (the gate), with no [auth.jwt] of its own.
    const gate = await renderedSignIn(signInStack("oidc"), secrets);
    expect(gate.ini["auth.jwt"]).toBeUndefined();
    // The lab's Dex and Access team; the same Access token signs alice in as Admin where Access is the identity.
    const both = await renderedLabIni();
    const lab = await signInLab(both.ini, both.read, Object.values(TEAM));
    const aliceAtAccess = accessClaims({ team: lab.team, aud: lab.aud, email: TEAM.alice.email });
    expect(roleOf(await lab.throughAccess(aliceAtAccess))).toBe("Admin");
    const gateJwt = jwtSettings(gate.ini, gate.read);
    expect(
      roleOf(
        jwtVerdict(gateJwt, { "Cf-Access-Jwt-Assertion": accessToken(aliceAtAccess, newSigningKey("any")) }, { keys: [] }, jmespathSearch),
      ),
    ).toBe("refused: [auth.jwt] is not enabled");
    // Through the gate, a person is who Dex says: dave is Editor, whatever Access token his requests carry.
    expect(roleOf((await lab.signIn(TEAM.dave, genericOAuthSettings(gate.ini, gate.read))).verdict)).toBe("Editor");
  });
});
