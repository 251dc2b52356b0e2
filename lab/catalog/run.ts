/**
 * One catalogue source's run (scripts/catalog.ts): its throwaway directory, free ports,
 * processes (each in its own process group under `timeout`, so that it dies by itself after
 * PROCESS_TTL_SECONDS even if the generator is killed outright), sinks, and the command lines
 * the catalogue file shows.
 */
import * as fs from "fs";
import type * as http from "http";
import * as os from "os";
import * as path from "path";
import type { ImageName } from "../../components/images";
import { sinkHandler } from "../local/http";
import { LOOPBACK, freePorts } from "../ports";
import { LocalRun, ManagedProcess, User } from "../processes/children";
import { sleep, waitFor } from "../processes/supervision";
import { Scrape, scrapeTwice } from "../local/text-format";
import { ROOT } from "../tools/tools";

/** Every process started here is killed by `timeout` after this long, whatever happens to the generator. */
const PROCESS_TTL_SECONDS = 600;

export class CatalogError extends Error {}

/** A command line, as the catalogue file shows it. */
export interface Command {
  env?: Record<string, string>;
  binary: string;
  args: string[];
}

/** Metrics that only appear in another setup, and how that setup was made. */
export interface Block {
  /** Why these only appear in that setup (the `# conditional:` comment). */
  why: string;
  commands: Command[];
  names: Set<string>;
}

export interface Generated {
  /** Header sentences after the generated-by line: what ran against what. */
  notes: string[];
  commands: Command[];
  names: Set<string>;
  conditional?: Block[];
}

/** A source of the catalogue: its file, the image and binary it describes, and how its metrics are generated. */
export interface Source {
  /** The file, catalog/<name>.txt. */
  name: string;
  /** Project name for the header. */
  title: string;
  /** The image it describes; for a binary the stack does not deploy (k3s's Traefik), its release and where it runs. */
  image: ImageName | { version: string; runs: string };
  /** After the version and image in the first line: the job and what its labels mean. */
  job: string;
  /** The binary under .tools/bin the catalogue comes from. */
  binary: string;
  timeoutMs: number;
  generate(run: Run): Promise<Generated>;
  /** Sources whose file is partly hand-written: the generated part goes after that part. */
  handWritten?: true;
}

export const minus = (a: Iterable<string>, b: ReadonlySet<string>) => new Set([...a].filter((n) => !b.has(n)));

/** A local HTTP server that answers every request with `status` and counts them: Alertmanager's receivers, Loki's push API, remote write. */
export interface Sink {
  port: number;
  status: number;
  requests: number;
  /** Requests by path. */
  paths: Map<string, number>;
  url(pathname: string): string;
}

export class Run {
  readonly tmp: string;
  private readonly local = new LocalRun(PROCESS_TTL_SECONDS * 1000, { groupTtlSeconds: PROCESS_TTL_SECONDS, keepLines: 60 });
  private readonly ports = new Set<number>();
  private readonly cleanups: Array<() => Promise<void>> = [];
  /** Set by cleanup: a generator still running after its deadline may start nothing more. */
  private over = false;

