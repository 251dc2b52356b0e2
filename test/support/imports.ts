/**
 * The repository files a file reaches, as repository paths: what test/repository/tiers.test.ts
 * follows to tell a test's tier, and test/scripts/tools.test.ts to find the binaries a tier runs.
 */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^;]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm;
/** A script run as a program: scripts/<name>.ts. */
const RUNS_SCRIPT = /["'](scripts\/[\w-]+\.ts)["']/g;

/** The repository files a file reaches at once: its relative imports (not type-only ones) and the scripts it names. */
export function filesReachedAtOnce(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const imported = [...text.matchAll(IMPORT)]
    .filter((m) => m[1] === undefined)
    .map((m) => {
      const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[2]));
      return [`${base}.ts`, `${base}/index.ts`, base].find(
        (f) => fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile(),
      );
    });
  const scripts = [...text.matchAll(RUNS_SCRIPT)].map((m) => m[1]).filter((f) => fs.existsSync(path.join(ROOT, f)));
  return [...imported, ...scripts].filter((f): f is string => f !== undefined);
}

/** Every repository file a file reaches, itself first, through filesReachedAtOnce. */
export function filesReached(file: string): string[] {
  const seen = new Set<string>([file]);
  for (const queue = [file]; queue.length > 0;) {
    for (const target of filesReachedAtOnce(queue.shift() as string)) {
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return [...seen];
}
