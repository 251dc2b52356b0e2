/**
 * The Prometheus operator's monitors honoured by the collector (config monitors): Alloy's
 * prometheus.operator.servicemonitors, .podmonitors and .probes watch the objects through the API
 * (a new or changed one is scraped within a scrape interval of its creation), read the Secrets
 * they name, scrape their targets as the operator's generated config would, and remote-write the
 * samples to the stack's Prometheus. Kept in a file of its own, apart from the log pipeline.
 *
 * One collector scrapes each target: every node's Alloy joins one Alloy cluster (the agents' headless
 * Service; `--cluster.name` is the stack's namespace, so that another stack's collectors never join it)
 * and the components' `clustering` block shares the targets out among its peers by a hash of each
 * target's labels. On one node the cluster has one peer, which scrapes everything.
 *
 * A monitor keeps its namespace: Alloy (v1.19.2) runs a monitor's own relabelings after the
 * component's `rule` blocks and honours its honorLabels, with no setting to change either
 * (configgen: `namespacelabeler.New("", nil, false)`, `cfg.HonorLabels = ep.HonorLabels`), so the
 * stack holds the namespace after the scrape instead: one set of watchers per namespace, whose
 * samples pass a `prometheus.relabel` that sets `namespace` to that namespace on every sample,
 * whatever the monitor's relabelings, metric relabelings or honorLabels made of it. Only the
 * monitors monitors.honorLabels names (a namespace, or `<namespace>/<name>`) skip it: those keep the
 * namespace labels they give (an exporter that reports other namespaces' objects). Whether held or
 * not, a monitor's series never carries a `job` of the stack's own (tenantJobRename). A monitor that
 * sets no sampleLimit gets the stack's (monitors.limits.samples; `scrape.default_sample_limit`); one
 * that sets more, or a larger targetLimit or labelLimit, is lowered by the API server when written
 * (components/monitors/limits.ts): Alloy takes the object's own limits as they are.
 */
import { AlloyBlock, AlloyExpr, ruleBlock } from "./alloy-syntax";
import { RelabelRule } from "./relabelling";
import { ENVIRONMENT_LABEL } from "../kit/database-exporters";
import { programmingError } from "../kit/problems";
import { stackJobsRegex } from "../kit/stack-jobs";

/** What the collector reads of the monitors. */
export interface AlloyMonitorsArgs {
  /** Prometheus' remote-write receiver (`…/api/v1/write`). */
  remoteWriteUrl: string;
  /** The namespaces whose monitors are read; none: every namespace's. */
  namespaces?: readonly string[];
  /** Labels a monitor must carry (matchLabels); empty: every monitor. */
  selector: Readonly<Record<string, string>>;
  /** The scrape interval and timeout of a monitor whose endpoint gives none: the stack's. */
  scrapeInterval: string;
  scrapeTimeout: string;
  /** The stack's environment: the annotated pods its Prometheus scrapes are those labelled with it or with no environment. */
  environment: string;
  /** The Services Prometheus scrapes itself (apps[] and targets[] with a service), `{namespace, name}`. */
  scrapedServices: ReadonlyArray<{ namespace: string; name: string }>;
  /** The monitors whose series keep the namespace they give (monitors.honorLabels): namespaces, or `<namespace>/<name>`. */
  honorLabels?: readonly string[];
  /** The samples one scrape of a monitor may return when the monitor sets no sampleLimit (monitors.limits.samples). */
  sampleLimit: number;
  /**
   * The label of the writer and the prefix of the watchers' labels: MONITORS_LABEL for the stack's own monitors,
   * another for a served stack's (served-monitors.ts), so that both sets live in one file. Default MONITORS_LABEL.
   */
  label?: string;
}

/** A Kubernetes name as a regex literal: lower-case letters, digits, '-' and '.', the dot escaped. */
const literal = (name: string) => name.replace(/\./g, "\\.");

/**
 * What the monitors leave to Prometheus' own jobs, so that no target is scraped twice into one
 * Prometheus: a pod annotated `prometheus.io/scrape: "true"` that the annotated-pods job takes (no
 * environment label, or this stack's; k3s's Traefik pods are the traefik job's), and the endpoints of
 * a Service that apps[] or targets[] scrape. The drop happens before the scrape, on the target's
 * Kubernetes metadata (Alloy applies these rules first, before each monitor's own relabelings).
 */
