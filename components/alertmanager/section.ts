/**
 * Alertmanager's section of the stack file (`alertmanager`): its fields (the receivers' kinds are
 * receivers.ts' table), its secret keys, its defaults per profile, its resolution with the team's
 * routing (routing.ts) and its problems and warnings.
 */
import { z } from "zod";
import {
  bool,
  dnsLabel,
  duration,
  email,
  httpUrl,
  labelName,
  matcher,
  nonEmpty,
  replicas,
  resources,
  smarthost,
  storage,
} from "../kit/fields";
import {
  SecretStandIns,
  SecretValues,
  componentSection,
  onNodes,
  resolveResources,
  resolveStorage,
  textStandIn,
  urlStandIn,
} from "../kit/section";
import type { Profile } from "../kit/profiles";
import { ALERTMANAGER_DEFAULTS, AlertReceivers, AlertmanagerArgs, AlertmanagerDefaults } from "./args";
import { problems, warnings } from "./problems";
import { RECEIVER_KINDS, RECEIVER_SECRET_MAPS, RECEIVER_SECRET_STAND_INS, ReceiverKindName } from "./receivers";
import { resolveRouting } from "./routing";
import { timeIntervalSchema } from "./time-intervals";

type KindFields = { [K in ReceiverKindName]: z.ZodOptional<(typeof RECEIVER_KINDS)[K]["schema"]> };

const alertReceiverSchema = z.strictObject({
  name: dnsLabel.describe("Unique receiver name, which routes and defaultReceiver name; its secrets are keyed by it."),
  ...(Object.fromEntries(
    Object.entries(RECEIVER_KINDS).map(([kind, row]) => [kind, row.schema.optional().describe(row.docs)]),
  ) as KindFields),
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
  muteTimeIntervals: z
    .array(dnsLabel, { error: "must be a list of interval names" })
    .optional()
    .describe("Names of alertmanager.timeIntervals during which the route sends nothing (its alerts wait, and are sent after)."),
  activeTimeIntervals: z
    .array(dnsLabel, { error: "must be a list of interval names" })
    .optional()
    .describe("Names of alertmanager.timeIntervals outside which the route sends nothing."),
});

const schema = z.strictObject({
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
  timeIntervals: z
    .array(timeIntervalSchema, { error: "must be a list of time intervals" })
    .optional()
    .describe("Named quiet or working hours, which routes name in muteTimeIntervals or activeTimeIntervals."),
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
  deadMansSwitch: bool
    .optional()
    .describe(
      "Expect a dead man's switch (the secret deadMansSwitchUrl) and warn without one; default true in production, false in staging. false: this stack goes without, knowingly.",
    ),
  storage: storage.optional(),
  resources: resources.optional(),
});

/** The `alertmanager` section as the stack gives it. */
export type AlertmanagerGiven = z.infer<typeof schema>;

/** The legacy receiver keys, which feed the default critical/warning tree, and the dead man's switch, read in both trees. */
export const LEGACY_RECEIVER_SECRETS = {
  discordWebhookUrl: httpUrl,
  discordCriticalWebhookUrl: httpUrl,
  webhookUrl: httpUrl,
  deadMansSwitchUrl: httpUrl,
};

/** The named receivers' secrets: each kind's map by receiver name (receivers.ts), then the mail server's password. */
export const ROUTING_SECRETS = {
  ...RECEIVER_SECRET_MAPS,
  smtpPassword: nonEmpty("a password"),
};

/** What the offline render stands in for each secret key when the stack file's value is encrypted: a URL where the key is one. */
export const ALERTMANAGER_SECRET_STAND_INS: SecretStandIns<typeof LEGACY_RECEIVER_SECRETS & typeof ROUTING_SECRETS> = {
  discordWebhookUrl: urlStandIn,
  discordCriticalWebhookUrl: urlStandIn,
  webhookUrl: urlStandIn,
  deadMansSwitchUrl: urlStandIn,
  ...RECEIVER_SECRET_STAND_INS,
  smtpPassword: textStandIn,
};

const secrets = { ...LEGACY_RECEIVER_SECRETS, ...ROUTING_SECRETS };

/** The values of the section's secret keys, as the stack gives them. */
export type AlertmanagerSecrets = SecretValues<typeof secrets>;

/** The legacy keys' receivers, for the default tree, and the dead man's switch in both trees. */
function legacyReceivers(given: AlertmanagerSecrets): AlertReceivers {
  const receivers: AlertReceivers = {};
  if (given.discordWebhookUrl !== undefined || given.discordCriticalWebhookUrl !== undefined) {
    receivers.discord = {
      ...(given.discordWebhookUrl !== undefined ? { webhookUrl: given.discordWebhookUrl } : {}),
      ...(given.discordCriticalWebhookUrl !== undefined ? { criticalWebhookUrl: given.discordCriticalWebhookUrl } : {}),
    };
  }
  if (given.webhookUrl !== undefined) receivers.webhook = { url: given.webhookUrl };
  if (given.deadMansSwitchUrl !== undefined) receivers.deadMansSwitch = { url: given.deadMansSwitchUrl };
  return receivers;
}

/**
 * What the stack's config holds of Alertmanager: its defaults' keys, the team's routing when it gives
 * one, and whether the stack expects a dead man's switch (a warning without one, not an arg).
 */
export type AlertmanagerSettings = AlertmanagerDefaults & Pick<AlertmanagerArgs, "routing"> & { deadMansSwitch: boolean };

/** Whether a profile expects a dead man's switch: production does, so that the death of the node or of Prometheus is told. */
const EXPECTS_DEAD_MANS_SWITCH: Record<Profile, boolean> = { staging: false, production: true };

/** The `alertmanager` section; what resolving the routing finds goes to the context's problems. */
export const alertmanagerSection = componentSection({
  schema,
  secrets,
  defaults: (profile): AlertmanagerSettings => ({ ...ALERTMANAGER_DEFAULTS[profile], deadMansSwitch: EXPECTS_DEAD_MANS_SWITCH[profile] }),
  resolve: (given, context, secretValues): AlertmanagerSettings => {
    const defaults = ALERTMANAGER_DEFAULTS[context.profile];
    const routing = resolveRouting(given ?? {}, secretValues, context.problems);
    return {
      replicas: given?.replicas ?? onNodes(context, defaults.replicas),
      groupWait: given?.groupWait ?? defaults.groupWait,
      groupInterval: given?.groupInterval ?? defaults.groupInterval,
      repeatInterval: given?.repeatInterval ?? defaults.repeatInterval,
      receivers: legacyReceivers(secretValues),
      ...(routing ? { routing } : {}),
      storage: resolveStorage(defaults.storage, given?.storage, context),
      resources: resolveResources(defaults.resources, given?.resources),
      deadMansSwitch: given?.deadMansSwitch ?? EXPECTS_DEAD_MANS_SWITCH[context.profile],
    };
  },
  problems: (am) => problems(am),
  warnings: (am) => warnings(am),
});
