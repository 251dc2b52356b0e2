/** The keys whose values must be Pulumi secrets, and the stack file's plain entries beside secret ones. */
import { z } from "zod";
import {
  BASIC_AUTH_USER,
  BASIC_AUTH_USER_MESSAGE,
  dnsLabel,
  matching,
  nonEmpty,
  notAMap,
  secretMapMessage,
} from "../components/kit/fields";
import { LEGACY_RECEIVER_SECRETS, ROUTING_SECRETS } from "../components/alertmanager/section";
import { RECEIVER_SECRET_MAP_MESSAGES } from "../components/alertmanager/receivers";

/** What a secret map takes, and how to give it: entry by entry, by path. */
export const SECRET_MAP_MESSAGES: Record<string, string> = {
  ...Object.fromEntries(
    [
      ["databaseDsns", "database name", "DSN"],
      ["remoteWritePasswords", "remote-write name", "password or token"],
      ["basicAuthPasswords", "user", "password"],
      ["targetCredentials", "target name", "token or password"],
    ].map(([key, name, value]) => [key, secretMapMessage(key, name, value)]),
  ),
  ...RECEIVER_SECRET_MAP_MESSAGES,
};

/** Keys whose values must be Pulumi secrets. */
export const secretKeySchemas = {
  grafanaAdminPassword: z.string({ error: "must be a password" }).min(12, "must be at least 12 characters"),
  grafanaDatabasePassword: nonEmpty("a password"),
  ...LEGACY_RECEIVER_SECRETS,
  databaseDsns: z.record(dnsLabel, nonEmpty("a DSN"), notAMap(SECRET_MAP_MESSAGES.databaseDsns)),
  remoteWritePasswords: z.record(dnsLabel, nonEmpty("a password or token"), notAMap(SECRET_MAP_MESSAGES.remoteWritePasswords)),
  basicAuthPasswords: z.record(
    matching(BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE),
    z
      .string({ error: "must be a password" })
      .min(12, "must be at least 12 characters")
      // bcrypt reads the first 72 bytes only: a longer password would be accepted on its prefix.
      .refine((p) => Buffer.byteLength(p, "utf8") <= 72, { message: "must be at most 72 bytes (bcrypt ignores the rest)" }),
    notAMap(SECRET_MAP_MESSAGES.basicAuthPasswords),
  ),
  ...ROUTING_SECRETS,
  targetCredentials: z.record(dnsLabel, nonEmpty("a token or password"), notAMap(SECRET_MAP_MESSAGES.targetCredentials)),
};

export const SECRET_KEYS = Object.keys(secretKeySchemas) as ReadonlyArray<keyof typeof secretKeySchemas>;

/**
 * Entries of structured keys that a stack file's `config:` block holds in plain text
 * beside secure ones (`monitoring:databaseDsns.orders`), for RawConfig.plainPaths.
 */
export function plainEntriesOfSecretKeys(stackFileConfig: Record<string, unknown>): string[] {
  const isSecure = (v: unknown) =>
    typeof v === "object" && v !== null && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";
  const plain: string[] = [];
  const walk = (value: unknown, path: string): boolean => {
    if (isSecure(value)) return true;
    if (typeof value !== "object" || value === null) {
      plain.push(path);
      return false;
    }
    let secure = false;
    for (const [k, v] of Object.entries(value)) secure = walk(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`) || secure;
    return secure;
  };
  const result: string[] = [];
  for (const [key, value] of Object.entries(stackFileConfig)) {
    plain.length = 0;
    if (typeof value === "object" && value !== null && !isSecure(value) && walk(value, key)) result.push(...plain);
  }
  return result;
}
