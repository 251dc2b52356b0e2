/**
 * Alertmanager: routing to the humans' channels — by default by severity (Discord, a
 * generic webhook), or the team's own tree of named receivers (Slack with one webhook per
 * channel, Discord, webhook, email) and routes matching any label — the Watchdog to a dead
 * man's switch, inhibition of warnings by their critical twin, and a StatefulSet that keeps
 * silences and the notification log on a volume (a gossiping cluster of peers in production).
 *
 * The config is written for the deployed Alertmanager (images.alertmanager); the tests
 * check it with that release's amtool and run that release. Secrets (webhook URLs, the SMTP
 * password) are written into the config, which lives in a Kubernetes Secret; the offline
 * render shows it with only those values masked (scripts/lib/render.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { exposedBy, publicHostname } from "../config";
import type { AlertReceiver, AlertRouting, ResourceRequirements, StackConfig, StorageSpec } from "../config";
import {
  IngressPeer,
  ingressPolicySpec,
  TRAEFIK_PODS,
  DEFAULT_EGRESS,
  EgressRule,
  EgressSettings,
  addressPort,
  anywhereOn,
  egressPolicyName,
  egressPolicySpec,
  egressSettings,
  extraEgressRules,
  uniquePorts,
  urlPort,
} from "./kit/network";
import { ScrapeTarget, SERVICE_PORTS, serviceUrl } from "./kit/services";
import { WorkloadIdentity, imageOf, objectMeta, selectorLabels, stackPods } from "./kit/labels";
import {
  httpProbe,
  resourcesOf,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  spreadAcrossNodes,
  oneAtATimeDisruptionBudget,
} from "./kit/pods";
import { claimRetentionPolicy, statefulSetClaims, volumeClaimTemplate } from "./kit/volumes";
import { StackComponent } from "./kit/component";
import { podPriority, stackPriorityClass } from "./kit/priority";
import { WEB_CONFIG_FILE, webConfig } from "./kit/web";
import { images } from "./images";

/** The receivers a stack may configure (config/index.ts resolves them from secret config). */
export type AlertReceivers = StackConfig["alertmanager"]["receivers"];

/** Ports, paths and names other components rely on. */
export const ALERTMANAGER_PORT = SERVICE_PORTS.alertmanager;
export const MESH_PORT = 9094;
const RELOADER_PORT = 8080;
const CONFIG_DIR = "/etc/alertmanager/config";
const CONFIG_FILE = "alertmanager.yml";
const TEMPLATE_FILE = "monitoring.tmpl";
const DATA_DIR = "/alertmanager";

/** Receiver names, as `amtool config routes test` prints them. */
export const RECEIVERS = {
  critical: "critical",
  warning: "warning",
  deadMansSwitch: "deadmans-switch",
  none: "null",
} as const;

/**
 * One notification per alert name, job and namespace: an outage of one service
 * sends one message listing its instances, while two teams' namespaces never share
 * a message. `app` is left out so that a node failure taking several apps down is
 * one message per alert, not one per app.
 */
export const GROUP_BY = ["alertname", "job", "namespace"];

/**
 * Labels that identify the culprit: a critical alert mutes the warning of the same
 * name only when these are equal (a label absent on both sides counts as equal).
 */
export const INHIBIT_EQUAL = ["alertname", "namespace", "job", "instance", "app", "database", "pod", "persistentvolumeclaim", "mountpoint"];

/** Labels the messages leave out of "where": they are in the title or the same for every alert. */
const NOT_CULPRIT_LABELS = ["alertname", "severity", "environment", "replica", "watchdog"];

/** The Watchdog pings the dead man's switch this often; the switch alarms when the pings stop. */
const WATCHDOG_TIMING = { group_wait: "0s", group_interval: "1m", repeat_interval: "5m" };

/** At most this many alerts are listed in one message, to stay within Discord's 4096 characters. */
const MAX_LISTED_ALERTS = 5;

/** Requests and limits of the config-reloader sidecar: it sleeps until a file changes. */
const RELOADER_RESOURCES: ResourceRequirements = {
  requests: { cpu: "5m", memory: "16Mi" },
  limits: { cpu: "50m", memory: "32Mi" },
};

