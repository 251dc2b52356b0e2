/**
 * Every Grafana sign-in provider, each restricted (so that a production stack takes it too): the
 * `grafana.signIn` the secret sweeps (test/support/every-secret.ts, test/cluster/sealed.test.ts)
 * give so that grafanaGithubClientSecret, grafanaGoogleClientSecret and grafanaOidcClientSecret
 * are all read. The OIDC endpoints are given, so that neither the offline render nor the engine
 * reads a discovery document.
 */
export const SEALED_SIGN_IN = {
  github: { clientId: "Ov23liSealed", organizations: ["acme"] },
  google: { clientId: "1234-sealed.apps.googleusercontent.com", domains: ["example.com"] },
  oidc: {
    clientId: "grafana",
    issuer: "https://id.example.com/realms/acme",
    authUrl: "https://id.example.com/realms/acme/protocol/openid-connect/auth",
    tokenUrl: "https://id.example.com/realms/acme/protocol/openid-connect/token",
    userinfoUrl: "https://id.example.com/realms/acme/protocol/openid-connect/userinfo",
    groups: ["monitoring"],
  },
};
