/**
 * A receiver of each kind of Alertmanager's receiver table (components/alertmanager/receivers.ts),
 * as a stack gives it, and what it renders: the fixture of test/components/alertmanager-receivers.test.ts
 * and test/e2e/alertmanager-receivers.test.ts.
 */
import { AnyReceiverKind, RECEIVER_KINDS, ReceiverKindName } from "../../components/alertmanager/receivers";

export const SMTP = { smarthost: "smtp.example.com:587", from: "alerts@example.com" };

/** A receiver of each kind, as a stack gives it, and what it renders: its secrets, its config, its channel, its port. */
export const KINDS: Record<
  ReceiverKindName,
  { given: unknown; secrets: Record<string, unknown>; config: Record<string, unknown>; channel: string; ports: number[] }
> = {
  slack: {
    given: { channel: "#ops" },
    secrets: { slackWebhookUrls: { ops: "https://hooks.slack.com/services/T0/B0/ops" } },
    config: {
      slack_configs: [
        {
          api_url: "https://hooks.slack.com/services/T0/B0/ops",
          channel: "#ops",
          title: '{{ template "monitoring.title" . }}',
          text: '{{ template "monitoring.message" . }}',
          color: '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
          send_resolved: true,
        },
      ],
    },
    channel: "slack #ops",
    ports: [443],
  },
  discord: {
    given: {},
    secrets: { discordWebhookUrls: { ops: "https://discord.com/api/webhooks/1/ops" } },
    config: {
      discord_configs: [
        {
          webhook_url: "https://discord.com/api/webhooks/1/ops",
          title: '{{ template "monitoring.title" . }}',
          message: '{{ template "monitoring.message" . }}',
          send_resolved: true,
        },
      ],
    },
    channel: "discord",
    ports: [443],
  },
  webhook: {
    given: {},
    secrets: { webhookUrls: { ops: "http://pager.tools.svc:8080/hook" } },
    config: { webhook_configs: [{ url: "http://pager.tools.svc:8080/hook", send_resolved: true }] },
    channel: "webhook",
    ports: [8080],
  },
  email: {
    given: { to: ["ops@example.com", "oncall@example.com"] },
    secrets: {},
    config: {
      email_configs: [
        {
          to: "ops@example.com, oncall@example.com",
          headers: { Subject: '{{ template "monitoring.title" . }}' },
          text: '{{ template "monitoring.message" . }}',
          send_resolved: true,
        },
      ],
    },
    channel: "email ops@example.com, oncall@example.com",
    ports: [587],
  },
  pagerduty: {
    given: {},
    secrets: { pagerdutyRoutingKeys: { ops: "0123456789abcdef0123456789abcdef" } },
    config: {
      pagerduty_configs: [
        {
          routing_key: "0123456789abcdef0123456789abcdef",
          url: "https://events.pagerduty.com/v2/enqueue",
          description: '{{ template "monitoring.title" . }}',
          severity:
            '{{ if eq .CommonLabels.severity "critical" }}critical{{ else if eq .CommonLabels.severity "warning" }}warning{{ else if eq .CommonLabels.severity "info" }}info{{ else }}warning{{ end }}',
          details: { message: '{{ template "monitoring.message" . }}' },
          send_resolved: true,
        },
      ],
    },
    channel: "pagerduty",
    ports: [443],
  },
  opsgenie: {
    given: { region: "eu" },
    secrets: { opsgenieApiKeys: { ops: "00000000-1111-2222-3333-444444444444" } },
    config: {
      opsgenie_configs: [
        {
          api_key: "00000000-1111-2222-3333-444444444444",
          api_url: "https://api.eu.opsgenie.com/",
          message: '{{ template "monitoring.title" . }}',
          description: '{{ template "monitoring.message" . }}',
          priority:
            '{{ if eq .CommonLabels.severity "critical" }}P1{{ else if eq .CommonLabels.severity "warning" }}P3{{ else if eq .CommonLabels.severity "info" }}P5{{ else }}P3{{ end }}',
          send_resolved: true,
        },
      ],
    },
    channel: "opsgenie eu",
    ports: [443],
  },
  teams: {
    given: {},
    secrets: {
      teamsWebhookUrls: { ops: "https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x" },
    },
    config: {
      msteamsv2_configs: [
        {
          webhook_url: "https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x",
          title: '{{ template "monitoring.title" . }}',
          text: '{{ template "monitoring.message" . }}',
          send_resolved: true,
        },
      ],
    },
    channel: "teams",
    ports: [443],
  },
  telegram: {
    given: { chatId: -1001234567890 },
    secrets: { telegramBotTokens: { ops: "123456789:AAbbCCdd_ee-FF" } },
    config: {
      telegram_configs: [
        {
          bot_token: "123456789:AAbbCCdd_ee-FF",
          chat_id: -1001234567890,
          parse_mode: "HTML",
          message: '<b>{{ template "monitoring.title" . }}</b>\n{{ template "monitoring.message" . }}',
          send_resolved: true,
        },
      ],
    },
    channel: "telegram -1001234567890",
    ports: [443],
  },
  pushover: {
    given: {},
    secrets: {
      pushoverUserKeys: { ops: "uQiRzpo4DXghDmr9QzzfQu27cmVRsG" },
      pushoverAppTokens: { ops: "azGDORePK8gMaC0QOYAMyEEuzJnyUi" },
    },
    config: {
      pushover_configs: [
        {
          user_key: "uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
          token: "azGDORePK8gMaC0QOYAMyEEuzJnyUi",
          title: '{{ template "monitoring.title" . }}',
          message: '{{ template "monitoring.message" . }}',
          priority:
            '{{ if eq .CommonLabels.severity "critical" }}1{{ else if eq .CommonLabels.severity "warning" }}0{{ else if eq .CommonLabels.severity "info" }}-1{{ else }}0{{ end }}',
          send_resolved: true,
        },
      ],
    },
    channel: "pushover",
    ports: [443],
  },
  jira: {
    given: {
      apiUrl: "https://example.atlassian.net/rest/api/2",
      project: "OPS",
      issueType: "Bug",
      user: "alerts@example.com",
      resolveTransition: "Done",
      reopenTransition: "Reopen",
    },
    secrets: { jiraApiTokens: { ops: "ATATT3xFfGF0-token" } },
    config: {
      jira_configs: [
        {
          api_url: "https://example.atlassian.net/rest/api/2",
          project: "OPS",
          issue_type: "Bug",
          summary: '{{ template "monitoring.title" . }}',
          description: '{{ template "monitoring.message" . }}',
          resolve_transition: "Done",
          reopen_transition: "Reopen",
          http_config: { basic_auth: { username: "alerts@example.com", password: "ATATT3xFfGF0-token" } },
          send_resolved: true,
        },
      ],
    },
    channel: "jira OPS",
    ports: [443],
  },
};

export const KIND_NAMES = Object.keys(RECEIVER_KINDS) as ReceiverKindName[];
export const row = (kind: ReceiverKindName): AnyReceiverKind => RECEIVER_KINDS[kind];

/** A stack whose one receiver, `ops`, is of this kind (and the mail server when the kind needs it). */
export function stackWith(kind: ReceiverKindName) {
  const needsSmtp = row(kind).needs?.field === "smtp";
  return {
    plain: {
      alertmanager: {
        receivers: [{ name: "ops", [kind]: KINDS[kind].given }],
        defaultReceiver: "ops",
        ...(needsSmtp ? { smtp: SMTP } : {}),
      },
    },
    secrets: KINDS[kind].secrets,
  };
}
