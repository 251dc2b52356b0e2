/**
 * A team's own channels end to end, with real servers on 127.0.0.1: the deployed release
 * of Alertmanager runs the routing a team configured (seed 001's named receivers: one Slack
 * webhook per channel, routes by app, email through an SMTP server with a login), rendered
 * from the staging stack file with `--set` overrides as a user would give them. Only the
 * addresses are local: each Slack webhook points at a sink that answers as Slack's incoming
 * webhooks do ("ok", 400 for a malformed message), the smarthost at a mail server the test
 * starts (without TLS: `alertmanager.smtp.requireTls: false`, the only non-default setting).
 *
 * Alerts are posted to Alertmanager's API as Prometheus would post them: each reaches the
 * channel its route names, and no other; the email carries the message's title as subject
 * and its text, after a login with the secret password; a resolved alert is mailed again.
 */
import * as http from "http";
import * as YAML from "yaml";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { sleep, waitFor } from "../../lab/processes/supervision";
import { render } from "../support/render";
import { SmtpSink, mailHeader, mailText } from "../../lab/local/smtp";
import { localRun } from "./support/local-run";
import { RunningAlertmanager, renderedAlertmanager } from "./support/alertmanager";

const STACK = "staging";
const SMTP_USER = "alerts@example.com";
const SMTP_PASSWORD = "smtp-password-e2e";
/** The group timing of the test: short, so that messages leave within seconds. */
const TIMING = { groupWait: "1s", groupInterval: "2s" };

interface SlackMessage {
  channel: string;
  receivedAt: number;
  body: { channel?: string; attachments?: Array<{ title?: string; text?: string; color?: string }> };
}

/**
 * A stand-in for Slack's incoming webhooks: one path per webhook (each made for one channel),
 * `ok` as plain text for a well-formed message, 400 `invalid_payload` otherwise.
 */
function slackHandler(messages: SlackMessage[], rejected: string[]): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const channel = (req.url ?? "/").replace(/^\/services\//, "");
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as SlackMessage["body"];
        const attachment = body.attachments?.[0];
        if (req.method !== "POST" || !attachment?.title || !attachment.text) throw new Error("no attachment with a title and text");
        messages.push({ channel, receivedAt: Date.now(), body });
        res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
      } catch (err) {
        rejected.push(`${channel}: ${err instanceof Error ? err.message : String(err)}`);
        res.writeHead(400, { "Content-Type": "text/plain" }).end("invalid_payload");
      }
    });
  };
}

