/**
 * New receiver kinds delivered by the deployed release of Alertmanager to sinks on 127.0.0.1:
 * a Teams Workflows webhook, Telegram's Bot API, Jira's REST API, PagerDuty's Events API v2 and
 * Opsgenie's alert API, each sink checking the path, the credentials and the fields the real
 * service requires. The config is the render of the staging stack with the receivers given as a
 * user gives them; Teams' and Jira's addresses are the sinks' own, and the API hosts the stack
 * does not let a user change (api.telegram.org, events.pagerduty.com, api.opsgenie.com) are the
 * lines the test changes in the rendered alertmanager.yml. (Pushover's API address is fixed in
 * Alertmanager itself, so no sink can take its messages.)
 *
 * The label and annotation values carry `<`, `>` and `&`: the Telegram message in HTML mode must
 * arrive with them escaped and the stack's own markup (`<b>` around the title) intact.
 */
import * as http from "http";
import { LOOPBACK, freePorts, waitFor } from "../../scripts/lib/local/processes";
import { render } from "../support/render";
import { localRun } from "./support/local-run";
import { RunningAlertmanager, integrationOf, renderedAlertmanager } from "./support/alertmanager";

const STACK = "staging";
const BOT_TOKEN = "123456789:AAe2eTokenForTheSink";
const CHAT_ID = -1001234567890;
const JIRA_USER = "alerts@example.com";
const JIRA_TOKEN = "jira-e2e-token";
const ROUTING_KEY = "0123456789abcdef0123456789abcdef";
const OPSGENIE_KEY = "opsgenie-e2e-key";

interface Request {
  method: string;
  path: string;
  authorization?: string;
  body: Record<string, unknown>;
}

/** Records every request with its JSON body, and answers as `answer` says for its path. */
function sink(requests: Request[], answer: (r: Request) => { status: number; body: unknown }): http.RequestListener {
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
      const r: Request = { method: req.method ?? "", path: req.url ?? "/", authorization: req.headers.authorization, body };
      requests.push(r);
      const { status, body: out } = answer(r);
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(out));
    });
  };
}