export interface AlertmanagerConfigArgs {
  /** The stack's environment; named in every message when the alert lacks the `environment` label. */
  environment: string;
  /** Where notifications go in the default tree (and the dead man's switch in both); none at all routes everything to the `null` receiver. */
  receivers: AlertReceivers;
  /** The team's own receivers and routes; they replace the default critical/warning split. Default none. */
  routing?: AlertRouting;
  /** How long a new group waits for more alerts before its first message, e.g. "30s". */
  groupWait: string;
  /** How long a group waits before a message about alerts added to it, e.g. "5m". */
  groupInterval: string;
  /** How often a still-firing group is sent again, e.g. "4h". */
  repeatInterval: string;
}

/** Whether any receiver reaches a human (the dead man's switch does not). */
export function hasHumanReceiver(receivers: AlertReceivers, routing?: AlertRouting): boolean {
  if (routing) return routing.receivers.length > 0;
  return Boolean(receivers.discord?.webhookUrl || receivers.discord?.criticalWebhookUrl || receivers.webhook);
}

const templateRef = (name: string) => `{{ template "${name}" . }}`;

/** A Slack message: the same title and text as every channel, red while firing. */
const slackConfig = (webhookUrl: string, channel: string, sendResolved: boolean) => ({
  api_url: webhookUrl,
  // A Slack app webhook posts to the channel it was made for and ignores this; a legacy webhook honours it.
  channel,
  title: templateRef("monitoring.title"),
  text: templateRef("monitoring.message"),
  color: '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
  send_resolved: sendResolved,
});

const discordConfig = (webhookUrl: string, sendResolved: boolean) => ({
  webhook_url: webhookUrl,
  title: templateRef("monitoring.title"),
  message: templateRef("monitoring.message"),
  send_resolved: sendResolved,
});

/** The integrations of one named receiver (the mail server is in `global`). */
function namedIntegrations(r: AlertReceiver): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.slack) out.slack_configs = [slackConfig(r.slack.webhookUrl, r.slack.channel, r.sendResolved)];
  if (r.discord) out.discord_configs = [discordConfig(r.discord.webhookUrl, r.sendResolved)];
  if (r.webhook) out.webhook_configs = [{ url: r.webhook.url, send_resolved: r.sendResolved }];
  if (r.email) {
    out.email_configs = [
      {
        to: r.email.to.join(", "),
        // The subject and the plain-text part say what every other channel says; the HTML part is Alertmanager's.
        headers: { Subject: templateRef("monitoring.title") },
        text: templateRef("monitoring.message"),
        send_resolved: r.sendResolved,
      },
    ];
  }
  return out;
}

/** A route of the team's tree, in Alertmanager's words. */
function namedRoute(r: AlertRouting["routes"][number]): Record<string, unknown> {
  return {
    receiver: r.receiver,
    ...(r.matchers.length > 0 ? { matchers: [...r.matchers] } : {}),
    ...(r.continue ? { continue: true } : {}),
    ...(r.groupBy ? { group_by: [...r.groupBy] } : {}),
    ...(r.groupWait ? { group_wait: r.groupWait } : {}),
    ...(r.groupInterval ? { group_interval: r.groupInterval } : {}),
    ...(r.repeatInterval ? { repeat_interval: r.repeatInterval } : {}),
  };
}

/** Where each receiver delivers, in words a reviewer reads (no secret): `slack #deployment`, `email ops@example.com`. */
export function receiverChannels(receivers: AlertReceivers, routing?: AlertRouting): Array<{ name: string; channels: string[] }> {
  const out: Array<{ name: string; channels: string[] }> = [];
  if (routing) {
    for (const r of routing.receivers) {
      const channels: string[] = [];
      if (r.slack) channels.push(`slack ${r.slack.channel}`);
      if (r.discord) channels.push("discord");
      if (r.webhook) channels.push("webhook");
      if (r.email) channels.push(`email ${r.email.to.join(", ")}`);
      out.push({ name: r.name, channels });
    }
  } else if (hasHumanReceiver(receivers)) {
    const d = receivers.discord;
    for (const critical of [true, false]) {
      const channels: string[] = [];
      if (d?.webhookUrl && d.criticalWebhookUrl)
        channels.push(critical ? "discord (discordCriticalWebhookUrl)" : "discord (discordWebhookUrl)");
      else if (d) channels.push("discord");
      if (receivers.webhook) channels.push("webhook");
      out.push({ name: critical ? RECEIVERS.critical : RECEIVERS.warning, channels });
    }
  }
  if (receivers.deadMansSwitch) out.push({ name: RECEIVERS.deadMansSwitch, channels: ["webhook (Watchdog only)"] });
  return out;
}

