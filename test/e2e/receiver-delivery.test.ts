/**
 * Receiver kinds delivered by the deployed release of Alertmanager to sinks on 127.0.0.1: Slack's
 * and Discord's webhooks (with their mentions for critical alerts), a Teams Workflows webhook,
 * Telegram's Bot API, Jira's REST API, PagerDuty's Events API v2, Opsgenie's alert API and
 * Pushover's message API, each sink checking the path, the credentials and the fields the real
 * service requires, for the firing alert and for its resolve. The config is the render of the
 * staging stack with the receivers given as a user gives them; the webhooks' and Jira's addresses
 * are the sinks' own, and the API hosts the stack does not let a user change (api.telegram.org,
 * events.pagerduty.com, api.opsgenie.com) are the lines the test changes in the rendered
 * alertmanager.yml. Pushover's address is fixed in Alertmanager's code
 * (notify/pushover/pushover.go: `apiURL: "https://api.pushover.net/1/messages.json"`, no config
 * field; its `url` is the link shown in the message), so its notifier is given a proxy
 * (http_config.proxy_url) that ends the TLS of api.pushover.net with a certificate the test made
 * and Alertmanager is told to trust (http_config.tls_config.ca_file).
 *
 * The label and annotation values carry `<`, `>` and `&`: the Telegram message in HTML mode must
 * arrive with them escaped and the stack's own markup (`<b>` around the title) intact.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { selfSignedCertificate } from "../../lab/local/http";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { sleep, waitFor } from "../../lab/processes/supervision";
import { render } from "../support/render";
import { localRun } from "./support/local-run";
import { RunningAlertmanager, integrationOf, renderedAlertmanager } from "./support/alertmanager";
import { InterceptingProxy } from "./support/intercepting-proxy";

const STACK = "staging";
const BOT_TOKEN = "123456789:AAe2eTokenForTheSink";
const CHAT_ID = -1001234567890;
const JIRA_USER = "alerts@example.com";
const JIRA_TOKEN = "jira-e2e-token";
const ROUTING_KEY = "0123456789abcdef0123456789abcdef";
const OPSGENIE_KEY = "opsgenie-e2e-key";
const PUSHOVER_USER = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
const PUSHOVER_TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
const SLACK_MENTION = "<!subteam^S0123ABCD> @here";
const DISCORD_MENTION = "<@&123456789012345678>";
/** Jira's transitions of an open issue, as its API lists them: the stack names `Done` as the resolve transition. */
const JIRA_TRANSITIONS = [
  { id: "11", name: "Start Progress" },
  { id: "31", name: "Done" },
];

interface Request {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization?: string;
  body: Record<string, unknown>;
}

interface Answer {
  status: number;
  /** JSON, or text as it is (Slack's webhooks answer `ok` as plain text). */
  body?: unknown;
}

/** Records every request with its JSON body and its query, and answers as `answer` says. */
function sink(requests: Request[], answer: (r: Request) => Answer): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: Record<string, unknown> = {};
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        body = { unparsed: text };
      }
      const url = new URL(req.url ?? "/", "http://sink");
      const r: Request = {
        method: req.method ?? "",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        authorization: req.headers.authorization,
        body,
      };
      requests.push(r);
      const out = answer(r);
      if (out.body === undefined) return void res.writeHead(out.status).end();
      if (typeof out.body === "string") return void res.writeHead(out.status, { "Content-Type": "text/plain" }).end(out.body);
      res.writeHead(out.status, { "Content-Type": "application/json" }).end(JSON.stringify(out.body));
    });
  };
}

/** Pushover's rules for a message (https://pushover.net/api): why it would be refused, or nothing. */
function pushoverRefusal(q: Record<string, string>): string | undefined {
  if (q.token !== PUSHOVER_TOKEN) return "application token is invalid";
  if (q.user !== PUSHOVER_USER) return "user identifier is not a valid user, group, or subscribed user key";
  if (!q.message) return "message cannot be blank";
  const priority = Number(q.priority || "0");
  if (![-2, -1, 0, 1, 2].includes(priority)) return "priority is invalid";
  // An emergency message repeats every `retry` seconds (at least 30) until acknowledged or `expire` (at most 3 hours).
  if (priority === 2 && !(Number(q.retry) >= 30 && Number(q.expire) > 0 && Number(q.expire) <= 10800)) {
    return "retry must be at least 30 and expire at most 10800 for an emergency-priority message";
  }
  return undefined;
}

