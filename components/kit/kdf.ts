/**
 * The stack's two costly one-way functions: scrypt, for the pod templates' checksums of secret
 * values (secret-digest.ts, the Grafana admin password's), and bcrypt, for the basic-auth hashes
 * servers check (basic-auth.ts). Both are pure: the same input, salt and cost give the same result,
 * so each result is kept for the life of the process, and a process that runs the program more than
 * once (a test worker, `npm run bench`, the offline render of several stacks) pays for each only
 * once; one `pulumi up` computes each once, as before. The keys are SHA-256 digests of the inputs,
 * never the inputs, and the results are what the rendered objects carry anyway.
 */
import * as crypto from "crypto";
import * as bcrypt from "bcryptjs";

/** scrypt's parameters (RFC 7914): N=2^15, r=8, p=1, a 16-byte key; 32 MiB of memory a call. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const SCRYPT_KEY_BYTES = 16;

/** The results kept, by the digest of their inputs; emptied when it holds MAX_KEPT (a process never reaches it in practice). */
const kept = new Map<string, Promise<string> | string>();
const MAX_KEPT = 10_000;

function keyOf(kind: string, ...parts: Array<string | Buffer>): string {
  const h = crypto.createHash("sha256").update(kind);
  for (const part of parts)
    h.update(String(Buffer.byteLength(part)))
      .update(":")
      .update(part);
  return h.digest("hex");
}

function keep<T extends Promise<string> | string>(key: string, make: () => T): T {
  const found = kept.get(key);
  if (found !== undefined) return found as T;
  if (kept.size >= MAX_KEPT) kept.clear();
  const made = make();
  kept.set(key, made);
  // A failed derivation is not kept: the next call tries again.
  if (made instanceof Promise) made.catch(() => kept.delete(key));
  return made;
}

/** scrypt of `text` under `salt` (SCRYPT), hex; on Node's thread pool. */
export function scryptHex(text: string, salt: Buffer): Promise<string> {
  return keep(
    keyOf("scrypt", text, salt),
    () =>
      new Promise<string>((resolve, reject) =>
        crypto.scrypt(text, salt, SCRYPT_KEY_BYTES, SCRYPT, (err, key) => (err ? reject(err) : resolve(key.toString("hex")))),
      ),
  );
}

/** bcrypt of `password` under `setting` (`$2a$<cost>$<22 characters of salt>`), as bcrypt.hashSync. */
export function bcryptHash(password: string, setting: string): string {
  return keep(keyOf("bcrypt", password, setting), () => bcrypt.hashSync(password, setting));
}
