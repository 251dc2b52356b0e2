/**
 * Runs before each file of the cluster tier (setupFilesAfterEnv): the cluster must be as the tier
 * found it, whatever ran before (see clean-slate.ts).
 */
import * as path from "path";
import { expectCleanSlate } from "./clean-slate";

beforeAll(async () => {
  await expectCleanSlate(`before ${path.basename(expect.getState().testPath ?? "this file")}`);
}, 180_000);
