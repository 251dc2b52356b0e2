/** From the raw values to the resolved configuration: each section its values over its profile's defaults. */
import { AlertRouting } from "../components/alertmanager/args";
import { DatabaseExporter, EXPORTER_RESOURCES } from "../components/kit/database-exporters";
import { EGRESS_COMPONENTS, EgressComponent, ExtraEgress } from "../components/kit/network";
import { Profile } from "../components/kit/profiles";
import { SectionContext, resolveResources, resolveStorage } from "../components/kit/section";
import { ExposedService } from "../components/kit/web";
import { remoteWriteProblems } from "../components/prometheus/section";
import { exporterHostExample } from "./checks/databases";
import { DEFAULT_NODES, PROFILE_DEFAULTS, ProfileDefaults, defaultNamespace } from "./defaults";
import { CrossProblem } from "./problems";
import { StackConfig } from "./resolved";
import { resolveSections } from "./sections";
import { resolveRouting } from "./routing";
import { RawConfig, RawStackConfig } from "./schema";
import { resolveApps, resolveProbes, resolveTargets } from "./targets";

/** The stack's values over its profile's defaults; the problems of what only resolving finds go to `problems`. */
export function resolve(rawConfig: RawConfig, raw: RawStackConfig, profile: Profile, problems: CrossProblem[]): StackConfig {
  const defaults = PROFILE_DEFAULTS[profile];
  // Resolved first, in this order, which is the order of their problems.
  const apps = resolveApps(rawConfig, raw, problems);
  const databases = resolveDatabases(rawConfig, raw, problems);
  // Prometheus resolves its remote writes with its section; what only the raw values tell is reported here, at their place.
  for (const p of remoteWriteProblems(raw.prometheus?.remoteWrite, raw.remoteWritePasswords)) {
    problems.push({
      key: `${rawConfig.project}:${p.key}`,
      message: p.message,
      ...(p.involves ? { involves: p.involves.map((k) => `${rawConfig.project}:${k}`) } : {}),
    });
  }
  const targets = resolveTargets(rawConfig, raw, problems);
  const probes = resolveProbes(rawConfig, raw, problems);
  const routing = resolveRouting(rawConfig, raw, problems);

  const { domain, storageClass } = raw;
  const environment = raw.environment ?? rawConfig.stack;
  const nodes = raw.nodes ?? DEFAULT_NODES;
  const context: SectionContext = {
    project: rawConfig.project,
    stack: rawConfig.stack,
    profile,
    environment,
    nodes,
    ...(storageClass ? { storageClass } : {}),
  };
  const sections = resolveSections(raw, context);
  // A profile's replicas, on as many nodes as there are: each replica runs on a node of its own.
  const onNodes = (replicas: number) => Math.min(replicas, nodes);
  return {
    project: rawConfig.project,
    stack: rawConfig.stack,
    profile,
    environment,
    namespace: raw.namespace ?? defaultNamespace(environment),
    nodes,
    ...(domain ? { domain } : {}),
    ...(storageClass ? { storageClass } : {}),
    protectVolumes: raw.protectVolumes ?? defaults.protectVolumes,
    ...(raw.teamContent !== undefined ? { teamContent: raw.teamContent.replace(/\/$/, "") } : {}),
    hostnames: resolveHostnames(raw),
    thresholds: sections.thresholds,
    apps,
    databases,
    targets,
    probes,
    prometheus: sections.prometheus,
    alertmanager: resolveAlertmanager(raw, defaults, routing, onNodes),
    grafana: resolveGrafana(raw, defaults),
    loki: sections.loki,
    logCollector: {
      enabled: raw.logCollector?.enabled ?? defaults.logCollector.enabled,
      resources: resolveResources(defaults.logCollector.resources, raw.logCollector?.resources),
    },
    tracing: {
      enabled: raw.tracing?.enabled ?? defaults.tracing.enabled,
      retention: raw.tracing?.retention ?? defaults.tracing.retention,
      storage: resolveStorage(defaults.tracing.storage, raw.tracing?.storage, raw),
      resources: resolveResources(defaults.tracing.resources, raw.tracing?.resources),
    },
    ...resolveNodeAgents(raw, defaults),
    networkPolicy: resolveNetworkPolicy(raw, defaults),
    priorityClass: {
      enabled: raw.priorityClass?.enabled ?? defaults.priorityClass.enabled,
      value: raw.priorityClass?.value ?? defaults.priorityClass.value,
    },
    traefik: resolveTraefik(raw, defaults),
    cloudflare: resolveCloudflare(rawConfig, raw, defaults, environment, onNodes),
  };
}

/** Each published service's hostname: given, or `<service>.<domain>`. */
function resolveHostnames(raw: RawStackConfig): Partial<Record<ExposedService, string>> {
  const hostnames: Partial<Record<ExposedService, string>> = {};
  for (const svc of ["grafana", "prometheus", "alertmanager"] as const) {
    const hostname = raw.hostnames?.[svc] ?? (raw.domain ? `${svc}.${raw.domain}` : undefined);
    if (hostname) hostnames[svc] = hostname;
  }
  return hostnames;
}

