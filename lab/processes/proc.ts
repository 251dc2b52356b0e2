/**
 * What /proc says of a process, for the lab's supervision (detached.ts, lock.ts), the benchmark's
 * samples and the ports' reservations (lab/ports.ts): whether it runs, who it is (a reused pid is
 * another process), its children and its memory, and the text of a file that may not be there.
 */
import * as fs from "fs";

/** A file's text, or undefined where it cannot be read (gone, never there). */
export function readIfThere(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** A file of /proc/<pid>/, or undefined when the process is gone. */
export function readProc(pid: number, file: string): string | undefined {
  return readIfThere(`/proc/${pid}/${file}`);
}

/** Every process id in /proc. */
export function processIds(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** Whether the process runs and is not a zombie. */
export function alive(pid: number): boolean {
  const stat = readProc(pid, "stat");
  // Field 3 (after the parenthesised command) is the state; Z and X are dead.
  const procState = stat?.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return procState !== undefined && procState !== "Z" && procState !== "X";
}

/** The children of `pid` (by scanning /proc: /proc/<pid>/task/<pid>/children is not always there). */
export function childPids(pid: number): number[] {
  return processIds().filter((candidate) => {
    const stat = readProc(candidate, "stat");
    // Field 4 (the second after the parenthesised command) is the parent's pid.
    return stat !== undefined && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
  });
}

/** Resident memory of a process in bytes (VmRSS), or 0 when it is gone. */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readProc(pid, "status") ?? "");
  return match ? Number(match[1]) * 1024 : 0;
}

/** A process as /proc knows it: a reused pid has another start time, so it is never taken for this one. */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot. */
  startTime: string;
  /** Its command line, to name it in a message. */
  command: string;
}

function startTimeOf(pid: number): string | undefined {
  const stat = readProc(pid, "stat");
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (the state): a zombie has ended.
  return fields[0] === "Z" || fields[0] === "X" ? undefined : fields[19];
}

/** This process (or `pid`) as a ProcessIdentity. */
export function identityOf(pid: number = process.pid): ProcessIdentity {
  const command = (readProc(pid, "cmdline") ?? "").split("\0").filter(Boolean).join(" ");
  return { pid, startTime: startTimeOf(pid) ?? "", command: command.length > 200 ? `${command.slice(0, 200)}...` : command };
}

/** Whether the process still runs (same pid, same start time). */
export function stillRunning(id: ProcessIdentity): boolean {
  const startTime = startTimeOf(id.pid);
  return startTime !== undefined && (id.startTime === "" || startTime === id.startTime);
}

/** Whose a thing is (a cluster's owner): nobody's, this process's, a process that still runs, or one that has ended. */
export function ownerState(owner: ProcessIdentity | undefined): "none" | "self" | "running" | "ended" {
  if (owner === undefined) return "none";
  if (owner.pid === process.pid && stillRunning(owner)) return "self";
  return stillRunning(owner) ? "running" : "ended";
}

/**
 * The inotify instances this machine's processes hold (file descriptors that are one), and the
 * limit each user has (fs.inotify.max_user_instances; undefined where /proc does not say): a
 * process that cannot get one logs "too many open files" while it has descriptors to spare.
 */
export function inotifyInstances(): { held: number; limit: number | undefined } {
  const held = processIds().reduce((n, pid) => n + inotifyHeldBy(pid), 0);
  const limit = Number(readIfThere("/proc/sys/fs/inotify/max_user_instances")?.trim());
  return { held, limit: Number.isFinite(limit) && limit > 0 ? limit : undefined };
}

/** The inotify instances one process holds (0 when it is gone or its descriptors cannot be read). */
export function inotifyHeldBy(pid: number): number {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return 0;
  }
  let held = 0;
  for (const fd of fds) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:inotify") held++;
    } catch {
      // Closed meanwhile.
    }
  }
  return held;
}
