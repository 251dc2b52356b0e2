/**
 * Which promtool `npm run check` runs: one on PATH when it reports the Prometheus release the
 * stack deploys (an installed release tarball, a package of that version), else the one `npm run
 * tools -- promtool` builds into .tools/bin, saying why the one on PATH was passed over; neither,
 * and the command is refused with both ways to get one. A promtool of another release is never
 * used: its `check rules` and `test rules` may take what the deployed Prometheus refuses.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface PromtoolChoice {
  /** The file to run. */
  file: string;
  /** What was chosen and why, for the user (one line). */
  note: string;
}

/** The release a `promtool --version` prints (`promtool, version 3.5.0 (branch: …)`), or undefined. */
export function promtoolVersion(file: string): string | undefined {
  const r = spawnSync(file, ["--version"], { encoding: "utf8", timeout: 30_000 });
  if (r.error || r.status !== 0) return undefined;
  return /\bversion (\d+\.\d+\.\d+\S*)/.exec(`${r.stdout}${r.stderr}`)?.[1];
}

/** The first executable `promtool` in a PATH, or undefined. */
export function promtoolOnPath(pathVariable: string | undefined): string | undefined {
  for (const dir of (pathVariable ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const file = path.join(dir, "promtool");
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // Not there, or not executable: the next directory.
    }
  }
  return undefined;
}

/**
 * The promtool to run: PATH's when it reports `release` (v-prefixed or not), else `built` when it
 * exists. Throws when neither does, naming the release and the ways to get it (`howToBuild`).
 */
export function choosePromtool(opts: {
  release: string;
  built: string;
  howToBuild: string;
  pathVariable: string | undefined;
  versionOf?: (file: string) => string | undefined;
}): PromtoolChoice {
  const versionOf = opts.versionOf ?? promtoolVersion;
  const wanted = opts.release.replace(/^v/, "");
  const onPath = promtoolOnPath(opts.pathVariable);
  const found = onPath !== undefined ? versionOf(onPath) : undefined;
  if (onPath !== undefined && found === wanted) {
    return { file: onPath, note: `promtool: ${onPath} (${found}, the release the stack deploys)` };
  }
  const passedOver =
    onPath === undefined
      ? "no promtool on PATH"
      : `${onPath} reports ${found === undefined ? "no version" : found}, not ${wanted}, the release the stack deploys`;
  if (fs.existsSync(opts.built)) return { file: opts.built, note: `promtool: ${opts.built} (${passedOver})` };
  throw new Error(
    `npm run check needs promtool ${wanted}, the release the stack deploys: ${passedOver}, and ${opts.built} is not built. ` +
      `Put promtool ${wanted} on PATH (from the Prometheus ${wanted} release's tarball), or ${opts.howToBuild}`,
  );
}
