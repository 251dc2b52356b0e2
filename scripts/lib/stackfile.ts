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
import { SECRET_KEYS } from "../../components/config";
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
  if (/url$/i.test(bare.split(".")[0])) return `https://placeholder.invalid/secret/${bare}`;
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

/** How the Pulumi CLI passes a config value to the program: strings as they are, everything else as JSON. */
function toWire(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function setPath(target: Record<string, unknown>, parts: string[], value: unknown): void {
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/**
 * Reads Pulumi.<stack>.yaml and applies `--set key=value` overrides. A key may omit
 * the project prefix and may be a dotted path into a structured key
 * (`prometheus.retention=10d`); a value is YAML (`apps=[{name: api, url: ...}]`).
 */
export function readStackConfig(stack: string, sets: string[] = [], root = ROOT): StackConfigInput {
  const projectFile = readProjectFile(root);
  const project = projectFile.name;
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`no stack file ${path.relative(process.cwd(), file) || file}`);
  const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
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
    if (eq <= 0) throw new Error(`--set needs key=value, got "${assignment}"`);
    const rawKey = assignment.slice(0, eq);
    const fullPath = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    const colon = fullPath.indexOf(":");
    const [first, ...rest] = fullPath.slice(colon + 1).split(".");
    const key = `${fullPath.slice(0, colon)}:${first}`;
    const value: unknown = YAML.parse(assignment.slice(eq + 1));
    if (rest.length === 0) {
      values[key] = value ?? "";
    } else {
      const current = values[key];
      const base =
        typeof current === "object" && current !== null && !Array.isArray(current) ? { ...(current as Record<string, unknown>) } : {};
      setPath(base, rest, value);
      values[key] = base;
    }
    const index = placeholders.findIndex((p) => p === `${key}${rest.length ? `.${rest.join(".")}` : ""}`);
    if (index >= 0) placeholders.splice(index, 1);
    if ((SECRET_KEYS as readonly string[]).includes(first) && key.startsWith(`${project}:`)) secret.add(key);
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