/** The integrations of the human receiver for one severity class. */
function humanIntegrations(receivers: AlertReceivers, critical: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const d = receivers.discord;
  // One webhook alone takes every severity; with both, the critical channel gets only critical alerts.
  const discordUrl = critical ? (d?.criticalWebhookUrl ?? d?.webhookUrl) : (d?.webhookUrl ?? d?.criticalWebhookUrl);
  if (discordUrl) out.discord_configs = [discordConfig(discordUrl, true)];
  if (receivers.webhook) out.webhook_configs = [{ url: receivers.webhook.url, send_resolved: true }];
  return out;
}

/**
 * The Alertmanager configuration (alertmanager.yml) as an object. Pure; the
 * templates it names are the files of alertmanagerTemplates, mounted next to it.
 */
export function alertmanagerConfig(args: AlertmanagerConfigArgs): Record<string, unknown> {
  const r = args.receivers;
  const routing = args.routing;
  const human = hasHumanReceiver(r, routing);
  const receivers: Array<Record<string, unknown>> = [];
  if (routing) {
    for (const named of routing.receivers) receivers.push({ name: named.name, ...namedIntegrations(named) });
  } else if (human) {
    receivers.push({ name: RECEIVERS.critical, ...humanIntegrations(r, true) });
    receivers.push({ name: RECEIVERS.warning, ...humanIntegrations(r, false) });
  }
  if (r.deadMansSwitch) {
    // The switch wants a steady heartbeat; a "resolved" ping would read as one more heartbeat.
    receivers.push({ name: RECEIVERS.deadMansSwitch, webhook_configs: [{ url: r.deadMansSwitch.url, send_resolved: false }] });
  }
  receivers.push({ name: RECEIVERS.none });

  const routes: Array<Record<string, unknown>> = [
    // First and final: the Watchdog always fires, and must never reach a human channel.
    {
      receiver: r.deadMansSwitch ? RECEIVERS.deadMansSwitch : RECEIVERS.none,
      matchers: ['watchdog="true"'],
      ...WATCHDOG_TIMING,
    },
  ];
  if (routing) {
    routes.push(...routing.routes.map(namedRoute));
  } else if (human) {
    routes.push({ receiver: RECEIVERS.critical, matchers: ['severity="critical"'] });
    routes.push({ receiver: RECEIVERS.warning, matchers: ['severity=~"warning|info"'] });
  }
  const smtp = routing?.smtp;

  return {
    global: {
      resolve_timeout: "5m",
      ...(smtp
        ? {
            smtp_smarthost: smtp.smarthost,
            smtp_from: smtp.from,
            ...(smtp.username !== undefined ? { smtp_auth_username: smtp.username } : {}),
            ...(smtp.password !== undefined ? { smtp_auth_password: smtp.password } : {}),
            smtp_require_tls: smtp.requireTls,
          }
        : {}),
    },
    // Relative to this file: the templates are mounted in the same directory.
    templates: ["*.tmpl"],
    route: {
      // Alerts without a known severity still reach the humans, through the warning channel (or the team's default).
      receiver: routing ? routing.defaultReceiver : human ? RECEIVERS.warning : RECEIVERS.none,
      group_by: [...GROUP_BY],
      group_wait: args.groupWait,
      group_interval: args.groupInterval,
      repeat_interval: args.repeatInterval,
      routes,
    },
    inhibit_rules: [
      { source_matchers: ['severity="critical"'], target_matchers: ['severity=~"warning|info"'], equal: [...INHIBIT_EQUAL] },
      { source_matchers: ['severity="warning"'], target_matchers: ['severity="info"'], equal: [...INHIBIT_EQUAL] },
    ],
    receivers,
  };
}

/**
 * The message templates, file name to content. Compact on purpose: Discord cuts
 * titles at 256 and descriptions at 4096 characters, so a message lists at most
 * MAX_LISTED_ALERTS alerts and links to Alertmanager for the rest.
 */
