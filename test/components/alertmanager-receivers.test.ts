/**
 * Alertmanager's receiver kinds are one table (components/alertmanager/receivers.ts): the receiver's
 * schema, the secret keys, routing's problems, alertmanager.yml, the egress ports and the render's
 * summary all read its rows. Each kind here: a receiver of it, given in a stack, all the way through
 * to alertmanager.yml (test/e2e/alertmanager-receivers.test.ts has amtool check each).
 */
import * as YAML from "yaml";
import { alertmanagerConfig, receiverChannels, receiverPorts } from "../../components/alertmanager/config-file";
import { alertmanagerArgs } from "../../components/stack/args";
import { SECRET_KEYS, configKeyDocs } from "../../config";
import { parse, problems } from "../config/support";
import { ReceiverKindName } from "../../components/alertmanager/receivers";
import { KINDS, KIND_NAMES, row, stackWith } from "../support/receiver-kinds";

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
  const secretMaps = KIND_NAMES.flatMap((kind) => (row(kind).secrets ?? []).map((secret) => secret.key));
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

test.each(KIND_NAMES.filter((kind) => row(kind).secrets))(
  "a receiver of kind %s is refused without its secrets, naming each key to set",
  (kind) => {
    const keys = (row(kind).secrets ?? []).map((secret) => secret.key);
    expect(problems("staging", stackWith(kind).plain)).toEqual(
      keys.map((key) =>
        expect.stringMatching(
          new RegExp(`^monitoring:alertmanager\\.receivers\\[0\\]\\.${kind}: receiver "ops" needs .*--path '${key}\\.ops'`),
        ),
      ),
    );
    for (const key of keys) {
      const { plain, secrets } = stackWith(kind);
      const others = Object.fromEntries(Object.entries(secrets).filter(([k]) => k !== key));
      expect(problems("staging", plain, others)).toEqual([
        expect.stringMatching(new RegExp(`^monitoring:alertmanager\\.receivers\\[0\\]\\.${kind}: .*--path '${key}\\.ops'`)),
      ]);
    }
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
});

