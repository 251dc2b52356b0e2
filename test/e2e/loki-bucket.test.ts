/**
 * Loki on a bucket through a lost volume, on the exact binaries: the staging stack rendered with
 * loki.objectStore (its first day today), the rendered loki.yaml made local (lab/local/logs.ts: data
 * paths and listen addresses; here also the store's endpoint, the bucket's address being the one
 * thing a cluster would give) and the rendered environment (its Secret's key pair), against
 * `rclone serve s3` (the pinned rclone) on a directory of 127.0.0.1.
 *
 * - Loki A pushes its first lines to the bucket: its chunks flushed (POST /flush, what
 *   chunk_idle_period and max_chunk_age do on their own), its index shipped (a stop ships the index
 *   being written, as its 15-minute rotation does on its own). Started again on its claim, it takes
 *   more lines: some flushed (chunks in the bucket, their index still on the claim), some not flushed.
 * - A killed (SIGKILL: the node lost), its claim copied aside (the claim that survives, below) and
 *   its directory deleted. Loki B, on an empty directory with the same bucket: every flushed and
 *   shipped line reads back; those that were not are counted, each one younger than Loki's own
 *   window (its /config: max_chunk_age, then the index's rotation and upload), and the never-flushed
 *   ones are all among them.
 * The figures (lines, objects, the window, the losses) go to out/live/faults/ (test/support/fault-report.ts).
 * - Loki C on the claim that survived, with the same bucket: every line reads back (the WAL replays
 *   what was not flushed, the claim's index names the flushed chunks): 0 lost.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import type { Rendered } from "../../cli/render";
import { stackBinary } from "../../lab/local/binaries";
import { startS3Store } from "../../lab/local/s3-store";
import { httpGet, httpRequest, isReady, postJson } from "../../lab/local/http";
import { localLokiConfig } from "../../lab/local/logs";
import { LOOPBACK, freePorts } from "../../lab/ports";
import type { ManagedProcess } from "../../lab/processes/children";
import { objectOf, objectsOf, render } from "../support/render";
import { recordFault } from "../support/fault-report";
import { localRun } from "./support/local-run";

jest.setTimeout(420_000);

const KEY_ID = "lab-loki-key";
const SECRET_KEY = "lab-loki-secret-0123456789";
const BUCKET = "monitoring-logs";
const STREAM = { namespace: "bucket-lab", pod: "numbers-0", job: "bucket-lab/numbers" };
/** Lines of each step: shipped (A's first run), flushed only (A's second), never flushed. */
const SHIPPED = 300;
const FLUSHED = 200;
const UNFLUSHED = 100;
/** Loki's tsdb head rotation (upstream's head_manager.go: 15 minutes, not configurable), its check (1 minute) and the shipper's upload (1 minute). */
const INDEX_SHIP_SECONDS = 15 * 60 + 60 + 60;

type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };

/** Loki's environment as rendered, each Secret reference read from the rendered Secret. */
function renderedEnv(rendered: Rendered): Record<string, string> {
  const spec = objectOf(rendered, "StatefulSet", "loki").spec as {
    template: { spec: { containers: Array<{ name: string; env?: Env[] }> } };
  };
  const out: Record<string, string> = {};
  for (const e of spec.template.spec.containers.find((c) => c.name === "loki")?.env ?? []) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const secret = objectsOf(rendered, "Secret", ref.name)[0] as { stringData?: Record<string, string> } | undefined;
      const value = secret?.stringData?.[ref.key];
      if (value === undefined) throw new Error(`${e.name}: the rendered Secret ${ref.name} has no ${ref.key}`);
      out[e.name] = value;
    } else throw new Error(`${e.name}: a reference the test does not know`);
  }
  return out;
}

/** Seconds from a Loki duration such as 2h, 30m or 1h30m0s. */
function seconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g))
    total += Number(n) * { h: 3600, m: 60, s: 1, ms: 0.001 }[unit as "h"];
  return total;
}