export function alertmanagerTemplates(args: { environment: string }): Record<string, string> {
  // A JSON string is a valid Go template string literal.
  const environment = JSON.stringify(args.environment);
  const hidden = NOT_CULPRIT_LABELS.map((l) => JSON.stringify(l)).join(" ");
  const text = `{{/* Messages of the monitoring stack: what fires, where, since when, and how to fix it. */}}
{{ define "monitoring.environment" }}{{ or .CommonLabels.environment ${environment} }}{{ end }}

{{ define "monitoring.title" -}}
{{ if eq .Status "firing" }}[FIRING:{{ .Alerts.Firing | len }}]{{ else }}[RESOLVED]{{ end }} {{ template "monitoring.environment" . }}: {{ .CommonLabels.alertname }}{{ with .CommonLabels.severity }} ({{ . }}){{ end }}
{{- end }}

{{ define "monitoring.where" -}}
{{ range $i, $p := (.Labels.Remove (stringSlice ${hidden})).SortedPairs }}{{ if $i }}, {{ end }}{{ $p.Name }}={{ $p.Value }}{{ end }}
{{- end }}

{{ define "monitoring.alert" -}}
- {{ .Labels.alertname }}: {{ or .Annotations.summary "(no summary)" }}
  where: {{ template "monitoring.where" . }}
  since: {{ .StartsAt.UTC.Format "2006-01-02 15:04:05 UTC" }}{{ if eq .Status "resolved" }}, resolved {{ .EndsAt.UTC.Format "2006-01-02 15:04:05 UTC" }}{{ end }}
{{ with .Annotations.description }}  {{ . }}
{{ end }}{{ with .Annotations.runbook_url }}  runbook: {{ . }}
{{ else }}{{ with .Annotations.runbook }}  runbook: {{ . }}
{{ end }}{{ end }}
{{- end }}

{{ define "monitoring.message" -}}
{{ if .Alerts.Firing }}FIRING in {{ template "monitoring.environment" . }}:
{{ range $i, $a := .Alerts.Firing }}{{ if lt $i ${MAX_LISTED_ALERTS} }}{{ template "monitoring.alert" $a }}{{ end }}{{ end }}
{{- if gt (len .Alerts.Firing) ${MAX_LISTED_ALERTS} }}({{ len .Alerts.Firing }} firing, ${MAX_LISTED_ALERTS} listed: {{ .ExternalURL }})
{{ end }}{{ end }}
{{- if .Alerts.Resolved }}{{ if .Alerts.Firing }}
{{ end }}RESOLVED in {{ template "monitoring.environment" . }}:
{{ range $i, $a := .Alerts.Resolved }}{{ if lt $i ${MAX_LISTED_ALERTS} }}{{ template "monitoring.alert" $a }}{{ end }}{{ end }}
{{- if gt (len .Alerts.Resolved) ${MAX_LISTED_ALERTS} }}({{ len .Alerts.Resolved }} resolved, ${MAX_LISTED_ALERTS} listed: {{ .ExternalURL }})
{{ end }}{{ end }}
{{- end }}
`;
  return { [TEMPLATE_FILE]: text };
}

/** The Service Prometheus sends alerts to: every ready pod behind it is a peer to notify. */
export type AlertmanagerPeers = Pick<ScrapeTarget, "namespace" | "selector" | "port">;

