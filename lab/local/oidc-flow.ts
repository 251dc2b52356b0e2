/**
 * The OpenID Connect authorization-code flow as Grafana's generic OAuth sign-in runs it, for the sign-in lab: the
 * browser sent to auth_url with the client id, the redirect URI Grafana sends (<root_url>/login/generic_oauth), the
 * scopes, a state and, with use_pkce, an S256 code challenge; the user's login at the provider's own form; the code Grafana's callback receives, exchanged
 * at token_url with the client id and secret (HTTP basic, as Go's oauth2 package sends them); the ID token, checked
 * here against the provider's key set (jwks_uri), issuer and audience; and the userinfo answer when api_url is set.
 * Requests go through `reach` (dex.ts): the stack's URLs, served on the loopback.
 */
import * as crypto from "crypto";
import * as http from "http";
import type { GenericOAuthSettings } from "./grafana-sign-in";
import { Claims, JwkSet, audiences, verifyJwt } from "./jwt";

interface Answer {
  status: number;
  location?: string;
  contentType: string;
  body: string;
}

/** One request, redirects not followed, bounded in time; only plain HTTP on the loopback (what `reach` gives). */
function request(method: string, url: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const u = new URL(url);
  if (u.protocol !== "http:" || u.hostname !== "127.0.0.1")
    return Promise.reject(new Error(`the lab requests only http://127.0.0.1, not ${url}`));
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method, headers: opts.headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          contentType: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint?: string;
  jwks_uri: string;
  scopes_supported?: string[];
  claims_supported?: string[];
}

