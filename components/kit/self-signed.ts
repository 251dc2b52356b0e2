/**
 * A self-signed Ed25519 certificate made from a 32-byte seed, with no TLS provider: the key is
 * the seed's Ed25519 key, and the certificate is the same bytes for the same seed, name and
 * dates (Ed25519 signatures are deterministic), so a deployment that derives the seed from
 * what the stack keeps gets the same key and certificate on every `up`. For a server that one
 * client of the stack trusts by this very certificate (its `ca_file`), not for browsers.
 */
import * as crypto from "crypto";
import { programmingError } from "./problems";

/** What the certificate says. */
export interface SelfSignedSpec {
  /** The subject's and issuer's common name. */
  commonName: string;
  /** DNS names of the subjectAltName: what a client checks the server's name against. */
  dnsNames: string[];
  notBefore: Date;
  notAfter: Date;
}

export interface SelfSigned {
  /** The certificate, PEM. */
  certPem: string;
  /** The private key, PKCS#8 PEM. */
  keyPem: string;
}

/** RFC 5280's notAfter for a certificate with no well-defined expiration. */
export const NO_EXPIRY = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

/** Bytes of an Ed25519 seed (RFC 8032). */
export const ED25519_SEED_BYTES = 32;

// -- A DER encoder of the few ASN.1 types an X.509 certificate needs. --

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octetString = (content: Buffer) => tlv(0x04, content);
/** A BIT STRING of whole bytes (no unused bits). */
const bitString = (content: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"));
const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]));
/** [n] EXPLICIT, constructed. */
const explicit = (n: number, content: Buffer) => tlv(0xa0 | n, content);

/** A non-negative INTEGER from its big-endian bytes (a leading zero where the top bit is set). */
function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(text: string): Buffer {
  const parts = text.split(".").map(Number);
  const bytes = [40 * parts[0] + parts[1]];
  for (const part of parts.slice(2)) {
    const base128: number[] = [];
    for (let v = part; ; v = Math.floor(v / 128)) {
      base128.unshift((v % 128) | (base128.length > 0 ? 0x80 : 0));
      if (v < 128) break;
    }
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5); whole seconds, UTC. */
function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

const OIDS = {
  ed25519: "1.3.101.112",
  commonName: "2.5.4.3",
  subjectAltName: "2.5.29.17",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  basicConstraints: "2.5.29.19",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

const ED25519_ALGORITHM = sequence(oid(OIDS.ed25519));

/** The PKCS#8 wrapping of an Ed25519 seed (RFC 8410): version 0, the algorithm, the seed as an OCTET STRING. */
function ed25519Pkcs8(seed: Buffer): Buffer {
  return sequence(tlv(0x02, Buffer.from([0])), ED25519_ALGORITHM, octetString(octetString(seed)));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The Ed25519 private key of a 32-byte seed. */
export function ed25519KeyFromSeed(seed: Buffer): crypto.KeyObject {
  if (seed.length !== ED25519_SEED_BYTES) programmingError(`an Ed25519 seed has ${ED25519_SEED_BYTES} bytes, not ${seed.length}`);
  return crypto.createPrivateKey({ key: ed25519Pkcs8(seed), format: "der", type: "pkcs8" });
}

/**
 * The key of `seed` and a certificate of it, signed by itself: version 3, a serial from the
 * public key, the common name as subject and issuer, the dates given, the DNS names as
 * subjectAltName, key usage digitalSignature (critical), extended key usage serverAuth, and
 * basicConstraints CA false (critical). The same inputs give the same bytes.
 */
export function selfSignedEd25519(seed: Buffer, spec: SelfSignedSpec): SelfSigned {
  const privateKey = ed25519KeyFromSeed(seed);
  const publicKey = crypto.createPublicKey(privateKey);
  // The SubjectPublicKeyInfo, as Node exports it (the algorithm and the 32-byte key).
  const spki = publicKey.export({ format: "der", type: "spki" });
  const serial = crypto.createHash("sha256").update(spki).digest().subarray(0, 16);
  serial[0] &= 0x7f; // positive, at most 20 bytes (RFC 5280 4.1.2.2)
  const name = sequence(set(sequence(oid(OIDS.commonName), utf8String(spec.commonName))));
  const altNames = sequence(...spec.dnsNames.map((dns) => tlv(0x82, Buffer.from(dns, "ascii"))));
  const extensions = sequence(
    extension(OIDS.basicConstraints, true, sequence()),
    // digitalSignature: bit 0, the one bit of the one byte (7 unused bits).
    extension(OIDS.keyUsage, true, tlv(0x03, Buffer.from([7, 0x80]))),
    extension(OIDS.extKeyUsage, false, sequence(oid(OIDS.serverAuth))),
    extension(OIDS.subjectAltName, false, altNames),
  );
  const tbs = sequence(
    explicit(0, tlv(0x02, Buffer.from([2]))), // v3
    unsignedInteger(serial),
    ED25519_ALGORITHM,
    name,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    name,
    spki,
    explicit(3, extensions),
  );
  const signature = crypto.sign(null, tbs, privateKey);
  const certificate = sequence(tbs, ED25519_ALGORITHM, bitString(signature));
  return { certPem: pem("CERTIFICATE", certificate), keyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString() };
}
