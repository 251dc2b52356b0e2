/** kube-state-metrics: one stack's may serve another stack on the cluster (kubeStateMetrics.shareWith / sharedFrom). */
import { watchesEveryNamespace } from "../../components/kit/watch";
import { CheckInput } from "./check";

/**
 * A shared kube-state-metrics names other stacks' namespaces, never this stack's own; the stack that
 * scrapes another's keeps only the series of its own namespaces, so it cannot watch the cluster
 * (its nodes' and volumes' series, which carry no namespace, would be dropped).
 */
export function kubeStateMetricsChecks({ resolved, key, problems }: CheckInput): void {
  const ksm = resolved.kubeStateMetrics;
  if (ksm.sharedFrom !== undefined) {
    if (ksm.sharedFrom === resolved.namespace) {
      problems.push({
        key: key("kubeStateMetrics.sharedFrom"),
        message: `is ${ksm.sharedFrom}, this stack's own namespace: name the namespace of the other stack whose kube-state-metrics this stack scrapes`,
      });
    } else if (resolved.watch.cluster) {
      problems.push({
        key: key("kubeStateMetrics.sharedFrom"),
        message:
          `is ${ksm.sharedFrom}, but this stack watches the cluster (watch.cluster): it keeps only its namespaces' series of a shared ` +
          `kube-state-metrics, and the nodes' and volumes' carry none. The stack that watches the cluster runs it and shares it (kubeStateMetrics.shareWith)`,
        involves: [key("watch.cluster")],
      });
    }
  }
  if (ksm.shareWith.length > 0 && watchesEveryNamespace(resolved.watch)) {
    problems.push({
      key: key("kubeStateMetrics.shareWith"),
      message:
        'is set, but this stack watches every namespace (watch.namespaces: ["*"]): it would alert for the other stack\'s namespaces too. ' +
        "Watch this stack's own namespaces to share its kube-state-metrics",
      involves: [key("watch.namespaces")],
    });
  }
  ksm.shareWith.forEach((entry, i) => {
    if (entry.namespace === resolved.namespace) {
      problems.push({
        key: key(`kubeStateMetrics.shareWith[${i}].namespace`),
        message: `is ${entry.namespace}, this stack's own namespace: name the namespace of the other stack whose Prometheus scrapes this kube-state-metrics`,
      });
    }
  });
}
