/**
 * What the Pulumi CLI does with the `config:` block of Pulumi.yaml before it runs the
 * program, so that the offline render runs the program with the config `pulumi up`
 * would hand it. Ported from the Pulumi CLI (sdk/go/common/workspace, v3.259):
 * `RewriteShorthandConfigValues` and `Project.Validate` (project.go), `mergeConfig`
 * behind `ValidateStackConfigAndApplyProjectConfig` and `validateStackConfigValue`
 * (config.go), `ValidateConfigValue` (project.go).
 *
 * - A key of the project's namespace declared without `default` (or `value`) is
 *   REQUIRED: a stack file that does not set it stops `pulumi preview` and `up`
 *   ("Stack 'staging' is missing configuration value 'domain'") before the program runs.
 * - A declared `default` (or `value`) is written into the stack's config when the stack
 *   does not set the key, so the program sees it like any other value.
 * - A typed key's stack value must have that type; scalar stack values reach the check
 *   as strings, so a `boolean` accepts `true`/`false` only and a `string` accepts any
 *   scalar. A `secret: true` key must be set with `--secret`.
 */
import * as fs from "fs";
import * as path from "path";
import { parseYamlFile } from "./yaml-file";

/** One declaration of Pulumi.yaml's `config:` block, after the CLI's shorthand rewrite. */
export interface ProjectConfigType {
  type?: string;
  description?: string;
  items?: ProjectConfigItemsType;
  default?: unknown;
  value?: unknown;
  secret?: boolean;
}
export interface ProjectConfigItemsType {
  type: string;
  items?: ProjectConfigItemsType;
}

export interface ProjectFile {
  name: string;
  /** Declarations by key as written (`namespace`, `monitoring:namespace`, `kubernetes:context`). */
  config: Record<string, ProjectConfigType>;
}

/** A stack's config values by full key, as decoded from Pulumi.<stack>.yaml (secure values already replaced). */
export type StackValues = Record<string, unknown>;

const isPrimitive = (v: unknown) => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isInteger(v));

/** Reads Pulumi.yaml and rewrites shorthand entries (`key: value`) as the CLI does. */
export function readProjectFile(root: string): ProjectFile {
  const file = path.join(root, "Pulumi.yaml");
  const doc = parseYamlFile(fs.readFileSync(file, "utf8"), path.relative(process.cwd(), file) || file) as {
    name?: string;
    config?: unknown;
  } | null;
  if (!doc?.name) throw new Error("Pulumi.yaml has no project name");
  const config: Record<string, ProjectConfigType> = {};
  if (doc.config !== undefined && doc.config !== null) {
    if (typeof doc.config !== "object" || Array.isArray(doc.config)) {
      throw new Error("Pulumi.yaml: `config` must map keys to declarations (a path to a config directory is stackConfigDir)");
    }
    for (const [key, entry] of Object.entries(doc.config as Record<string, unknown>)) {
      // RewriteShorthandConfigValues: a scalar or list is a default (project keys) or a value (other namespaces).
      if (isPrimitive(entry) || Array.isArray(entry)) {
        config[key] = namespacedByProject(doc.name, key) ? { default: entry } : { value: entry };
      } else {
        config[key] = (entry ?? {}) as ProjectConfigType;
      }
    }
  }
  return { name: doc.name, config };
}

/** `configKeyIsNamespacedByProject`: `domain` and `monitoring:domain` are; `kubernetes:context` is not. */
export function namespacedByProject(project: string, key: string): boolean {
  return !key.includes(":") || key.startsWith(`${project}:`);
}

/** The full key of a declaration: `domain` -> `monitoring:domain`. */
export function fullKey(project: string, key: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

/** `InferFullTypeName`. */
function typeName(type: string, items?: ProjectConfigItemsType): string {
  return items ? `array<${typeName(items.type, items.items)}>` : type;
}

/** `ValidateConfigValue`: whether a value (as the CLI holds it) has the declared type. */
export function validateConfigValue(type: string, items: ProjectConfigItemsType | undefined, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      if (typeof value === "number") return Number.isInteger(value);
      return typeof value === "string" && /^[+-]?\d+$/.test(value);
    case "boolean":
      return value === true || value === false || value === "true" || value === "false";
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    default:
      return Array.isArray(value) && items !== undefined && value.every((v) => validateConfigValue(items.type, items.items, v));
  }
}

/** `Project.Validate`: declarations the CLI refuses when it loads the project. */
export function projectConfigProblems(project: ProjectFile): string[] {
  const problems: string[] = [];
  for (const [key, decl] of Object.entries(project.config)) {
    if (decl.default !== undefined && decl.value !== undefined) {
      problems.push(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
    }
    if (namespacedByProject(project.name, key)) {
      if (decl.type === "array" && decl.items === undefined) {
        problems.push(
          `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
        );
      }
      if (decl.type !== undefined && decl.default !== undefined && !validateConfigValue(decl.type, decl.items, decl.default)) {
        problems.push(
          `The default value specified for configuration key '${key}' is not of the expected type '${typeName(decl.type, decl.items)}'`,
        );
      }
    } else {
      if (decl.type !== undefined)
        problems.push(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
      else if (decl.default !== undefined) {
        problems.push(`Configuration key '${key}' is not namespaced by the project and should not define a default value`);
      } else if (decl.value === undefined) problems.push(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
    }
  }
  return problems;
}

/** How the CLI holds a stack value for the type check: scalars as their string form, lists and maps as structures. */
function asHeld(value: unknown): unknown {
  if (typeof value === "object" && value !== null) return value;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * `ValidateStackConfigAndApplyProjectConfig`: the stack's values with the declared
 * defaults and values filled in, or the error the CLI stops with. `secretKeys` are the
 * full keys set with `--secret`.
 */
export function applyProjectConfig(
  project: ProjectFile,
  stack: string,
  values: StackValues,
  secretKeys: ReadonlySet<string>,
): { values: StackValues; error?: string } {
  const declarationProblems = projectConfigProblems(project);
  if (declarationProblems.length > 0) return { values, error: declarationProblems[0] };

  const merged: StackValues = { ...values };
  const missing: string[] = [];
  for (const key of Object.keys(project.config).sort()) {
    const decl = project.config[key];
    const full = fullKey(project.name, key);
    const given = full in values;
    const fallback = decl.default !== undefined ? decl.default : decl.value;
    if (!given && fallback === undefined && namespacedByProject(project.name, full)) missing.push(key);
    else if (!given && fallback !== undefined) merged[full] = fallback;
  }
  if (missing.length > 0) {
    const list =
      missing.length === 1
        ? `'${missing[0]}'`
        : `${missing
            .slice(0, -1)
            .map((k) => `'${k}'`)
            .join(", ")} and '${missing[missing.length - 1]}'`;
    return { values: merged, error: `Stack '${stack}' is missing configuration value${missing.length === 1 ? "" : "s"} ${list}` };
  }

  // validateStackConfigValues: typed keys of the project's namespace, on the merged config.
  for (const key of Object.keys(project.config).sort()) {
    const decl = project.config[key];
    const full = fullKey(project.name, key);
    if (decl.type === undefined || !namespacedByProject(project.name, key)) continue;
    if (decl.secret && !secretKeys.has(full)) {
      return { values: merged, error: `Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret` };
    }
    if (!validateConfigValue(decl.type, decl.items, asHeld(merged[full]))) {
      return {
        values: merged,
        error: `Stack '${stack}' with configuration key '${key}' must be of type '${typeName(decl.type, decl.items)}'`,
      };
    }
  }
  return { values: merged };
}
