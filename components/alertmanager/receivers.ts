/**
 * The kinds of receiver a team names in alertmanager.receivers, one row each: the schema of
 * `receivers[].<kind>` with its line of the key reference, the secret map its address is kept in,
 * what it needs of the section besides, the host it sends to (for egress), the Alertmanager config
 * it builds and the words the render's summary says of it. Everything that lists the kinds (the
 * receiver's schema, its secrets, routing's checks, alertmanager.yml, the egress ports, the summary)
 * reads this table; a new kind is a new row.
 */
import { z } from "zod";
import { dnsLabel, email, httpUrl, matching, nonEmpty, notAMap, secretMapMessage, slackChannel } from "../kit/fields";
import { SecretStandIn, textStandIn, urlStandIn } from "../kit/section";
import { DISCORD_MENTIONS, SLACK_MENTIONS, criticalMention, discordMention, slackMention } from "./mentions";

/** The mail server email receivers send through (alertmanager.smtp), its password resolved. */
export interface MailServer {
  smarthost: string;
  from: string;
  username?: string;
  password?: string;
  requireTls: boolean;
}

/** Where an integration connects: a URL (its port, or 443 for https) or a host:port. */
export type Endpoint = { url: string } | { address: string };

/** The secret map a kind's address is kept in, by receiver name (`slackWebhookUrls.<receiver>`). */
export interface ReceiverSecret<Key extends string> {
  key: Key;
  /** What each entry is, in the map's message: "a map of receiver to <value>". */
  value: string;
  /** What a receiver of the kind lacks without its entry: `receiver "ops" needs <what>`. */
  what: string;
  /** The placeholder of the `pulumi config set` line that gives it, e.g. `<url>`. */
  placeholder: string;
  /** The schema of one entry. */
  schema: z.ZodType<string>;
  /** What the offline render stands in for an entry it cannot decrypt: one the schema takes. */
  standIn: SecretStandIn;
}

/** One kind of receiver: see the file's comment. */
export interface ReceiverKind<Schema extends z.ZodType, Delivery, SecretKey extends string = never> {
  /** `receivers[].<kind>` as the stack gives it. */
  schema: Schema;
  /** The kind's line of the key reference (configKeyDocs, docs/configuration.md). */
  docs: string;
  /**
   * The secret maps of its address and credentials, each keyed by receiver name (Pushover's two: a
   * user key and an app token); none when the kind's address is in the stack file (email's).
   */
  secrets?: ReceiverSecret<SecretKey>[];
  /** A key of alertmanager the kind cannot do without, and why, after `receiver "<name>"`. */
  needs?: { field: "smtp"; why: string };
  /** The integration with its secrets, in the order of `secrets` (each empty when missing: a problem of its own). */
  resolve: (given: z.infer<Schema>, secrets: string[]) => Delivery;
  /** Where it connects, for the egress policy's ports. */
  sendsTo: (delivery: Delivery, smtp: MailServer | undefined) => Endpoint | undefined;
  /** Its part of the receiver in alertmanager.yml (`<kind>_configs`). */
  config: (delivery: Delivery, sendResolved: boolean) => Record<string, unknown>;
  /** Where it delivers, in words without a secret, for the render's summary: `slack #deployment`. */
  channel: (delivery: Delivery) => string;
}

/** A row, checked against the contract with its types inferred. */
function receiverKind<Schema extends z.ZodType, Delivery, SecretKey extends string = never>(
  row: ReceiverKind<Schema, Delivery, SecretKey>,
): ReceiverKind<Schema, Delivery, SecretKey> {
  return row;
}

const templateRef = (name: string) => `{{ template "${name}" . }}`;

/** The title and text every channel says (the templates of config-file.ts). */
export const TITLE = templateRef("monitoring.title");
export const MESSAGE = templateRef("monitoring.message");

