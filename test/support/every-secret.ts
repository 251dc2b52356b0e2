/**
 * Stack files that give every secret key (SECRET_KEYS, and the provider's cloudflare:apiToken) in
 * config that uses it: the production stack file with databases of every kind, remote writes,
 * targets with credentials, Grafana's own database, basic-auth users, and either the legacy
 * receiver keys (the default tree) or a team's routing (SEALED_ROUTING): the two exclude each other.
 * The tests of the offline render's stand-ins encrypt each secret and render them.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ROOT } from "../../cli/stackfile";
import { DATABASE_TYPES } from "../../components/kit/database-exporters";
import { DATABASE_KINDS } from "../../components/database-exporters/kinds";
import { SEALED_ROUTING, SEALED_ROUTING_SECRETS, sweptValue } from "./sealed-routing";
import { SEALED_SIGN_IN, SEALED_SIGN_IN_SECRETS } from "./sealed-sign-in";

/** base64 of a PEM client certificate (no real one: the render only carries it), for the remote write whose key is swept. */
export const SEALED_CLIENT_CERT = Buffer.from(
  "-----BEGIN CERTIFICATE-----\nMIIBsealedClientCertificate\n-----END CERTIFICATE-----\n",
).toString("base64");

/** A value for remoteWriteClientKeys: base64 of a PEM-shaped private key that carries `mark` (decoded, where the Secret holds it). */
export function sealedClientKey(mark: string): string {
  return Buffer.from(`-----BEGIN PRIVATE KEY-----\n${mark}\n-----END PRIVATE KEY-----\n`).toString("base64");
}

/** A database of each kind (DATABASE_KINDS), its DSN given as the secret databaseDsns.<name>: a new kind is swept with no change here. */
export const SEALED_DATABASES = DATABASE_TYPES.map((type) => ({ name: `sealed-${type}`, type, mode: "standalone" as const }));

