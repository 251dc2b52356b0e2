/**
 * Every Grafana sign-in provider, each restricted (so that a production stack takes it too): the
 * `grafana.signIn` the secret sweeps (test/support/every-secret.ts, test/cluster/sealed.test.ts)
 * give so that every OAuth provider's client secret is read (SEALED_SIGN_IN_SECRETS, derived from
 * the providers' table). The OIDC endpoints are given, so that neither the offline render nor the engine
 * reads a discovery document.
 */
import { OAUTH_PROVIDER_ROWS, SIGN_IN_SECRETS, SignInSecretKey } from "../../components/grafana/sign-in";
import type { SweptSecret } from "./sealed-routing";

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

/** The client secret keys SEALED_SIGN_IN reads: each OAuth provider's it configures (SIGN_IN_PROVIDERS). */
export const SEALED_SIGN_IN_SECRETS: SweptSecret[] = OAUTH_PROVIDER_ROWS.filter(([provider]) => provider in SEALED_SIGN_IN).map(
  ([, row]) => ({ path: row.secret.key, schema: SIGN_IN_SECRETS[row.secret.key as SignInSecretKey] }),
);
