/**
 * What each fault test of the log pipeline shares (faults 3, 4 and 6): the staging render, a scratch
 * directory, and after the tests the generator stopped, the fault's figures recorded and the directory
 * removed, whatever the test reached. Call it inside the test's describe.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Rendered } from "../../../cli/render";
import { FaultRecord, recordFault } from "../../support/fault-report";
import { render } from "../../support/render";
import type { LogPipeline } from "./log-pipeline";
import { localRun } from "./local-run";

export interface LogFault {
  run: ReturnType<typeof localRun>;
  /** The staging stack as rendered (set before the tests). */
  rendered: Rendered;
  /** The scratch directory (set before the tests). */
  tmp: string;
  /** The pipeline, for afterAll to stop its generator. */
  pipeline?: LogPipeline;
  /** The fault's figures, recorded after the tests. */
  record?: Omit<FaultRecord, "measuredAt">;
}

export function logFault(prefix: string): LogFault {
  const fault = { run: localRun() } as LogFault;
  beforeAll(async () => {
    fault.rendered = await render("staging");
    fault.tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    fault.pipeline?.stopWriting();
    if (fault.record) recordFault(fault.record);
    if (fault.tmp) fs.rmSync(fault.tmp, { recursive: true, force: true });
  });
  return fault;
}
