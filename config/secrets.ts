/** The keys whose values must be Pulumi secrets, and the stack file's plain entries beside secret ones. */
import { dnsLabel, nonEmpty, notAMap, secretMapMessage } from "../components/kit/fields";
import { ALERTMANAGER_SECRET_STAND_INS, LEGACY_RECEIVER_SECRETS, ROUTING_SECRETS } from "../components/alertmanager/routing";
import { RECEIVER_SECRET_MAP_MESSAGES } from "../components/alertmanager/receivers";
import { backupSecretStandIns, backupSecrets } from "../components/backup/section";
import { databasesSection } from "../components/database-exporters/section";
import { grafanaSecretStandIns, grafanaSecrets } from "../components/grafana/section";
import { SecretStandIn, textStandIn } from "../components/kit/section";
import { PROMETHEUS_SECRETS, PROMETHEUS_SECRET_STAND_INS, REMOTE_WRITE_PASSWORDS_MESSAGE } from "../components/prometheus/section";
import { REMOTE_WRITE_CLIENT_KEYS_MESSAGE } from "../components/prometheus/remote-write";
import { LOG_COLLECTOR_SECRETS } from "../components/log-collector/section";
import { BASIC_AUTH_PASSWORDS_MESSAGE, traefikSecretStandIns, traefikSecrets } from "../components/traefik/section";
import { z } from "zod";

/** What a secret map takes, and how to give it: entry by entry, by path (each component's maps say their own). */
export const SECRET_MAP_MESSAGES: Record<string, string> = {
  ...databasesSection.secretMessages,
  remoteWritePasswords: REMOTE_WRITE_PASSWORDS_MESSAGE,
  remoteWriteClientKeys: REMOTE_WRITE_CLIENT_KEYS_MESSAGE,
  basicAuthPasswords: BASIC_AUTH_PASSWORDS_MESSAGE,
  ...RECEIVER_SECRET_MAP_MESSAGES,
  targetCredentials: secretMapMessage("targetCredentials", "target name", "token or password"),
};

/** Keys whose values must be Pulumi secrets: the components' sections' own, and config's, in this order. */
export const secretKeySchemas = {
  ...grafanaSecrets,
  ...LEGACY_RECEIVER_SECRETS,
  databaseDsns: databasesSection.secrets.databaseDsns,
  ...PROMETHEUS_SECRETS,
  ...LOG_COLLECTOR_SECRETS,
  ...traefikSecrets,
  ...ROUTING_SECRETS,
  targetCredentials: z.record(dnsLabel, nonEmpty("a token or password"), notAMap(SECRET_MAP_MESSAGES.targetCredentials)),
  ...backupSecrets,
};

export const SECRET_KEYS = Object.keys(secretKeySchemas) as ReadonlyArray<keyof typeof secretKeySchemas>;

/**
 * What the offline render stands in for each secret key's value when the stack file's is encrypted
 * (cli/stackfile.ts): each declared beside its key's schema, which takes it. The type asks
 * one of every key: a secret key without its stand-in does not compile.
 */
export const SECRET_STAND_INS: { readonly [K in keyof typeof secretKeySchemas]: SecretStandIn } = {
  ...grafanaSecretStandIns,
  ...ALERTMANAGER_SECRET_STAND_INS,
  ...databasesSection.standIns,
  ...PROMETHEUS_SECRET_STAND_INS,
  externalLokiPassword: textStandIn,
  ...traefikSecretStandIns,
  targetCredentials: textStandIn,
  ...backupSecretStandIns,
};

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
