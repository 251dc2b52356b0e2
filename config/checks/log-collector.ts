/** The log collector: it ships to Loki, and one stack's collector may serve another stack on the cluster. */
import { agentsNamespaceOf } from "../../components/kit/labels";
import { CheckInput } from "./check";

/**
 * The log collector needs Loki; so does a stack whose logs another stack's collector sends. A collector
 * shared between stacks names other stacks' namespaces, never this stack's own.
 */
export function logCollectorChecks({ resolved, key, problems }: CheckInput): void {
  const collector = resolved.logCollector;
  if (collector.enabled && !resolved.loki.enabled && !collector.externalLoki) {
    problems.push({
      key: key("logCollector.enabled"),
      message:
        "the log collector ships to Loki, so it needs loki.enabled: true, or an endpoint outside the cluster in logCollector.externalLoki (or set logCollector.enabled: false)",
      involves: [key("loki.enabled")],
    });
  }
  // Apps' OTLP logs go to this stack's Loki (its OTLP ingestion): without it they would have nowhere to go.
  if (
    collector.enabled &&
    !resolved.loki.enabled &&
    collector.externalLoki &&
    (resolved.tracing.enabled || resolved.apps.some((a) => a.otlp))
  ) {
    problems.push({
      key: key("loki.enabled"),
      message:
        "is false, but the collector's OTLP endpoint (tracing.enabled or an app with otlp) sends the apps' OTLP logs to this stack's Loki, which logCollector.externalLoki does not take: keep Loki, or turn the OTLP endpoint off",
      involves: [key("logCollector.externalLoki")],
    });
  }
  if (collector.sharedFrom !== undefined) {
    if (collector.sharedFrom === resolved.namespace) {
      problems.push({
        key: key("logCollector.sharedFrom"),
        message: `is ${collector.sharedFrom}, this stack's own namespace: name the namespace of the other stack whose collector sends this stack's logs`,
      });
    } else if (!resolved.loki.enabled) {
      problems.push({
        key: key("logCollector.sharedFrom"),
        message: `says the collector of the stack in ${collector.sharedFrom} sends this stack's logs to its Loki, so it needs loki.enabled: true`,
        involves: [key("loki.enabled")],
      });
    }
  }
  const own = new Set([resolved.namespace, agentsNamespaceOf(resolved.namespace)]);
  collector.shareWith.forEach((entry, i) => {
    if (entry.namespace === resolved.namespace) {
      problems.push({
        key: key(`logCollector.shareWith[${i}].namespace`),
        message: `is ${entry.namespace}, this stack's own namespace: name the namespace of the other stack whose Loki receives these logs`,
      });
    }
    entry.namespaces.forEach((ns, j) => {
      if (own.has(ns)) {
        problems.push({
          key: key(`logCollector.shareWith[${i}].namespaces[${j}]`),
          message: `is ${ns}, where this stack's own pods run: their logs are this stack's`,
        });
      }
    });
  });
}
