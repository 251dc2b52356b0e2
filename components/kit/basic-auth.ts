/** Basic-auth passwords as the servers check them: bcrypt, with a salt derived from the stack's salt (Traefik's routes, node-exporter's web config). */
import * as bcrypt from "bcryptjs";
import { bcryptHash } from "./kdf";
import { saltFor } from "./salt";

/** bcrypt's cost, as the random provider's bcryptHash (Go's bcrypt.DefaultCost): the servers check it on every new login. */
export const BCRYPT_COST = 10;

/**
 * The 16-byte bcrypt salt of one use of a password (`use`: a label and the user): the first 16 bytes
 * of saltFor(stackSalt, use). The same on every `up` of a stack, so that a Secret holding the hash shows
 * no diff when nothing changed; another for every use and every stack. It does not depend on the
 * password: a bcrypt salt is public (it is in the hash), and one derived from the password would let
 * a guess be checked against it at the speed of a hash, bypassing bcrypt's cost.
 */
export function bcryptSaltFor(stackSalt: Buffer, use: string): Buffer {
  return saltFor(stackSalt, use).subarray(0, 16);
}

/** The bcrypt hash (`$2a$`, BCRYPT_COST) of a password under bcryptSaltFor(stackSalt, use): a new password, a new hash. */
export function bcryptHashFor(password: string, stackSalt: Buffer, use: string): string {
  return bcryptHash(password, `$2a$${BCRYPT_COST}$${bcrypt.encodeBase64(bcryptSaltFor(stackSalt, use), 16)}`);
}
