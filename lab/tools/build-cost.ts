/**
 * What building a tool costs (lab/tools/tools.ts has the table): the measured CPU-minutes of each tools/ module's
 * cold build and of a link from a warm Go build cache, which `npm run tools -- --plan` (lab/tools/tools-plan.ts)
 * estimates from, and the message that tells a test or `npm run check` lacking a binary how to build it.
 */
import type { Tool } from "./tool";

/**
 * What a cold build of each tools/ module costs, in CPU-minutes (compilers and linker, every binary of the module): what
 * `npm run tools -- --plan` estimates a build from. Measured in the fully cold `.ci/run` of 2026-11-24 (docs/ci.md, with
 * COMPILE_FLAGS and GOGC=400), each build's own CPU-seconds: 7,659 for the 25 binaries of 19 modules, 127.65 CPU-minutes.
 * Four modules build at a time there, so a package two modules share at one version is compiled by the first to reach
 * it: promtool and amtool, built last, cost their modules 12 and 6 CPU-seconds. prometheus-config-reloader, which no
 * run builds, is the share its go.sum's size gave it in the run of 2026-11-23.
 */
export const COLD_BUILD_CPU_MINUTES: Record<string, number> = {
  alloy: 32.0,
  "kubernetes-provider": 19.38,
  "control-plane": 14.15,
  prometheus: 11.85,
  loki: 11.32,
  pulumi: 9.37,
  jaeger: 9.15,
  kwok: 4.5,
  "kube-state-metrics": 3.4,
  "mongodb-exporter": 2.57,
  alertmanager: 2.38,
  etcd: 2.05,
  dex: 2.0,
  "config-reloader": 1.7,
  cloudflared: 1.17,
  "blackbox-exporter": 0.68,
  "node-exporter": 0.67,
  victoriametrics: 0.55,
  "redis-exporter": 0.25,
  "postgres-exporter": 0.22,
  // Not in that run (added after it): its own build of 2026-11-25, 66 CPU-seconds from an empty cache for its packages.
  cyclonus: 1.1,
};

/**
 * What linking one binary costs, in CPU-minutes, when Go's build cache holds every package it imports: a warm
 * rebuild (a fresh clone on a machine whose caches a build filled) is a link per binary. Loki's, one of the
 * largest binaries, took 13 CPU-seconds (its main package and the link, 2026-11-24, two shared cores).
 */
export const LINK_CPU_MINUTES = 0.25;

/**
 * The smallest command that builds a tool, with what its module's cold build costs (COLD_BUILD_CPU_MINUTES):
 * the message of a test or `npm run check` that lacks the binary.
 */
export function howToBuild(tool: Tool): string {
  const count = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (tool.wheel)
    return `run \`npm run tools -- ${tool.binary}\` (it installs ${tool.binary} ${tool.release} alone, from tools/${tool.module}/requirements.txt)`;
  const cpu = COLD_BUILD_CPU_MINUTES[tool.module];
  const cold = cpu
    ? `; about ${count(Math.max(1, Math.round(cpu)), "CPU-minute")} with an empty Go build cache, ${count(Math.max(1, Math.round(cpu / 2)), "minute")} or more on two cores`
    : "";
  return `run \`npm run tools -- ${tool.binary}\` (it builds ${tool.binary} ${tool.release} alone, from tools/${tool.module}/go.mod${cold}; \`npm run tools\` builds every tool)`;
}
