/**
 * Problems and their wording: one problem per key, naming what is allowed and what was given,
 * with did-you-mean hints, in the project's words rather than the validation library's.
 */
import { z } from "zod";
import { HIDDEN } from "../components/kit/problems";
import { isCredentialParameter } from "../components/kit/fields";
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

/** What was given, for a message: JSON, shortened, with any password in a URL and any credential in its query masked. */
export function describeInput(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value)
    .replace(/(\/\/[^/:@\s"]*):[^/@\s"]*@/g, "$1:***@")
    .replace(/([?&])([^=&#\s"]+)=[^&#\s"]*/g, (all: string, sep: string, name: string) =>
      isCredentialParameter(name) ? `${sep}${name}=***` : all,
    );
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

/** A key path as the stack file writes it, without the project: `apps[0].metrics.statusLabel`. */
function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join("");
}

/** The words of a camelCase name, in lower case: `healthPath` -> health, path. */
const wordsOf = (name: string): string[] => name.split(/(?=[A-Z])/).map((w) => w.toLowerCase());

/**
 * Where an unknown key inside a section (or a list entry) belongs when it is a key of that same
 * section one level down or up: `apps[0].statusLabel` is `apps[0].metrics.statusLabel`,
 * `apps[0].healthPath` is `apps[0].probe.path` (its last word the key, its other words in the
 * key's or its parent's description: "Health path"). Read from the schemas: the section is the
 * nearest list entry, else the top-level key.
 */
function misplacedHint(path: ReadonlyArray<PropertyKey>, key: string): string | undefined {
  let rootLength = 1;
  path.forEach((part, i) => {
    if (typeof part === "number") rootLength = i + 1;
  });
  const root = path.slice(0, rootLength);
  const depth = path.length - rootLength + 1;
  const candidates: Array<{ path: PropertyKey[]; text: string }> = [];
  const walk = (schema: z.ZodType | undefined, at: PropertyKey[], context: string) => {
    const s = schema === undefined ? undefined : unwrap(schema);
    if (!(s instanceof z.ZodObject) || at.length > depth) return;
    for (const [child, childSchema] of Object.entries(s.shape as Record<string, z.ZodType>)) {
      const childPath = [...at, child];
      const description = childSchema.description ?? unwrap(childSchema).description ?? "";
      if (Math.abs(childPath.length - depth) <= 1) candidates.push({ path: childPath, text: `${description} ${context}`.toLowerCase() });
      walk(childSchema, childPath, description);
    }
  };
  walk(schemaAt(root), [], "");
  const here = pathText([...path, key]);
  const others = candidates.filter((c) => pathText([...root, ...c.path]) !== here);
  const leaf = (c: { path: PropertyKey[] }) => String(c.path[c.path.length - 1]);
  let found = others.filter((c) => leaf(c).toLowerCase() === key.toLowerCase());
  if (found.length === 0) {
    // A compound name: its last words the key's name, the others in its path or descriptions.
    const words = wordsOf(key);
    found = others.filter((c) => {
      const own = wordsOf(leaf(c));
      const rest = words.slice(0, words.length - own.length);
      const context = `${c.path.slice(0, -1).map(String).join(" ").toLowerCase()} ${c.text}`;
      return (
        rest.length > 0 &&
        words.slice(rest.length).join() === own.join() &&
        rest.every((w) => new RegExp(`\\b${w.replace(/[^a-z0-9]/g, "")}\\b`).test(context))
      );
    });
  }
  if (found.length === 0) found = others.filter((c) => leaf(c).length > 3 && closeEnough(key, editDistance(key, leaf(c))));
  if (found.length === 0) return undefined;
  const shown = found.slice(0, 4).map((c) => `"${pathText([...root, ...c.path])}"`);
  return `did you mean ${shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`}?`;
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

/** Whether a schema takes a number (a port takes a number or a name). */
function takesNumber(schema: z.ZodType | undefined): boolean {
  const s = schema === undefined ? undefined : unwrap(schema);
  if (s instanceof z.ZodNumber) return true;
  return s instanceof z.ZodUnion && (s.options as z.ZodType[]).some(takesNumber);
}

/** A number written in quotes where the schema takes a number (`port: "8080"`): the quotes make it text. */
function quotedNumberHint(issue: z.core.$ZodIssue): string {
  const input = "input" in issue ? issue.input : undefined;
  if (typeof input !== "string" || !/^-?\d+(\.\d+)?$/.test(input.trim()) || !takesNumber(schemaAt(issue.path))) return "";
  const leaf = issue.path[issue.path.length - 1];
  const field = typeof leaf === "number" ? "" : `${String(leaf)}: `;
  return `; remove the quotes: a number in quotes is text, write ${field}${input.trim()}`;
}

/** The library's own wording, which no message may show: each check above says what it allows. */
const LIBRARY_WORDING = /^(Invalid|Too (small|big))/;

/**
 * The problems of the schema's issues. `meant` receives the full keys an unknown key's "did you
 * mean" names: what was given there is missing from them, so what follows from that (a secret
 * for a receiver of a misspelt section) is no problem of its own.
 */
export function zodProblems(project: string, error: z.ZodError, meant: string[] = []): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(issue.path);
      for (const k of issue.keys) {
        const hint = closest(k, known);
        const elsewhere = hint ? undefined : issue.path.length === 0 ? sectionHint(k) : misplacedHint(issue.path, k);
        const at = (name: string) => (issue.path.length === 0 ? `${project}:${name}` : `${keyOf(project, issue.path)}.${name}`);
        const key = at(k);
        if (hint) meant.push(at(hint));
        problems.push({
          key,
          message: `unknown key${hint ? ` (did you mean "${hint}"?)` : elsewhere ? ` (${elsewhere})` : ""}; allowed here: ${known.join(", ")}`,
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
        message = `is not a valid name here: ${issue.issues[0]?.message ?? "see docs/configuration.md"}`;
      } else {
        message = `is not ${expectedShape(issue.path)} of the right form`;
      }
    }
    problems.push({ key: keyOf(project, issue.path), message: `${message} (got ${got})${isSecret ? "" : quotedNumberHint(issue)}` });
  }
  // One problem per key: the first check that failed says what is allowed.
  return problems.filter((p, i) => problems.findIndex((q) => q.key === p.key) === i);
}

/** A problem found by a rule over several keys, with the keys it reads besides its own. */
export interface CrossProblem extends ConfigProblem {
  /** Full keys the rule read: when one of them was refused, the problem only follows from that one. */
  involves?: string[];
}
