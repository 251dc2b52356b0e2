/**
 * Grafana's sign-in as rendered: each provider's grafana.ini section and its role mapping, the
 * client secrets in a Secret (never a ConfigMap, a secret in the state), the egress policy's HTTPS
 * only with a provider, the AUD tag of Cloudflare Access from the Access application's output, and
 * the OpenID Connect endpoints from the issuer's discovery document.
 */
import { grafanaEgressRules } from "../../components/grafana";
import { grafanaIni, iniText } from "../../components/grafana/ini";
import { SignIn, claimExpression, describeSignIn, resolveSignIn, roleAttributePath, signInIni } from "../../components/grafana/sign-in";
import { ConfigError, StackConfig } from "../../config";
import { Fetch, withOidcEndpoints } from "../../preflight/oidc-discovery";
import { Rendered } from "../../cli/render";
import { mockAccessAudience } from "../../cli/runner";
import { objectOf, objectsOf, renderConfig } from "../support/render";
import { parse } from "../config/support";

const secretFile = (file: string) => `$__file{/etc/grafana-secrets/${file}}`;
const ISSUER = "https://id.acme.com/realms/acme";
const ENDPOINTS = {
  authUrl: `${ISSUER}/protocol/openid-connect/auth`,
  tokenUrl: `${ISSUER}/protocol/openid-connect/token`,
  userinfoUrl: `${ISSUER}/protocol/openid-connect/userinfo`,
};
const OIDC = { name: "Keycloak", clientId: "grafana", issuer: ISSUER, groups: ["monitoring"], ...ENDPOINTS };
const GITHUB = { clientId: "Ov23liabc", organizations: ["acme"], teamIds: [42] };
const GOOGLE = { clientId: "1234-abc.apps.googleusercontent.com", domains: ["acme.com"] };
const ROLES = [
  { role: "Admin" as const, groups: ["sre"], teams: ["acme/sre"], emails: ["alice@acme.com"] },
  { role: "Editor" as const, groups: ["dev"] },
];

const signIn = (given: Parameters<typeof resolveSignIn>[0]): SignIn =>
  resolveSignIn(given, { grafanaGithubClientSecret: "g", grafanaGoogleClientSecret: "G", grafanaOidcClientSecret: "o" });

/** The address verified, as the OpenID Connect role mapping requires it of an emails rule. */
const VERIFIED = "to_string(email_verified) == 'true'";

describe("the role mapping (role_attribute_path)", () => {
  test("OpenID Connect: groups and emails in rule order, the default role last", () => {
    expect(roleAttributePath(signIn({ oidc: OIDC, roles: ROLES }), "oidc")).toBe(
      `(contains(groups[*] || '', 'sre') || (${VERIFIED} && contains(['alice@acme.com'], email))) && 'Admin' || ` +
        "contains(groups[*] || '', 'dev') && 'Editor' || 'Viewer'",
    );
  });

  test("strict: no fallback, so a user no rule places gets no role and is refused", () => {
    expect(roleAttributePath(signIn({ oidc: OIDC, roles: ROLES, strict: true, defaultRole: "Editor" }), "oidc")).toBe(
      `(contains(groups[*] || '', 'sre') || (${VERIFIED} && contains(['alice@acme.com'], email))) && 'Admin' || ` +
        "contains(groups[*] || '', 'dev') && 'Editor'",
    );
  });

  test("GitHub: its teams as @organization/team, and no fallback inside (the default is auto_assign_org_role)", () => {
    expect(roleAttributePath(signIn({ github: GITHUB, roles: ROLES }), "github")).toBe("contains(groups[*] || '', '@acme/sre') && 'Admin'");
  });

  test("Google and Cloudflare Access: the emails rules only", () => {
    const s = signIn({ google: GOOGLE, cloudflareAccess: true, roles: ROLES, defaultRole: "None" });
    expect(roleAttributePath(s, "google")).toBe("contains(['alice@acme.com'], email) && 'Admin' || 'None'");
    expect(roleAttributePath(s, "cloudflareAccess")).toBe("contains(['alice@acme.com'], email) && 'Admin' || 'None'");
  });

  test("no rule for a provider: no expression, the default role comes from [users]", () => {
    expect(roleAttributePath(signIn({ google: GOOGLE, roles: [{ role: "Admin", groups: ["sre"] }] }), "google")).toBeUndefined();
  });

  test("claims: identifiers bare, other names quoted, nested ones by dots", () => {
    expect(claimExpression("groups")).toBe("groups");
    expect(claimExpression("cognito:groups")).toBe('"cognito:groups"');
    expect(claimExpression("realm_access.roles")).toBe("realm_access.roles");
    const s = signIn({
      oidc: { ...OIDC, claims: { groups: "realm_access.roles", email: "upn", emailVerified: "xms_edov" } },
      roles: ROLES,
    });
    expect(roleAttributePath(s, "oidc")).toBe(
      "(contains(realm_access.roles[*] || '', 'sre') || (to_string(xms_edov) == 'true' && contains(['alice@acme.com'], upn))) && 'Admin' || " +
        "contains(realm_access.roles[*] || '', 'dev') && 'Editor' || 'Viewer'",
    );
  });
});

