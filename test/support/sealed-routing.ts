/**
 * A team's routing that uses a receiver of every kind and email through SMTP: the config the
 * secret sweeps (test/scenarios/sealed.test.ts offline, test/cluster/sealed.test.ts on the real engine)
 * give so that every receiver secret is read. Its secrets: slackWebhookUrls.ops-slack,
 * discordWebhookUrls.ops-discord, webhookUrls.ops-webhook, pagerdutyRoutingKeys.ops-pagerduty,
 * opsgenieApiKeys.ops-opsgenie, teamsWebhookUrls.ops-teams, telegramBotTokens.ops-telegram,
 * pushoverUserKeys.ops-pushover, pushoverAppTokens.ops-pushover, jiraApiTokens.ops-jira and smtpPassword.
 */
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
