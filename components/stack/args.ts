/**
 * The one place that maps the resolved stack config to each component's args (the
 * kube-prometheus `main` shape): no component sees the whole config.
 */
import * as pulumi from "@pulumi/pulumi";
import { StackConfig, exposedBy, publicHostname } from "./config";
import { EXPORTER_RESOURCES } from "../database-exporters/kinds";
import { EgressComponent, EgressSettings } from "../kit/network";
import { podPriority, stackPriorityClassName } from "../kit/priority";
import { watchedNamespaces as watchedOf } from "../kit/watch";
import { agentsNamespaceOf, selectorLabels } from "../kit/labels";
import { ClusterTraefik, PrometheusArgs } from "../prometheus/args";
import { remoteWriteArgsOptions } from "../prometheus/remote-write";
import { KubeStateMetricsArgs } from "../exporters/kube-state-metrics";
import { NodeExporterArgs } from "../exporters/node-exporter";
import { DatabaseExportersArgs } from "../database-exporters/args";
import { BlackboxExporterArgs } from "../blackbox-exporter";
import { LokiArgs } from "../loki/args";
import { LOG_COLLECTOR_AGENT, LogCollectorArgs, LogCollectorExternal, scrapesMonitors } from "../log-collector/args";
import type { ExternalLoki } from "../log-collector/section";
import type { ServedMonitorsSettings } from "../log-collector/served-monitors";
import { PROMETHEUS_WRITE_PORT, prometheusRemoteWriteUrl } from "../kit/services";
import { TracingArgs } from "../tracing/args";
import { GrafanaArgs } from "../grafana/args";
import { AlertmanagerArgs, alertmanagerIdentity, alertmanagerPeerUrls } from "../alertmanager/args";
import { shippedLogRuleFiles } from "../loki/rules";
import { linkRunbooks } from "../prometheus/rules/rule-files";
import { TraefikExposureArgs } from "../traefik/args";
import { CloudflareTunnelArgs } from "../cloudflare-tunnel/args";
import { prometheusRuleStateConfig } from "../monitors/state-metrics";
import { backsUp, unpublishedOf } from "./backup";
import { scheduleGapSeconds } from "../backup/schedule";
import { EVENTS_RULE_FILE, JOURNAL_RULE_FILE, contentOff, eventsCollected, journalCollected, otlpEndpoint } from "./content";

/** Where the cluster's Traefik runs, as the stack config says (k3s's by default). */
function clusterTraefik(cfg: StackConfig): ClusterTraefik {
  const { namespace, podLabels, port } = cfg.traefik.metrics;
  return { namespace, podLabels, port };
}

