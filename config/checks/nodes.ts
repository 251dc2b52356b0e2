/** Replicas against the nodes they run on, one per node. */
import { CheckInput } from "./check";
import { sectionsWith } from "../../components/stack/sections";

/** Replicas that the nodes cannot hold, and a production stack on several nodes that would not survive losing one. */
export function nodeChecks({ raw, resolved, key, problems, warnings }: CheckInput): void {
  // Each replica runs on a node of its own (required anti-affinity): one more than there are
  // nodes would stay Pending, and on one node a second replica gains no availability, doubles
  // the memory, and its disruption budget would hang `kubectl drain` (k3s upgrades drain).
  for (const section of sectionsWith("replicas")) {
    const count = resolved[section].replicas;
    if (raw[section]?.replicas === undefined || count <= resolved.nodes) continue;
    problems.push({
      key: key(`${section}.replicas`),
      message:
        `must be at most nodes (${resolved.nodes}${raw.nodes === undefined ? ", the default" : ""}): each replica runs on a node of its own, ` +
        `so one more would stay Pending${resolved.nodes === 1 ? ", and on one node a second replica adds no availability and would block kubectl drain" : ""}. ` +
        `If the cluster has more nodes, say so: pulumi config set nodes <count> (got ${count})`,
      involves: [key("nodes")],
    });
  }

  // On one node there is no second node for a replica to survive on: production runs each workload once there.
  if (resolved.profile === "production" && resolved.nodes > 1) {
    if (resolved.alertmanager.replicas < 2) {
      problems.push({
        key: key("alertmanager.replicas"),
        message: `a production stack on ${resolved.nodes} nodes needs at least 2 Alertmanager replicas (3 recommended) so alerts survive a node loss; got ${resolved.alertmanager.replicas}`,
        involves: [key("nodes")],
      });
    }
    if (resolved.prometheus.replicas < 2) {
      warnings.push(
        `${key("prometheus.replicas")} is ${resolved.prometheus.replicas} in a production stack on ${resolved.nodes} nodes: metrics and alerting stop while that pod restarts.`,
      );
    }
  }
}