describe("Telegram, Teams, Jira, PagerDuty and Opsgenie receivers end to end (real Alertmanager, sinks on 127.0.0.1)", () => {
  const run = localRun();
  const alertmanagerOf = renderedAlertmanager(run, "receiver-delivery");
  let am: RunningAlertmanager;
  const telegram: Request[] = [];
  const teams: Request[] = [];
  const jira: Request[] = [];
  const pagerduty: Request[] = [];
  const opsgenie: Request[] = [];
  const explain = <T>(step: Promise<T>): Promise<T> =>
    run.explain(step, () => JSON.stringify({ telegram, teams, jira, pagerduty, opsgenie }, null, 1));

  beforeAll(async () => {
    const [telegramPort, teamsPort, jiraPort, pagerdutyPort, opsgeniePort] = await freePorts(5);
    await run.serve(
      pagerdutyPort,
      sink(pagerduty, (r) =>
        r.path === "/v2/enqueue" && r.body.routing_key === ROUTING_KEY
          ? { status: 202, body: { status: "success", message: "Event processed", dedup_key: "x" } }
          : { status: 400, body: { status: "invalid event" } },
      ),
    );
    await run.serve(
      opsgeniePort,
      sink(opsgenie, (r) =>
        r.authorization === `GenieKey ${OPSGENIE_KEY}` && r.path === "/v2/alerts"
          ? { status: 202, body: { result: "Request will be processed", took: 0.1, requestId: "x" } }
          : { status: 401, body: { message: "unauthorized" } },
      ),
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
    const basic = `Basic ${Buffer.from(`${JIRA_USER}:${JIRA_TOKEN}`).toString("base64")}`;
    await run.serve(
      jiraPort,
      sink(jira, (r) => {
        if (r.authorization !== basic) return { status: 401, body: { errorMessages: ["unauthorized"] } };
        if (r.path.startsWith("/rest/api/2/search")) return { status: 200, body: { total: 0, issues: [] } };
        if (r.path === "/rest/api/2/issue" && r.method === "POST") return { status: 201, body: { id: "10001", key: "OPS-1" } };
        return { status: 404, body: { errorMessages: [`no ${r.method} ${r.path}`] } };
      }),
    );

    const rendered = await render(STACK, [
      "alertmanager.groupWait=1s",
      "alertmanager.groupInterval=2s",
      "alertmanager.receivers=[{name: ops, " +
        `telegram: {chatId: ${CHAT_ID}}, teams: {}, pagerduty: {}, opsgenie: {region: eu}, ` +
        `jira: {apiUrl: "http://${LOOPBACK}:${jiraPort}/rest/api/2", project: OPS, issueType: Bug, user: "${JIRA_USER}"}}]`,
      "alertmanager.defaultReceiver=ops",
      `telegramBotTokens.ops=${BOT_TOKEN}`,
      `teamsWebhookUrls.ops=http://${LOOPBACK}:${teamsPort}/workflows/ops`,
      `jiraApiTokens.ops=${JIRA_TOKEN}`,
      `pagerdutyRoutingKeys.ops=${ROUTING_KEY}`,
      `opsgenieApiKeys.ops=${OPSGENIE_KEY}`,
    ]);
    am = await alertmanagerOf.start(rendered, {
      extra: () => JSON.stringify({ telegram, teams, jira, pagerduty, opsgenie }, null, 1),
      edit: (yml) => {
        const at = (kind: string) => integrationOf(yml, "ops", kind);
        expect(at("pagerduty_configs").url).toBe("https://events.pagerduty.com/v2/enqueue");
        expect(at("opsgenie_configs").api_url).toBe("https://api.eu.opsgenie.com/");
        at("telegram_configs").api_url = `http://${LOOPBACK}:${telegramPort}`;
        at("pagerduty_configs").url = `http://${LOOPBACK}:${pagerdutyPort}/v2/enqueue`;
        at("opsgenie_configs").api_url = `http://${LOOPBACK}:${opsgeniePort}/`;
      },
    });
  }, 120_000);

  test("one alert reaches each: Telegram in HTML with its values escaped, Teams' card, a Jira issue with basic auth, a PagerDuty and an Opsgenie alert of its severity", async () => {
    expect(
      await am.post([
        {
          labels: { alertname: "QueueBacklog", severity: "warning", environment: STACK, queue: "<jobs>&co" },
          annotations: { summary: "Backlog > 1000 & growing <fast>" },
          startsAt: new Date(Date.now() - 60_000).toISOString(),
          endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        },
      ]),
    ).toBe(200);

    const message = await explain(
      waitFor("the Telegram message", async () => telegram.find((r) => r.path.endsWith("/sendMessage")), 60_000),
    );
    const card = await explain(waitFor("the Teams card", async () => teams[0], 60_000));
    const issue = await explain(waitFor("the Jira issue", async () => jira.find((r) => r.path === "/rest/api/2/issue"), 60_000));

    // Telegram: the chat, HTML mode, the stack's bold title, every value escaped.
    expect(message.body).toMatchObject({ chat_id: String(CHAT_ID), parse_mode: "HTML" });
    const text = String(message.body.text);
    expect(text.startsWith("<b>[FIRING:1] staging: QueueBacklog (warning)</b>\n")).toBe(true);
    expect(text).toContain("queue=&lt;jobs&gt;&amp;co");
    expect(text).toContain("Backlog &gt; 1000 &amp; growing &lt;fast&gt;");
    expect(text).not.toContain("<jobs>");
    expect(text).not.toContain("<fast>");

    // Teams: the Workflows webhook's path, an Adaptive Card carrying the title and the message.
    expect(card).toMatchObject({ method: "POST", path: "/workflows/ops" });
    const cardText = JSON.stringify(card.body);
    expect(cardText).toContain("AdaptiveCard");
    expect(cardText).toContain("[FIRING:1] staging: QueueBacklog (warning)");
    expect(cardText).toContain("Backlog > 1000 & growing <fast>");

    // Jira: basic auth with the user and the secret token (the sink refuses anything else), the project, the type, the title.
    const fields = issue.body.fields as { project?: { key?: string }; issuetype?: { name?: string }; summary?: string };
    expect(fields.project?.key).toBe("OPS");
    expect(fields.issuetype?.name).toBe("Bug");
    expect(fields.summary).toBe("[FIRING:1] staging: QueueBacklog (warning)");
    expect(jira.filter((r) => r.authorization === undefined)).toEqual([]);

    // PagerDuty: a trigger with the routing key, the title as summary, the severity PagerDuty's own.
    const event = await explain(waitFor("the PagerDuty event", async () => pagerduty[0], 60_000));
    expect(event.body).toMatchObject({ routing_key: ROUTING_KEY, event_action: "trigger" });
    expect(event.body.payload).toMatchObject({ summary: "[FIRING:1] staging: QueueBacklog (warning)", severity: "warning" });

    // Opsgenie: the API key as GenieKey (the sink refuses anything else), the title as message, warning as P3.
    const created = await explain(waitFor("the Opsgenie alert", async () => opsgenie[0], 60_000));
    expect(created).toMatchObject({ method: "POST", path: "/v2/alerts", authorization: `GenieKey ${OPSGENIE_KEY}` });
    expect(created.body).toMatchObject({ message: "[FIRING:1] staging: QueueBacklog (warning)", priority: "P3" });
    expect(String(created.body.description)).toContain("Backlog > 1000 & growing <fast>");
    expect(am.process.exitCode).toBeNull();
  }, 120_000);
});