/** The Prometheus component's args for a validated stack config (secrets wrapped in pulumi.secret). */
export function prometheusArgs(cfg: StackConfig): PrometheusArgs {
  // The section's values are the component's args as they are, but the remote writes' credentials (secrets here).
  const { remoteWrite, ...settings } = cfg.prometheus;
  const hostname = publicHostname(cfg, "prometheus");
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    ...settings,
    apps: cfg.apps,
    targets: cfg.targets.map((t) =>
      t.credential && "value" in t.credential ? { ...t, credential: { value: pulumi.secret(t.credential.value) } } : t,
    ),
    probes: cfg.probes,
    ...(cfg.traefik.metrics.enabled ? { clusterTraefik: clusterTraefik(cfg) } : {}),
    ...watching(cfg, "watchedNamespaces"),
    databases: cfg.databases.map(({ name, type }) => ({ name, type })),
    remoteWrite: remoteWrite.map(({ name, url, auth, ...options }) => ({
      name,
      url,
      ...(auth && "username" in auth
        ? { auth: { type: "basic" as const, username: auth.username, password: pulumi.secret(auth.password) } }
        : auth
          ? { auth: { type: "bearer" as const, token: pulumi.secret(auth.bearerToken) } }
          : {}),
      ...(Object.keys(options).length > 0 ? { options: remoteWriteArgsOptions(options) } : {}),
    })),
    thresholds: cfg.thresholds,
    withoutRuleFiles: contentOff(cfg).ruleFiles,
    withoutAlerts: contentOff(cfg).alerts,
    protectVolumes: cfg.protectVolumes,
    ...(hostname ? { publicHostname: hostname } : {}),
    exemplars: cfg.tracing.enabled,
    ...(otlpEndpoint(cfg) ? { otlpReceiver: collectorPeer(cfg) } : {}),
    ...(monitorsRun(cfg) && cfg.logCollector.enabled ? { remoteWriteReceiver: collectorPeer(cfg) } : {}),
    ...(monitorsRun(cfg) && cfg.logCollector.sharedFrom !== undefined
      ? { sharedRemoteWriter: { namespace: agentsNamespaceOf(cfg.logCollector.sharedFrom), agent: LOG_COLLECTOR_AGENT } }
      : {}),
    // The collectors write on the write port while one that writes here scrapes monitors (log-collector/args.ts,
    // prometheusWritePortOf); another stack's collector that writes here scrapes this stack's monitors.
    ...(((otlpEndpoint(cfg) || monitorsRun(cfg)) && cfg.logCollector.enabled && scrapesMonitors(logCollectorArgs(cfg))) ||
    (monitorsRun(cfg) && cfg.logCollector.sharedFrom !== undefined)
      ? { writePort: true }
      : {}),
    ...(cfg.backup.enabled
      ? {
          backups: {
            adminApi: backsUp(cfg, "prometheus"),
            stack: cfg.stack,
            // A schedule that does not parse is refused by the section's problems first.
            longestWaitSeconds: Number(scheduleGapSeconds(cfg.backup.schedule)),
          },
        }
      : {}),
    ingressFromTraefik: exposedBy(cfg, "prometheus", "traefik"),
    ingressFromCloudflared: exposedBy(cfg, "prometheus", "cloudflare"),
    egress: egressSettings(cfg, "prometheus"),
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/** The namespace of the node agents (node-exporter, the log collector): `<namespace>-agents`, Pod Security "privileged". */
export function agentsNamespace(cfg: StackConfig): string {
  return agentsNamespaceOf(cfg.namespace);
}

/**
 * The namespaces the stack watches (watch): its own and its agents' (the database exporters run in
 * its own), its apps' (apps[].namespace) and its targets', kube-system when it watches the cluster,
 * and those watch.namespaces adds; sorted. Undefined when it watches every namespace (["*"]).
 */
export function watchedNamespaces(cfg: StackConfig): string[] | undefined {
  const own = [
    cfg.namespace,
    agentsNamespace(cfg),
    ...cfg.apps.flatMap((a) => [a.service?.namespace, a.otlpNamespace]),
    ...cfg.targets.map((t) => t.service?.namespace),
  ];
  return watchedOf(
    cfg.watch,
    own.filter((ns): ns is string => ns !== undefined && ns !== ""),
  );
}

/** The watched namespaces as a component's arg of this name, or nothing when the stack watches every namespace. */
function watching<K extends string>(cfg: StackConfig, key: K): Partial<Record<K, string[]>> {
  const namespaces = watchedNamespaces(cfg);
  return namespaces ? ({ [key]: namespaces } as Record<K, string[]>) : {};
}

/** The log collector's pods, as the peer a component lets send to it (Loki, the traces backend, Prometheus' OTLP receiver). */
function collectorPeer(cfg: StackConfig): { namespace: string; agent: typeof LOG_COLLECTOR_AGENT } {
  return { namespace: agentsNamespace(cfg), agent: LOG_COLLECTOR_AGENT };
}

/**
 * The Loki component's args for a validated stack config: undefined when Loki is off and
 * nothing of it is kept; `dataOnly` when it is off in a stack that protects its volumes.
 */
export function lokiArgs(cfg: StackConfig, stackSalt?: Buffer): LokiArgs | undefined {
  const { enabled, ...settings } = cfg.loki;
  if (!enabled && !cfg.protectVolumes) return undefined;
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    // The section's values are the component's args as they are, but `enabled`: off, only the claim stays (dataOnly).
    ...settings,
    protectVolumes: cfg.protectVolumes,
    ...(stackSalt ? { stackSalt } : {}),
    ...(enabled ? {} : { dataOnly: true }),
    // The ruler: the shipped LogQL rules (the team's are added by MonitoringStack), alerts to every Alertmanager peer.
    alertmanager: {
      urls: alertmanagerPeerUrls(cfg.namespace, cfg.alertmanager.replicas),
      pods: selectorLabels(alertmanagerIdentity(cfg.environment)),
    },
    // rules/logs/events.yml reads the events, node-journal.yml the nodes' journal: without them their alerts could never fire.
    // Their `docs/runbooks.md#…` links completed with prometheus.runbookBaseUrl, as Prometheus' rules' are.
    ruleFiles: shippedLogRuleFiles()
      .filter(([file]) => eventsCollected(cfg) || file !== EVENTS_RULE_FILE)
      .filter(([file]) => journalCollected(cfg) || file !== JOURNAL_RULE_FILE)
      .map(([file, text]): [string, string] => [file, linkRunbooks(text, cfg.prometheus.runbookBaseUrl, `rules/logs/${file}`)]),
    ...(cfg.logCollector.enabled ? { logCollector: collectorPeer(cfg) } : {}),
    ...(cfg.logCollector.sharedFrom !== undefined
      ? { sharedCollector: { namespace: agentsNamespaceOf(cfg.logCollector.sharedFrom), agent: LOG_COLLECTOR_AGENT } }
      : {}),
    // The push port while a collector that pushes here scrapes monitors: this stack's, or another's (whose config is not seen).
    ...((cfg.logCollector.enabled && scrapesMonitors(logCollectorArgs(cfg))) || cfg.logCollector.sharedFrom !== undefined
      ? { pushProxy: true }
      : {}),
    egress: egressSettings(cfg, "loki"),
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/**
 * The traces backend's args for a validated stack config: undefined when tracing is off and
 * nothing of it is kept; `dataOnly` when it is turned off (tracing.enabled: false) in a stack that
 * protects its volumes. Off by its default (no app sends OTLP) there is no claim to keep: a stack
 * whose last deployment had one is refused before (preflight/tracing-default.ts).
 */
export function tracingArgs(cfg: StackConfig): TracingArgs | undefined {
  const { enabled, enabledBy, ...settings } = cfg.tracing;
  if (!enabled && !(cfg.protectVolumes && enabledBy === "set")) return undefined;
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    // The section's values are the component's args as they are, but `enabled`: off, only the claim stays (dataOnly).
    ...settings,
    protectVolumes: cfg.protectVolumes,
    ...(enabled ? {} : { dataOnly: true }),
    ...(cfg.logCollector.enabled ? { collector: collectorPeer(cfg) } : {}),
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/**
 * The log collector's args for a validated stack config. `served`: the settings each served stack with
 * monitors (logCollector.shareWith[].monitors) published, by its namespace, as read at preview and up
 * (preflight/served-monitors.ts); a stack not in it is served no monitors until they are read.
 */
export function logCollectorArgs(cfg: StackConfig, served: Readonly<Record<string, ServedMonitorsSettings>> = {}): LogCollectorArgs {
  const servedMonitors = cfg.logCollector.shareWith
    .filter((share) => share.monitors)
    .map((share) => ({
      stackNamespace: share.namespace,
      remoteWriteUrl: prometheusRemoteWriteUrl(share.namespace, PROMETHEUS_WRITE_PORT),
      ...(served[share.namespace] ? { settings: served[share.namespace] } : {}),
    }));
  // A namespace whose monitors go to a served stack is that stack's: this stack's own watchers leave it alone.
  const servedNamespaces = new Set(servedMonitors.flatMap((s) => s.settings?.namespaces ?? []));
  return {
    namespace: agentsNamespace(cfg),
    stackNamespace: cfg.namespace,
    environment: cfg.environment,
    resources: cfg.logCollector.resources,
    ...watching(cfg, "namespaces"),
    ...(otlpEndpoint(cfg)
      ? {
          otlp: {
            traces: cfg.tracing.enabled,
            scrapeInterval: cfg.prometheus.scrapeInterval,
            fromNamespaces: [...new Set(cfg.apps.flatMap((a) => (a.otlp && a.otlpNamespace ? [a.otlpNamespace] : [])))].sort(),
            apps: cfg.apps.flatMap((a) => (a.otlp && a.otlpNamespace ? [{ namespace: a.otlpNamespace, name: a.name }] : [])),
          },
        }
      : {}),
    ...(cfg.logCollector.shareWith.length > 0
      ? { shares: cfg.logCollector.shareWith.map((share) => ({ stackNamespace: share.namespace, namespaces: share.namespaces })) }
      : {}),
    // The Nodes' events are in the default namespace: read by the stack that watches the cluster (the nodes).
    ...(cfg.logCollector.events ? { events: true, ...(cfg.watch.cluster ? { eventsAlsoIn: [NODE_EVENTS_NAMESPACE] } : {}) } : {}),
    ...(cfg.logCollector.journal ? { journal: true } : {}),
    ...(monitorsRun(cfg)
      ? {
          monitors: {
            ...withoutNamespaces(monitorNamespaces(cfg), servedNamespaces),
            ...monitorReading(cfg),
          },
        }
      : {}),
    ...(cfg.logCollector.externalLoki ? { external: externalLokiArgs(cfg.logCollector.externalLoki, !cfg.loki.enabled) } : {}),
    ...(servedMonitors.length > 0 ? { servedMonitors } : {}),
    egress: egressSettings(cfg, "logCollector"),
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/** Where the events of cluster-scoped objects (Nodes) are recorded. */
export const NODE_EVENTS_NAMESPACE = "default";

/**
 * A stack served by another's collector (logCollector.sharedFrom) with events on: that collector
 * reads this stack's events, so this stack grants it read access to events in the namespaces it
 * watches (they exist once this stack deploys; that one may have deployed first). Its agents
 * namespace only when the stack has one (`agentsNamespaceCreated`). Undefined otherwise;
 * `namespaces` undefined when the stack watches every namespace.
 */
export function servedEventsAccess(
  cfg: StackConfig,
  agentsNamespaceCreated: boolean,
): { collectorNamespace: string; namespaces: string[] | undefined } | undefined {
  if (cfg.logCollector.sharedFrom === undefined || !cfg.logCollector.events) return undefined;
  const watched = watchedNamespaces(cfg);
  return {
    collectorNamespace: agentsNamespaceOf(cfg.logCollector.sharedFrom),
    namespaces: watched?.filter((ns) => agentsNamespaceCreated || ns !== agentsNamespace(cfg)),
  };
}

/** logCollector.externalLoki with its credential a Pulumi secret; `only` when the stack runs no Loki. */
function externalLokiArgs(external: ExternalLoki, only: boolean): LogCollectorExternal {
  const { auth, ...rest } = external;
  return {
    ...rest,
    ...(auth && "username" in auth
      ? { auth: { type: "basic" as const, username: auth.username, password: pulumi.secret(auth.password) } }
      : {}),
    ...(auth && "bearerToken" in auth ? { auth: { type: "bearer" as const, token: pulumi.secret(auth.bearerToken) } } : {}),
    only,
  };
}

/** The Grafana component's args for a validated stack config (the AUD tag of Cloudflare Access comes from the tunnel: MonitoringStack). */
export function grafanaArgs(cfg: StackConfig, stackSalt: Buffer): GrafanaArgs {
  // The section's values are the component's args as they are, but its secrets (Pulumi secrets here).
  const { adminPassword, database, signIn, ...settings } = cfg.grafana;
  const hostname = publicHostname(cfg, "grafana");
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    stackSalt,
    ...settings,
    ...(adminPassword !== undefined ? { adminPassword: pulumi.secret(adminPassword) } : {}),
    ...(database
      ? { database: { ...database, ...(database.password !== undefined ? { password: pulumi.secret(database.password) } : {}) } }
      : {}),
    protectVolume: cfg.protectVolumes,
    ...(hostname ? { publicHostname: hostname } : {}),
    loki: cfg.loki.enabled,
    traces: cfg.tracing.enabled,
    withoutDashboards: contentOff(cfg).dashboards,
    withoutRows: contentOff(cfg).rows,
    scrapeInterval: cfg.prometheus.scrapeInterval,
    ingressFromTraefik: exposedBy(cfg, "grafana", "traefik"),
    ingressFromCloudflared: exposedBy(cfg, "grafana", "cloudflare"),
    egress: egressSettings(cfg, "grafana"),
    // The client secrets stay plain: the component wraps them as it writes its sign-in Secret.
    ...(signIn ? { signIn } : {}),
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/** The Alertmanager component's args for a validated stack config. */
export function alertmanagerArgs(cfg: StackConfig): AlertmanagerArgs {
  // The section's values are the component's args as they are, but whether the stack expects a dead man's switch (a warning).
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { deadMansSwitch, ...settings } = cfg.alertmanager;
  const host = publicHostname(cfg, "alertmanager");
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    ...settings,
    protectVolumes: cfg.protectVolumes,
    // Links in messages point where users open the UI, when it is published.
    ...(host ? { externalUrl: `https://${host}` } : {}),
    ingressFromTraefik: exposedBy(cfg, "alertmanager", "traefik"),
    ingressFromCloudflared: exposedBy(cfg, "alertmanager", "cloudflare"),
    // Loki's ruler sends the alerts of the LogQL rules (lokiArgs).
    ...(cfg.loki.enabled ? { ingressFromLoki: true } : {}),
    egress: egressSettings(cfg, "alertmanager"),
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/** The TraefikExposure args for a validated stack config; undefined when Traefik publishes nothing. */
export function traefikExposureArgs(cfg: StackConfig, stackSalt: Buffer): TraefikExposureArgs | undefined {
  // The section's values are the component's args as they are, but what the stack decides: on, the routes (from
  // the services exposed), the passwords (Pulumi secrets here), and the scrape of the cluster's Traefik (Prometheus').
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { enabled, expose, metrics, basicAuthPasswords, ...settings } = cfg.traefik;
  if (!enabled || expose.length === 0) return undefined;
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    stackSalt,
    // Config guarantees a hostname for every exposed service (config/checks/exposure.ts).
    routes: expose.map((service) => ({ service, hostname: cfg.hostnames[service] ?? "", ...unpublishedOf(cfg, service) })),
    ...settings,
    ...(Object.keys(basicAuthPasswords).length > 0
      ? { basicAuthPasswords: Object.fromEntries(Object.entries(basicAuthPasswords).map(([user, p]) => [user, pulumi.secret(p)])) }
      : {}),
  };
}

/** The CloudflareTunnel args for a validated stack config; undefined when the tunnel is off or publishes nothing. */
export function cloudflareTunnelArgs(cfg: StackConfig, stackSalt: Buffer): CloudflareTunnelArgs | undefined {
  // The section's values are the component's args as they are, but what the stack decides: on, the routes (from the
  // services exposed), and Access when it is on.
  const { enabled, expose, accountId, zoneId, access: accessSettings, ...settings } = cfg.cloudflare;
  if (!enabled || expose.length === 0) return undefined;
  // The team (access.team) names the Access login Grafana's sign-in trusts (grafanaArgs); the tunnel has no use for it.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { enabled: withAccess, team, ...access } = accessSettings;
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    // Config guarantees the ids (the tunnel's problems()) and the hostnames (config/checks/exposure.ts).
    accountId: accountId ?? "",
    zoneId: zoneId ?? "",
    routes: expose.map((service) => ({ service, hostname: cfg.hostnames[service] ?? "", ...unpublishedOf(cfg, service) })),
    ...settings,
    ...(withAccess ? { access } : {}),
    egress: egressSettings(cfg, "cloudflared"),
    ...podPriority(stackPriorityClass(cfg)),
    stackSalt,
  };
}

/** A workload's egress settings from the stack config (networkPolicy). */
function egressSettings(cfg: Pick<StackConfig, "networkPolicy">, component: EgressComponent): EgressSettings {
  const np = cfg.networkPolicy;
  return { apiServer: { cidrs: np.apiServerCidrs, ports: np.apiServerPorts }, nodeCidrs: np.nodeCidrs, extra: np.extraEgress[component] };
}

/** The PriorityClass the stack's pods get from the stack config (priorityClass), if any. */
export function stackPriorityClass(cfg: Pick<StackConfig, "namespace" | "priorityClass">): string | undefined {
  return cfg.priorityClass.enabled ? stackPriorityClassName(cfg.namespace) : undefined;
}

/** The node exporter's args: a DaemonSet in the agents namespace (host network and host paths), scraped from the stack's namespace. */
export function nodeExporterArgs(cfg: StackConfig, agentsNamespace: string, stackSalt: Buffer): NodeExporterArgs {
  // The section's values are the component's args as they are, but `enabled`: MonitoringStack decides on it.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { enabled, ...settings } = cfg.nodeExporter;
  return {
    stackSalt,
    namespace: agentsNamespace,
    prometheusNamespace: cfg.namespace,
    environment: cfg.environment,
    ...settings,
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/** What every in-namespace workload's args share: where it runs, its egress settings and the stack's priority class. */
function workloadArgs(cfg: StackConfig, component: EgressComponent) {
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    egress: egressSettings(cfg, component),
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/** kube-state-metrics' args. */
export function kubeStateMetricsArgs(cfg: StackConfig): KubeStateMetricsArgs {
  const shares = cfg.kubeStateMetrics.shareWith;
  const own = watchedNamespaces(cfg);
  // Shared with other stacks (kubeStateMetrics.shareWith): their namespaces too, and their Prometheus admitted.
  const namespaces = own && shares.length > 0 ? [...new Set([...own, ...shares.flatMap((e) => e.namespaces)])].sort() : own;
  const state = monitorsRun(cfg) && cfg.monitors.rules ? prometheusRuleStateConfig(cfg.monitors.selector) : undefined;
  return {
    ...workloadArgs(cfg, "kubeStateMetrics"),
    resources: cfg.kubeStateMetrics.resources,
    ...(namespaces ? { namespaces } : {}),
    ...(shares.length > 0 ? { sharedWith: shares.map((e) => e.namespace), ...(own ? { keepNamespaces: own } : {}) } : {}),
    ...(state ? { customResourceState: { config: state.config, reads: state.reads } } : {}),
  };
}

/**
 * Whether the stack honours the operator's objects (monitors.enabled): its collector scrapes the monitors, or the
 * collector of the stack that serves it (logCollector.sharedFrom) does; its Prometheus loads the rules either way.
 */
export function monitorsRun(cfg: StackConfig): boolean {
  return cfg.monitors.enabled && (cfg.logCollector.enabled || cfg.logCollector.sharedFrom !== undefined);
}

/** The namespaces of `monitorNamespaces` without those given (a served stack's): unchanged when none of them is there. */
function withoutNamespaces(given: { namespaces?: string[] }, left: ReadonlySet<string>): { namespaces?: string[] } {
  if (given.namespaces === undefined || !given.namespaces.some((ns) => left.has(ns))) return given;
  return { namespaces: given.namespaces.filter((ns) => !left.has(ns)) };
}

/**
 * What a stack served by another's collector (logCollector.sharedFrom) with monitors.enabled publishes for that
 * collector (components/log-collector/served-monitors.ts): what its own collector would read its monitors with, in
 * the namespaces it watches that exist (its agents namespace only when it has one). Undefined otherwise.
 */
export function servedMonitorsSettings(cfg: StackConfig, agentsNamespaceCreated: boolean): ServedMonitorsSettings | undefined {
  if (!monitorsRun(cfg) || cfg.logCollector.sharedFrom === undefined) return undefined;
  const namespaces = (monitorNamespaces(cfg).namespaces ?? []).filter((ns) => agentsNamespaceCreated || ns !== agentsNamespace(cfg));
  return {
    environment: cfg.environment,
    namespaces,
    ...monitorReading(cfg),
  };
}

/**
 * How a stack's monitors are read, whichever collector reads them (its own, or the one that serves it):
 * the selector, the Secrets they may name, the interval and timeout, the Services the stack scrapes
 * itself, honorLabels and the sample limit.
 */
function monitorReading(cfg: StackConfig) {
  return {
    selector: cfg.monitors.selector,
    secrets: cfg.monitors.secrets,
    scrapeInterval: cfg.prometheus.scrapeInterval,
    scrapeTimeout: cfg.prometheus.scrapeTimeout,
    scrapedServices: [...cfg.apps, ...cfg.targets].flatMap((t) =>
      t.service ? [{ namespace: t.service.namespace, name: t.service.name }] : [],
    ),
    honorLabels: cfg.monitors.honorLabels,
    sampleLimit: cfg.monitors.limits.samples,
  };
}

/** The namespaces whose monitors and rules the stack reads (monitors.namespaces, else the watched ones), or nothing for every namespace. */
export function monitorNamespaces(cfg: StackConfig): { namespaces?: string[] } {
  if (cfg.monitors.namespaces) return { namespaces: [...cfg.monitors.namespaces].sort() };
  const watched = watchedNamespaces(cfg);
  return watched ? { namespaces: watched } : {};
}

/** The database exporters' args: one exporter per entry of databases[]. */
export function databaseExportersArgs(cfg: StackConfig, stackSalt: Buffer): DatabaseExportersArgs {
  return { ...workloadArgs(cfg, "databaseExporters"), databases: cfg.databases, stackSalt };
}

/** The blackbox exporter's args: the probes of apps[].probe and probes[]. */
export function blackboxExporterArgs(cfg: StackConfig): BlackboxExporterArgs {
  return { ...workloadArgs(cfg, "blackboxExporter"), probes: cfg.probes, resources: EXPORTER_RESOURCES };
}
