/**
 * The databases the stack's exporters watch, as real servers on 127.0.0.1 for the metric
 * catalogue (lab/catalog/) and the local stack (./stack/: the live lab, the benchmark): PostgreSQL and Redis
 * from their Debian packages, in throwaway directories, never on another address.
 * Callers start the returned commands with their own process management and stop them.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LOOPBACK } from "../ports";
import type { User } from "../processes/children";

export class LocalServerError extends Error {}

/** A server's command line. */
export interface ServerCommand {
  binary: string;
  args: string[];
  env?: Record<string, string>;
  user?: User;
}

/** Runs a command to completion and returns its output; fails with what it printed. */
export function runCommand(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; user?: User; timeoutMs?: number } = {},
): string {
  try {
    return execFileSync(command, args, {
      encoding: "utf8",
      env: opts.env ?? process.env,
      uid: opts.user?.uid,
      gid: opts.user?.gid,
      timeout: opts.timeoutMs ?? 60_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new LocalServerError(`${command} ${args.join(" ")} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

/** A command from a Debian package, or an error naming the package to install. */
export function systemCommand(command: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const file = path.join(dir, command);
    if (dir && fs.existsSync(file)) return file;
  }
  throw new LocalServerError(`${command} is not installed: install Debian's ${debianPackage} package (apt-get install ${debianPackage})`);
}

// ---------------------------------------------------------------------------
// PostgreSQL

/** Debian's PostgreSQL server binaries: the newest /usr/lib/postgresql/<major>/bin. */
export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const majors = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((d) => /^\d+$/.test(d) && fs.existsSync(path.join(root, d, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0)
    throw new LocalServerError("no PostgreSQL server found: install Debian's postgresql package (apt-get install postgresql)");
  return path.join(root, majors[0], "bin");
}

/** PostgreSQL refuses to run as root: as root, its processes run as the `postgres` user of the Debian package. */
export function postgresUser(): User | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return { uid: Number(runCommand("id", ["-u", "postgres"]).trim()), gid: Number(runCommand("id", ["-g", "postgres"]).trim()) };
}

export interface LocalPostgres {
  port: number;
  /** The server's command line (start it, then wait for `ready`). */
  command: ServerCommand;
  /** Runs SQL as the superuser; throws on error. */
  psql(sql: string, database?: string): string;
  /** A DSN for an exporter, as the stack's Secret would hold it. */
  dsn(database?: string): string;
}

/** Creates a throwaway cluster under `dir` (initdb, trust on the loopback) for a server on `port`. */
export function preparePostgres(dir: string, port: number): LocalPostgres {
  const bin = postgresBinDir();
  const user = postgresUser();
  fs.mkdirSync(dir, { recursive: true });
  if (user) {
    fs.chownSync(dir, user.uid, user.gid);
    // The server's user must get through the (throwaway) parent directory to reach its own.
    const parent = path.dirname(dir);
    fs.chmodSync(parent, fs.statSync(parent).mode | 0o011);
  }
  const data = path.join(dir, "data");
  runCommand(path.join(bin, "initdb"), ["-D", data, "--auth=trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"], { user });
  return {
    port,
    command: {
      binary: path.join(bin, "postgres"),
      // The socket directory is the throwaway one; TCP on the loopback only; no fsync for a lab.
      args: ["-D", data, "-k", dir, "-h", LOOPBACK, "-p", String(port), "-c", "fsync=off"],
      user,
    },
    psql: (sql, database = "postgres") =>
      runCommand(path.join(bin, "psql"), [
        "-h",
        LOOPBACK,
        "-p",
        String(port),
        "-U",
        "postgres",
        "-d",
        database,
        "-v",
        "ON_ERROR_STOP=1",
        "-qAt",
        "-c",
        sql,
      ]),
    dsn: (database = "postgres") => `postgresql://postgres@${LOOPBACK}:${port}/${database}?sslmode=disable`,
  };
}

// ---------------------------------------------------------------------------
// Redis

export interface LocalRedis {
  port: number;
  command: ServerCommand;
  /** redis-cli against this server. */
  cli(...args: string[]): string;
  /** REDIS_ADDR for the exporter. */
  address: string;
}

/** A throwaway Redis on `port` keeping nothing on disk (`extra`: e.g. --replicaof for a replica). */
export function prepareRedis(dir: string, port: number, extra: string[] = []): LocalRedis {
  const server = systemCommand("redis-server", "redis-server");
  const cli = systemCommand("redis-cli", "redis-tools");
  fs.mkdirSync(dir, { recursive: true });
  return {
    port,
    command: {
      binary: server,
      args: ["--port", String(port), "--bind", LOOPBACK, "--dir", dir, "--save", "", "--appendonly", "no", ...extra],
    },
    cli: (...args) => runCommand(cli, ["-h", LOOPBACK, "-p", String(port), ...args]),
    address: `redis://${LOOPBACK}:${port}`,
  };
}
