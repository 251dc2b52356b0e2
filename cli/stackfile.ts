/**
 * Reads a stack's config the way the Pulumi CLI hands it to the program: from
 * Pulumi.<stack>.yaml (a key without a namespace the project's, as the CLI reads it), with `--set` overrides, then Pulumi.yaml's declared defaults
 * applied and its declarations enforced as the CLI does (./project-config.ts).
 * Secure values cannot be decrypted offline; unless `--set` or a secrets file gives them, each
 * is stood in by a value its key's own checks take (config's SECRET_STAND_INS), and named.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { SECRET_KEYS, SECRET_STAND_INS } from "../config";
import { PROVIDER_SECRET_KEYS } from "../config/decode";
import { parseYamlFile } from "./yaml-file";
import { namespacedStackConfig } from "../preflight/stack-file";
import { applyProjectConfig, readProjectFile } from "./project-config";

export interface StackConfigInput {
  project: string;
  stack: string;
  config: Record<string, string>;
  secretKeys: string[];
  /** Keys whose secure values were stood in (standInFor), as `pulumi config set --path` names them. */
  placeholders: string[];
}

export const ROOT = path.resolve(__dirname, "..");

/**
 * The placeholder for a secure value of a key that declares no stand-in (a provider's, such as
 * cloudflare:apiToken, or a key that is not secret): a URL where the key's name says it is one.
 */
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

/**
 * What the render stands in for the secure value at a path (`["monitoring:databaseDsns", "orders"]`),
 * given the stack's values: the stand-in its secret key declares (config's SECRET_STAND_INS), which
 * the key's own checks take; placeholderFor's for any other key.
 */
export function standInFor(project: string, parts: ReadonlyArray<string | number>, values: Readonly<Record<string, unknown>>): string {
  const [fullKey, ...rest] = parts;
  const prefix = `${project}:`;
  const name = String(fullKey).startsWith(prefix) ? String(fullKey).slice(prefix.length) : undefined;
  const standIn =
    name !== undefined && Object.hasOwn(SECRET_STAND_INS, name) ? SECRET_STAND_INS[name as keyof typeof SECRET_STAND_INS] : undefined;
  // The key itself, or one entry of a secret map: what the stand-ins are made for.
  if (standIn && (rest.length === 0 || (rest.length === 1 && typeof rest[0] === "string"))) {
    const stack = Object.fromEntries(
      Object.entries(values).flatMap(([k, v]) => (k.startsWith(prefix) ? [[k.slice(prefix.length), v]] : [])),
    );
    return standIn({ key: pathText(parts).slice(prefix.length), ...(rest.length === 1 ? { entry: String(rest[0]) } : {}), stack });
  }
  return placeholderFor(pathText(parts));
}

