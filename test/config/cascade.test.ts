/**
 * One mistake, one problem: a typo in a section's name gives its "did you mean" and none of the
 * follow-on problems of the section it meant (each of which said to remove a valid secret); a
 * receiver name given twice is refused once, without advice for the second receiver's secrets; a receiver refused in part is not also "no receiver sends email".
 */
import { problems } from "./support";

const HOOK = (n: number) => `https://hooks.slack.com/services/T000/B000/${"x".repeat(20)}${n}`;
const receivers = [
  { name: "oncall", pagerduty: {} },
  { name: "team", slack: { channel: "#team" } },
  { name: "ops", opsgenie: { region: "eu" } },
  { name: "chat", teams: {} },
  { name: "tg", telegram: { chatId: 12345 } },
];
const alertmanager = { receivers, routes: [{ matchers: ['severity="critical"'], receiver: "oncall" }], defaultReceiver: "team" };
const secrets = {
  slackWebhookUrls: { team: HOOK(1) },
  pagerdutyRoutingKeys: { oncall: "a".repeat(32) },
  opsgenieApiKeys: { ops: "an-api-key" },
  teamsWebhookUrls: { chat: "https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x" },
  telegramBotTokens: { tg: "123456:an-api-token" },
};

describe("no cascade", () => {
  test("a typo in a section's name: its did-you-mean alone, no advice to remove the section's valid secrets", () => {
    expect(problems("staging", { alertmanger: alertmanager }, secrets)).toEqual([
      expect.stringMatching(/^monitoring:alertmanger: unknown key \(did you mean "alertmanager"\?\); allowed here: /),
    ]);
  });

  test("a typo in a key inside a section: its did-you-mean alone", () => {
    const { receivers: given, ...rest } = alertmanager;
    expect(problems("staging", { alertmanager: { ...rest, recievers: given } }, secrets)).toEqual([
      expect.stringMatching(/^monitoring:alertmanager\.recievers: unknown key \(did you mean "receivers"\?\); allowed here: /),
    ]);
  });

  test("a receiver name given twice: one problem, no advice to set a secret for the second", () => {
    const twice = { ...alertmanager, receivers: [...receivers, { name: "team", pagerduty: {} }] };
    expect(problems("staging", { alertmanager: twice }, secrets)).toEqual([
      'monitoring:alertmanager.receivers[5].name: receiver name "team" is used more than once (first at alertmanager.receivers[1]); names must be unique',
    ]);
  });

  test('a malformed receiver: its own problem alone, not the SMTP settings\' "no receiver sends email"', () => {
    const smtp = { smarthost: "smtp.example.com:587", from: "alerts@example.com", username: "alerts@example.com" };
    const mail = (to: unknown) => ({ ...alertmanager, receivers: [...receivers, { name: "mail", email: { to } }], smtp });
    const withPassword = { ...secrets, smtpPassword: "an-smtp-password" };
    expect(problems("staging", { alertmanager: mail("ops@example.com") }, withPassword)).toEqual([
      'monitoring:alertmanager.receivers[5].email.to: must be a list of email addresses (got "ops@example.com")',
    ]);
    // Without a receiver that sends email, the settings are still refused.
    expect(problems("staging", { alertmanager: { ...alertmanager, smtp } }, withPassword)).toEqual([
      "monitoring:alertmanager.smtp: is set, but no receiver sends email: give one an `email: {to: [...]}`, or remove alertmanager.smtp",
    ]);
  });

  test("the section it meant is still checked when it is there too", () => {
    const found = problems("staging", { alertmanager: { ...alertmanager, defaultReceiver: "ghost" } }, secrets);
    expect(found).toEqual([expect.stringMatching(/^monitoring:alertmanager\.defaultReceiver: must name a receiver/)]);
  });
});
