import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import type { ExposedService } from "../kit/web";
import { BlackboxExporter } from "../blackbox-exporter";
import { DatabaseExporters } from "../database-exporters";
import { KubeStateMetrics, sharedKubeStateMetricsTarget } from "../exporters/kube-state-metrics";
import { NodeExporter } from "../exporters/node-exporter";
import { Loki } from "../loki";
import { Tracing } from "../tracing";
import { LogCollector } from "../log-collector";
import { eventsReadAccess } from "../log-collector/access";
import { ServedMonitorsSettings, servedMonitorsAccess } from "../log-collector/served-monitors";
import { LOG_COLLECTOR_AGENT } from "../log-collector/args";
import { StackComponent } from "../kit/component";
import { agentsNamespaceOf, stackLabels } from "../kit/labels";
import { type ScrapeTarget } from "../kit/services";
import { Alertmanager } from "../alertmanager";
import { CloudflareTunnel } from "../cloudflare-tunnel";
import { Grafana } from "../grafana";
import { MonitoringNamespace } from "../namespace";
import { Prometheus } from "../prometheus";
import { TraefikExposure } from "../traefik";
import { MonitorCrds } from "../monitors";
import { MonitorLimitsPolicy } from "../monitors/limits";
import { programmingError } from "../kit/problems";
import type { MonitorKind } from "../monitors/args";
import {
  agentsNamespace,
  alertmanagerArgs,
  blackboxExporterArgs,
  cloudflareTunnelArgs,
  databaseExportersArgs,
  grafanaArgs,
  kubeStateMetricsArgs,
  logCollectorArgs,
  lokiArgs,
  monitorNamespaces,
  monitorsRun,
  tracingArgs,
  nodeExporterArgs,
  prometheusArgs,
  servedEventsAccess,
  servedMonitorsSettings,
  stackPriorityClass,
  traefikExposureArgs,
  watchedNamespaces,
} from "./args";
import { TeamContent } from "./team";
import { Backup } from "../backup";
import { backupArgs } from "./backup";
import { VOLUME_COMPONENTS, VolumeComponent, VolumeRecords, volumeRecord } from "./volumes";

export interface MonitoringStackArgs {
  /** The validated stack configuration (config/index.ts). */
  config: StackConfig;
  /** The team's own rules and dashboards, read and checked by readTeamContent before any resource exists. Default: none. */
  team?: TeamContent;
  /** The stack's salt (preflight/stack-salt.ts), kept from its first deployment: keys what is derived from passwords. */
  stackSalt: Buffer;
  /**
   * What was read of the operator's objects before any resource (preflight/operator-crds.ts and operator-rules.ts),
   * with monitors.enabled: the kinds whose CRD this stack installs, and the rule files of the PrometheusRules. Default: none.
   */
  operator?: { crdKinds: MonitorKind[]; ruleFiles: Array<[string, string]> };
  /**
   * The monitors' settings each stack this one's collector serves with monitors (logCollector.shareWith[].monitors)
   * published, by its namespace, read before any resource (preflight/served-monitors.ts). Default: none read.
   */
  servedMonitors?: Record<string, ServedMonitorsSettings>;
}

/**
 * The whole monitoring stack of one environment, composed from StackConfig. Each
 * child component owns its objects and config files; this class only wires them
 * together and exposes what users need (URLs, credentials).
 */
export class MonitoringStack extends StackComponent {
  /** Namespace that holds the stack. */
  public readonly namespace: pulumi.Output<string>;
  /** In-cluster URL of Prometheus. */
  public readonly prometheusUrl: pulumi.Output<string>;
  /** Namespace of the node agents (`<namespace>-agents`, Pod Security "privileged"); undefined when no node agent is enabled. */
  public readonly agentsNamespace: pulumi.Output<string> | undefined;
  /** Grafana: its public and in-cluster URLs and admin credentials. */
  public readonly grafana: Grafana;
  /** In-cluster URL of Alertmanager. */
  public readonly alertmanagerUrl: pulumi.Output<string>;
  /** https://<hostname> of each service Traefik or the Cloudflare tunnel publishes. */
  public readonly publicUrls: Partial<Record<ExposedService, string>> = {};
  /** Basic-auth passwords by user of the Traefik routes to Prometheus and Alertmanager (secret); undefined when there are none. */
  public readonly basicAuthCredentials: pulumi.Output<Record<string, string>> | undefined;
  /**
   * The data claims of each component that has some: size, StorageClass, claim template size and
   * names. The stack output `volumes`, which the next deployment compares its config with
   * (preflight/volume-changes.ts).
   */
  public readonly volumes: pulumi.Output<VolumeRecords>;