export interface AlertmanagerArgs {
  /** Namespace of the stack (created by MonitoringNamespace; pass it as a dependency). */
  namespace: string;
  /** The stack's environment: the app.kubernetes.io/instance label, and named in every message. */
  environment: string;
  /** Number of peers. More than one forms a gossip cluster with a PodDisruptionBudget and anti-affinity; one runs unclustered. */
  replicas: number;
  /** group_wait of the root route, e.g. "30s". */
  groupWait: string;
  /** group_interval of the root route, e.g. "5m". */
  groupInterval: string;
  /** repeat_interval of the root route, e.g. "4h". */
  repeatInterval: string;
  /** Receivers with their webhook URLs (plain here; the component keeps them in a Kubernetes Secret). None: the `null` receiver and a warning. */
  receivers: AlertReceivers;
  /** The team's own receivers, routes and mail server (secrets plain here, kept in the Secret); replaces the default split. Default none. */
  routing?: AlertRouting;
  /** Volume of each peer, for silences and the notification log: a claim `data-alertmanager-<ordinal>` per peer. */
  storage: StorageSpec;
  /** Requests and limits of the Alertmanager container. */
  resources: ResourceRequirements;
  /**
   * Protect each peer's claim (silences, notification log) from deletion and replacement,
   * and keep it in the cluster when it leaves the stack (`protect` + `retainOnDelete`).
   * Default false: the claims go with the stack.
   */
  protectVolumes?: boolean;
  /** The URL users reach Alertmanager at, used in links of messages. Default: the in-cluster Service URL. */
  externalUrl?: string;
  /** Admit Traefik's pods (kube-system) to the HTTP port, when Traefik exposes the UI. Default false. */
  ingressFromTraefik?: boolean;
  /** Admit the stack's cloudflared pods to the HTTP port, when the tunnel exposes the UI. Default false. */
  ingressFromCloudflared?: boolean;
  /** Further destinations of its egress (config networkPolicy.extraEgress.alertmanager). Default DEFAULT_EGRESS. */
  egress?: EgressSettings;
  /** The stack's PriorityClass for the pods. Default none. */
  priorityClassName?: string;
}

/** The Alertmanager component's args for a validated stack config. */
export function alertmanagerArgs(cfg: StackConfig): AlertmanagerArgs {
  const am = cfg.alertmanager;
  const host = publicHostname(cfg, "alertmanager");
  return {
    namespace: cfg.namespace,
    environment: cfg.environment,
    replicas: am.replicas,
    groupWait: am.groupWait,
    groupInterval: am.groupInterval,
    repeatInterval: am.repeatInterval,
    receivers: am.receivers,
    ...(am.routing ? { routing: am.routing } : {}),
    storage: am.storage,
    resources: am.resources,
    protectVolumes: cfg.protectVolumes,
    // Links in messages point where users open the UI, when it is published.
    ...(host ? { externalUrl: `https://${host}` } : {}),
    ingressFromTraefik: exposedBy(cfg, "alertmanager", "traefik"),
    ingressFromCloudflared: exposedBy(cfg, "alertmanager", "cloudflare"),
    egress: egressSettings(cfg, "alertmanager"),
    ...podPriority(stackPriorityClass(cfg)),
  };
}

/**
 * The ports of every receiver's endpoint, each once: the webhook URLs' (Discord, Slack,
 * webhooks, the dead man's switch: 443 for https, or the URL's own) and the SMTP smarthost's.
 */
export function receiverPorts(receivers: AlertReceivers, routing?: AlertRouting): number[] {
  const urls = [
    receivers.discord?.webhookUrl,
    receivers.discord?.criticalWebhookUrl,
    receivers.webhook?.url,
    receivers.deadMansSwitch?.url,
    ...(routing?.receivers ?? []).flatMap((r) => [r.slack?.webhookUrl, r.discord?.webhookUrl, r.webhook?.url]),
  ].filter((u): u is string => u !== undefined);
  const smtp = routing?.smtp ? [addressPort(routing.smtp.smarthost)] : [];
  return uniquePorts([...urls.map(urlPort), ...smtp]);
}

/**
 * Where Alertmanager connects, besides DNS: the other peers on the gossip port (TCP and UDP),
 * when clustered, and the receivers' hosts on their ports at any address (a NetworkPolicy
 * cannot name a host). Its config reloader only calls it on 127.0.0.1.
 */
export function alertmanagerEgressRules(
  args: Pick<AlertmanagerArgs, "replicas" | "receivers" | "routing" | "egress" | "environment">,
): EgressRule[] {
  const ports = receiverPorts(args.receivers, args.routing);
  const peers: EgressRule = {
    ports: [
      { port: MESH_PORT, protocol: "TCP" },
      { port: MESH_PORT, protocol: "UDP" },
    ],
    to: [{ pods: selectorLabels(alertmanagerIdentity(args.environment)) }],
  };
  return [
    ...(args.replicas > 1 ? [peers] : []),
    ...(ports.length > 0 ? [anywhereOn(ports)] : []),
    ...extraEgressRules(args.egress ?? DEFAULT_EGRESS),
  ];
}

/** Who Alertmanager is, for labels and selectors. */
export function alertmanagerIdentity(environment: string): WorkloadIdentity {
  return { name: "alertmanager", component: "alerting", instance: environment, image: "alertmanager" };
}

