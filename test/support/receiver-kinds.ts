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