  /** Every child component, for the destroy guard to depend on. */
  private readonly parts: pulumi.Resource[] = [];

  private part<T extends pulumi.Resource>(component: T): T {
    this.parts.push(component);
    return component;
  }

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitoring:index:MonitoringStack", name, opts);
    const cfg = args.config;
    // The stack's namespace holds every data claim: kept, like them, when the stack keeps its data.
    const ns = this.part(
      new MonitoringNamespace(
        `${name}-ns`,
        { name: cfg.namespace, environment: cfg.environment, podSecurity: "restricted", keepsData: cfg.protectVolumes },
        { parent: this },
      ),
    );
    this.namespace = ns.name;
    // Every pod of the stack names the class: the API server refuses a pod whose class does not
    // exist yet, so every workload waits for it (`ready`), as for the namespace.
    const priorityClass = cfg.priorityClass.enabled ? this.part(priorityClassOf(`${name}-priority-class`, cfg, this)) : undefined;
    const ready: pulumi.Resource[] = [ns, ...(priorityClass ? [priorityClass] : [])];

    // Order matters only for wiring: each component exposes plain data (scrape
    // targets, in-cluster URLs) that the ones after it take as args.
    // -- exporters --
    const scrapeTargets: ScrapeTarget[] = [];
    // Node agents (node-exporter, the log collector) need host access: they get a namespace
    // of their own at Pod Security "privileged", so that the stack's namespace stays restricted.
    const agentsNs =
      cfg.nodeExporter.enabled || cfg.logCollector.enabled
        ? this.part(
            new MonitoringNamespace(
              `${name}-agents-ns`,
              { name: agentsNamespace(cfg), environment: cfg.environment, podSecurity: "privileged" },
              { parent: this },
            ),
          )
        : undefined;
    this.agentsNamespace = agentsNs?.name;
    if (cfg.nodeExporter.enabled) {
      const nodeExporter = this.part(
        new NodeExporter(`${name}-node-exporter`, nodeExporterArgs(cfg, agentsNamespace(cfg), args.stackSalt), {
          parent: this,
          dependsOn: [...(agentsNs ? [agentsNs] : []), ...ready],
        }),
      );
      scrapeTargets.push(...nodeExporter.scrapeTargets);
    }
    if (cfg.kubeStateMetrics.enabled) {
      const ksm = this.part(
        new KubeStateMetrics(`${name}-kube-state-metrics`, kubeStateMetricsArgs(cfg), { parent: this, dependsOn: ready }),
      );
      scrapeTargets.push(...ksm.scrapeTargets);
    } else if (cfg.kubeStateMetrics.sharedFrom !== undefined) {
      // Another stack's, shared with this one: its series of this stack's namespaces.
      scrapeTargets.push(sharedKubeStateMetricsTarget(cfg.kubeStateMetrics.sharedFrom, watchedNamespaces(cfg)));
    }
    if (cfg.databases.length > 0) {
      const databaseExporters = this.part(
        new DatabaseExporters(`${name}-database-exporters`, databaseExportersArgs(cfg, args.stackSalt), {
          parent: this,
          dependsOn: ready,
        }),
      );
      scrapeTargets.push(...databaseExporters.scrapeTargets);
    }
    // Health endpoints and URLs (apps[].probe, probes[]): the blackbox exporter runs only when something is probed.
    const blackbox =
      cfg.probes.length > 0
        ? this.part(new BlackboxExporter(`${name}-blackbox-exporter`, blackboxExporterArgs(cfg), { parent: this, dependsOn: ready }))
        : undefined;
    if (blackbox) scrapeTargets.push(...blackbox.scrapeTargets);

