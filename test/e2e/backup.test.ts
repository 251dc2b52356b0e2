/**
 * Backups that restore, on the exact binaries (test/e2e: it runs binaries only, on 127.0.0.1, and
 * no lab data or cluster: the live tier's lab is not needed). The staging stack rendered with
 * `backup` on; its CronJobs' script (files/backup/backup.sh), commands and environment run here as
 * the pods would run them, with only what needs a cluster made local: the data directories (the
 * claims), the components' addresses (the backup Services), the bucket's endpoint and its key pair.
 *
 * - The bucket: `rclone serve s3` (the pinned rclone, the release of the backups' image) on a
 *   directory, with the key pair the test gives as the two secrets.
 * - Prometheus with its rendered args made local (the admin API and the OTLP receiver on): samples
 *   over ten minutes pushed to its OTLP endpoint; Loki with its rendered config made local: lines
 *   pushed; Alertmanager with its rendered args (maintenance every minute): a silence; Grafana's
 *   database: an SQLite file with Grafana's dashboard table and a dashboard saved in it (no Grafana
 *   binary can be built here: Debian's sqlite3 shell stands in for the image's).
 *
 * Each component is backed up (the init container's `snapshot`, then the main container's
 * `upload`), its data wiped, restored (`restore latest`, what `npm run restore` runs in its Job),
 * and the same answers come back from the restarted binaries: the same samples over the range,
 * the same lines, the silence active, the dashboard. A restore into a running component, or over
 * files, is refused; the upload keeps `keep` backups and pushes its outcome, which Prometheus stores.
 * Loki's upload that loses a file it listed before the copy (rclone's copy told to leave it out)
 * stays incomplete.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { runCommand } from "../../lab/tools/go-build";
import type { Rendered } from "../../cli/render";
import { localAlertmanagerArgs, writeAlertmanagerFiles } from "../../lab/local/alertmanager";
import { stackBinary } from "../../lab/local/binaries";
import { startS3Store } from "../../lab/local/s3-store";
import { httpGet, httpGetJson, postJson } from "../../lab/local/http";
import { localLokiConfig } from "../../lab/local/logs";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { ManagedProcess } from "../../lab/processes/children";
import { objectOf, render } from "../support/render";
import { localRun } from "./support/local-run";

jest.setTimeout(420_000);

const KEY_ID = "lab-access-key";
const SECRET_KEY = "lab-secret-key-0123456789";
const BUCKET = "monitoring-backups";
const COMPONENTS = ["prometheus", "alertmanager", "grafana", "loki"] as const;
type Component = (typeof COMPONENTS)[number];

interface CronJobPod {
  initContainers: Array<{ name: string; command: string[]; env: Array<{ name: string; value?: string; valueFrom?: unknown }> }>;
  containers: Array<{ name: string; command: string[]; env: Array<{ name: string; value?: string; valueFrom?: unknown }> }>;
}

/** The pod template of a rendered CronJob. */
function cronJobPod(rendered: Rendered, component: Component): CronJobPod {
  const spec = objectOf(rendered, "CronJob", `backup-${component}`).spec as { jobTemplate: { spec: { template: { spec: CronJobPod } } } };
  return spec.jobTemplate.spec.template.spec;
}

/** A container's environment as rendered, its Secret references filled with the test's key pair. */
function renderedEnv(env: CronJobPod["containers"][number]["env"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.name.endsWith("_ACCESS_KEY_ID")) out[e.name] = KEY_ID;
    else if (e.name.endsWith("_SECRET_ACCESS_KEY")) out[e.name] = SECRET_KEY;
    else throw new Error(`${e.name}: a reference the test does not know`);
  }
  return out;
}

/** The rendered args of a StatefulSet's container. */
function statefulSetArgs(rendered: Rendered, name: string): string[] {
  const spec = objectOf(rendered, "StatefulSet", name).spec as {
    template: { spec: { containers: Array<{ name: string; args: string[] }> } };
  };
  return spec.template.spec.containers.find((c) => c.name === name)?.args ?? [];
}

interface PromVector {
  data: { result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> };
}