function resolveAlertmanager(
  raw: RawStackConfig,
  defaults: ProfileDefaults,
  routing: AlertRouting | undefined,
  onNodes: (replicas: number) => number,
): StackConfig["alertmanager"] {
  const alertmanager = raw.alertmanager ?? {};
  // The legacy keys' receivers, for the default tree, and the dead man's switch in both trees.
  const receivers: StackConfig["alertmanager"]["receivers"] = {};
  if (raw.discordWebhookUrl !== undefined || raw.discordCriticalWebhookUrl !== undefined) {
    receivers.discord = {
      ...(raw.discordWebhookUrl !== undefined ? { webhookUrl: raw.discordWebhookUrl } : {}),
      ...(raw.discordCriticalWebhookUrl !== undefined ? { criticalWebhookUrl: raw.discordCriticalWebhookUrl } : {}),
    };
  }
  if (raw.webhookUrl !== undefined) receivers.webhook = { url: raw.webhookUrl };
  if (raw.deadMansSwitchUrl !== undefined) receivers.deadMansSwitch = { url: raw.deadMansSwitchUrl };
  return {
    replicas: alertmanager.replicas ?? onNodes(defaults.alertmanager.replicas),
    groupWait: alertmanager.groupWait ?? defaults.alertmanager.groupWait,
    groupInterval: alertmanager.groupInterval ?? defaults.alertmanager.groupInterval,
    repeatInterval: alertmanager.repeatInterval ?? defaults.alertmanager.repeatInterval,
    receivers,
    ...(routing ? { routing } : {}),
    storage: resolveStorage(defaults.alertmanager.storage, alertmanager.storage, raw),
    resources: resolveResources(defaults.alertmanager.resources, alertmanager.resources),
  };
}

function resolveGrafana(raw: RawStackConfig, defaults: ProfileDefaults): StackConfig["grafana"] {
  const grafana = raw.grafana ?? {};
  return {
    replicas: grafana.replicas ?? defaults.grafana.replicas,
    adminUser: grafana.adminUser ?? defaults.grafana.adminUser,
    writableFolder: grafana.writableFolder ?? defaults.grafana.writableFolder,
    ...(raw.grafanaAdminPassword !== undefined ? { adminPassword: raw.grafanaAdminPassword } : {}),
    ...(grafana.database
      ? {
          database: {
            ...grafana.database,
            sslMode: grafana.database.sslMode ?? "require",
            ...(raw.grafanaDatabasePassword !== undefined ? { password: raw.grafanaDatabasePassword } : {}),
          },
        }
      : {}),
    storage: resolveStorage(defaults.grafana.storage, grafana.storage, raw),
    resources: resolveResources(defaults.grafana.resources, grafana.resources),
  };
}

function resolveNodeAgents(raw: RawStackConfig, defaults: ProfileDefaults): Pick<StackConfig, "nodeExporter" | "kubeStateMetrics"> {
  return {
    nodeExporter: {
      enabled: raw.nodeExporter?.enabled ?? defaults.nodeExporter.enabled,
      port: raw.nodeExporter?.port ?? defaults.nodeExporter.port,
      resources: resolveResources(defaults.nodeExporter.resources, raw.nodeExporter?.resources),
    },
    kubeStateMetrics: {
      enabled: raw.kubeStateMetrics?.enabled ?? defaults.kubeStateMetrics.enabled,
      resources: resolveResources(defaults.kubeStateMetrics.resources, raw.kubeStateMetrics?.resources),
    },
  };
}

function resolveNetworkPolicy(raw: RawStackConfig, defaults: ProfileDefaults): StackConfig["networkPolicy"] {
  return {
    apiServerCidrs: raw.networkPolicy?.apiServerCidrs ?? defaults.networkPolicy.apiServerCidrs,
    apiServerPorts: raw.networkPolicy?.apiServerPorts ?? defaults.networkPolicy.apiServerPorts,
    nodeCidrs: raw.networkPolicy?.nodeCidrs ?? defaults.networkPolicy.nodeCidrs,
    extraEgress: Object.fromEntries(
      EGRESS_COMPONENTS.map((component) => [
        component,
        raw.networkPolicy?.extraEgress?.[component] ?? defaults.networkPolicy.extraEgress[component],
      ]),
    ) as Record<EgressComponent, ExtraEgress[]>,
  };
}