describe("every paging, ticket and chat kind end to end, firing and resolved (real Alertmanager, sinks on 127.0.0.1)", () => {
  const run = localRun();
  const alertmanagerOf = renderedAlertmanager(run, "receiver-delivery");
  let am: RunningAlertmanager;
  let proxy: InterceptingProxy;
  let tmp = "";
  const telegram: Request[] = [];
  const teams: Request[] = [];
  const jira: Request[] = [];
  const pagerduty: Request[] = [];
  const opsgenie: Request[] = [];
  const slack: Request[] = [];
  const discord: Request[] = [];
  const pushover: Request[] = [];
  /** The issues the Jira sink holds: key, labels, status category (new or done). */
  const issues: Array<{ key: string; labels: string[]; category: "new" | "done" }> = [];
  const sinkState = () =>
    JSON.stringify({ telegram, teams, jira, pagerduty, opsgenie, slack, discord, pushover, tunnels: proxy?.tunnels, issues }, null, 1);
  const explain = <T>(step: Promise<T>): Promise<T> => run.explain(step, sinkState);
  const arrived = <T>(what: string, find: () => T | undefined) => explain(waitFor(what, async () => find(), 60_000));

  /** An alert as Prometheus posts it; `endsAt` in the past resolves it. */
  const alert = (alertname: string, severity: string, extra: Record<string, string>, resolved = false) => ({
    labels: { alertname, severity, environment: STACK, ...extra },
    annotations: { summary: alertname === "QueueBacklog" ? "Backlog > 1000 & growing <fast>" : `${alertname} for the test.` },
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: resolved ? new Date(Date.now() - 1000).toISOString() : new Date(Date.now() + 3_600_000).toISOString(),
  });
  const WARNING = (resolved = false) => alert("QueueBacklog", "warning", { queue: "<jobs>&co" }, resolved);
  const CRITICAL = (resolved = false) => alert("DiskFull", "critical", { instance: "node-1" }, resolved);
  const WARNING_TITLE = "[FIRING:1] staging: QueueBacklog (warning)";
  const CRITICAL_TITLE = "[FIRING:1] staging: DiskFull (critical)";

  const slackTitle = (r: Request) => (r.body.attachments as Array<{ title?: string }> | undefined)?.[0]?.title ?? "";
  const discordTitle = (r: Request) => (r.body.embeds as Array<{ title?: string }> | undefined)?.[0]?.title ?? "";
  const opsgenieCreated = (title: string) => opsgenie.find((r) => r.path === "/v2/alerts" && r.body.message === title);
  const pagerdutyEvent = (action: string, summary: string) =>
    pagerduty.find((r) => r.body.event_action === action && (r.body.payload as { summary?: string } | undefined)?.summary === summary);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-delivery-"));
    const ports = await freePorts(8);
    const [telegramPort, teamsPort, jiraPort, pagerdutyPort, opsgeniePort, slackPort, discordPort, proxyPort] = ports;
    await run.serve(
      pagerdutyPort,
      sink(pagerduty, (r) =>
        r.path === "/v2/enqueue" &&
        r.body.routing_key === ROUTING_KEY &&
        ["trigger", "resolve"].includes(String(r.body.event_action)) &&
        typeof r.body.dedup_key === "string"
          ? { status: 202, body: { status: "success", message: "Event processed", dedup_key: r.body.dedup_key } }
          : { status: 400, body: { status: "invalid event" } },
      ),
    );
    await run.serve(
      opsgeniePort,
      sink(opsgenie, (r) => {
        if (r.authorization !== `GenieKey ${OPSGENIE_KEY}`) return { status: 401, body: { message: "unauthorized" } };
        const close = /^\/v2\/alerts\/([^/]+)\/close$/.exec(r.path);
        const known =
          close && r.query.identifierType === "alias" && opsgenie.some((c) => c.path === "/v2/alerts" && c.body.alias === close[1]);
        return (r.path === "/v2/alerts" && r.method === "POST") || known
          ? { status: 202, body: { result: "Request will be processed", took: 0.1, requestId: "x" } }
          : { status: 404, body: { message: `no ${r.method} ${r.path}` } };
      }),
    );
    await run.serve(
      telegramPort,
      sink(telegram, (r) =>
        r.path === `/bot${BOT_TOKEN}/sendMessage` && typeof r.body.text === "string" && r.body.chat_id !== undefined
          ? { status: 200, body: { ok: true, result: { message_id: telegram.length, date: 0, chat: { id: CHAT_ID, type: "supergroup" } } } }
          : { status: 400, body: { ok: false, error_code: 400, description: "Bad Request" } },
      ),
    );
    await run.serve(
      teamsPort,
      sink(teams, (r) => (r.path === "/workflows/ops" && r.method === "POST" ? { status: 202, body: {} } : { status: 404, body: {} })),
    );
    // Slack's incoming webhook: `ok` as plain text for a message with an attachment, 400 invalid_payload otherwise.
    await run.serve(
      slackPort,
      sink(slack, (r) =>
        r.path === "/services/T0/B0/ops" && r.method === "POST" && slackTitle(r) !== ""
          ? { status: 200, body: "ok" }
          : { status: 400, body: "invalid_payload" },
      ),
    );
    // Discord's webhook: 204 for a message with content or an embed.
    await run.serve(
      discordPort,
      sink(discord, (r) =>
        r.path === "/api/webhooks/1/ops" && r.method === "POST" && (r.body.content !== undefined || discordTitle(r) !== "")
          ? { status: 204 }
          : { status: 400, body: { message: "Cannot send an empty message", code: 50006 } },
      ),
    );
    const basic = `Basic ${Buffer.from(`${JIRA_USER}:${JIRA_TOKEN}`).toString("base64")}`;
    await run.serve(
      jiraPort,
      sink(jira, (r) => {
        if (r.authorization !== basic) return { status: 401, body: { errorMessages: ["unauthorized"] } };
        if (r.path === "/rest/api/2/search" && r.method === "POST") {
          // The JQL names the project and the group's label; the found issue's status says whether it is done.
          const jql = String(r.body.jql);
          const found = issues.filter((i) => jql.includes('project="OPS"') && i.labels.some((l) => jql.includes(`labels="${l}"`)));
          const open = /statusCategory != Done/.test(jql) ? found.filter((i) => i.category !== "done") : found;
          return {
            status: 200,
            body: {
              total: open.length,
              issues: open.map((i) => ({ key: i.key, fields: { status: { name: i.category, statusCategory: { key: i.category } } } })),
            },
          };
        }
        if (r.path === "/rest/api/2/issue" && r.method === "POST") {
          const key = `OPS-${issues.length + 1}`;
          issues.push({
            key,
            labels: ((r.body.fields as { labels?: string[] }).labels ?? []).filter((l) => l.startsWith("ALERT{")),
            category: "new",
          });
          return { status: 201, body: { id: String(10000 + issues.length), key } };
        }
        const issue = issues.find((i) => r.path.startsWith(`/rest/api/2/issue/${i.key}`));
        if (issue && r.path === `/rest/api/2/issue/${issue.key}` && r.method === "PUT") return { status: 204 };
        if (issue && r.path.endsWith("/transitions") && r.method === "GET") return { status: 200, body: { transitions: JIRA_TRANSITIONS } };
        if (issue && r.path.endsWith("/transitions") && r.method === "POST") {
          const id = (r.body.transition as { id?: string } | undefined)?.id;
          if (!JIRA_TRANSITIONS.some((t) => t.id === id)) return { status: 400, body: { errorMessages: [`no transition ${id}`] } };
          if (id === "31") issue.category = "done";
          return { status: 204 };
        }
        return { status: 404, body: { errorMessages: [`no ${r.method} ${r.path}`] } };
      }),
    );
    const certificate = selfSignedCertificate(tmp, "api.pushover.net", 1, ["DNS:api.pushover.net"]);
    proxy = await run.own(
      new InterceptingProxy(
        proxyPort,
        certificate,
        sink(pushover, (r) => {
          if (r.path !== "/1/messages.json" || r.method !== "POST") return { status: 404, body: { status: 0, errors: ["not found"] } };
          const refusal = pushoverRefusal(r.query);
          return refusal
            ? { status: 400, body: { status: 0, errors: [refusal], request: "x" } }
            : { status: 200, body: { status: 1, request: "x" } };
        }),
      ),
    );

    const rendered = await render(STACK, [
      "alertmanager.groupWait=1s",
      "alertmanager.groupInterval=2s",
      "alertmanager.receivers=[{name: ops, " +
        `slack: {channel: "#ops", mention: {critical: "${SLACK_MENTION}"}}, discord: {mention: {critical: "${DISCORD_MENTION}"}}, ` +
        `telegram: {chatId: ${CHAT_ID}}, teams: {}, pagerduty: {}, opsgenie: {region: eu}, pushover: {}, ` +
        `jira: {apiUrl: "http://${LOOPBACK}:${jiraPort}/rest/api/2", project: OPS, issueType: Bug, user: "${JIRA_USER}", resolveTransition: Done}}]`,
      "alertmanager.defaultReceiver=ops",
      `slackWebhookUrls.ops=http://${LOOPBACK}:${slackPort}/services/T0/B0/ops`,
      `discordWebhookUrls.ops=http://${LOOPBACK}:${discordPort}/api/webhooks/1/ops`,
      `telegramBotTokens.ops=${BOT_TOKEN}`,
      `teamsWebhookUrls.ops=http://${LOOPBACK}:${teamsPort}/workflows/ops`,
      `jiraApiTokens.ops=${JIRA_TOKEN}`,
      `pagerdutyRoutingKeys.ops=${ROUTING_KEY}`,
      `opsgenieApiKeys.ops=${OPSGENIE_KEY}`,
      `pushoverUserKeys.ops=${PUSHOVER_USER}`,
      `pushoverAppTokens.ops=${PUSHOVER_TOKEN}`,
    ]);
    am = await alertmanagerOf.start(rendered, {
      extra: sinkState,
      edit: (yml) => {
        const at = (kind: string) => integrationOf(yml, "ops", kind);
        // Every kind sends the resolve: the stack's default (sendResolved true).
        for (const kind of ["slack", "discord", "telegram", "msteamsv2", "pagerduty", "opsgenie", "pushover", "jira"]) {
          expect({ kind, sendResolved: at(`${kind}_configs`).send_resolved }).toEqual({ kind, sendResolved: true });
        }
        expect(at("pagerduty_configs").url).toBe("https://events.pagerduty.com/v2/enqueue");
        expect(at("opsgenie_configs").api_url).toBe("https://api.eu.opsgenie.com/");
        expect(at("pushover_configs").http_config).toBeUndefined();
        at("telegram_configs").api_url = `http://${LOOPBACK}:${telegramPort}`;
        at("pagerduty_configs").url = `http://${LOOPBACK}:${pagerdutyPort}/v2/enqueue`;
        at("opsgenie_configs").api_url = `http://${LOOPBACK}:${opsgeniePort}/`;
        at("pushover_configs").http_config = {
          proxy_url: `http://${LOOPBACK}:${proxyPort}`,
          tls_config: { ca_file: certificate.certFile },
        };
      },
    });
  }, 120_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("a warning reaches each: Telegram in HTML with its values escaped, Teams' card, a Jira issue, PagerDuty, Opsgenie, Pushover, Slack and Discord without a mention", async () => {
    expect(await am.post([WARNING()])).toBe(200);

    const message = await arrived("the Telegram message", () => telegram.find((r) => r.path.endsWith("/sendMessage")));
    const card = await arrived("the Teams card", () => teams[0]);
    const issue = await arrived("the Jira issue", () => jira.find((r) => r.path === "/rest/api/2/issue"));

    // Telegram: the chat, HTML mode, the stack's bold title, every value escaped.
    expect(message.body).toMatchObject({ chat_id: String(CHAT_ID), parse_mode: "HTML" });
    const text = String(message.body.text);
    expect(text.startsWith(`<b>${WARNING_TITLE}</b>\n`)).toBe(true);
    expect(text).toContain("queue=&lt;jobs&gt;&amp;co");
    expect(text).toContain("Backlog &gt; 1000 &amp; growing &lt;fast&gt;");
    expect(text).not.toContain("<jobs>");
    expect(text).not.toContain("<fast>");

    // Teams: the Workflows webhook's path, an Adaptive Card carrying the title and the message.
    expect(card).toMatchObject({ method: "POST", path: "/workflows/ops" });
    const cardText = JSON.stringify(card.body);
    expect(cardText).toContain("AdaptiveCard");
    expect(cardText).toContain(WARNING_TITLE);
    expect(cardText).toContain("Backlog > 1000 & growing <fast>");

    // Jira: basic auth with the user and the secret token (the sink refuses anything else), the project, the type, the title, the group's label.
    const fields = issue.body.fields as { project?: { key?: string }; issuetype?: { name?: string }; summary?: string; labels?: string[] };
    expect(fields.project?.key).toBe("OPS");
    expect(fields.issuetype?.name).toBe("Bug");
    expect(fields.summary).toBe(WARNING_TITLE);
    expect(fields.labels?.filter((l) => l.startsWith("ALERT{"))).toHaveLength(1);
    expect(jira.filter((r) => r.authorization === undefined)).toEqual([]);

    // PagerDuty: a trigger with the routing key, the title as summary, the severity PagerDuty's own.
    const event = await arrived("the PagerDuty trigger", () => pagerdutyEvent("trigger", WARNING_TITLE));
    expect(event.body).toMatchObject({ routing_key: ROUTING_KEY, event_action: "trigger" });
    expect(event.body.payload).toMatchObject({ summary: WARNING_TITLE, severity: "warning" });

    // Opsgenie: the API key as GenieKey (the sink refuses anything else), the title as message, warning as P3, an alias to close it by.
    const created = await arrived("the Opsgenie alert", () => opsgenieCreated(WARNING_TITLE));
    expect(created).toMatchObject({ method: "POST", path: "/v2/alerts", authorization: `GenieKey ${OPSGENIE_KEY}` });
    expect(created.body).toMatchObject({ message: WARNING_TITLE, priority: "P3" });
    expect(typeof created.body.alias).toBe("string");
    expect(String(created.body.description)).toContain("Backlog > 1000 & growing <fast>");

    // Pushover, through the proxy to api.pushover.net: the app token and the user key, warning as priority 0.
    const push = await arrived("the Pushover message", () => pushover.find((r) => r.query.title === WARNING_TITLE));
    expect(push.query).toMatchObject({ token: PUSHOVER_TOKEN, user: PUSHOVER_USER, priority: "0" });
    expect(push.query.message).toContain("Backlog > 1000 & growing <fast>");
    expect(proxy.tunnels).toContain("api.pushover.net:443");

    // Slack and Discord: the title in the attachment / embed, and no mention for a warning.
    const slackMessage = await arrived("the Slack message", () => slack.find((r) => slackTitle(r) === WARNING_TITLE));
    expect(slackMessage.body.text ?? "").toBe("");
    const discordMessage = await arrived("the Discord message", () => discord.find((r) => discordTitle(r) === WARNING_TITLE));
    expect(discordMessage.body.content ?? "").toBe("");
    expect(am.process.exitCode).toBeNull();
  }, 120_000);

  test("a critical alert: Slack and Discord mention who the receiver names, Pushover high priority, PagerDuty critical, Opsgenie P1", async () => {
    expect(await am.post([CRITICAL()])).toBe(200);
    const slackMessage = await arrived("the critical Slack message", () => slack.find((r) => slackTitle(r) === CRITICAL_TITLE));
    expect(slackMessage.body.text).toBe("<!subteam^S0123ABCD> <!here>");
    const discordMessage = await arrived("the critical Discord message", () => discord.find((r) => discordTitle(r) === CRITICAL_TITLE));
    expect(discordMessage.body.content).toBe(DISCORD_MENTION);
    const push = await arrived("the critical Pushover message", () => pushover.find((r) => r.query.title === CRITICAL_TITLE));
    // Priority 1 (high): past the user's quiet hours, no acknowledgement needed, so no retry or expire to satisfy.
    expect(push.query).toMatchObject({ priority: "1" });
    const event = await arrived("the critical PagerDuty trigger", () => pagerdutyEvent("trigger", CRITICAL_TITLE));
    expect(event.body.payload).toMatchObject({ severity: "critical" });
    expect((await arrived("the critical Opsgenie alert", () => opsgenieCreated(CRITICAL_TITLE))).body.priority).toBe("P1");
  }, 120_000);

  test("both resolve: PagerDuty resolves the same dedup_key, Opsgenie closes the alias, Jira takes the Done transition, the chats say RESOLVED without a mention", async () => {
    expect(await am.post([WARNING(true), CRITICAL(true)])).toBe(200);
    const RESOLVED_WARNING = "[RESOLVED] staging: QueueBacklog (warning)";
    const RESOLVED_CRITICAL = "[RESOLVED] staging: DiskFull (critical)";

    // PagerDuty: a resolve event per group, with the trigger's dedup_key and the routing key.
    for (const [firing, resolved] of [
      [WARNING_TITLE, RESOLVED_WARNING],
      [CRITICAL_TITLE, RESOLVED_CRITICAL],
    ]) {
      const trigger = pagerdutyEvent("trigger", firing);
      const resolve = await arrived(`the PagerDuty resolve of ${firing}`, () => pagerdutyEvent("resolve", resolved));
      expect(resolve.body).toMatchObject({ routing_key: ROUTING_KEY, event_action: "resolve", dedup_key: trigger?.body.dedup_key });

      // Opsgenie: the alert closed by its alias (identifierType=alias; the sink refuses an alias it never created).
      const alias = String(opsgenieCreated(firing)?.body.alias);
      const close = await arrived(`the Opsgenie close of ${firing}`, () => opsgenie.find((r) => r.path === `/v2/alerts/${alias}/close`));
      expect(close).toMatchObject({ method: "POST", query: { identifierType: "alias" }, authorization: `GenieKey ${OPSGENIE_KEY}` });

      // Slack and Discord: the resolved title, and nobody mentioned again.
      const slackMessage = await arrived(`the Slack ${resolved}`, () => slack.find((r) => slackTitle(r) === resolved));
      expect(slackMessage.body.text ?? "").toBe("");
      const discordMessage = await arrived(`the Discord ${resolved}`, () => discord.find((r) => discordTitle(r) === resolved));
      expect(discordMessage.body.content ?? "").toBe("");

      // Teams, Telegram and Pushover: the resolved title in the message.
      await arrived(`the Teams ${resolved}`, () => teams.find((r) => JSON.stringify(r.body).includes(resolved)));
      await arrived(`the Telegram ${resolved}`, () => telegram.find((r) => String(r.body.text).startsWith(`<b>${resolved}</b>\n`)));
      await arrived(`the Pushover ${resolved}`, () => pushover.find((r) => r.query.title === resolved));
    }

    // Jira: each group's issue found by its label and moved by the transition named Done (id 31), then done.
    await arrived("both Jira issues done", () => (issues.length === 2 && issues.every((i) => i.category === "done") ? true : undefined));
    const transitions = jira.filter((r) => r.method === "POST" && r.path.endsWith("/transitions"));
    expect(transitions.map((r) => [r.path, r.body]).sort()).toEqual([
      ["/rest/api/2/issue/OPS-1/transitions", { transition: { id: "31" } }],
      ["/rest/api/2/issue/OPS-2/transitions", { transition: { id: "31" } }],
    ]);

    // Nothing refused on the way: every sink answered 2xx to what it got, and nothing came twice for a resolve.
    await sleep(3_000);
    expect(pagerduty.filter((r) => r.body.event_action === "resolve")).toHaveLength(2);
    expect(jira.filter((r) => r.path === "/rest/api/2/issue")).toHaveLength(2);
    expect(am.process.exitCode).toBeNull();
  }, 120_000);
});