describe("identity: what an OpenID Connect user can claim", () => {
  const oidcIni = (given: Parameters<typeof resolveSignIn>[0]) => signInIni(signIn(given), { secretFile })["auth.generic_oauth"];

  test("an emails rule matches only an address the provider verified (email_verified, or the claim named)", () => {
    const rules = [{ role: "Admin" as const, emails: ["alice@acme.com"] }];
    expect(roleAttributePath(signIn({ oidc: OIDC, roles: rules }), "oidc")).toBe(
      `(${VERIFIED} && contains(['alice@acme.com'], email)) && 'Admin' || 'Viewer'`,
    );
    // Google and Cloudflare Access vouch for the address themselves: their rules are unchanged.
    expect(roleAttributePath(signIn({ google: GOOGLE, roles: rules }), "google")).toBe(
      "contains(['alice@acme.com'], email) && 'Admin' || 'Viewer'",
    );
  });

  test("domains: allowed_domains, and an unverified address gets no role under strict, so it is refused", () => {
    const ini = oidcIni({ oidc: { ...OIDC, domains: ["acme.com"] }, roles: [{ role: "Admin", groups: ["sre"] }] });
    expect(ini).toMatchObject({
      allowed_domains: "acme.com",
      role_attribute_path: `${VERIFIED} && (contains(groups[*] || '', 'sre') && 'Admin' || 'Viewer')`,
      role_attribute_strict: true,
    });
    // No rule: the guard and the default role; strict roles keep no fallback.
    expect(oidcIni({ oidc: { ...OIDC, domains: ["acme.com"] }, defaultRole: "None" }).role_attribute_path).toBe(`${VERIFIED} && ('None')`);
    expect(
      oidcIni({ oidc: { ...OIDC, domains: ["acme.com"] }, roles: [{ role: "Admin", groups: ["sre"] }], strict: true }).role_attribute_path,
    ).toBe(`${VERIFIED} && (contains(groups[*] || '', 'sre') && 'Admin')`);
    // Without domains, nothing is guarded and strict stays the stack's.
    expect(oidcIni({ oidc: OIDC }).role_attribute_strict).toBe(false);
    expect(oidcIni({ oidc: OIDC }).role_attribute_path).toBeUndefined();
  });

  test("allowed_groups: a name with a space or a comma as a JSON array, which Grafana does not split; others comma-joined", () => {
    expect(oidcIni({ oidc: { ...OIDC, groups: ["Monitoring Team", "ops,oncall", "sre"] } }).allowed_groups).toBe(
      '["Monitoring Team","ops,oncall","sre"]',
    );
    expect(oidcIni({ oidc: { ...OIDC, groups: ["monitoring", "sre"] } }).allowed_groups).toBe("monitoring,sre");
    // As grafana.ini carries it: backquoted, so that its quotes are the JSON's.
    const text = iniText(
      grafanaIni({ rootUrl: "https://g.example.com", signIn: signIn({ oidc: { ...OIDC, groups: ["Monitoring Team"] } }) }),
    );
    expect(text).toContain('allowed_groups = `["Monitoring Team"]`');
  });
});

