/**
 * A team's routing that uses a receiver of every kind and email through SMTP: the config the
 * secret sweeps (test/scenarios/sealed.test.ts offline, test/cluster/sealed.test.ts on the real engine)
 * give so that every receiver secret is read. Its secrets (SEALED_ROUTING_SECRETS) are derived from
 * the receiver kinds' table: each receiver's kind's secret maps at the receiver's name
 * (slackWebhookUrls.ops-slack, pushoverUserKeys.ops-pushover, …), and smtpPassword for the SMTP login.
 */
import { z } from "zod";
import { RECEIVER_KIND_ROWS } from "../../components/alertmanager/receivers";

export const SEALED_ROUTING = {
  receivers: [
    { name: "ops-slack", slack: { channel: "#ops" } },
    { name: "ops-discord", discord: {} },
    { name: "ops-webhook", webhook: {} },
    { name: "ops-email", email: { to: ["ops@example.com"] } },
    { name: "ops-pagerduty", pagerduty: {} },
    { name: "ops-opsgenie", opsgenie: { region: "eu" } },
    { name: "ops-teams", teams: {} },
    { name: "ops-telegram", telegram: { chatId: -1001234567890 } },
    { name: "ops-pushover", pushover: {} },
    {
      name: "ops-jira",
      jira: { apiUrl: "https://example.atlassian.net/rest/api/2", project: "OPS", issueType: "Bug", user: "alerts@example.com" },
    },
  ],
  routes: [
    { matchers: ['severity="critical"'], receiver: "ops-discord", continue: true },
    { matchers: ['team="web"'], receiver: "ops-webhook" },
    { matchers: ['team="mail"'], receiver: "ops-email" },
    { matchers: ['team="oncall"'], receiver: "ops-pagerduty" },
    { matchers: ['team="opsgenie"'], receiver: "ops-opsgenie" },
    { matchers: ['team="teams"'], receiver: "ops-teams" },
    { matchers: ['team="telegram"'], receiver: "ops-telegram" },
    { matchers: ['team="pushover"'], receiver: "ops-pushover" },
    { matchers: ['team="jira"'], receiver: "ops-jira" },
  ],
  defaultReceiver: "ops-slack",
  smtp: { smarthost: "smtp.example.com:587", from: "alerts@example.com", username: "alerts@example.com" },
};

/** A secret path a sweep sets (`pulumi config set --path` names it), with the schema its value must pass. */
export interface SweptSecret {
  path: string;
  schema: z.ZodType<string>;
}

/**
 * The secrets SEALED_ROUTING reads: for each receiver, its kind's secret maps (RECEIVER_KINDS) at
 * its name; and the SMTP login's password, since a kind sends through alertmanager.smtp and the
 * routing gives smtp a username.
 */
export const SEALED_ROUTING_SECRETS: SweptSecret[] = [
  ...SEALED_ROUTING.receivers.flatMap((receiver) =>
    RECEIVER_KIND_ROWS.filter(([kind]) => kind in receiver).flatMap(([, row]) =>
      (row.secrets ?? []).map((secret) => ({ path: `${secret.key}.${receiver.name}`, schema: secret.schema })),
    ),
  ),
  ...(SEALED_ROUTING.smtp.username !== undefined &&
  RECEIVER_KIND_ROWS.some(([kind, row]) => row.needs?.field === "smtp" && SEALED_ROUTING.receivers.some((r) => kind in r))
    ? [{ path: "smtpPassword", schema: z.string() }]
    : []),
];

/**
 * A value for a swept secret that carries `mark` (letters and digits) whole: the mark itself, or a URL
 * or a Telegram token around it, the first its schema takes.
 */
export function sweptValue(secret: SweptSecret, mark: string): string {
  const shapes = [mark, `https://hooks.example.com/${mark}`, `123456789:${mark}`];
  const value = shapes.find((v) => secret.schema.safeParse(v).success);
  if (value === undefined) throw new Error(`no swept value of ${secret.path} passes its schema: ${shapes.join(", ")}`);
  return value;
}
