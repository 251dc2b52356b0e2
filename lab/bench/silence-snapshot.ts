/**
 * What one snapshot of Alertmanager's silences costs, on the exact binary (built by `npm run
 * tools`): the figure `alertmanager.maintenanceInterval`'s default is chosen from
 * (docs/operations.md, Faults). For each count of silences, one Alertmanager on a fresh data
 * directory, the silences posted through its API, then its maintenance (garbage collection, the
 * snapshot written to a new file, fsynced, renamed over the old one) run every second for a few
 * rounds: the duration of each as Alertmanager logs it ("Maintenance done", at debug level), the
 * bytes of the file, and the process' CPU time over those rounds per round.
 *
 *   npx ts-node --transpile-only lab/bench/silence-snapshot.ts [10 1000 10000]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stackBinary } from "../local/binaries";
import { httpGet, postJson } from "../local/http";
import { LOOPBACK, freePorts } from "../ports";
import { LocalRun } from "../processes/children";
import { sleep } from "../processes/supervision";

export interface SnapshotCost {
  silences: number;
  /** Bytes of the silences file after the rounds. */
  bytes: number;
  /** Each round's maintenance as Alertmanager logged it, in milliseconds. */
  maintenanceMs: number[];
  /** Alertmanager's CPU time per round (user + system, its whole process) while only maintenance ran. */
  cpuMsPerRound: number;
}

const ROUNDS = 5;
const CONFIG = "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n";

/** A duration as Go prints it (`1.234ms`, `56.7µs`, `1.2s`), in milliseconds. */
export function goDurationMs(text: string): number {
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/([\d.]+)(ns|µs|us|ms|s|m|h)/g)) {
    const scale: Record<string, number> = { ns: 1e-6, µs: 1e-3, us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
    ms += Number(n) * scale[unit];
  }
  return ms;
}

/** CPU time of process `pid` so far, in milliseconds (/proc/<pid>/stat: utime + stime). */
function cpuMs(pid: number): number {
  const fields = fs
    .readFileSync(`/proc/${pid}/stat`, "utf8")
    .replace(/^.*\) /, "")
    .split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

export async function measureSnapshot(silences: number): Promise<SnapshotCost> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "silence-snapshot-"));
  const run = new LocalRun(10 * 60_000);
  try {
    fs.writeFileSync(path.join(dir, "alertmanager.yml"), CONFIG);
    const [web, mesh] = await freePorts(2);
    const url = `http://${LOOPBACK}:${web}`;
    const proc = run.start("alertmanager", stackBinary("alertmanager"), [
      `--config.file=${path.join(dir, "alertmanager.yml")}`,
      `--storage.path=${path.join(dir, "data")}`,
      `--web.listen-address=${LOOPBACK}:${web}`,
      `--cluster.listen-address=${LOOPBACK}:${mesh}`,
      // Long while the silences are posted; the rounds are timed from the logs of a restart below.
      "--data.maintenance-interval=1h",
      "--log.level=debug",
    ]);
    await run.waitFor(
      "Alertmanager ready",
      async () => ((await httpGet(`${url}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
      60_000,
    );
    // Silences as people set them: three matchers, a comment, a day long; posted 16 at a time.
    let next = 0;
    const post = async () => {
      while (next < silences) {
        const i = next++;
        const r = await postJson(`${url}/api/v2/silences`, {
          matchers: [
            { name: "alertname", value: `LabSilence${i % 97}`, isRegex: false, isEqual: true },
            { name: "namespace", value: `team-${i % 13}`, isRegex: false, isEqual: true },
            { name: "pod", value: `checkout-${i}-.*`, isRegex: true, isEqual: true },
          ],
          startsAt: new Date().toISOString(),
          endsAt: new Date(Date.now() + 86_400_000).toISOString(),
          createdBy: "lab@example.org",
          comment: `maintenance window ${i}: the checkout deploy, ticket OPS-${1000 + i}`,
        });
        if (r.status !== 200) throw new Error(`silence ${i}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, post));
    await proc.stop();
    // Started again on the same data at a one-second interval: only the maintenance runs now.
    const timed = run.start("alertmanager-timed", stackBinary("alertmanager"), [
      `--config.file=${path.join(dir, "alertmanager.yml")}`,
      `--storage.path=${path.join(dir, "data")}`,
      `--web.listen-address=${LOOPBACK}:${web}`,
      `--cluster.listen-address=${LOOPBACK}:${mesh}`,
      "--data.maintenance-interval=1s",
      "--log.level=debug",
    ]);
    const done = () =>
      [...timed.output(10_000).matchAll(/msg="Maintenance done" component=silences duration=(\S+)/g)].map((m) => goDurationMs(m[1]));
    await run.waitFor("Alertmanager's first maintenance", () => (done().length >= 1 ? true : undefined), 60_000, 100);
    const pid = timed.pid;
    if (pid === undefined) throw new Error("Alertmanager has no pid");
    const cpuBefore = cpuMs(pid);
    const before = done().length;
    await run.waitFor(`${ROUNDS} more maintenances`, () => (done().length >= before + ROUNDS ? true : undefined), 60_000, 100);
    const cpu = (cpuMs(pid) - cpuBefore) / ROUNDS;
    const bytes = fs.statSync(path.join(dir, "data", "silences")).size;
    await sleep(100);
    return { silences, bytes, maintenanceMs: done().slice(before, before + ROUNDS), cpuMsPerRound: cpu };
  } finally {
    await run.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const counts = process.argv.slice(2).map(Number);
  for (const n of counts.length > 0 ? counts : [10, 1000, 10000]) {
    const c = await measureSnapshot(n);
    const ms = [...c.maintenanceMs].sort((a, b) => a - b);
    console.log(
      `${n} silences: ${c.bytes} bytes; maintenance ${ms[0].toFixed(2)} to ${ms[ms.length - 1].toFixed(2)} ms (median ${ms[Math.floor(ms.length / 2)].toFixed(2)}); CPU ${c.cpuMsPerRound.toFixed(1)} ms per round`,
    );
  }
}

if (require.main === module)
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
