/**
 * What /proc says of a process, for the local cluster's supervision (processes.ts) and the ports'
 * reservations (ports.ts): whether it runs, and the text of a file that may not be there.
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