describe("grafana.ini of each provider", () => {
  const ini = (s: SignIn, audience?: string) =>
    signInIni(s, { secretFile, ...(audience ? { cloudflareAccess: { team: "acme", audience } } : {}) });

  test("GitHub", () => {
    expect(ini(signIn({ github: GITHUB, roles: ROLES }))).toEqual({
      "auth.github": {
        enabled: true,
        allow_sign_up: true,
        auto_login: false,
        client_id: "Ov23liabc",
        client_secret: "$__file{/etc/grafana-secrets/github-client-secret}",
        scopes: "user:email,read:org",
        allowed_organizations: "acme",
        team_ids: "42",
        role_attribute_path: "contains(groups[*] || '', '@acme/sre') && 'Admin'",
        role_attribute_strict: false,
      },
    });
  });

  test("Google, one domain also as the hosted-domain hint", () => {
    expect(ini(signIn({ google: GOOGLE, autoLogin: true }))).toEqual({
      "auth.google": {
        enabled: true,
        allow_sign_up: true,
        auto_login: true,
        client_id: GOOGLE.clientId,
        client_secret: "$__file{/etc/grafana-secrets/google-client-secret}",
        scopes: "openid email profile",
        allowed_domains: "acme.com",
        hosted_domain: "acme.com",
        role_attribute_strict: false,
      },
    });
  });

  test("OpenID Connect", () => {
    expect(ini(signIn({ oidc: OIDC, roles: [{ role: "Admin", groups: ["sre"] }] }))).toEqual({
      "auth.generic_oauth": {
        name: "Keycloak",
        enabled: true,
        allow_sign_up: true,
        auto_login: false,
        client_id: "grafana",
        client_secret: "$__file{/etc/grafana-secrets/oidc-client-secret}",
        scopes: "openid email profile groups",
        auth_url: ENDPOINTS.authUrl,
        token_url: ENDPOINTS.tokenUrl,
        api_url: ENDPOINTS.userinfoUrl,
        login_attribute_path: "preferred_username",
        email_attribute_path: "email",
        name_attribute_path: "name",
        groups_attribute_path: "groups",
        allowed_groups: "monitoring",
        use_pkce: true,
        role_attribute_path: "contains(groups[*] || '', 'sre') && 'Admin' || 'Viewer'",
        role_attribute_strict: false,
      },
    });
  });

  test("Cloudflare Access: JWT from Cf-Access-Jwt-Assertion, the team's keys, the AUD and issuer expected", () => {
    expect(ini(signIn({ cloudflareAccess: true }), "a".repeat(64))).toEqual({
      "auth.jwt": {
        enabled: true,
        header_name: "Cf-Access-Jwt-Assertion",
        email_claim: "email",
        username_claim: "email",
        jwk_set_url: "https://acme.cloudflareaccess.com/cdn-cgi/access/certs",
        expect_claims: JSON.stringify({ aud: "a".repeat(64), iss: "https://acme.cloudflareaccess.com" }),
        auto_sign_up: true,
        role_attribute_strict: false,
      },
    });
  });

  test("an unrestricted provider signs nobody up; [users] takes the default role unless strict", () => {
    const open = signIn({ github: { clientId: "x" } });
    expect(ini(open)["auth.github"].allow_sign_up).toBe(false);
    expect(grafanaIni({ rootUrl: "https://g.example.com", signIn: open }).users).toEqual({
      allow_sign_up: false,
      allow_org_create: false,
      auto_assign_org_role: "Viewer",
    });
    const strict = signIn({ oidc: OIDC, strict: true, roles: [{ role: "Viewer", groups: ["staff"] }] });
    expect(grafanaIni({ rootUrl: "https://g.example.com", signIn: strict }).users).toEqual({
      allow_sign_up: false,
      allow_org_create: false,
    });
  });

  test("without signIn, grafana.ini has no provider section", () => {
    const doc = grafanaIni({ rootUrl: "https://g.example.com" });
    expect(Object.keys(doc).filter((k) => /^auth\.(github|google|generic_oauth|jwt)$/.test(k))).toEqual([]);
  });
});

describe("egress", () => {
  const base = { environment: "staging" } as const;
  const https = (rules: ReturnType<typeof grafanaEgressRules>) =>
    rules.filter((r) => (r.to ?? []).some((t) => "cidrs" in t)).map((r) => r.ports);

  test("closed to the internet without a provider", () => {
    expect(https(grafanaEgressRules(base))).toEqual([]);
  });

  test("443 with GitHub, Google or Cloudflare Access; the OpenID Connect URLs' own ports", () => {
    expect(https(grafanaEgressRules({ ...base, signIn: signIn({ github: GITHUB }) }))).toEqual([[443]]);
    expect(https(grafanaEgressRules({ ...base, signIn: signIn({ cloudflareAccess: true }) }))).toEqual([[443]]);
    const onPort = { ...OIDC, issuer: "https://id.acme.com:8443/realms/acme", authUrl: "https://id.acme.com:8443/auth" };
    expect(https(grafanaEgressRules({ ...base, signIn: signIn({ oidc: onPort }) }))).toEqual([[443, 8443]]);
  });
});

