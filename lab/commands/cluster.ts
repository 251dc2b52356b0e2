/**
 * A local Kubernetes control plane on 127.0.0.1, shaped like the single k3s node this
 * stack's users run, for the cluster test tier (test/cluster/) and for trying the stack.
 *
 *   npm run cluster -- up [--nodes N] [--ttl 3h]
 *       Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok from
 *       .tools/bin (run `npm run tools` first) and the local-path volume provisioner, waits
 *       until the API server is ready and every node is Ready, and prints the kubeconfig path
 *       (progress goes to stderr). Already up and healthy: says so and leaves it; one that is
 *       expired or broken is cleaned up and started afresh. --nodes counts k3s-server plus
 *       agents (k3s-agent-1...), default 1; --ttl (s, m or h; default 3h) is when every
 *       process is killed even if `down` never runs. Stdout is the kubeconfig path alone:
 *       KUBECONFIG=$(npm run -s cluster -- up) works too.
 *   npm run cluster -- down
 *       Stops every process (SIGTERM, then SIGKILL after 10 s) and removes .cluster/.
 *       Succeeds when nothing runs.
 *   npm run -s cluster -- env
 *       Prints `export KUBECONFIG=<abs path>` and nothing else: eval $(npm run -s cluster -- env)
 *   npm run cluster -- status
 *       Each process, alive or not, its memory, and the API server's /readyz.
 *       A process that has ended is shown with how: its exit code or signal.
 *       Exit status 0 when the cluster is up and healthy, 1 otherwise.
 *
 * The same from code: `up(opts)`, `down()`, `status()`, `kubeconfigPath()` in
 * lab/cluster (its header says what the cluster holds). State, logs
 * (logs/<name>.log) and pids (pids/<name>.pid) live in .cluster/.
 */
import * as fs from "fs";
import { down, kubeconfigPath, status, up } from "../cluster";

const USAGE = `usage: npm run cluster -- up [--nodes N] [--ttl 3h] | down | env | status`;

/** Seconds from `90`, `90s`, `45m` or `3h`. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}": use e.g. 90s, 45m or 3h`);
  const factor = { "": 1, s: 1, m: 60, h: 3600 }[match[2]] ?? 1;
  const seconds = Number(match[1]) * factor;
  if (seconds <= 0) throw new Error(`invalid duration "${text}": must be positive`);
  return seconds;
}

function parseUpArgs(argv: string[]): { nodes?: number; ttlSeconds?: number } {
  const parsed: { nodes?: number; ttlSeconds?: number } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const integer = (v: string): number => {
      if (!/^\d+$/.test(v)) throw new Error(`${flag} needs a whole number, got "${v}"`);
      return Number(v);
    };
    if (flag === "--nodes") parsed.nodes = integer(value());
    else if (flag === "--ttl") parsed.ttlSeconds = parseDuration(value());
    else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  return parsed;
}

/** A path as a POSIX shell word: unquoted when it is plain, single-quoted otherwise. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const began = Date.now();
  const progress = (message: string) => console.error(`cluster: ${message} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
  switch (command) {
    case "up": {
      const args = parseUpArgs(rest);
      const cluster = await up({ ...args, log: progress });
      progress(`use it with: eval $(npm run -s cluster -- env)`);
      console.log(cluster.kubeconfig);
      return 0;
    }
    case "down": {
      if (rest.length > 0) throw new Error(USAGE);
      await down();
      progress("down");
      return 0;
    }
    case "env": {
      if (rest.length > 0) throw new Error(USAGE);
      const file = kubeconfigPath();
      if (!fs.existsSync(file)) {
        console.error("cluster: not up (run `npm run cluster -- up`)");
        return 1;
      }
      console.log(`export KUBECONFIG=${shellWord(file)}`);
      return 0;
    }
    case "status": {
      if (rest.length > 0) throw new Error(USAGE);
      const s = await status();
      if (!s.present) {
        console.log("cluster: down");
        return 1;
      }
      const state = s.healthy
        ? "up"
        : s.expired
          ? "EXPIRED (its TTL has passed; `up` starts a new one)"
          : "NOT HEALTHY (`up` starts it afresh, `down` removes it)";
      console.log(`cluster: ${state}${s.expiresAt && !s.expired ? ` (stops by itself at ${s.expiresAt})` : ""}`);
      console.log(`server: ${s.server ?? "?"}  /readyz: ${s.readyz}`);
      console.log(`kubeconfig: ${s.kubeconfig}`);
      console.log(`nodes: ${s.nodes.join(", ")}`);
      let total = 0;
      for (const p of s.processes) {
        total += p.residentBytes;
        const pids = p.componentPids.length > 0 ? p.componentPids.join(",") : `(${p.pid})`;
        console.log(
          `  ${p.name.padEnd(24)} ${p.alive ? "alive" : "DEAD "}  pid ${String(pids).padEnd(8)} rss ${mib(p.residentBytes).padStart(8)}  ${p.log}`,
        );
        if (p.exit) console.log(`      ${p.exit}`);
      }
      console.log(`  ${"total".padEnd(24)} ${"".padEnd(19)} rss ${mib(total).padStart(8)}`);
      return s.healthy ? 0 : 1;
    }
    case "--help":
    case "-h":
    case "help":
      console.log(USAGE);
      return 0;
    default:
      throw new Error(USAGE);
  }
}
