/**
 * One collector for two stacks, with the charts' monitors (components/log-collector/served-monitors.ts), read before
 * any resource at preview and up; the offline render has no cluster and says so.
 *
 * - The serving stack (a logCollector.shareWith entry with `monitors: true`) reads the settings the served stack
 *   published (the ConfigMap `served-monitors` of its namespace). Not there yet (the served stack has not deployed with
 *   monitors.enabled): a warning, and none of its monitors is read until the next up. Namespaces the entry does not
 *   name are refused: this collector reads only the namespaces it was given.
 * - The served stack (logCollector.sharedFrom with monitors.enabled) reads what the serving collector applied for it
 *   (the `shared-logs` ConfigMap of that stack's agents namespace). No entry with `monitors: true` for it: refused,
 *   naming both keys. Settings other than its own (it deploys them now; the serving stack reads them at its next up): a
 *   warning naming the `pulumi up` to run.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { ConfigError, ConfigProblem, StackConfig } from "../config";
import { SHARED_LOGS_CONFIGMAP } from "../components/log-collector/args";
import {
  APPLIED_MONITORS_KEY,
  SERVED_MONITORS_CONFIGMAP,
  SERVED_MONITORS_KEY,
  ServedMonitorsSettings,
  servedMonitorsRecord,
  servedMonitorsSchema,
} from "../components/log-collector/served-monitors";
import { agentsNamespaceOf } from "../components/kit/labels";
import { servedMonitorsSettings } from "../components/stack/args";
import { KubeGet, kubeConnection, kubeGetter } from "./kube-api";
import { known } from "./service-ports";

/** Where the operations guide explains it. */
const DOCS = `docs/operations.md, "One collector for two stacks"`;

/** What the serving stack read: the settings by served stack namespace, and its warnings. */
export interface ServedMonitorsRead {
  settings: Record<string, ServedMonitorsSettings>;
  warnings: string[];
}

/**
 * The settings in a served stack's `served-monitors` record, checked: the namespaces its entry gives this collector,
 * nothing beyond. `text` undefined: not published.
 */
