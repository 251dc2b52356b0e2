/** The sections of the stack file (`prometheus`, `alertmanager`, …): every field optional, defaults come from the profile. */
import { z } from "zod";
import { lokiSection } from "../components/loki/section";
import { prometheusSection } from "../components/prometheus/section";
import { thresholdsSection } from "../components/prometheus/rules/thresholds";
import { ComponentSection, SectionContext } from "../components/kit/section";
import { Profile } from "../components/kit/profiles";
import { WRITABLE_FOLDER_DEFAULT } from "../components/grafana/args";
import { EGRESS_COMPONENTS, EgressComponent } from "../components/kit/network";
import { LOG_COLLECTOR_AGENT } from "../components/log-collector/args";
import {
  BASIC_AUTH_USER,
  BASIC_AUTH_USER_MESSAGE,
  HEX32,
  USER_PRIORITY_MAX,
  bool,
  cidrList,
  dnsLabel,
  duration,
  durationWith,
  email,
  extraEgressList,
  hostPort,
  hostname,
  iniValue,
  kubeLabels,
  labelName,
  matcher,
  matching,
  nonEmpty,
  portList,
  portNumber,
  replicas,
  resources,
  slackChannel,
  smarthost,
  storage,
} from "../components/kit/fields";

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySection = ComponentSection<z.ZodType, any, any>;

type ExtraEgressShape = { [K in EgressComponent]: z.ZodOptional<typeof extraEgressList> };

/**
 * The sections the components own (components/<component>/section.ts), in the stack file's order:
 * each one's schema, defaults, resolution, problems and warnings are collected from here.
 */
export const COMPONENT_SECTIONS = {
  prometheus: prometheusSection,
  loki: lokiSection,
  thresholds: thresholdsSection,
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
  prometheus: COMPONENT_SECTIONS.prometheus.schema,
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
  logCollector: z.strictObject({
    enabled: bool.optional(),
    // Its one value is the default; the retired "promtail" is refused with the way over (parse.ts).
    agent: z.enum([LOG_COLLECTOR_AGENT]).optional().describe("The agent: alloy (Grafana Alloy), the default and the only value."),
    resources: resources.optional(),
  }),
  tracing: z.strictObject({
    enabled: bool
      .optional()
      .describe("Run the traces backend (Jaeger, in-cluster only) that the collector's OTLP endpoint forwards spans to; default true."),
    // At least 1h: components/tracing/problems.ts.
    retention: duration.optional().describe("How long spans are kept (at least 1h)."),
    storage: storage.optional(),
    resources: resources.optional(),
  }),
  nodeExporter: z.strictObject({
    enabled: bool.optional(),
    port: hostPort
      .optional()
      .describe("Port node-exporter listens on, on every node's own address (host network); each stack on a cluster needs its own."),
    resources: resources.optional(),
  }),
  kubeStateMetrics: z.strictObject({ enabled: bool.optional(), resources: resources.optional() }),
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
  networkPolicy: z.strictObject({
    apiServerCidrs: cidrList
      .optional()
      .describe("Where pods reach the API server after kube-proxy's rewrite (the nodes' or control plane's addresses); default anywhere."),
    apiServerPorts: portList.optional().describe("The API server's ports: the kubernetes Service's 443 and its own 6443; default both."),
    nodeCidrs: cidrList.optional().describe("The nodes' addresses, where Prometheus scrapes kubelets and node-exporter; default anywhere."),
    extraEgress: z
      .strictObject(Object.fromEntries(EGRESS_COMPONENTS.map((component) => [component, extraEgressList.optional()])) as ExtraEgressShape)
      .optional(),
  }),
  priorityClass: z.strictObject({
    enabled: bool.optional().describe("Create the stack's PriorityClass and give it to every pod the stack creates; default true."),
    value: z
      .number({ error: `must be a whole number 1-${USER_PRIORITY_MAX}` })
      .int(`must be a whole number 1-${USER_PRIORITY_MAX}`)
      .min(1, `must be a whole number 1-${USER_PRIORITY_MAX}`)
      .max(USER_PRIORITY_MAX, `must be at most ${USER_PRIORITY_MAX}: higher values are kept for the system's own classes`)
      .optional()
      .describe("The class's priority; default 1000000."),
  }),
  hostnames: z.strictObject({
    grafana: hostname.optional(),
    prometheus: hostname.optional(),
    alertmanager: hostname.optional(),
  }),
  thresholds: COMPONENT_SECTIONS.thresholds.schema,
};
