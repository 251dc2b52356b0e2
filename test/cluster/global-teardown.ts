/**
 * Checks that the last file left the cluster as the tier found it, then stops the control
 * plane the tier's global setup started. KEEP_CLUSTER=1 leaves it up to look around after a
 * failure (`npm run cluster -- status`, logs in .cluster/logs/); it stops by itself after
 * its TTL anyway.
 */
import { down } from "../../lab/cluster";
import { expectCleanSlate } from "./support/clean-slate";

export default async function globalTeardown(): Promise<void> {
  const slate = await expectCleanSlate("after the last file").then(
    () => undefined,
    (err: unknown) => err,
  );
  if (process.env.CLUSTER_STARTED_BY_TIER === "1") {
    if (process.env.KEEP_CLUSTER === "1") {
      process.stderr.write("cluster: KEEP_CLUSTER=1, leaving the cluster up (npm run cluster -- down to stop it)\n");
    } else {
      await down();
    }
  }
  if (slate) throw slate;
}
