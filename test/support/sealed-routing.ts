/**
 * A team's routing that uses a receiver of every kind and email through SMTP: the config the
 * secret sweeps (test/scenarios/sealed.test.ts offline, test/cluster/sealed.test.ts on the real engine)
 * give so that every receiver secret is read. Its secrets: slackWebhookUrls.ops-slack,
 * discordWebhookUrls.ops-discord, webhookUrls.ops-webhook and smtpPassword.
 */
export const SEALED_ROUTING = {
  receivers: [
    { name: "ops-slack", slack: { channel: "#ops" } },
    { name: "ops-discord", discord: {} },
    { name: "ops-webhook", webhook: {} },
    { name: "ops-email", email: { to: ["ops@example.com"] } },
  ],
  routes: [
    { matchers: ['severity="critical"'], receiver: "ops-discord", continue: true },
    { matchers: ['team="web"'], receiver: "ops-webhook" },
    { matchers: ['team="mail"'], receiver: "ops-email" },
  ],
  defaultReceiver: "ops-slack",
  smtp: { smarthost: "smtp.example.com:587", from: "alerts@example.com", username: "alerts@example.com" },
};