    // -- alerting --
    const alertmanager = this.part(new Alertmanager(`${name}-alertmanager`, alertmanagerArgs(cfg), { parent: this, dependsOn: ready }));
    const claims: Partial<Record<VolumeComponent, k8s.core.v1.PersistentVolumeClaim[]>> = { alertmanager: alertmanager.claims };
    this.alertmanagerUrl = alertmanager.url;
    scrapeTargets.push(...alertmanager.scrapeTargets);

    // -- exposure --
    // Traefik routes and the Cloudflare tunnel; the services' NetworkPolicies admit them from their own args.
    const traefikArgs = traefikExposureArgs(cfg, args.stackSalt);
    if (traefikArgs) {
      const traefik = this.part(new TraefikExposure(`${name}-traefik`, traefikArgs, { parent: this, dependsOn: [ns] }));
      Object.assign(this.publicUrls, traefik.urls);
      if (traefik.basicAuthUsers.length > 0) this.basicAuthCredentials = traefik.basicAuthPasswords;
    }
    const tunnelArgs = cloudflareTunnelArgs(cfg, args.stackSalt);
    let grafanaAudience: pulumi.Output<string> | undefined;
    if (tunnelArgs) {
      const tunnel = this.part(new CloudflareTunnel(`${name}-cloudflare-tunnel`, tunnelArgs, { parent: this, dependsOn: ready }));
      Object.assign(this.publicUrls, tunnel.urls);
      scrapeTargets.push(...tunnel.scrapeTargets);
      grafanaAudience = tunnel.accessAudiences.grafana;
    }

