/**
 * The secrets of a render's reviewed files (alertmanager.yml): each secret config value masked by
 * the key it comes from, so that a reviewer diffs the file without seeing a secret.
 */
import * as YAML from "yaml";
import { ALERTMANAGER_SECRET_STAND_INS } from "../components/alertmanager/routing";

/** How the render writes YAML: no folded lines, no anchors. */
export const yamlOptions: YAML.ToStringOptions = { lineWidth: 0, aliasDuplicateObjects: false } as YAML.ToStringOptions;

/**
 * Config files kept in a Secret that a reviewer most wants to diff, rendered with each secret
 * value masked instead of redacted whole. Only files whose every secret is a config value
 * qualify: a generated one (a random password) would not be masked.
 */
export const MASKED_SECRET_FILES = ["alertmanager/alertmanager.yml"];

/** A secret config value and the key it comes from (`slackWebhookUrls.deployment`, `smtpPassword`). */
export interface SecretConfigValue {
  key: string;
  value: string;
}

/** What stands for a secret value in a masked file: a URL where the value is one, so that the file still checks. */
export function maskFor(secret: SecretConfigValue): string {
  return /^https?:\/\//.test(secret.value) ? `https://masked.invalid/secret/${secret.key}` : `<secret: ${secret.key}>`;
}

/**
 * A YAML file with every scalar that is a secret config value replaced by its mask; undefined
 * when a secret value would still show (inside a longer text), so that the caller redacts it whole.
 */
export function maskSecrets(content: string, secrets: readonly SecretConfigValue[], ownKeys: readonly string[] = []): string | undefined {
  const doc = YAML.parseDocument(content);
  YAML.visit(doc, {
    Scalar(_key, node, path) {
      const found = secrets.filter((s) => s.value === node.value);
      if (found.length === 0) return;
      // Two secrets may hold the same value (a PagerDuty key equal to a backup key id): the one
      // meant here is the enclosing receiver's, else one of the file's own keys.
      const receiver = receiverNameOf(path);
      const rank = (s: SecretConfigValue) =>
        (receiver !== undefined && s.key.endsWith(`.${receiver}`) ? 2 : 0) + (ownKeys.includes(s.key.split(".")[0]) ? 1 : 0);
      const best = found.reduce((a, b) => (rank(b) > rank(a) ? b : a));
      node.value = maskFor(best);
    },
  });
  const masked = doc.toString(yamlOptions);
  return secrets.some((s) => s.value !== "" && masked.includes(s.value)) ? undefined : masked;
}

/** The name of the Alertmanager receiver a YAML node is in (`receivers[i]`'s `name`), if any. */
function receiverNameOf(path: readonly unknown[]): string | undefined {
  const at = path.findIndex((n) => YAML.isPair(n) && YAML.isScalar(n.key) && n.key.value === "receivers");
  const receiver = at >= 0 ? path[at + 2] : undefined;
  const name = YAML.isMap(receiver) ? receiver.get("name") : undefined;
  return typeof name === "string" ? name : undefined;
}

/** The secret keys alertmanager.yml may hold: the receivers' maps, the legacy receivers, the mail server's password. */
export const ALERTMANAGER_SECRET_KEYS: readonly string[] = Object.keys(ALERTMANAGER_SECRET_STAND_INS);

/** The secret keys each of the MASKED_SECRET_FILES may hold: where two secrets share a value, its own is the one meant. */
export const MASKED_FILE_KEYS: Partial<Record<string, readonly string[]>> = { "alertmanager/alertmanager.yml": ALERTMANAGER_SECRET_KEYS };

/** The secret values of a stack's config, entries of secret maps one by one, keyed as `pulumi config set --path` names them. */
export function secretConfigValues(project: string, config: Record<string, string>, secretKeys: readonly string[]): SecretConfigValue[] {
  const out: SecretConfigValue[] = [];
  for (const fullKey of secretKeys) {
    const text = config[fullKey];
    if (text === undefined) continue;
    const key = fullKey.startsWith(`${project}:`) ? fullKey.slice(project.length + 1) : fullKey;
    let parsed: unknown = undefined;
    if (text.startsWith("{")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (typeof parsed === "object" && parsed !== null) {
      for (const [name, value] of Object.entries(parsed)) if (typeof value === "string") out.push({ key: `${key}.${name}`, value });
    } else {
      out.push({ key, value: text });
    }
  }
  // The longest first: a value inside a longer one is masked within it, never the other way round.
  return out.sort((a, b) => b.value.length - a.value.length);
}
