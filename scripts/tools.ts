/**
 * `npm run tools [-- --tier offline|cluster|live|all] [--check] [<binary> ...]`: builds the
 * pinned tools (scripts/lib/tools.ts) that a test tier runs (`all`, the default: every tool),
 * or the binaries named, from their Go modules into .tools/bin/, only what is missing or
 * stale, then installs the Pulumi resource plugins into .tools/pulumi-home and prints every
 * tool with its version.
 *
 * A binary is fresh when its embedded build information (`go version -m`) names the
 * pinned upstream module version and its version output names the release as a whole
 * version; anything else is rebuilt.
 * Go's module and build caches make a rebuild after a bump cost only what changed.
 * `--check` builds nothing and exits 1 when a tool is missing or stale.
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as os from "os";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import {
  BIN_DIR,
  PULUMI_HOME,
  ROOT,
  TIERS,
  TOOLS,
  TOOLS_DIR,
  Tier,
  Tool,
  binPath,
  goModRequire,
  goVersion,
  reportsRelease,
  toolsOfTier,
} from "./lib/tools";
import { UNAVAILABLE } from "./lib/unavailable-tools";

/** Where modules with generated files are copied and their Go workspaces written (git-ignored). */
const SRC_DIR = path.join(ROOT, ".tools", "src");

class ToolError extends Error {}

function ldflagsOf(tool: Tool): string {
  return ["-s", "-w", ...tool.ldflags].join(" ");
}

/** Go's environment for the builds: the pinned go.sum is the only source of truth. */
function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOFLAGS: "-mod=readonly -trimpath", GOTOOLCHAIN: "local", CGO_ENABLED: "0" };
}

/** Whether Go release a (1.26.8) is b or newer. */
function atLeast(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return true;
}

/** The local Go, which must build every tool module: GOTOOLCHAIN=local downloads no newer one. */
function requireGo(): string {
  const needed = goVersion();
  const result = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    throw new ToolError(
      `Go is not installed: install Go ${needed.version} or newer (https://go.dev/doc/install), then run \`npm run tools\` again.`,
    );
  }
  const version = result.stdout.trim();
  const match = /^go(\d+\.\d+(?:\.\d+)?)/.exec(version);
  if (!match || !atLeast(match[1], needed.version)) {
    throw new ToolError(`Go ${needed.version} or newer is needed to build the tools (tools/${needed.module}/go.mod; found ${version}).`);
  }
  return version;
}

/**
 * Why a binary needs building, or undefined when it is fresh. The module version comes from
 * the binary's build information; -trimpath keeps linker flags out of it, so the release
 * stamp is read back from the binary's own version output where it has one.
 */
function staleness(tool: Tool, moduleVersion: string): string | undefined {
  const bin = binPath(tool.binary);
  if (!fs.existsSync(bin)) return "missing";
  const info = spawnSync("go", ["version", "-m", bin], { encoding: "utf8" });
  if (info.status !== 0) return "no build information";
  const escaped = tool.upstream.replace(/[.]/g, "\\.");
  const built = new RegExp(`^\\s*(?:mod|dep)\\s+${escaped}\\s+(\\S+)`, "m").exec(info.stdout);
  if (!built) return `built from another module than ${tool.upstream}`;
  if (built[1] !== moduleVersion) return `built from ${built[1]}, pinned ${moduleVersion}`;
  if (tool.versionArgs && !reportsRelease(versionOutput(tool), tool.release)) {
    return `reports another version than ${tool.release}`;
  }
  return undefined;
}

/** Where Go keeps a module's files (downloading it if needed). */
function moduleDir(tool: Tool, module: string, version: string): string {
  const result = spawnSync("go", ["mod", "download", "-json", `${module}@${version}`], {
    cwd: path.join(TOOLS_DIR, tool.module),
    env: goEnv(),
    encoding: "utf8",
  });
  const info = JSON.parse(result.stdout || "{}") as { Dir?: string; Error?: string };
  if (result.status !== 0 || !info.Dir) {
    throw new ToolError(`cannot download ${module}@${version}: ${info.Error ?? result.stderr}`);
  }
  return info.Dir;
}

