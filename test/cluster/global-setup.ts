/**
 * Starts the local control plane once for the whole cluster tier and hands its kubeconfig
 * to every test through KUBECONFIG (jest's workers inherit this process's environment).
 * A cluster that is already up (`npm run cluster -- up` by hand) is used as it is, and
 * left running by the teardown. What the cluster holds now is the baseline every file
 * must leave it at (support/clean-slate.ts).
 */
import { up } from "../../lab/cluster";
import { clusterWide } from "./support/clean-slate";

export default async function globalSetup(): Promise<void> {
  // Owned: if this run is killed, the next one finds the cluster it left, stops it and says so.
  const cluster = await up({ owned: true, log: (message) => process.stderr.write(`cluster: ${message}\n`) });
  process.env.KUBECONFIG = cluster.kubeconfig;
  if (!cluster.alreadyRunning) process.env.CLUSTER_STARTED_BY_TIER = "1";
  process.env.CLUSTER_TIER_BASELINE = JSON.stringify(await clusterWide());
}
