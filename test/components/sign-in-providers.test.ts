/**
 * The sign-in providers' table (components/grafana/sign-in-providers.ts) against what Grafana and the
 * section expect of a row: an OAuth provider's callback is Grafana's `/login/<name>` for its
 * `[auth.<name>]` section, its client secret is one of the section's secret keys with a file of its
 * own, every kind of role condition is carried by some provider, and each provider alone writes its
 * own section and nothing else.
 */
import { grafanaSecrets } from "../../components/grafana/section";
import {
  CONDITION_KINDS,
  OAUTH_PROVIDER_ROWS,
  SIGN_IN_PROVIDER_ROWS,
  SignInFields,
  resolveSignIn,
  signInIni,
  signInSchema,
} from "../../components/grafana/sign-in";

/** A minimal `signIn.<provider>` each provider's schema takes. */
const GIVEN: Record<string, unknown> = {
  github: { clientId: "Ov23li" },
  google: { clientId: "id.apps.googleusercontent.com" },
  oidc: {
    clientId: "grafana",
    issuer: "https://id.example.com",
    authUrl: "https://id.example.com/auth",
    tokenUrl: "https://id.example.com/token",
    userinfoUrl: "https://id.example.com/userinfo",
  },
  cloudflareAccess: true,
};

describe("the sign-in providers' table", () => {
  test("every provider has a minimal example here that its schema takes", () => {
    for (const [name] of SIGN_IN_PROVIDER_ROWS) {
      expect(signInSchema.safeParse({ [name]: GIVEN[name] }).success).toBe(true);
    }
  });

  test.each(OAUTH_PROVIDER_ROWS.map(([name, row]) => [name, row] as const))(
    "%s: its callback is Grafana's /login/<name> of its [auth.<name>] section, its secret a section key with a file of its own",
    (name, row) => {
      const ini = signInIni(resolveSignIn({ [name]: GIVEN[name] } as SignInFields, {}), { secretFile: (f) => `file:${f}` });
      const [section] = Object.keys(ini);
      expect(`auth.${row.callback.replace(/^login\//, "")}`).toBe(section);
      expect(ini[section].client_secret).toBe(`file:${row.secret.file}`);
      expect(Object.keys(grafanaSecrets)).toContain(row.secret.key);
      expect(row.docs).toContain(row.secret.key);
      expect(OAUTH_PROVIDER_ROWS.filter(([, other]) => other.secret.file === row.secret.file)).toHaveLength(1);
    },
  );

  test("each provider alone writes one section of its own", () => {
    const sections = SIGN_IN_PROVIDER_ROWS.map(([name]) =>
      Object.keys(
        signInIni(resolveSignIn({ [name]: GIVEN[name] } as SignInFields, {}), {
          secretFile: (f) => f,
          cloudflareAccess: { team: "acme", audience: "a".repeat(64) },
        }),
      ),
    );
    expect(sections.every((s) => s.length === 1)).toBe(true);
    expect(new Set(sections.flat()).size).toBe(SIGN_IN_PROVIDER_ROWS.length);
  });

  test("every kind of role condition is carried by some provider", () => {
    for (const kind of CONDITION_KINDS) {
      expect(SIGN_IN_PROVIDER_ROWS.filter(([, row]) => row.tests[kind] !== undefined).length).toBeGreaterThan(0);
    }
  });
});
