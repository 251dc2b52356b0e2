/**
 * A digest of secret values for a pod template's `checksum/...` annotation, so that a new value
 * rolls the pods that read it only at start (an env var, a file read once). Whoever may read pods
 * reads the annotation: it is scrypt (RFC 7914, N=2^15, r=8, p=1, 16 bytes) salted by the stack's
 * salt under the use's own label (saltFor), as the Grafana admin password's is
 * (components/grafana/ini.ts): without the salt no guess can be checked against it, and with it a
 * guess costs as much as a bcrypt hash. The same on every `up` (no rollout when nothing changed).
 */
import * as crypto from "crypto";
import { saltFor } from "./salt";

/** The digest of `values` (by name; order-independent) under the stack's salt and `label`, hex. */
export function secretDigest(values: Record<string, string>, stackSalt: Buffer, label: string): Promise<string> {
  const text = JSON.stringify(Object.entries(values).sort(([a], [b]) => a.localeCompare(b)));
  return new Promise((resolve, reject) =>
    crypto.scrypt(text, saltFor(stackSalt, label), 16, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key.toString("hex")),
    ),
  );
}