/** The provider's discovery document, from <issuer>/.well-known/openid-configuration. */
export async function discover(issuer: string, reach: (url: string) => string): Promise<Discovery> {
  const res = await request("GET", reach(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`));
  if (res.status !== 200) throw new Error(`discovery of ${issuer}: HTTP ${res.status}`);
  return JSON.parse(res.body) as Discovery;
}

/** The provider's key set. */
export async function keySet(jwksUri: string, reach: (url: string) => string): Promise<JwkSet> {
  const res = await request("GET", reach(jwksUri));
  if (res.status !== 200) throw new Error(`GET ${jwksUri}: HTTP ${res.status}`);
  return JSON.parse(res.body) as JwkSet;
}

export interface FlowResult {
  /** The URL the provider sent the browser back to (Grafana's callback), with its code. */
  callback: string;
  idToken: string;
  /** The ID token's claims, its signature, issuer and audience checked. */
  idClaims: Claims;
  accessToken: string;
  /** The userinfo answer (api_url), when the settings name one. */
  userinfo?: Claims;
}

/** Why the provider refused the login: the flow ends without a code. */
export class FlowRefused extends Error {}

const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`, "i").exec(tag)?.[1];
const unescapeHtml = (s: string) =>
  s
    .replace(/&amp;/g, "&")
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">");

/**
 * The provider's login form on a page: its action and fields (hidden ones kept), the user's login and password
 * written into the text and password inputs.
 */
function fillLoginForm(page: string, pageUrl: string, login: string, password: string): { action: string; body: string } | undefined {
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(page);
  if (!form || !/type="password"/i.test(form[1])) return undefined;
  const action = new URL(unescapeHtml(attr(form[0], "action") ?? ""), pageUrl).toString();
  const fields = new URLSearchParams();
  for (const input of form[1].match(/<input\b[^>]*>/gi) ?? []) {
    const name = attr(input, "name");
    if (!name) continue;
    const type = (attr(input, "type") ?? "text").toLowerCase();
    if (type === "password") fields.set(name, password);
    else if (type === "text" || type === "email") fields.set(name, login);
    else if (type === "hidden") fields.set(name, unescapeHtml(attr(input, "value") ?? ""));
  }
  return { action, body: fields.toString() };
}

/**
 * Signs `user` in through the provider with Grafana's settings, as Grafana's login page, the browser and Grafana's
 * callback would: ends with the verified ID token (and userinfo), or throws FlowRefused when the provider refuses.
 */
export async function authorizationCodeFlow(
  settings: GenericOAuthSettings,
  user: { login: string; password: string },
  reach: (url: string) => string,
  discovery: Discovery,
  /** What the exchange sends instead of the verifier of the challenge (a test of the provider's PKCE check). */
  exchange: { codeVerifier?: string } = {},
): Promise<FlowResult> {
  const state = crypto.randomBytes(16).toString("base64url");
  // Go's oauth2.GenerateVerifier: 32 random bytes, base64url; the challenge is the SHA-256 of it, base64url.
  const verifier = crypto.randomBytes(32).toString("base64url");
  const auth = new URL(settings.authUrl);
  auth.searchParams.set("client_id", settings.clientId);
  auth.searchParams.set("redirect_uri", settings.redirectUri);
  auth.searchParams.set("response_type", "code");
  auth.searchParams.set("scope", settings.scopes.join(" "));
  auth.searchParams.set("state", state);
  if (settings.usePkce) {
    auth.searchParams.set("code_challenge", crypto.createHash("sha256").update(verifier).digest("base64url"));
    auth.searchParams.set("code_challenge_method", "S256");
  }

  let url = auth.toString();
  let answer = await request("GET", reach(url));
  let loggedIn = false;
  let callback: URL | undefined;
  for (let hop = 0; hop < 12 && !callback; hop++) {
    if (answer.status >= 300 && answer.status < 400 && answer.location) {
      url = new URL(answer.location, url).toString();
      if (url.startsWith(`${settings.redirectUri}?`)) {
        callback = new URL(url);
        break;
      }
      answer = await request("GET", reach(url));
      continue;
    }
    const form = answer.status === 200 ? fillLoginForm(answer.body, url, user.login, user.password) : undefined;
    if (!form) throw new FlowRefused(`${url}: HTTP ${answer.status}, no login form and no redirect: ${answer.body.slice(0, 300)}`);
    if (loggedIn) throw new FlowRefused(`the provider refused ${user.login}'s login (the form came back)`);
    loggedIn = true;
    url = form.action;
    answer = await request("POST", reach(url), { headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form.body });
  }
  if (!callback) throw new FlowRefused(`no redirect to ${settings.redirectUri} after 12 steps (last: ${url})`);
  const error = callback.searchParams.get("error");
  if (error)
    throw new FlowRefused(`the provider sent the callback an error: ${error} ${callback.searchParams.get("error_description") ?? ""}`);
  if (callback.searchParams.get("state") !== state) throw new Error(`the callback's state is not the one sent`);
  const code = callback.searchParams.get("code");
  if (!code) throw new Error(`the callback carries no code: ${callback.toString()}`);

  // Go's oauth2 package, auth style "in header": the id and secret URL-encoded, then HTTP basic.
  const basic = Buffer.from(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`).toString("base64");
  const tokenAnswer = await request("POST", reach(settings.tokenUrl), {
    headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${basic}` },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: settings.redirectUri,
      ...(settings.usePkce ? { code_verifier: exchange.codeVerifier ?? verifier } : {}),
    }).toString(),
  });
  if (tokenAnswer.status !== 200)
    throw new Error(`token exchange at ${settings.tokenUrl}: HTTP ${tokenAnswer.status} ${tokenAnswer.body.slice(0, 300)}`);
  const tokens = JSON.parse(tokenAnswer.body) as { id_token?: string; access_token?: string };
  if (!tokens.id_token || !tokens.access_token)
    throw new Error(`the token answer lacks id_token or access_token: ${Object.keys(tokens).join(", ")}`);

  const idClaims = verifyJwt(tokens.id_token, await keySet(discovery.jwks_uri, reach));
  if (idClaims.iss !== discovery.issuer) throw new Error(`ID token issuer ${String(idClaims.iss)}, the provider is ${discovery.issuer}`);
  if (!audiences(idClaims).includes(settings.clientId))
    throw new Error(`ID token audience ${JSON.stringify(idClaims.aud)} lacks ${settings.clientId}`);
  if (typeof idClaims.exp !== "number" || idClaims.exp < Date.now() / 1000) throw new Error("ID token expired or without exp");

  let userinfo: Claims | undefined;
  if (settings.apiUrl) {
    const info = await request("GET", reach(settings.apiUrl), { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    if (info.status !== 200) throw new Error(`userinfo at ${settings.apiUrl}: HTTP ${info.status} ${info.body.slice(0, 300)}`);
    userinfo = JSON.parse(info.body) as Claims;
  }
  return { callback: callback.toString(), idToken: tokens.id_token, idClaims, accessToken: tokens.access_token, userinfo };
}