/** A stack file's value with each secure value left out (undefined), and the paths of those. */
function findSecure(
  value: unknown,
  parts: Array<string | number>,
  found: Array<Array<string | number>>,
): { value: unknown; secret: boolean } {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length === 1 && typeof obj.secure === "string") {
      found.push(parts);
      return { value: undefined, secret: true };
    }
    let secret = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const r = findSecure(v, [...parts, k], found);
      out[k] = r.value;
      secret ||= r.secret;
    }
    return { value: out, secret };
  }
  if (Array.isArray(value)) {
    let secret = false;
    const out = value.map((v, i) => {
      const r = findSecure(v, [...parts, i], found);
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
export function parseConfigPath(text: string, source = "--set"): Array<string | number> {
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
    throw new Error(`${source}: "${text}" is not a config path such as prometheus.retention, apps[1].port or databaseDsns["db.eu"]`);
  }
  return parts;
}

/** The path as stand-ins are named: `key.name[1]`. */
function pathText(parts: ReadonlyArray<string | number>): string {
  return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** Sets a value at a path inside a structured value, making maps and lists on the way (a list index may append). */
function setPath(root: unknown, parts: ReadonlyArray<string | number>, value: unknown, shown: string): unknown {
  if (parts.length === 0) return value;
  const [part, ...rest] = parts;
  if (typeof part === "number") {
    const list = root === undefined || root === null ? [] : root;
    if (!Array.isArray(list)) throw new Error(`${shown}: [${part}] indexes a list, but there is a map or a value there`);
    if (part > list.length) {
      throw new Error(`${shown}: index ${part} is out of range; the list has ${list.length} entries (an index of ${list.length} appends)`);
    }
    const copy = [...(list as unknown[])];
    copy[part] = setPath(copy[part], rest, value, shown);
    return copy;
  }
  const map = typeof root === "object" && root !== null && !Array.isArray(root) ? { ...(root as Record<string, unknown>) } : {};
  map[part] = setPath(map[part], rest, value, shown);
  return map;
}

/** What `--secrets-file` reads it from: `key: value` lines, each key a config path as `--set` takes it. */
export const SECRETS_FILE_EXAMPLE = "databaseDsns.orders: postgresql://…";

/**
 * A secrets file (`--secrets-file`): a YAML map of config paths to values, as `--set` takes them
 * (`databaseDsns.orders: postgresql://…`, `smtpPassword: …`). A message about it never shows a
 * value: not YAML's own, which quotes the line it stopped at.
 */
export function readSecretsFile(file: string): Array<[string, unknown]> {
  if (!fs.existsSync(file)) throw new Error(`--secrets-file: no file ${file}`);
  const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    throw new Error(`--secrets-file ${file}: not YAML${at ? ` at line ${at.line}, column ${at.col}` : ""} (${error.code})`);
  }
  const map = doc.toJS() as unknown;
  if (map === null || map === undefined) return [];
  if (typeof map !== "object" || Array.isArray(map)) {
    throw new Error(`--secrets-file ${file}: must be a map of config keys to values, such as ${SECRETS_FILE_EXAMPLE}`);
  }
  return Object.entries(map as Record<string, unknown>);
}

/**
 * Why a secrets file should not be read as it is, or undefined: its mode lets others than its owner
 * read it (group or others), as `chmod 600` would not.
 */
export function secretsFileWarning(file: string): string | undefined {
  if (process.platform === "win32" || !fs.existsSync(file)) return undefined;
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o044) === 0) return undefined;
  const who = [(mode & 0o040) !== 0 ? "its group" : "", (mode & 0o004) !== 0 ? "every user of this machine" : ""]
    .filter(Boolean)
    .join(" and ");
  return `--secrets-file ${file}: ${who} can read it (mode ${mode.toString(8).padStart(4, "0")}); make it yours alone: chmod 600 ${file}`;
}

/** The line of a secrets file that gives the value at a config path, as `--set` names it: `smtpPassword: <value>`. */
export function secretsFileLine(rawKey: string): string {
  // A key YAML reads bare (`apps[0].token`, `cloudflare:apiToken`); any other quoted.
  const key = /^[A-Za-z][A-Za-z0-9_.:[\]-]*$/.test(rawKey) ? rawKey : JSON.stringify(rawKey);
  return `${key}: <value>`;
}

/**
 * The offline render's way to give the secrets a refusal asks for: each secret its messages say to
 * set with `pulumi config set --secret`, as the line of a secrets file that gives it (secretsFileLine),
 * after the file's own instructions; undefined when they ask for none. A value refused for being in
 * plain text ("must be a secret") is left out: its fix is in the stack file.
 */
