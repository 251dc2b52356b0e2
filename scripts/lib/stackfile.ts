/**
 * Reads a stack's config the way the Pulumi CLI hands it to the program: from
 * Pulumi.<stack>.yaml, with `--set` overrides, then Pulumi.yaml's declared defaults
 * applied and its declarations enforced as the CLI does (./project-config.ts).
 * Secure values cannot be decrypted offline; unless `--set` gives them, they
 * become visible placeholders.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { SECRET_KEYS } from "../../config";
import { parseYamlFile } from "./yaml-file";
import { applyProjectConfig, readProjectFile } from "./project-config";

export interface StackConfigInput {
  project: string;
  stack: string;
  config: Record<string, string>;
  secretKeys: string[];
  /** Keys whose secure values were replaced by placeholders. */
  placeholders: string[];
}

export const ROOT = path.resolve(__dirname, "..", "..");

/** The placeholder that stands for a secure value the render cannot decrypt. */
export function placeholderFor(key: string): string {
  const bare = key.replace(/^[^:]+:/, "");
  // Shaped like the real value so validation passes; .invalid is reserved (RFC 2606) and never resolves.
  // Maps of URLs (`slackWebhookUrls.<receiver>`) too.
  if (/urls?$/i.test(bare.split(".")[0])) return `https://placeholder.invalid/secret/${bare}`;
  return `PLACEHOLDER-secret-${bare.replace(/[^a-zA-Z0-9]/g, "-")}`;
}

export function readProjectName(root = ROOT): string {
  return readProjectFile(root).name;
}

function replaceSecure(value: unknown, key: string, placeholders: string[]): { value: unknown; secret: boolean } {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length === 1 && typeof obj.secure === "string") {
      placeholders.push(key);
      return { value: placeholderFor(key), secret: true };
    }
    let secret = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const r = replaceSecure(v, `${key}.${k}`, placeholders);
      out[k] = r.value;
      secret ||= r.secret;
    }
    return { value: out, secret };
  }
  if (Array.isArray(value)) {
    let secret = false;
    const out = value.map((v, i) => {
      const r = replaceSecure(v, `${key}[${i}]`, placeholders);
      secret ||= r.secret;
      return r.value;
    });
    return { value: out, secret };
  }
  return { value, secret: false };
}

/**
 * How the Pulumi CLI passes a config value to the program: strings as they are, everything
 * else as JSON. YAML's .inf has no JSON form; it is passed as 1e999, which reads back as
 * Infinity, so that the program says what it was rather than seeing null.
 */
function toWire(value: unknown): string {
  if (typeof value === "string") return value;
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? `\u0000${v}` : v));
  // The marker starts with a NUL character, which JSON writes as \u0000: no string of the stack file is confused with it.
  return json.replace(/"\\u0000(-?Infinity|NaN)"/g, (_m, n: string) => (n === "NaN" ? "null" : n.startsWith("-") ? "-1e999" : "1e999"));
}

/**
 * A Pulumi config path, as `pulumi config set --path` reads it: names separated by dots,
 * list indices in brackets, names with dots quoted in brackets
 * (`apps[1].port`, `databaseDsns["db.eu"]`).
 */
export function parseConfigPath(text: string): Array<string | number> {
  const parts: Array<string | number> = [];
  const re = /\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.[\]]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < text.length && (m = re.exec(text)) !== null) {
    if (m[1] !== undefined) parts.push(Number(m[1]));
    else if (m[2] !== undefined) parts.push(m[2].replace(/\\(.)/g, "$1"));
    // A name: the first one bare, each later one after a dot.
    else if (m[3] !== undefined && m[0].startsWith(".") === at > 0) parts.push(m[3]);
    else break;
    at = re.lastIndex;
  }
  if (at !== text.length || parts.length === 0 || typeof parts[0] !== "string") {
    throw new Error(`--set: "${text}" is not a config path such as prometheus.retention, apps[1].port or databaseDsns["db.eu"]`);
  }
  return parts;
}

