/**
 * One collector for two stacks, with the charts' monitors: a stack served by another stack's collector
 * (logCollector.sharedFrom) with monitors.enabled runs no collector of its own, so the serving collector
 * (whose logCollector.shareWith entry for it says `monitors: true`) scrapes its ServiceMonitors,
 * PodMonitors and Probes and remote-writes the samples to its Prometheus, as it sends its logs to its Loki.
 *
 * Each stack keeps its own settings and reads only its own objects:
 * - the served stack publishes what its monitors are read with (its namespaces, selector, Secrets,
 *   scrape interval and timeout, honorLabels, sample limit, the Services its Prometheus scrapes
 *   itself) in the ConfigMap `served-monitors` of its namespace, and grants the serving collector's
 *   service account read access to the monitors (and their targets' Services, endpoints, pods) in
 *   those namespaces only, and `get` of the Secrets it names only;
 * - the serving stack reads that ConfigMap at preview and up (preflight/served-monitors.ts), takes
 *   only namespaces its shareWith entry names, and writes the watchers with the served stack's
 *   settings, the blocks of monitors.ts under a label of their own (`to_<namespace>`), beside and
 *   apart from its own monitors' (`monitors`): their samples go to the served stack's Prometheus only.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { z } from "zod";
import { AlloyBlock } from "./alloy-syntax";
import { monitorBlocks } from "./monitors";
import { monitorReadRules, monitorSecretsAccess } from "./access";

/** The ConfigMap, in the served stack's namespace, that says how its monitors are read. */
export const SERVED_MONITORS_CONFIGMAP = "served-monitors";
export const SERVED_MONITORS_KEY = "monitors.json";
/** In the serving stack's `shared-logs` ConfigMap: the settings it applied for each served stack (null: none read yet). */
export const APPLIED_MONITORS_KEY = "monitors.json";

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const namespace = z.string().regex(NAMESPACE);
const objectRef = z.string().refine((v) => {
  const [ns, name, ...rest] = v.split("/");
  return rest.length === 0 && NAMESPACE.test(ns) && name !== undefined && NAME.test(name) && name.length <= 253;
});
const promDuration = z.string().regex(/^([0-9]+(ms|s|m|h|d|w|y))+$/);
const labelKey = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
const labelValue = z.string().regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/);

/** What a served stack publishes: everything its own collector would read its monitors with. */
export const servedMonitorsSchema = z.strictObject({
  environment: z.string().regex(NAMESPACE),
  namespaces: z.array(namespace).min(1),
  selector: z.record(labelKey, labelValue),
  secrets: z.array(objectRef),
  scrapeInterval: promDuration,
  scrapeTimeout: promDuration,
  scrapedServices: z.array(z.strictObject({ namespace, name: z.string().regex(NAME) })),
  honorLabels: z.array(z.union([namespace, objectRef])),
  sampleLimit: z.number().int().positive(),
});
export type ServedMonitorsSettings = z.infer<typeof servedMonitorsSchema>;

