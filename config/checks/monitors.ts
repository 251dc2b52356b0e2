/** The operator's objects (`monitors`): the collector scrapes the monitors, kube-state-metrics tells which rules exist. */
import { agentsNamespaceOf } from "../../components/kit/labels";
import { EVERY_NAMESPACE, SYSTEM_NAMESPACE } from "../../components/kit/watch";
import { CheckInput } from "./check";

/**
 * Monitors are scraped by the stack's own collector (Alloy), or by the collector that serves it (sharedFrom); monitors read in
 * namespaces the stack does not watch would scrape what its alerts never look at; with every
 * namespace watched, the namespaces to read are named (each one's series are held to it). Without
 * kube-state-metrics the stack cannot tell a PrometheusRule it has not loaded: a warning.
 */
export function monitorsChecks({ resolved, key, problems, warnings }: CheckInput): void {
  const monitors = resolved.monitors;
  if (!monitors.enabled) return;
  // Served by another stack's collector (logCollector.sharedFrom), that one scrapes them: its deployment is checked at preview and up (preflight/served-monitors.ts).
  if (!resolved.logCollector.enabled && resolved.logCollector.sharedFrom === undefined) {
    problems.push({
      key: key("monitors.enabled"),
      message:
        "the monitors are scraped by this stack's collector (Alloy), which does not run here (logCollector.enabled is false): " +
        "turn the collector on, let another stack's collector scrape them (logCollector.sharedFrom), or set monitors.enabled: false",
      involves: [key("logCollector.enabled")],
    });
  }
  const watched = resolved.watch.namespaces;
  if (monitors.namespaces === undefined && watched.includes(EVERY_NAMESPACE)) {
    // The collector holds each monitor's series to its namespace with one set of watchers per namespace (components/log-collector/monitors.ts).
    problems.push({
      key: key("monitors.namespaces"),
      message:
        'is needed when the stack watches every namespace (watch.namespaces: ["*"]): each monitor\'s series are held to its own namespace, ' +
        "which takes the list of namespaces whose monitors are read; give them",
      involves: [key("watch.namespaces")],
    });
  }
  if (monitors.namespaces !== undefined && !watched.includes(EVERY_NAMESPACE)) {
    // What the stack watches (components/stack/args.ts' watchedNamespaces): its own, its agents', its apps' and targets', kube-system with the cluster, the ones given.
    const own = new Set([
      resolved.namespace,
      agentsNamespaceOf(resolved.namespace),
      ...(resolved.watch.cluster ? [SYSTEM_NAMESPACE] : []),
      ...watched,
      ...resolved.apps.flatMap((a) => [a.service?.namespace ?? "", a.otlpNamespace ?? ""]),
      ...resolved.targets.map((t) => t.service?.namespace ?? ""),
    ]);
    monitors.namespaces.forEach((ns, i) => {
      if (!own.has(ns)) {
        problems.push({
          key: key(`monitors.namespaces[${i}]`),
          message: `is ${ns}, a namespace this stack does not watch: add it to watch.namespaces too, so that its pods' alerts and logs are this stack's`,
          involves: [key("watch.namespaces")],
        });
      }
    });
  }
  if (monitors.rules && !resolved.kubeStateMetrics.enabled) {
    const why =
      resolved.kubeStateMetrics.sharedFrom !== undefined
        ? `this stack scrapes the kube-state-metrics of ${resolved.kubeStateMetrics.sharedFrom} (kubeStateMetrics.sharedFrom), which does not read this stack's PrometheusRules`
        : "kube-state-metrics is off (kubeStateMetrics.enabled)";
    warnings.push(
      `${key("monitors.rules")}: ${why}, so no alert says when a PrometheusRule exists that Prometheus has not loaded (PrometheusRuleNotLoaded): run pulumi up after every chart that adds or changes one.`,
    );
  }
}