/** The severities the stack's rules give (critical, warning, info), each mapped to an integration's own, any other to `otherwise`. */
export function bySeverity(values: { critical: string; warning: string; info: string }, otherwise: string): string {
  return (
    `{{ if eq .CommonLabels.severity "critical" }}${values.critical}` +
    `{{ else if eq .CommonLabels.severity "warning" }}${values.warning}` +
    `{{ else if eq .CommonLabels.severity "info" }}${values.info}` +
    `{{ else }}${otherwise}{{ end }}`
  );
}

/** Where PagerDuty's Events API v2 takes events. */
const PAGERDUTY_EVENTS_HOST = "events.pagerduty.com";

/** Opsgenie's API host in each region (an account lives in one; a key of the other is refused). */
export const OPSGENIE_HOSTS = { us: "api.opsgenie.com", eu: "api.eu.opsgenie.com" } as const;

/** Telegram's Bot API host. */
const TELEGRAM_HOST = "api.telegram.org";

/** Pushover's message API host. */
const PUSHOVER_HOST = "api.pushover.net";

/**
 * A URL of the Office 365 connectors Microsoft retired (`<tenant>.webhook.office.com/webhookb2/…`,
 * `outlook.office.com/webhook/…`): Teams no longer takes messages there.
 */
export function isRetiredTeamsConnector(url: string): boolean {
  try {
    const u = new URL(url);
    return (
      (/(^|\.)webhook\.office\.com$/.test(u.hostname) && u.pathname.startsWith("/webhookb2/")) ||
      (u.hostname === "outlook.office.com" && u.pathname.startsWith("/webhook/"))
    );
  } catch {
    return false;
  }
}

/** A Teams Workflows webhook URL (Power Automate), never an Office 365 connector's. */
const teamsWebhookUrl = httpUrl.refine((url) => !isRetiredTeamsConnector(url), {
  message:
    "is a URL of the retired Office 365 connector (*.webhook.office.com/webhookb2/…), which Teams no longer delivers: " +
    'create a Workflows webhook instead (the channel\'s Workflows, "Send webhook alerts to a channel") and give its URL',
});

/** A Telegram bot token as BotFather gives it: `<bot id>:<secret>`. */
const telegramBotToken = matching(/^[0-9]+:[A-Za-z0-9_-]+$/, "a Telegram bot token such as 123456789:AA…, as BotFather gives it");

/** A Pushover user, group or application key: letters and digits (30 of them as Pushover gives them). */
const pushoverKey = (what: string) => matching(/^[A-Za-z0-9]+$/, `a Pushover ${what}: letters and digits, as Pushover shows it`);

/** A stand-in Pushover key: letters and digits only. */
const pushoverStandIn: SecretStandIn = ({ key }) => `PLACEHOLDERsecret${key.replace(/[^a-zA-Z0-9]/g, "")}`;

/** Jira's REST API base: `/rest/api/2` (Data Center, Cloud) or `/rest/api/3` (Cloud). */
const jiraApiUrl = httpUrl.refine((url) => !URL.canParse(url) || /^\/rest\/api\/[23]\/?$/.test(new URL(url).pathname), {
  message: "must be Jira's REST API base such as https://example.atlassian.net/rest/api/2 (the path /rest/api/2 or /rest/api/3)",
});

/** A webhook URL kept in a secret map: its URL is where the integration connects. */
const webhookSecret = <Key extends string>(key: Key, value: string, what: string): ReceiverSecret<Key> => ({
  key,
  value,
  what,
  placeholder: "<url>",
  schema: httpUrl,
  standIn: urlStandIn,
});