export function duplicateRules(args: Pick<AlloyMonitorsArgs, "environment" | "scrapedServices">): RelabelRule[] {
  const podMeta = (prefix: string, name: string) => `${prefix}${name.replace(/[^a-zA-Z0-9_]/g, "_")}`;
  const services = [...new Set(args.scrapedServices.map((s) => `${literal(s.namespace)};${literal(s.name)}`))].sort();
  return [
    {
      source_labels: [
        podMeta("__meta_kubernetes_pod_annotation_", "prometheus.io/scrape"),
        podMeta("__meta_kubernetes_pod_label_", ENVIRONMENT_LABEL),
      ],
      regex: `true;(|${literal(args.environment)})`,
      action: "drop",
    },
    ...(services.length > 0
      ? [
          {
            source_labels: ["__meta_kubernetes_namespace", "__meta_kubernetes_service_name"],
            regex: services.join("|"),
            action: "drop" as const,
          },
        ]
      : []),
  ];
}

/**
 * The first rule of a watcher: keep only the targets discovered in the namespace it watches. Alloy
 * (v1.19.2, configgen) honours a monitor's `namespaceSelector` (`any: true`, `matchNames`), which
 * would scrape other namespaces' Services and pods into the writer's series; it runs the component's
 * rules before anything of the monitor's own, on the discovery's labels, where
 * `__meta_kubernetes_namespace` is the namespace of the Service, pod or Ingress found (the
 * monitor's relabelings cannot have changed it yet). A Probe's static targets carry none (they are
 * parameters handed to the prober, not addresses the collector connects to): kept.
 */
export function ownNamespaceRule(component: (typeof MONITOR_COMPONENTS)[number], namespace: string): RelabelRule {
  return {
    source_labels: ["__meta_kubernetes_namespace"],
    regex: component === "probes" ? `(|${literal(namespace)})` : literal(namespace),
    action: "keep",
  };
}

/** The Alloy components of the three kinds, in the order written. */
export const MONITOR_COMPONENTS = ["servicemonitors", "podmonitors", "probes"] as const;

/** The label of every block this file writes (`prometheus.operator.servicemonitors "monitors"`, …). */
export const MONITORS_LABEL = "monitors";

/** An Alloy object literal of strings: `{"key" = "value", …}`, keys and values quoted (label keys hold '/' and '.'). */
function stringObject(map: Readonly<Record<string, string>>): AlloyExpr {
  const entries = Object.keys(map)
    .sort()
    .map((k) => `${JSON.stringify(k)} = ${JSON.stringify(map[k])}`);
  return new AlloyExpr(`{${entries.join(", ")}}`);
}

/** An Alloy component label for a namespace: its '-' as '_' (a namespace has no '_', so no two meet). */
export const namespaceLabel = (namespace: string, prefix: string = MONITORS_LABEL): string => `${prefix}_${namespace.replace(/-/g, "_")}`;

/**
 * The scrape jobs' names of a namespace's named ServiceMonitors and PodMonitors, as Alloy gives them
 * before the monitor's relabelings (`job` then holds the job's name, Kubernetes discovery giving no
 * `job` of its own): `serviceMonitor/<ns>/<name>/<i>`, `podMonitor/<ns>/<name>/<i>`. A Probe has no
 * honorLabels, and its static targets may carry any `job`: probes are always held.
 */
export function monitorJobsRegex(namespace: string, names: readonly string[]): string {
  return `(serviceMonitor|podMonitor)/${literal(namespace)}/(${names.map(literal).join("|")})/[0-9]+`;
}

/**
 * The last rule of every sample of a namespace's monitors: a `job` that is one of the stack's own
 * (STACK_JOBS: `node-exporter`, `kube-state-metrics`, …) becomes `<namespace>/<job>`, the namespace
 * being the monitor's, whatever label it gives. The built-in rules read those jobs as the stack's
 * and aggregate `namespace` away, so a monitor's series wearing one (its job named after its
 * Service, a relabeling, honorLabels) would be counted with the stack's own and could hide a
 * node's load or a job's outage; with the namespace in it, no job of a monitor is one of them.
 */
export function tenantJobRename(namespace: string): RelabelRule {
  return {
    source_labels: ["job"],
    regex: `(${stackJobsRegex()})`,
    target_label: "job",
    replacement: `${namespace}/\${1}`,
    action: "replace",
  };
}

/**
 * The watchers and the remote writer of their samples: per namespace read, the three watchers
 * (theirs to `monitors_<ns>`, which sets the namespace, or to `monitors_<ns>_honoured` when
 * monitors.honorLabels names the namespace), and for the objects it names by `<ns>/<name>` a second
 * set that keeps only their targets (the first then drops them) and writes to `monitors_<ns>_honoured`.
 * Both relabels end with tenantJobRename: honoured or not, no monitor's series carries a job of the
 * stack's. The namespaces are needed: the collector cannot hold a monitor of a namespace it does not
 * know to it (config refuses their absence).
 */
