/**
 * Stops the control plane the tier's global setup started. KEEP_CLUSTER=1 leaves it up to
 * look around after a failure (`npm run cluster -- status`, logs in .tools/cluster/logs/);
 * it stops by itself after its TTL anyway.
 */
import { down } from "../../scripts/lib/cluster";

export default async function globalTeardown(): Promise<void> {
  if (process.env.CLUSTER_STARTED_BY_TIER !== "1") return;
  if (process.env.KEEP_CLUSTER === "1") {
    process.stderr.write("cluster: KEEP_CLUSTER=1, leaving the cluster up (npm run cluster -- down to stop it)\n");
    return;
  }
  await down();
}
