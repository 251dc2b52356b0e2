/** The log collector's section of the stack file (`logCollector`): its fields, its defaults per profile and its resolution. */
import { z } from "zod";
import { bool, dnsLabel, resources } from "../kit/fields";
import { ArgsProblem } from "../kit/problems";
import { componentSection, overDefaults } from "../kit/section";
import { LOG_COLLECTOR_AGENT, LOG_COLLECTOR_DEFAULTS, LogCollectorDefaults } from "./args";

const shareEntry = z.strictObject({
  namespace: dnsLabel.describe(
    "The namespace of the other stack on this cluster, whose Loki receives these logs (e.g. monitoring-staging).",
  ),
  namespaces: z
    .array(dnsLabel)
    .min(1, "must name at least one namespace: the ones whose pods' logs go to that stack")
    .describe("The namespaces whose pods' logs this stack's collector sends to that stack's Loki."),
});

const schema = z.strictObject({
  enabled: bool.optional().describe("Run the log collector on every node; default true, false with sharedFrom."),
  // Its one value is the default; the retired "promtail" is refused with the way over (config/parse.ts).
  agent: z.enum([LOG_COLLECTOR_AGENT]).optional().describe("The agent: alloy (Grafana Alloy), the default and the only value."),
  events: bool
    .optional()
    .describe(
      "Ship the Kubernetes events of the watched namespaces to Loki (labels namespace, kind, name, reason, type), from one collector of the cluster; default true.",
    ),
  resources: resources.optional(),
  shareWith: z
    .array(shareEntry)
    .optional()
    .describe(
      "Other stacks on this cluster that use this stack's collector instead of running their own: each entry's namespaces' pod logs go to its Loki (docs/operations.md, \"One collector for two stacks\").",
    ),
  sharedFrom: dnsLabel
    .optional()
    .describe(
      "The namespace of the stack on this cluster whose collector sends this stack's logs (its logCollector.shareWith names this stack): this stack runs no collector of its own.",
    ),
});

/** One other stack served by this stack's collector: its namespace (its Loki) and the namespaces whose logs go there. */
export type LogShare = z.infer<typeof shareEntry>;

/** The log collector's resolved section: the profile's fields, and whom it serves or who serves it. */
export type LogCollectorSection = LogCollectorDefaults & { shareWith: LogShare[]; sharedFrom?: string };

function problems(section: LogCollectorSection): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  if (section.sharedFrom !== undefined && section.enabled) {
    found.push({
      key: "enabled",
      message: `is true, but sharedFrom says the collector of the stack in ${section.sharedFrom} sends this stack's logs: remove one of them`,
      involves: ["sharedFrom"],
    });
  }
  if (section.sharedFrom !== undefined && section.shareWith.length > 0) {
    found.push({
      key: "shareWith",
      message: "is set, but sharedFrom says this stack runs no collector: only the stack that runs it shares it",
      involves: ["sharedFrom"],
    });
  }
  if (!section.enabled && section.sharedFrom === undefined && section.shareWith.length > 0) {
    found.push({
      key: "shareWith",
      message: "is set, but enabled is false: only a running collector can send other stacks' logs",
      involves: ["enabled"],
    });
  }
  const seen = new Map<string, number>();
  section.shareWith.forEach((entry, i) => {
    const first = seen.get(entry.namespace);
    if (first !== undefined) {
      found.push({
        key: `shareWith[${i}].namespace`,
        message: `names ${entry.namespace} again (shareWith[${first}]): give each stack one entry`,
      });
    } else seen.set(entry.namespace, i);
    const names = new Map<string, number>();
    entry.namespaces.forEach((ns, j) => {
      if (names.has(ns)) found.push({ key: `shareWith[${i}].namespaces[${j}]`, message: `names ${ns} twice` });
      else names.set(ns, j);
    });
  });
  // A namespace's logs go to one other stack: two would store them twice.
  const owner = new Map<string, string>();
  section.shareWith.forEach((entry, i) =>
    entry.namespaces.forEach((ns, j) => {
      const other = owner.get(ns);
      if (other !== undefined && other !== entry.namespace) {
        found.push({
          key: `shareWith[${i}].namespaces[${j}]`,
          message: `is ${ns}, whose logs already go to the stack in ${other}: a namespace's logs go to one other stack`,
        });
      } else owner.set(ns, entry.namespace);
    }),
  );
  return found;
}

/**
 * The `logCollector` section. That it ships to Loki, that apps' OTLP arrives at its endpoint, and
 * that a shared collector's namespaces are not the stack's own span sections (config/checks/log-collector.ts and tracing.ts).
 */
export const logCollectorSection = componentSection({
  schema,
  defaults: (profile): LogCollectorSection => ({ ...LOG_COLLECTOR_DEFAULTS[profile], shareWith: [] }),
  resolve: (given, context): LogCollectorSection => {
    const base = overDefaults(LOG_COLLECTOR_DEFAULTS[context.profile], given, context);
    return {
      ...base,
      // A stack served by another's collector runs none unless it says so (which problems() refuses).
      ...(given?.sharedFrom !== undefined && given.enabled === undefined ? { enabled: false } : {}),
      shareWith: (given?.shareWith ?? []).map((e) => ({ namespace: e.namespace, namespaces: [...e.namespaces] })),
      ...(given?.sharedFrom !== undefined ? { sharedFrom: given.sharedFrom } : {}),
    };
  },
  problems,
});