export function monitorBlocks(args: AlloyMonitorsArgs): AlloyBlock[] {
  if (args.namespaces === undefined || args.namespaces.length === 0) {
    // config/checks/monitors.ts refuses monitors without them (every namespace watched needs monitors.namespaces).
    programmingError("monitors: the namespaces whose monitors are read must be given, so that each one's series are held to it");
  }
  const writerLabel = args.label ?? MONITORS_LABEL;
  const writer = new AlloyExpr(`prometheus.remote_write.${writerLabel}.receiver`);
  const honoured = args.honorLabels ?? [];
  const watcher = (
    component: (typeof MONITOR_COMPONENTS)[number],
    label: string,
    namespace: string,
    to: AlloyExpr,
    only: RelabelRule[],
  ): AlloyBlock => ({
    name: `prometheus.operator.${component}`,
    label,
    attributes: [
      ["forward_to", [to]],
      ["namespaces", [namespace]],
      // EndpointSlices: the Endpoints API is deprecated since Kubernetes 1.33 (k3s 1.36 serves both).
      ...(component === "servicemonitors" ? ([["kubernetes_role", "endpointslice"]] as Array<[string, string]>) : []),
    ],
    blocks: [
      ...[ownNamespaceRule(component, namespace), ...duplicateRules(args), ...only].map(ruleBlock),
      ...(Object.keys(args.selector).length > 0
        ? [{ name: "selector", attributes: [["match_labels", stringObject(args.selector)]] } as AlloyBlock]
        : []),
      // Each target scraped by one peer of the collectors' cluster.
      { name: "clustering", attributes: [["enabled", true]] },
      {
        name: "scrape",
        attributes: [
          ["default_scrape_interval", args.scrapeInterval],
          ["default_scrape_timeout", args.scrapeTimeout],
          ["default_sample_limit", args.sampleLimit],
        ],
      },
    ],
  });
  const blocks: AlloyBlock[] = [];
  const relabel = (label: string, rules: RelabelRule[]): AlloyBlock => ({
    name: "prometheus.relabel",
    label,
    attributes: [["forward_to", [writer]]],
    blocks: rules.map(ruleBlock),
  });
  for (const namespace of args.namespaces) {
    const label = namespaceLabel(namespace, writerLabel);
    const honouredLabel = `${label}_honoured`;
    const rename = tenantJobRename(namespace);
    if (honoured.includes(namespace)) {
      const to = new AlloyExpr(`prometheus.relabel.${honouredLabel}.receiver`);
      blocks.push(...MONITOR_COMPONENTS.map((c) => watcher(c, label, namespace, to, [])), relabel(honouredLabel, [rename]));
      continue;
    }
    const named = honoured.filter((h) => h.startsWith(`${namespace}/`)).map((h) => h.slice(namespace.length + 1));
    const jobs = named.length > 0 ? monitorJobsRegex(namespace, named) : undefined;
    const held = new AlloyExpr(`prometheus.relabel.${label}.receiver`);
    blocks.push(
      ...MONITOR_COMPONENTS.map((c) =>
        watcher(c, label, namespace, held, jobs && c !== "probes" ? [{ source_labels: ["job"], regex: jobs, action: "drop" }] : []),
      ),
      // Last, after every relabeling and honorLabels of the monitor: the namespace is the monitor's, and the job none of the stack's.
      relabel(label, [{ target_label: "namespace", replacement: namespace, action: "replace" }, rename]),
    );
    if (jobs) {
      const keep: RelabelRule[] = [{ source_labels: ["job"], regex: jobs, action: "keep" }];
      const to = new AlloyExpr(`prometheus.relabel.${honouredLabel}.receiver`);
      blocks.push(
        ...(["servicemonitors", "podmonitors"] as const).map((c) => watcher(c, honouredLabel, namespace, to, keep)),
        relabel(honouredLabel, [rename]),
      );
    }
  }
  return [
    ...blocks,
    {
      name: "prometheus.remote_write",
      label: writerLabel,
      blocks: [
        {
          name: "endpoint",
          attributes: [["url", args.remoteWriteUrl]],
          // Prometheus restarting or a node drain: the samples wait in Alloy's write-ahead log, retried with backoff.
          blocks: [
            {
              name: "queue_config",
              attributes: [
                ["min_backoff", "500ms"],
                ["max_backoff", "30s"],
              ],
            },
          ],
        },
      ],
    },
  ];
}