export function secretsFileHint(text: string): string | undefined {
  const keys = new Set<string>();
  for (const line of text.split("\n")) {
    if (/: must be a secret/.test(line)) continue;
    for (const m of line.matchAll(/pulumi config set --secret (?:--path '([^']+)'|([A-Za-z][\w:.-]*))/g)) keys.add(m[1] ?? m[2]);
  }
  if (keys.size === 0) return undefined;
  return (
    "Or, for the offline render alone, give them in a file only you can read (chmod 600 <file>) with --secrets-file <file>, " +
    `holding the lines:\n${[...keys].map((key) => `  ${secretsFileLine(key)}`).join("\n")}`
  );
}

/** What readStackConfig does with the assignments it is given. */
export interface StackConfigOptions {
  /**
   * Refuse a `--set` of a key marked secret (a secret key of the project or a provider's
   * credential, or a path the stack file holds as `secure:`): a command line is what npm echoes
   * and the shell keeps. The commands set it; the tests and the lab, whose `sets` no one types, do not.
   */
  refuseSecretSets?: boolean;
}

/**
 * Reads Pulumi.<stack>.yaml and applies `--set key=value` overrides, then the secrets given apart
 * (`--secrets-file`: `[key, value]` pairs, each value a secret). A key may omit the project prefix
 * and may be a path into a structured key, as `pulumi config set --path` takes it
 * (`prometheus.retention=10d`, `apps[1].port=8080`); a value is YAML (`apps=[{name: api, url: ...}]`).
 * A secure value that neither gives is stood in (standInFor).
 */
export function readStackConfig(
  stack: string,
  sets: string[] = [],
  root = ROOT,
  stackFile?: string,
  secrets: ReadonlyArray<readonly [string, unknown]> = [],
  options: StackConfigOptions = {},
): StackConfigInput {
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
  let secure: Array<Array<string | number>> = [];
  const values: Record<string, unknown> = {};
  const secret = new Set<string>();
  // A key without a namespace is the project's, as the Pulumi CLI reads it (namespacedStackConfig).
  const { config: stackConfig, twice } = namespacedStackConfig(project, doc.config ?? {});
  if (twice.length > 0) {
    const bare = (k: string) => k.slice(project.length + 1);
    throw new Error(
      `${shown}: ${twice.map((k) => `${k} is written twice, as ${bare(k)} and as ${k}`).join("; ")}: ` +
        `the Pulumi CLI reads one or the other from run to run; keep one`,
    );
  }
  for (const [key, raw] of Object.entries(stackConfig)) {
    const r = findSecure(raw, [key], secure);
    values[key] = r.value;
    if (r.secret) secret.add(key);
  }

  const markedSecure = secure.map(pathText);
  /** The refusal of a `--set` of a key marked secret, naming the line of a secrets file that gives it instead. */
  const refuseSecretSet = (rawKey: string) => {
    const colon = /^[^.[]*:/.test(rawKey) ? rawKey.indexOf(":") : -1;
    const namespace = colon >= 0 ? rawKey.slice(0, colon) : project;
    const [first, ...rest] = parseConfigPath(rawKey.slice(colon + 1), "--set");
    const full = `${namespace}:${first}`;
    const given = pathText([full, ...rest]);
    const secret =
      (namespace === project && (SECRET_KEYS as readonly string[]).includes(String(first))) ||
      PROVIDER_SECRET_KEYS.includes(full) ||
      markedSecure.some((p) => p === given || p.startsWith(`${given}.`) || p.startsWith(`${given}[`) || given.startsWith(`${p}.`));
    if (!secret) return;
    throw new Error(
      `--set ${rawKey}: ${given} is a secret, and a command line is echoed by npm and kept in the shell's history. ` +
        `Give it in a secrets file that only you can read (chmod 600 <file>), with the line\n  ${secretsFileLine(rawKey)}\n` +
        `and --secrets-file <file> in place of this --set.`,
    );
  };

  const assign = (rawKey: string, value: unknown, source: string, isSecret: boolean) => {
    const colon = /^[^.[]*:/.test(rawKey) ? rawKey.indexOf(":") : -1;
    const namespace = colon >= 0 ? rawKey.slice(0, colon) : project;
    const [first, ...rest] = parseConfigPath(rawKey.slice(colon + 1), source);
    const key = `${namespace}:${first}`;
    values[key] = rest.length === 0 ? (value ?? "") : setPath(values[key], rest, value, `${source} ${rawKey}`);
    // What the assignment gives needs no stand-in, nor does anything under it.
    const given = pathText([key, ...rest]);
    secure = secure.filter((parts) => {
      const p = pathText(parts);
      return !(p === given || p.startsWith(`${given}.`) || p.startsWith(`${given}[`));
    });
    if (isSecret || ((SECRET_KEYS as readonly string[]).includes(String(first)) && namespace === project)) secret.add(key);
  };
  for (const assignment of sets) {
    const eq = assignment.indexOf("=");
    // Never the value in a message: it may be a secret.
    if (eq < 0) throw new Error(`--set needs key=value, got "${assignment}"`);
    if (eq === 0) throw new Error('--set needs key=value, got "=…" without a key');
    if (options.refuseSecretSets) refuseSecretSet(assignment.slice(0, eq));
    assign(assignment.slice(0, eq), YAML.parse(assignment.slice(eq + 1)) as unknown, "--set", false);
  }
  // Every value of a secrets file is a secret, as `pulumi config set --secret` makes it.
  for (const [key, value] of secrets) assign(key, value, "--secrets-file", true);

  // The stand-ins last: a DSN's takes the kind of its database as the stack finally gives it.
  for (const parts of secure) {
    const [key, ...rest] = parts;
    values[key] = setPath(values[key], rest, standInFor(project, parts, values), pathText(parts));
  }
  const placeholders = secure.map(pathText);

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