    // -- logs --
    // Loki in the stack namespace; the log collector (Alloy) on every node, in the agents namespace (host log access).
    // Loki turned off in a stack that protects its volumes keeps its data claim (lokiArgs: dataOnly).
    const lokiConfig = lokiArgs(cfg, args.stackSalt);
    if (lokiConfig) {
      // The team's LogQL rules (<teamContent>/rules/logs/) beside the shipped ones, in the ruler's ConfigMap.
      const teamLogRules = (args.team?.logRules ?? []).map((r): [string, string] => [r.key, r.text]);
      const loki = this.part(
        new Loki(
          `${name}-loki`,
          { ...lokiConfig, ruleFiles: [...(lokiConfig.ruleFiles ?? []), ...teamLogRules] },
          { parent: this, dependsOn: ready },
        ),
      );
      claims.loki = loki.claims;
      scrapeTargets.push(...loki.scrapeTargets);
    }
    // The traces backend (Jaeger); off, in a stack that protects its volumes, it keeps its data claim (tracingArgs: dataOnly).
    const tracingConfig = tracingArgs(cfg);
    if (tracingConfig) {
      const tracing = this.part(new Tracing(`${name}-tracing`, tracingConfig, { parent: this, dependsOn: ready }));
      claims.tracing = tracing.claims;
      scrapeTargets.push(...tracing.scrapeTargets);
    }
    // The operator's kinds, when the cluster has no CRDs of them (kept when the stack goes): before the collector that watches them.
    const crdKinds = monitorsRun(cfg) ? (args.operator?.crdKinds ?? []) : [];
    const crds =
      crdKinds.length > 0
        ? this.part(
            new MonitorCrds(
              `${name}-monitor-crds`,
              { namespace: cfg.namespace, environment: cfg.environment, kinds: crdKinds },
              { parent: this },
            ),
          )
        : undefined;
    // Every monitor of the namespaces read held to monitors.limits, its own lower values kept (the API server's mutation).
    if (monitorsRun(cfg)) {
      this.part(
        new MonitorLimitsPolicy(
          `${name}-monitor-limits`,
          {
            stackNamespace: cfg.namespace,
            environment: cfg.environment,
            namespaces:
              monitorNamespaces(cfg).namespaces ?? programmingError("monitors: the namespaces read are given (config/checks/monitors.ts)"),
            limits: cfg.monitors.limits,
          },
          { parent: this },
        ),
      );
    }
    if (cfg.logCollector.enabled) {
      const collector = this.part(
        new LogCollector(`${name}-${LOG_COLLECTOR_AGENT}`, logCollectorArgs(cfg, args.servedMonitors), {
          parent: this,
          dependsOn: [...(agentsNs ? [agentsNs] : []), ...ready, ...(crds ? [crds] : [])],
        }),
      );
      scrapeTargets.push(...collector.scrapeTargets);
    }
    // Served by another stack's collector: it ships this stack's events too, with the read access granted here.
    const served = servedEventsAccess(cfg, agentsNs !== undefined);
    if (served) {
      eventsReadAccess(
        `${name}-served-${LOG_COLLECTOR_AGENT}`,
        {
          clusterRoleName: `${cfg.namespace}-served-${LOG_COLLECTOR_AGENT}-events`,
          labels: stackLabels(cfg.environment),
          namespaces: served.namespaces,
          subject: { namespace: served.collectorNamespace, name: LOG_COLLECTOR_AGENT },
        },
        { parent: this, dependsOn: [...(agentsNs ? [agentsNs] : []), ...ready] },
      );
    }
    // Served with monitors: the serving collector scrapes this stack's monitors with the settings published here, and the access granted here.
    const servedMonitors = servedMonitorsSettings(cfg, agentsNs !== undefined);
    if (servedMonitors && cfg.logCollector.sharedFrom !== undefined) {
      servedMonitorsAccess(
        `${name}-served-${LOG_COLLECTOR_AGENT}`,
        {
          stackNamespace: cfg.namespace,
          collectorNamespace: agentsNamespaceOf(cfg.logCollector.sharedFrom),
          agent: LOG_COLLECTOR_AGENT,
          labels: stackLabels(cfg.environment),
          settings: servedMonitors,
        },
        { parent: this, dependsOn: [...(agentsNs ? [agentsNs] : []), ...ready, ...(crds ? [crds] : [])] },
      );
    }

    // -- grafana --
    this.grafana = this.part(
      new Grafana(
        `${name}-grafana`,
        {
          ...grafanaArgs(cfg, args.stackSalt),
          teamDashboards: args.team?.dashboards ?? [],
          // Grafana trusts the tokens Access signs for its own application: the AUD tag comes from that resource.
          ...(cfg.grafana.signIn?.cloudflareAccess && cfg.cloudflare.access.team && grafanaAudience
            ? { cloudflareAccess: { team: cfg.cloudflare.access.team, audience: grafanaAudience } }
            : {}),
        },
        { parent: this, dependsOn: ready },
      ),
    );
    scrapeTargets.push(...this.grafana.scrapeTargets);

    // -- prometheus --
    // Every component's metrics, and alerts to every Alertmanager peer.
    const prometheus = this.part(
      new Prometheus(
        `${name}-prometheus`,
        {
          ...prometheusArgs(cfg),
          teamRuleFiles: (args.team?.rules ?? []).map((r): [string, string] => [r.key, r.text]),
          ...(monitorsRun(cfg) && (args.operator?.ruleFiles ?? []).length > 0 ? { operatorRuleFiles: args.operator?.ruleFiles } : {}),
          scrapeTargets,
          ...(blackbox ? { blackboxAddress: blackbox.address } : {}),
          alertmanager: alertmanager.peers,
        },
        { parent: this, dependsOn: ready },
      ),
    );
    this.prometheusUrl = prometheus.url;
    claims.prometheus = prometheus.claims;
    claims.grafana = this.grafana.claims;
    this.volumes = volumesOf(cfg, claims);

    // -- backups --
    // Of the claims' data, by CronJobs on the claims' nodes (config backup; off by default).
    const backups = backupArgs(cfg, claims);
    if (backups) this.part(new Backup(`${name}-backup`, backups, { parent: this, dependsOn: ready }));

