/**
 * A digest of secret values for a pod template's `checksum/...` annotation, so that a new value
 * rolls the pods that read it only at start (an env var, a file read once). Whoever may read pods
 * reads the annotation: it is scrypt (RFC 7914, N=2^15, r=8, p=1, 16 bytes) salted by the stack's
 * salt under the use's own label (saltFor), as the Grafana admin password's is
 * (components/grafana/ini.ts): without the salt no guess can be checked against it, and with it a
 * guess costs as much as a bcrypt hash. The same on every `up` (no rollout when nothing changed).
 */
import { scryptHex } from "./kdf";
import { saltFor } from "./salt";

/** The digest of `values` (by name; order-independent) under the stack's salt and `label`, hex. */
export function secretDigest(values: Record<string, string>, stackSalt: Buffer, label: string): Promise<string> {
  const text = JSON.stringify(Object.entries(values).sort(([a], [b]) => a.localeCompare(b)));
  return scryptHex(text, saltFor(stackSalt, label));
}
