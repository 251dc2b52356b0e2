/**
 * An earlier release of the program, as CHANGELOG.md records it (`Commit:`), checked out from git
 * into a scratch directory with its own dependencies, and run against a stack the way the tier runs
 * HEAD's (the Automation API's inline program, the tier's CLI, backend and provider), but in a Node
 * process of its own, whose `require` resolves the release's own packages and its own tsconfig.
 *
 * Its dependencies: when every package its package-lock.json pins is installed in the checkout's
 * node_modules at that version, its node_modules is a link to the checkout's (nothing downloaded);
 * otherwise `npm ci` installs them from the registry into the release's directory.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { parseChangelog } from "../../../lab/changelog";
import { BIN_DIR, PULUMI_HOME, ROOT } from "../../../lab/tools/tools";

const execFileAsync = promisify(execFile);

/** The commit a release was cut at, as CHANGELOG.md records it. */
export function releaseCommit(version: string): string {
  const section = parseChangelog(fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8")).find((s) => s.name === version);
  if (!section?.commit) throw new Error(`CHANGELOG.md records no commit for release ${version}`);
  return section.commit;
}

/**
 * The packages a lock file pins that the checkout's node_modules does not hold at that version
 * (`<path> <pinned> (installed <version or none>)`). An optional package absent here (another
 * platform's binary) is not one.
 */
export function dependencyDifferences(lockText: string, nodeModulesRoot: string = ROOT): string[] {
  const lock = JSON.parse(lockText) as { packages: Record<string, { version?: string; optional?: boolean; link?: boolean }> };
  const differ: string[] = [];
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (where === "" || entry.link || !entry.version) continue;
    const manifest = path.join(nodeModulesRoot, where, "package.json");
    const installed = fs.existsSync(manifest) ? (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version : undefined;
    if (installed === undefined && entry.optional) continue;
    if (installed !== entry.version) differ.push(`${where} ${entry.version} (installed ${installed ?? "none"})`);
  }
  return differ;
}

export interface Release {
  version: string;
  commit: string;
  /** The release's project directory (its whole tree at the commit). */
  dir: string;
  /** How its dependencies came: linked to the checkout's, or `npm ci` (with what differed). */
  dependencies: string;
  /** Seconds taken to check it out and give it its dependencies. */
  seconds: number;
}

/** Checks a release out into `<scratch>/release-<version>` (git archive of its commit) with its dependencies. */
export function checkOutRelease(version: string, scratch: string): Release {
  const started = Date.now();
  const commit = releaseCommit(version);
  const dir = path.join(scratch, `release-${version}`);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync("sh", ["-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", ROOT, commit, dir]);
  const differ = dependencyDifferences(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"));
  let dependencies: string;
  if (differ.length === 0) {
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    dependencies = "the checkout's node_modules (every version its package-lock.json pins is installed)";
  } else {
    execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, stdio: "ignore" });
    dependencies = `npm ci (${differ.length} packages differ from the checkout's, such as ${differ.slice(0, 3).join(", ")})`;
  }
  return { version, commit, dir, dependencies, seconds: (Date.now() - started) / 1000 };
}

/**
 * `up` of a stack with the release's program, in a process of its own whose working directory is
 * the release's checkout (so its packages and tsconfig are its own). The stack file is copied in
 * from `stackFile` first. Fails with what the engine printed when the up fails.
 */
const RELEASE_UP = `
require("ts-node").register({ transpileOnly: true });
const path = require("path");
const { LocalWorkspace, PulumiCommand } = require("@pulumi/pulumi/automation");
const [stackName, root, pulumiHome, env] = process.argv.slice(2);
(async () => {
  const program = require(path.join(process.cwd(), "index.ts"));
  const pulumiCommand = await PulumiCommand.get({ root });
  const options = { workDir: process.cwd(), pulumiCommand, pulumiHome, envVars: JSON.parse(env) };
  const stack = await LocalWorkspace.selectStack({ stackName, projectName: "monitoring", program }, options);
  const result = await stack.up();
  process.stdout.write(JSON.stringify(result.summary));
})().catch((err) => {
  process.stderr.write(String(err && err.message));
  process.exit(1);
});
`;

export async function upWithRelease(
  release: Release,
  stackName: string,
  stackFile: string,
  env: Record<string, string>,
): Promise<{ result: string; resourceChanges?: Record<string, number> }> {
  fs.copyFileSync(stackFile, path.join(release.dir, `Pulumi.${stackName}.yaml`));
  const script = path.join(release.dir, "release-up.js");
  fs.writeFileSync(script, RELEASE_UP);
  try {
    const { stdout } = await execFileAsync(process.execPath, [script, stackName, path.dirname(BIN_DIR), PULUMI_HOME, JSON.stringify(env)], {
      cwd: release.dir,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout) as { result: string; resourceChanges?: Record<string, number> };
  } catch (err) {
    const { stderr = "" } = err as { stderr?: string };
    throw new Error(`pulumi up with release ${release.version}'s program failed:\n${stderr}`);
  }
}