describe("backups: the rendered CronJobs back up the deployed releases to a bucket, and restore them", () => {
  const run = localRun();
  let rendered: Rendered;
  let tmp: string;
  let script: string;
  const data: Record<Component, string> = { prometheus: "", alertmanager: "", grafana: "", loki: "" };
  const urls: Record<Component, string> = { prometheus: "", alertmanager: "", grafana: "", loki: "" };
  const starts: Partial<Record<Component, () => ManagedProcess>> = {};
  const procs: Partial<Record<Component, ManagedProcess>> = {};
  let s3Port = 0;
  /** The samples pushed: ten minutes, one every 10 s, ending a minute before the push. */
  let sampleEnd = 0;
  let pushedLines: string[] = [];
  let silenceId = "";
  /** Directories of their own to remove after the run. */
  const dirs: string[] = [];

  /** The environment a container of a component's CronJob gets, made local. */
  function localEnv(component: Component, container: "snapshot" | "upload", extra: Record<string, string> = {}): Record<string, string> {
    const pod = cronJobPod(rendered, component);
    const c = container === "snapshot" ? pod.initContainers[0] : pod.containers[0];
    expect(c.name).toBe(container);
    const env = renderedEnv(c.env);
    return {
      ...env,
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      BACKUP_DATA: data[component],
      BACKUP_URL: urls[component],
      BACKUP_WORK: path.join(tmp, `work-${component}`),
      ...(env.BACKUP_PUSH_URL ? { BACKUP_PUSH_URL: `${urls.prometheus}${new URL(env.BACKUP_PUSH_URL).pathname}` } : {}),
      ...(env.RCLONE_CONFIG_STORE_ENDPOINT ? { RCLONE_CONFIG_STORE_ENDPOINT: `http://${LOOPBACK}:${s3Port}` } : {}),
      HOME: path.join(tmp, `work-${component}`),
      RCLONE: stackBinary("rclone"),
      ...extra,
    };
  }

  /** The container's command (`/bin/sh /scripts/backup.sh <phase>`) with the rendered script's local path. */
  async function runContainer(component: Component, container: "snapshot" | "upload", extra: Record<string, string> = {}) {
    const pod = cronJobPod(rendered, component);
    const command = (container === "snapshot" ? pod.initContainers[0] : pod.containers[0]).command;
    expect(command.slice(0, 2)).toEqual(["/bin/sh", "/scripts/backup.sh"]);
    return runCommand("sh", [script, ...command.slice(2)], { env: localEnv(component, container, extra) });
  }

  /** `backup.sh restore latest` (and `list`) with the upload container's environment, as the restore Job runs it. */
  function runScript(component: Component, args: string[], extra: Record<string, string> = {}) {
    return runCommand("sh", [script, ...args], { env: localEnv(component, "upload", extra) });
  }

  async function backUp(component: Component): Promise<void> {
    fs.mkdirSync(path.join(tmp, `work-${component}`), { recursive: true });
    for (const container of ["snapshot", "upload"] as const) {
      const r = await runContainer(component, container);
      if (r.status !== 0) throw new Error(`${component} ${container} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
    }
  }

  const ready = (component: Component, page: string) =>
    run.waitFor(
      `${component} ready`,
      async () => ((await httpGet(`${urls[component]}${page}`).catch(() => undefined))?.status === 200 ? true : undefined),
      90_000,
      500,
    );

  async function promQuery(query: string, time: number): Promise<PromVector["data"]["result"]> {
    const q = new URLSearchParams({ query, time: String(time) });
    return (await httpGetJson<PromVector>(`${urls.prometheus}/api/v1/query?${q.toString()}`)).data.result;
  }

  async function lokiLines(): Promise<string[]> {
    const q = new URLSearchParams({
      query: '{job="backup-lab"}',
      start: `${sampleEnd - 900}000000000`,
      end: `${Math.ceil(Date.now() / 1000) + 60}000000000`,
      limit: "100",
    });
    const r = await httpGetJson<{ data: { result: Array<{ values: Array<[string, string]> }> } }>(
      `${urls.loki}/loki/api/v1/query_range?${q.toString()}`,
    );
    return r.data.result.flatMap((s) => s.values.map(([, line]) => line)).sort();
  }

  const dashboards = async () =>
    (await runCommand("sqlite3", [path.join(data.grafana, "grafana.db"), "SELECT uid, title, data FROM dashboard ORDER BY id;"])).stdout;

  beforeAll(async () => {
    rendered = await render("staging", [
      "backup.enabled=true",
      `backup.bucket=${BUCKET}`,
      "backup.endpoint=https://0123456789abcdef.r2.cloudflarestorage.com",
      `backupAccessKeyId=${KEY_ID}`,
      `backupSecretAccessKey=${SECRET_KEY}`,
    ]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "backup-e2e-"));
    script = path.join(tmp, "backup.sh");
    fs.writeFileSync(script, rendered.files.get("backup/backup.sh") ?? "");
    for (const c of COMPONENTS) {
      data[c] = path.join(tmp, `data-${c}`);
      fs.mkdirSync(data[c]);
    }
    const [s3, prom, am, lokiHttp, lokiGrpc, grafana] = await freePorts(6);
    s3Port = s3;
    urls.prometheus = `http://${LOOPBACK}:${prom}`;
    urls.alertmanager = `http://${LOOPBACK}:${am}`;
    urls.loki = `http://${LOOPBACK}:${lokiHttp}`;
    // Nothing listens there: Grafana is stopped (the restore checks it is).
    urls.grafana = `http://${LOOPBACK}:${grafana}`;

    // The bucket.
    startS3Store(run, { root: path.join(tmp, "s3"), port: s3Port, bucket: BUCKET, accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY });

    // Prometheus: the rendered args, its config and addresses made local (no scrape job: only the pushed samples).
    const promArgs = statefulSetArgs(rendered, "prometheus");
    expect(promArgs).toEqual(expect.arrayContaining(["--web.enable-admin-api", "--web.enable-otlp-receiver"]));
    fs.writeFileSync(path.join(tmp, "prometheus.yml"), "global:\n  scrape_interval: 15s\n");
    fs.writeFileSync(path.join(tmp, "web-config.yaml"), rendered.files.get("prometheus/web-config.yaml") ?? "");
    const localProm = promArgs.map((a) =>
      a.startsWith("--config.file=")
        ? `--config.file=${path.join(tmp, "prometheus.yml")}`
        : a.startsWith("--storage.tsdb.path=")
          ? `--storage.tsdb.path=${data.prometheus}`
          : a.startsWith("--web.listen-address=")
            ? `--web.listen-address=${LOOPBACK}:${prom}`
            : a.startsWith("--web.config.file=")
              ? `--web.config.file=${path.join(tmp, "web-config.yaml")}`
              : a,
    );
    starts.prometheus = () => run.start("prometheus", stackBinary("prometheus"), localProm);

    // Loki: the rendered config made local.
    const lokiArgs = statefulSetArgs(rendered, "loki");
    const lokiRoot = path.join(tmp, "loki-root");
    const lokiConfig = localLokiConfig(rendered.files.get("loki/loki.yaml") ?? "", lokiRoot, { http: lokiHttp, grpc: lokiGrpc });
    // The claim is the data directory itself (the rerooted /var/loki): the backup's BACKUP_DATA.
    fs.rmSync(data.loki, { recursive: true });
    data.loki = path.join(lokiRoot, "var", "loki");
    fs.mkdirSync(data.loki, { recursive: true });
    fs.mkdirSync(path.join(lokiRoot, "etc", "loki", "rules"), { recursive: true });
    fs.writeFileSync(path.join(tmp, "loki.yaml"), YAML.stringify(lokiConfig));
    starts.loki = () =>
      run.start("loki", stackBinary("loki"), [
        ...lokiArgs.filter((a) => !a.startsWith("-config.file=")),
        `-config.file=${path.join(tmp, "loki.yaml")}`,
      ]);

    // Alertmanager: the rendered files and args, its storage the claim.
    const amArgs = statefulSetArgs(rendered, "alertmanager");
    expect(amArgs).toContain("--data.maintenance-interval=1m");
    const { dir: amDir, config } = writeAlertmanagerFiles(rendered, "backup-e2e-am-");
    dirs.push(amDir);
    const localAm = localAlertmanagerArgs(amArgs, { config, storage: data.alertmanager, web: am, mesh: 0, peers: [] });
    starts.alertmanager = () => run.start("alertmanager", stackBinary("alertmanager"), localAm);

    for (const c of ["prometheus", "loki", "alertmanager"] as const) procs[c] = starts[c]?.();
    await ready("prometheus", "/-/ready");
    await ready("alertmanager", "/-/ready");
    await ready("loki", "/ready");

    // Samples over a range, pushed with their own timestamps (the OTLP receiver the backups push to).
    sampleEnd = Math.floor(Date.now() / 1000) - 60;
    const points = Array.from({ length: 60 }, (_, i) => ({
      timeUnixNano: `${sampleEnd - (59 - i) * 10}000000000`,
      asDouble: i * 1.5,
      attributes: [{ key: "lab", value: { stringValue: "backup" } }],
    }));
    const otlp = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "backup-lab" } }] },
          scopeMetrics: [{ metrics: [{ name: "lab_backup_samples", gauge: { dataPoints: points } }] }],
        },
      ],
    };
    expect((await postJson(`${urls.prometheus}/api/v1/otlp/v1/metrics`, otlp)).status).toBe(200);

    // Lines.
    const now = Date.now();
    pushedLines = ["order 1 accepted", "payment failed: card declined", "order 3 accepted"];
    const push = {
      streams: [{ stream: { job: "backup-lab" }, values: pushedLines.map((line, i) => [`${now - (3 - i) * 1000}000000`, line]) }],
    };
    expect((await postJson(`${urls.loki}/loki/api/v1/push`, push)).status).toBe(204);
    pushedLines.sort();

    // A silence.
    const silence = await postJson(`${urls.alertmanager}/api/v2/silences`, {
      matchers: [{ name: "alertname", value: "BackupLab", isRegex: false, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 24 * 3600_000).toISOString(),
      createdBy: "backup-e2e",
      comment: "kept across a restore",
    });
    expect(silence.status).toBe(200);
    silenceId = (JSON.parse(silence.body) as { silenceID: string }).silenceID;

    // Grafana's database: its dashboard table (the columns the stack's UI saves), one dashboard.
    const created = await runCommand("sqlite3", [
      path.join(data.grafana, "grafana.db"),
      "CREATE TABLE dashboard (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, version INTEGER NOT NULL, slug TEXT NOT NULL, title TEXT NOT NULL, data TEXT NOT NULL, org_id INTEGER NOT NULL, created DATETIME NOT NULL, updated DATETIME NOT NULL, uid TEXT);" +
        `INSERT INTO dashboard (version, slug, title, data, org_id, created, updated, uid) VALUES (1, 'saved-from-the-ui', 'Saved from the UI', '{"panels":[{"type":"timeseries","title":"orders"}]}', 1, datetime('now'), datetime('now'), 'saved-1');`,
    ]);
    expect(created.status).toBe(0);
  });

  afterAll(() => {
    for (const dir of [tmp, ...dirs]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("each component backs up, is wiped, restores, and answers the same", async () => {
    const range = `lab_backup_samples[10m]`;
    const before = await promQuery(range, sampleEnd + 1);
    expect(before).toHaveLength(1);
    expect(before[0].values).toHaveLength(60);
    expect(await lokiLines()).toEqual(pushedLines);
    const dashboardBefore = await dashboards();
    expect(dashboardBefore).toContain("saved-1|Saved from the UI|");

    for (const c of COMPONENTS) await backUp(c);
    const measured: string[] = [];

    // Each a complete backup named <stack>-<component>-<UTC time>, with its size.
    for (const c of COMPONENTS) {
      const list = await runScript(c, ["list"]);
      expect({ c, status: list.status }).toEqual({ c, status: 0 });
      const names = list.stdout.trim().split("\n");
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(new RegExp(`^staging-${c}-\\d{8}T\\d{6}Z$`));
      const complete = JSON.parse(fs.readFileSync(path.join(tmp, "s3", BUCKET, "staging", c, names[0], "COMPLETE.json"), "utf8")) as {
        bytes: number;
        started: number;
        finished: number;
      };
      expect({ c, big: complete.bytes > 0 }).toEqual({ c, big: true });
      measured.push(`${c} ${complete.bytes} bytes in ${complete.finished - complete.started} s`);
    }
    // What each backup took here (docs/operations.md quotes none: it depends on the data).
    console.info(`backups: ${measured.join(", ")}`);
    // The snapshot left nothing on Prometheus' volume.
    expect(fs.readdirSync(path.join(data.prometheus, "snapshots"))).toEqual([]);

    // The outcome, as Prometheus stores it: one size per component, under job "backup".
    const sizes = await promQuery('monitoring_backup_size_bytes{job="backup", stack="staging"}', Math.floor(Date.now() / 1000));
    expect(sizes.map((s) => s.metric.component).sort()).toEqual([...COMPONENTS].sort());

    // Refused while the component runs, and over files without --replace.
    const running = await runScript("prometheus", ["restore", "latest"]);
    expect(running.status).not.toBe(0);
    expect(running.stderr).toContain("prometheus answers at");
    const overFiles = await runScript("grafana", ["restore", "latest"]);
    expect(overFiles.status).not.toBe(0);
    expect(overFiles.stderr).toContain("holds files");

    // Stopped, wiped, restored, started again.
    for (const c of ["prometheus", "loki", "alertmanager"] as const) await procs[c]?.stop();
    for (const c of COMPONENTS) {
      fs.rmSync(data[c], { recursive: true, force: true });
      fs.mkdirSync(data[c], { recursive: true });
    }
    expect(fs.existsSync(path.join(data.grafana, "grafana.db"))).toBe(false);
    for (const c of COMPONENTS) {
      const r = await runScript(c, ["restore", "latest"]);
      expect({ c, status: r.status, stderr: r.stderr }).toEqual({ c, status: 0, stderr: expect.stringContaining("restored staging-") });
    }
    for (const c of ["prometheus", "loki", "alertmanager"] as const) procs[c] = starts[c]?.();
    await ready("prometheus", "/-/ready");
    await ready("alertmanager", "/-/ready");
    await ready("loki", "/ready");

    // The same samples over the range, the same lines, the silence active, the dashboard.
    expect(await promQuery(range, sampleEnd + 1)).toEqual(before);
    await run.waitFor("Loki's lines after the restore", async () => ((await lokiLines()).length === 3 ? true : undefined), 30_000, 1000);
    expect(await lokiLines()).toEqual(pushedLines);
    const silences = await httpGetJson<Array<{ id: string; status: { state: string }; comment: string }>>(
      `${urls.alertmanager}/api/v2/silences`,
    );
    expect(silences.map((s) => ({ id: s.id, state: s.status.state, comment: s.comment }))).toEqual([
      { id: silenceId, state: "active", comment: "kept across a restore" },
    ]);
    expect(await dashboards()).toBe(dashboardBefore);
  });

  test("the upload keeps the newest `keep` complete backups of a component", async () => {
    for (let i = 0; i < 3; i++) {
      // A new second, a new name.
      await new Promise((r) => setTimeout(r, 1100));
      for (const container of ["snapshot", "upload"] as const) {
        const r = await runContainer("grafana", container, { BACKUP_KEEP: "2" });
        expect({ container, status: r.status, stderr: r.stderr }).toEqual({ container, status: 0, stderr: expect.any(String) });
      }
    }
    const list = await runScript("grafana", ["list"]);
    expect(list.stdout.trim().split("\n")).toHaveLength(2);
    expect(fs.readdirSync(path.join(tmp, "s3", BUCKET, "staging", "grafana"))).toHaveLength(2);
  });

  test("two runs of Prometheus' backup at once (a manual Job beside the schedule's) both complete; a snapshot older than a run's deadline goes", async () => {
    // After the first test: Prometheus, restored, runs with its admin API.
    const snapshots = path.join(data.prometheus, "snapshots");
    fs.mkdirSync(path.join(snapshots, "20000101T000000Z-00000000000000aa"), { recursive: true });
    fs.mkdirSync(path.join(snapshots, "not-a-snapshot"), { recursive: true });
    const complete = async () => (await runScript("prometheus", ["list"])).stdout.split("\n").filter(Boolean);
    const listed = await complete();
    const work = (run: string) => {
      const dir = path.join(tmp, `work-prometheus-${run}`);
      fs.mkdirSync(dir, { recursive: true });
      return { BACKUP_WORK: dir, HOME: dir };
    };
    // The first run takes its snapshot; the second runs whole meanwhile; then the first uploads its own.
    const first = work("first");
    const firstSnapshot = await runContainer("prometheus", "snapshot", first);
    expect(firstSnapshot.stderr).toContain("removed the snapshot 20000101T000000Z-00000000000000aa");
    expect(firstSnapshot.stderr).toContain("removed the snapshot not-a-snapshot");
    expect(firstSnapshot.status).toBe(0);
    const taken = fs.readdirSync(snapshots);
    expect(taken).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1100));
    const second = work("second");
    const said: string[] = [];
    for (const container of ["snapshot", "upload"] as const) {
      const r = await runContainer("prometheus", container, second);
      expect({ container, status: r.status }).toEqual({ container, status: 0 });
      said.push(r.stderr);
    }
    await new Promise((r) => setTimeout(r, 1100));
    const upload = await runContainer("prometheus", "upload", first);
    expect({ status: upload.status, stderr: upload.status === 0 ? "" : upload.stderr }).toEqual({ status: 0, stderr: "" });
    // The second run left the first's snapshot to it, saying so.
    expect(said[0]).toContain(`left the snapshot ${taken[0]} alone`);
    // Two more complete backups, and each run removed its own snapshot.
    expect(await complete()).toHaveLength(listed.length + 2);
    expect(fs.readdirSync(snapshots)).toEqual([]);
  });

  test("Loki's upload is checked against its files listed before the copy: one missing from the bucket, still on the volume, leaves it incomplete", async () => {
    // After the first test: Loki, restored and running, holds its flushed chunks and index beside its WAL.
    const folder = path.join(tmp, "s3", BUCKET, "staging", "loki");
    const listed = (await runScript("loki", ["list"])).stdout.trim().split("\n");
    fs.mkdirSync(path.join(tmp, "work-loki"), { recursive: true });
    expect((await runContainer("loki", "snapshot")).status).toBe(0);
    // A file the bucket loses during the copy (as when another run deleted part of the folder under it): rclone's
    // copy, through a wrapper, leaves it out; every other command is rclone's own.
    const files = fs
      .readdirSync(data.loki, { recursive: true, encoding: "utf8" })
      .filter((f) => !f.includes("wal") && fs.statSync(path.join(data.loki, f)).isFile())
      .sort();
    expect(files.length).toBeGreaterThan(1);
    const lost = files[0];
    const wrapper = path.join(tmp, "rclone-losing-a-file");
    fs.writeFileSync(
      wrapper,
      `#!/bin/sh\nif [ "$1" = copy ]; then shift; exec ${stackBinary("rclone")} copy --exclude "/${lost}" "$@"; fi\nexec ${stackBinary("rclone")} "$@"\n`,
      { mode: 0o755 },
    );
    const before = new Set(fs.readdirSync(folder));
    const r = await runContainer("loki", "upload", { RCLONE: wrapper });
    expect({ status: r.status, said: r.stderr.includes(`files listed before the upload and still in`) && r.stderr.includes(lost) }).toEqual(
      {
        status: 1,
        said: true,
      },
    );
    const made = fs.readdirSync(folder).filter((d) => !before.has(d));
    expect(made).toHaveLength(1);
    expect(fs.existsSync(path.join(folder, made[0], "COMPLETE.json"))).toBe(false);
    expect((await runScript("loki", ["list"])).stdout.trim().split("\n")).toEqual(listed);
  });
});