/** The published record: the settings as JSON, keys in a fixed order, lists sorted. */
export function servedMonitorsRecord(settings: ServedMonitorsSettings): string {
  const ordered: ServedMonitorsSettings = {
    environment: settings.environment,
    namespaces: [...settings.namespaces].sort(),
    selector: Object.fromEntries(
      Object.keys(settings.selector)
        .sort()
        .map((k) => [k, settings.selector[k]]),
    ),
    secrets: [...settings.secrets].sort(),
    scrapeInterval: settings.scrapeInterval,
    scrapeTimeout: settings.scrapeTimeout,
    scrapedServices: [...settings.scrapedServices].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
    honorLabels: [...settings.honorLabels].sort(),
    sampleLimit: settings.sampleLimit,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** The serving collector's record of what it applied: each served stack's namespace to its settings (null: none read), as JSON. */
export function appliedMonitorsRecord(served: readonly ServedMonitors[]): string {
  const record = Object.fromEntries(
    [...served]
      .sort((a, b) => a.stackNamespace.localeCompare(b.stackNamespace))
      .map((s) => [s.stackNamespace, s.settings ? (JSON.parse(servedMonitorsRecord(s.settings)) as ServedMonitorsSettings) : null]),
  );
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** The label of a served stack's writer and the prefix of its watchers: `to_<namespace>` ('-' as '_'), as its logs' writer. */
export const servedMonitorsLabel = (stackNamespace: string): string => `to_${stackNamespace.replace(/-/g, "_")}`;

/** A served stack as the serving collector takes it: its namespace, its Prometheus' receiver, the settings it published (none: not read). */
export interface ServedMonitors {
  stackNamespace: string;
  remoteWriteUrl: string;
  settings?: ServedMonitorsSettings;
}

/** The watchers and the writer of a served stack's monitors: monitors.ts' blocks with its settings, under its own label. */
export function servedMonitorBlocks(served: ServedMonitors): AlloyBlock[] {
  const settings = served.settings;
  if (!settings) return [];
  return monitorBlocks({
    remoteWriteUrl: served.remoteWriteUrl,
    namespaces: [...settings.namespaces].sort(),
    selector: settings.selector,
    scrapeInterval: settings.scrapeInterval,
    scrapeTimeout: settings.scrapeTimeout,
    environment: settings.environment,
    scrapedServices: settings.scrapedServices,
    honorLabels: settings.honorLabels,
    sampleLimit: settings.sampleLimit,
    label: servedMonitorsLabel(served.stackNamespace),
  });
}

/** The heading line of config.alloy for the served stacks whose monitors it scrapes. */
export function servedMonitorsComment(served: readonly ServedMonitors[]): string[] {
  return served
    .filter((s) => s.settings)
    .map(
      (s) =>
        `The ServiceMonitors, PodMonitors and Probes of ${(s.settings as ServedMonitorsSettings).namespaces.join(", ")} are scraped with the settings of the stack in ${s.stackNamespace} and remote-written to its Prometheus.`,
    );
}

/**
 * What the served stack grants the serving collector (`<agent>` in `collectorNamespace`): a ClusterRole of its own
 * that reads the monitors and their targets, bound in each of its monitors' namespaces (they exist once it deploys),
 * and `get` of the Secrets its monitors may name; the ConfigMap that publishes its settings, in its namespace.
 */
export function servedMonitorsAccess(
  name: string,
  args: {
    stackNamespace: string;
    collectorNamespace: string;
    agent: string;
    labels: Record<string, string>;
    settings: ServedMonitorsSettings;
  },
  opts: pulumi.CustomResourceOptions,
): void {
  const clusterRoleName = `${args.stackNamespace}-served-${args.agent}-monitors`;
  const subject = { kind: "ServiceAccount", name: args.agent, namespace: args.collectorNamespace };
  const role = new k8s.rbac.v1.ClusterRole(
    `${name}-monitors-role`,
    { metadata: { name: clusterRoleName, labels: args.labels }, rules: monitorReadRules() },
    opts,
  );
  for (const ns of [...args.settings.namespaces].sort()) {
    new k8s.rbac.v1.RoleBinding(
      `${name}-monitors-binding-${ns}`,
      {
        metadata: { name: clusterRoleName, namespace: ns, labels: args.labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
        subjects: [subject],
      },
      opts,
    );
  }
  monitorSecretsAccess(
    name,
    {
      roleName: `${clusterRoleName}-secrets`,
      labels: args.labels,
      secrets: args.settings.secrets,
      subject: { namespace: args.collectorNamespace, name: args.agent },
    },
    opts,
  );
  new k8s.core.v1.ConfigMap(
    `${name}-served-monitors`,
    {
      metadata: { name: SERVED_MONITORS_CONFIGMAP, namespace: args.stackNamespace, labels: args.labels },
      data: { [SERVED_MONITORS_KEY]: servedMonitorsRecord(args.settings) },
    },
    opts,
  );
}
