/**
 * `npm run tools [-- --tier offline|cluster|live|all] [--check | --download] [<binary> ...]`: builds the
 * pinned tools (scripts/lib/tools.ts) that a test tier runs (`all`, the default: every tool),
 * or the binaries named, from their Go modules into .tools/bin/, only what is missing or
 * stale, then installs the Pulumi resource plugins into .tools/pulumi-home and prints every
 * tool with its version.
 *
 * A binary is fresh when its embedded build information (`go version -m`) names the
 * pinned upstream module version and its version output names the release as a whole
 * version; anything else is rebuilt.
 * Go's module and build caches make a rebuild after a bump cost only what changed.
 * `--check` builds nothing and exits 1 when a tool is missing or stale. `--download` builds
 * nothing either: it fills Go's module cache with what the missing and stale tools import.
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

/**
 * The compiler writes no debug information that the linker's -w would drop anyway: the same
 * code, less to compile. With GOGC=400 (goEnv), kube-state-metrics' cold build took 319
 * CPU-seconds against 409 and 439 without either (379 with GOGC alone, 430 with this alone; on
 * two shared cores, so the single figures are noisy). `go version -m` lists the flag.
 */
const COMPILE_FLAGS = "all=-dwarf=false";

/**
 * Go's environment for the builds: the pinned go.sum is the only source of truth. GOGC=400
 * (unless set) lets the compiler collect its garbage a quarter as often: less CPU for a little
 * more memory (see COMPILE_FLAGS), the same binaries.
 */
