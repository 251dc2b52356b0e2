/**
 * JSON Web Tokens for the sign-in lab (test/live/sign-in.test.ts), with Node's own crypto: RS256 signatures made
 * with a local key and checked against a JSON Web Key Set, as a relying party (Grafana) checks an identity
 * provider's tokens. Nothing here trusts a token's claims before its signature is checked against a key of the set.
 */
import * as crypto from "crypto";

/** A JSON Web Key as a key set serves it (RSA public keys here). */
export type Jwk = crypto.JsonWebKey & { kid?: string; alg?: string; use?: string };

export interface JwkSet {
  keys: Jwk[];
}

export type Claims = Record<string, unknown>;

const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** A signing key: the private half, and the public half as a JWK with its key id. */
export interface SigningKey {
  kid: string;
  privateKey: crypto.KeyObject;
  jwk: Jwk;
}

/** A new 2048-bit RSA key (what Cloudflare Access signs with), its JWK carrying `kid`. */
export function newSigningKey(kid: string): SigningKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" } };
}

/** A compact JWS (RS256) of the claims, its header naming the key. */
export function signJwt(claims: Claims, key: SigningKey): string {
  const header = base64url(JSON.stringify({ alg: "RS256", kid: key.kid, typ: "JWT" }));
  const payload = base64url(JSON.stringify(claims));
  const signature = crypto.sign("RSA-SHA256", Buffer.from(`${header}.${payload}`), key.privateKey);
  return `${header}.${payload}.${base64url(signature)}`;
}

export class JwtError extends Error {}

/** The header and claims of a compact JWS, unverified (to read the key id, or to show a refused token). */
export function decodeJwt(token: string): { header: { alg?: string; kid?: string }; claims: Claims } {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError(`not a compact JWS: ${parts.length} parts`);
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8")) as { alg?: string; kid?: string },
      claims: JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as Claims,
    };
  } catch (err) {
    throw new JwtError(`not a JWT: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The claims of a token whose RS256 signature one key of the set verifies (by its `kid` when the token names one);
 * throws a JwtError otherwise. Only RS256: what Dex and Cloudflare Access sign with, and no `none` or HMAC confusion.
 */
export function verifyJwt(token: string, set: JwkSet): Claims {
  const { header, claims } = decodeJwt(token);
  if (header.alg !== "RS256") throw new JwtError(`algorithm ${String(header.alg)} refused: RS256 expected`);
  const candidates = set.keys.filter((k) => k.kty === "RSA" && (header.kid === undefined || k.kid === header.kid));
  if (candidates.length === 0) throw new JwtError(`no RSA key ${header.kid ?? "(no kid)"} in the key set (${set.keys.length} keys)`);
  const [h, p, s] = token.split(".");
  const ok = candidates.some((jwk) =>
    crypto.verify("RSA-SHA256", Buffer.from(`${h}.${p}`), crypto.createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(s, "base64url")),
  );
  if (!ok) throw new JwtError(`signature does not verify with key ${header.kid ?? "(no kid)"} of the key set`);
  return claims;
}

/** The audiences of a token's `aud` (a string or an array of strings), or an error naming its type. */
export function audiences(claims: Claims): string[] {
  const aud = claims.aud;
  if (aud === undefined) return [];
  if (typeof aud === "string") return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === "string")) return aud;
  throw new JwtError(`"aud" claim has invalid type: array or string expected`);
}
