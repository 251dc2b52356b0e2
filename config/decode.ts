/**
 * The values as Pulumi hands them over, before the schema reads them: decoded from their wire
 * form, with what is wrong there already (other namespaces, secretness, control characters).
 */
import { ConfigProblem, HIDDEN, closeEnough, describeInput, editDistance, expectedShape, keyOf } from "./problems";
import { RawConfig, STRUCTURED_KEYS } from "./schema";
import { SECRET_KEYS, SECRET_MAP_MESSAGES } from "./secrets";

/** Provider namespaces the program uses: their keys are the providers' business, not typos of the project's. */
const PROVIDER_NAMESPACES = ["kubernetes", "cloudflare", "random", "pulumi"];
/** Provider keys that hold credentials, refused in plain text like the project's secret keys. */
export const PROVIDER_SECRET_KEYS = ["cloudflare:apiToken", "cloudflare:apiKey", "cloudflare:apiUserServiceKey"];

export function decodeValues(rawConfig: RawConfig, problems: ConfigProblem[]): Record<string, unknown> {
  const prefix = `${rawConfig.project}:`;
  const decoded: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(rawConfig.values)) {
    if (!fullKey.startsWith(prefix)) {
      problems.push(...otherNamespaceProblems(rawConfig, fullKey));
      continue;
    }
    const key = fullKey.slice(prefix.length);
    const structured = STRUCTURED_KEYS.has(key);
    if (!structured) {
      decoded[key] = text;
      continue;
    }
    try {
      decoded[key] = JSON.parse(text);
    } catch {
      // A secret map given whole (`databaseDsns=postgresql://…`): say how to give it, never what it was.
      const secret = (SECRET_KEYS as readonly string[]).includes(key);
      problems.push({
        key: fullKey,
        message: `${SECRET_MAP_MESSAGES[key] ?? `must be ${expectedShape([key])}`} (got ${secret ? HIDDEN : describeInput(text)})`,
      });
    }
  }
  return decoded;
}

/** A key of another namespace: a provider's, which the program leaves alone, or a misspelt project prefix. */
function otherNamespaceProblems(rawConfig: RawConfig, fullKey: string): ConfigProblem[] {
  const colon = fullKey.indexOf(":");
  const namespace = fullKey.slice(0, colon);
  const rest = fullKey.slice(colon + 1);
  if (PROVIDER_SECRET_KEYS.includes(fullKey) && !rawConfig.secretKeys.includes(fullKey)) {
    return [{ key: fullKey, message: `must be a secret; set it with: pulumi config set --secret ${fullKey} <value>` }];
  }
  if (PROVIDER_NAMESPACES.includes(namespace) || !closeEnough(rawConfig.project, editDistance(namespace, rawConfig.project))) return [];
  return [
    {
      key: fullKey,
      message:
        `unknown namespace "${namespace}" (did you mean "${rawConfig.project}:${rest}"?): the program reads only ${rawConfig.project}: keys ` +
        `and its providers' (${PROVIDER_NAMESPACES.filter((n) => n !== "pulumi").join(", ")}), so this value would be ignored`,
    },
  ];
}

export function secretnessProblems(rawConfig: RawConfig, decoded: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const key of SECRET_KEYS) {
    const fullKey = `${rawConfig.project}:${key}`;
    if (decoded[key] !== undefined && !rawConfig.secretKeys.includes(fullKey)) {
      problems.push({
        key: fullKey,
        message: `must be a secret; set it with: pulumi config set --secret ${STRUCTURED_KEYS.has(key) ? `--path '${key}.<name>'` : key} <value>`,
      });
    }
  }
  // An entry in plain text beside secret ones: Pulumi reports the whole key as secret, the stack file tells.
  for (const path of rawConfig.plainPaths ?? []) {
    const fullKey = /^[^.[]+/.exec(path)?.[0] ?? path;
    const key = fullKey.slice(rawConfig.project.length + 1);
    if (!fullKey.startsWith(`${rawConfig.project}:`) || !(SECRET_KEYS as readonly string[]).includes(key) || path === fullKey) continue;
    if (!rawConfig.secretKeys.includes(fullKey)) continue; // the whole key is refused above
    problems.push({
      key: path,
      message: `must be a secret like the other entries of ${key}; set it with: pulumi config set --secret --path '${path.slice(rawConfig.project.length + 1)}' <value>`,
    });
  }
  return problems;
}

/** Where a line break or control character sits in a text, in words. */
function controlCharacterIn(text: string): string | undefined {
  const m = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.exec(text);
  if (!m) return undefined;
  const char = m[0];
  const what =
    char === "\n" || char === "\r" || char === "\u2028" || char === "\u2029"
      ? "a line break"
      : char === "\t"
        ? "a tab"
        : `the control character U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  return `${what} at character ${m.index + 1}`;
}

/**
 * Line breaks and control characters in any text (values and names): they would end up in
 * config files and object fields that cannot hold them, or silently change what they say.
 */
export function controlCharacterProblems(project: string, decoded: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const walk = (value: unknown, path: PropertyKey[], secret: boolean) => {
    const found = typeof value === "string" ? controlCharacterIn(value) : undefined;
    if (found) {
      problems.push({
        key: keyOf(project, path),
        message: `must be on one line, without control characters; found ${found} (got ${secret ? HIDDEN : describeInput(value)})`,
      });
    }
    if (typeof value !== "object" || value === null) return;
    for (const [k, v] of Object.entries(value)) {
      const name = controlCharacterIn(k);
      if (name) {
        problems.push({ key: keyOf(project, path), message: `has a name with ${name}; names are on one line (got ${describeInput(k)})` });
        continue;
      }
      walk(v, [...path, Array.isArray(value) ? Number(k) : k], secret);
    }
  };
  for (const [key, value] of Object.entries(decoded)) walk(value, [key], (SECRET_KEYS as readonly string[]).includes(key));
  return problems;
}