/** The args, or a ResourceError naming the one that cannot be deployed. */
function checkedArgs(name: string, args: AlertmanagerArgs): AlertmanagerArgs {
  const refuse = (message: string) => new pulumi.ResourceError(`Alertmanager "${name}": ${message}`, undefined);
  if (!Number.isInteger(args.replicas) || args.replicas < 1)
    throw refuse(`replicas must be a whole number of at least 1; got ${args.replicas}`);
  const d = args.receivers.discord;
  if (d && !d.webhookUrl && !d.criticalWebhookUrl) throw refuse("receivers.discord needs webhookUrl, criticalWebhookUrl or both");
  const routing = args.routing;
  if (routing) {
    const names = routing.receivers.map((r) => r.name);
    for (const r of routing.receivers) {
      if (!r.slack && !r.discord && !r.webhook && !r.email) throw refuse(`routing.receivers "${r.name}" has no integration`);
      if (r.email && !routing.smtp) throw refuse(`routing.receivers "${r.name}" sends email, so routing.smtp is needed`);
    }
    for (const name of [routing.defaultReceiver, ...routing.routes.map((r) => r.receiver)]) {
      if (!names.includes(name))
        throw refuse(`routing names the receiver "${name}", which routing.receivers does not have (${names.join(", ")})`);
    }
  }
  return args;
}

/**
 * Alertmanager with its config in a Secret, its templates in a ConfigMap, both
 * hot-reloaded by a sidecar so that a config change never restarts a pod.
 */
export class Alertmanager extends StackComponent {
  /** In-cluster URL of the `alertmanager` Service. */
  public readonly url: pulumi.Output<string>;
  /** The `alertmanager` Service, for Prometheus to discover and notify every peer. */
  public readonly peers: AlertmanagerPeers;
  /** Alertmanager's own metrics. */
  public readonly scrapeTargets: ScrapeTarget[];
  public readonly statefulSet: k8s.apps.v1.StatefulSet;
  /** The data claim of each peer, by ordinal: the only objects that hold silences and the notification log. */
  public readonly claims: k8s.core.v1.PersistentVolumeClaim[];

  constructor(name: string, args: AlertmanagerArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered, so that a refused input leaves nothing half-made.
    checkedArgs(name, args);
    super("monitoring:index:Alertmanager", name, opts);
    if (!hasHumanReceiver(args.receivers, args.routing)) {
      pulumi.log.warn(
        "No alert receiver is configured (alertmanager.receivers, or discordWebhookUrl, discordCriticalWebhookUrl or webhookUrl): " +
          `alerts of "${args.environment}" go to the "null" receiver and nobody is notified.`,
        this,
      );
    }

    const id = alertmanagerIdentity(args.environment);
    const selector = selectorLabels(id);
    const ns = args.namespace;
    const clustered = args.replicas > 1;
    const serviceName = "alertmanager";
    // The StatefulSet: its pods are alertmanager-<ordinal>, its claims data-alertmanager-<ordinal>.
    const statefulSetName = "alertmanager";
    const meshServiceName = "alertmanager-cluster";
    const inClusterUrl = serviceUrl(serviceName, ns, ALERTMANAGER_PORT);

    const configYaml = YAML.stringify(
      alertmanagerConfig({
        environment: args.environment,
        receivers: args.receivers,
        ...(args.routing ? { routing: args.routing } : {}),
        groupWait: args.groupWait,
        groupInterval: args.groupInterval,
        repeatInterval: args.repeatInterval,
      }),
      { lineWidth: 0, aliasDuplicateObjects: false },
    );
    // The config holds webhook URLs: a Secret, and a Pulumi secret in the state.
    const config = new k8s.core.v1.Secret(
      `${name}-config`,
      { metadata: objectMeta(id, ns, "alertmanager-config"), type: "Opaque", stringData: { [CONFIG_FILE]: pulumi.secret(configYaml) } },
      { parent: this },
    );
    const templates = new k8s.core.v1.ConfigMap(
      `${name}-templates`,
      { metadata: objectMeta(id, ns, "alertmanager-templates"), data: alertmanagerTemplates({ environment: args.environment }) },
      { parent: this },
    );
    // Read on every request: the security headers Traefik's middleware would add, for the tunnel too.
    const web = new k8s.core.v1.ConfigMap(
      `${name}-web`,
      { metadata: objectMeta(id, ns, "alertmanager-web"), data: { [WEB_CONFIG_FILE]: YAML.stringify(webConfig()) } },
      { parent: this },
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(id, ns, serviceName),
        spec: { selector, ports: [{ name: "http", port: ALERTMANAGER_PORT, targetPort: "http", protocol: "TCP" }] },
      },
      { parent: this },
    );
    // The StatefulSet's governing Service: stable DNS names per pod, the peers' addresses.
    const meshService = new k8s.core.v1.Service(
      `${name}-cluster-service`,
      {
        metadata: objectMeta(id, ns, meshServiceName),
        spec: {
          clusterIP: "None",
          // Peers must find each other while they start, before any is ready.
          publishNotReadyAddresses: true,
          selector,
          ports: clustered
            ? [
                { name: "tcp-mesh", port: MESH_PORT, targetPort: "tcp-mesh", protocol: "TCP" },
                { name: "udp-mesh", port: MESH_PORT, targetPort: "udp-mesh", protocol: "UDP" },
              ]
            : [],
        },
      },
      { parent: this },
    );

