/**
 * The Go side of `npm run tools` (scripts/tools.ts): whether a built binary is the pinned release
 * (staleness), the modules' generated files and Go workspaces, and the builds themselves, downloads
 * first, several modules at a time. Also the helpers the wheels (lab/tools/wheels.ts) and the plan
 * (lab/tools/tools-plan.ts) share: ToolError, runCommand, versionOutput, fileDigest and Go's
 * environment and flags (goEnv, COMPILE_FLAGS, ldflagsOf, tagsOf, buildFlagsOf).
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { goVersion, reportsRelease } from "./tool-versions";
import { PULUMI_HOME, ROOT, TOOLS_DIR, binPath, goModRequire } from "./tools";
import type { Tool } from "./tool";

/** Where modules with generated files are copied and their Go workspaces written (git-ignored). */
const SRC_DIR = path.join(ROOT, ".tools", "src");

export class ToolError extends Error {}

export function ldflagsOf(tool: Tool): string {
  return ["-s", "-w", ...tool.ldflags].join(" ");
}

/**
 * The compiler writes no debug information that the linker's -w would drop anyway: the same
 * code, less to compile. With GOGC=400 (goEnv), kube-state-metrics' cold build took 319
 * CPU-seconds against 409 and 439 without either (379 with GOGC alone, 430 with this alone; on
 * two shared cores, so the single figures are noisy). `go version -m` lists the flag.
 */
export const COMPILE_FLAGS = "all=-dwarf=false";

/**
 * Go's environment for the builds: the pinned go.sum is the only source of truth. GOGC=400
 * (unless set) lets the compiler collect its garbage a quarter as often: less CPU for a little
 * more memory (see COMPILE_FLAGS), the same binaries. Cgo is off but for a tool that says
 * otherwise (Tool.cgo).
 */
export function goEnv(tool?: Tool): NodeJS.ProcessEnv {
  return {
    GOGC: "400",
    ...process.env,
    GOFLAGS: "-mod=readonly -trimpath",
    GOTOOLCHAIN: "local",
    CGO_ENABLED: tool?.cgo ? "1" : "0",
    // --plan downloads nothing: a module that is not in Go's module cache makes its tool a cold build.
    ...(offlineGo ? { GOPROXY: "off" } : {}),
  };
}

/** Set by --plan (goOffline): Go reads its caches only. */
let offlineGo = false;

/** From now on, Go downloads nothing: what --plan asks of it. */
export function goOffline(): void {
  offlineGo = true;
}

/** Whether Go release a (1.26.8) is b or newer. */
function atLeast(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return true;
}