    if (cfg.protectVolumes) destroyGuard(`${name}-destroy-guard`, cfg, this, this.parts);

    this.registerOutputs({
      namespace: this.namespace,
      prometheusUrl: this.prometheusUrl,
      alertmanagerUrl: this.alertmanagerUrl,
      grafanaUrl: this.grafana.url,
      publicUrls: this.publicUrls,
    });
  }
}

/**
 * The `volumes` record of the components that have data claims, in VOLUME_COMPONENTS order.
 * Built from the claims' own outputs, so that it resolves only once every claim was created
 * or updated: when one fails (an expansion the class refuses), the stack keeps the previous record.
 */
function volumesOf(
  cfg: StackConfig,
  claims: Partial<Record<VolumeComponent, k8s.core.v1.PersistentVolumeClaim[]>>,
): pulumi.Output<VolumeRecords> {
  const entries = VOLUME_COMPONENTS.filter((c) => (claims[c] ?? []).length > 0).map((c) =>
    pulumi
      .all((claims[c] ?? []).map((claim) => claim.metadata.name))
      .apply((names) => [c, volumeRecord(c, cfg[c].storage, names)] as const),
  );
  return pulumi.all(entries).apply((e) => Object.fromEntries(e) as VolumeRecords);
}

/**
 * The stack's PriorityClass: its pods go before those without a class (priority 0) when a
 * node runs short of memory and the kubelet evicts, and wait ahead of them for a place, so
 * that the stack that reports the pressure is the last to go. Below every system class
 * (system-cluster-critical: 2000000000), so the cluster's own components still win.
 * preemptionPolicy Never: the stack never evicts a running pod to make room for itself: the
 * workloads it watches are the point, and an eviction would be the outage it should report.
 * Cluster-scoped: named after the stack's namespace (kit's stackPriorityClassName).
 */
function priorityClassOf(name: string, cfg: StackConfig, parent: pulumi.Resource): k8s.scheduling.v1.PriorityClass {
  const className = stackPriorityClass(cfg) ?? "";
  return new k8s.scheduling.v1.PriorityClass(
    name,
    {
      metadata: { name: className, labels: stackLabels(cfg.environment) },
      value: cfg.priorityClass.value,
      globalDefault: false,
      preemptionPolicy: "Never",
      description: `Pods of the ${cfg.environment} monitoring stack (namespace ${cfg.namespace}): evicted after other workloads, never preempting them.`,
    },
    // value and preemptionPolicy are immutable: a new value replaces the class (the pods keep
    // the priority they were admitted with until they are recreated).
    { parent, replaceOnChanges: ["value", "preemptionPolicy"], deleteBeforeReplace: true },
  );
}

/** The name of the ConfigMap that guards a protected stack against a destroy. */
export const DESTROY_GUARD_NAME = "monitoring-stack-protection";

/**
 * A protected object that depends on every other one of the stack: a destroy deletes
 * dependents first, so it meets this one before anything else and stops there, with the
 * stack still whole. Without it, `pulumi destroy --skip-preview` (and the Automation API,
 * which skips the preview) would delete every unprotected object first and stop only at the
 * protected claims, leaving the data behind a stack that no longer runs. It holds the
 * documented way out, for whoever finds it with kubectl.
 */
function destroyGuard(name: string, cfg: StackConfig, parent: pulumi.Resource, parts: pulumi.Resource[]): k8s.core.v1.ConfigMap {
  return new k8s.core.v1.ConfigMap(
    name,
    {
      metadata: { name: DESTROY_GUARD_NAME, namespace: cfg.namespace, labels: stackLabels(cfg.environment) },
      data: {
        README:
          "This stack protects its data volumes (protectVolumes): pulumi destroy stops here, before it deletes anything.\n" +
          "To remove the stack and keep the volumes and their data: pulumi state unprotect --all --yes, then pulumi destroy.\n",
      },
    },
    { parent, dependsOn: parts, protect: true },
  );
}
