/** The keys whose values must be Pulumi secrets, and the stack file's plain entries beside secret ones. */
import { z } from "zod";
import { BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE, dnsLabel, httpUrl, matching, nonEmpty, notAMap } from "../components/kit/fields";
import { PROMETHEUS_SECRETS, REMOTE_WRITE_PASSWORDS_MESSAGE } from "../components/prometheus/section";

/** The secret maps config still holds: what each takes, and how to give it. */
const CONFIG_SECRET_MAP_MESSAGES: Record<string, string> = Object.fromEntries(
  [
    ["databaseDsns", "database name", "DSN"],
    ["basicAuthPasswords", "user", "password"],
    ["slackWebhookUrls", "receiver", "Slack webhook URL"],
    ["discordWebhookUrls", "receiver", "Discord webhook URL"],
    ["webhookUrls", "receiver", "webhook URL"],
    ["targetCredentials", "target name", "token or password"],
  ].map(([key, name, value]) => [
    key,
    `must be a map of ${name} to ${value}, set one entry at a time: pulumi config set --secret --path '${key}.<${name.replace(/ /g, "-")}>' <value>`,
  ]),
);

/** What a secret map takes, and how to give it: entry by entry, by path (the components' maps say their own). */
export const SECRET_MAP_MESSAGES: Record<string, string> = {
  ...CONFIG_SECRET_MAP_MESSAGES,
  remoteWritePasswords: REMOTE_WRITE_PASSWORDS_MESSAGE,
};

/** Keys whose values must be Pulumi secrets. */
export const secretKeySchemas = {
  grafanaAdminPassword: z.string({ error: "must be a password" }).min(12, "must be at least 12 characters"),
  grafanaDatabasePassword: nonEmpty("a password"),
  discordWebhookUrl: httpUrl,
  discordCriticalWebhookUrl: httpUrl,
  webhookUrl: httpUrl,
  deadMansSwitchUrl: httpUrl,
  databaseDsns: z.record(dnsLabel, nonEmpty("a DSN"), notAMap(SECRET_MAP_MESSAGES.databaseDsns)),
  ...PROMETHEUS_SECRETS,
  basicAuthPasswords: z.record(
    matching(BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE),
    z
      .string({ error: "must be a password" })
      .min(12, "must be at least 12 characters")
      // bcrypt reads the first 72 bytes only: a longer password would be accepted on its prefix.
      .refine((p) => Buffer.byteLength(p, "utf8") <= 72, { message: "must be at most 72 bytes (bcrypt ignores the rest)" }),
    notAMap(SECRET_MAP_MESSAGES.basicAuthPasswords),
  ),
  slackWebhookUrls: z.record(dnsLabel, httpUrl, notAMap(SECRET_MAP_MESSAGES.slackWebhookUrls)),
  discordWebhookUrls: z.record(dnsLabel, httpUrl, notAMap(SECRET_MAP_MESSAGES.discordWebhookUrls)),
  webhookUrls: z.record(dnsLabel, httpUrl, notAMap(SECRET_MAP_MESSAGES.webhookUrls)),
  smtpPassword: nonEmpty("a password"),
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
