/**
 * Mentions for critical alerts (`mention: {critical: ...}` of a Slack or Discord receiver): the
 * forms each service notifies on, checked per kind, and the template that writes them into a
 * message only while a critical group fires.
 */
import { z } from "zod";

/**
 * The mention a critical alert's message starts with: rendered by Alertmanager into the text a chat
 * service notifies on (Slack's top-level `text`, Discord's `content`), only while the group fires and
 * its alerts are critical, so that a warning or a resolved message pings nobody.
 */
export function criticalMention(mention: string): string {
  return `{{ if and (eq .Status "firing") (eq .CommonLabels.severity "critical") }}${mention}{{ end }}`;
}

/**
 * `mention: {critical: "..."}` of a chat kind: one or more mentions separated by spaces, each one
 * `token` matches, as `forms` says in words.
 */
const mentionSchema = (token: RegExp, forms: string) => {
  const what = `one or more mentions separated by spaces, each ${forms}`;
  return z
    .strictObject({
      critical: z
        .string({ error: `must be ${what}` })
        .refine(
          (text) =>
            text.trim() !== "" &&
            text
              .trim()
              .split(/ +/)
              .every((m) => token.test(m)),
          { message: `must be ${what}` },
        )
        .describe(`Who a firing critical alert's message mentions: ${forms}; warnings and resolved messages mention nobody.`),
    })
    .optional();
};

/** Slack's mentions as its API reads them in a message's text: `@here` alone is plain text there, so the stack writes `<!here>`. */
const SLACK_MENTION =
  /^(?:@(?:here|channel|everyone)|<!(?:here|channel|everyone)>|<!subteam\^[A-Z0-9]+(?:\|[^<>|\s]+)?>|<@[UW][A-Z0-9]+>)$/;
const SLACK_MENTION_FORMS =
  "@here, @channel, @everyone, <!subteam^ID> (a user group, its ID such as S0123ABCD) or <@ID> (a user, its member ID such as U0123ABCD)";

/** Slack's special mentions written as Slack's API reads them (`@here` is `<!here>`); the others as given. */
export function slackMention(text: string): string {
  return text
    .trim()
    .split(/ +/)
    .map((m) => (/^@(?:here|channel|everyone)$/.test(m) ? `<!${m.slice(1)}>` : m))
    .join(" ");
}

/** Discord's mentions in a webhook message's content, which a webhook's default allowed mentions ping. */
const DISCORD_MENTION = /^(?:@here|@everyone|<@&[0-9]+>|<@!?[0-9]+>)$/;
const DISCORD_MENTION_FORMS = "@here, @everyone, <@&ID> (a role, its ID in digits) or <@ID> (a user, its ID in digits)";

/** Discord's mentions as given, one space between them. */
export function discordMention(text: string): string {
  return text.trim().split(/ +/).join(" ");
}

/** `slack.mention` and `discord.mention` of a receiver. */
export const SLACK_MENTIONS = mentionSchema(SLACK_MENTION, SLACK_MENTION_FORMS);
export const DISCORD_MENTIONS = mentionSchema(DISCORD_MENTION, DISCORD_MENTION_FORMS);
