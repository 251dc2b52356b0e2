/**
 * Quiet hours on the deployed release of Alertmanager: the staging stack rendered with named
 * time intervals and routes that name them (`alertmanager.timeIntervals`, `muteTimeIntervals`,
 * `activeTimeIntervals`), checked by amtool, then run with webhook receivers pointing at a sink
 * on 127.0.0.1. The intervals are computed from the clock in UTC: `always` is every day from
 * 00:00 to 24:00, which covers now; `another-day` is a weekday other than today's, which does not.
 * `either` is two sets of ranges under one name (anyOf): another weekday, or every day from 00:00
 * to 24:00, so only its second set covers now. A route muted during `always` delivers nothing
 * within group_wait and a margin; one muted during `another-day` delivers; one active only during
 * `another-day` delivers nothing; one muted during `either` delivers nothing (its second set holds).
 * npm run alert:test's reading of the same file (cli/time-intervals.ts) says each route open or
 * muted now as Alertmanager sent or held its alert.
 */
import * as fs from "fs";
import { readRouting, routeAlert } from "../../cli/alert-routing";
import { mutingAt } from "../../cli/time-intervals";
import { checkConfig } from "../../lab/local/alertmanager";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { sleep, waitFor } from "../../lab/processes/supervision";
import { httpGetJson } from "../../lab/local/http";
import { render } from "../support/render";
import { localRun } from "./support/local-run";
import { RunningAlertmanager, renderedAlertmanager } from "./support/alertmanager";

const STACK = "staging";
const GROUP_WAIT_SECONDS = 1;
/** After group_wait, how long a muted route is given to deliver anyway (it must not). */
const MARGIN_MS = 6_000;
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

describe("quiet hours on the real Alertmanager: muted and active routes by time intervals computed from now", () => {
  const run = localRun();
  const alertmanagerOf = renderedAlertmanager(run, "quiet-hours");
  let am: RunningAlertmanager;
  /** Each webhook delivery: the receiver (the path) and the alert names it carried. */
  const delivered: Array<{ receiver: string; alertnames: string[] }> = [];
  const today = WEEKDAYS[new Date().getUTCDay()];
  const anotherDay = WEEKDAYS[(new Date().getUTCDay() + 3) % 7];
  const explain = <T>(step: Promise<T>): Promise<T> => run.explain(step, () => `delivered: ${JSON.stringify(delivered)}`);

  beforeAll(async () => {
    const [sinkPort] = await freePorts(1);
    await run.serve(sinkPort, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { alerts?: Array<{ labels: Record<string, string> }> };
        delivered.push({ receiver: (req.url ?? "/").slice(1), alertnames: (body.alerts ?? []).map((a) => a.labels.alertname) });
        res.writeHead(200).end("ok");
      });
    });
    const hook = (name: string) => `webhookUrls.${name}=http://${LOOPBACK}:${sinkPort}/${name}`;
    const rendered = await render(STACK, [
      `alertmanager.groupWait=${GROUP_WAIT_SECONDS}s`,
      "alertmanager.groupInterval=2s",
      "alertmanager.receivers=[{name: muted, webhook: {}}, {name: open, webhook: {}}, {name: inactive, webhook: {}}]",
      "alertmanager.timeIntervals=[" +
        '{name: always, times: [{start: "00:00", end: "24:00"}], location: UTC},' +
        `{name: another-day, weekdays: [${anotherDay}], location: UTC},` +
        `{name: either, anyOf: [{weekdays: [${anotherDay}], location: UTC}, {times: [{start: "00:00", end: "24:00"}], location: UTC}]}]`,
      "alertmanager.routes=[" +
        "{matchers: ['alertname=\"QuietMuted\"'], receiver: muted, muteTimeIntervals: [always]}," +
        "{matchers: ['alertname=\"QuietOpen\"'], receiver: open, muteTimeIntervals: [another-day]}," +
        "{matchers: ['alertname=\"QuietInactive\"'], receiver: inactive, activeTimeIntervals: [another-day]}," +
        "{matchers: ['alertname=\"QuietEither\"'], receiver: muted, muteTimeIntervals: [either]}]",
      "alertmanager.defaultReceiver=open",
      hook("muted"),
      hook("open"),
      hook("inactive"),
    ]);
    am = await alertmanagerOf.start(rendered, { extra: () => `delivered: ${JSON.stringify(delivered)}` });
  }, 120_000);

  test("amtool check-config accepts the rendered config, with the intervals in Alertmanager's words", () => {
    expect(anotherDay).not.toBe(today);
    expect(am.yml.time_intervals).toEqual([
      { name: "always", time_intervals: [{ times: [{ start_time: "00:00", end_time: "24:00" }], location: "UTC" }] },
      { name: "another-day", time_intervals: [{ weekdays: [anotherDay], location: "UTC" }] },
      {
        name: "either",
        time_intervals: [
          { weekdays: [anotherDay], location: "UTC" },
          { times: [{ start_time: "00:00", end_time: "24:00" }], location: "UTC" },
        ],
      },
    ]);
    const result = checkConfig(am.config);
    expect({ ok: result.ok, output: result.ok ? "" : result.output }).toEqual({ ok: true, output: "" });
  });

  test("a route muted now delivers nothing, one muted on another day delivers, one active on another day delivers nothing, one muted by either of two sets delivers nothing", async () => {
    const alert = (alertname: string) => ({
      labels: { alertname, severity: "warning", environment: STACK, job: "quiet-hours" },
      annotations: { summary: `${alertname} for the test.` },
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const posted = Date.now();
    expect(await am.post([alert("QuietMuted"), alert("QuietOpen"), alert("QuietInactive"), alert("QuietEither")])).toBe(200);
    await explain(waitFor("QuietOpen at the open receiver", async () => delivered.find((d) => d.receiver === "open"), 30_000));
    // The muted routes had as long as the open one, and then group_wait and a margin more.
    const waited = Date.now() - posted;
    await sleep(Math.max(0, GROUP_WAIT_SECONDS * 1000 + MARGIN_MS - waited));
    expect(delivered).toEqual([{ receiver: "open", alertnames: ["QuietOpen"] }]);
    // Alertmanager holds the muted alerts as active, not silenced: they are there, only not sent.
    const alerts = (await httpGetJson<Array<{ labels: Record<string, string> }>>(`${am.url}/api/v2/alerts`)) ?? [];
    expect(alerts.map((a) => a.labels.alertname).sort()).toEqual(["QuietEither", "QuietInactive", "QuietMuted", "QuietOpen"]);
    // npm run alert:test reads the same file as Alertmanager did: each alert's route is open now where it was sent, muted where not.
    const routing = readRouting(fs.readFileSync(am.config, "utf8"));
    const now = new Date();
    const openNow = (alertname: string) =>
      routeAlert(routing.root, alert(alertname).labels).every((r) => !r.times || mutingAt(r.times, routing.intervals, now) === undefined);
    const sent = delivered.flatMap((d) => d.alertnames);
    expect(["QuietMuted", "QuietOpen", "QuietInactive", "QuietEither"].map((a) => [a, openNow(a)])).toEqual(
      ["QuietMuted", "QuietOpen", "QuietInactive", "QuietEither"].map((a) => [a, sent.includes(a)]),
    );
  }, 60_000);
});
