/**
 * The stack file the program reads beside Pulumi's config: the entries written in plain text beside
 * secret ones. Pulumi reports a structured key as secret as a whole when any entry is, so only the
 * file tells a plain `databaseDsns.<name>` beside a secret one.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { plainEntriesOfSecretKeys } from "../config";

/**
 * A stack file's `config:` as the Pulumi CLI reads it: a key without a namespace (`protectVolumes`)
 * is the project's (`monitoring:protectVolumes`), as its stack loader rewrites it
 * (stackConfigNamespacedWithProject, sdk/go/common/workspace/loaders.go); a key with a colon is
 * kept as it is. `twice` names each key written both ways (`protectVolumes` and
 * `monitoring:protectVolumes`), which Pulumi reads as either one, by the order of a Go map: the
 * namespaced one is kept here.
 */
export function namespacedStackConfig(
  project: string,
  config: Record<string, unknown>,
): { config: Record<string, unknown>; twice: string[] } {
  const out: Record<string, unknown> = {};
  const twice: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (key.includes(":")) out[key] = value;
  }
  for (const [key, value] of Object.entries(config)) {
    if (key.includes(":")) continue;
    const full = `${project}:${key}`;
    if (Object.hasOwn(out, full)) twice.push(full);
    else out[full] = value;
  }
  return { config: out, twice };
}

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
export function plainPaths(root: string, stack: string, project: string): string[] {
  const file = stackFileOf(root, stack);
  if (file === undefined || !fs.existsSync(file)) return [];
  const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  return plainEntriesOfSecretKeys(namespacedStackConfig(project, doc.config ?? {}).config);
}
