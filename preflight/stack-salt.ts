/**
 * The stack's salt: 32 random bytes drawn on a stack's first deployment and kept in its state
 * as a secret stack output, which every later deployment reads back (index.ts, through its
 * StackReference to the stack itself). What the stack derives from a password (the basic-auth
 * bcrypt salts, the Grafana admin password's digest) is keyed on it, so that the same user and
 * password give different hashes in every stack, and the same hash from one `up` to the next;
 * node-exporter's password and TLS key are derived from it too (components/exporters/node-exporter.ts).
 *
 * Drawn here rather than by a `random` provider resource: the program needs it before any
 * resource exists, and the cluster tier cannot run that provider.
 */
import * as crypto from "crypto";

/** The stack output that keeps the salt (base64, a secret). */
export const SALT_OUTPUT = "stackSalt";

/** Bytes of the salt: as many as the HMAC-SHA256 key it serves as. */
export const SALT_BYTES = 32;

/** A fresh salt, for a stack's first deployment. */
export function newStackSalt(): Buffer {
  return crypto.randomBytes(SALT_BYTES);
}

/** The salt as the stack output keeps it. */
export function saltText(salt: Buffer): string {
  return salt.toString("base64");
}

/** The salt a stack output holds; undefined when it is not one (absent, redacted, edited). */
export function parseStackSalt(value: unknown): Buffer | undefined {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const salt = Buffer.from(value, "base64");
  return salt.length === SALT_BYTES && saltText(salt) === value ? salt : undefined;
}

/**
 * The salt of this deployment from the previous deployment's output: the same one when it
 * kept one, a fresh one on a first deployment (no output) or when what it kept is not a salt
 * (then with a warning: what is derived from it changes once).
 */
export function stackSaltOf(previous: unknown): { salt: Buffer; warning?: string } {
  const kept = parseStackSalt(previous);
  if (kept) return { salt: kept };
  if (previous === undefined || previous === null) return { salt: newStackSalt() };
  return {
    salt: newStackSalt(),
    warning:
      `The previous deployment's stack output "${SALT_OUTPUT}" is not a ${SALT_BYTES}-byte base64 salt: a new one is drawn, ` +
      "so the basic-auth hashes and the Grafana password digest change once (no password you gave changes), " +
      "and node-exporter's password and certificate, on both ends at once.",
  };
}