/** Writes the data files the package embeds (see Tool.embeds). */
function writeEmbeds(tool: Tool, moduleVersion: string): void {
  if (!tool.embeds) return;
  const dir = moduleDir(tool, tool.upstream, moduleVersion);
  for (const embed of tool.embeds) {
    const data = JSON.parse(fs.readFileSync(path.join(dir, embed.from), "utf8")) as Record<string, unknown>;
    if (embed.stampVersion) data.version = tool.release.replace(/^v/, "");
    fs.writeFileSync(path.join(TOOLS_DIR, tool.module, embed.to), JSON.stringify(data));
  }
}

/**
 * For a tool with generated files (Tool.generated): copies each module they go into (the
 * upstream module, or the dependency a file names), as Go downloaded and verified it against
 * tools/<module>/go.sum, to .tools/src/, writes the files, and writes a Go workspace that uses
 * tools/<module> with each such module replaced by its copy. Returns the workspace file for
 * GOWORK, or undefined for a plain build.
 */
function prepareWorkspace(tool: Tool, moduleVersion: string): string | undefined {
  if (!tool.generated) return undefined;
  const replaces: string[] = [];
  for (const module of [...new Set(tool.generated.map((f) => f.module ?? tool.upstream))]) {
    const version = module === tool.upstream ? moduleVersion : goModRequire(tool.module, module);
    if (!version) throw new ToolError(`tools/${tool.module}/go.mod does not require ${module}`);
    const files = tool.generated.filter((f) => (f.module ?? tool.upstream) === module);
    const copy = path.join(
      SRC_DIR,
      module === tool.upstream ? `${tool.module}@${version}` : `${tool.module}-${module.replace(/\//g, "+")}@${version}`,
    );
    const marker = path.join(copy, ".generated-by-npm-run-tools");
    const stamp = `${module}@${version} with ${files.map((f) => f.path).join(", ")}\n`;
    if (!fs.existsSync(marker) || fs.readFileSync(marker, "utf8") !== stamp) {
      fs.rmSync(copy, { recursive: true, force: true });
      fs.cpSync(moduleDir(tool, module, version), copy, { recursive: true });
      // The module cache is read-only; the copy must be writable to add files and to be removed later.
      execFileSync("chmod", ["-R", "u+w", copy]);
      for (const file of files) {
        const target = path.join(copy, file.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        const data = Buffer.from(file.content, "utf8");
        fs.writeFileSync(target, file.gzip ? zlib.gzipSync(data) : data);
      }
      fs.writeFileSync(marker, stamp);
    }
    replaces.push(`replace ${module} ${version} => ${copy}`);
  }
  const goVersion = /^go\s+(\S+)/m.exec(fs.readFileSync(path.join(TOOLS_DIR, tool.module, "go.mod"), "utf8"))?.[1] ?? "1.26";
  const work = path.join(SRC_DIR, `${tool.module}.go.work`);
  fs.writeFileSync(work, [`go ${goVersion}`, "", `use ${path.join(TOOLS_DIR, tool.module)}`, "", ...replaces, ""].join("\n"));
  return work;
}

async function build(tool: Tool, moduleVersion: string): Promise<void> {
  writeEmbeds(tool, moduleVersion);
  const work = prepareWorkspace(tool, moduleVersion);
  const out = binPath(tool.binary);
  const tmp = `${out}.partial`;
  const started = Date.now();
  console.log(`  building ${tool.binary} (${tool.release}) ...`);
  const args = ["build", "-ldflags", ldflagsOf(tool), ...(tool.tags ? ["-tags", tool.tags.join(",")] : []), "-o", tmp, tool.pkg];
  const child = spawn("go", args, {
    cwd: path.join(TOOLS_DIR, tool.module),
    env: { ...goEnv(), GOWORK: work ?? "off" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-64 * 1024);
  });
  const status = await new Promise<number | null>((resolve) => {
    child.once("error", (err) => {
      stderr += String(err);
      resolve(null);
    });
    child.once("exit", (code) => resolve(code));
  });
  if (status !== 0) {
    fs.rmSync(tmp, { force: true });
    console.log(`  ${tool.binary}: failed`);
    throw new ToolError(`go build of ${tool.pkg} (tools/${tool.module}) failed:\n${stderr}`);
  }
  fs.renameSync(tmp, out);
  console.log(`  built ${tool.binary} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * How many modules build at once: two by default. A Go build uses every core while it
 * compiles, but links one binary on one core and waits on the network while it downloads,
 * so a second build fills those gaps (TOOLS_JOBS overrides).
 */
function buildJobs(): number {
  const asked = Number(process.env.TOOLS_JOBS);
  if (Number.isInteger(asked) && asked > 0) return asked;
  return Math.max(1, Math.min(2, os.cpus().length));
}

/** The size of a module's go.sum: how much it depends on, a fair guess of how long it builds. */
function weightOf(module: string): number {
  return fs.statSync(path.join(TOOLS_DIR, module, "go.sum")).size;
}

/**
 * Builds the tools, the biggest modules first and `buildJobs()` modules at a time; the
 * tools of one module build one after the other, so that the second finds the first's
 * packages in Go's build cache. Returns the failures.
 */
async function buildAll(todo: Array<{ tool: Tool; moduleVersion: string }>): Promise<string[]> {
  const byModule = new Map<string, Array<{ tool: Tool; moduleVersion: string }>>();
  for (const item of todo) byModule.set(item.tool.module, [...(byModule.get(item.tool.module) ?? []), item]);
  const queue = [...byModule.keys()].sort((a, b) => weightOf(b) - weightOf(a));
  const failures: string[] = [];
  const worker = async () => {
    for (let module = queue.shift(); module !== undefined; module = queue.shift()) {
      for (const { tool, moduleVersion } of byModule.get(module) ?? []) {
        try {
          await build(tool, moduleVersion);
        } catch (err) {
          // Build the others: one run shows every tool that fails.
          if (!(err instanceof ToolError)) throw err;
          failures.push(err.message);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: buildJobs() }, worker));
  return failures;
}

function fileDigest(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Installs a resource plugin into PULUMI_HOME, as `pulumi plugin install --file` does for users. */
function installPlugin(tool: Tool): void {
  if (!tool.plugin) return;
  const version = tool.release.replace(/^v/, "");
  const installed = path.join(PULUMI_HOME, "plugins", `resource-${tool.plugin}-v${version}`, tool.binary);
  if (fs.existsSync(installed) && fileDigest(installed) === fileDigest(binPath(tool.binary))) return;
  fs.rmSync(path.dirname(installed), { recursive: true, force: true });
  fs.rmSync(`${path.dirname(installed)}.lock`, { force: true });
  execFileSync(binPath("pulumi"), ["plugin", "install", "resource", tool.plugin, version, "--file", binPath(tool.binary)], {
    env: { ...process.env, PULUMI_HOME, PULUMI_SKIP_UPDATE_CHECK: "true" },
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/** What the binary prints when asked its version (stdout and stderr). */
function versionOutput(tool: Tool): string {
  const result = spawnSync(binPath(tool.binary), tool.versionArgs ?? [], {
    encoding: "utf8",
    env: { ...process.env, PULUMI_HOME, PULUMI_SKIP_UPDATE_CHECK: "true" },
  });
  return `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
}

/** The line of the version output that names the release, or its first line. */
function versionLine(tool: Tool): string {
  if (!tool.versionArgs) return `${tool.release} (resource plugin; go version -m: ${tool.upstream})`;
  const lines = versionOutput(tool).split("\n");
  const release = tool.release.replace(/^v/, "");
  return lines.find((l) => l.includes(release)) ?? lines[0] ?? "(no version output)";
}

const USAGE = "usage: npm run tools [-- --tier offline|cluster|live|all] [--check] [<binary> ...]";

function parseArgs(argv: string[]): { check: boolean; tier: Tier | "all"; only: string[] } {
  let tier: string | undefined;
  const only: string[] = [];
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--check") check = true;
    else if (arg === "--tier") tier = argv[++i];
    else if (arg.startsWith("--tier=")) tier = arg.slice("--tier=".length);
    else if (arg.startsWith("-")) throw new ToolError(`unknown option ${arg}\n${USAGE}`);
    else only.push(arg);
  }
  if (tier !== undefined && tier !== "all" && !(TIERS as readonly string[]).includes(tier)) {
    throw new ToolError(`unknown tier ${tier ?? "(none)"}: the tiers are ${[...TIERS, "all"].join(", ")}\n${USAGE}`);
  }
  if (tier !== undefined && only.length > 0) throw new ToolError(`name a tier or binaries, not both\n${USAGE}`);
  const unknown = only.filter((name) => !TOOLS.some((t) => t.binary === name));
  if (unknown.length > 0) {
    throw new ToolError(`unknown tool ${unknown.join(", ")}; the tools are: ${TOOLS.map((t) => t.binary).join(", ")}`);
  }
  return { check, tier: (tier ?? "all") as Tier | "all", only };
}

async function main(argv: string[]): Promise<number> {
  const { check, tier, only } = parseArgs(argv);
  const selected = only.length > 0 ? TOOLS.filter((t) => only.includes(t.binary)) : toolsOfTier(tier);
  const command =
    only.length > 0 ? `npm run tools -- ${only.join(" ")}` : tier === "all" ? "npm run tools" : `npm run tools -- --tier ${tier}`;
  // `--check` too: it reads each binary's build information with `go version -m`.
  const go = requireGo();
  if (!check) console.log(`Go: ${go}`);
  fs.mkdirSync(BIN_DIR, { recursive: true });

  let stale = 0;
  const todo: Array<{ tool: Tool; moduleVersion: string }> = [];
  for (const tool of selected) {
    const moduleVersion = goModRequire(tool.module, tool.upstream);
    if (!moduleVersion) throw new ToolError(`tools/${tool.module}/go.mod does not require ${tool.upstream}`);
    const why = staleness(tool, moduleVersion);
    if (why === undefined) continue;
    if (check) console.log(`  ${tool.binary}: ${why}`);
    stale++;
    todo.push({ tool, moduleVersion });
  }
  if (!check && todo.length > 0) {
    const started = Date.now();
    const failures = await buildAll(todo);
    if (failures.length > 0) throw new ToolError(`${failures.length} tool(s) failed to build:\n${failures.join("\n")}`);
    console.log(`Built ${todo.length} tool(s) in ${((Date.now() - started) / 1000).toFixed(0)} s (${buildJobs()} at a time).`);
  }
  if (check && stale > 0) {
    console.log(`${stale} tool(s) missing or stale: run \`${command}\`.`);
    return 1;
  }
  if (!check) for (const tool of selected) installPlugin(tool);

  const scope = only.length > 0 ? "named" : tier === "all" ? "of every tier and the rest" : `of the ${tier} tier`;
  console.log(`Tools ${scope} in ${path.relative(process.cwd(), BIN_DIR) || BIN_DIR}, all built:`);
  for (const tool of selected) console.log(`  ${tool.binary.padEnd(28)} ${versionLine(tool)}`);
  if (only.length === 0 && tier === "all") {
    console.log("Not buildable here:");
    for (const u of UNAVAILABLE) console.log(`  ${u.what}: ${u.why}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ToolError) {
      console.error(`npm run tools: ${err.message}`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  },
);
