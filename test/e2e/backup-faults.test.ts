/**
 * Backups that fail safe, on the exact binaries: the rendered CronJobs' script (files/backup/backup.sh)
 * with their environment made local, as in test/e2e/backup.test.ts, against `rclone serve s3` (the
 * pinned rclone) behind a proxy that breaks it on purpose (support/store-proxy.ts), and Prometheus
 * with its rendered args (its TSDB snapshot, and the outcome pushed to its OTLP endpoint).
 *
 * 1. The store stopped mid-upload: the job fails, Prometheus' volume keeps no snapshot, the partial
 *    upload is never listed, the failure is pushed (BackupFailed's series); a snapshot a killed run
 *    left is removed by the next run; the next good run deletes the partial upload, nothing else.
 * 2. A listing refused, at each listing a good run makes in turn: no complete backup is deleted,
 *    and a run that could not list fails.
 * 3. A download cut mid-restore, and a backup whose file no longer matches its manifest: the
 *    volume restored over (`--replace`) is as it was, byte for byte, with no leftover; once the
 *    store is back, it is the backup's files exactly.
 * 4. Folders not ours beside the backups (one kept by hand, one dated 2030, each with a manifest):
 *    runs complete and keep both, `list` and `restore latest` see the newest of ours alone.
 *
 * One thing is added to the rendered environment: rclone's retries cut to one (RCLONE_RETRIES,
 * RCLONE_LOW_LEVEL_RETRIES), so that a store that is gone fails a command in a second rather than
 * in the 8 minutes rclone's retries take by default: what is tested is what happens once it gives up.
 * The healthy runs around a fault (backUpHealthy) set them back to rclone's defaults, 3 and 10.
 *
 * `BACKUP_SCRIPT=<file>` runs another copy of the script (main's, to show these failing on it).
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { runCommand, type Ran } from "../../lab/tools/go-build";
import type { Rendered } from "../../cli/render";
import { stackBinary } from "../../lab/local/binaries";
import { startS3Store } from "../../lab/local/s3-store";
import { httpGet, httpGetJson, postJson } from "../../lab/local/http";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { recordFault } from "../support/fault-report";
import { objectOf, render } from "../support/render";
import { localRun } from "./support/local-run";
import { StoreProxy } from "./support/store-proxy";

jest.setTimeout(420_000);

const KEY_ID = "lab-access-key";
const SECRET_KEY = "lab-secret-key-0123456789";
const BUCKET = "monitoring-backups";
type Component = "prometheus" | "grafana";
type Env = Array<{ name: string; value?: string }>;
interface Pod {
  initContainers: Array<{ command: string[]; env: Env }>;
  containers: Array<{ command: string[]; env: Env }>;
}

/** Every file under a directory (hidden ones too) and its MD5, by relative path. */
function digest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort()) {
    const file = path.join(dir, rel);
    if (fs.statSync(file).isFile()) out[rel] = crypto.createHash("md5").update(fs.readFileSync(file)).digest("hex");
  }
  return out;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("backups fail safe: the store stopped mid-upload, a listing refused, a download cut", () => {
  const run = localRun();
  let rendered: Rendered;
  let tmp: string;
  let script: string;
  let proxy: StoreProxy;
  let promUrl = "";
  const data: Record<Component, string> = { prometheus: "", grafana: "" };
  /** What each fault left, for docs/operations.md's Faults section. */
  const figures: string[] = [];
  /** The tests that passed: the figures go to the report only when every one did (each asserts what it lost is nothing). */
  let passed = 0;

  const folder = (c: Component) => path.join(tmp, "s3", BUCKET, "staging", c);
  /** The folders of a component's backups in the bucket (empty ones are no object: none), complete or not. */
  function bucket(c: Component): { complete: string[]; incomplete: string[] } {
    const dirs = fs.existsSync(folder(c)) ? fs.readdirSync(folder(c)).sort() : [];
    const held = dirs.filter((d) => fs.readdirSync(path.join(folder(c), d), { recursive: true }).length > 0);
    return {
      complete: held.filter((d) => fs.existsSync(path.join(folder(c), d, "COMPLETE.json"))),
      incomplete: held.filter((d) => !fs.existsSync(path.join(folder(c), d, "COMPLETE.json"))),
    };
  }
  /** A backup's files as the bucket holds them, its manifest aside. */
  function backupFiles(c: Component, name: string): Record<string, string> {
    const { ["COMPLETE.json"]: _manifest, ...files } = digest(path.join(folder(c), name));
    void _manifest;
    return files;
  }

  function env(c: Component, container: "snapshot" | "upload", extra: Record<string, string>): Record<string, string> {
    const spec = objectOf(rendered, "CronJob", `backup-${c}`).spec as { jobTemplate: { spec: { template: { spec: Pod } } } };
    const pod = spec.jobTemplate.spec.template.spec;
    const out: Record<string, string> = {};
    for (const e of (container === "snapshot" ? pod.initContainers[0] : pod.containers[0]).env) {
      if (e.value !== undefined) out[e.name] = e.value;
      else if (e.name.endsWith("_ACCESS_KEY_ID")) out[e.name] = KEY_ID;
      else if (e.name.endsWith("_SECRET_ACCESS_KEY")) out[e.name] = SECRET_KEY;
    }
    const work = path.join(tmp, `work-${c}`);
    fs.mkdirSync(work, { recursive: true });
    return {
      ...out,
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      BACKUP_DATA: data[c],
      // Grafana is stopped: nothing answers there.
      BACKUP_URL: c === "prometheus" ? promUrl : `http://${LOOPBACK}:1`,
      BACKUP_WORK: work,
      HOME: work,
      BACKUP_PUSH_URL: `${promUrl}${new URL(out.BACKUP_PUSH_URL).pathname}`,
      RCLONE_CONFIG_STORE_ENDPOINT: `http://${LOOPBACK}:${proxy.port}`,
      RCLONE: stackBinary("rclone"),
      RCLONE_RETRIES: "1",
      RCLONE_LOW_LEVEL_RETRIES: "1",
      ...extra,
    };
  }
  /** A phase of the CronJob (`snapshot`, `upload`) or the restore Job's command (`restore latest`, `list`). */
  async function phase(c: Component, args: string[], extra: Record<string, string> = {}): Promise<Ran & { seconds: number }> {
    const started = Date.now();
    const r = await runCommand("sh", [script, ...args], { env: env(c, args[0] === "snapshot" ? "snapshot" : "upload", extra) });
    return { ...r, seconds: (Date.now() - started) / 1000 };
  }
  /** A good run: snapshot then upload, in a new second (a new name). */
  async function backUp(c: Component, extra: Record<string, string> = {}): Promise<void> {
    await pause(1100);
    for (const p of ["snapshot", "upload"]) {
      const r = await phase(c, [p], extra);
      if (r.status !== 0) throw new Error(`${c} ${p} exited ${r.status}:\n${r.stderr}\n${run.diagnostics(20)}`);
    }
  }
  /**
   * A good run against a store that nothing breaks (the proxy passes everything), with rclone's default
   * retries (--retries 3, --low-level-retries 10), as the CronJob runs it: `rclone serve s3` once answered one PutObject of a healthy run
   * 500 (a CI run, 2026-11-26), which the one try the faults are tested with made a failed run.
   */
  const backUpHealthy = (c: Component, extra: Record<string, string> = {}) =>
    backUp(c, { ...extra, RCLONE_RETRIES: "3", RCLONE_LOW_LEVEL_RETRIES: "10" });
  async function query(q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const answer = await httpGetJson<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(
      `${promUrl}/api/v1/query?${new URLSearchParams({ query: q }).toString()}`,
    );
    return answer.data.result;
  }

  beforeAll(async () => {
    rendered = await render("staging", [
      "backup.enabled=true",
      `backup.bucket=${BUCKET}`,
      "backup.endpoint=https://0123456789abcdef.r2.cloudflarestorage.com",
      `backupAccessKeyId=${KEY_ID}`,
      `backupSecretAccessKey=${SECRET_KEY}`,
    ]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "backup-faults-"));
    script = process.env.BACKUP_SCRIPT ?? path.join(tmp, "backup.sh");
    if (!process.env.BACKUP_SCRIPT) fs.writeFileSync(script, rendered.files.get("backup/backup.sh") ?? "");
    for (const c of ["prometheus", "grafana"] as const) fs.mkdirSync((data[c] = path.join(tmp, `data-${c}`)));
    const [s3, front, prom] = await freePorts(3);
    promUrl = `http://${LOOPBACK}:${prom}`;
    startS3Store(run, { root: path.join(tmp, "s3"), port: s3, bucket: BUCKET, accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY });
    proxy = await run.own(new StoreProxy(front, s3));

    // Grafana's database: a table of 1 MiB, so that a download can be cut in its middle.
    const db = await runCommand("sqlite3", [
      path.join(data.grafana, "grafana.db"),
      "CREATE TABLE lab (id INTEGER PRIMARY KEY, blob BLOB); INSERT INTO lab (blob) VALUES (randomblob(1048576));",
    ]);
    expect(db.status).toBe(0);
  });

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    console.info(`backup faults:\n  ${figures.join("\n  ")}`);
    if (passed === 3)
      recordFault({
        fault: "1. Backup faults: the store stopped mid-upload, a listing refused, a download cut",
        test: "test/e2e/backup-faults.test.ts",
        lost: { "snapshots left on Prometheus' volume": 0, "complete backups deleted": 0, "restored volumes not whole": 0 },
        figures: Object.fromEntries(figures.map((f) => [f.slice(0, f.indexOf(": ")), f.slice(f.indexOf(": ") + 2)])),
      });
  });

  describe("Prometheus", () => {
    beforeAll(async () => {
      // Prometheus: its rendered args, made local (as test/e2e/backup.test.ts does).
      const args =
        (
          objectOf(rendered, "StatefulSet", "prometheus").spec as {
            template: { spec: { containers: Array<{ name: string; args: string[] }> } };
          }
        ).template.spec.containers.find((c) => c.name === "prometheus")?.args ?? [];
      fs.writeFileSync(path.join(tmp, "prometheus.yml"), "global:\n  scrape_interval: 15s\n");
      fs.writeFileSync(path.join(tmp, "web-config.yaml"), rendered.files.get("prometheus/web-config.yaml") ?? "");
      const local: Record<string, string> = {
        "--config.file": path.join(tmp, "prometheus.yml"),
        "--storage.tsdb.path": data.prometheus,
        "--web.listen-address": `${LOOPBACK}:${new URL(promUrl).port}`,
        "--web.config.file": path.join(tmp, "web-config.yaml"),
      };
      run.start(
        "prometheus",
        stackBinary("prometheus"),
        args.map((a) => (a.split("=")[0] in local ? `${a.split("=")[0]}=${local[a.split("=")[0]]}` : a)),
      );
      await run.waitFor(
        "prometheus ready",
        async () => ((await httpGet(`${promUrl}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
        90_000,
        500,
      );
      // Samples to back up: a thousand series over ten minutes.
      const end = Math.floor(Date.now() / 1000) - 60;
      const metrics = Array.from({ length: 1000 }, (_, s) => ({
        name: "lab_backup_samples",
        gauge: {
          dataPoints: Array.from({ length: 60 }, (_, i) => ({
            timeUnixNano: `${end - (59 - i) * 10}000000000`,
            asDouble: s * i,
            attributes: [{ key: "series", value: { stringValue: String(s) } }],
          })),
        },
      }));
      const otlp = {
        resourceMetrics: [
          { resource: { attributes: [{ key: "service.name", value: { stringValue: "backup-lab" } }] }, scopeMetrics: [{ metrics }] },
        ],
      };
      expect((await postJson(`${promUrl}/api/v1/otlp/v1/metrics`, otlp, 30_000)).status).toBe(200);
    });

    test("the store stopped mid-upload: no snapshot left, nothing listed, the failure pushed; the next run cleans up", async () => {
      await backUpHealthy("prometheus");
      const good = bucket("prometheus").complete;
      expect(good).toHaveLength(1);
      const size = Object.keys(backupFiles("prometheus", good[0])).length;

      proxy.arm({ kind: "none" });
      const started = Math.floor(Date.now() / 1000);
      await pause(1100);
      expect((await phase("prometheus", ["snapshot"])).status).toBe(0);
      proxy.arm({ kind: "stop-after-upload", bytes: 64 * 1024 });
      const cut = await phase("prometheus", ["upload"]);
      expect(proxy.stopped).toBe(true);
      // Prometheus' volume holds no snapshot; the partial upload is there, not complete.
      expect(fs.readdirSync(path.join(data.prometheus, "snapshots"))).toEqual([]);
      expect({ status: cut.status, stderr: cut.stderr }).toEqual({
        status: 1,
        stderr: expect.stringContaining("the upload of staging-prometheus-"),
      });
      // The files done before the cut are in a folder of their own, without a manifest (none, if none was done).
      const cutBucket = bucket("prometheus");
      expect(cutBucket.complete).toEqual(good);
      expect(cutBucket.incomplete.length).toBeLessThanOrEqual(1);
      const partial = cutBucket.incomplete[0] ?? "";
      figures.push(
        `store stopped after ${proxy.uploaded} bytes uploaded (of a ${size}-file backup): the upload failed in ${cut.seconds.toFixed(1)} s, ` +
          `0 snapshots left, ${partial ? Object.keys(digest(path.join(folder("prometheus"), partial))).length : 0} files of an incomplete folder left until the next run`,
      );
      // The failure is pushed, and BackupFailed's expression (as rendered) holds for it.
      const failed = await query('monitoring_backup_last_failure_timestamp_seconds{job="backup", component="prometheus"}');
      expect(failed.map((s) => Number(s.value[1]) >= started)).toEqual([true]);
      const rules = YAML.parse(rendered.files.get("prometheus/backup.yml") ?? "") as {
        groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
      };
      const rule = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === "BackupFailed");
      expect(rule).toBeDefined();
      expect((await query(rule?.expr ?? "")).map((s) => s.metric.component)).toEqual(["prometheus"]);

      // The store back: the partial upload is never listed.
      await proxy.start();
      proxy.arm({ kind: "none" });
      const list = await phase("prometheus", ["list"]);
      expect(list.stdout.trim().split("\n")).toEqual(good);

      // A run killed between its snapshot and its upload (no trap runs) leaves a snapshot: the next run removes it once
      // older than a run's deadline (a younger one may be another run's: test/e2e/backup.test.ts). Aged here by its
      // name, the UTC time Prometheus gives it, as if taken a day ago.
      expect((await phase("prometheus", ["snapshot"])).status).toBe(0);
      const [left] = fs.readdirSync(path.join(data.prometheus, "snapshots"));
      const dayAgo = new Date(Date.now() - 86_400_000)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z");
      fs.renameSync(
        path.join(data.prometheus, "snapshots", left),
        path.join(data.prometheus, "snapshots", `${dayAgo}${left.slice(left.indexOf("-"))}`),
      );
      await backUpHealthy("prometheus");
      expect(fs.readdirSync(path.join(data.prometheus, "snapshots"))).toEqual([]);
      // The next good run keeps the complete one, and the partial upload: younger than the Job's deadline
      // (BACKUP_DEADLINE_SECONDS), it could be a run still uploading.
      const after = bucket("prometheus");
      expect(after.incomplete).toEqual(partial ? [partial] : []);
      expect(after.complete).toEqual([good[0], expect.stringMatching(/^staging-prometheus-/)]);
      expect(after.complete[1] > partial).toBe(true);

      // The Job's deadline (SIGTERM) mid-upload, the store holding the upload: the trap stops rclone and removes the snapshot.
      expect((await phase("prometheus", ["snapshot"])).status).toBe(0);
      proxy.arm({ kind: "hold-uploads" });
      const upload = spawn("sh", [script, "upload"], { env: env("prometheus", "upload", {}), stdio: "ignore" });
      const ended = new Promise<number | string | null>((resolve) => upload.once("exit", (code, signal) => resolve(code ?? signal)));
      await run.waitFor("an upload held by the store", () => (proxy.held > 0 ? true : undefined), 30_000, 50);
      const termAt = Date.now();
      upload.kill("SIGTERM");
      expect(await ended).toBe(143);
      expect(fs.readdirSync(path.join(data.prometheus, "snapshots"))).toEqual([]);
      figures.push(`SIGTERM mid-upload (the Job's deadline): the run ended in ${Date.now() - termAt} ms, exit 143, 0 snapshots left`);
      await proxy.stop();
      await proxy.start();
      proxy.arm({ kind: "none" });
      passed++;
    });
  });

  test("a listing refused, at each listing of a run in turn: no complete backup deleted, the run fails", async () => {
    const keep = { BACKUP_KEEP: "100" };
    await backUp("grafana", keep);
    await backUp("grafana", keep);
    proxy.arm({ kind: "none" });
    await backUp("grafana", keep);
    const listings = proxy.listings;
    expect(listings).toBeGreaterThan(2);
    const outcomes: string[] = [];
    const said: Array<{ n: number; status: number | null; made: number; why: string }> = [];
    /** A run with listing `n` (of the folder `prefix`, or any) refused. */
    async function refused(n: number, prefix?: string, afterManifest = false): Promise<void> {
      const before = bucket("grafana").complete;
      await pause(1100);
      expect((await phase("grafana", ["snapshot"], keep)).status).toBe(0);
      proxy.arm({ kind: "deny-listing", listing: n, afterManifest, ...(prefix ? { prefix } : {}) });
      const r = await phase("grafana", ["upload"], keep);
      const after = bucket("grafana").complete;
      // No complete backup deleted, whichever listing was refused.
      expect({ n, prefix, deleted: before.filter((b) => !after.includes(b)) }).toEqual({ n, prefix, deleted: [] });
      // The script's last word, the push that follows a failure aside.
      const lines = r.stderr
        .trim()
        .split("\n")
        .filter((l) => !l.includes("could not push"));
      const why = (lines.pop() ?? "").replace(/^backup staging\/grafana: /, "");
      said.push({ n, status: r.status, made: after.length - before.length, why });
      outcomes.push(
        `${prefix ? "of the oldest backup's folder " : afterManifest ? "after the manifest " : ""}${n}: ${r.status === 0 ? "done" : `failed (${why.split(" (")[0]})`}`,
      );
    }
    // The listings of one folder, the oldest complete backup's, each refused in turn: the one that checks it is complete among them.
    const oldest = `staging/grafana/${bucket("grafana").complete[0]}/`;
    proxy.arm({ kind: "deny-listing", listing: 0, prefix: oldest });
    await backUp("grafana", keep);
    const ofFolder = proxy.listings;
    expect(ofFolder).toBeGreaterThan(0);
    for (let n = 1; n <= ofFolder; n++) await refused(n, oldest);
    for (let n = 1; n <= listings; n++) await refused(n);
    // Those after the new backup's manifest went up (retention's), each refused in turn: counted from there, so that none shifts out of reach.
    proxy.arm({ kind: "deny-listing", listing: 0, afterManifest: true });
    await backUp("grafana", keep);
    const afterManifest = proxy.listings;
    expect(afterManifest).toBeGreaterThan(0);
    for (let n = 1; n <= afterManifest; n++) await refused(n, undefined, true);

    // A run that could not list failed with the script's reason (exit 1); one that went on made a complete backup.
    for (const o of said) {
      const failed = o.status !== 0;
      expect({ ...o, why: /cannot list|failed|could not/.test(o.why) }).toEqual({
        ...o,
        status: failed ? 1 : 0,
        why: failed,
        made: failed ? o.made : 1,
      });
    }
    figures.push(
      `a listing refused at each of the ${ofFolder} listings of the oldest backup's folder in a run, at each of the ${listings} listings of a run, then at each of the ${afterManifest} after its manifest: ` +
        `${outcomes.join(", ")}; 0 complete backups deleted`,
    );

    // Retention, once listings answer: the newest two complete backups stay, older ones go; the incomplete
    // ones, younger than the Job's deadline, stay (test "an upload still running" below).
    proxy.arm({ kind: "none" });
    const { complete, incomplete } = bucket("grafana");
    await backUpHealthy("grafana", { BACKUP_KEEP: "2" });
    const now = bucket("grafana");
    expect(now.incomplete).toEqual(incomplete);
    expect(now.complete).toHaveLength(2);
    expect(now.complete[0]).toBe(complete[complete.length - 1]);
    passed++;
  });

  test("an incomplete upload is never listed nor restored; a cut download or a changed file leaves the volume as it was", async () => {
    const { complete: good, incomplete: earlier } = bucket("grafana");
    // An upload the store stopped in: the newest folder, its database in, incomplete.
    await pause(1100);
    expect((await phase("grafana", ["snapshot"])).status).toBe(0);
    // The store stops as the manifest goes up, after the database (a single file: the store keeps no half of one).
    proxy.arm({ kind: "stop-after-upload", bytes: fs.statSync(path.join(tmp, "work-grafana", "data", "grafana.db")).size + 1 });
    expect((await phase("grafana", ["upload"])).status).not.toBe(0);
    await proxy.start();
    proxy.arm({ kind: "none" });
    const partial = bucket("grafana").incomplete.filter((d) => !earlier.includes(d));
    expect(partial).toHaveLength(1);
    expect(partial[0] > good[good.length - 1]).toBe(true);
    expect((await phase("grafana", ["list"])).stdout.trim().split("\n")).toEqual(good);

    // The volume holds newer data than any backup: a row written since.
    const db = path.join(data.grafana, "grafana.db");
    expect((await runCommand("sqlite3", [db, "INSERT INTO lab (blob) VALUES (randomblob(1000));"])).status).toBe(0);
    const before = digest(data.grafana);
    const backupSize = fs.statSync(db).size;

    // The download cut halfway: the volume as it was, no download left.
    proxy.arm({ kind: "stop-after-download", bytes: 512 * 1024 });
    const cut = await phase("grafana", ["restore", "latest"], { BACKUP_REPLACE: "1" });
    expect(proxy.stopped).toBe(true);
    expect(digest(data.grafana)).toEqual(before);
    expect(cut.status).toBe(1);
    figures.push(
      `download cut after ${proxy.downloaded} of ${backupSize} bytes: the restore failed in ${cut.seconds.toFixed(1)} s, the volume byte-identical (${Object.keys(before).length} files), nothing left beside it`,
    );
    await proxy.start();
    proxy.arm({ kind: "none" });

    // The newest backup's file changed in the bucket (its object rewritten, the store's own checksum matching it): refused against the manifest.
    const newest = good[good.length - 1];
    const other = path.join(tmp, "other.db");
    fs.writeFileSync(other, crypto.randomBytes(4096));
    const rewritten = await runCommand(stackBinary("rclone"), ["copyto", other, `store:${BUCKET}/staging/grafana/${newest}/grafana.db`], {
      env: { ...env("grafana", "upload", {}), RCLONE_CONFIG: "/dev/null" },
    });
    expect(rewritten.status).toBe(0);
    const changed = await phase("grafana", ["restore", "latest"], { BACKUP_REPLACE: "1" });
    expect(digest(data.grafana)).toEqual(before);
    expect({ status: changed.status, said: /differs from its manifest/.test(changed.stderr) }).toEqual({ status: 1, said: true });

    // The one before it, whole: the volume is that backup's files exactly.
    const previous = good[good.length - 2];
    const restored = await phase("grafana", ["restore", previous], { BACKUP_REPLACE: "1" });
    expect({ status: restored.status, stderr: restored.stderr }).toEqual({
      status: 0,
      stderr: expect.stringContaining(`restored ${previous}`),
    });
    expect(digest(data.grafana)).toEqual(backupFiles("grafana", previous));
    figures.push(
      `a file changed in the bucket: the restore refused against the manifest, the volume byte-identical; the backup before it restored in ${restored.seconds.toFixed(1)} s`,
    );
    passed++;
  });

  test("only folders named as ours count: one kept by hand is never counted nor deleted; one dated in the future is left alone, never the newest", async () => {
    proxy.arm({ kind: "none" });
    await backUpHealthy("grafana");
    const real = bucket("grafana").complete.filter((b) => /^staging-grafana-\d{8}T\d{6}Z$/.test(b));
    const newest = real[real.length - 1];
    // Two folders with a manifest, copied by hand from the newest backup: one kept before an upgrade, one dated 2030.
    const kept = "keep-before-upgrade";
    const future = "staging-grafana-20300101T000000Z";
    for (const name of [kept, future]) {
      const copied = await runCommand(
        stackBinary("rclone"),
        ["copy", `store:${BUCKET}/staging/grafana/${newest}`, `store:${BUCKET}/staging/grafana/${name}`],
        { env: { ...env("grafana", "upload", {}), RCLONE_CONFIG: "/dev/null" } },
      );
      expect(copied.status).toBe(0);
    }
    expect(bucket("grafana").complete).toEqual(expect.arrayContaining([kept, future]));

    // A run keeping one backup: it completes, deletes the older backups of ours, and neither folder.
    await pause(1100);
    expect((await phase("grafana", ["snapshot"])).status).toBe(0);
    const run1 = await phase("grafana", ["upload"], { BACKUP_KEEP: "1", RCLONE_RETRIES: "3", RCLONE_LOW_LEVEL_RETRIES: "10" });
    expect({ status: run1.status, future: run1.stderr.includes(`${future} is dated in the future`) }).toEqual({ status: 0, future: true });
    const after = bucket("grafana").complete;
    const made = after.filter((b) => b !== kept && b !== future);
    expect(made).toHaveLength(1);
    expect(made[0] > newest).toBe(true);
    expect(after).toEqual([kept, made[0], future]);
    // The next run too (the folder dated 2030 is never "the newest" it must be).
    await pause(1100);
    expect((await phase("grafana", ["snapshot"])).status).toBe(0);
    const run2 = await phase("grafana", ["upload"], { BACKUP_KEEP: "1", RCLONE_RETRIES: "3", RCLONE_LOW_LEVEL_RETRIES: "10" });
    expect(run2.status).toBe(0);
    const last = bucket("grafana").complete.filter((b) => b !== kept && b !== future);
    expect(last).toHaveLength(1);

    // list shows ours alone; restore latest takes the newest of ours, not the one dated 2030.
    expect((await phase("grafana", ["list"])).stdout.trim().split("\n")).toEqual(last);
    const restored = await phase("grafana", ["restore", "latest"], { BACKUP_REPLACE: "1" });
    expect({ status: restored.status, restored: restored.stderr.includes(`restored ${last[0]} `) }).toEqual({ status: 0, restored: true });
    expect(digest(data.grafana)).toEqual(backupFiles("grafana", last[0]));
    figures.push(
      `a folder kept by hand and one dated 2030, both with a manifest: two runs with keep 1 completed, both folders kept, restore latest took ${last[0]}`,
    );
  });

  test("an upload still running beside a run (a manual Job): its folder is kept; an incomplete one older than the Job's deadline goes", async () => {
    proxy.arm({ kind: "none" });
    await backUpHealthy("grafana");
    const deadline = Number(env("grafana", "upload", {}).BACKUP_DEADLINE_SECONDS);
    expect(deadline).toBe(3 * 3600);
    const stamp = (at: number) =>
      new Date(at * 1000)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z");
    const now = Math.floor(Date.now() / 1000);
    // Another run's folder as the bucket holds it mid-upload: named as it started (now), half its files, no manifest;
    // and one a run left 4 hours ago, past the deadline that ended it.
    const running = `staging-grafana-${stamp(now - 5)}`;
    const left = `staging-grafana-${stamp(now - deadline - 3600)}`;
    const half = path.join(tmp, "half");
    fs.mkdirSync(half, { recursive: true });
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(half, `part-${i}`), crypto.randomBytes(1024));
    for (const name of [running, left]) {
      const copied = await runCommand(stackBinary("rclone"), ["copy", half, `store:${BUCKET}/staging/grafana/${name}`], {
        env: { ...env("grafana", "upload", {}), RCLONE_CONFIG: "/dev/null" },
      });
      expect(copied.status).toBe(0);
    }
    expect(bucket("grafana").incomplete).toEqual(expect.arrayContaining([running, left]));
    await pause(1100);
    expect((await phase("grafana", ["snapshot"])).status).toBe(0);
    const r = await phase("grafana", ["upload"], { RCLONE_RETRIES: "3", RCLONE_LOW_LEVEL_RETRIES: "10" });
    expect({ status: r.status, kept: r.stderr.includes(`kept incomplete ${running}`) }).toEqual({ status: 0, kept: true });
    const after = bucket("grafana").incomplete;
    expect({ running: after.includes(running), left: after.includes(left) }).toEqual({ running: true, left: false });
    expect(Object.keys(digest(path.join(folder("grafana"), running)))).toHaveLength(20);
    figures.push(
      `an upload still running (20 files, named 5 s ago) kept by a run beside it; an incomplete folder named ${deadline + 3600} s ago deleted`,
    );
  });
});