/** The receiver kinds, in the order of the receiver's keys, its problems and alertmanager.yml. */
export const RECEIVER_KINDS = {
  slack: receiverKind({
    schema: z.strictObject({
      channel: slackChannel.describe(
        "The channel its webhook posts to (a Slack app webhook is made for one channel); without its '#', the stack adds it.",
      ),
      mention: SLACK_MENTIONS,
    }),
    docs: "Post to Slack through the secret slackWebhookUrls.<name>.",
    // Each Slack channel has its own webhook: a Slack app webhook posts to the channel it was made for.
    secrets: [
      webhookSecret("slackWebhookUrls", "Slack webhook URL", "its Slack webhook (one per channel: a Slack app webhook ignores `channel`)"),
    ],
    // A channel given without its '#' is the channel of that name: Slack's legacy webhooks read a bare name otherwise.
    resolve: (given, [webhookUrl]) => ({
      channel: given.channel.startsWith("#") ? given.channel : `#${given.channel}`,
      webhookUrl,
      ...(given.mention ? { mention: slackMention(given.mention.critical) } : {}),
    }),
    sendsTo: (slack) => ({ url: slack.webhookUrl }),
    config: (slack, sendResolved) => ({
      slack_configs: [
        {
          api_url: slack.webhookUrl,
          // A Slack app webhook posts to the channel it was made for and ignores this; a legacy webhook honours it.
          channel: slack.channel,
          title: TITLE,
          text: MESSAGE,
          color: '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
          // The message's top-level text, above the attachment: where Slack notifies a mention.
          ...(slack.mention !== undefined ? { message_text: criticalMention(slack.mention) } : {}),
          send_resolved: sendResolved,
        },
      ],
    }),
    channel: (slack) => `slack ${slack.channel}${slack.mention !== undefined ? ` (critical mentions ${slack.mention})` : ""}`,
  }),
  discord: receiverKind({
    schema: z.strictObject({ mention: DISCORD_MENTIONS }),
    docs: "Post to Discord through the secret discordWebhookUrls.<name>: `discord: {}`.",
    secrets: [webhookSecret("discordWebhookUrls", "Discord webhook URL", "its Discord webhook")],
    resolve: (given, [webhookUrl]): { webhookUrl: string; mention?: string } => ({
      webhookUrl,
      ...(given.mention ? { mention: discordMention(given.mention.critical) } : {}),
    }),
    sendsTo: (discord) => ({ url: discord.webhookUrl }),
    config: (discord, sendResolved) => ({
      discord_configs: [
        {
          webhook_url: discord.webhookUrl,
          title: TITLE,
          message: MESSAGE,
          // The message's content, above the embed: mentions in an embed ping nobody.
          ...(discord.mention !== undefined ? { content: criticalMention(discord.mention) } : {}),
          send_resolved: sendResolved,
        },
      ],
    }),
    channel: (discord) => `discord${discord.mention !== undefined ? ` (critical mentions ${discord.mention})` : ""}`,
  }),
  webhook: receiverKind({
    schema: z.strictObject({}),
    docs: "POST Alertmanager's JSON to the secret webhookUrls.<name>: `webhook: {}`.",
    secrets: [webhookSecret("webhookUrls", "webhook URL", "its webhook URL")],
    resolve: (_given, [url]) => ({ url }),
    sendsTo: (webhook) => ({ url: webhook.url }),
    config: (webhook, sendResolved) => ({ webhook_configs: [{ url: webhook.url, send_resolved: sendResolved }] }),
    channel: () => "webhook",
  }),
  email: receiverKind({
    schema: z.strictObject({
      to: z.array(email, { error: "must be a list of email addresses" }).min(1, "must list at least one address"),
    }),
    docs: "Send email to these addresses through alertmanager.smtp.",
    needs: { field: "smtp", why: "sends email, so alertmanager.smtp must say through which server (smarthost, from)" },
    resolve: (given) => ({ to: given.to }),
    sendsTo: (_email, smtp) => (smtp ? { address: smtp.smarthost } : undefined),
    config: (mail, sendResolved) => ({
      email_configs: [
        {
          to: mail.to.join(", "),
          // The subject and the plain-text part say what every other channel says; the HTML part is Alertmanager's.
          headers: { Subject: TITLE },
          text: MESSAGE,
          send_resolved: sendResolved,
        },
      ],
    }),
    channel: (mail) => `email ${mail.to.join(", ")}`,
  }),
  pagerduty: receiverKind({
    schema: z.strictObject({}),
    docs: "Page through PagerDuty's Events API v2 with the secret pagerdutyRoutingKeys.<name>: `pagerduty: {}`.",
    secrets: [
      {
        key: "pagerdutyRoutingKeys",
        value: "PagerDuty routing key",
        what: "its PagerDuty routing key (the integration key of an Events API v2 integration of the service)",
        placeholder: "<routing-key>",
        schema: nonEmpty("a routing key"),
        standIn: textStandIn,
      },
    ],
    resolve: (_given, [routingKey]) => ({ routingKey }),
    sendsTo: () => ({ address: `${PAGERDUTY_EVENTS_HOST}:443` }),
    config: (pagerduty, sendResolved) => ({
      pagerduty_configs: [
        {
          routing_key: pagerduty.routingKey,
          url: `https://${PAGERDUTY_EVENTS_HOST}/v2/enqueue`,
          description: TITLE,
          // PagerDuty's severities are critical, error, warning and info: the stack's three are its own.
          severity: bySeverity({ critical: "critical", warning: "warning", info: "info" }, "warning"),
          details: { message: MESSAGE },
          send_resolved: sendResolved,
        },
      ],
    }),
    channel: () => "pagerduty",
  }),
  opsgenie: receiverKind({
    schema: z.strictObject({
      region: z
        .enum(["us", "eu"], { error: "must be us or eu: the region of the Opsgenie account (api.opsgenie.com or api.eu.opsgenie.com)" })
        .describe("The region of the Opsgenie account: us (api.opsgenie.com) or eu (api.eu.opsgenie.com)."),
    }),
    docs: "Create Opsgenie alerts with the secret opsgenieApiKeys.<name>, priority P1/P3/P5 from severity critical/warning/info.",
    secrets: [
      {
        key: "opsgenieApiKeys",
        value: "Opsgenie API key",
        what: "its Opsgenie API key (of an API integration of the team)",
        placeholder: "<api-key>",
        schema: nonEmpty("an API key"),
        standIn: textStandIn,
      },
    ],
    resolve: (given, [apiKey]) => ({ region: given.region, apiKey }),
    sendsTo: (opsgenie) => ({ address: `${OPSGENIE_HOSTS[opsgenie.region]}:443` }),
    config: (opsgenie, sendResolved) => ({
      opsgenie_configs: [
        {
          api_key: opsgenie.apiKey,
          api_url: `https://${OPSGENIE_HOSTS[opsgenie.region]}/`,
          message: TITLE,
          description: MESSAGE,
          // Opsgenie's priorities are P1 (highest) to P5; an alert without a known severity is P3.
          priority: bySeverity({ critical: "P1", warning: "P3", info: "P5" }, "P3"),
          send_resolved: sendResolved,
        },
      ],
    }),
    channel: (opsgenie) => `opsgenie ${opsgenie.region}`,
  }),
  teams: receiverKind({
    schema: z.strictObject({}),
    docs: "Post to a Microsoft Teams channel through the Workflows webhook in the secret teamsWebhookUrls.<name>: `teams: {}`.",
    secrets: [
      {
        key: "teamsWebhookUrls",
        value: "Teams Workflows webhook URL",
        what: "its Teams Workflows webhook URL",
        placeholder: "<url>",
        schema: teamsWebhookUrl,
        standIn: urlStandIn,
      },
    ],
    resolve: (_given, [webhookUrl]) => ({ webhookUrl }),
    sendsTo: (teams) => ({ url: teams.webhookUrl }),
    config: (teams, sendResolved) => ({
      msteamsv2_configs: [{ webhook_url: teams.webhookUrl, title: TITLE, text: MESSAGE, send_resolved: sendResolved }],
    }),
    channel: () => "teams",
  }),
  telegram: receiverKind({
    schema: z.strictObject({
      chatId: z
        .number({ error: "must be a Telegram chat id: a whole number, negative for a group or channel" })
        .int("must be a Telegram chat id: a whole number, negative for a group or channel")
        .refine((id) => id !== 0 && Number.isSafeInteger(id), "must be a Telegram chat id: a whole number other than 0")
        .describe("The chat the bot posts to: a user's id, or a group's or channel's (negative, e.g. -1001234567890)."),
      parseMode: z
        .enum(["HTML", "text"], { error: "must be HTML or text" })
        .optional()
        .describe("HTML (default: a bold title, Alertmanager escaping every value) or text (sent as it is)."),
    }),
    docs: "Post to a Telegram chat with the bot whose token is the secret telegramBotTokens.<name>.",
    secrets: [
      {
        key: "telegramBotTokens",
        value: "Telegram bot token",
        what: "its Telegram bot token (from BotFather)",
        placeholder: "<bot-token>",
        schema: telegramBotToken,
        standIn: ({ key }) => `0:${textStandIn({ key, stack: {} })}`,
      },
    ],
    resolve: (given, [botToken]) => ({ chatId: given.chatId, parseMode: given.parseMode ?? "HTML", botToken }),
    sendsTo: () => ({ address: `${TELEGRAM_HOST}:443` }),
    config: (telegram, sendResolved) => ({
      telegram_configs: [
        {
          bot_token: telegram.botToken,
          chat_id: telegram.chatId,
          // HTML: Alertmanager renders the message with Go's html/template, which escapes every value (<, >, &);
          // text: no parse mode, so Telegram shows it as it is.
          parse_mode: telegram.parseMode === "HTML" ? "HTML" : "",
          message: telegram.parseMode === "HTML" ? `<b>${TITLE}</b>\n${MESSAGE}` : `${TITLE}\n${MESSAGE}`,
          send_resolved: sendResolved,
        },
      ],
    }),
    channel: (telegram) => `telegram ${telegram.chatId}`,
  }),
  pushover: receiverKind({
    schema: z.strictObject({}),
    docs: "Push through Pushover to the user key pushoverUserKeys.<name> with the app token pushoverAppTokens.<name>: `pushover: {}`.",
    secrets: [
      {
        key: "pushoverUserKeys",
        value: "Pushover user or group key",
        what: "its Pushover user (or group) key",
        placeholder: "<user-key>",
        schema: pushoverKey("user or group key"),
        standIn: pushoverStandIn,
      },
      {
        key: "pushoverAppTokens",
        value: "Pushover application token",
        what: "the token of its Pushover application",
        placeholder: "<app-token>",
        schema: pushoverKey("application token"),
        standIn: pushoverStandIn,
      },
    ],
    resolve: (_given, [userKey, token]) => ({ userKey, token }),
    sendsTo: () => ({ address: `${PUSHOVER_HOST}:443` }),
    config: (pushover, sendResolved) => ({
      pushover_configs: [
        {
          user_key: pushover.userKey,
          token: pushover.token,
          title: TITLE,
          message: MESSAGE,
          // Pushover's priorities: 1 high (bypasses quiet hours), 0 normal, -1 low (no sound); 2 (emergency) is never sent.
          priority: bySeverity({ critical: "1", warning: "0", info: "-1" }, "0"),
          send_resolved: sendResolved,
        },
      ],
    }),
    channel: () => "pushover",
  }),
  jira: receiverKind({
    schema: z.strictObject({
      apiUrl: jiraApiUrl.describe("Jira's REST API base, e.g. https://example.atlassian.net/rest/api/2."),
      project: nonEmpty("a Jira project key such as OPS").describe("The project key the issues are created in, e.g. OPS."),
      issueType: nonEmpty("a Jira issue type such as Bug").describe("The issue type, e.g. Bug or Incident."),
      user: nonEmpty("a Jira user (its email on Jira Cloud)")
        .optional()
        .describe(
          "With it, basic auth as this user with the secret as API token (Jira Cloud); without, the secret is a bearer personal access token (Data Center).",
        ),
      resolveTransition: nonEmpty("a transition name such as Done")
        .optional()
        .describe("The transition that closes an issue when its alerts resolve."),
      reopenTransition: nonEmpty("a transition name such as Reopen")
        .optional()
        .describe("The transition that reopens a closed issue when its alerts fire again."),
    }),
    docs: "Open a Jira issue per alert group with the API token in the secret jiraApiTokens.<name>.",
    secrets: [
      {
        key: "jiraApiTokens",
        value: "Jira API token or personal access token",
        what: "its Jira API token (with jira.user) or personal access token",
        placeholder: "<token>",
        schema: nonEmpty("a token"),
        standIn: textStandIn,
      },
    ],
    resolve: (given, [token]) => ({ ...given, token }),
    sendsTo: (jira) => ({ url: jira.apiUrl }),
    config: (jira, sendResolved) => ({
      jira_configs: [
        {
          api_url: jira.apiUrl,
          project: jira.project,
          issue_type: jira.issueType,
          summary: TITLE,
          description: MESSAGE,
          ...(jira.resolveTransition !== undefined ? { resolve_transition: jira.resolveTransition } : {}),
          ...(jira.reopenTransition !== undefined ? { reopen_transition: jira.reopenTransition } : {}),
          http_config:
            jira.user !== undefined
              ? { basic_auth: { username: jira.user, password: jira.token } }
              : { authorization: { type: "Bearer", credentials: jira.token } },
          send_resolved: sendResolved,
        },
      ],
    }),
    channel: (jira) => `jira ${jira.project}`,
  }),
};

