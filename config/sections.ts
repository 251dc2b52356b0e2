/** The sections of the stack file (`prometheus`, `alertmanager`, …): every field optional, defaults come from the profile. */
import { z } from "zod";
import { lokiSection } from "../components/loki/section";
import { logCollectorSection } from "../components/log-collector/section";
import { tracingSection } from "../components/tracing/section";
import { nodeExporterSection } from "../components/exporters/node-exporter-section";
import { kubeStateMetricsSection } from "../components/exporters/kube-state-metrics-section";
import { networkPolicySection, priorityClassSection } from "../components/kit/stack-sections";
import { ComponentSection, SectionContext } from "../components/kit/section";
import { Profile } from "../components/kit/profiles";
import { ALERT_SEVERITIES, THRESHOLD_LEVELS, THRESHOLD_NAMES, THRESHOLD_SPECS } from "../components/prometheus/rules/thresholds";
import { WRITABLE_FOLDER_DEFAULT } from "../components/grafana/args";
import {
  BASIC_AUTH_USER,
  BASIC_AUTH_USER_MESSAGE,
  HEX32,
  bool,
  dnsLabel,
  duration,
  durationWith,
  email,
  hostname,
  iniValue,
  kubeLabels,
  labelMap,
  labelName,
  matcher,
  matching,
  nonEmpty,
  plainHttpUrl,
  portNumber,
  prometheusSize,
  replicas,
  resources,
  slackChannel,
  smarthost,
  storage,
} from "../components/kit/fields";

const remoteWriteSchema = z.strictObject({
  name: dnsLabel,
  url: plainHttpUrl,
  username: nonEmpty("a user name").optional().describe("Basic-auth user; the password comes from secret remoteWritePasswords.<name>."),
  bearerToken: bool.optional().describe("Send remoteWritePasswords.<name> as a bearer token instead."),
});

const alertReceiverSchema = z.strictObject({
  name: dnsLabel.describe("Unique receiver name, which routes and defaultReceiver name; its secrets are keyed by it."),
  slack: z
    .strictObject({
      channel: slackChannel.describe("The channel its webhook posts to (a Slack app webhook is made for one channel)."),
    })
    .optional()
    .describe("Post to Slack through the secret slackWebhookUrls.<name>."),
  discord: z.strictObject({}).optional().describe("Post to Discord through the secret discordWebhookUrls.<name>: `discord: {}`."),
  webhook: z.strictObject({}).optional().describe("POST Alertmanager's JSON to the secret webhookUrls.<name>: `webhook: {}`."),
  email: z
    .strictObject({ to: z.array(email, { error: "must be a list of email addresses" }).min(1, "must list at least one address") })
    .optional()
    .describe("Send email to these addresses through alertmanager.smtp."),
  sendResolved: bool.optional().describe("Also notify when the alerts resolve; default true."),
});

const alertRouteSchema = z.strictObject({
  receiver: dnsLabel.describe("The receiver of the alerts this route takes."),
  matchers: z
    .array(matcher, { error: "must be a list of matchers" })
    .optional()
    .describe("All must match, e.g. ['app=~\"deployment-api|port-manager\"', 'severity!=\"info\"']; none matches every alert."),
  continue: bool.optional().describe("Also try the routes after this one; default false: the first route that matches takes the alert."),
  groupBy: z.array(labelName, { error: "must be a list of label names" }).optional().describe("Default: alertname, job, namespace."),
  groupWait: duration.optional().describe("Default: alertmanager.groupWait."),
  groupInterval: duration.optional().describe("Default: alertmanager.groupInterval."),
  repeatInterval: duration.optional().describe("Default: alertmanager.repeatInterval."),
});

/** One level of a tunable node alert (components/prometheus/rules/thresholds.ts); every field defaults to rules/nodes.yml's value. */
const thresholdLevel = (name: (typeof THRESHOLD_NAMES)[number], level: (typeof THRESHOLD_LEVELS)[number]) => {
  const spec = THRESHOLD_SPECS[name];
  const d = spec.defaults[level];
  return z.strictObject({
    enabled: bool.optional().describe(`Whether ${spec.alert} has its ${level} level; default true.`),
    percent: z
      .number({ error: `must be a percent 1-99 (the share of ${spec.what})` })
      .min(1, "must be at least 1 (percent)")
      .max(99, "must be at most 99 (percent)")
      .optional()
      .describe(
        `Share of ${spec.what} at which the ${level} fires (${spec.measure === "used" ? "above" : "below"}); default ${d.percent}.`,
      ),
    for: duration.optional().describe(`How long it must hold; default ${d.for}.`),
    severity: z.enum(ALERT_SEVERITIES).optional().describe(`The alert's severity label; default ${level}.`),
  });
};

