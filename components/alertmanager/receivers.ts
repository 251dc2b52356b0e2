/**
 * The kinds of receiver a team names in alertmanager.receivers, one row each: the schema of
 * `receivers[].<kind>` with its line of the key reference, the secret map its address is kept in,
 * what it needs of the section besides, the host it sends to (for egress), the Alertmanager config
 * it builds and the words the render's summary says of it. Everything that lists the kinds (the
 * receiver's schema, its secrets, routing's checks, alertmanager.yml, the egress ports, the summary)
 * reads this table; a new kind is a new row.
 */
import { z } from "zod";
import { dnsLabel, email, httpUrl, notAMap, secretMapMessage, slackChannel } from "../kit/fields";
import { SecretStandIn, urlStandIn } from "../kit/section";

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
  /** The secret map of its address; none when the kind's address is in the stack file (email's). */
  secret?: ReceiverSecret<SecretKey>;
  /** A key of alertmanager the kind cannot do without, and why, after `receiver "<name>"`. */
  needs?: { field: "smtp"; why: string };
  /** The integration with its secret (empty when missing: a problem of its own). */
  resolve: (given: z.infer<Schema>, secret: string) => Delivery;
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
      channel: slackChannel.describe("The channel its webhook posts to (a Slack app webhook is made for one channel)."),
    }),
    docs: "Post to Slack through the secret slackWebhookUrls.<name>.",
    // Each Slack channel has its own webhook: a Slack app webhook posts to the channel it was made for.
    secret: webhookSecret(
      "slackWebhookUrls",
      "Slack webhook URL",
      "its Slack webhook (one per channel: a Slack app webhook ignores `channel`)",
    ),
    resolve: (given, webhookUrl) => ({ channel: given.channel, webhookUrl }),
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
          send_resolved: sendResolved,
        },
      ],
    }),
    channel: (slack) => `slack ${slack.channel}`,
  }),
  discord: receiverKind({
    schema: z.strictObject({}),
    docs: "Post to Discord through the secret discordWebhookUrls.<name>: `discord: {}`.",
    secret: webhookSecret("discordWebhookUrls", "Discord webhook URL", "its Discord webhook"),
    resolve: (_given, webhookUrl) => ({ webhookUrl }),
    sendsTo: (discord) => ({ url: discord.webhookUrl }),
    config: (discord, sendResolved) => ({
      discord_configs: [{ webhook_url: discord.webhookUrl, title: TITLE, message: MESSAGE, send_resolved: sendResolved }],
    }),
    channel: () => "discord",
  }),
  webhook: receiverKind({
    schema: z.strictObject({}),
    docs: "POST Alertmanager's JSON to the secret webhookUrls.<name>: `webhook: {}`.",
    secret: webhookSecret("webhookUrls", "webhook URL", "its webhook URL"),
    resolve: (_given, url) => ({ url }),
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
export type ReceiverSecretKey = { [K in ReceiverKindName]: NonNullable<Kinds[K]["secret"]>["key"] }[ReceiverKindName];

/** The kinds' secret maps by receiver name, in the table's order: the section's secret keys. */
export const RECEIVER_SECRET_MAPS = Object.fromEntries(
  RECEIVER_KIND_ROWS.flatMap(([, row]) =>
    row.secret ? [[row.secret.key, z.record(dnsLabel, row.secret.schema, notAMap(receiverSecretMessage(row.secret)))]] : [],
  ),
) as { [Key in ReceiverSecretKey]: z.ZodRecord<typeof dnsLabel, z.ZodType<string>> };

/** The kinds' secret maps' stand-ins (ReceiverSecret.standIn), by key. */
export const RECEIVER_SECRET_STAND_INS = Object.fromEntries(
  RECEIVER_KIND_ROWS.flatMap(([, row]) => (row.secret ? [[row.secret.key, row.secret.standIn]] : [])),
) as { [Key in ReceiverSecretKey]: SecretStandIn };

/** What each secret map takes and how to give it, for a map given whole (config/secrets.ts). */
export const RECEIVER_SECRET_MAP_MESSAGES: Record<string, string> = Object.fromEntries(
  RECEIVER_KIND_ROWS.flatMap(([, row]) => (row.secret ? [[row.secret.key, receiverSecretMessage(row.secret)]] : [])),
);

function receiverSecretMessage(secret: ReceiverSecret<string>): string {
  return secretMapMessage(secret.key, "receiver", secret.value);
}

/** The kinds in words, for a message: `slack, discord, webhook or email`. */
export const RECEIVER_KIND_LIST = (() => {
  const names = RECEIVER_KIND_ROWS.map(([kind]) => kind);
  return `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
})();
