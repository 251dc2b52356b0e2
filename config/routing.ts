/** Alertmanager routing a team gives itself: named receivers, routes, the default receiver and the mail server. */
import { AlertReceiver, AlertRoute, AlertRouting } from "../components/alertmanager/args";
import { parseMatcher } from "../components/kit/fields";
import { duplicates } from "../components/kit/problems";
import { CrossProblem } from "./problems";
import { RawConfig, RawStackConfig } from "./schema";

/** Integrations whose address is a secret map keyed by receiver name. */
const RECEIVER_SECRETS = [
  { integration: "slack", key: "slackWebhookUrls", what: "its Slack webhook (one per channel: a Slack app webhook ignores `channel`)" },
  { integration: "discord", key: "discordWebhookUrls", what: "its Discord webhook" },
  { integration: "webhook", key: "webhookUrls", what: "its webhook URL" },
] as const;

/** The legacy receiver keys, which feed the default tree only. */
const LEGACY_RECEIVER_KEYS = ["discordWebhookUrl", "discordCriticalWebhookUrl", "webhookUrl"] as const;

/**
 * The team's own routing, from alertmanager.receivers, routes, defaultReceiver, smtp and the
 * receivers' secrets; undefined without receivers (the default tree). Problems name the full key.
 */
export function resolveRouting(rawConfig: RawConfig, raw: RawStackConfig, problems: CrossProblem[]): AlertRouting | undefined {
  const k = (path: string) => `${rawConfig.project}:${path}`;
  const am = raw.alertmanager ?? {};
  const rawReceivers = am.receivers;
  const secretMaps = {
    slackWebhookUrls: raw.slackWebhookUrls ?? {},
    discordWebhookUrls: raw.discordWebhookUrls ?? {},
    webhookUrls: raw.webhookUrls ?? {},
  };
  const smtp = am.smtp;
  if (smtp?.username !== undefined && raw.smtpPassword === undefined) {
    problems.push({
      key: k("alertmanager.smtp.username"),
      message: "is set, so the password is needed: pulumi config set --secret smtpPassword <value>",
      involves: [k("smtpPassword")],
    });
  }
  if (raw.smtpPassword !== undefined && smtp?.username === undefined) {
    problems.push({
      key: k("smtpPassword"),
      message: "is only sent with a user name: set alertmanager.smtp.username, or remove it with: pulumi config rm smtpPassword",
      involves: [k("alertmanager.smtp")],
    });
  }
  if (rawReceivers === undefined) {
    for (const key of ["routes", "defaultReceiver", "smtp"] as const) {
      if (am[key] !== undefined) {
        problems.push({
          key: k(`alertmanager.${key}`),
          message: "needs alertmanager.receivers: routes, the default receiver and the mail server are for named receivers",
          involves: [k("alertmanager.receivers")],
        });
      }
    }
    for (const { key } of RECEIVER_SECRETS) {
      for (const name of Object.keys(secretMaps[key])) {
        problems.push({
          key: k(`${key}.${name}`),
          message: `is for the receiver "${name}" of alertmanager.receivers, which has none; add it there, or remove this with: pulumi config rm --path '${key}.${name}'`,
          involves: [k("alertmanager.receivers")],
        });
      }
    }
    return undefined;
  }

  for (const key of LEGACY_RECEIVER_KEYS) {
    if (raw[key] === undefined) continue;
    const how = key === "webhookUrl" ? "webhook: {} and webhookUrls.<receiver>" : "discord: {} and discordWebhookUrls.<receiver>";
    problems.push({
      key: k(key),
      message:
        `feeds the default critical/warning split, which alertmanager.receivers replaces: give its address to a receiver ` +
        `(${how}), then remove it with: pulumi config rm ${key}`,
      involves: [k("alertmanager.receivers")],
    });
  }

  const names = rawReceivers.map((r) => r.name);
  // What a name check reads: the names alone, so that a refused address elsewhere in a receiver does not hide it.
  const nameKeys = rawReceivers.map((_, i) => k(`alertmanager.receivers[${i}].name`));
  for (const name of duplicates(names)) {
    problems.push({ key: k("alertmanager.receivers"), message: `receiver name "${name}" is used more than once; names must be unique` });
  }
  const receivers: AlertReceiver[] = rawReceivers.map((r, i) => {
    const at = `alertmanager.receivers[${i}]`;
    if (r.name === "deadmans-switch" || r.name === "null") {
      problems.push({
        key: k(`${at}.name`),
        message: `is a receiver the stack keeps for the Watchdog (deadmans-switch, null); choose another name (got "${r.name}")`,
      });
    }
    if (!r.slack && !r.discord && !r.webhook && !r.email) {
      problems.push({ key: k(at), message: `receiver "${r.name}" has no integration: give it slack, discord, webhook or email` });
    }
    const address = (integration: (typeof RECEIVER_SECRETS)[number]["integration"]) => {
      const spec = RECEIVER_SECRETS.find((s) => s.integration === integration);
      if (!spec || !r[integration]) return undefined;
      const value = secretMaps[spec.key][r.name];
      if (value === undefined) {
        problems.push({
          key: k(`${at}.${integration}`),
          message: `receiver "${r.name}" needs ${spec.what}: pulumi config set --secret --path '${spec.key}.${r.name}' <url>`,
          involves: [k(`${spec.key}.${r.name}`)],
        });
      }
      return value ?? "";
    };
    if (r.email && !smtp) {
      problems.push({
        key: k(`${at}.email`),
        message: `receiver "${r.name}" sends email, so alertmanager.smtp must say through which server (smarthost, from)`,
        involves: [k("alertmanager.smtp")],
      });
    }
    const slackUrl = address("slack");
    const discordUrl = address("discord");
    const webhookUrl = address("webhook");
    return {
      name: r.name,
      ...(r.slack && slackUrl !== undefined ? { slack: { channel: r.slack.channel, webhookUrl: slackUrl } } : {}),
      ...(discordUrl !== undefined ? { discord: { webhookUrl: discordUrl } } : {}),
      ...(webhookUrl !== undefined ? { webhook: { url: webhookUrl } } : {}),
      ...(r.email ? { email: { to: r.email.to } } : {}),
      sendResolved: r.sendResolved ?? true,
    };
  });
  for (const { integration, key } of RECEIVER_SECRETS) {
    for (const name of Object.keys(secretMaps[key])) {
      if (rawReceivers.some((r) => r.name === name && r[integration])) continue;
      problems.push({
        key: k(`${key}.${name}`),
        message: rawReceivers.some((r) => r.name === name)
          ? `is for receiver "${name}", which has no ${integration}: add \`${integration}\` to it, or remove this with: pulumi config rm --path '${key}.${name}'`
          : `names no receiver of alertmanager.receivers (${names.join(", ")}); add it there, or remove this with: pulumi config rm --path '${key}.${name}'`,
        involves: nameKeys,
      });
    }
  }
  if (smtp && !rawReceivers.some((r) => r.email)) {
    problems.push({
      key: k("alertmanager.smtp"),
      message: "is set, but no receiver sends email: give one an `email: {to: [...]}`, or remove alertmanager.smtp",
      involves: nameKeys,
    });
  }

  const known = (name: string) => names.includes(name);
  const defaultReceiver = am.defaultReceiver;
  if (defaultReceiver === undefined) {
    problems.push({
      key: k("alertmanager.defaultReceiver"),
      message: `is required with alertmanager.receivers: the receiver of the alerts no route takes, one of ${names.join(", ")} (got nothing)`,
      involves: nameKeys,
    });
  } else if (!known(defaultReceiver)) {
    problems.push({
      key: k("alertmanager.defaultReceiver"),
      message: `must name a receiver of alertmanager.receivers (${names.join(", ")}) (got "${defaultReceiver}")`,
      involves: nameKeys,
    });
  }
  const routes: AlertRoute[] = (am.routes ?? []).map((r, i) => {
    if (!known(r.receiver)) {
      problems.push({
        key: k(`alertmanager.routes[${i}].receiver`),
        message: `must name a receiver of alertmanager.receivers (${names.join(", ")}) (got "${r.receiver}")`,
        involves: nameKeys,
      });
    }
    return {
      receiver: r.receiver,
      matchers: (r.matchers ?? []).map((m) => {
        const parsed = parseMatcher(m);
        return "matcher" in parsed ? parsed.matcher : m;
      }),
      continue: r.continue ?? false,
      ...(r.groupBy ? { groupBy: r.groupBy } : {}),
      ...(r.groupWait ? { groupWait: r.groupWait } : {}),
      ...(r.groupInterval ? { groupInterval: r.groupInterval } : {}),
      ...(r.repeatInterval ? { repeatInterval: r.repeatInterval } : {}),
    };
  });
  return {
    receivers,
    routes,
    defaultReceiver: defaultReceiver ?? "",
    ...(smtp
      ? {
          smtp: {
            smarthost: smtp.smarthost,
            from: smtp.from,
            ...(smtp.username !== undefined ? { username: smtp.username } : {}),
            ...(raw.smtpPassword !== undefined ? { password: raw.smtpPassword } : {}),
            requireTls: smtp.requireTls ?? true,
          },
        }
      : {}),
  };
}