const thresholdAlert = (name: (typeof THRESHOLD_NAMES)[number]) =>
  z.strictObject({ warning: thresholdLevel(name, "warning").optional(), critical: thresholdLevel(name, "critical").optional() });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySection = ComponentSection<z.ZodType, any, any>;

/**
 * The sections the components own (components/<component>/section.ts), in the stack file's order:
 * each one's schema, defaults, resolution, problems and warnings are collected from here.
 */
export const COMPONENT_SECTIONS = {
  loki: lokiSection,
  logCollector: logCollectorSection,
  tracing: tracingSection,
  nodeExporter: nodeExporterSection,
  kubeStateMetrics: kubeStateMetricsSection,
  networkPolicy: networkPolicySection,
  priorityClass: priorityClassSection,
};

export type ComponentSectionName = keyof typeof COMPONENT_SECTIONS;

/** Each component section's resolved values, as its own `resolve` returns them. */
export type ResolvedSections = { [K in ComponentSectionName]: ReturnType<(typeof COMPONENT_SECTIONS)[K]["resolve"]> };

/** Every component section resolved: its values over the profile's defaults. */
export function resolveSections(raw: Readonly<Record<string, unknown>>, context: SectionContext): ResolvedSections {
  const resolved: Partial<Record<ComponentSectionName, unknown>> = {};
  for (const [name, section] of Object.entries(COMPONENT_SECTIONS) as Array<[ComponentSectionName, AnySection]>) {
    const secrets = Object.fromEntries(Object.keys(section.secrets ?? {}).map((key) => [key, raw[key]]));
    resolved[name] = section.resolve(raw[name], context, secrets);
  }
  return resolved as ResolvedSections;
}

/** Every component section's defaults in a profile. */
export function sectionDefaults(profile: Profile): ResolvedSections {
  return Object.fromEntries(
    (Object.entries(COMPONENT_SECTIONS) as Array<[ComponentSectionName, AnySection]>).map(([name, section]) => [
      name,
      section.defaults(profile),
    ]),
  ) as ResolvedSections;
}

