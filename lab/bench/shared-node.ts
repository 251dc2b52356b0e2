/** Both stack files on one node: what they request, and kube-state-metrics once or twice (issue 35). */
import { formatBytes } from "../../components/kit/units";
import { requestedResources } from "../../cli/render";
import { KsmFootprint, KsmRun, ksmRequestBytes, sharedNodeRenders, sharingRenders } from "./ksm-figures";
import { Measurement } from "./measurement";

/**
 * The memory both stack files request on one node when production's collector serves staging:
 * staging sets logCollector.sharedFrom, production shares with it the namespaces of staging's apps.
 * Every component of the files, their database exporters (32Mi each) included.
 */
export async function measureSharedNode(target: { staging: number; production: number }): Promise<Measurement[]> {
  const { staging, production } = await sharedNodeRenders();
  const requested = { staging: requestedResources(staging).bytes, production: requestedResources(production).bytes };
  return (["staging", "production"] as const).map((stack) => ({
    name: `one node, production's collector serving staging, with the files' database exporters: ${stack}'s memory requested`,
    value: requested[stack],
    unit: "B",
    target: target[stack],
    kind: "max" as const,
    display: `${formatBytes(requested[stack])} (both: ${formatBytes(requested.staging + requested.production)})`,
  }));
}

/**
 * kube-state-metrics on a node with both stack files: each instance's steady RSS within the request
 * its stack renders (the shared one within production's, which serves staging), and the question of issue 35 (twice, narrowed, or once for both?) as a
 * figure held to the answer the stack gives (docs/operations.md): one shared instance plus what the
 * sharing costs the scraping Prometheus within the two narrowed ones.
 */
export async function ksmMeasurements(f: KsmFootprint): Promise<Measurement[]> {
  const renders = await sharedNodeRenders();
  const sharing = await sharingRenders();
  const within = (run: KsmRun, stack: "production" | "staging"): Measurement => {
    const i = f.instances[run];
    const request = ksmRequestBytes(run === "shared" ? sharing[stack] : renders[stack]);
    return {
      name: `kube-state-metrics (${run === "shared" ? "both stacks'" : `${run}'s`} namespaces): steady RSS within ${stack}'s request`,
      value: i.rssBytes,
      unit: "B",
      target: request,
      kind: "max",
      display: `${formatBytes(i.rssBytes)} (request ${formatBytes(request)})`,
    };
  };
  const sharingCost = f.prometheus.sharing.rssBytes - f.prometheus.own.rssBytes;
  return [
    within("production", "production"),
    within("staging", "staging"),
    within("shared", "production"),
    {
      name: "kube-state-metrics: one for both stacks + the sharing's cost to the scraping Prometheus, within two narrowed",
      value: f.sharedBytes + Math.max(0, sharingCost),
      unit: "B",
      target: f.twoNarrowedBytes,
      kind: "max",
      display:
        `${formatBytes(f.sharedBytes)} + ${formatBytes(sharingCost)} (two narrowed: ${formatBytes(f.twoNarrowedBytes)}; ` +
        `anonymous memory ${formatBytes(f.instances.shared.anonBytes)} against ${formatBytes(f.instances.production.anonBytes + f.instances.staging.anonBytes)})`,
    },
  ];
}