export function parseServedMonitors(
  text: string | undefined,
  entry: { namespace: string; namespaces: readonly string[] },
  key: string,
): { settings?: ServedMonitorsSettings; problems: ConfigProblem[]; warnings: string[] } {
  const where = `the ${SERVED_MONITORS_CONFIGMAP} ConfigMap of ${entry.namespace}`;
  if (text === undefined) {
    return {
      problems: [],
      warnings: [
        `${key}: ${where} does not exist yet, so this collector reads none of that stack's monitors: deploy it with monitors.enabled and logCollector.sharedFrom, then pulumi up this stack again (${DOCS}).`,
      ],
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = servedMonitorsSchema.safeParse(json);
  if (!parsed.success) {
    return {
      problems: [
        {
          key,
          message: `${where} is not the record a served stack writes (its ${SERVED_MONITORS_KEY}: ${parsed.error.issues[0]?.message ?? "not JSON"}): was it edited by hand? pulumi up the stack in ${entry.namespace}`,
        },
      ],
      warnings: [],
    };
  }
  const outside = parsed.data.namespaces.filter((ns) => !entry.namespaces.includes(ns));
  if (outside.length > 0) {
    return {
      problems: [
        {
          key,
          message:
            `the stack in ${entry.namespace} reads monitors in ${outside.join(", ")}, which this entry does not give it: add ` +
            `${outside.length === 1 ? "it" : "them"} to its namespaces, or leave ${outside.length === 1 ? "it" : "them"} out of that stack's ${key.split(":")[0]}:monitors.namespaces (${DOCS})`,
        },
      ],
      warnings: [],
    };
  }
  return { settings: parsed.data, problems: [], warnings: [] };
}

/** Reads a namespace's ConfigMap's key through the API (absent: undefined), for the serving stack. */
export function configMapKeyReader(get: KubeGet): (namespace: string, name: string, dataKey: string) => Promise<string | undefined> {
  return async (namespace, name, dataKey) => {
    const answer = await get(`/api/v1/namespaces/${namespace}/configmaps/${name}`);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw new Error(`GET of ConfigMap ${namespace}/${name} answered ${answer.status}`);
    const data = (answer.body as { data?: Record<string, string> } | undefined)?.data;
    return data?.[dataKey];
  };
}

/** A ConfigMap as the API returns it (`kubectl get configmap -o yaml`): the parts read here. */
export interface GivenConfigMap {
  kind?: string;
  metadata: { namespace?: string; name: string };
  data?: Record<string, string>;
}

let givenConfigMaps: readonly GivenConfigMap[] | undefined;

/**
 * Has the program read the served stacks' `served-monitors` ConfigMaps from `configMaps` under the mocks, as preview
 * reads them from the cluster, until the returned function is called: the render's --served-monitors.
 */
export function readingServedMonitors(configMaps: readonly GivenConfigMap[]): () => void {
  givenConfigMaps = configMaps;
  return () => {
    givenConfigMaps = undefined;
  };
}

/** The ConfigMaps given as a stand-in cluster: a KubeGet that finds them, and nothing else (404). */
export function givenConfigMapGetter(configMaps: readonly GivenConfigMap[]): KubeGet {
  return async (apiPath) => {
    const found = configMaps.find(
      (c) => apiPath === `/api/v1/namespaces/${c.metadata.namespace ?? "default"}/configmaps/${c.metadata.name}`,
    );
    return found ? { status: 200, body: found } : { status: 404, body: undefined };
  };
}

/** The ConfigMaps of a YAML text (`kubectl get -o yaml`, or a render's kubernetes.yaml): one object, a List, or several documents. */
export function configMapsOf(text: string): GivenConfigMap[] {
  const docs = YAML.parseAllDocuments(text).map((d) => d.toJS() as { kind?: string; items?: unknown[] } | null);
  const objects = docs.flatMap((d) => (d?.kind === "List" ? (d.items ?? []) : d ? [d] : []));
  return objects.filter((o): o is GivenConfigMap => (o as { kind?: string }).kind === "ConfigMap");
}

/**
 * The serving stack's read: for each shareWith entry with `monitors: true`, what that stack published. `get` reads the
 * cluster (tests give their own); offline, nothing is read and each entry is named in a warning.
 */
export async function readServedMonitors(cfg: StackConfig, project: string, offline: boolean, get?: KubeGet): Promise<ServedMonitorsRead> {
  const entries = cfg.logCollector.shareWith.map((entry, i) => ({ entry, i })).filter(({ entry }) => entry.monitors);
  const read: ServedMonitorsRead = { settings: {}, warnings: [] };
  if (entries.length === 0) return read;
  // The render's --served-monitors: the ConfigMaps given stand in for the cluster.
  if (offline && givenConfigMaps !== undefined) return readServedMonitors(cfg, project, false, givenConfigMapGetter(givenConfigMaps));
  if (offline) {
    for (const { entry, i } of entries) {
      read.warnings.push(
        `${project}:logCollector.shareWith[${i}].monitors: the offline render has no cluster to read how the stack in ${entry.namespace} reads its monitors (its ${SERVED_MONITORS_CONFIGMAP} ConfigMap, which --served-monitors <file> gives); pulumi preview and up read it.`,
      );
    }
    return read;
  }
  let reader: KubeGet;
  try {
    reader =
      get ?? kubeGetter(kubeConnection(new pulumi.Config("kubernetes").get("kubeconfig"), new pulumi.Config("kubernetes").get("context")));
  } catch (err) {
    throw new ConfigError([
      {
        key: `${project}:logCollector.shareWith`,
        message: `cannot read the cluster for the served stacks' monitors (${(err as Error).message}): check the kubeconfig`,
      },
    ]);
  }
  const problems: ConfigProblem[] = [];
  for (const { entry, i } of entries) {
    const key = `${project}:logCollector.shareWith[${i}].monitors`;
    let text: string | undefined;
    try {
      text = await configMapKeyReader(reader)(entry.namespace, SERVED_MONITORS_CONFIGMAP, SERVED_MONITORS_KEY);
    } catch (err) {
      problems.push({ key, message: `reading ${entry.namespace}/${SERVED_MONITORS_CONFIGMAP} failed (${(err as Error).message})` });
      continue;
    }
    const result = parseServedMonitors(text, entry, key);
    problems.push(...result.problems);
    read.warnings.push(...result.warnings);
    if (result.settings) read.settings[entry.namespace] = result.settings;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return read;
}

/** Reads the serving collector's record of the monitors' settings it applied (its `shared-logs` ConfigMap), for the served stack. */
export type AppliedMonitorsReader = (agentsNamespace: string, readName: string) => Promise<string | undefined>;

export const readAppliedMonitorsFromCluster: AppliedMonitorsReader = async (agentsNamespace, readName) => {
  const configMap = k8s.core.v1.ConfigMap.get(readName, `${agentsNamespace}/${SHARED_LOGS_CONFIGMAP}`);
  const data = await known(configMap.data);
  return data?.[APPLIED_MONITORS_KEY];
};

/**
 * What is wrong for the served stack in the serving collector's record (`record`: its monitors.json; undefined: none):
 * problems when that collector does not scrape this stack's monitors, warnings when it scrapes them with other settings.
 */
export function appliedMonitorsProblems(
  record: string | undefined,
  stack: { namespace: string; sharedFrom: string; settings: ServedMonitorsSettings },
  project: string,
): { problems: ConfigProblem[]; warnings: string[] } {
  const key = `${project}:monitors.enabled`;
  const entryKey = `${project}:logCollector.shareWith`;
  let applied: Record<string, unknown> | undefined;
  try {
    applied = record === undefined ? undefined : (JSON.parse(record) as Record<string, unknown>);
  } catch {
    applied = undefined;
  }
  if (applied === undefined || !(stack.namespace in applied)) {
    return {
      problems: [
        {
          key,
          message:
            `is true, but the collector of the stack in ${stack.sharedFrom} (${project}:logCollector.sharedFrom), which runs here instead of this stack's own, does not scrape this stack's monitors: ` +
            `set monitors: true on the ${entryKey} entry for ${stack.namespace} of that stack and pulumi up it first, or set monitors.enabled: false (${DOCS})`,
        },
      ],
      warnings: [],
    };
  }
  const mine = servedMonitorsRecord(stack.settings);
  const theirs = applied[stack.namespace];
  const same = theirs !== null && typeof theirs === "object" && `${JSON.stringify(theirs, null, 2)}\n` === mine;
  return {
    problems: [],
    warnings: same
      ? []
      : [
          `${key}: the collector of the stack in ${stack.sharedFrom} scrapes this stack's monitors with the settings it read at its last up (${
            theirs === null ? "none yet" : "not these"
          }): pulumi up the stack in ${stack.sharedFrom} after this one, so that it reads the ones this deployment publishes (${DOCS}).`,
        ],
  };
}

/** The served stack's check, at preview and up: refuses when the serving collector does not scrape its monitors; its warnings otherwise. */
export async function checkAppliedMonitors(
  cfg: StackConfig,
  project: string,
  agentsNamespaceCreated: boolean,
  read: AppliedMonitorsReader = readAppliedMonitorsFromCluster,
): Promise<string[]> {
  const sharedFrom = cfg.logCollector.sharedFrom;
  const settings = servedMonitorsSettings(cfg, agentsNamespaceCreated);
  if (sharedFrom === undefined || !settings) return [];
  const agents = agentsNamespaceOf(sharedFrom);
  const record = await read(agents, `${project}:monitors.enabled ConfigMap ${agents}/${SHARED_LOGS_CONFIGMAP}`);
  const result = appliedMonitorsProblems(record, { namespace: cfg.namespace, sharedFrom, settings }, project);
  if (result.problems.length > 0) throw new ConfigError(result.problems);
  return result.warnings;
}
