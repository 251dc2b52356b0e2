/**
 * The OpenID Connect provider's endpoints (grafana.signIn.oidc): those the stack does not give are
 * read from the issuer's discovery document (`<issuer>/.well-known/openid-configuration`) at
 * `pulumi preview` and `up`, before any resource exists (index.ts). The offline commands (render,
 * alert:test, restore) read nothing from the network: they read the same document from a file
 * (`--oidc-discovery <file>`, saved with curl), or are refused, naming each key and that option.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigError, ConfigProblem, StackConfig } from "../config";
import { missingOidcEndpoints } from "../components/grafana/sign-in";

/** How long the discovery document may take. */
export const DISCOVERY_TIMEOUT_MS = 10_000;

/** The discovery document's name for each endpoint the stack may give. */
const DOCUMENT_FIELDS = { authUrl: "authorization_endpoint", tokenUrl: "token_endpoint", userinfoUrl: "userinfo_endpoint" } as const;

/** The discovery document the offline commands were given (--oidc-discovery), while the program runs. */
let givenDocument: string | undefined;

/**
 * Has the program read the issuer's discovery document from `file` under the mocks, until the
 * returned function is called: the offline commands' `--oidc-discovery`.
 */
export function readingDiscoveryDocument(file: string): () => void {
  givenDocument = path.resolve(file);
  return () => {
    givenDocument = undefined;
  };
}

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
 * lacks an endpoint; under the offline commands (`offline`), read from the file they were given
 * (readingDiscoveryDocument) with the same checks, and refused for each endpoint not given without one.
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
  const url = discoveryUrl(oidc.issuer);
  if (offline && givenDocument === undefined) {
    throw new ConfigError(
      missing.map((k): ConfigProblem => ({
        key: key(k),
        message:
          `is needed by the offline commands, which read no network: give the provider's ${DOCUMENT_FIELDS[k]}, or its discovery document ` +
          `saved to a file (curl -fsS ${url} -o discovery.json, then --oidc-discovery discovery.json) (got nothing)`,
      })),
    );
  }
  const source = offline ? `--oidc-discovery ${path.relative(process.cwd(), givenDocument ?? "") || givenDocument} (${url})` : url;
  const refuse = (why: string): never => {
    throw new ConfigError([
      {
        key: key("issuer"),
        message: `${why}: give ${missing.map((k) => key(k)).join(", ")} instead, or fix the issuer (got ${JSON.stringify(oidc.issuer)})`,
      },
    ]);
  };
  let document: unknown;
  if (offline) {
    const file = givenDocument ?? "";
    if (!fs.existsSync(file)) refuse(`its discovery document ${source} does not exist`);
    try {
      document = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
      refuse(`its discovery document ${source} is not JSON (${err instanceof Error ? err.message : String(err)})`);
    }
  } else {
    try {
      const response = await fetchImpl(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), headers: { accept: "application/json" } });
      if (!response.ok) refuse(`its discovery document ${url} answered HTTP ${response.status}`);
      document = await response.json();
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      refuse(`its discovery document ${url} could not be read (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  const doc = (typeof document === "object" && document !== null ? document : {}) as Record<string, unknown>;
  const trim = (u: unknown) => (typeof u === "string" ? u.replace(/\/+$/, "") : u);
  if (trim(doc.issuer) !== trim(oidc.issuer)) {
    refuse(
      `its discovery document ${source} names another issuer (${JSON.stringify(doc.issuer)}): the issuer must be the one the tokens carry`,
    );
  }
  const found: Partial<Record<keyof typeof DOCUMENT_FIELDS, string>> = {};
  for (const k of missing) {
    const value = doc[DOCUMENT_FIELDS[k]];
    if (typeof value !== "string" || !value.startsWith("https://") || value.includes("`")) {
      refuse(`its discovery document ${source} has no https ${DOCUMENT_FIELDS[k]} (got ${JSON.stringify(value) ?? "nothing"})`);
    }
    found[k] = value as string;
  }
  return { ...config, grafana: { ...config.grafana, signIn: { ...signIn, oidc: { ...oidc, ...found } } } };
}
