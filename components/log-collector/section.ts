/** The log collector's section of the stack file (`logCollector`): its fields, its defaults per profile and its resolution. */
import { z } from "zod";
import { bool, dnsLabel, matching, plainHttpUrl, resources, userName } from "../kit/fields";
import { ArgsProblem } from "../kit/problems";
import { shareEntryProblems } from "../kit/share";
import { componentSection, overDefaults, textStandIn } from "../kit/section";
import { plainHttpCredentialProblem } from "../kit/plain-http";
import { LOG_COLLECTOR_AGENT, LOG_COLLECTOR_DEFAULTS, LogCollectorDefaults } from "./args";
import { JOB } from "../kit/stack-jobs";

const shareEntry = z.strictObject({
  namespace: dnsLabel.describe(
    "The namespace of the other stack on this cluster, whose Loki receives these logs (e.g. monitoring-staging).",
  ),
  namespaces: z
    .array(dnsLabel)
    .min(1, "must name at least one namespace: the ones whose pods' logs go to that stack")
    .describe("The namespaces whose pods' logs this stack's collector sends to that stack's Loki."),
  monitors: bool
    .optional()
    .describe(
      "Also scrape that stack's ServiceMonitors, PodMonitors and Probes in these namespaces, as its own monitors settings say (read from the cluster at preview and up), and remote-write their samples to its Prometheus; default false.",
    ),
});

const externalLokiSchema = z.strictObject({
  url: plainHttpUrl.describe("Push URL of a Loki-compatible endpoint outside the cluster, e.g. https://logs.example.com/loki/api/v1/push."),
  tenant: matching(/^[A-Za-z0-9!._*'()-]{1,150}$/, "a Loki tenant ID: at most 150 of letters, digits and ! - _ . * ' ( )")
    .optional()
    .describe("The tenant (X-Scope-OrgID); default none: the endpoint's own."),
  username: userName().optional().describe("Basic-auth user; the password is the secret externalLokiPassword."),
  bearerToken: bool.optional().describe("Send externalLokiPassword as a bearer token instead."),
  allowPlainHttp: bool
    .optional()
    .describe(
      "Send the password or token over an http:// url outside the cluster (*.svc, *.svc.cluster.local and loopback need not); default false: refused.",
    ),
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
  journal: bool
    .optional()
    .describe(
      "Ship the node's journal to Loki: k3s's, containerd's and the kubelet's units and the kernel's messages (labels unit, node, priority); default watch.cluster (the node is the cluster's, read by one stack).",
    ),
  resources: resources.optional(),
  shareWith: z
    .array(shareEntry)
    .optional()
    .describe(
      "Other stacks on this cluster that use this stack's collector instead of running their own: each entry's namespaces' pod logs go to its Loki (docs/operations.md, \"One collector for two stacks\").",
    ),
  externalLoki: externalLokiSchema
    .optional()
    .describe(
      'Also send this stack\'s pod logs to a Loki-compatible endpoint outside the cluster (docs/operations.md, "Beyond one node"); with loki.enabled false, there alone.',
    ),
  sharedFrom: dnsLabel
    .optional()
    .describe(
      "The namespace of the stack on this cluster whose collector sends this stack's logs (its logCollector.shareWith names this stack): this stack runs no collector of its own.",
    ),
});

/** One other stack served by this stack's collector: its namespace (its Loki) and the namespaces whose logs go there. */
export type LogShare = z.infer<typeof shareEntry>;

/** The external endpoint as resolved: its credential from externalLokiPassword (plain here; the stack's args make it a secret). */
export interface ExternalLoki {
  url: string;
  tenant?: string;
  auth?: { username: string; password: string } | { bearerToken: string };
}

/** The log collector's resolved section: the profile's fields, whom it serves or who serves it, and its external endpoint. */
export type LogCollectorSection = LogCollectorDefaults & { shareWith: LogShare[]; sharedFrom?: string; externalLoki?: ExternalLoki };

/** The secret key the section reads: the external endpoint's password or token. */
export const LOG_COLLECTOR_SECRETS = {
  externalLokiPassword: matching(/^[^\x00-\x1f\x7f]+$/, "a password or token on one line, not empty"),
};

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
  if (section.externalLoki && !section.enabled) {
    found.push({
      key: "externalLoki",
      message: "is set, but this stack runs no collector (enabled is false): only a running collector sends logs there",
      involves: ["enabled"],
    });
  }
  found.push(...shareEntryProblems(section.shareWith));
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
  secrets: LOG_COLLECTOR_SECRETS,
  standIns: { externalLokiPassword: textStandIn },
  defaults: (profile): LogCollectorSection => ({ ...LOG_COLLECTOR_DEFAULTS[profile], shareWith: [] }),
  resolve: (given, context, { externalLokiPassword }): LogCollectorSection => {
    // The defaults' fields only: externalLoki, shareWith and sharedFrom resolve below; `agent` has one value, Alloy, which the component is.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { externalLoki: external, shareWith, sharedFrom, agent, ...plain } = given ?? {};
    const base = overDefaults(LOG_COLLECTOR_DEFAULTS[context.profile], plain, context);
    // What only the raw values tell (a credential missing or without its endpoint) is reported here, keyed from the top.
    if (external && (external.username !== undefined || external.bearerToken) && externalLokiPassword === undefined)
      context.problems.push({
        key: "logCollector.externalLoki",
        message: "needs its credential: pulumi config set --secret externalLokiPassword <value>",
        involves: ["externalLokiPassword"],
      });
    if (external) {
      const credential =
        external.username !== undefined
          ? "externalLokiPassword (basic auth)"
          : external.bearerToken
            ? "the bearer token externalLokiPassword"
            : undefined;
      for (const p of plainHttpCredentialProblem(external.url, credential, external.allowPlainHttp))
        context.problems.push({
          ...p,
          key: `logCollector.externalLoki.${p.key}`,
          involves: p.involves?.map((k) => `logCollector.externalLoki.${k}`),
        });
    }
    if (external && external.username !== undefined && external.bearerToken)
      context.problems.push({ key: "logCollector.externalLoki", message: "choose username (basic auth) or bearerToken, not both" });
    if (!external && externalLokiPassword !== undefined)
      context.problems.push({
        key: "externalLokiPassword",
        message:
          "is set, but logCollector.externalLoki is not: add the endpoint, or remove the password with: pulumi config rm externalLokiPassword",
        involves: ["logCollector.externalLoki"],
      });
    return {
      ...base,
      // A stack served by another's collector runs none unless it says so (which problems() refuses).
      ...(sharedFrom !== undefined && plain.enabled === undefined ? { enabled: false } : {}),
      shareWith: (shareWith ?? []).map((e) => ({
        namespace: e.namespace,
        namespaces: [...e.namespaces],
        ...(e.monitors ? { monitors: true } : {}),
      })),
      ...(sharedFrom !== undefined ? { sharedFrom } : {}),
      ...(external
        ? {
            externalLoki: {
              url: external.url,
              ...(external.tenant !== undefined ? { tenant: external.tenant } : {}),
              ...(external.username !== undefined
                ? { auth: { username: external.username, password: externalLokiPassword ?? "" } }
                : external.bearerToken
                  ? { auth: { bearerToken: externalLokiPassword ?? "" } }
                  : {}),
            },
          }
        : {}),
    };
  },
  problems,
  jobs: (collector) => (collector.enabled ? [JOB.alloy] : []),
});
