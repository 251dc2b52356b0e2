/**
 * Problems and their wording: one problem per key, naming what is allowed and what was given,
 * with did-you-mean hints, in the project's words rather than the validation library's.
 */
import { z } from "zod";
import { HIDDEN } from "../components/kit/problems";
import { SECRET_KEYS } from "./secrets";
import { plainKeySchemas, rawSchema, unwrap } from "./schema";

/** One problem with one key. */
export interface ConfigProblem {
  /** Full key path, e.g. `monitoring:prometheus.retention`. */
  key: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: ConfigProblem[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export { HIDDEN };

/** What was given, for a message: JSON, shortened, with any password in a URL masked. */
export function describeInput(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value).replace(/(\/\/[^/:@\s"]*):[^/@\s"]*@/g, "$1:***@");
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Levenshtein distance, ignoring case. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

export const closeEnough = (word: string, distance: number) => distance <= Math.max(2, Math.floor(word.length / 3));

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best !== undefined && closeEnough(word, bestDistance) ? best : undefined;
}

export function keyOf(project: string, path: ReadonlyArray<PropertyKey>): string {
  let key = `${project}:${String(path[0])}`;
  for (const part of path.slice(1)) key += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return key;
}

/** The schema at a path of the raw schema, if the path leads to one. */
function schemaAt(path: ReadonlyArray<PropertyKey>): z.ZodType | undefined {
  let schema: z.ZodType = rawSchema;
  for (const part of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(part)];
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else return undefined;
    if (!schema) return undefined;
  }
  return unwrap(schema);
}

/** Known keys at a path of the raw schema, for "did you mean" hints. */
function knownKeysAt(path: ReadonlyArray<PropertyKey>): string[] {
  const schema = schemaAt(path);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** Every key path inside the sections (`prometheus.retention`, `alertmanager.smtp`), for a top-level key that belongs in one. */
const SECTION_KEY_PATHS: string[] = (() => {
  const paths: string[] = [];
  const walk = (schema: z.ZodType, path: string) => {
    const s = unwrap(schema);
    const element = s instanceof z.ZodArray ? unwrap(s.element as z.ZodType) : s;
    if (!(element instanceof z.ZodObject)) return;
    for (const [child, childSchema] of Object.entries(element.shape as Record<string, z.ZodType>)) {
      const childPath = `${path}${s instanceof z.ZodArray ? "[]" : ""}.${child}`;
      paths.push(childPath);
      walk(childSchema, childPath);
    }
  };
  for (const [key, schema] of Object.entries(plainKeySchemas)) walk(schema, key);
  return paths;
})();

/** Where an unknown top-level key belongs: the section keys with that name (or one close to it). */
function sectionHint(key: string): string | undefined {
  const leaf = (p: string) => p.slice(p.lastIndexOf(".") + 1);
  let found = SECTION_KEY_PATHS.filter((p) => leaf(p).toLowerCase() === key.toLowerCase());
  if (found.length === 0) found = SECTION_KEY_PATHS.filter((p) => closeEnough(key, editDistance(key, leaf(p))) && leaf(p).length > 3);
  if (found.length === 0) return undefined;
  const shown = found.slice(0, 4).map((p) => `"${p}"`);
  const list = shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`;
  const how = found[0].includes("[]") ? "" : `: pulumi config set --path '${found[0]}' <value>`;
  return `did you mean ${list}${found.length > 4 ? " (and more)" : ""}? It belongs in a section${how}`;
}

/** What a key of this shape takes, in words. */
export function expectedShape(path: ReadonlyArray<PropertyKey>): string {
  const schema = schemaAt(path);
  if (schema instanceof z.ZodArray) return "a list";
  if (schema instanceof z.ZodRecord) return "a map of names to values";
  if (schema instanceof z.ZodBoolean) return "true or false";
  if (schema instanceof z.ZodNumber) return "a number";
  const keys = knownKeysAt(path);
  if (keys.length > 0) return `a map of ${keys.length > 6 ? `keys such as ${keys.slice(0, 6).join(", ")}` : `keys (${keys.join(", ")})`}`;
  return "text";
}

/** The library's own wording, which no message may show: each check above says what it allows. */
const LIBRARY_WORDING = /^(Invalid|Too (small|big))/;

export function zodProblems(project: string, error: z.ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(issue.path);
      for (const k of issue.keys) {
        const hint = closest(k, known);
        const section = issue.path.length === 0 && !hint ? sectionHint(k) : undefined;
        const key = issue.path.length === 0 ? `${project}:${k}` : `${keyOf(project, issue.path)}.${k}`;
        problems.push({
          key,
          message: `unknown key${hint ? ` (did you mean "${hint}"?)` : section ? ` (${section})` : ""}; allowed here: ${known.join(", ")}`,
        });
      }
      continue;
    }
    // Never echo a secret's value: error messages end up in CI logs.
    const isSecret = (SECRET_KEYS as readonly PropertyKey[]).includes(issue.path[0]);
    // A map's name is never secret (`databaseDsns.<name>`): a refused one is shown.
    const got =
      issue.code === "invalid_key"
        ? describeInput(issue.path[issue.path.length - 1])
        : isSecret
          ? HIDDEN
          : "input" in issue
            ? describeInput(issue.input)
            : "nothing";
    let message = issue.message;
    if (LIBRARY_WORDING.test(message)) {
      if (issue.code === "invalid_type") {
        message = issue.expected === "int" ? "must be a whole number" : `must be ${expectedShape(issue.path)}`;
      } else if (issue.code === "invalid_value" && "values" in issue) {
        message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
      } else if (issue.code === "too_small" || issue.code === "too_big") {
        const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
        const word = issue.code === "too_small" ? "at least" : "at most";
        message =
          issue.origin === "array"
            ? `must list ${word} ${bound}`
            : issue.origin === "string"
              ? `must be ${word} ${bound} characters`
              : `must be ${word} ${bound}`;
      } else if (issue.code === "invalid_key") {
        message = `is not a valid name here: ${issue.issues[0]?.message ?? "see the README"}`;
      } else {
        message = `is not ${expectedShape(issue.path)} of the right form`;
      }
    }
    problems.push({ key: keyOf(project, issue.path), message: `${message} (got ${got})` });
  }
  // One problem per key: the first check that failed says what is allowed.
  return problems.filter((p, i) => problems.findIndex((q) => q.key === p.key) === i);
}

/** A problem found by a rule over several keys, with the keys it reads besides its own. */
export interface CrossProblem extends ConfigProblem {
  /** Full keys the rule read: when one of them was refused, the problem only follows from that one. */
  involves?: string[];
}