type Kinds = typeof RECEIVER_KINDS;

export type ReceiverKindName = keyof Kinds;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyReceiverKind = ReceiverKind<z.ZodType, any, string>;

/** The rows in order, each with its name. */
export const RECEIVER_KIND_ROWS = Object.entries(RECEIVER_KINDS) as Array<[ReceiverKindName, AnyReceiverKind]>;

/** What a kind resolves to: the integration of a named receiver, its secret resolved. */
export type DeliveryOf<K extends ReceiverKindName> = ReturnType<Kinds[K]["resolve"]>;

/** A named receiver with its integrations, secrets resolved. */
export type AlertReceiver = { name: string } & { [K in ReceiverKindName]?: DeliveryOf<K> } & { sendResolved: boolean };

/** The secret map keys of the kinds that keep their address in one (`slackWebhookUrls`, …). */
export type ReceiverSecretKey = { [K in ReceiverKindName]: NonNullable<Kinds[K]["secrets"]>[number]["key"] }[ReceiverKindName];

/** Every kind's secret maps, in the table's order. */
export const RECEIVER_SECRETS: ReceiverSecret<ReceiverSecretKey>[] = RECEIVER_KIND_ROWS.flatMap(
  ([, row]) => (row.secrets ?? []) as ReceiverSecret<ReceiverSecretKey>[],
);

