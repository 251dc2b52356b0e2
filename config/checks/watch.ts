/** What the stack watches against the agents it runs: node-exporter and the nodes' journal belong to the stack that watches the cluster. */
import { CheckInput } from "./check";

/**
 * node-exporter turned on in a stack that does not watch the cluster: its node alerts would page in
 * this stack beside the one that does (watch.cluster), and it takes a host port on every node.
 */
export function watchChecks({ raw, resolved, key, problems }: CheckInput): void {
  if (raw.nodeExporter?.enabled === true && !resolved.watch.cluster) {
    problems.push({
      key: key("nodeExporter.enabled"),
      message:
        `node-exporter is the cluster's, watched by one stack per cluster, and this stack does not watch the cluster ` +
        `(watch.cluster is false${raw.watch?.cluster === undefined ? `, the ${resolved.profile} default` : ""}): ` +
        `set watch.cluster: true in the one stack that owns the nodes' alerts, or leave nodeExporter.enabled out (got true)`,
      involves: [key("watch.cluster")],
    });
  }
  // The node's journal, as node-exporter: the cluster's, shipped by one stack (two would store it twice).
  if (raw.logCollector?.journal === true && !resolved.watch.cluster) {
    problems.push({
      key: key("logCollector.journal"),
      message:
        `the nodes' journal is the cluster's, shipped by one stack per cluster, and this stack does not watch the cluster ` +
        `(watch.cluster is false${raw.watch?.cluster === undefined ? `, the ${resolved.profile} default` : ""}): ` +
        `set watch.cluster: true in the one stack that ships it, or leave logCollector.journal out (got true)`,
      involves: [key("watch.cluster")],
    });
  } else if (raw.logCollector?.journal === true && !resolved.logCollector.enabled) {
    problems.push({
      key: key("logCollector.journal"),
      message: "is true, but this stack runs no collector (logCollector.enabled is false): only a running collector reads the journal",
      involves: [key("logCollector.enabled")],
    });
  }
}
