/**
 * The OpenID Connect provider's endpoints (grafana.signIn.oidc): those the stack does not give are
 * read from the issuer's discovery document (`<issuer>/.well-known/openid-configuration`) at
 * `pulumi preview` and `up`, before any resource exists (index.ts). The offline render reads
 * nothing from the network: it is refused, naming each key to give instead.
 */
import { ConfigError, ConfigProblem, StackConfig } from "../config";
import { missingOidcEndpoints } from "../components/grafana/sign-in";

/** How long the discovery document may take. */
export const DISCOVERY_TIMEOUT_MS = 10_000;

/** The discovery document's name for each endpoint the stack may give. */
const DOCUMENT_FIELDS = { authUrl: "authorization_endpoint", tokenUrl: "token_endpoint", userinfoUrl: "userinfo_endpoint" } as const;

/** Where an issuer publishes its discovery document (OpenID Connect Discovery 1.0, section 4). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
}

/** A fetch as this module uses it, so that the tests can answer for the network. */
export type Fetch = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string> },
) => Promise<{
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}>;

/**
 * The config with every endpoint of signIn.oidc filled in: as given, or from the discovery
 * document. Refused (ConfigError) when the document cannot be read, names another issuer, or
 * lacks an endpoint; under the offline render (`offline`), refused for each endpoint not given.
 */
export async function withOidcEndpoints(
  config: StackConfig,
  project: string,
  offline: boolean,
  fetchImpl: Fetch = fetch,
): Promise<StackConfig> {
  const signIn = config.grafana.signIn;
  const missing = missingOidcEndpoints(signIn);
  if (!signIn?.oidc || missing.length === 0) return config;
  const oidc = signIn.oidc;
  const key = (k: string) => `${project}:grafana.signIn.oidc.${k}`;
  if (offline) {
    throw new ConfigError(
      missing.map((k): ConfigProblem => ({
        key: key(k),
        message: `is needed by the offline render, which reads no discovery document (${discoveryUrl(oidc.issuer)}): give the provider's ${DOCUMENT_FIELDS[k]} (got nothing)`,
      })),
    );
  }
  const url = discoveryUrl(oidc.issuer);
  const refuse = (why: string): never => {
    throw new ConfigError([
      {
        key: key("issuer"),
        message: `${why}: give ${missing.map((k) => key(k)).join(", ")} instead, or fix the issuer (got ${JSON.stringify(oidc.issuer)})`,
      },
    ]);
  };
  let document: unknown;
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), headers: { accept: "application/json" } });
    if (!response.ok) refuse(`its discovery document ${url} answered HTTP ${response.status}`);
    document = await response.json();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    refuse(`its discovery document ${url} could not be read (${err instanceof Error ? err.message : String(err)})`);
  }
  const doc = (typeof document === "object" && document !== null ? document : {}) as Record<string, unknown>;
  const trim = (u: unknown) => (typeof u === "string" ? u.replace(/\/+$/, "") : u);
  if (trim(doc.issuer) !== trim(oidc.issuer)) {
    refuse(
      `its discovery document ${url} names another issuer (${JSON.stringify(doc.issuer)}): the issuer must be the one the tokens carry`,
    );
  }
  const found: Partial<Record<keyof typeof DOCUMENT_FIELDS, string>> = {};
  for (const k of missing) {
    const value = doc[DOCUMENT_FIELDS[k]];
    if (typeof value !== "string" || !value.startsWith("https://") || value.includes("`")) {
      refuse(`its discovery document ${url} has no https ${DOCUMENT_FIELDS[k]} (got ${JSON.stringify(value) ?? "nothing"})`);
    }
    found[k] = value as string;
  }
  return { ...config, grafana: { ...config.grafana, signIn: { ...signIn, oidc: { ...oidc, ...found } } } };
}
