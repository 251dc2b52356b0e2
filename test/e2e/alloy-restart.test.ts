/**
 * Alloy restarted mid-file, on the exact binaries with the staging stack's rendered configs and args
 * (test/e2e/support/log-pipeline.ts): a generator writes numbered lines to a pod's log file all along;
 * Alloy is killed (SIGKILL: the container restarted in its pod, as after an OOM kill) and later
 * stopped (SIGTERM: its pod replaced, as a rollout does), each time started again on its state as
 * the DaemonSet mounts it. Its positions hold: each start begins reading at the line its positions
 * file names (measured by Alloy's own count of the lines it read, the writing paused until Loki holds
 * them all), never past the last line Loki held; every line written is in Loki, 0 lost; what it
 * reads again is bounded by how often it records its positions.
 *
 * Why lines are read again: loki.source.file records how far it has read every 10 s (Alloy's fixed
 * sync period, in memory then in positions.yml under --storage.path), so a kill loses up to two
 * periods of progress and the lines since are read and sent again; a SIGTERM records the offset of
 * the last line it handed on as it stops, and loki.write sends what it holds before exiting. Loki
 * keeps one copy of an entry sent twice with the same timestamp and line to the same stream (the
 * CRI timestamp is the file's, so a line read again is the same entry): the entries stored twice are
 * counted from Loki's answer.
 *
 * Figures: lines written, lost, read again at each restart, stored twice; Alloy's restart times: in
 * out/live/faults/ (test/support/fault-report.ts).
 */
import { LogPipeline, Stored } from "./support/log-pipeline";
import { logFault } from "./support/log-fault";

const RATE = 20;
/** How often loki.source.file records its offset and writes positions.yml (Alloy's, fixed). */
const POSITIONS_SYNC_SECONDS = 10;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many lines from the first Loki holds without a gap. */
function prefix(s: Stored): number {
  let n = 0;
  while (s.distinct.has(n + 1)) n++;
  return n;
}

describe("Alloy restarted mid-file: SIGKILL, then SIGTERM", () => {
  const fault = logFault("alloy-restart-");
  const run = fault.run;

  test("its positions hold: every line written is in Loki, 0 lost; what it reads again is counted", async () => {
    const { rendered, tmp } = fault;
    const logs = await LogPipeline.create(run, rendered, tmp);
    fault.pipeline = logs;
    await logs.startLoki();
    const firstStart = await logs.startAlloy();
    const since = Date.now();
    logs.startWriting(RATE);

    // Shipping, and its position recorded on its volume at least once.
    await run.waitFor(
      "Alloy's positions recorded",
      async () => (logs.savedPosition().lines >= RATE && prefix(await logs.stored(since)) >= RATE ? true : undefined),
      90_000,
      500,
    );
    // Mid-way between two records: the worst case for the kill is just before the next one.
    await pause((POSITIONS_SYNC_SECONDS / 2) * 1000);

    /** Stops Alloy as `how` says, reads what it recorded and what Loki holds (final until the restart), starts it again on its state. */
    async function restart(how: "SIGKILL" | "SIGTERM"): Promise<{ held: number; saved: number; start: number; stop: number }> {
      const stopping = Date.now();
      if (how === "SIGKILL") await logs.alloy?.kill();
      else await logs.alloy?.stop(30_000);
      const stop = (Date.now() - stopping) / 1000;
      if (how === "SIGTERM") logs.newAlloyPod();
      const held = prefix(await logs.stored(since));
      const saved = logs.savedPosition().lines;
      const start = await logs.startAlloy();
      return { held, saved, start, stop };
    }
    /** The writing paused until Loki holds every line: where the restarted Alloy began reading, as it counts the lines it read. */
    async function settle(r: Awaited<ReturnType<typeof restart>>) {
      logs.stopWriting();
      await logs.allStored(since, 120_000);
      const resumedAt = await logs.alloyStartedAt();
      return { ...r, resumedAt, reRead: r.held - resumedAt };
    }

    // Killed, then lines written past another sync period before the writing pauses to count.
    const afterKill = await restart("SIGKILL");
    await pause(POSITIONS_SYNC_SECONDS * 1000 + 5000);
    const killed = await settle(afterKill);
    // Writing again, then stopped (SIGTERM) mid-file, in a new pod.
    logs.startWriting(RATE);
    await pause(5000);
    const afterTerm = await restart("SIGTERM");
    await pause(3000);
    const terminated = await settle(afterTerm);
    const { stored, seconds } = await logs.allStored(since, 120_000);

    // 0 lost: every line written is in Loki.
    expect(logs.missing(stored)).toEqual([]);
    // The positions held: each start began reading at the line its positions file named, at or before the last line Loki held
    // (nothing skipped); after the kill, at most two sync periods of lines read again (not the file from its start);
    // after SIGTERM, none.
    expect({ killed: [killed.resumedAt, killed.reRead >= 0], terminated: [terminated.resumedAt, terminated.reRead] }).toEqual({
      killed: [killed.saved, true],
      terminated: [terminated.saved, 0],
    });
    expect({ killedSaved: killed.saved > 0, killedReRead: killed.reRead <= 2 * POSITIONS_SYNC_SECONDS * RATE }).toEqual({
      killedSaved: true,
      killedReRead: true,
    });

    const restarts = (r: typeof killed) =>
      `stopped in ${r.stop.toFixed(1)} s, ready again in ${r.start.toFixed(1)} s; Loki held lines 1 to ${r.held}, its positions named line ${r.saved}, it read again from line ${r.resumedAt + 1}: ${r.reRead} lines read again`;
    fault.record = {
      fault: "4. Alloy restarted mid-file: SIGKILL (its container restarted), then SIGTERM (its pod replaced)",
      test: "test/e2e/alloy-restart.test.ts",
      lost: { lines: logs.missing(stored).length },
      figures: {
        "lines written": logs.written,
        "Alloy's state (--storage.path) on": logs.alloyState,
        SIGKILL: restarts(killed),
        SIGTERM: restarts(terminated),
        "entries stored twice": stored.duplicates,
        "every line in Loki, after the writing stopped (s)": seconds.toFixed(1),
        "Alloy's first start (s)": firstStart.toFixed(1),
      },
    };
  });
});
