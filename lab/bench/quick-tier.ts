/**
 * The quick tier's figure for `npm run bench` (lab/commands/bench.ts): `npm run test:quick` run once as
 * a whole process, its wall time against the target and its CPU-seconds beside (docs/benchmark.md,
 * "The quick tier").
 */
import { spawnSync } from "child_process";
import { ROOT } from "../../cli/stackfile";
import { cpuSecondsOfTimes } from "./figures";
import { Measurement } from "./measurement";

/**
 * `npm run test:quick` as a whole process, once: jest's start, the transforms its cache lacks, the files,
 * on as many workers as the machine has cores. Its CPU-seconds beside (those of every process it ran, from
 * bash's `times`, as .ci/run counts a step's): on a loaded machine the wall time says how busy it was, the
 * CPU what the tier costs.
 */
export function measureQuickTests(target: number): Measurement {
  const start = process.hrtime.bigint();
  // `times` on stderr, last (in the shell itself: a subshell counts no child): its second line is the children's user and system time, "1m2.345s 0m0.678s".
  const script = 'npm run --silent test:quick; code=$?; times >&2; exit "$code"';
  const result = spawnSync("bash", ["-c", script], { cwd: ROOT, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`npm run test:quick failed:\n${result.stderr.slice(-4000)}`);
  const tests = /Tests:\s+(\d+) passed/.exec(result.stderr)?.[1] ?? "?";
  const cpu = cpuSecondsOfTimes(result.stderr.trimEnd().split("\n").at(-1) ?? "");
  return {
    name: "npm run test:quick, whole process",
    value: seconds,
    unit: "s",
    target,
    kind: "max",
    display: `${seconds.toFixed(0)} s (${tests} tests, ${cpu === undefined ? "?" : cpu.toFixed(0)} CPU-seconds)`,
  };
}
