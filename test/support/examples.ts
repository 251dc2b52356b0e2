/**
 * examples/: the seed teams' stack files, each rendered by the render command its header gives
 * (its stand-in secrets given with --secrets-file), for test/scenarios/examples.test.ts and test/e2e/examples.test.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Rendered } from "../../cli/render";
import { renderStack } from "../../cli/render-stack";
import { ROOT, readSecretsFile } from "../../cli/stackfile";

export const NAMES = ["tumulte", "deployment-system", "gauzian"];

export const stackFile = (name: string) => path.join(ROOT, "examples", name, "Pulumi.production.yaml");

/** The comments above `config:`: what a team reads first. */
export const headerOf = (name: string) => fs.readFileSync(stackFile(name), "utf8").split("\nconfig:")[0];

/** The render command of an example's header, as a shell reads it: its `# ` taken off, its lines still joined by `\`. */
function renderCommand(name: string): string {
  const lines = headerOf(name).split("\n");
  const start = lines.findIndex((l) => /^#\s+npm run render -- /.test(l));
  if (start < 0) throw new Error(`examples/${name}: its header has no "npm run render -- …" command`);
  let end = start;
  while (lines[end].endsWith("\\")) end++;
  return lines
    .slice(start, end + 1)
    .map((l) => l.replace(/^#\s*/, ""))
    .join("\n");
}

/** The words of a command as the shell splits them (quotes removed), by the shell itself. */
export function shellWords(command: string): string[] {
  const result = spawnSync("sh", ["-c", `printf '%s\\0' ${command}`], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`sh could not read ${command}: ${result.stderr}`);
  return result.stdout.split("\0").slice(0, -1);
}

export interface Example {
  name: string;
  /** The render command of its header. */
  command: string;
  /** The secrets that command gives, by config path (its `--secrets-file`). */
  secrets: Array<[string, unknown]>;
}

export const EXAMPLES: Example[] = NAMES.map((name) => {
  const command = renderCommand(name);
  const words = shellWords(command);
  const files = words.flatMap((w, i) => (words[i - 1] === "--secrets-file" ? [path.join(ROOT, w)] : []));
  return { name, command, secrets: files.flatMap(readSecretsFile) };
});

/** Every example rendered by its header's command (secrets shown), by name. */
export async function renderExamples(): Promise<Map<string, Rendered>> {
  const rendered = new Map<string, Rendered>();
  for (const e of EXAMPLES) {
    rendered.set(e.name, await renderStack({ stack: "production", stackFile: stackFile(e.name), secrets: e.secrets, showSecrets: true }));
  }
  return rendered;
}