/** The local Go, which must build every tool module: GOTOOLCHAIN=local downloads no newer one. */
export function requireGo(): string {
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
export function staleness(tool: Tool, moduleVersion: string): string | undefined {
  const bin = binPath(tool.binary);
  if (!fs.existsSync(bin)) return "missing";
  const info = spawnSync("go", ["version", "-m", bin], { encoding: "utf8" });
  if (info.status !== 0) return "no build information";
  const escaped = tool.upstream.replace(/[.]/g, "\\.");
  const built = new RegExp(`^\\s*(?:mod|dep)\\s+${escaped}\\s+(\\S+)`, "m").exec(info.stdout);
  if (!built) return `built from another module than ${tool.upstream}`;
  if (built[1] !== moduleVersion) return `built from ${built[1]}, pinned ${moduleVersion}`;
  const settings = buildSettingsStaleness(tool, info.stdout);
  if (settings) return settings;
  if (tool.versionArgs && !reportsRelease(versionOutput(tool), tool.release)) {
    return `reports another version than ${tool.release}`;
  }
  return undefined;
}

/**
 * Why a binary's build settings (`go version -m`'s `build` lines) are not the table's, or undefined: cgo on for a tool
 * with Tool.cgo and off for every other, and the tags exactly Tool.tags. A binary built before a tag or cgo was added
 * to its row is stale, though its module is the pinned one.
 */
export function buildSettingsStaleness(tool: Tool, buildInfo: string): string | undefined {
  const setting = (key: string) => new RegExp(`^\\s*build\\s+${key}=(\\S*)$`, "m").exec(buildInfo)?.[1] ?? "";
  const cgo = tool.cgo ? "1" : "0";
  if (setting("CGO_ENABLED") !== cgo) return `built with CGO_ENABLED=${setting("CGO_ENABLED") || "unknown"}, pinned ${cgo}`;
  const tags = (tool.tags ?? []).join(",");
  if (setting("-tags") !== tags) return `built with tags "${setting("-tags")}", pinned "${tags}"`;
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
async function runGo(tool: Tool, work: string | undefined, args: string[], env: NodeJS.ProcessEnv = {}): Promise<GoRun> {
  const child = spawn("bash", ["-c", 'go "$@"; status=$?; times >&2; exit $status', "bash", ...args], {
    cwd: path.join(TOOLS_DIR, tool.module),
    env: { ...goEnv(tool), GOWORK: work ?? "off", ...env },
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

export const tagsOf = (tool: Tool) => (tool.tags ? ["-tags", tool.tags.join(",")] : []);

/** The flags of a tool's `go build`, the same for the build and for the plan that asks Go what it would compile. */
export const buildFlagsOf = (tool: Tool): string[] => ["-gcflags", COMPILE_FLAGS, "-ldflags", ldflagsOf(tool), ...tagsOf(tool)];

/** What one module's builds need before they start: its generated files and its workspace. */
export interface Prepared {
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
  const result = await runGo(tool, work, ["list", "-deps", "-f", "", ...tagsOf(tool), ...items.map((i) => i.tool.pkg)], {
    GOMAXPROCS: String(DOWNLOAD_FETCHES),
  });
  // A failure shows again, in full, in the build that follows.
  if (result.status !== 0) console.log(`  downloads for tools/${tool.module}: failed, the build will say why`);
  return (Date.now() - started) / 1000;
}

async function build({ tool, work }: Prepared): Promise<number> {
  const out = binPath(tool.binary);
  const tmp = `${out}.partial`;
  const started = Date.now();
  console.log(`  building ${tool.binary} (${tool.release}) ...`);
  requireHeaders(tool);
  const result = await runGo(tool, work, ["build", ...buildFlagsOf(tool), "-o", tmp, tool.pkg]);
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
 * A cgo tool's C headers (Tool.cgo), asked of the C compiler Go would use (`$CC`, else cc): a missing one is a
 * ToolError naming the Debian package to install, before Go starts compiling.
 */
export function requireHeaders(tool: Tool): void {
  for (const { header, debianPackage } of tool.cgo?.headers ?? []) {
    const cc = process.env.CC || "cc";
    const result = spawnSync(cc, ["-E", "-x", "c", "-o", "/dev/null", "-"], { input: `#include <${header}>\n`, encoding: "utf8" });
    if (result.error || result.status !== 0) {
      const why = result.error ? `${cc}: ${result.error.message}` : result.stderr.trim().split("\n")[0];
      throw new ToolError(
        `${tool.binary} is built with cgo and needs <${header}> (${why}): install a C compiler and ${debianPackage} ` +
          `(apt-get install gcc ${debianPackage}), then run \`npm run tools -- ${tool.binary}\` again.`,
      );
    }
  }
}

/** How many modules download at once: one connection to the module proxy gives a fraction of its bandwidth. */
const DOWNLOAD_JOBS = 6;

/**
 * How many modules one `go list` fetches at once: Go fetches as many as GOMAXPROCS, two on two
 * cores, and a fetch mostly waits on the network. Loki's 2.3 GB of modules into an empty module
 * cache took 36 s with two and 17 s with sixteen (2026-11-24, a quiet machine).
 */
const DOWNLOAD_FETCHES = 8;

/** The size of a module's go.sum: how much it depends on, a fair guess of how long it builds. */
function weightOf(module: string): number {
  return fs.statSync(path.join(TOOLS_DIR, module, "go.sum")).size;
}

/** Runs tasks, at most `jobs` at a time; each promise of the result settles with its task. */
export function limited<T>(tasks: Array<() => Promise<T>>, jobs: number): Array<Promise<T>> {
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
export function prepare(todo: Array<{ tool: Tool; moduleVersion: string }>): { byModule: Map<string, Prepared[]>; modules: string[] } {
  const byModule = new Map<string, Prepared[]>();
  for (const { tool, moduleVersion } of todo) {
    writeEmbeds(tool, moduleVersion);
    const work = prepareWorkspace(tool, moduleVersion);
    byModule.set(tool.module, [...(byModule.get(tool.module) ?? []), { tool, moduleVersion, work }]);
  }
  return { byModule, modules: [...byModule.keys()].sort((a, b) => weightOf(b) - weightOf(a)) };
}

/** Starts every module's downloads, DOWNLOAD_JOBS at a time; each promise gives its module's seconds. */
export function downloadAll(byModule: Map<string, Prepared[]>, modules: string[], done: Set<string>): Array<Promise<number>> {
  return limited(
    modules.map((module) => async () => {
      const seconds = await download(byModule.get(module) ?? []);
      done.add(module);
      return seconds;
    }),
    DOWNLOAD_JOBS,
  );
}

export async function reportDownloads(modules: string[], downloads: Array<Promise<number>>): Promise<void> {
  const seconds = await Promise.all(downloads);
  console.log(`Downloads: ${modules.length} module(s), the longest ${Math.max(0, ...seconds).toFixed(0)} s, ${DOWNLOAD_JOBS} at a time.`);
}

/**
 * Builds the tools: every module's downloads start at once (DOWNLOAD_JOBS at a time, the
 * biggest first), and `jobs` modules build at a time (buildJobs, scripts/tools.ts), the biggest whose downloads are
 * done first. The tools of one module build one after the other, so that the second finds the
 * first's packages in Go's build cache. Returns the failures and the CPU the builds used.
 */
export async function buildAll(
  todo: Array<{ tool: Tool; moduleVersion: string }>,
  jobs: number,
): Promise<{ failures: string[]; cpuSeconds: number }> {
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
          // Not `cpuSeconds += await build(item)`: that reads the sum before the build, and the workers' builds overlap.
          const cpu = await build(item);
          cpuSeconds += cpu;
        } catch (err) {
          // Build the others: one run shows every tool that fails.
          if (!(err instanceof ToolError)) throw err;
          failures.push(err.message);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  await reportDownloads(modules, downloads);
  return { failures, cpuSeconds };
}

export function fileDigest(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end, its output kept (the last 256 KiB of each stream); with TIMEOUT_MS, killed
 * (SIGTERM, status null) when it has not ended by then.
 */
export function runCommand(
  command: string,
  args: string[],
  { timeoutMs, ...options }: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    const out = { stdout: "", stderr: "" };
    for (const name of ["stdout", "stderr"] as const) {
      child[name].on("data", (chunk: Buffer) => {
        out[name] = (out[name] + chunk.toString("utf8")).slice(-256 * 1024);
      });
    }
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    const end = (ran: Ran) => {
      clearTimeout(timer);
      resolve(ran);
    };
    child.once("error", (err) => end({ status: null, ...out, stderr: `${out.stderr}${String(err)}` }));
    child.once("close", (code) => end({ status: code, ...out }));
  });
}

/** What the binary prints when asked its version (stdout and stderr). */
export function versionOutput(tool: Tool): string {
  const result = spawnSync(binPath(tool.binary), tool.versionArgs ?? [], {
    encoding: "utf8",
    env: { ...process.env, PULUMI_HOME, PULUMI_SKIP_UPDATE_CHECK: "true" },
  });
  return `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
}
