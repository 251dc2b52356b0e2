/**
 * What a stack that honours the operator's objects (monitors.enabled) reads before any resource:
 * which of the four CRDs it installs (preflight/operator-crds.ts) and the PrometheusRules it loads
 * (preflight/operator-rules.ts), from the cluster the Kubernetes provider deploys to
 * (preflight/kube-api.ts), and names the monitors written before the stack's limit policy held them
 * (preflight/monitor-limits.ts). The offline render has no cluster: it installs the CRDs `auto` would
 * install on an empty cluster, loads no PrometheusRule, and says so.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, StackConfig } from "../config";
import { MONITOR_KINDS, MonitorKind } from "../components/monitors/args";
import { prometheusRuleStateConfig } from "../components/monitors/state-metrics";
import { monitorNamespaces, monitorsRun } from "../components/stack/args";
import { KubeGet, kubeConnection, kubeGetter } from "./kube-api";
import { crdReader, readCrdPlan } from "./operator-crds";
import { operatorRuleFiles, ruleLister } from "./operator-rules";
import { unheldMonitors, unheldWarning } from "./monitor-limits";
import { tenantRulePolicy } from "./tenant-policy";

export interface OperatorObjects {
  crdKinds: MonitorKind[];
  ruleFiles: Array<[string, string]>;
  warnings: string[];
}

/** The Kubernetes provider's kubeconfig and context, as `kubernetes:kubeconfig` and `kubernetes:context` set them. */
function clusterGetter(): KubeGet {
  const provider = new pulumi.Config("kubernetes");
  return kubeGetter(kubeConnection(provider.get("kubeconfig"), provider.get("context")));
}

/** Reads the operator's objects for a stack that honours them; undefined when it does not. `get` reads the cluster (tests give their own). */
export async function readOperatorObjects(
  cfg: StackConfig,
  project: string,
  offline: boolean,
  get?: KubeGet,
): Promise<OperatorObjects | undefined> {
  if (!monitorsRun(cfg)) return undefined;
  const crdsKey = `${project}:monitors.crds`;
  const rulesKey = `${project}:monitors.rules`;
  const matchers = prometheusRuleStateConfig(cfg.monitors.selector).matchers;
  const builtin = cfg.monitors.rules ? tenantRulePolicy(cfg) : undefined;
  if (offline) {
    const all = Object.keys(MONITOR_KINDS) as MonitorKind[];
    const crdKinds = cfg.monitors.crds === "external" ? [] : all;
    return {
      crdKinds,
      ruleFiles: builtin ? operatorRuleFiles([], builtin, matchers, rulesKey).files : [],
      warnings: [
        ...(cfg.monitors.crds === "auto"
          ? [
              `${crdsKey}: the offline render has no cluster to read the CRDs from; it renders all four, and pulumi preview and up leave alone those another owner installed.`,
            ]
          : []),
        ...(builtin
          ? [`${rulesKey}: the offline render has no cluster to read PrometheusRules from; pulumi preview and up load them.`]
          : []),
      ],
    };
  }
  let reader: KubeGet;
  try {
    reader = get ?? clusterGetter();
  } catch (err) {
    throw new ConfigError([
      {
        key: crdsKey,
        message: `cannot read the cluster to find its CRDs and PrometheusRules (${(err as Error).message}): check the kubeconfig, or set monitors.crds to install or external and monitors.rules: false`,
      },
    ]);
  }
  // The monitors written before the limit policy held them (preflight/monitor-limits.ts): a warning, never a refusal.
  const limitsKey = `${project}:monitors.limits`;
  const limitWarnings = async (): Promise<string[]> => {
    try {
      return unheldWarning(await unheldMonitors(reader, monitorNamespaces(cfg).namespaces ?? [], cfg.monitors.limits), limitsKey);
    } catch (err) {
      return [`${limitsKey}: could not list the monitors to find those the limit policy has not held yet (${(err as Error).message})`];
    }
  };
  try {
    const plan = await readCrdPlan(cfg.monitors.crds, cfg.namespace, crdReader(reader), crdsKey);
    const rules = builtin
      ? operatorRuleFiles(await ruleLister(reader)(monitorNamespaces(cfg).namespaces, cfg.monitors.selector), builtin, matchers, rulesKey)
      : { files: [], warnings: [] };
    return { crdKinds: plan.kinds, ruleFiles: rules.files, warnings: [...plan.warnings, ...rules.warnings, ...(await limitWarnings())] };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([
      {
        key: crdsKey,
        message: `reading the cluster's CRDs and PrometheusRules failed (${(err as Error).message}): set monitors.crds to install or external and monitors.rules: false to deploy without reading them`,
      },
    ]);
  }
}
