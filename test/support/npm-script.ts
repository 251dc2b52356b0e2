/**
 * package.json's scripts, and a script that runs a file of scripts/ with node as arguments of this process's
 * node: what `npm run <name>` runs, without npm's own start. Tests run a command the way its script does.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../cli/stackfile";

/** package.json's scripts, by name. */
export function packageScripts(): Record<string, string> {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
}

/** The arguments after `node` of script NAME (`node -r ./cli/fast-start.js scripts/<file>.ts`), paths from the repository. */
export function scriptArguments(name: string): string[] {
  const line = packageScripts()[name];
  const words = line?.split(" ") ?? [];
  if (words[0] !== "node" || !words.some((w) => /^scripts\/[a-z-]+\.ts$/.test(w)))
    throw new Error(`package.json's script ${name} is not a node command running a file of scripts/: ${JSON.stringify(line)}`);
  return words.slice(1).map((w) => (w.startsWith("./") || w.startsWith("scripts/") ? path.join(ROOT, w) : w));
}