  constructor(readonly source: string) {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `catalog-${source}-`));
  }

  async port(): Promise<number> {
    for (;;) {
      const [port] = await freePorts(1);
      if (!this.ports.has(port)) {
        this.ports.add(port);
        return port;
      }
    }
  }

  dir(...parts: string[]): string {
    const dir = path.join(this.tmp, ...parts);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  start(name: string, command: Command, opts: { cwd?: string; user?: User } = {}): ManagedProcess {
    if (this.over) throw new CatalogError(`${this.source} is over: not starting ${name}`);
    return this.local.start(name, command.binary, command.args, { ...opts, env: command.env });
  }

  /** An HTTP (or HTTPS) server on the loopback, closed at cleanup. */
  async serve(port: number, handler: http.RequestListener, tls?: { key: string; cert: string }): Promise<void> {
    if (this.over) throw new CatalogError(`${this.source} is over`);
    await this.local.serve(port, handler, tls);
  }

  /** Something to undo at cleanup, before the processes are stopped (last registered, first run). */
  defer(cleanup: () => Promise<void>): void {
    this.cleanups.unshift(cleanup);
  }

  async sink(): Promise<Sink> {
    if (this.over) throw new CatalogError(`${this.source} is over`);
    const port = await this.port();
    const sink: Sink = { port, status: 200, requests: 0, paths: new Map(), url: (pathname) => `http://${LOOPBACK}:${port}${pathname}` };
    await this.local.serve(
      port,
      sinkHandler((req) => {
        sink.requests++;
        sink.paths.set(req.path, (sink.paths.get(req.path) ?? 0) + 1);
        return { status: sink.status, body: sink.status < 300 ? "{}" : '{"error":"refused by the catalogue generator"}' };
      }),
    );
    return sink;
  }

  /** A command line as the header shows it: the throwaway directory as <tmp>, this run's ports as <port>. */
  show(command: Command): string {
    const words = [
      ...Object.entries(command.env ?? {}).map(([k, v]) => `${k}=${shellWord(v)}`),
      path.basename(command.binary),
      ...command.args.map(shellWord),
    ];
    let text = words.join(" ").split(this.tmp).join("<tmp>").split(`${ROOT}/`).join("");
    for (const port of this.ports) text = text.replace(new RegExp(`(?<=[:=\\s])${port}\\b`, "g"), "<port>");
    return text;
  }

  async cleanup(): Promise<void> {
    this.over = true;
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        await cleanup();
      } catch (err) {
        console.error(`catalog: ${this.source}: cleaning up: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    await this.local.stop(10_000);
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,<>-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Lines in the CRI format (as the kubelet writes pod logs), appended to `file`. */
export function writeCriLines(file: string, count: number): void {
  const lines = Array.from({ length: count }, (_, i) => `${new Date().toISOString()} stdout F level=info msg="catalogue line ${i}"\n`);
  fs.appendFileSync(file, lines.join(""));
}

/**
 * A log collector's run: it tails CRI-format pod log files under `<tmp>/<name>/pods` and pushes
 * to `sink` (twice, to see its steady metrics); returns its command line and its /metrics.
 */
export async function collectorRun(
  r: Run,
  name: string,
  sink: Sink,
  start: (logs: string, port: number) => Command,
): Promise<{ command: Command; scrape: Scrape }> {
  const logs = r.dir(name, "pods");
  const file = path.join(logs, "0.log");
  writeCriLines(file, 5);
  const port = await r.port();
  const command = start(logs, port);
  const proc = r.start(name, command);
  const before = sink.requests;
  await waitFor(`${name} pushing (or trying to)`, () => (sink.requests > before ? true : undefined), 60_000, 250, [proc]);
  await sleep(500);
  const first = sink.requests;
  writeCriLines(file, 5);
  await waitFor(`${name} pushing again`, () => (sink.requests > first ? true : undefined), 60_000, 250, [proc]);
  const result = await scrapeTwice(`http://${LOOPBACK}:${port}/metrics`);
  await proc.stop();
  return { command, scrape: result };
}

/**
 * A log collector's catalogue: its metrics while the sink accepts pushes (`start(false)`), and
 * those it adds while Loki refuses them (the sink answers 500; `start(true)`: a short backoff,
 * so that batches are retried and dropped at once).
 */
export async function collectorCatalogue(
  r: Run,
  name: string,
  sink: Sink,
  start: (fast: boolean) => (logs: string, port: number) => Command,
  note: string,
): Promise<Generated> {
  sink.status = 204;
  const ok = await collectorRun(r, name, sink, start(false));
  sink.status = 500;
  const failing = await collectorRun(r, `${name}-refused`, sink, start(true));
  return {
    notes: [note],
    commands: [ok.command],
    names: ok.scrape.names,
    conditional: [
      {
        why: "Loki refusing pushes (here the sink answers 500, with a short backoff so that batches are retried and dropped at once)",
        commands: [failing.command],
        names: minus(failing.scrape.names, ok.scrape.names),
      },
    ],
  };
}