/** The path as placeholders name it: `key.name[1]`. */
function pathText(parts: Array<string | number>): string {
  return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** Sets a value at a path inside a structured value, making maps and lists on the way (a list index may append). */
function setPath(root: unknown, parts: Array<string | number>, value: unknown, shown: string): unknown {
  if (parts.length === 0) return value;
  const [part, ...rest] = parts;
  if (typeof part === "number") {
    const list = root === undefined || root === null ? [] : root;
    if (!Array.isArray(list)) throw new Error(`--set ${shown}: [${part}] indexes a list, but there is a map or a value there`);
    if (part > list.length) {
      throw new Error(
        `--set ${shown}: index ${part} is out of range; the list has ${list.length} entries (an index of ${list.length} appends)`,
      );
    }
    const copy = [...(list as unknown[])];
    copy[part] = setPath(copy[part], rest, value, shown);
    return copy;
  }
  const map = typeof root === "object" && root !== null && !Array.isArray(root) ? { ...(root as Record<string, unknown>) } : {};
  map[part] = setPath(map[part], rest, value, shown);
  return map;
}

/**
 * Reads Pulumi.<stack>.yaml and applies `--set key=value` overrides. A key may omit
 * the project prefix and may be a path into a structured key, as `pulumi config set
 * --path` takes it (`prometheus.retention=10d`, `apps[1].port=8080`); a value is YAML
 * (`apps=[{name: api, url: ...}]`).
 */
export function readStackConfig(stack: string, sets: string[] = [], root = ROOT, stackFile?: string): StackConfigInput {
  const projectFile = readProjectFile(root);
  const project = projectFile.name;
  // Another stack file (an example's) is read as the stack's own: relative paths in it still start at the project.
  const file = stackFile !== undefined ? path.resolve(stackFile) : path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file) && stackFile !== undefined) throw new Error(`no stack file ${stackFile}`);
  if (!fs.existsSync(file)) {
    const stacks = fs
      .readdirSync(root)
      .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .sort();
    throw new Error(
      `no stack file ${path.relative(process.cwd(), file) || file}; ` +
        (stacks.length > 0 ? `the stacks here are: ${stacks.join(", ")}` : "there is no Pulumi.<stack>.yaml here"),
    );
  }
  // A YAML error names the file, its line and its column.
  const shown = path.relative(process.cwd(), file) || file;
  const doc = (parseYamlFile(fs.readFileSync(file, "utf8"), shown) ?? {}) as { config?: Record<string, unknown> };
  const placeholders: string[] = [];
  const values: Record<string, unknown> = {};
  const secret = new Set<string>();
  for (const [key, raw] of Object.entries(doc.config ?? {})) {
    const r = replaceSecure(raw, key, placeholders);
    values[key] = r.value;
    if (r.secret) secret.add(key);
  }

  for (const assignment of sets) {
    const eq = assignment.indexOf("=");
    // Never the value in a message: it may be a secret.
    if (eq < 0) throw new Error(`--set needs key=value, got "${assignment}"`);
    if (eq === 0) throw new Error('--set needs key=value, got "=…" without a key');
    const rawKey = assignment.slice(0, eq);
    const colon = /^[^.[]*:/.test(rawKey) ? rawKey.indexOf(":") : -1;
    const namespace = colon >= 0 ? rawKey.slice(0, colon) : project;
    const [first, ...rest] = parseConfigPath(rawKey.slice(colon + 1));
    const key = `${namespace}:${first}`;
    const value: unknown = YAML.parse(assignment.slice(eq + 1));
    values[key] = rest.length === 0 ? (value ?? "") : setPath(values[key], rest, value, rawKey);
    // What the assignment gives no longer needs a placeholder, nor does anything under it.
    const given = pathText([key, ...rest]);
    for (let i = placeholders.length - 1; i >= 0; i--) {
      const p = placeholders[i];
      if (p === given || p.startsWith(`${given}.`) || p.startsWith(`${given}[`)) placeholders.splice(i, 1);
    }
    if ((SECRET_KEYS as readonly string[]).includes(String(first)) && namespace === project) secret.add(key);
  }

  // What `pulumi preview` and `up` do before the program runs: refuse a stack that lacks a
  // required key or sets one of the wrong type, and fill in the declared defaults.
  const applied = applyProjectConfig(projectFile, stack, values, secret);
  if (applied.error) throw new Error(`${applied.error} (as the Pulumi CLI would report it, from Pulumi.yaml's config declarations)`);

  return {
    project,
    stack,
    config: Object.fromEntries(Object.entries(applied.values).map(([k, v]) => [k, toWire(v)])),
    secretKeys: [...secret].sort(),
    placeholders,
  };
}
