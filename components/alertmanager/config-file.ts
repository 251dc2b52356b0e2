/** alertmanager.yml and its notification templates: the routing tree, the receivers and what reaches a human. */
import { addressPort, uniquePorts, urlPort } from "../kit/network";
import type { AlertmanagerArgs } from "./args";
import type { AlertReceivers, AlertRouting } from "./routing";
import { AlertReceiver, Endpoint, RECEIVER_KINDS, RECEIVER_KIND_ROWS } from "./receivers";
import { timeIntervalsConfig } from "./time-intervals";

/** The file of the notification templates, beside alertmanager.yml. */
export const TEMPLATE_FILE = "monitoring.tmpl";

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

/**
 * What alertmanager.yml is made of: the environment (named in every message when the alert lacks
 * the `environment` label), the legacy keys' receivers (the default tree; none at all routes
 * everything to the `null` receiver), the team's routing, and the root route's grouping.
 */
export type AlertmanagerConfigArgs = Pick<
  AlertmanagerArgs,
  "environment" | "receivers" | "routing" | "groupWait" | "groupInterval" | "repeatInterval"
>;

/** Whether any receiver reaches a human (the dead man's switch does not). */
export function hasHumanReceiver(receivers: AlertReceivers, routing?: AlertRouting): boolean {
  if (routing) return routing.receivers.length > 0;
  return Boolean(receivers.discord?.webhookUrl || receivers.discord?.criticalWebhookUrl || receivers.webhook);
}

/** The kinds a named receiver has (receivers.ts' rows, in the table's order), each with its integration. */
function integrationsOf(r: AlertReceiver) {
  return RECEIVER_KIND_ROWS.flatMap(([kind, row]) => (r[kind] ? [{ row, delivery: r[kind] }] : []));
}

/** The integrations of one named receiver, in alertmanager.yml's words (the mail server is in `global`). */
function namedIntegrations(r: AlertReceiver): Record<string, unknown> {
  return Object.assign({}, ...integrationsOf(r).map(({ row, delivery }) => row.config(delivery, r.sendResolved)));
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
    ...(r.muteTimeIntervals ? { mute_time_intervals: [...r.muteTimeIntervals] } : {}),
    ...(r.activeTimeIntervals ? { active_time_intervals: [...r.activeTimeIntervals] } : {}),
  };
}

/** Where each receiver delivers, in words a reviewer reads (no secret): `slack #deployment`, `email ops@example.com`. */
export function receiverChannels(receivers: AlertReceivers, routing?: AlertRouting): Array<{ name: string; channels: string[] }> {
  const out: Array<{ name: string; channels: string[] }> = [];
  if (routing) {
    for (const r of routing.receivers)
      out.push({ name: r.name, channels: integrationsOf(r).map(({ row, delivery }) => row.channel(delivery)) });
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
  if (discordUrl) Object.assign(out, RECEIVER_KINDS.discord.config({ webhookUrl: discordUrl }, true));
  if (receivers.webhook) Object.assign(out, RECEIVER_KINDS.webhook.config(receivers.webhook, true));
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
    ...(routing?.timeIntervals ? { time_intervals: timeIntervalsConfig(routing.timeIntervals) } : {}),
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

/**
 * The ports of every receiver's endpoint, each once: the legacy webhook URLs' and the dead man's
 * switch's (443 for https, or the URL's own), and each named receiver's integrations' (its kind's
 * `sendsTo`: a webhook URL's port, the SMTP smarthost's).
 */
export function receiverPorts(receivers: AlertReceivers, routing?: AlertRouting): number[] {
  const endpoints: Endpoint[] = [
    receivers.discord?.webhookUrl,
    receivers.discord?.criticalWebhookUrl,
    receivers.webhook?.url,
    receivers.deadMansSwitch?.url,
  ].flatMap((url) => (url !== undefined ? [{ url }] : []));
  for (const r of routing?.receivers ?? []) {
    for (const { row, delivery } of integrationsOf(r)) {
      const endpoint = row.sendsTo(delivery, routing?.smtp);
      if (endpoint) endpoints.push(endpoint);
    }
  }
  return uniquePorts(endpoints.map((e) => ("url" in e ? urlPort(e.url) : addressPort(e.address))));
}
