/**
 * grafana.signIn as config reads it: its defaults, and each refusal and warning before any
 * resource, naming its key (monitoring:grafana.signIn...).
 */
import { parse, problems } from "./support";

/** A stack that publishes Grafana through Traefik, with a certificate: what an OAuth provider needs. */
const published = (profile: "staging" | "production") => ({
  profile,
  environment: profile,
  domain: "example.com",
  traefik: { enabled: true, expose: ["grafana"], certResolver: "letsencrypt" },
});

const OIDC = {
  name: "Keycloak",
  clientId: "grafana",
  issuer: "https://id.acme.com/realms/acme",
  groups: ["monitoring"],
};
const GITHUB = { clientId: "Ov23liabc", organizations: ["acme"] };

const signInProblems = (profile: "staging" | "production", signIn: unknown, secrets: Record<string, unknown> = {}, extra = {}) =>
  problems(profile, { ...published(profile), ...extra, grafana: { signIn } }, secrets);

describe("grafana.signIn", () => {
  test("an OpenID Connect provider resolves over its defaults: claims, scopes, default role, not strict", () => {
    const { config, warnings } = parse(
      "production",
      { ...published("production"), grafana: { signIn: { oidc: OIDC } } },
      {
        grafanaOidcClientSecret: "oidc-secret",
      },
    );
    expect(config.grafana.signIn).toEqual({
      oidc: {
        ...OIDC,
        scopes: ["openid", "email", "profile", "groups"],
        claims: { login: "preferred_username", email: "email", emailVerified: "email_verified", name: "name", groups: "groups" },
        domains: [],
        clientSecret: "oidc-secret",
      },
      roles: [],
      defaultRole: "Viewer",
      strict: false,
      autoLogin: false,
    });
    expect(warnings.filter((w) => w.includes("signIn"))).toEqual([]);
  });

  test("without signIn, nothing is resolved: the admin account alone", () => {
    expect(parse("staging", published("staging")).config.grafana.signIn).toBeUndefined();
  });

  test("an unknown role names the rule's key and the roles allowed", () => {
    const found = signInProblems("staging", { oidc: OIDC, roles: [{ role: "Owner", groups: ["sre"] }] }, { grafanaOidcClientSecret: "s" });
    expect(found).toEqual([
      expect.stringMatching(/^monitoring:grafana\.signIn\.roles\[0\]\.role: must be one of "Admin", "Editor", "Viewer" \(got "Owner"\)/),
    ]);
  });

  test("an empty rule gives its role to nobody", () => {
    expect(signInProblems("staging", { oidc: OIDC, roles: [{ role: "Admin" }] }, { grafanaOidcClientSecret: "s" })).toEqual([
      "monitoring:grafana.signIn.roles[0]: gives Admin to nobody: a rule needs groups, emails or teams (got only the role)",
    ]);
  });

  test("a rule on groups with GitHub or Google alone is refused: neither sends groups", () => {
    for (const [provider, secret] of [
      ["github", "grafanaGithubClientSecret"],
      ["google", "grafanaGoogleClientSecret"],
    ] as const) {
      const given = provider === "github" ? GITHUB : { clientId: "id.apps.googleusercontent.com", domains: ["acme.com"] };
      expect(signInProblems("staging", { [provider]: given, roles: [{ role: "Admin", groups: ["sre"] }] }, { [secret]: "s" })).toEqual([
        expect.stringMatching(
          new RegExp(
            `^monitoring:grafana\\.signIn\\.roles\\[0\\]\\.groups: cannot be matched with the providers configured \\(${provider}\\): only OpenID Connect sends groups`,
          ),
        ),
      ]);
    }
  });

  test("with OpenID Connect beside GitHub, a groups rule applies to the one that sends them", () => {
    const { config } = parse(
      "staging",
      {
        ...published("staging"),
        grafana: { signIn: { github: GITHUB, oidc: OIDC, roles: [{ role: "Admin", groups: ["sre"], teams: ["acme/sre"] }] } },
      },
      { grafanaGithubClientSecret: "g", grafanaOidcClientSecret: "o" },
    );
    expect(config.grafana.signIn?.roles).toHaveLength(1);
  });

  test("emails on GitHub alone, and organizations anywhere, are refused with the way over", () => {
    const found = signInProblems(
      "staging",
      {
        github: GITHUB,
        roles: [
          { role: "Admin", emails: ["a@acme.com"] },
          { role: "Editor", organizations: ["acme"] },
        ],
      },
      { grafanaGithubClientSecret: "s" },
    );
    expect(found).toEqual([
      expect.stringMatching(
        /^monitoring:grafana\.signIn\.roles\[0\]\.emails: cannot be matched .*GitHub's user document holds only the public one/,
      ),
      expect.stringMatching(/^monitoring:grafana\.signIn\.roles\[1\]\.organizations: cannot be matched: .*use teams/),
    ]);
  });

  test("autoLogin signs in through one OAuth provider: refused with two, and with Cloudflare Access alone", () => {
    expect(
      signInProblems(
        "staging",
        { github: GITHUB, oidc: OIDC, autoLogin: true },
        { grafanaGithubClientSecret: "g", grafanaOidcClientSecret: "o" },
      ),
    ).toEqual([
      "monitoring:grafana.signIn.autoLogin: signs in through one provider, and 2 are configured (github, oidc): keep one, or set autoLogin: false",
    ]);
    const tunnel = {
      cloudflare: {
        enabled: true,
        accountId: "0".repeat(32),
        zoneId: "f".repeat(32),
        expose: ["grafana"],
        access: { enabled: true, team: "acme", emails: ["a@acme.com"] },
      },
      // Grafana is published one way: through the tunnel (config/checks/exposure.ts).
      traefik: { enabled: true, expose: ["prometheus", "alertmanager"], certResolver: "letsencrypt" },
    };
    expect(signInProblems("staging", { cloudflareAccess: true, autoLogin: true }, {}, tunnel)).toEqual([
      expect.stringMatching(/^monitoring:grafana\.signIn\.autoLogin: needs one OAuth provider/),
    ]);
  });

  test("a provider without its client secret names the secret key and its command", () => {
    expect(signInProblems("staging", { oidc: OIDC })).toEqual([
      "monitoring:grafanaOidcClientSecret: grafana.signIn.oidc is set, so its client secret is needed: pulumi config set --secret grafanaOidcClientSecret <value>",
    ]);
  });

  test("cloudflareAccess needs the tunnel's Access in front of Grafana, and its team", () => {
    expect(signInProblems("staging", { cloudflareAccess: true })).toEqual([
      "monitoring:grafana.signIn.cloudflareAccess: signs in whom Cloudflare Access let through to Grafana, so it needs the tunnel's Access in front of Grafana: " +
        "set cloudflare.enabled: true, cloudflare.access.enabled: true, cloudflare.access.team (your <team>.cloudflareaccess.com)",
    ]);
  });

  test("Cloudflare Access beside another provider is refused: one identity per person, not Grafana's order of authentication", () => {
    const tunnel = {
      cloudflare: {
        enabled: true,
        accountId: "0".repeat(32),
        zoneId: "f".repeat(32),
        expose: ["grafana"],
        access: { enabled: true, team: "acme", emails: ["a@acme.com"] },
      },
      // Grafana is published one way: through the tunnel (config/checks/exposure.ts).
      traefik: { enabled: true, expose: ["prometheus", "alertmanager"], certResolver: "letsencrypt" },
    };
    expect(signInProblems("production", { oidc: OIDC, cloudflareAccess: true }, { grafanaOidcClientSecret: "o" }, tunnel)).toEqual([
      "monitoring:grafana.signIn.cloudflareAccess: signs in whom Cloudflare Access let through on every request, and signIn.oidc signs in " +
        "the same people through a login page: Grafana would hold two identities for one person, with the role of whichever it checks first. " +
        "Keep Cloudflare Access as the identity alone, or remove signIn.cloudflareAccess and keep signIn.oidc (Cloudflare Access can still guard the way in)",
    ]);
    expect(
      signInProblems(
        "production",
        { github: GITHUB, oidc: OIDC, cloudflareAccess: true },
        { grafanaGithubClientSecret: "g", grafanaOidcClientSecret: "o" },
        tunnel,
      ),
    ).toEqual([expect.stringContaining("and signIn.github, signIn.oidc sign in the same people through a login page")]);
    // Each alone is taken.
    const alone = (signIn: object, secrets = {}) =>
      parse("production", { ...published("production"), ...tunnel, grafana: { signIn } }, secrets);
    expect(alone({ cloudflareAccess: true }).config.grafana.signIn?.cloudflareAccess).toBe(true);
    expect(alone({ oidc: OIDC }, { grafanaOidcClientSecret: "o" }).config.grafana.signIn?.oidc?.clientId).toBe(OIDC.clientId);
  });

  test("an OAuth provider needs Grafana published: its callback is under root_url", () => {
    expect(
      problems(
        "staging",
        { profile: "staging", environment: "staging", grafana: { signIn: { oidc: OIDC } } },
        { grafanaOidcClientSecret: "s" },
      ),
    ).toEqual([expect.stringMatching(/^monitoring:grafana\.signIn\.oidc: needs Grafana published/)]);
  });

  test("a provider that lets in anyone is refused in production and warned of in staging", () => {
    const open = {
      github: [{ clientId: "Ov23liabc" }, "grafanaGithubClientSecret", "any GitHub account: set signIn.github.organizations or teamIds"],
      google: [{ clientId: "id.apps.googleusercontent.com" }, "grafanaGoogleClientSecret", "any Google account: set signIn.google.domains"],
      oidc: [
        { ...OIDC, groups: undefined },
        "grafanaOidcClientSecret",
        "every account of the provider: set signIn.oidc.groups or domains, or strict roles",
      ],
    } as const;
    for (const [provider, [given, secret, what]] of Object.entries(open)) {
      expect(signInProblems("production", { [provider]: given }, { [secret]: "s" })).toEqual([
        `monitoring:grafana.signIn.${provider}: lets in ${what} (refused in a production stack)`,
      ]);
      const { warnings } = parse("staging", { ...published("staging"), grafana: { signIn: { [provider]: given } } }, { [secret]: "s" });
      expect(warnings).toContainEqual(
        `monitoring:grafana.signIn.${provider} lets in ${what}; until then its sign-up is off, so only users the admin creates in Grafana can sign in.`,
      );
    }
  });

  test("strict roles with a rule for the provider restrict it; strict without a rule refuses everyone", () => {
    const oidc = { ...OIDC, groups: undefined };
    const secrets = { grafanaOidcClientSecret: "s" };
    expect(() =>
      parse(
        "production",
        { ...published("production"), grafana: { signIn: { oidc, strict: true, roles: [{ role: "Viewer", groups: ["staff"] }] } } },
        secrets,
      ),
    ).not.toThrow();
    expect(signInProblems("production", { oidc: OIDC, strict: true }, secrets)).toEqual([
      "monitoring:grafana.signIn.strict: refuses every user no rule places, and signIn.roles has no rule: give rules or set strict: false",
    ]);
  });

  test("signIn without a provider is refused", () => {
    expect(signInProblems("staging", { roles: [] })).toEqual([expect.stringMatching(/^monitoring:grafana\.signIn: names no provider/)]);
  });

  test("a claim, a group or a client id the role mapping could not quote is refused at its key", () => {
    const found = signInProblems(
      "staging",
      { oidc: { ...OIDC, claims: { groups: "groups[0]" } }, roles: [{ role: "Admin", groups: ["it's"] }] },
      { grafanaOidcClientSecret: "s" },
    );
    expect(found).toEqual([
      expect.stringMatching(/^monitoring:grafana\.signIn\.oidc\.claims\.groups: must be a claim/),
      expect.stringMatching(/^monitoring:grafana\.signIn\.roles\[0\]\.groups\[0\]: must be a group name without '/),
    ]);
  });
});
