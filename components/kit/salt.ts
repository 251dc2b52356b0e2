/** How a component derives a key of its own from the stack's salt (preflight/stack-salt.ts reads or makes the salt). */
import * as crypto from "crypto";

/**
 * A key for one use of the salt (HMAC-SHA256 of the label under the salt): each use gets its
 * own, so that what one reveals (a bcrypt salt is public in its hash) says nothing of another.
 */
export function saltFor(salt: Buffer, label: string): Buffer {
  return crypto.createHmac("sha256", salt).update(label).digest();
}
