/**
 * Each live test file its own local cluster (jest's setupFilesAfterEnv, test/live/jest.config.js): `.lab/<file>/.cluster`
 * for `<file>.test.ts`. The labs run at once, each in its own worker, and beside the cluster tier, whose cluster is
 * `.cluster/`: every `npm run cluster` command and lab/cluster follow LOCAL_CLUSTER_DIR.
 */
import * as path from "path";
import { ROOT } from "../../../lab/tools/tools";

const file = expect.getState().testPath;
if (!file) throw new Error("test/live/support/own-cluster.ts runs as jest's setupFilesAfterEnv, where the test file is known");
process.env.LOCAL_CLUSTER_DIR = path.join(ROOT, ".lab", path.basename(file, ".test.ts"), ".cluster");