/** Plain config over the production stack file that reads the secrets below (test/scenarios/sealed.test.ts's too). */
export const COMMON_CONFIG: Record<string, unknown> = {
  "monitoring:databases": SEALED_DATABASES,
  "monitoring:targets": [
    { name: "minio", url: "https://minio.example.com:9000/minio/v2/metrics/cluster", auth: { bearerToken: true } },
    { name: "billing", namespace: "billing", service: "billing-worker", port: "metrics", auth: { username: "prometheus" } },
  ],
  "monitoring:grafana": {
    database: { type: "postgres", host: "db.example.com:5432", name: "grafana", user: "grafana" },
    // Every sign-in provider, each restricted (production); Grafana is published by the production file's tunnel.
    signIn: SEALED_SIGN_IN,
  },
  "monitoring:prometheus": {
    remoteWrite: [
      // With a client certificate: its key is remoteWriteClientKeys.mimir.
      { name: "mimir", url: "https://mimir.example.com/api/v1/push", username: "tenant-1", tls: { clientCertData: SEALED_CLIENT_CERT } },
      { name: "thanos", url: "https://thanos.example.com/api/v1/receive", bearerToken: true },
    ],
  },
  // The stack's pod logs also to a Loki outside the cluster: its password is externalLokiPassword.
  "monitoring:logCollector": {
    externalLoki: { url: "https://logs.example.com/loki/api/v1/push", tenant: "production", username: "shipper" },
  },
  "monitoring:traefik": {
    enabled: true,
    entryPoints: ["websecure"],
    expose: ["prometheus", "alertmanager"],
    basicAuthUsers: ["admin", "ops"],
  },
  // Backups to an R2 bucket: the key pair's two secrets.
  "monitoring:backup": { enabled: true, bucket: "monitoring-backups", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com" },
  // Loki's chunks and index in an R2 bucket: its key pair's two secrets.
  "monitoring:loki": {
    objectStore: { bucket: "monitoring-logs", endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com", from: "2027-01-01" },
  },
};

/** The secrets both variants give, as `pulumi config set --path` names them (a provider's with its namespace). */
const COMMON_SECRETS = [
  "grafanaAdminPassword",
  "grafanaDatabasePassword",
  ...SEALED_SIGN_IN_SECRETS.map((secret) => secret.path),
  ...SEALED_DATABASES.map((db) => `databaseDsns.${db.name}`),
  "remoteWritePasswords.mimir",
  "remoteWritePasswords.thanos",
  "remoteWriteClientKeys.mimir",
  "externalLokiPassword",
  "basicAuthPasswords.admin",
  "basicAuthPasswords.ops",
  "targetCredentials.minio",
  "targetCredentials.billing",
  "deadMansSwitchUrl",
  "backupAccessKeyId",
  "backupSecretAccessKey",
  "lokiAccessKeyId",
  "lokiSecretAccessKey",
  "cloudflare:apiToken",
];

export interface SecretVariant {
  name: string;
  /** Plain config by full key, over the production stack file's. */
  config: Record<string, unknown>;
  /** The secret paths it gives (`databaseDsns.shop-postgres`; `cloudflare:apiToken`). */
  secrets: string[];
}

export const SECRET_VARIANTS: SecretVariant[] = [
  {
    name: "default-tree",
    config: COMMON_CONFIG,
    secrets: [...COMMON_SECRETS, "discordWebhookUrl", "discordCriticalWebhookUrl", "webhookUrl"],
  },
  {
    name: "routing",
    config: { ...COMMON_CONFIG, "monitoring:alertmanager": SEALED_ROUTING },
    secrets: [...COMMON_SECRETS, ...SEALED_ROUTING_SECRETS.map((secret) => secret.path)],
  },
];

/** The top-level key of a secret path: `databaseDsns.shop-postgres` -> `databaseDsns`; a provider's stays whole. */
export function topKey(secretPath: string): string {
  return secretPath.includes(":") ? secretPath : secretPath.split(".")[0];
}

/**
 * A value for a secret path that carries `mark` (letters and digits) whole, of the form its key
 * takes: a DSN of its database's kind (the kind's dsnExample, on an example host, `mark` its
 * password), a PEM key for a remote write's client key, a receiver's or a sign-in provider's
 * secret as its schema takes it, a URL for a *Url key, else the mark itself.
 */
export function sealedValue(secretPath: string, mark: string): string {
  const db = SEALED_DATABASES.find((d) => secretPath === `databaseDsns.${d.name}`);
  if (db) {
    const kind = DATABASE_KINDS[db.type];
    const dsn = kind.dsnExample.replace(/\bhost\b/, "db.example.com").replace("password", mark);
    if (!dsn.includes(mark) || !kind.dsnPattern.test(dsn)) throw new Error(`${kind.dsnExample}: no password to stand the mark in for`);
    return dsn;
  }
  if (secretPath.startsWith("remoteWriteClientKeys.")) return sealedClientKey(mark);
  const swept = [...SEALED_ROUTING_SECRETS, ...SEALED_SIGN_IN_SECRETS].find((secret) => secret.path === secretPath);
  if (swept) return sweptValue(swept, mark);
  return /url/i.test(topKey(secretPath)) ? `https://hooks.example.com/${mark}` : mark;
}

/** The production stack file's config with a variant's plain config over it (sections merged key by key). */
export function plainConfig(variant: SecretVariant): Record<string, unknown> {
  const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.production.yaml"), "utf8")) as { config: Record<string, unknown> };
  const config: Record<string, unknown> = { ...doc.config };
  const isMap = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  for (const [key, value] of Object.entries(variant.config)) {
    const own = config[key];
    config[key] = isMap(own) && isMap(value) ? { ...(own as object), ...(value as object) } : value;
  }
  return config;
}

/** plainConfig with each of the variant's secrets as a `secure:` value that the offline render cannot decrypt (it stands one in). */
export function encryptedConfig(variant: SecretVariant): Record<string, unknown> {
  const config = plainConfig(variant);
  for (const p of variant.secrets) {
    const [first, ...rest] = p.includes(":") ? [p] : [`monitoring:${topKey(p)}`, ...p.split(".").slice(1)];
    const secure = { secure: "v1:ciphertext-the-render-cannot-decrypt" };
    config[first] = rest.length === 0 ? secure : { ...(config[first] as Record<string, unknown>), [rest.join(".")]: secure };
  }
  return config;
}