describe("the stack under mocks", () => {
  const STAGING = {
    domain: "example.com",
    traefik: { enabled: true, expose: ["grafana"], certResolver: "letsencrypt" },
    grafana: { signIn: { github: GITHUB, oidc: OIDC, roles: ROLES } },
  };
  const SECRETS = { grafanaGithubClientSecret: "gh-client-secret-0123", grafanaOidcClientSecret: "oidc-client-secret-4567" };
  let shown: Rendered;
  let redacted: Rendered;
  beforeAll(async () => {
    shown = await renderConfig("staging", STAGING, SECRETS);
    redacted = await renderConfig("staging", STAGING, SECRETS, false);
  });

  test("grafana.ini reads the client secrets from the sign-in Secret's files; no ConfigMap holds one", () => {
    const ini = shown.files.get("grafana/grafana.ini") ?? "";
    expect(ini).toContain("client_secret = $__file{/etc/grafana-secrets/github-client-secret}");
    expect(ini).toContain("client_secret = $__file{/etc/grafana-secrets/oidc-client-secret}");
    expect(ini).toContain("root_url = https://grafana.example.com/");
    for (const map of objectsOf(shown, "ConfigMap")) {
      for (const value of Object.values(SECRETS)) expect(JSON.stringify(map)).not.toContain(value);
    }
    expect(objectOf(shown, "Secret", "grafana-sign-in").stringData).toEqual({
      "github-client-secret": SECRETS.grafanaGithubClientSecret,
      "oidc-client-secret": SECRETS.grafanaOidcClientSecret,
    });
  });

  test("the client secrets are Pulumi secrets: redacted in the state's render", () => {
    expect(objectOf(redacted, "Secret", "grafana-sign-in").stringData).toEqual({
      "github-client-secret": "[secret]",
      "oidc-client-secret": "[secret]",
    });
    expect(JSON.stringify(redacted.kubernetes)).not.toContain(SECRETS.grafanaGithubClientSecret);
  });

  test("the pod mounts the sign-in Secret with the others", () => {
    const spec = objectOf(shown, "Deployment", "grafana").spec as {
      template: { spec: { volumes: Array<{ name: string; projected?: { sources: Array<{ secret?: { name: string } }> } }> } };
    };
    const secrets = spec.template.spec.volumes.find((v) => v.name === "secrets")?.projected?.sources.map((s) => s.secret?.name);
    expect(secrets).toContain("grafana-sign-in");
  });

  test("the egress policy opens 443 to the world; the stack output and the summary say who signs in", () => {
    const egress = JSON.stringify(objectOf(shown, "NetworkPolicy", "grafana-egress").spec);
    expect(egress).toContain('"port":443');
    expect(shown.outputs.grafanaSignIn).toEqual(
      describeSignIn(parse("staging", STAGING, SECRETS).config.grafana.signIn, "admin", "https://grafana.example.com"),
    );
    expect(shown.outputs.grafanaSignIn).toContain("role Admin: groups sre or teams acme/sre or emails alice@acme.com");
  });

  test("without signIn: no sign-in Secret, no 443 in the egress policy, no output", async () => {
    const plain = await renderConfig("staging", { ...STAGING, grafana: {} });
    expect(objectsOf(plain, "Secret", "grafana-sign-in")).toEqual([]);
    expect(JSON.stringify(objectOf(plain, "NetworkPolicy", "grafana-egress").spec)).not.toContain('"port":443');
    expect(plain.outputs.grafanaSignIn).toBeUndefined();
  });

  test("Cloudflare Access: the AUD in grafana.ini is the output of Grafana's Access application", async () => {
    const rendered = await renderConfig("production", {
      domain: "example.com",
      cloudflare: {
        enabled: true,
        accountId: "0123456789abcdef0123456789abcdef",
        zoneId: "fedcba9876543210fedcba9876543210",
        expose: ["grafana", "prometheus"],
        access: { enabled: true, team: "acme", emailDomains: ["acme.com"] },
      },
      grafana: { signIn: { cloudflareAccess: true, roles: [{ role: "Admin", emails: ["alice@acme.com"] }] } },
    });
    const apps = rendered.cloudflare.filter((c) => c.type.endsWith("ZeroTrustAccessApplication"));
    const audOf = (service: string) => {
      const app = apps.find((a) => a.inputs.domain === `${service}.example.com`);
      if (!app) throw new Error(`no Access application for ${service}`);
      return mockAccessAudience(`${app.type}::${app.name}`);
    };
    const ini = rendered.files.get("grafana/grafana.ini") ?? "";
    expect(ini).toContain(`expect_claims = \`{"aud":"${audOf("grafana")}","iss":"https://acme.cloudflareaccess.com"}\``);
    expect(ini).not.toContain(audOf("prometheus"));
    expect(ini).toContain("header_name = Cf-Access-Jwt-Assertion");
  });

  test("the offline render asks for the OpenID Connect endpoints it cannot discover, naming each key", async () => {
    const withoutUrls = {
      ...STAGING,
      grafana: { signIn: { oidc: { ...OIDC, authUrl: undefined, tokenUrl: undefined, userinfoUrl: undefined } } },
    };
    await expect(renderConfig("staging", withoutUrls, SECRETS)).rejects.toThrow(
      /monitoring:grafana\.signIn\.oidc\.authUrl: is needed by the offline commands[\s\S]*oidc\.tokenUrl[\s\S]*oidc\.userinfoUrl/,
    );
  });
});

