/**
 * The Kubernetes events in the log collector's config (logCollector.events): Alloy's
 * loki.source.kubernetes_events, clustered so that one collector of the DaemonSet watches each
 * namespace, and the labels taken from the line it writes.
 */
import { AlloyBlock, AlloyExpr, AlloyValue } from "./alloy-syntax";

/** The job label of the event streams (a pod's streams have `<namespace>/<app>`). */
export const EVENTS_JOB = "kubernetes-events";

/** The labels an event stream carries besides `job`: read from the line the source writes (logfmt). */
export const EVENT_LABELS = ["namespace", "kind", "name", "reason", "type"] as const;

/**
 * The Kubernetes events of `namespaces` (none: every namespace's), as Alloy's
 * loki.source.kubernetes_events writes them: one logfmt line per event (`name=<object> kind=<kind> …
 * reason=<reason> type=<Normal|Warning> count=<n> msg="<message>"`), its stream labelled with the
 * involved object's namespace. `clustering`: the DaemonSet's Alloys form one cluster and each
 * namespace (or, for every namespace, the single watch of them all) is owned by exactly one of them,
 * so that an event is shipped once whatever the number of nodes; when the owner goes, another takes
 * it over. The kind, object name, reason and type become labels (the source's `instance`, its own
 * component name, is dropped); the line stays whole. Then the same routing as the pod logs: a served
 * stack's namespaces to its Loki.
 */
export function eventsBlocks(namespaces: readonly string[] | undefined, forwardTo: AlloyExpr[]): AlloyBlock[] {
  const extracted = new AlloyExpr(
    `{${EVENT_LABELS.filter((l) => l !== "namespace")
      .map((l) => `${l} = ""`)
      .join(", ")}}`,
  );
  return [
    {
      name: "loki.source.kubernetes_events",
      label: "events",
      attributes: [
        ["job_name", EVENTS_JOB],
        ...(namespaces ? ([["namespaces", [...namespaces]]] as Array<[string, AlloyValue]>) : []),
        ["log_format", "logfmt"],
        ["forward_to", [new AlloyExpr("loki.process.events.receiver")]],
      ],
      blocks: [{ name: "clustering", attributes: [["enabled", true]] }],
    },
    {
      name: "loki.process",
      label: "events",
      attributes: [["forward_to", forwardTo]],
      blocks: [
        { name: "stage.logfmt", attributes: [["mapping", extracted]] },
        { name: "stage.labels", attributes: [["values", extracted]] },
        { name: "stage.label_drop", attributes: [["values", ["instance"]]] },
      ],
    },
  ];
}
