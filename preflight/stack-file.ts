/**
 * The stack file the program reads beside Pulumi's config: the entries written in plain text beside
 * secret ones. Pulumi reports a structured key as secret as a whole when any entry is, so only the
 * file tells a plain `databaseDsns.<name>` beside a secret one.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { plainEntriesOfSecretKeys } from "../config";

/** The file the offline render was given (npm run render -- --stack-file), while it runs the program. */
let given: string | undefined;

/**
 * Has the program read `file` as the stack's file until the returned function is called: the
 * offline render's `--stack-file`, which Pulumi's config does not name.
 */
export function readingStackFile(file: string): () => void {
  given = path.resolve(file);
  return () => {
    given = undefined;
  };
}

/**
 * The stack's file: the one the offline render was given, or Pulumi.<stack>.yaml in the project's
 * stackConfigDir; undefined when the project has no Pulumi.yaml (its config lives elsewhere).
 */
export function stackFileOf(root: string, stack: string): string | undefined {
  if (given !== undefined) return given;
  const projectFile = path.join(root, "Pulumi.yaml");
  if (!fs.existsSync(projectFile)) return undefined;
  const project = (YAML.parse(fs.readFileSync(projectFile, "utf8")) ?? {}) as { stackConfigDir?: string };
  return path.join(root, project.stackConfigDir ?? ".", `Pulumi.${stack}.yaml`);
}

/** Entries written in plain text beside secret ones in the stack's file; none without the file. Read-only. */
export function plainPaths(root: string, stack: string): string[] {
  const file = stackFileOf(root, stack);
  if (file === undefined || !fs.existsSync(file)) return [];
  const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  return plainEntriesOfSecretKeys(doc.config ?? {});
}
