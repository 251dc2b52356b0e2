/** The receivers' URLs and --set arguments the Alertmanager tests give the real stacks. */

export const URLS = {
  discord: "https://discord.com/api/webhooks/111/monitoring-token",
  discordCritical: "https://discord.com/api/webhooks/222/critical-token",
  slack: "https://hooks.slack.com/services/T000/B000/slack-token",
  webhook: "https://alerts.example.com/hook-token",
  deadMansSwitch: "https://hc-ping.com/dead-mans-switch-token",
};

/** The --set arguments that give a real stack every receiver. */
export const ALL_RECEIVER_SETS = [
  `discordWebhookUrl=${URLS.discord}`,
  `discordCriticalWebhookUrl=${URLS.discordCritical}`,
  `webhookUrl=${URLS.webhook}`,
  `deadMansSwitchUrl=${URLS.deadMansSwitch}`,
];

/** Seed 001 posted the deployment system's services, the apps it deployed and the infrastructure to their own Slack channels. */
export const SEED_001_HOOKS = {
  "alerts-critical": "https://hooks.slack.com/services/T001/B001/critical-token",
  deployment: "https://hooks.slack.com/services/T001/B002/deployment-token",
  applications: "https://hooks.slack.com/services/T001/B003/applications-token",
  infrastructure: "https://hooks.slack.com/services/T001/B004/infrastructure-token",
};
export const SMTP_PASSWORD = "smtp-password-token";
export const SEED_001_SETS = [
  "alertmanager.receivers=[" +
    '{name: alerts-critical, slack: {channel: "#alerts-critical"}},' +
    '{name: deployment, slack: {channel: "#deployment"}},' +
    '{name: applications, slack: {channel: "#applications"}},' +
    '{name: infrastructure, slack: {channel: "#infrastructure"}, email: {to: ["ops@example.com"]}}]',
  "alertmanager.routes=[" +
    "{matchers: ['severity=\"critical\"'], receiver: alerts-critical, continue: true}," +
    "{matchers: ['app=~\"deployment-api|port-manager|tunnel-manager\"'], receiver: deployment}," +
    "{matchers: ['app=~\"app-.+\"'], receiver: applications, repeatInterval: 12h}," +
    "{matchers: ['namespace=\"deployed-apps\"'], receiver: applications}]",
  "alertmanager.defaultReceiver=infrastructure",
  'alertmanager.smtp={smarthost: "smtp.example.com:587", from: "alerts@example.com", username: "alerts@example.com"}',
  `smtpPassword=${SMTP_PASSWORD}`,
  ...Object.entries(SEED_001_HOOKS).map(([name, url]) => `slackWebhookUrls.${name}=${url}`),
  `deadMansSwitchUrl=${URLS.deadMansSwitch}`,
];