    const peerFlags = Array.from(
      { length: args.replicas },
      (_, i) => `--cluster.peer=${statefulSetName}-${i}.${meshServiceName}.${ns}.svc:${MESH_PORT}`,
    );
    const clusterFlags = clustered
      ? [
          `--cluster.listen-address=0.0.0.0:${MESH_PORT}`,
          `--cluster.advertise-address=$(POD_IP):${MESH_PORT}`,
          // Peers drop gossip that carries another label: a peer of another stack that reaches this
          // one (a recycled pod IP it still reconnects to, a peer list pointing at the wrong Service)
          // never merges the two stacks' silences and notification logs. The namespace is the one
          // name no two stacks on a cluster share.
          `--cluster.label=${ns}`,
          ...peerFlags,
        ]
      : // An empty listen address turns clustering off: a lone peer has nobody to gossip with.
        ["--cluster.listen-address="];

    const podSpec: k8s.types.input.core.v1.PodSpec = {
      automountServiceAccountToken: false,
      ...podPriority(args.priorityClassName),
      securityContext: restrictedPodSecurity(65534),
      ...(clustered ? { affinity: spreadAcrossNodes(id) } : {}),
      containers: [
        {
          name: "alertmanager",
          image: imageOf(id),
          args: [
            `--config.file=${CONFIG_DIR}/${CONFIG_FILE}`,
            `--storage.path=${DATA_DIR}`,
            `--web.listen-address=:${ALERTMANAGER_PORT}`,
            `--web.external-url=${args.externalUrl ?? inClusterUrl}`,
            `--web.config.file=${CONFIG_DIR}/${WEB_CONFIG_FILE}`,
            ...clusterFlags,
          ],
          ...(clustered ? { env: [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }] } : {}),
          ports: [
            { name: "http", containerPort: ALERTMANAGER_PORT, protocol: "TCP" },
            ...(clustered
              ? [
                  { name: "tcp-mesh", containerPort: MESH_PORT, protocol: "TCP" },
                  { name: "udp-mesh", containerPort: MESH_PORT, protocol: "UDP" },
                ]
              : []),
          ],
          readinessProbe: httpProbe("/-/ready", "http", { periodSeconds: 10 }),
          livenessProbe: httpProbe("/-/healthy", "http", { initialDelaySeconds: 10, periodSeconds: 20 }),
          resources: resourcesOf(args.resources),
          securityContext: restrictedContainerSecurity(),
          volumeMounts: [
            { name: "config", mountPath: CONFIG_DIR, readOnly: true },
            { name: "data", mountPath: DATA_DIR },
          ],
        },
        {
          // Applies config and template changes in place (POST /-/reload): silences,
          // the notification log and cluster membership survive, no pod restarts.
          name: "config-reloader",
          image: images.configReloader,
          args: [
            `--reload-url=http://127.0.0.1:${ALERTMANAGER_PORT}/-/reload`,
            `--watched-dir=${CONFIG_DIR}`,
            `--listen-address=:${RELOADER_PORT}`,
          ],
          ports: [{ name: "reloader-web", containerPort: RELOADER_PORT, protocol: "TCP" }],
          readinessProbe: httpProbe("/healthz", "reloader-web"),
          livenessProbe: httpProbe("/healthz", "reloader-web", { periodSeconds: 20 }),
          resources: resourcesOf(RELOADER_RESOURCES),
          securityContext: restrictedContainerSecurity(),
          volumeMounts: [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }],
        },
      ],
      volumes: [
        {
          // One directory as the containers see it (and as the render writes it): the
          // config finds its templates next to it. A whole-directory mount, not subPath,
          // so that the kubelet updates the files in place.
          name: "config",
          projected: {
            sources: [
              { secret: { name: config.metadata.name, items: [{ key: CONFIG_FILE, path: CONFIG_FILE }] } },
              { configMap: { name: templates.metadata.name } },
              { configMap: { name: web.metadata.name } },
            ],
          },
        },
      ],
    };

    // Each peer's silences and notification log live on its claim, made here so that Pulumi
    // owns (and, in a stack that keeps its data, protects) it; the controller adopts it.
    this.claims = statefulSetClaims(
      `${name}-data`,
      {
        id,
        namespace: ns,
        statefulSet: statefulSetName,
        replicas: args.replicas,
        storage: args.storage,
        protect: args.protectVolumes ?? false,
      },
      this,
    );
    // No checksum annotation on the pod template: a config change must reload, not restart.
    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: objectMeta(id, ns, statefulSetName),
        spec: {
          serviceName: meshService.metadata.name,
          replicas: args.replicas,
          // Peers do not need each other to start; starting them together forms the cluster sooner.
          podManagementPolicy: "Parallel",
          selector: { matchLabels: selector },
          // Deleting, replacing or scaling down the StatefulSet never deletes a peer's silences.
          persistentVolumeClaimRetentionPolicy: claimRetentionPolicy(),
          template: { metadata: { labels: objectMeta(id, ns, statefulSetName).labels }, spec: podSpec },
          volumeClaimTemplates: [volumeClaimTemplate(id, "data", args.storage)],
        },
      },
      // Not protected: it holds no data (its claims do), and a change of its immutable
      // fields must be able to replace it.
      { parent: this, dependsOn: this.claims },
    );

    if (clustered) {
      oneAtATimeDisruptionBudget(`${name}-pdb`, id, ns, "alertmanager", { parent: this });
    }

    const peer = (app: string): IngressPeer => ({ pods: stackPods(app, args.environment) });
    const clients = [peer("prometheus"), peer("grafana")];
    if (args.ingressFromTraefik) clients.push(TRAEFIK_PODS);
    if (args.ingressFromCloudflared) clients.push(peer("cloudflared"));
    const httpPolicy = ingressPolicySpec(selector, [{ ports: [ALERTMANAGER_PORT], from: clients }]);
    // Gossip runs over TCP and UDP on the same port (kit's helper writes TCP rules), between peers only.
    const meshRule: k8s.types.input.networking.v1.NetworkPolicyIngressRule = {
      ports: [
        { protocol: "TCP", port: MESH_PORT },
        { protocol: "UDP", port: MESH_PORT },
      ],
      from: [{ podSelector: { matchLabels: selector } }],
    };
    const policy = {
      ...httpPolicy,
      ingress: [
        ...((httpPolicy.ingress ?? []) as k8s.types.input.networking.v1.NetworkPolicyIngressRule[]),
        ...(clustered ? [meshRule] : []),
      ],
    };
    new k8s.networking.v1.NetworkPolicy(
      `${name}-network-policy`,
      { metadata: objectMeta(id, ns, "alertmanager"), spec: policy },
      { parent: this },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-egress-policy`,
      { metadata: objectMeta(id, ns, egressPolicyName("alertmanager")), spec: egressPolicySpec(selector, alertmanagerEgressRules(args)) },
      { parent: this },
    );

    this.url = pulumi.interpolate`http://${service.metadata.name}.${service.metadata.namespace}.svc:${ALERTMANAGER_PORT}`;
    this.peers = { namespace: ns, selector, port: "http" };
    this.scrapeTargets = [{ job: "alertmanager", namespace: ns, selector, port: "http" }];
    this.registerOutputs({ url: this.url });
  }
}
