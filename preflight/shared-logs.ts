/**
 * A stack whose pod logs another stack's collector sends (`logCollector.sharedFrom`) runs no
 * collector of its own, so before it deploys it reads what that collector says it sends: the
 * `shared-logs` ConfigMap in that stack's agents namespace (components/log-collector/args.ts).
 * Every namespace this stack's logs come from must be sent to it; otherwise its logs would
 * silently go nowhere. The read happens in `pulumi preview` and `up` (the engine reads it from
 * the cluster and fails, naming the read, when it does not exist); the offline render has no
 * cluster and says so.
 */
import * as k8s from "@pulumi/kubernetes";
import { SHARED_LOGS_CONFIGMAP, SHARED_LOGS_KEY } from "../components/log-collector/args";
import { agentsNamespaceOf } from "../components/kit/labels";
import { ConfigError, ConfigProblem, StackConfig } from "../config";
import { known } from "./service-ports";
import { watchedNamespaces } from "../components/stack/args";

/** Where the operations guide explains the two sides. */
const DOCS = `docs/operations.md, "One collector for two stacks"`;

/** Reads the shared-logs record (its JSON text) from the agents namespace given; `readName` names the read. */
export type SharedLogsReader = (agentsNamespace: string, readName: string) => Promise<string | undefined>;

export const readSharedLogsFromCluster: SharedLogsReader = async (agentsNamespace, readName) => {
  const configMap = k8s.core.v1.ConfigMap.get(readName, `${agentsNamespace}/${SHARED_LOGS_CONFIGMAP}`);
  const data = await known(configMap.data);
  return data?.[SHARED_LOGS_KEY];
};

/**
 * The namespaces whose pod logs this stack expects: those it watches (watch), its own among them
 * (its Prometheus', Grafana's, Loki's pods), but not its agents namespace, where only its
 * node-exporter may run. A stack that watches every namespace expects its own and its apps'.
 */
export function expectedLogNamespaces(cfg: StackConfig): string[] {
  const watched = watchedNamespaces(cfg) ?? [cfg.namespace, ...cfg.apps.flatMap((a) => [a.service?.namespace, a.otlpNamespace])];
  const agents = agentsNamespaceOf(cfg.namespace);
  return [...new Set(watched.filter((ns): ns is string => Boolean(ns) && ns !== agents))].sort();
}

/**
 * What is wrong with the record for this stack: none, or sentences. `record` is the ConfigMap's
 * JSON (`{"<stack namespace>": ["<namespace>", …]}`), undefined when it has none.
 */
export function sharedLogsProblems(
  record: string | undefined,
  stack: { namespace: string; sharedFrom: string; namespaces: readonly string[] },
  key: string,
): ConfigProblem[] {
  const where = `the ${SHARED_LOGS_CONFIGMAP} ConfigMap of ${agentsNamespaceOf(stack.sharedFrom)}`;
  let shares: Record<string, unknown>;
  try {
    shares = record === undefined ? {} : (JSON.parse(record) as Record<string, unknown>);
  } catch {
    return [
      {
        key,
        message: `${where} is not the record a collector writes (its ${SHARED_LOGS_KEY} is not JSON): was it edited by hand? pulumi up the stack in ${stack.sharedFrom}`,
      },
    ];
  }
  const sent = shares[stack.namespace];
  const shareKey = "monitoring:logCollector.shareWith";
  if (!Array.isArray(sent)) {
    return [
      {
        key,
        message:
          `the collector of the stack in ${stack.sharedFrom} sends no logs to this stack (${where} does not name ${stack.namespace}): ` +
          `add {namespace: ${stack.namespace}, namespaces: [${stack.namespaces.join(", ")}]} to that stack's ${shareKey} and pulumi up it first (${DOCS})`,
      },
    ];
  }
  const missing = stack.namespaces.filter((ns) => !sent.includes(ns));
  if (missing.length === 0) return [];
  return [
    {
      key,
      message:
        `the collector of the stack in ${stack.sharedFrom} does not send the logs of ${missing.join(", ")} to this stack: add ` +
        `${missing.length === 1 ? "it" : "them"} to the namespaces of its ${shareKey} entry for ${stack.namespace} and pulumi up that stack first (${DOCS})`,
    },
  ];
}

/**
 * Refuses the deployment of a stack served by another stack's collector when that collector does
 * not send this stack's namespaces' logs to it. Nothing is read for a stack that runs its own.
 */
export async function checkSharedLogs(
  cfg: StackConfig,
  project: string,
  read: SharedLogsReader = readSharedLogsFromCluster,
): Promise<void> {
  const sharedFrom = cfg.logCollector.sharedFrom;
  if (sharedFrom === undefined) return;
  const key = `${project}:logCollector.sharedFrom`;
  const agents = agentsNamespaceOf(sharedFrom);
  const record = await read(agents, `${key} ConfigMap ${agents}/${SHARED_LOGS_CONFIGMAP}`);
  const problems = sharedLogsProblems(record, { namespace: cfg.namespace, sharedFrom, namespaces: expectedLogNamespaces(cfg) }, key);
  if (problems.length > 0) throw new ConfigError(problems);
}
