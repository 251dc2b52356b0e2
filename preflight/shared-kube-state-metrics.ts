/**
 * A stack that scrapes another stack's kube-state-metrics (`kubeStateMetrics.sharedFrom`) keeps
 * only the series of the namespaces it watches; a namespace the shared one does not report has no
 * series at all, so no alert would ever fire for it. Before it deploys, this stack reads what the
 * shared one reports: its Deployment's `--namespaces` flag, in the serving stack's namespace (what
 * runs, not a record of it). Every namespace this stack watches must be among them. The read
 * happens in `pulumi preview` and `up` (the engine fails, naming the read, when that Deployment does
 * not exist); the offline render has no cluster and says so.
 */
import * as k8s from "@pulumi/kubernetes";
import { KUBE_STATE_METRICS_NAME } from "../components/exporters/kube-state-metrics";
import { ConfigError, ConfigProblem, StackConfig } from "../config";
import { known } from "./service-ports";
import { agentsNamespace, watchedNamespaces } from "../components/stack/args";

/** Where the operations guide explains the two sides. */
const DOCS = `docs/operations.md, "One kube-state-metrics for two stacks"`;
const FLAG = "--namespaces=";

/** Reads the container args of the kube-state-metrics Deployment in `namespace`; `readName` names the read. */
export type KubeStateMetricsArgsReader = (namespace: string, readName: string) => Promise<string[] | undefined>;

export const readKubeStateMetricsArgsFromCluster: KubeStateMetricsArgsReader = async (namespace, readName) => {
  const deployment = k8s.apps.v1.Deployment.get(readName, `${namespace}/${KUBE_STATE_METRICS_NAME}`);
  const spec = await known(deployment.spec);
  return spec?.template?.spec?.containers?.find((c) => c.name === KUBE_STATE_METRICS_NAME)?.args;
};

/**
 * The namespaces whose objects this stack needs the shared kube-state-metrics to report: those it
 * watches (watch), but its agents namespace only when it has one (a stack served by another's
 * collector and running no node-exporter has none).
 */
export function expectedObjectNamespaces(cfg: StackConfig): string[] {
  const watched = watchedNamespaces(cfg) ?? [];
  const ownAgents = cfg.nodeExporter.enabled || cfg.logCollector.enabled;
  return [...new Set(watched.filter((ns) => ownAgents || ns !== agentsNamespace(cfg)))].sort();
}

/**
 * What is wrong with the shared kube-state-metrics' args for this stack: none, or sentences.
 * `args` undefined: the Deployment has no kube-state-metrics container.
 */
export function sharedKubeStateMetricsProblems(
  args: readonly string[] | undefined,
  stack: { namespace: string; sharedFrom: string; namespaces: readonly string[] },
  key: string,
): ConfigProblem[] {
  const where = `the ${KUBE_STATE_METRICS_NAME} Deployment of ${stack.sharedFrom}`;
  const shareKey = "monitoring:kubeStateMetrics.shareWith";
  const entry = `{namespace: ${stack.namespace}, namespaces: [${stack.namespaces.join(", ")}]}`;
  if (args === undefined) {
    return [
      {
        key,
        message: `${where} has no ${KUBE_STATE_METRICS_NAME} container: is it this project's? pulumi up the stack in ${stack.sharedFrom}`,
      },
    ];
  }
  const flag = args.find((a) => a.startsWith(FLAG));
  // Without the flag it reports every namespace (a stack that watches every namespace; refused with shareWith).
  if (flag === undefined) return [];
  const reported = flag.slice(FLAG.length).split(",");
  const missing = stack.namespaces.filter((ns) => !reported.includes(ns));
  if (missing.length === 0) return [];
  return [
    {
      key,
      message:
        `${where} does not report the objects of ${missing.join(", ")} (its ${FLAG}${reported.join(",")}), so this stack would have no ` +
        `series of ${missing.length === 1 ? "it" : "them"} and no alert for ${missing.length === 1 ? "it" : "them"}: give that stack's ${shareKey} ` +
        `the entry ${entry} and pulumi up it first (${DOCS})`,
    },
  ];
}

/**
 * Refuses the deployment of a stack that scrapes another stack's kube-state-metrics when that one
 * does not report every namespace this stack watches. Nothing is read for a stack that runs its own.
 */
export async function checkSharedKubeStateMetrics(
  cfg: StackConfig,
  project: string,
  read: KubeStateMetricsArgsReader = readKubeStateMetricsArgsFromCluster,
): Promise<void> {
  const sharedFrom = cfg.kubeStateMetrics.sharedFrom;
  if (sharedFrom === undefined) return;
  const key = `${project}:kubeStateMetrics.sharedFrom`;
  const args = await read(sharedFrom, `${key} Deployment ${sharedFrom}/${KUBE_STATE_METRICS_NAME}`);
  const problems = sharedKubeStateMetricsProblems(
    args,
    { namespace: cfg.namespace, sharedFrom, namespaces: expectedObjectNamespaces(cfg) },
    key,
  );
  if (problems.length > 0) throw new ConfigError(problems);
}
