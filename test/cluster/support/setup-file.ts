/**
 * Runs with each file of the cluster tier (setupFilesAfterEnv): before it, the cluster must be as
 * the tier found it, whatever ran before (see clean-slate.ts); after each test, a process of the
 * cluster that has ended is a failure that names it (binary, exit code or signal, its last log
 * lines), rather than the "connection refused" every later test would meet.
 */
import * as path from "path";
import { exitReports } from "../../../lab/cluster";
import { expectCleanSlate } from "./clean-slate";

beforeAll(async () => {
  await expectCleanSlate(`before ${path.basename(expect.getState().testPath ?? "this file")}`);
}, 180_000);

afterEach(() => {
  const ended = exitReports();
  if (ended.length > 0) throw new Error(`a process of the local cluster has ended:\n${ended.join("\n")}`);
});