function goEnv(): NodeJS.ProcessEnv {
  return { GOGC: "400", ...process.env, GOFLAGS: "-mod=readonly -trimpath", GOTOOLCHAIN: "local", CGO_ENABLED: "0" };
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

interface GoRun {
  status: number | null;
  stderr: string;
  /** User and system CPU seconds of the go command and everything it ran (compile, link). */
  cpuSeconds: number;
}

/**
 * Runs go in a tool's module (with its workspace when it has one). Bash's `times` reports the
 * CPU its child used, the compilers and linker included: Node has no resource usage of a child.
 */
async function runGo(tool: Tool, work: string | undefined, args: string[]): Promise<GoRun> {
  const child = spawn("bash", ["-c", 'go "$@"; status=$?; times >&2; exit $status', "bash", ...args], {
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
  // The last line of `times`: the children's user and system time, as "0m12.345s 0m1.234s".
  const lines = stderr.trimEnd().split("\n");
  const seconds = [...(lines.at(-1) ?? "").matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { status, stderr: lines.slice(0, -2).join("\n"), cpuSeconds: seconds.reduce((a, b) => a + b, 0) };
}

const tagsOf = (tool: Tool) => (tool.tags ? ["-tags", tool.tags.join(",")] : []);

/** What one module's builds need before they start: its generated files and its workspace. */
interface Prepared {
  tool: Tool;
  moduleVersion: string;
  work: string | undefined;
}

/**
 * Downloads every module the tools of one tools/ module import (`go list -deps` resolves and
 * fetches them without compiling). Downloads wait on the network, not the CPU: several run at
 * once, ahead of the builds, which then find every module in Go's cache.
 */
async function download(items: Prepared[]): Promise<number> {
  const started = Date.now();
  const { tool, work } = items[0];
  const result = await runGo(tool, work, ["list", "-deps", "-f", "", ...tagsOf(tool), ...items.map((i) => i.tool.pkg)]);
  // A failure shows again, in full, in the build that follows.
  if (result.status !== 0) console.log(`  downloads for tools/${tool.module}: failed, the build will say why`);
  return (Date.now() - started) / 1000;
}

async function build({ tool, work }: Prepared): Promise<number> {
  const out = binPath(tool.binary);
  const tmp = `${out}.partial`;
  const started = Date.now();
  console.log(`  building ${tool.binary} (${tool.release}) ...`);
  const result = await runGo(tool, work, [
    "build",
    "-gcflags",
    COMPILE_FLAGS,
    "-ldflags",
    ldflagsOf(tool),
    ...tagsOf(tool),
    "-o",
    tmp,
    tool.pkg,
  ]);
  if (result.status !== 0) {
    fs.rmSync(tmp, { force: true });
    console.log(`  ${tool.binary}: failed`);
    throw new ToolError(`go build of ${tool.pkg} (tools/${tool.module}) failed:\n${result.stderr}`);
  }
  fs.renameSync(tmp, out);
  const cpu = result.cpuSeconds;
  console.log(`  built ${tool.binary} in ${((Date.now() - started) / 1000).toFixed(0)} s (${cpu.toFixed(0)} CPU-seconds)`);
  return cpu;
}

/**
 * How many modules build at once: twice the cores, at most four (TOOLS_JOBS overrides). A big
 * module's build keeps less than one core busy on average: it waits on long chains of packages
 * that compile one after the other, and links on one core. Measured cold on two cores
 * (2026-11-23): pulumi-resource-kubernetes 1,065 CPU-seconds in 1,145 s, kube-apiserver 540 in
 * 642, the Pulumi CLI 558 in 585; two builds at a time left most of a core idle.
 */
function buildJobs(): number {
  const asked = Number(process.env.TOOLS_JOBS);
  if (Number.isInteger(asked) && asked > 0) return asked;
  return Math.max(1, Math.min(4, 2 * os.cpus().length));
}

/** How many modules download at once: one connection to the module proxy gives a fraction of its bandwidth. */
const DOWNLOAD_JOBS = 6;

/** The size of a module's go.sum: how much it depends on, a fair guess of how long it builds. */
function weightOf(module: string): number {
  return fs.statSync(path.join(TOOLS_DIR, module, "go.sum")).size;
}

/** Runs tasks, at most `jobs` at a time; each promise of the result settles with its task. */
function limited<T>(tasks: Array<() => Promise<T>>, jobs: number): Array<Promise<T>> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return tasks.map(async (task) => {
    if (running >= jobs) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  });
}

/** The tools to build, by module with its generated files and workspace ready, the biggest module first. */
function prepare(todo: Array<{ tool: Tool; moduleVersion: string }>): { byModule: Map<string, Prepared[]>; modules: string[] } {
  const byModule = new Map<string, Prepared[]>();
  for (const { tool, moduleVersion } of todo) {
    writeEmbeds(tool, moduleVersion);
    const work = prepareWorkspace(tool, moduleVersion);
    byModule.set(tool.module, [...(byModule.get(tool.module) ?? []), { tool, moduleVersion, work }]);
  }
  return { byModule, modules: [...byModule.keys()].sort((a, b) => weightOf(b) - weightOf(a)) };
}

/** Starts every module's downloads, DOWNLOAD_JOBS at a time; each promise gives its module's seconds. */
function downloadAll(byModule: Map<string, Prepared[]>, modules: string[], done: Set<string>): Array<Promise<number>> {
  return limited(
    modules.map((module) => async () => {
      const seconds = await download(byModule.get(module) ?? []);
      done.add(module);
      return seconds;
    }),
    DOWNLOAD_JOBS,
  );
}

async function reportDownloads(modules: string[], downloads: Array<Promise<number>>): Promise<void> {
  const seconds = await Promise.all(downloads);
  console.log(`Downloads: ${modules.length} module(s), the longest ${Math.max(0, ...seconds).toFixed(0)} s, ${DOWNLOAD_JOBS} at a time.`);
}

/**
 * Builds the tools: every module's downloads start at once (DOWNLOAD_JOBS at a time, the
 * biggest first), and `buildJobs()` modules build at a time, the biggest whose downloads are
 * done first. The tools of one module build one after the other, so that the second finds the
 * first's packages in Go's build cache. Returns the failures and the CPU the builds used.
 */
async function buildAll(todo: Array<{ tool: Tool; moduleVersion: string }>): Promise<{ failures: string[]; cpuSeconds: number }> {
  const { byModule, modules } = prepare(todo);
  const downloaded = new Set<string>();
  const downloads = downloadAll(byModule, modules, downloaded);
  const failures: string[] = [];
  let cpuSeconds = 0;
  const queue = [...modules];
  const worker = async () => {
    while (queue.length > 0) {
      const ready = queue.findIndex((m) => downloaded.has(m));
      if (ready < 0) {
        await Promise.race(queue.map((m) => downloads[modules.indexOf(m)]));
        continue;
      }
      const [module] = queue.splice(ready, 1);
      for (const item of byModule.get(module) ?? []) {
        try {
          cpuSeconds += await build(item);
        } catch (err) {
          // Build the others: one run shows every tool that fails.
          if (!(err instanceof ToolError)) throw err;
          failures.push(err.message);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: buildJobs() }, worker));
  await reportDownloads(modules, downloads);
  return { failures, cpuSeconds };
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

const USAGE = "usage: npm run tools [-- --tier offline|cluster|live|all] [--check | --download] [<binary> ...]";

function parseArgs(argv: string[]): { check: boolean; downloadOnly: boolean; tier: Tier | "all"; only: string[] } {
  let tier: string | undefined;
  const only: string[] = [];
  let check = false;
  let downloadOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--check") check = true;
    else if (arg === "--download") downloadOnly = true;
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
  if (check && downloadOnly) throw new ToolError(`--check builds and downloads nothing: give one of --check and --download\n${USAGE}`);
  return { check, downloadOnly, tier: (tier ?? "all") as Tier | "all", only };
}

async function main(argv: string[]): Promise<number> {
  const { check, downloadOnly, tier, only } = parseArgs(argv);
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
  if (downloadOnly) {
    // Fills Go's module cache for the builds to come (.ci/run starts it beside the first builds).
    const { byModule, modules } = prepare(todo);
    await reportDownloads(modules, downloadAll(byModule, modules, new Set()));
    return 0;
  }
  if (!check && todo.length > 0) {
    const started = Date.now();
    const { failures, cpuSeconds } = await buildAll(todo);
    if (failures.length > 0) throw new ToolError(`${failures.length} tool(s) failed to build:\n${failures.join("\n")}`);
    const took = ((Date.now() - started) / 1000).toFixed(0);
    console.log(`Built ${todo.length} tool(s) in ${took} s (${buildJobs()} at a time), ${(cpuSeconds / 60).toFixed(1)} CPU-minutes.`);
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