describe("the issuer's discovery document", () => {
  const withoutUrls = (): StackConfig => {
    const { config } = parse(
      "staging",
      {
        domain: "example.com",
        traefik: { enabled: true, expose: ["grafana"], certResolver: "le" },
        grafana: { signIn: { oidc: { ...OIDC, authUrl: undefined, tokenUrl: undefined, userinfoUrl: undefined } } },
      },
      { grafanaOidcClientSecret: "s" },
    );
    return config;
  };
  const answering =
    (status: number, body: unknown, seen: string[] = []): Fetch =>
    async (url) => {
      seen.push(url);
      return { ok: status === 200, status, json: async () => body };
    };
  const document = {
    issuer: ISSUER,
    authorization_endpoint: ENDPOINTS.authUrl,
    token_endpoint: ENDPOINTS.tokenUrl,
    userinfo_endpoint: ENDPOINTS.userinfoUrl,
  };

  test("fills the endpoints the stack does not give, from <issuer>/.well-known/openid-configuration", async () => {
    const seen: string[] = [];
    const config = await withOidcEndpoints(withoutUrls(), "monitoring", false, answering(200, document, seen));
    expect(seen).toEqual([`${ISSUER}/.well-known/openid-configuration`]);
    expect(config.grafana.signIn?.oidc).toMatchObject(ENDPOINTS);
  });

  test("refuses a document of another issuer, an HTTP error, and a missing endpoint, naming the issuer's key", async () => {
    const refused = async (fetchImpl: Fetch) => {
      try {
        await withOidcEndpoints(withoutUrls(), "monitoring", false, fetchImpl);
      } catch (err) {
        if (err instanceof ConfigError) return err.problems.map((p) => `${p.key}: ${p.message}`);
        throw err;
      }
      throw new Error("accepted");
    };
    expect(await refused(answering(200, { ...document, issuer: "https://evil.example.com" }))).toEqual([
      expect.stringMatching(/^monitoring:grafana\.signIn\.oidc\.issuer: its discovery document .* names another issuer/),
    ]);
    expect(await refused(answering(404, {}))).toEqual([
      expect.stringMatching(/answered HTTP 404: give monitoring:grafana\.signIn\.oidc\.authUrl/),
    ]);
    expect(await refused(answering(200, { ...document, token_endpoint: undefined }))).toEqual([
      expect.stringMatching(/has no https token_endpoint/),
    ]);
  });

  test("given endpoints are kept, and nothing is read", async () => {
    const { config } = parse(
      "staging",
      { domain: "example.com", traefik: { enabled: true, expose: ["grafana"], certResolver: "le" }, grafana: { signIn: { oidc: OIDC } } },
      { grafanaOidcClientSecret: "s" },
    );
    const seen: string[] = [];
    expect(await withOidcEndpoints(config, "monitoring", false, answering(500, {}, seen))).toBe(config);
    expect(seen).toEqual([]);
  });
});