function resolveTraefik(raw: RawStackConfig, defaults: ProfileDefaults): StackConfig["traefik"] {
  const traefik = raw.traefik ?? {};
  return {
    enabled: traefik.enabled ?? defaults.traefik.enabled,
    entryPoints: traefik.entryPoints ?? defaults.traefik.entryPoints,
    ...(traefik.tlsSecretName ? { tlsSecretName: traefik.tlsSecretName } : {}),
    ...(traefik.certResolver ? { certResolver: traefik.certResolver } : {}),
    expose: traefik.expose ?? defaults.traefik.expose,
    basicAuthUsers: traefik.basicAuthUsers ?? defaults.traefik.basicAuthUsers,
    basicAuthPasswords: raw.basicAuthPasswords ?? {},
    metrics: {
      enabled: traefik.metrics?.enabled ?? defaults.traefik.metrics.enabled,
      namespace: traefik.metrics?.namespace ?? defaults.traefik.metrics.namespace,
      podLabels: traefik.metrics?.podLabels ?? defaults.traefik.metrics.podLabels,
      port: traefik.metrics?.port ?? defaults.traefik.metrics.port,
    },
  };
}

function resolveCloudflare(
  rawConfig: RawConfig,
  raw: RawStackConfig,
  defaults: ProfileDefaults,
  environment: string,
  onNodes: (replicas: number) => number,
): StackConfig["cloudflare"] {
  const cloudflare = raw.cloudflare ?? {};
  return {
    enabled: cloudflare.enabled ?? defaults.cloudflare.enabled,
    ...(cloudflare.accountId ? { accountId: cloudflare.accountId } : {}),
    ...(cloudflare.zoneId ? { zoneId: cloudflare.zoneId } : {}),
    tunnelName: cloudflare.tunnelName ?? `${rawConfig.project}-${environment}`,
    replicas: cloudflare.replicas ?? onNodes(defaults.cloudflare.replicas),
    expose: cloudflare.expose ?? defaults.cloudflare.expose,
    access: {
      enabled: cloudflare.access?.enabled ?? defaults.cloudflare.access.enabled,
      emails: cloudflare.access?.emails ?? [],
      emailDomains: cloudflare.access?.emailDomains ?? [],
      sessionDuration: cloudflare.access?.sessionDuration ?? defaults.cloudflare.access.sessionDuration,
    },
    resources: resolveResources(defaults.cloudflare.resources, cloudflare.resources),
  };
}

/** `databases[]`: each exporter with where its DSN comes from (a secret value or an existing Secret). */
function resolveDatabases(rawConfig: RawConfig, raw: RawStackConfig, problems: CrossProblem[]): DatabaseExporter[] {
  const k = (path: string) => `${rawConfig.project}:${path}`;
  const dsns = raw.databaseDsns ?? {};
  const databases: DatabaseExporter[] = (raw.databases ?? []).map((db, i) => {
    // An exporter in the database's pod can take the database out of its Service (see
    // components/exporter-sidecars.ts): refused, with the way over, before anything changes.
    if (db.mode === "sidecar") {
      problems.push({
        key: k(`databases[${i}].mode`),
        message:
          `"sidecar" is no longer supported: an exporter container in the database's pod makes the pod NotReady, and takes the database ` +
          `out of its Service, whenever it is OOM-killed, crash-loops or its image cannot be pulled. Set mode: standalone and drop ` +
          `target: the exporter then runs in its own pod in the stack's namespace and reaches "${db.name}" through its DSN, which must ` +
          `name the database's Service (for instance ${exporterHostExample(db.type, db.target?.name, db.target?.namespace)}), not localhost; a secretRef must be a Secret in the stack's ` +
          `namespace, or use pulumi config set --secret --path 'databaseDsns.${db.name}' <dsn>. The next pulumi up removes the ` +
          `sidecar: one rollout of the database's pods; run it when a restart of the database is acceptable (README, "Databases")`,
        ...(db.target ? { involves: [k(`databases[${i}].target`)] } : {}),
      });
    } else if (db.target) {
      problems.push({
        key: k(`databases[${i}].target`),
        message: `database "${db.name}": "target" was for sidecars, which are no longer supported; drop it (the exporter reaches the database through its DSN)`,
      });
    }
    if (db.secretRef && dsns[db.name] !== undefined) {
      problems.push({
        key: k(`databases[${i}].secretRef`),
        message: `database "${db.name}" has both secretRef and databaseDsns.${db.name}; keep one`,
        involves: [k(`databaseDsns.${db.name}`)],
      });
    }
    if (!db.secretRef && dsns[db.name] === undefined) {
      problems.push({
        key: k(`databases[${i}]`),
        message: `database "${db.name}" needs a DSN: secretRef {name, key} of an existing Secret, or pulumi config set --secret --path 'databaseDsns.${db.name}' <dsn>`,
        involves: [k(`databaseDsns.${db.name}`)],
      });
    }
    return {
      name: db.name,
      type: db.type,
      mode: "standalone",
      dsn: db.secretRef ? { secretRef: db.secretRef } : { value: dsns[db.name] ?? "" },
      resources: resolveResources(EXPORTER_RESOURCES, db.resources),
    };
  });
  for (const name of Object.keys(dsns)) {
    if (!(raw.databases ?? []).some((db) => db.name === name)) {
      problems.push({
        key: k(`databaseDsns.${name}`),
        message: `no database named "${name}" in ${rawConfig.project}:databases`,
        involves: [k("databases")],
      });
    }
  }
  return databases;
}