describe("what a kind refuses, keyed by the key to fix", () => {
  const given = (kind: ReceiverKindName, over: Record<string, unknown>, secrets?: Record<string, unknown>) => {
    const stack = stackWith(kind);
    return problems(
      "staging",
      {
        alertmanager: { ...stack.plain.alertmanager, receivers: [{ name: "ops", [kind]: { ...(KINDS[kind].given as object), ...over } }] },
      },
      secrets ?? stack.secrets,
    );
  };

  test("Teams: a retired Office 365 connector URL, told to create a Workflows webhook, its value not shown", () => {
    const url = "https://contoso.webhook.office.com/webhookb2/0000-1111@2222/IncomingWebhook/abcd/3333";
    expect(given("teams", {}, { teamsWebhookUrls: { ops: url } })).toEqual([
      expect.stringMatching(
        /^monitoring:teamsWebhookUrls\.ops: is a URL of the retired Office 365 connector .*create a Workflows webhook instead/,
      ),
    ]);
    expect(given("teams", {}, { teamsWebhookUrls: { ops: url } }).join("\n")).not.toContain("IncomingWebhook");
    expect(given("teams", {}, { teamsWebhookUrls: { ops: "https://outlook.office.com/webhook/abc" } })).toEqual([
      expect.stringMatching(/^monitoring:teamsWebhookUrls\.ops: is a URL of the retired Office 365 connector/),
    ]);
  });

  test("Opsgenie: a region other than us or eu", () => {
    expect(given("opsgenie", { region: "apac" })).toEqual([
      expect.stringMatching(/^monitoring:alertmanager\.receivers\[0\]\.opsgenie\.region: must be us or eu/),
    ]);
  });

  test.each([0, 1.5, "-100123"])("Telegram: chatId %p is not a chat id", (chatId) => {
    expect(given("telegram", { chatId })).toEqual([
      expect.stringMatching(/^monitoring:alertmanager\.receivers\[0\]\.telegram\.chatId: must be a Telegram chat id/),
    ]);
  });

  test("Telegram: a bot token not as BotFather gives it; text mode sends no parse mode", () => {
    expect(given("telegram", {}, { telegramBotTokens: { ops: "not-a-token" } })).toEqual([
      expect.stringMatching(/^monitoring:telegramBotTokens\.ops: must be a Telegram bot token/),
    ]);
    const { plain, secrets } = stackWith("telegram");
    const text = { alertmanager: { ...plain.alertmanager, receivers: [{ name: "ops", telegram: { chatId: 42, parseMode: "text" } }] } };
    const rendered = alertmanagerConfig(alertmanagerArgs(parse("staging", text, secrets).config)) as {
      receivers: Array<{ telegram_configs: Array<Record<string, unknown>> }>;
    };
    expect(rendered.receivers[0].telegram_configs[0]).toMatchObject({
      chat_id: 42,
      parse_mode: "",
      message: '{{ template "monitoring.title" . }}\n{{ template "monitoring.message" . }}',
    });
  });

  test("Jira: an API URL that is not the REST API's base, and a missing project", () => {
    expect(given("jira", { apiUrl: "https://example.atlassian.net/" })).toEqual([
      expect.stringMatching(/^monitoring:alertmanager\.receivers\[0\]\.jira\.apiUrl: must be Jira's REST API base .*\/rest\/api\/2/),
    ]);
    expect(given("jira", { project: undefined })).toEqual([
      expect.stringMatching(/^monitoring:alertmanager\.receivers\[0\]\.jira\.project: must be a Jira project key/),
    ]);
  });

  test("Jira without a user: the token is a bearer personal access token", () => {
    const { plain, secrets } = stackWith("jira");
    const noUser = {
      alertmanager: { ...plain.alertmanager, receivers: [{ name: "ops", jira: { ...(KINDS.jira.given as object), user: undefined } }] },
    };
    const rendered = alertmanagerConfig(alertmanagerArgs(parse("staging", noUser, secrets).config)) as {
      receivers: Array<{ jira_configs: Array<Record<string, unknown>> }>;
    };
    expect(rendered.receivers[0].jira_configs[0].http_config).toEqual({
      authorization: { type: "Bearer", credentials: "ATATT3xFfGF0-token" },
    });
  });

  test("Pushover: keys of anything but letters and digits, each keyed by its own map", () => {
    expect(given("pushover", {}, { pushoverUserKeys: { ops: "u-1" }, pushoverAppTokens: { ops: "a 2" } })).toEqual([
      expect.stringMatching(/^monitoring:pushoverUserKeys\.ops: must be a Pushover user or group key/),
      expect.stringMatching(/^monitoring:pushoverAppTokens\.ops: must be a Pushover application token/),
    ]);
  });

  test("Slack: a channel without its '#' is that channel, '#' added", () => {
    const { plain, secrets } = stackWith("slack");
    const bare = { alertmanager: { ...plain.alertmanager, receivers: [{ name: "ops", slack: { channel: "ops" } }] } };
    const args = alertmanagerArgs(parse("staging", bare, secrets).config);
    const rendered = alertmanagerConfig(args) as { receivers: Array<{ slack_configs: Array<{ channel: string }> }> };
    expect(rendered.receivers[0].slack_configs[0].channel).toBe("#ops");
    expect(receiverChannels(args.receivers, args.routing)).toEqual([{ name: "ops", channels: ["slack #ops"] }]);
  });
});

describe("mentions for critical alerts, per Slack or Discord receiver", () => {
  const withMention = (kind: "slack" | "discord", critical: unknown) => {
    const { plain, secrets } = stackWith(kind);
    const given = { ...(KINDS[kind].given as object), mention: { critical } };
    return { stack: { alertmanager: { ...plain.alertmanager, receivers: [{ name: "ops", [kind]: given }] } }, secrets };
  };
  const integration = (kind: "slack" | "discord", critical: string) => {
    const { stack, secrets } = withMention(kind, critical);
    const args = alertmanagerArgs(parse("staging", stack, secrets).config);
    const file = alertmanagerConfig(args) as { receivers: Array<Record<string, Array<Record<string, unknown>>>> };
    return { config: file.receivers[0][`${kind}_configs`][0], channels: receiverChannels(args.receivers, args.routing) };
  };
  const ONLY_FIRING_CRITICAL = (mention: string) =>
    `{{ if and (eq .Status "firing") (eq .CommonLabels.severity "critical") }}${mention}{{ end }}`;

  test("Slack: in the message's text, only for a firing critical group; @here written as Slack's API reads it; the summary says so", () => {
    const { config, channels } = integration("slack", "<!subteam^S0123ABCD>  @here");
    expect(config.message_text).toBe(ONLY_FIRING_CRITICAL("<!subteam^S0123ABCD> <!here>"));
    expect(config.text).toBe('{{ template "monitoring.message" . }}');
    expect(channels).toEqual([{ name: "ops", channels: ["slack #ops (critical mentions <!subteam^S0123ABCD> <!here>)"] }]);
  });

  test("Discord: in the webhook message's content, only for a firing critical group", () => {
    const { config, channels } = integration("discord", "<@&123456789012345678> @here");
    expect(config.content).toBe(ONLY_FIRING_CRITICAL("<@&123456789012345678> @here"));
    expect(channels).toEqual([{ name: "ops", channels: ["discord (critical mentions <@&123456789012345678> @here)"] }]);
  });

  test("without a mention, neither renders a message text or content", () => {
    const { plain, secrets } = stackWith("slack");
    const file = alertmanagerConfig(alertmanagerArgs(parse("staging", plain, secrets).config)) as {
      receivers: Array<{ slack_configs: Array<Record<string, unknown>> }>;
    };
    expect(Object.keys(file.receivers[0].slack_configs[0])).not.toContain("message_text");
  });

  test.each([
    ["slack", "@oncall", /must be one or more mentions separated by spaces, each @here, @channel, @everyone, <!subteam\^ID>/],
    ["slack", "<@&123456789012345678>", /<!subteam\^ID> \(a user group/],
    ["slack", "", /must be one or more mentions/],
    ["slack", 42, /must be one or more mentions/],
    ["discord", "<!subteam^S0123ABCD>", /must be one or more mentions separated by spaces, each @here, @everyone, <@&ID> \(a role/],
    ["discord", "@channel", /<@&ID> \(a role, its ID in digits\)/],
    ["discord", "<@&team-leads>", /<@ID> \(a user, its ID in digits\)/],
  ] as const)("%s refuses %p, naming the key and the forms allowed", (kind, critical, message) => {
    const { stack, secrets } = withMention(kind, critical);
    const found = problems("staging", stack, secrets);
    expect(found).toEqual([
      expect.stringMatching(new RegExp(`^monitoring:alertmanager\\.receivers\\[0\\]\\.${kind}\\.mention\\.critical: `)),
    ]);
    expect(found[0]).toMatch(message);
  });

  test("a mention for warnings is no key: only critical alerts call people in", () => {
    const { stack, secrets } = withMention("slack", "@here");
    (stack.alertmanager.receivers[0] as unknown as { slack: { mention: Record<string, string> } }).slack.mention.warning = "@here";
    expect(problems("staging", stack, secrets)).toEqual([
      "monitoring:alertmanager.receivers[0].slack.mention.warning: unknown key; allowed here: critical",
    ]);
  });
});

describe("a route on severity that can never match is refused, naming the severities there are", () => {
  const withRoute = (matchers: string[]) => {
    const { plain, secrets } = stackWith("webhook");
    return problems(
      "staging",
      { alertmanager: { ...plain.alertmanager, routes: [{ receiver: "ops", matchers: ['team="web"', ...matchers] }] } },
      secrets,
    );
  };
  const routeOk = (matchers: string[]) => {
    const { plain, secrets } = stackWith("webhook");
    return () => parse("staging", { alertmanager: { ...plain.alertmanager, routes: [{ receiver: "ops", matchers }] } }, secrets);
  };

  test.each([
    ['severity="page"', 'severity="page" never matches'],
    ["severity=page", 'severity="page" never matches'],
    ['severity=""', 'severity="" never matches'],
    // Alertmanager compares label values as they are: the stack's alerts say "critical", never "Critical".
    ['severity="Critical"', 'severity="Critical" never matches'],
    ['severity="WARNING"', 'severity="WARNING" never matches'],
    ['severity=~"Critical|Info"', 'severity=~"Critical|Info" matches none of them'],
    ['severity=~"crit"', 'severity=~"crit" matches none of them'],
    ['severity=~"P1|P2"', 'severity=~"P1|P2" matches none of them'],
  ])("%s", (m, why) => {
    expect(withRoute([m])).toEqual([
      `monitoring:alertmanager.routes[0].matchers[1]: matches no alert: the stack's alerts have the severity critical, warning, info${why.includes("never") ? ", so " : ", and "}${why}${why.includes("never") ? "; use one of them" : ""} (got ${JSON.stringify(m)})`,
    ]);
  });

  test.each([
    ['severity="critical"'],
    ['severity=~"crit.*|warning"'],
    ['severity=~"(?i)INFO"'],
    ['severity!="page"'],
    ['severity!~"info"'],
    ['team="page"'],
  ])("%s is taken", (m) => {
    expect(routeOk([m])).not.toThrow();
  });
});
