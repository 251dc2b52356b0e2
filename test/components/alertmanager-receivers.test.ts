/**
 * Alertmanager's receiver kinds are one table (components/alertmanager/receivers.ts): the receiver's
 * schema, the secret keys, routing's problems, alertmanager.yml, the egress ports and the render's
 * summary all read its rows. Each kind here: a receiver of it, given in a stack, all the way through
 * to the config Alertmanager's own amtool checks.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { alertmanagerConfig, alertmanagerTemplates, receiverChannels, receiverPorts } from "../../components/alertmanager/config-file";
import { AnyReceiverKind, RECEIVER_KINDS, ReceiverKindName } from "../../components/alertmanager/receivers";
import { alertmanagerArgs } from "../../components/stack/args";
import { SECRET_KEYS, configKeyDocs } from "../../config";
import { checkConfig } from "../../scripts/lib/local/alertmanager";
import { parse, problems } from "../config/support";

const SMTP = { smarthost: "smtp.example.com:587", from: "alerts@example.com" };

/** A receiver of each kind, as a stack gives it, and what it renders: its secrets, its config, its channel, its port. */
const KINDS: Record<
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

const KIND_NAMES = Object.keys(RECEIVER_KINDS) as ReceiverKindName[];
const row = (kind: ReceiverKindName): AnyReceiverKind => RECEIVER_KINDS[kind];

/** A stack whose one receiver, `ops`, is of this kind (and the mail server when the kind needs it). */
function stackWith(kind: ReceiverKindName) {
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

test("every kind of the table is tried here, in the table's order", () => {
  expect(Object.keys(KINDS)).toEqual(KIND_NAMES);
});

test("the receiver's keys are its name, the table's kinds and sendResolved; each kind's docs line is its key's description", () => {
  const docs = configKeyDocs();
  const keys = docs.map((d) => d.key).filter((k) => /^alertmanager\.receivers\[\]\.[a-zA-Z]+$/.test(k));
  expect(keys).toEqual(["name", ...KIND_NAMES, "sendResolved"].map((k) => `alertmanager.receivers[].${k}`));
  for (const kind of KIND_NAMES) {
    expect(docs.find((d) => d.key === `alertmanager.receivers[].${kind}`)?.description).toBe(row(kind).docs);
  }
});

test("each kind's secret map is a secret key, read by receiver name, and a map given whole says how to give it", () => {
  const secretMaps = KIND_NAMES.flatMap((kind) => row(kind).secret?.key ?? []);
  expect(secretMaps.filter((key) => !(SECRET_KEYS as readonly string[]).includes(key))).toEqual([]);
  for (const key of secretMaps) {
    expect(problems("staging", {}, { [key]: "not-a-map" })).toEqual([
      expect.stringContaining(`monitoring:${key}: must be a map of receiver to `),
    ]);
  }
});

test("a receiver without any kind is told the kinds it may have", () => {
  expect(problems("staging", { alertmanager: { receivers: [{ name: "ops" }], defaultReceiver: "ops" } })).toEqual([
    `monitoring:alertmanager.receivers[0]: receiver "ops" has no integration: give it ${KIND_NAMES.slice(0, -1).join(", ")} or ${KIND_NAMES[KIND_NAMES.length - 1]}`,
  ]);
});

test.each(KIND_NAMES.filter((kind) => row(kind).secret))(
  "a receiver of kind %s is refused without its secret, naming the key to set",
  (kind) => {
    const key = row(kind).secret?.key ?? "";
    expect(problems("staging", stackWith(kind).plain)).toEqual([
      expect.stringMatching(
        new RegExp(`^monitoring:alertmanager\\.receivers\\[0\\]\\.${kind}: receiver "ops" needs .*--path '${key}\\.ops'`),
      ),
    ]);
  },
);

describe.each(KIND_NAMES)("a receiver of kind %s", (kind) => {
  test("renders into alertmanager.yml, the render's summary and the egress ports", () => {
    const { plain, secrets } = stackWith(kind);
    const { config } = parse("staging", plain, secrets);
    const args = alertmanagerArgs(config);
    const rendered = YAML.parse(YAML.stringify(alertmanagerConfig(args))) as { receivers: Array<Record<string, unknown>> };
    expect(rendered.receivers[0]).toEqual({ name: "ops", ...KINDS[kind].config });
    expect(receiverChannels(args.receivers, args.routing)).toEqual([{ name: "ops", channels: [KINDS[kind].channel] }]);
    expect(receiverPorts(args.receivers, args.routing)).toEqual(KINDS[kind].ports);
  });

  test("Alertmanager accepts it: amtool check-config on the config and its templates", () => {
    const { plain, secrets } = stackWith(kind);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `am-${kind}-`));
    try {
      const config = path.join(dir, "alertmanager.yml");
      fs.writeFileSync(config, YAML.stringify(alertmanagerConfig(alertmanagerArgs(parse("staging", plain, secrets).config))));
      for (const [file, text] of Object.entries(alertmanagerTemplates({ environment: "staging" }))) {
        fs.writeFileSync(path.join(dir, file), text);
      }
      const result = checkConfig(config);
      expect({ ok: result.ok, output: result.ok ? "" : result.output }).toEqual({ ok: true, output: "" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
