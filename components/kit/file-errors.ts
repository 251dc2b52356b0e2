/**
 * What is wrong in a YAML or JSON file the program reads (a stack file, a rule file, a
 * dashboard), with where: one form for all of them, `is not valid YAML at line 3, column 5:
 * <what>`, after the file's name. The `yaml` package gives each error its line and column
 * (`linePos`, from 1); JSON.parse gives a character position, turned into them here. The
 * readers throw with them (cli/yaml-file.ts for the stack file).
 */
import * as YAML from "yaml";

/** Line and column (from 1) of a character position in a text. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(position, text.length)));
  const lines = before.split("\n");
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/** The reason of a `yaml` error without the position and the excerpt it appends (`... at line 3, column 5:\n\n...`). */
function yamlReason(error: YAML.YAMLError): string {
  return error.message
    .split("\n")[0]
    .replace(/ at line \d+, column \d+:?$/, "")
    .replace(/:$/, "");
}

/** Each error of a parsed YAML document: `is not valid YAML at line L, column C: <reason>`. */
export function yamlErrors(doc: YAML.Document): string[] {
  return doc.errors.map((error) => {
    const at = error.linePos?.[0];
    return `is not valid YAML${at ? ` at line ${at.line}, column ${at.col}` : ""}: ${yamlReason(error)}`;
  });
}

/** The character position V8 gives in a JSON.parse error, if it gives one. */
const positionIn = (message: string): number | undefined => {
  const found = /at position (\d+)/.exec(message);
  return found ? Number(found[1]) : undefined;
};

/** Whether a text fails to parse as JSON before its end (a prefix of a longer JSON text fails only at its end). */
function failsBeforeEnd(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = positionIn(message);
    return !/Unexpected end of JSON input/.test(message) && (position === undefined || position < text.length);
  }
}

/**
 * Where JSON.parse stopped: the position V8 names, or, when its message names none
 * (`Unexpected token '}', "..." is not valid JSON`), the last character of the shortest
 * prefix that fails before its end.
 */
function jsonErrorPosition(text: string, message: string): number {
  const named = positionIn(message);
  if (named !== undefined) return named;
  if (!failsBeforeEnd(text)) return text.length;
  let [fine, failing] = [0, text.length];
  while (failing - fine > 1) {
    const middle = Math.floor((fine + failing) / 2);
    if (failsBeforeEnd(text.slice(0, middle))) failing = middle;
    else fine = middle;
  }
  return failing - 1;
}

/** Why a text is not JSON, where: `is not valid JSON at line L, column C: <reason>`. */
export function jsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const { line, column } = lineAndColumn(text, jsonErrorPosition(text, message));
  // Without V8's position (Node 22 adds "(line 2 column 3)") and the excerpt it quotes.
  const reason = message
    .replace(/ (in JSON )?at position \d+( \(line \d+ column \d+\))?/, "")
    .replace(/, "[\s\S]*" is not valid JSON$/, "")
    .trim();
  return `is not valid JSON at line ${line}, column ${column}: ${reason}`;
}
