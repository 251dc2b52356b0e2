/**
 * A user command's body (cli/commands/) run in this process as its entry in scripts/ runs it: with
 * a command line, what it prints on the console and the exit code its entry would give.
 */
import * as fs from "fs";
import * as path from "path";

class Exited extends Error {
  constructor(readonly code: number | undefined) {
    super(`process.exit(${code})`);
  }
}

/** What a command's body prints and the exit code its entry gives, run with `argv`. */
export async function runCommand(body: () => unknown, argv: string[]): Promise<{ out: string; err: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.argv;
  process.argv = ["node", "entry", ...argv];
  const log = jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = jest.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  // What the command writes itself (alert:test writes its lines on the streams).
  const write = (into: string[]) => (chunk: string | Uint8Array) => (into.push(String(chunk).replace(/\n$/, "")), true);
  const stdout = jest.spyOn(process.stdout, "write").mockImplementation(write(out) as typeof process.stdout.write);
  const stderr = jest.spyOn(process.stderr, "write").mockImplementation(write(err) as typeof process.stderr.write);
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  const exit = jest.spyOn(process, "exit").mockImplementation((code?: string | number | null) => {
    throw new Exited(typeof code === "number" ? code : 0);
  });
  try {
    const result = await body();
    // An entry that gets no number back leaves the exit code at 0.
    const code = typeof result === "number" ? result : typeof process.exitCode === "number" ? process.exitCode : 0;
    return { out: out.join("\n"), err: err.join("\n"), code };
  } catch (e) {
    if (e instanceof Exited) return { out: out.join("\n"), err: err.join("\n"), code: e.code ?? 0 };
    return { out: out.join("\n"), err: `${err.join("\n")}\n${e instanceof Error ? e.message : String(e)}`, code: 1 };
  } finally {
    process.argv = saved;
    log.mockRestore();
    error.mockRestore();
    exit.mockRestore();
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = exitCode;
  }
}

/**
 * Runs `body` with a stand-in `kubectl` (KUBECTL, as cli/commands/restore.ts reads it): a shell script in
 * `dir` that answers each call by a `case` on `subject` (a shell word such as `"$*"`), each of
 * `answers` a case pattern and what it does; any other call fails. With `calls`, each call's
 * arguments are appended to that file first. KUBECTL is restored after.
 */
export async function withKubectl<T>(
  dir: string,
  stand: { subject: string; answers: ReadonlyArray<readonly [pattern: string, action: string]>; calls?: string },
  body: () => Promise<T>,
): Promise<T> {
  const kubectl = path.join(dir, "kubectl");
  const script = [
    "#!/bin/sh",
    ...(stand.calls ? [`echo "$*" >> ${stand.calls}`] : []),
    `case ${stand.subject} in`,
    ...stand.answers.map(([pattern, action]) => `  ${pattern}) ${action} ;;`),
    "  *) exit 1 ;;",
    "esac",
    "",
  ];
  fs.writeFileSync(kubectl, script.join("\n"), { mode: 0o755 });
  const saved = process.env.KUBECTL;
  process.env.KUBECTL = kubectl;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.KUBECTL;
    else process.env.KUBECTL = saved;
  }
}
