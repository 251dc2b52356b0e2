/** Alertmanager routing a team gives itself: named receivers, routes, the mail server (components/alertmanager/routing.ts). */
import { parse, problems } from "./support";

describe("alert routing: named receivers, routes, email", () => {
  const HOOK = (n: number) => `https://hooks.slack.com/services/T0/B0/${n}`;
  /** Seed 001's channels: the deployment system's services, the apps it deploys, and the infrastructure. */
  const SEED_001 = {
    alertmanager: {
      receivers: [
        { name: "deployment", slack: { channel: "#deployment" } },
        { name: "applications", slack: { channel: "#applications" } },
        { name: "infrastructure", slack: { channel: "#infrastructure" }, email: { to: ["ops@example.com"] } },
      ],
      routes: [
        { matchers: ['app=~"deployment-api|port-manager|tunnel-manager"'], receiver: "deployment" },
        {
          matchers: ["app =~ app-.+", 'severity!="info"', 'team=~"(?i)apps"'],
          receiver: "applications",
          continue: true,
          repeatInterval: "12h",
        },
      ],
      defaultReceiver: "infrastructure",
      smtp: { smarthost: "smtp.example.com:587", from: "alerts@example.com", username: "alerts@example.com" },
    },
  };
  const SEED_001_SECRETS = {
    slackWebhookUrls: { deployment: HOOK(1), applications: HOOK(2), infrastructure: HOOK(3) },
    smtpPassword: "smtp-password",
  };
  const withAm = (am: Record<string, unknown>) => ({ alertmanager: { ...SEED_001.alertmanager, ...am } });

  test("receivers take their webhooks from secret maps by name, matchers are written in one form, the mail server needs TLS", () => {
    const { config } = parse("staging", SEED_001, SEED_001_SECRETS);
    expect(config.alertmanager.routing).toEqual({
      receivers: [
        { name: "deployment", slack: { channel: "#deployment", webhookUrl: HOOK(1) }, sendResolved: true },
        { name: "applications", slack: { channel: "#applications", webhookUrl: HOOK(2) }, sendResolved: true },
        {
          name: "infrastructure",
          slack: { channel: "#infrastructure", webhookUrl: HOOK(3) },
          email: { to: ["ops@example.com"] },
          sendResolved: true,
        },
      ],
      routes: [
        { receiver: "deployment", matchers: ['app=~"deployment-api|port-manager|tunnel-manager"'], continue: false },
        {
          receiver: "applications",
          matchers: ['app=~"app-.+"', 'severity!="info"', 'team=~"(?i)apps"'],
          continue: true,
          repeatInterval: "12h",
        },
      ],
      defaultReceiver: "infrastructure",
      smtp: {
        smarthost: "smtp.example.com:587",
        from: "alerts@example.com",
        username: "alerts@example.com",
        password: "smtp-password",
        requireTls: true,
      },
    });
  });

  test("each mistake is one clear problem naming its full key", () => {
    expect(
      problems(
        "staging",
        withAm({
          receivers: [
            { name: "deployment", slack: { channel: "#deployment" } },
            { name: "empty" },
            { name: "infrastructure", email: { to: ["ops@example.com", "not-an-address"] } },
          ],
          routes: [
            { matchers: ['app=~"deployment-api"'], receiver: "deploy" },
            { matchers: ["app is api"], receiver: "deployment" },
            { matchers: ['app=~"(?!api)"'], receiver: "deployment" },
          ],
          smtp: { smarthost: "smtp.example.com", from: "alerts@example.com" },
        }),
        { slackWebhookUrls: { applications: HOOK(2) } },
      ),
    ).toEqual([
      'monitoring:alertmanager.receivers[2].email.to[1]: must be an email address (got "not-an-address")',
      'monitoring:alertmanager.routes[1].matchers[0]: must be a matcher such as severity="critical", app=~"api|web" or team!="platform": a label name, one of = != =~ !~, and a value (got "app is api")',
      'monitoring:alertmanager.routes[2].matchers[0]: has a regular expression with lookaround or a backreference, which Alertmanager\'s (Go RE2) does not have (got "app=~\\"(?!api)\\"")',
      'monitoring:alertmanager.smtp.smarthost: must be host:port such as smtp.example.com:587 (the port is required, 1-65535) (got "smtp.example.com")',
      "monitoring:alertmanager.receivers[0].slack: receiver \"deployment\" needs its Slack webhook (one per channel: a Slack app webhook ignores `channel`): pulumi config set --secret --path 'slackWebhookUrls.deployment' <url>",
      'monitoring:alertmanager.receivers[1]: receiver "empty" has no integration: give it slack, discord, webhook, email, pagerduty, opsgenie, teams, telegram, pushover or jira',
      "monitoring:slackWebhookUrls.applications: names no receiver of alertmanager.receivers (deployment, empty, infrastructure); add it there, or remove this with: pulumi config rm --path 'slackWebhookUrls.applications'",
      'monitoring:alertmanager.routes[0].receiver: must name a receiver of alertmanager.receivers (deployment, empty, infrastructure) (got "deploy")',
    ]);
  });

  test("a receiver's email needs the mail server, a user needs the password, and routes need receivers", () => {
    expect(problems("staging", withAm({ smtp: undefined }), SEED_001_SECRETS)).toEqual([
      "monitoring:smtpPassword: is only sent with a user name: set alertmanager.smtp.username, or remove it with: pulumi config rm smtpPassword",
      'monitoring:alertmanager.receivers[2].email: receiver "infrastructure" sends email, so alertmanager.smtp must say through which server (smarthost, from)',
    ]);
    expect(problems("staging", SEED_001, { slackWebhookUrls: SEED_001_SECRETS.slackWebhookUrls })).toEqual([
      "monitoring:alertmanager.smtp.username: is set, so the password is needed: pulumi config set --secret smtpPassword <value>",
    ]);
    expect(problems("staging", withAm({ defaultReceiver: undefined }), SEED_001_SECRETS)).toEqual([
      "monitoring:alertmanager.defaultReceiver: is required with alertmanager.receivers: the receiver of the alerts no route takes, one of deployment, applications, infrastructure (got nothing)",
    ]);
    expect(problems("staging", { alertmanager: { routes: SEED_001.alertmanager.routes } }, { slackWebhookUrls: { ops: HOOK(1) } })).toEqual(
      [
        "monitoring:alertmanager.routes: needs alertmanager.receivers: routes, the default receiver and the mail server are for named receivers",
        "monitoring:slackWebhookUrls.ops: is for the receiver \"ops\" of alertmanager.receivers, which has none; add it there, or remove this with: pulumi config rm --path 'slackWebhookUrls.ops'",
      ],
    );
    expect(
      problems("staging", withAm({ receivers: [{ name: "null", webhook: {} }], defaultReceiver: "null", routes: [] }), {
        webhookUrls: { null: HOOK(1) },
        smtpPassword: "smtp-password",
      }),
    ).toEqual([
      'monitoring:alertmanager.receivers[0].name: is a receiver the stack keeps for the Watchdog (deadmans-switch, null); choose another name (got "null")',
      "monitoring:alertmanager.smtp: is set, but no receiver sends email: give one an `email: {to: [...]}`, or remove alertmanager.smtp",
    ]);
  });

  test("a receiver no route names and that is not the default deploys, with a warning naming it", () => {
    const { warnings } = parse("staging", withAm({ receivers: [...SEED_001.alertmanager.receivers, { name: "spare", webhook: {} }] }), {
      ...SEED_001_SECRETS,
      webhookUrls: { spare: HOOK(4) },
    });
    expect(warnings).toEqual([
      'monitoring:alertmanager.receivers[3]: receiver "spare" gets no alert: no route names it, and it is not the defaultReceiver.',
    ]);
    // The key is the receiver's own place in the list; the default receiver and the routes' receivers get none.
    const [deployment, ...rest] = SEED_001.alertmanager.receivers;
    const spareSecond = parse("staging", withAm({ receivers: [deployment, { name: "spare", webhook: {} }, ...rest] }), {
      ...SEED_001_SECRETS,
      webhookUrls: { spare: HOOK(4) },
    });
    expect(spareSecond.warnings).toEqual([
      'monitoring:alertmanager.receivers[1]: receiver "spare" gets no alert: no route names it, and it is not the defaultReceiver.',
    ]);
  });

  test("a production stack without a dead man's switch warns that nobody is told when the node or Prometheus dies, unless it opts out", () => {
    const unwatched = (stack: string, plain: Record<string, unknown>, secrets: Record<string, unknown> = {}) =>
      parse(stack, plain, secrets).warnings.filter((w) => w.startsWith("monitoring:alertmanager.deadMansSwitch"));
    expect(unwatched("production", {})).toEqual([
      "monitoring:alertmanager.deadMansSwitch: no dead man's switch: the Watchdog alert reaches nobody, so when the node or Prometheus dies, nobody is told. " +
        "Give it one that alarms when the pings stop (healthchecks.io, Dead Man's Snitch): pulumi config set --secret deadMansSwitchUrl <url>; " +
        "or go without, knowingly: pulumi config set --path alertmanager.deadMansSwitch false.",
    ]);
    // With the team's own routing too: the switch is read in both trees.
    expect(unwatched("production", SEED_001, SEED_001_SECRETS)).toHaveLength(1);
    expect(unwatched("production", {}, { deadMansSwitchUrl: "https://hc-ping.com/x" })).toEqual([]);
    expect(unwatched("production", { alertmanager: { deadMansSwitch: false } })).toEqual([]);
    // Staging expects none, unless it asks to.
    expect(unwatched("staging", {})).toEqual([]);
    expect(unwatched("staging", { alertmanager: { deadMansSwitch: true } })).toHaveLength(1);
    expect(problems("production", { alertmanager: { deadMansSwitch: "no" } })).toEqual([
      expect.stringMatching(/^monitoring:alertmanager\.deadMansSwitch: /),
    ]);
  });

  test("the legacy receiver keys feed the default tree only: beside named receivers they are refused with the way over", () => {
    expect(problems("staging", SEED_001, { ...SEED_001_SECRETS, discordWebhookUrl: "https://discord.com/api/webhooks/1/a" })).toEqual([
      "monitoring:discordWebhookUrl: feeds the default critical/warning split, which alertmanager.receivers replaces: give its address to a receiver (discord: {} and discordWebhookUrls.<receiver>), then remove it with: pulumi config rm discordWebhookUrl",
    ]);
    // The dead man's switch keeps working in both trees.
    expect(
      parse("staging", SEED_001, { ...SEED_001_SECRETS, deadMansSwitchUrl: "https://hc-ping.com/x" }).config.alertmanager.receivers,
    ).toEqual({
      deadMansSwitch: { url: "https://hc-ping.com/x" },
    });
  });

  test("the one Slack webhook with a channel per severity is refused, never silently sent to one channel", () => {
    const found = problems(
      "staging",
      { alertmanager: { slack: { criticalChannel: "#alerts-critical", warningChannel: "#infrastructure" } } },
      { slackWebhookUrl: "https://hooks.slack.com/services/T/B/hunter2" },
    );
    expect(found).toEqual([
      expect.stringMatching(
        /^monitoring:slackWebhookUrl: is no longer read: one Slack webhook posts to the one channel it was made for .* then pulumi config rm slackWebhookUrl$/,
      ),
      expect.stringMatching(
        /^monitoring:alertmanager\.slack: is no longer read: each Slack channel is a receiver with its own webhook\. Instead: alertmanager\.receivers .*slackWebhookUrls\.<receiver>/,
      ),
    ]);
    expect(found.join("\n")).not.toContain("hunter2");
  });
});
