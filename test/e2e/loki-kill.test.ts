/**
 * Loki killed (SIGKILL, as an OOM kill or a node's crash ends it) while Alloy pushes to it, then
 * started again on its data, on the exact binaries with the staging stack's rendered configs and args
 * (test/e2e/support/log-pipeline.ts): a generator writes numbered lines to a pod's log file, the
 * rendered Alloy ships them; every line written is in Loki once it is back: 0 lost. What holds them:
 * a line Loki acknowledged is in its write-ahead log (ingester.wal, on its claim), replayed at start;
 * a push the kill cut is retried by Alloy (loki.write's backoff, as rendered) until Loki answers.
 * Entries stored twice are counted from Loki's answer: a push Loki wrote before the kill cut its
 * answer is sent again, and Loki drops an entry identical (timestamp and line) to one its stream
 * holds in memory; Alloy's count of entries sent (each batch counted once it is acknowledged) against
 * the lines written says whether any was sent twice.
 *
 * Figures: lines written, stored, lost, stored twice; how long Loki was down, its start on its data
 * (the WAL replay, as Loki measures it), and how long after it Loki held every line: in
 * out/live/faults/ (test/support/fault-report.ts).
 */
import { httpGet } from "../../lab/local/http";
import { LogPipeline } from "./support/log-pipeline";
import { logFault } from "./support/log-fault";

/** Lines a second the generator writes: a push of Alloy's a second (its batch_wait) holds about as many. */
const RATE = 20;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A gauge or counter of Loki's own metrics (the first series of that name), undefined when Loki does not list it. */
async function lokiMetric(url: string, name: string): Promise<number | undefined> {
  const r = await httpGet(`${url}/metrics`, 5000);
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(r.body);
  return m ? Number(m[1]) : undefined;
}

describe("Loki killed while Alloy pushes, started again on its data", () => {
  const fault = logFault("loki-kill-");
  const run = fault.run;

  test("every line written is in Loki after the kill and the restart: 0 lost, duplicates counted", async () => {
    const { rendered, tmp } = fault;
    const logs = await LogPipeline.create(run, rendered, tmp);
    fault.pipeline = logs;
    const firstStart = await logs.startLoki();
    await logs.startAlloy();
    const since = Date.now();
    logs.startWriting(RATE);

    // Alloy shipping: Loki holds lines, and more keep coming.
    await run.waitFor(
      "Loki holding 100 lines",
      async () => {
        const s = await logs.stored(since);
        return s.distinct.size >= 100 ? s : undefined;
      },
      90_000,
      500,
    );

    // The kill, mid-stream: whatever Loki acknowledged is on its claim, the rest is Alloy's to retry.
    const heldAtKill = (await logs.stored(since)).distinct;
    const writtenAtKill = logs.written;
    const killedAt = Date.now();
    await logs.loki?.kill();
    // Down for a few of Alloy's pushes, lines still written.
    await pause(5000);
    const restartedAt = Date.now();
    const restart = await logs.startLoki();
    const downSeconds = (Date.now() - killedAt) / 1000;
    const replay = await lokiMetric(logs.lokiUrl, "loki_ingester_wal_replay_duration_seconds");
    const recovered = await lokiMetric(logs.lokiUrl, "loki_ingester_wal_recovered_entries_total");

    // What Loki held before the kill (acknowledged, but for a push the kill cut: Alloy does not send it again), it holds again: from its WAL.
    const afterRestart = await logs.stored(since);
    const lostAtKill = [...heldAtKill].filter((n) => !afterRestart.distinct.has(n));
    expect({ heldBeforeKill: heldAtKill.size, lostFromIt: lostAtKill }).toEqual({ heldBeforeKill: heldAtKill.size, lostFromIt: [] });

    await pause(5000);
    logs.stopWriting();
    const { stored, seconds } = await logs.allStored(since, 120_000);
    const recoveredAfter = (Date.now() - restartedAt) / 1000;
    const retries = await logs.alloyCounter("loki_write_batch_retries_total");
    const sent = await logs.alloyCounter("loki_write_sent_entries_total");
    const dropped = await logs.alloyCounter("loki_write_dropped_entries_total");

    // 0 lost: every line written is in Loki.
    expect(logs.missing(stored)).toEqual([]);
    expect(stored.distinct.size).toBe(logs.written);
    expect(dropped).toBe(0);

    fault.record = {
      fault: "3. Loki killed (SIGKILL) while Alloy pushes, started again on its data",
      test: "test/e2e/loki-kill.test.ts",
      lost: { lines: logs.missing(stored).length },
      figures: {
        "lines written": logs.written,
        "lines written when Loki was killed": writtenAtKill,
        "lines stored": stored.distinct.size,
        "held by Loki at the kill (queried), held again after its restart": heldAtKill.size,
        "entries Loki replayed from its WAL": recovered ?? "not reported",
        "entries stored twice": stored.duplicates,
        "Alloy: entries sent, batches retried, entries dropped": `${sent}, ${retries}, ${dropped}`,
        "Loki down (s)": downSeconds.toFixed(1),
        "Loki's start fresh / on its data (s)": `${firstStart.toFixed(1)} / ${restart.toFixed(1)}`,
        "its WAL replay, as Loki measures it (s)": replay === undefined ? "not reported" : replay.toFixed(3),
        "every line in Loki, after the restart began / after the writing stopped (s)": `${recoveredAfter.toFixed(1)} / ${seconds.toFixed(1)}`,
      },
    };
  });
});
