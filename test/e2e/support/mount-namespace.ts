/**
 * A mount namespace of the test's own (`unshare -m`, mounts private), holding small filesystems
 * that the processes started in it (`nsenter -m`) see at their data paths: loop-mounted ext4 images
 * (`mount -o loop`, detached by the kernel once the namespace ends), so that a volume can be filled
 * and freed without touching the machine's own filesystems. Mounting takes CAP_SYS_ADMIN: as root,
 * or through `sudo -n` (CI's runners); `mountNamespaceSupport` says why not when neither works, for
 * the test to skip with that reason. Everything in it is bounded in time (the namespace's holder
 * sleeps its lifetime; under sudo each process runs under `timeout`).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { LocalRun, ManagedProcess } from "../../../lab/processes/children";

/** How the test gets the privilege to mount: nothing (root), or `sudo -n`. */
export type Support = { ok: true; prefix: string[] } | { ok: false; reason: string };

function attempt(prefix: string[], dir: string): string | undefined {
  const image = path.join(dir, "probe.img");
  const mnt = path.join(dir, "mnt");
  fs.mkdirSync(mnt, { recursive: true });
  fs.closeSync(fs.openSync(image, "w"));
  fs.truncateSync(image, 8 * 2 ** 20);
  const mkfs = spawnSync("mkfs.ext4", ["-q", "-F", image], { encoding: "utf8" });
  if (mkfs.status !== 0) return `mkfs.ext4 failed: ${mkfs.error?.message ?? mkfs.stderr.trim()}`;
  const [cmd, ...args] = [...prefix, "unshare", "-m", "--propagation", "private", "--", "mount", "-o", "loop", image, mnt];
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 20_000 });
  return r.status === 0 ? undefined : `${[cmd, ...args].join(" ")}: ${r.error?.message ?? (r.stderr.trim() || `exit ${r.status}`)}`;
}

/** Whether this machine lets the test make a mount namespace and loop-mount an image in it, and how. */
export function mountNamespaceSupport(): Support {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mount-probe-"));
  try {
    const asRoot = process.getuid?.() === 0 ? attempt([], dir) : "not root";
    if (asRoot === undefined) return { ok: true, prefix: [] };
    const sudo =
      spawnSync("sudo", ["-n", "true"], { encoding: "utf8" }).status === 0 ? attempt(["sudo", "-n"], dir) : "no passwordless sudo";
    if (sudo === undefined) return { ok: true, prefix: ["sudo", "-n"] };
    return { ok: false, reason: `a mount namespace with a loop-mounted image is refused here (as root: ${asRoot}; with sudo: ${sudo})` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export class MountNamespace {
  private constructor(
    private readonly run: LocalRun,
    private readonly prefix: string[],
    readonly holderPid: number,
    private readonly ttlSeconds: number,
  ) {}

  /** A namespace held by a process of `run` for `ttlSeconds` at most. */
  static async create(run: LocalRun, prefix: string[], ttlSeconds: number): Promise<MountNamespace> {
    const [cmd, ...args] = [
      ...prefix,
      "unshare",
      "-m",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      `echo "holder $$"; exec sleep ${ttlSeconds}`,
    ];
    const holder = run.start("mount-namespace", cmd, args);
    const pid = await run.waitFor("the mount namespace's holder", () => holderPid(holder), 20_000, 100);
    return new MountNamespace(run, prefix, pid, ttlSeconds);
  }

  private command(args: string[]): [string, string[]] {
    const [cmd, ...rest] = [...this.prefix, "nsenter", "-t", String(this.holderPid), "-m", "--", ...args];
    return [cmd, rest];
  }

  /** Runs a command in the namespace to its end; fails with its output unless it exits 0. */
  exec(args: string[]): string {
    const [cmd, rest] = this.command(args);
    const r = spawnSync(cmd, rest, { encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${args.join(" ")} in the mount namespace: ${r.error?.message ?? ""}${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Starts a process in the namespace (under `timeout` when through sudo, which cannot pass a SIGKILL on). */
  start(name: string, binary: string, args: string[], env: Record<string, string> = {}): ManagedProcess {
    const bounded = this.prefix.length > 0 ? ["timeout", "-k", "5", String(this.ttlSeconds), binary, ...args] : [binary, ...args];
    const withEnv = Object.keys(env).length > 0 ? ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...bounded] : bounded;
    const [cmd, rest] = this.command(withEnv);
    return this.run.start(name, cmd, rest);
  }

  /**
   * A sparse ext4 image of `bytes` (the host keeps only what is written: a few MiB) loop-mounted at
   * `dir` in the namespace; `dir` is made on the host, where it stays empty.
   */
  mountImage(image: string, dir: string, bytes: number): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.closeSync(fs.openSync(image, "w"));
    fs.truncateSync(image, bytes);
    // No reserved blocks (the volume's whole size is the data's), few inodes, a small journal: little written to the image.
    const mkfs = spawnSync("mkfs.ext4", ["-q", "-F", "-m", "0", "-N", "4096", "-J", "size=4", "-E", "lazy_itable_init=0", image], {
      encoding: "utf8",
    });
    if (mkfs.status !== 0) throw new Error(`mkfs.ext4 ${image}: ${mkfs.stderr}`);
    this.exec(["mount", "-o", "loop", image, dir]);
  }

  /** The filesystem at `dir` as statfs sees it (what the kubelet reports of a volume): its size, free and available bytes, its block size. */
  statfs(dir: string): { capacity: number; available: number; used: number; blockSize: number } {
    const [size, blocks, free, avail] = this.exec(["stat", "-f", "-c", "%S %b %f %a", dir]).trim().split(" ").map(Number);
    return { capacity: blocks * size, available: avail * size, used: (blocks - free) * size, blockSize: size };
  }

  /**
   * Fills the filesystem at `dir` until `usedShare` of it is used, with files of its own (allocated,
   * not written: the image stays sparse); at 1, to the last block (the rest written as zeros).
   * Returns the bytes it took.
   */
  fill(dir: string, usedShare: number): number {
    const file = path.join(dir, "filler");
    this.free(dir);
    const before = this.statfs(dir);
    if (usedShare < 1) {
      const bytes = Math.floor(usedShare * before.capacity - before.used);
      if (bytes > 0) this.exec(["fallocate", "-l", String(bytes), file]);
    } else {
      // fallocate takes a size that fits whole: all but a MiB, then the last blocks written until none is left.
      this.exec([
        "sh",
        "-c",
        `fallocate -l ${Math.max(0, before.available - 2 ** 20)} ${file}; dd if=/dev/zero of=${file}.2 bs=4096 2>/dev/null; true`,
      ]);
    }
    return before.available - this.statfs(dir).available;
  }

  /** Removes what `fill` put on the filesystem at `dir`. */
  free(dir: string): void {
    this.exec(["rm", "-f", path.join(dir, "filler"), path.join(dir, "filler.2")]);
  }
}

/** The holder's pid, once it has printed it (the shell that execs sleep: the same process). */
function holderPid(holder: ManagedProcess): number | undefined {
  const m = /^holder (\d+)$/m.exec(holder.output(200));
  return m ? Number(m[1]) : undefined;
}
