/**
 * An exclusive lock file held by a process (`npm run cluster -- up`, a test run's cluster), so
 * that two of them do not race; a lock whose holder has ended is taken over.
 */
import * as fs from "fs";
import { ProcessIdentity, identityOf, stillRunning } from "./proc";
import { sleep } from "./supervision";

/** Who holds a lock file, when it says (a bare pid from an older version counts too). */
function lockHolder(lockFile: string): ProcessIdentity | undefined {
  let text: string;
  try {
    text = fs.readFileSync(lockFile, "utf8").trim();
  } catch {
    return undefined;
  }
  if (/^\d+$/.test(text)) return { pid: Number(text), startTime: "", command: "" };
  try {
    const id = JSON.parse(text) as ProcessIdentity;
    return Number.isInteger(id.pid) && id.pid > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The command that clears what a stuck holder left: stop it, then the cluster. */
export function clearCommand(pid: number): string {
  return `kill ${pid} && npm run cluster -- down`;
}

/**
 * Runs `fn` holding an exclusive lock file, so that two `up`s (two test runs, say) do not
 * race. A lock whose holder has ended (an aborted run) is removed, and `log` says so; one whose
 * holder still runs is waited for, up to `timeoutMs`, then refused with the command that clears it.
 */
export async function withLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; log?: (message: string) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, "wx");
      fs.writeSync(fd, `${JSON.stringify(identityOf())}\n`);
      fs.closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = lockHolder(lockFile);
      // A lock being written has no holder yet for a moment; one without a holder for longer is stale too.
      const age = Date.now() - (fs.statSync(lockFile, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if ((holder === undefined && age > 2000) || (holder !== undefined && !stillRunning(holder))) {
        fs.rmSync(lockFile, { force: true });
        const who = holder ? `pid ${holder.pid}${holder.command ? ` (${holder.command})` : ""}` : "a process that did not say";
        opts.log?.(`removed the stale lock ${lockFile}: ${who} no longer runs (an aborted run)`);
        continue;
      }
      if (Date.now() > deadline) {
        const who = holder ? `pid ${holder.pid}${holder.command ? ` (${holder.command})` : ""}` : "another process";
        throw new Error(
          `${lockFile} is held by ${who}, still running: another cluster command or test run of this checkout. ` +
            `Wait for it to end; if it is stuck, clear it with: ${holder ? clearCommand(holder.pid) : "npm run cluster -- down"}`,
        );
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}