describe("a team's channels end to end (real Alertmanager, Slack-shaped webhooks and an SMTP server on 127.0.0.1)", () => {
  const run = localRun();
  const alertmanagerOf = renderedAlertmanager(run, "channels");
  let am: RunningAlertmanager;
  const slack: SlackMessage[] = [];
  const rejected: string[] = [];
  let smtp: SmtpSink;

  /** What the sinks saw, beside what every process printed, to explain a failure. */
  const sinkState = () =>
    [
      `slack rejected: ${JSON.stringify(rejected)}`,
      `slack received: ${JSON.stringify(slack)}`,
      `smtp refused: ${JSON.stringify(smtp?.refused)}`,
      `smtp received: ${JSON.stringify(smtp?.mails)}`,
    ].join("\n");
  const explain = <T>(step: Promise<T>): Promise<T> => run.explain(step, sinkState);
  const titled = (channel: string, prefix: string) =>
    slack.filter((m) => m.channel === channel && (m.body.attachments?.[0]?.title ?? "").startsWith(prefix));

  /** An alert as Prometheus posts it; `endsAt` in the past resolves it. */
  const alert = (labels: Record<string, string>, resolved = false) => ({
    labels: { environment: STACK, ...labels },
    annotations: { summary: `${labels.alertname} for the test.`, description: `${labels.alertname} fired in the channels test.` },
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    ...(resolved ? { endsAt: new Date(Date.now() - 1000).toISOString() } : { endsAt: new Date(Date.now() + 3_600_000).toISOString() }),
  });

  beforeAll(async () => {
    const [slackPort, smtpPort] = await freePorts(2);
    await run.serve(slackPort, slackHandler(slack, rejected));
    smtp = await run.own(new SmtpSink(smtpPort, { user: SMTP_USER, password: SMTP_PASSWORD }));

    const hook = (name: string) => `http://${LOOPBACK}:${slackPort}/services/${name}`;
    const rendered = await render(STACK, [
      `alertmanager.groupWait=${TIMING.groupWait}`,
      `alertmanager.groupInterval=${TIMING.groupInterval}`,
      "alertmanager.receivers=[" +
        '{name: deployment, slack: {channel: "#deployment"}},' +
        '{name: infrastructure, slack: {channel: "#infrastructure"}, email: {to: ["ops@example.com", "oncall@example.com"]}}]',
      "alertmanager.routes=[{matchers: ['app=~\"deployment-api|port-manager\"'], receiver: deployment}]",
      "alertmanager.defaultReceiver=infrastructure",
      `alertmanager.smtp={smarthost: "${LOOPBACK}:${smtpPort}", from: "alerts@example.com", username: "${SMTP_USER}", requireTls: false}`,
      `smtpPassword=${SMTP_PASSWORD}`,
      `slackWebhookUrls.deployment=${hook("deployment")}`,
      `slackWebhookUrls.infrastructure=${hook("infrastructure")}`,
    ]);
    const config = YAML.parse(rendered.files.get("alertmanager/alertmanager.yml") ?? "") as { global: Record<string, unknown> };
    expect(config.global.smtp_require_tls).toBe(false);

    am = await alertmanagerOf.start(rendered, { extra: sinkState });
  }, 120_000);

  test("an alert of a deployment service reaches #deployment only; a node alert #infrastructure and the on-call mailboxes", async () => {
    expect(
      await am.post([
        alert({ alertname: "AppDown", severity: "critical", app: "deployment-api", job: "deployment-api" }),
        alert({ alertname: "NodeCpuHighUsage", severity: "warning", instance: "node-1", job: "node-exporter" }),
      ]),
    ).toBe(200);

    const deployment = await explain(
      waitFor("the AppDown message on #deployment", async () => titled("deployment", "[FIRING:1] staging: AppDown")[0], 60_000),
    );
    const infrastructure = await explain(
      waitFor(
        "the NodeCpuHighUsage message on #infrastructure",
        async () => titled("infrastructure", "[FIRING:1] staging: NodeCpu")[0],
        60_000,
      ),
    );
    const mail = await explain(waitFor("the NodeCpuHighUsage email", async () => smtp.mails[0], 60_000));

    expect(deployment.body.channel).toBe("#deployment");
    expect(deployment.body.attachments?.[0]).toMatchObject({ title: "[FIRING:1] staging: AppDown (critical)", color: "danger" });
    expect(deployment.body.attachments?.[0]?.text).toContain("where: app=deployment-api, job=deployment-api");
    expect(infrastructure.body.channel).toBe("#infrastructure");
    expect(infrastructure.body.attachments?.[0]?.title).toBe("[FIRING:1] staging: NodeCpuHighUsage (warning)");

    // The email: after a login with the secret password, to both addresses, the title as subject, the message as text.
    expect(mail).toMatchObject({ user: SMTP_USER, from: "alerts@example.com", to: ["ops@example.com", "oncall@example.com"] });
    expect(mailHeader(mail, "Subject")).toBe("[FIRING:1] staging: NodeCpuHighUsage (warning)");
    expect(mailHeader(mail, "To")).toBe("ops@example.com, oncall@example.com");
    const text = mailText(mail) ?? "";
    expect(text).toMatch(
      /^FIRING in staging:\n- NodeCpuHighUsage: NodeCpuHighUsage for the test\.\n {2}where: instance=node-1, job=node-exporter\n/,
    );

    // Nothing crosses over: give any stray notification time to arrive first.
    await sleep(3_000);
    expect(slack.filter((m) => m.channel === "deployment").map((m) => m.body.attachments?.[0]?.title)).toEqual([
      "[FIRING:1] staging: AppDown (critical)",
    ]);
    expect(slack.filter((m) => m.channel === "infrastructure").map((m) => m.body.attachments?.[0]?.title)).toEqual([
      "[FIRING:1] staging: NodeCpuHighUsage (warning)",
    ]);
    expect(smtp.mails.map((m) => mailHeader(m, "Subject"))).toEqual(["[FIRING:1] staging: NodeCpuHighUsage (warning)"]);
    expect(rejected).toEqual([]);
    expect(smtp.refused).toEqual([]);
  }, 120_000);

  test("the node alert resolves: one RESOLVED email and one RESOLVED message on #infrastructure", async () => {
    expect(
      await am.post([alert({ alertname: "NodeCpuHighUsage", severity: "warning", instance: "node-1", job: "node-exporter" }, true)]),
    ).toBe(200);
    const mail = await explain(
      waitFor("the RESOLVED email", async () => smtp.mails.find((m) => mailHeader(m, "Subject")?.startsWith("[RESOLVED]")), 60_000),
    );
    expect(mailHeader(mail, "Subject")).toBe("[RESOLVED] staging: NodeCpuHighUsage (warning)");
    expect(mailText(mail)).toMatch(/^RESOLVED in staging:\n- NodeCpuHighUsage: /);
    await explain(waitFor("the RESOLVED message on #infrastructure", async () => titled("infrastructure", "[RESOLVED]")[0], 60_000));
    expect(titled("deployment", "[RESOLVED]")).toEqual([]);
    expect(smtp.refused).toEqual([]);
    expect(am.process.alive).toBe(true);
  }, 120_000);
});