/** Every file under a directory, relative to it. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

describe("Loki on a bucket: a lost volume loses only what was not flushed, a kept claim nothing", () => {
  const run = localRun();
  let rendered: Rendered;
  let tmp: string;
  let lokiUrl: string;
  let ports: { http: number; grpc: number };
  let s3Url: string;
  /** Each line's push time (ms), by number. */
  const pushedAt: number[] = [];
  let since = 0;

  beforeAll(async () => {
    const today = new Date().toISOString().slice(0, 10);
    rendered = await render("staging", [
      `loki.objectStore.bucket=${BUCKET}`,
      "loki.objectStore.endpoint=https://0123456789abcdef.r2.cloudflarestorage.com",
      `loki.objectStore.from=${today}`,
      `lokiAccessKeyId=${KEY_ID}`,
      `lokiSecretAccessKey=${SECRET_KEY}`,
    ]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "loki-bucket-"));
    const [s3, http, grpc] = await freePorts(3);
    ports = { http, grpc };
    lokiUrl = `http://${LOOPBACK}:${http}`;
    s3Url = startS3Store(run, {
      root: path.join(tmp, "s3"),
      port: s3,
      bucket: BUCKET,
      accessKeyId: KEY_ID,
      secretAccessKey: SECRET_KEY,
    }).url;
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const bucketFiles = (under: string) => filesUnder(path.join(tmp, "s3", BUCKET, under));

  /** Loki with the rendered config made local, its data under `root`, the rendered args and environment. */
  async function startLoki(name: string, root: string): Promise<ManagedProcess> {
    const config = localLokiConfig(rendered.files.get("loki/loki.yaml") ?? "", root, ports) as Record<string, Record<string, unknown>>;
    // The store's address is the cluster's to give: the rendered S3 client pointed at the local store, nothing added.
    const aws = config.storage_config?.aws as Record<string, unknown> | undefined;
    if (aws) aws.endpoint = s3Url;
    const file = path.join(tmp, `${name}.yaml`);
    fs.writeFileSync(file, YAML.stringify(config));
    fs.mkdirSync(path.join(root, "etc", "loki", "rules", "fake"), { recursive: true });
    const args = (
      objectOf(rendered, "StatefulSet", "loki").spec as { template: { spec: { containers: Array<{ name: string; args: string[] }> } } }
    ).template.spec.containers
      .find((c) => c.name === "loki")
      ?.args.map((a) => (a.startsWith("-config.file=") ? `-config.file=${file}` : a));
    const proc = run.start(name, stackBinary("loki"), args ?? [], { env: renderedEnv(rendered), inheritEnv: false });
    await run.waitFor(`${name} ready`, () => isReady(lokiUrl, "/ready"), 120_000, 500);
    return proc;
  }

  /** Pushes lines numbered from..to, a millisecond apart, in pushes of 100. */
  async function push(from: number, to: number): Promise<void> {
    for (let start = from; start <= to; start += 100) {
      const values: Array<[string, string]> = [];
      for (let n = start; n <= Math.min(to, start + 99); n++) {
        const at = Date.now();
        pushedAt[n] = at;
        values.push([
          `${BigInt(at) * 1_000_000n + BigInt(n % 1_000_000)}`,
          `seq=${String(n).padStart(6, "0")} a numbered line of the bucket lab`,
        ]);
      }
      const r = await postJson(`${lokiUrl}/loki/api/v1/push`, { streams: [{ stream: STREAM, values }] });
      if (r.status !== 204) throw new Error(`the push answered ${r.status}: ${r.body}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The numbers Loki answers for the stream (every entry, forward, pages of 5000). */
  async function stored(): Promise<Set<number>> {
    const query = encodeURIComponent(`{namespace="${STREAM.namespace}", pod="${STREAM.pod}"}`);
    const numbers = new Set<number>();
    let start = `${since - 60_000}000000`;
    for (;;) {
      const r = await httpGet(
        `${lokiUrl}/loki/api/v1/query_range?query=${query}&start=${start}&end=${Date.now() + 60_000}000000&limit=5000&direction=forward`,
        30_000,
      );
      if (r.status !== 200) throw new Error(`Loki's query answered ${r.status}: ${r.body.slice(0, 300)}`);
      const values = (JSON.parse(r.body) as { data: { result: Array<{ values: Array<[string, string]> }> } }).data.result.flatMap(
        (s) => s.values,
      );
      for (const [, line] of values) numbers.add(Number(/^seq=(\d+) /.exec(line)?.[1]));
      if (values.length < 5000) break;
      start = (values.map(([t]) => BigInt(t)).reduce((a, b) => (a > b ? a : b)) + 1n).toString();
    }
    return numbers;
  }
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const missing = (have: Set<number>, from: number, to: number) => range(from, to).filter((n) => !have.has(n));

  /** Flushes the ingester's chunks (POST /flush) and waits until the bucket holds more chunk objects than `before`. */
  async function flush(before: number): Promise<number> {
    const r = await httpRequest("POST", `${lokiUrl}/flush`, { timeoutMs: 10_000 });
    expect(r.status).toBe(204);
    return run.waitFor(
      "the flushed chunks in the bucket",
      async () => {
        const chunks = bucketFiles("fake").length;
        return chunks > before ? chunks : undefined;
      },
      60_000,
      500,
    );
  }

  test("flushed lines read back from the bucket alone; the rest from the kept claim's WAL", async () => {
    const claim = path.join(tmp, "claim");
    since = Date.now();

    // A: lines flushed and their index shipped (the stop builds and uploads the index being written).
    let loki = await startLoki("loki-a", claim);
    await push(1, SHIPPED);
    expect(missing(await stored(), 1, SHIPPED)).toEqual([]);
    const chunksShipped = await flush(0);
    await loki.stop(60_000);
    const shippedAt = Date.now();
    const indexFiles = bucketFiles("index").length;
    expect(indexFiles).toBeGreaterThan(0);

    // A again on its claim: lines flushed (chunks in the bucket, their index on the claim), then lines never flushed.
    loki = await startLoki("loki-a2", claim);
    const window = YAML.parse((await httpGet(`${lokiUrl}/config`, 10_000)).body) as {
      ingester: { chunk_idle_period: string; max_chunk_age: string; wal: { enabled: boolean; flush_on_shutdown: boolean } };
    };
    await push(SHIPPED + 1, SHIPPED + FLUSHED);
    const chunksFlushed = await flush(chunksShipped);
    await push(SHIPPED + FLUSHED + 1, SHIPPED + FLUSHED + UNFLUSHED);
    const total = SHIPPED + FLUSHED + UNFLUSHED;
    expect(missing(await stored(), 1, total)).toEqual([]);

    // The node lost: A killed, its directory gone; the claim copied aside first, for the claim that survives.
    await loki.kill();
    const killedAt = Date.now();
    const kept = path.join(tmp, "kept-claim");
    fs.cpSync(claim, kept, { recursive: true });
    fs.rmSync(claim, { recursive: true });

    // B on an empty directory, the same bucket: every shipped line; what was not shipped counted against Loki's window.
    loki = await startLoki("loki-b", path.join(tmp, "empty"));
    const fromBucket = await stored();
    const lost = missing(fromBucket, 1, total);
    expect({ shippedMissing: missing(fromBucket, 1, SHIPPED) }).toEqual({ shippedMissing: [] });
    // Never flushed: only A's memory and WAL held them.
    expect({ unflushedRead: range(SHIPPED + FLUSHED + 1, total).filter((n) => fromBucket.has(n)) }).toEqual({ unflushedRead: [] });
    // Loki's window, as the running Loki reports it: a line waits at most max_chunk_age for its chunk's flush, then the index's rotation and upload.
    const windowSeconds = seconds(window.ingester.max_chunk_age) + INDEX_SHIP_SECONDS;
    const oldestLostAge = lost.length > 0 ? (killedAt - Math.min(...lost.map((n) => pushedAt[n]))) / 1000 : 0;
    expect(oldestLostAge).toBeLessThan(windowSeconds);
    expect(lost.every((n) => pushedAt[n] >= shippedAt - 60_000)).toBe(true);
    await loki.stop(60_000);

    // C on the claim that survived, the same bucket: the WAL and the claim's index give back the rest.
    loki = await startLoki("loki-c", kept);
    const fromClaim = await stored();
    expect({ lostWithClaim: missing(fromClaim, 1, total) }).toEqual({ lostWithClaim: [] });
    await loki.stop(60_000);

    recordFault({
      fault: "8. Loki's volume lost, its chunks and index on a bucket (loki.objectStore); then its claim kept",
      test: "test/e2e/loki-bucket.test.ts",
      lost: { "lines, the volume lost": lost.length, "lines, the claim kept": missing(fromClaim, 1, total).length },
      figures: {
        "lines pushed (shipped / flushed, index on the claim / never flushed)": `${total} (${SHIPPED} / ${FLUSHED} / ${UNFLUSHED})`,
        "objects in the bucket: chunks after each flush, index files after the stop": `${chunksShipped}, ${chunksFlushed}, ${indexFiles}`,
        "lost with the volume (read back from the bucket alone)": `${lost.length} (${total - lost.length} read back)`,
        "oldest line lost, age at the kill (s)": oldestLostAge.toFixed(1),
        "Loki's window: chunk_idle_period / max_chunk_age / index rotation + upload (s)": `${window.ingester.chunk_idle_period} / ${window.ingester.max_chunk_age} / ${INDEX_SHIP_SECONDS}`,
        "WAL enabled, flush on shutdown": `${window.ingester.wal.enabled}, ${window.ingester.wal.flush_on_shutdown}`,
      },
    });
  });
});
