/** The pin of a wheel in tools/<module>/requirements.txt (Traefik's, rclone's): version and hashes, read by lab/tools/tools.ts and wheels.ts. */
import * as fs from "fs";
import * as path from "path";

/** tools/ of the repository (lab/tools/tools.ts's TOOLS_DIR). */
const TOOLS_DIR = path.resolve(__dirname, "..", "..", "tools");

/** A requirements.txt pin of one wheel: `<package>==<version>` and the sha256 of each wheel of that version pip may take. */
export interface WheelPin {
  package: string;
  version: string;
  hashes: string[];
}

/** The pin of a package in tools/<module>/requirements.txt (continuation lines joined, comments dropped). */
export function wheelPin(module: string, pkg: string, toolsDir = TOOLS_DIR): WheelPin {
  const file = path.join(toolsDir, module, "requirements.txt");
  const text = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => !l.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  const escaped = pkg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const line = new RegExp(`^${escaped}==(\\S+)(.*)$`, "m").exec(text);
  if (!line) throw new Error(`${path.relative(toolsDir, file)} does not pin ${pkg}==<version>`);
  const hashes = [...line[2].matchAll(/--hash=sha256:([0-9a-f]{64})\b/g)].map((m) => m[1]);
  if (hashes.length === 0) throw new Error(`${path.relative(toolsDir, file)}: ${pkg} has no --hash=sha256:<digest>`);
  return { package: pkg, version: line[1], hashes };
}