export const sectionSchemas = {
  prometheus: z.strictObject({
    replicas: replicas.optional(),
    retention: duration.optional().describe("How long samples are kept."),
    retentionSize: prometheusSize.optional().describe("Size cap of the TSDB; default 85 % of the volume."),
    scrapeInterval: duration.optional(),
    scrapeTimeout: duration.optional(),
    evaluationInterval: duration.optional(),
    externalLabels: labelMap.optional(),
    remoteWrite: z.array(remoteWriteSchema).optional(),
    runbookBaseUrl: plainHttpUrl
      .optional()
      .describe("URL of your published copy of docs/runbooks.md (e.g. your fork's): alerts then carry a runbook_url link into it."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  alertmanager: z.strictObject({
    replicas: replicas.optional(),
    groupWait: duration.optional(),
    groupInterval: duration.optional(),
    repeatInterval: duration.optional(),
    receivers: z
      .array(alertReceiverSchema, { error: "must be a list of receivers" })
      .min(1, "must list at least one receiver")
      .optional()
      .describe(
        "Named receivers, each with one or more integrations; with them, routing is yours (routes, defaultReceiver). Default: the critical/warning split of the legacy keys.",
      ),
    routes: z
      .array(alertRouteSchema, { error: "must be a list of routes" })
      .optional()
      .describe("Routes tried in order after the Watchdog's; the first that matches takes the alert unless it says `continue`."),
    defaultReceiver: dnsLabel.optional().describe("Receiver of the alerts no route takes; required with receivers."),
    smtp: z
      .strictObject({
        smarthost: smarthost.describe("SMTP server as host:port, e.g. smtp.example.com:587 (the port is required)."),
        from: email.describe("Sender address of the emails."),
        username: nonEmpty("a user name").optional().describe("SMTP user; the password is the secret smtpPassword."),
        requireTls: bool.optional().describe("Require STARTTLS before sending; default true."),
      })
      .optional()
      .describe("The mail server email receivers send through."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  grafana: z.strictObject({
    replicas: replicas.optional(),
    adminUser: matching(/^[a-zA-Z0-9_.@-]{1,64}$/, "a user name: 1-64 of letters, digits, _ . @ -").optional(),
    writableFolder: nonEmpty("a folder title")
      .max(64, "must be at most 64 characters")
      // Grafana keeps the name of its root folder for itself.
      .refine((t) => t.trim().toLowerCase() !== "general", { message: 'must not be "General", the name of Grafana\'s root folder' })
      .refine((t) => t.trim() === t, { message: "must not start or end with spaces" })
      .optional()
      .describe(`Title of the Grafana folder users may save dashboards into from the UI; default "${WRITABLE_FOLDER_DEFAULT}".`),
    database: z
      .strictObject({
        type: z.enum(["postgres", "mysql"]),
        host: matching(/^[a-zA-Z0-9.-]+(:\d{1,5})?$/, "a host or host:port such as db.internal:5432"),
        name: iniValue("a database name"),
        user: iniValue("a user name"),
        sslMode: z.enum(["disable", "require", "verify-full"]).optional(),
      })
      .optional()
      .describe("External database; required for more than one replica. Password: secret grafanaDatabasePassword."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  loki: COMPONENT_SECTIONS.loki.schema,
  logCollector: COMPONENT_SECTIONS.logCollector.schema,
  tracing: COMPONENT_SECTIONS.tracing.schema,
  nodeExporter: COMPONENT_SECTIONS.nodeExporter.schema,
  kubeStateMetrics: COMPONENT_SECTIONS.kubeStateMetrics.schema,
  traefik: z.strictObject({
    enabled: bool.optional(),
    entryPoints: z.array(nonEmpty("an entry point name")).min(1, "must list at least one entry point").optional(),
    tlsSecretName: dnsLabel
      .optional()
      .describe("TLS Secret (in the stack's namespace) for the routes, or certResolver; production refuses neither, staging warns."),
    certResolver: nonEmpty("a certificate resolver name")
      .optional()
      .describe("Certificate resolver of Traefik's static config, or tlsSecretName."),
    expose: z.array(z.enum(["grafana", "prometheus", "alertmanager"])).optional(),
    basicAuthUsers: z
      .array(matching(BASIC_AUTH_USER, BASIC_AUTH_USER_MESSAGE))
      .min(1, "must list at least one user")
      .optional()
      .describe("Basic-auth users; each password is the secret basicAuthPasswords.<user>, or a random one."),
    metrics: z
      .strictObject({
        enabled: bool.optional().describe("Scrape the cluster's Traefik (job traefik) for its dashboard and alerts; default true."),
        namespace: dnsLabel.optional().describe("Namespace of Traefik's pods; default kube-system, where k3s installs it."),
        podLabels: kubeLabels
          .optional()
          .describe("Labels of Traefik's pods, all matched; default app.kubernetes.io/name: traefik (k3s's chart)."),
        port: portNumber
          .optional()
          .describe("Container port of Traefik's metrics entry point; default 9100 (k3s's chart: entry point metrics)."),
      })
      .optional()
      .describe("The scrape of the Traefik the cluster runs (k3s's own ingress), independent of the routes above."),
  }),
  cloudflare: z.strictObject({
    enabled: bool.optional(),
    accountId: matching(HEX32, "the 32-character hex Cloudflare account id").optional(),
    zoneId: matching(HEX32, "the 32-character hex Cloudflare zone id").optional(),
    tunnelName: dnsLabel.optional(),
    replicas: replicas.optional(),
    expose: z.array(z.enum(["grafana", "prometheus", "alertmanager"])).optional(),
    access: z
      .strictObject({
        enabled: bool.optional(),
        emails: z.array(email).optional(),
        emailDomains: z.array(hostname).optional(),
        // Cloudflare counts sessions in whole seconds.
        sessionDuration: durationWith((ms) => (ms >= 1000 ? undefined : "must be at least 1s")).optional(),
      })
      .optional(),
    resources: resources.optional(),
  }),
  networkPolicy: COMPONENT_SECTIONS.networkPolicy.schema,
  priorityClass: COMPONENT_SECTIONS.priorityClass.schema,
  hostnames: z.strictObject({
    grafana: hostname.optional(),
    prometheus: hostname.optional(),
    alertmanager: hostname.optional(),
  }),
  thresholds: z.strictObject({
    nodeCpu: thresholdAlert("nodeCpu").optional(),
    nodeMemory: thresholdAlert("nodeMemory").optional(),
    nodeDisk: thresholdAlert("nodeDisk").optional(),
  }),
};
