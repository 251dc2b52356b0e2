/**
 * A pod's network, made for a local run: a network namespace of its own (an unprivileged user
 * namespace's, `unshare -rn`) with its loopback and an address standing for the pod's (on its
 * loopback device: nothing else reaches it), where a pod's containers run with the addresses and
 * ports they are rendered with, exactly, as they share one network in the cluster. Processes enter
 * it with nsenter; the test's requests are made from inside it by a Node client of its own, as
 * a client reaches the pod's address, or as another container of the pod reaches the loopback.
 *
 * A network may hold several pods' addresses (pods of a cluster run side by side, each bound to its own
 * address), and a hosts file of its own (a mount namespace too, with the file bound over /etc/hosts), for the
 * names the cluster's DNS would answer.
 *
 * Needs unprivileged user namespaces (Ubuntu 24.04 restricts them by default:
 * .ci/system-packages lifts kernel.apparmor_restrict_unprivileged_userns for the test tiers).
 */
import { spawnSync } from "child_process";
import { runCommand } from "../tools/go-build";
import type { LocalRun, ManagedProcess, ProcessOptions } from "../processes/children";

/** The address the pod has in its network (k3s's pod network, 10.42.0.0/16). */
export const POD_ADDRESS = "10.42.0.5";

/** What a request from inside the pod's network got: a status and body, or the error of the connection. */
export type PodReply = { status: number; body: string } | { error: string };

/** The client the requests run: one request, its answer as JSON on stdout. */
// String.raw: the regular expression's backslashes reach the client as written.
const CLIENT = String.raw`
const http = require("http");
const [method, url, body, contentType] = process.argv.slice(1);
// Host, port and path taken apart by hand: a URL parser would resolve the path's dot segments.
const [, host, port, path] = /^http:\/\/([^/:]+):(\d+)(\/.*)$/.exec(url);
const headers = body ? { "Content-Type": contentType || "application/x-www-form-urlencoded" } : {};
const req = http.request({ host, port: Number(port), path, method, timeout: 15000, headers }, (res) => {
  const chunks = [];
  res.on("data", (c) => chunks.push(c));
  res.on("end", () => console.log(JSON.stringify({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") })));
});
req.on("timeout", () => req.destroy(new Error("timed out")));
req.on("error", (e) => console.log(JSON.stringify({ error: e.code || e.message })));
req.end(body || undefined);
`;

/** Why user namespaces cannot be made here, or undefined when they can. */
export function podNetworkUnavailable(): string | undefined {
  const tried = spawnSync("unshare", ["-rn", "true"], { encoding: "utf8", timeout: 10_000 });
  if (tried.status === 0) return undefined;
  return (
    `unshare -rn fails here (${(tried.stderr || String(tried.error)).trim()}): unprivileged user namespaces are off ` +
    "(on Ubuntu 24.04: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, as .ci/system-packages does)"
  );
}

export interface PodNetworkOptions {
  /** The addresses on its loopback: the pod's (POD_ADDRESS) unless given. */
  addresses?: string[];
  /** A hosts file (path) bound over /etc/hosts in a mount namespace of the network's own. */
  hostsFile?: string;
}

export class PodNetwork {
  private readonly holder: ManagedProcess;
  readonly addresses: string[];
  private readonly mounts: boolean;

  /** Starts the namespace (a `sleep` holds it for the run's lifetime); `ready` waits for its addresses. */
  constructor(
    private readonly run: LocalRun,
    name: string,
    options: PodNetworkOptions = {},
  ) {
    const why = podNetworkUnavailable();
    if (why) throw new Error(why);
    this.addresses = options.addresses ?? [POD_ADDRESS];
    for (const a of this.addresses)
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(a)) throw new Error(`a pod network's address must be IPv4, not ${a}`);
    this.mounts = options.hostsFile !== undefined;
    // The hosts file reaches the script as its $1, never spliced into it.
    const hosts = this.mounts ? ['mount --bind "$1" /etc/hosts'] : [];
    const setup = [...hosts, "ip link set lo up", ...this.addresses.map((a) => `ip addr add ${a}/32 dev lo`), "echo up", "exec sleep 3600"];
    this.holder = run.start(`${name}-network`, "unshare", [
      this.mounts ? "-rnm" : "-rn",
      "sh",
      "-c",
      setup.join(" && "),
      "sh",
      ...(options.hostsFile === undefined ? [] : [options.hostsFile]),
    ]);
  }

  private get enter(): string[] {
    const pid = this.holder.pid;
    if (pid === undefined) throw new Error("the pod network's process has no pid");
    return ["-t", String(pid), "-U", "-n", ...(this.mounts ? ["-m"] : []), "--preserve-credentials"];
  }

  /** Waits until the namespace has its loopback and its addresses. */
  async ready(): Promise<void> {
    await this.run.waitFor(
      "the pod's network namespace",
      async () => {
        const r = await runCommand("nsenter", [...this.enter, "ip", "-o", "addr", "show", "dev", "lo"]);
        return r.status === 0 && this.addresses.every((a) => r.stdout.includes(`inet ${a}/32 `)) ? true : undefined;
      },
      15_000,
      200,
    );
  }

  /** A container's process in the pod's network. */
  start(name: string, binary: string, args: string[], opts: Pick<ProcessOptions, "env" | "inheritEnv" | "cwd"> = {}): ManagedProcess {
    return this.run.start(name, "nsenter", [...this.enter, binary, ...args], opts);
  }

  /** A command run to its end in the pod's network (an exec probe, a script). */
  exec(binary: string, args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof runCommand> {
    return runCommand("nsenter", [...this.enter, binary, ...args], env ? { env } : {});
  }

  /**
   * A request from inside the pod's network; the path is sent as written (no client normalises it). A body goes as a
   * form unless `contentType` says otherwise.
   */
  async request(method: string, url: string, body?: string, contentType?: string): Promise<PodReply> {
    const given = body !== undefined ? [body, ...(contentType !== undefined ? [contentType] : [])] : [];
    const r = await this.exec(process.execPath, ["-e", CLIENT, method, url, ...given]);
    if (r.status !== 0) throw new Error(`the pod's client exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout) as PodReply;
  }

  /** The TCP addresses something listens on in the pod's network (`ss`), as `address:port`, sorted. */
  async listening(): Promise<string[]> {
    const r = await this.exec("ss", ["-Hltn"]);
    if (r.status !== 0) throw new Error(`ss exited ${r.status}: ${r.stderr}`);
    return r.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => line.trim().split(/\s+/)[3])
      .sort();
  }
}
