/**
 * What building a tool costs (scripts/lib/tools.ts has the table): the measured CPU-minutes of each tools/ module's
 * cold build and of a link from a warm Go build cache, which `npm run tools -- --plan` (scripts/lib/tools-plan.ts)
 * estimates from, and the message that tells a test or `npm run check` lacking a binary how to build it.
 */
import type { Tool } from "./tools";

/**
 * What a cold build of each tools/ module costs, in CPU-minutes (compilers and linker, every binary of the module): what
 * `npm run tools -- --plan` estimates a build from. Measured in the fully cold `.ci/run` of 2026-11-23 on two shared
 * cores (docs/ci.md): Alloy 31, Prometheus 11, Loki 10, the Kubernetes provider 16, the Pulumi CLI 8, kube-apiserver 8.
 * The run measured the rest by tier only: the cluster tier's other 8 (kube-controller-manager, kube-scheduler and
 * kubectl, which mostly reuse kube-apiserver's packages, 4; etcd and kwok 2 each), the live tier's other 14 and the
 * offline tier's last 4, each shared out here by the size of the module's go.sum (as `npm run tools` orders the
 * builds); prometheus-config-reloader, which no run builds, by its go.sum too. Dex's module (dex and jmespath, the
 * sign-in lab's), added after that run, was measured alone with an empty GOCACHE on 2026-11-24: 117 and 1 CPU-seconds;
 * VictoriaMetrics' (the remote-write lab's single-node server) too, the same day: 70 CPU-seconds (58 user, 11 system).
 */
export const COLD_BUILD_CPU_MINUTES: Record<string, number> = {
  alloy: 31,
  "kubernetes-provider": 16,
  "control-plane": 12,
  prometheus: 11.3,
  loki: 10,
  pulumi: 8,
  alertmanager: 6.3,
  jaeger: 6,
  etcd: 2,
  kwok: 2,
  "mongodb-exporter": 1.8,
  "config-reloader": 1.7,
  cloudflared: 1.6,
  "kube-state-metrics": 1.1,
  "node-exporter": 0.6,
  "blackbox-exporter": 0.5,
  "postgres-exporter": 0.4,
  "redis-exporter": 0.2,
  dex: 2,
  victoriametrics: 1.2,
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
  if (tool.wheel)
    return `run \`npm run tools -- ${tool.binary}\` (it installs ${tool.binary} ${tool.release} alone, from tools/${tool.module}/requirements.txt)`;
  const cpu = COLD_BUILD_CPU_MINUTES[tool.module];
  const cold = cpu
    ? `; about ${Math.max(1, Math.round(cpu))} CPU-minutes with an empty Go build cache, ${Math.max(1, Math.round(cpu / 2))} minutes or more on two cores`
    : "";
  return `run \`npm run tools -- ${tool.binary}\` (it builds ${tool.binary} ${tool.release} alone, from tools/${tool.module}/go.mod${cold}; \`npm run tools\` builds every tool)`;
}