/** The kinds' secret maps by receiver name, in the table's order: the section's secret keys. */
export const RECEIVER_SECRET_MAPS = Object.fromEntries(
  RECEIVER_SECRETS.map((secret) => [secret.key, z.record(dnsLabel, secret.schema, notAMap(receiverSecretMessage(secret)))]),
) as { [Key in ReceiverSecretKey]: z.ZodRecord<typeof dnsLabel, z.ZodType<string>> };

/** The kinds' secret maps' stand-ins (ReceiverSecret.standIn), by key. */
export const RECEIVER_SECRET_STAND_INS = Object.fromEntries(RECEIVER_SECRETS.map((secret) => [secret.key, secret.standIn])) as {
  [Key in ReceiverSecretKey]: SecretStandIn;
};

/** What each secret map takes and how to give it, for a map given whole (config/secrets.ts). */
export const RECEIVER_SECRET_MAP_MESSAGES: Record<string, string> = Object.fromEntries(
  RECEIVER_SECRETS.map((secret) => [secret.key, receiverSecretMessage(secret)]),
);

function receiverSecretMessage(secret: ReceiverSecret<string>): string {
  return secretMapMessage(secret.key, "receiver", secret.value);
}

/** The kinds in words, for a message: `slack, discord, webhook or email`. */
export const RECEIVER_KIND_LIST = (() => {
  const names = RECEIVER_KIND_ROWS.map(([kind]) => kind);
  return `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
})();
