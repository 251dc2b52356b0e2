/**
 * Cloudflare Access as Grafana sees it, for the sign-in lab: the application token Access puts in the
 * Cf-Access-Jwt-Assertion header of every request it lets through, signed with a key the lab holds, and the team's
 * key set at https://<team>.cloudflareaccess.com/cdn-cgi/access/certs, served on the loopback (`reach` maps the
 * team's origin to it). The claims are the ones Access sends for an application token: aud (an array holding the
 * application's AUD tag), email, exp, iat, nbf, iss (the team's domain), type "app", identity_nonce, sub (the user's
 * id) and country.
 */
import * as crypto from "crypto";
import type * as http from "http";
import { Claims, SigningKey, signJwt } from "./jwt";
import { LOOPBACK, freePort } from "../ports";
import { LocalRun } from "../processes/children";

export const ACCESS_CERTS_PATH = "/cdn-cgi/access/certs";

/** The team's domain, the issuer of its tokens. */
export const teamDomain = (team: string) => `https://${team}.cloudflareaccess.com`;

/** The claims of an Access application token for a user, valid from now for `ttlSeconds`; `extra` adds or overrides. */
export function accessClaims(opts: { team: string; aud: string; email: string; ttlSeconds?: number; extra?: Claims }): Claims {
  const now = Math.floor(Date.now() / 1000);
  return {
    aud: [opts.aud],
    email: opts.email,
    exp: now + (opts.ttlSeconds ?? 3600),
    iat: now,
    nbf: now,
    iss: teamDomain(opts.team),
    type: "app",
    identity_nonce: crypto.randomBytes(12).toString("base64url"),
    sub: crypto.randomUUID(),
    country: "FR",
    ...opts.extra,
  };
}

/** An Access application token for the claims, signed with `key`. */
export const accessToken = (claims: Claims, key: SigningKey) => signJwt(claims, key);

export interface AccessCerts {
  /** The team's certs URL as the stack writes it. */
  certsUrl: string;
  /** A URL of the team's origin, on the lab's port; other URLs unchanged. */
  reach(url: string): string;
}

/** Serves the team's key set (the public halves of `keys`) on a loopback port, stopped with the run. */
export async function serveAccessCerts(run: LocalRun, team: string, keys: SigningKey[]): Promise<AccessCerts> {
  const port = await freePort();
  const body = JSON.stringify({ keys: keys.map((k) => k.jwk) });
  const handler: http.RequestListener = (req, res) => {
    if ((req.url ?? "").split("?")[0] !== ACCESS_CERTS_PATH) return void res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": "application/json" }).end(body);
  };
  await run.serve(port, handler);
  const origin = teamDomain(team);
  return {
    certsUrl: `${origin}${ACCESS_CERTS_PATH}`,
    reach: (url) => {
      const u = new URL(url);
      return u.origin === origin ? `http://${LOOPBACK}:${port}${u.pathname}${u.search}` : url;
    },
  };
}
