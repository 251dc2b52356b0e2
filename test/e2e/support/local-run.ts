/**
 * The one way an end-to-end test starts real processes and servers: a LocalRun
 * (lab/processes/children.ts) whose processes are bounded in time, whose waits fail at once
 * when one of them exits, whose failures show what each printed, and which is stopped after the
 * tests of the block that asked for it (before that block's own afterAll hooks, which are
 * declared after it: directories are removed once nothing writes to them).
 */
import { LocalRun } from "../../../lab/processes/children";

/** How long any process of a test may live: longer than any test file's own timeout. */
const LIFETIME_MS = 20 * 60_000;

/** A run for the enclosing describe block (or file), stopped in an afterAll hook registered here. */
export function localRun(lifetimeMs = LIFETIME_MS): LocalRun {
  const run = new LocalRun(lifetimeMs);
  afterAll(() => run.stop(), 60_000);
  return run;
}
