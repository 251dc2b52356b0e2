/**
 * npm run alert:test (scripts/alert-test.ts, its logic in cli/alert-test.ts and alert-routing.ts), offline: its
 * arguments, the labels it gives a test alert to reach a receiver of the rendered routing tree,
 * what it reads of Alertmanager's notification counters and log, and its report.
 * test/e2e/alert-test.test.ts runs it against the real Alertmanager.
 */
import {
  DEFAULT_MARGIN_SECONDS,
  PASSWORD_ENV,
  durationSeconds,
  formatReport,
  lastErrors,
  outcomeOf,
  parseArgs,
  readCounters,
  runAlertTest,
  testAlert,
} from "../../cli/alert-test";
import type { AlertmanagerClient } from "../../cli/alert-test";
import { TEST_ALERTNAME, labelsFor, readRouting, routeAlert, targetsOf, uninhibitedLabels } from "../../cli/alert-routing";
import { setHolds } from "../../cli/time-intervals";

describe("arguments", () => {
  test("--stack is required; the rest is optional, repeated --set kept in order", () => {
    expect(parseArgs(["--stack", "staging"])).toEqual({ stack: "staging", sets: [], marginSeconds: DEFAULT_MARGIN_SECONDS });
    expect(
      parseArgs([
        "--stack",
        "prod",
        "--receiver",
        "ops",
        "--url",
        "http://127.0.0.1:9093/",
        "--margin",
        "5",
        "--set",
        "a=1",
        "--set",
        "b=2",
        "--logs",
        "kubectl",
      ]),
    ).toEqual({ stack: "prod", receiver: "ops", url: "http://127.0.0.1:9093", marginSeconds: 5, sets: ["a=1", "b=2"], logs: "kubectl" });
    expect(() => parseArgs([])).toThrow(/--stack is required\nusage: npm run alert:test/);
    expect(() => parseArgs(["--stack"])).toThrow(/--stack needs a value/);
    expect(() => parseArgs(["--stack", "--receiver", "ops"])).toThrow(/--stack needs a value/);
  });

  test("bad values and unknown flags are refused with what was given; a password is never taken as an argument", () => {
    expect(() => parseArgs(["--stack", "s", "--url", "alertmanager:9093"])).toThrow(
      /--url must be Alertmanager's base URL.*got alertmanager:9093/,
    );
    expect(() => parseArgs(["--stack", "s", "--margin", "0"])).toThrow(/--margin must be a number of seconds from 1 to 3600; got 0/);
    expect(() => parseArgs(["--stack", "s", "--margin", "soon"])).toThrow(/got soon/);
    expect(() => parseArgs(["--stack", "s", "--recevier", "ops"])).toThrow(/unknown argument --recevier/);
    expect(() => parseArgs(["--stack", "s", "--password", "hunter2"])).toThrow(new RegExp(`--password is not taken.*set ${PASSWORD_ENV}`));
  });
});

/** A team's tree as the stack renders it: the Watchdog first, a route that pages and continues, a route by app, the default. */
const TREE = `
route:
  receiver: ops
  group_by: [alertname, job, namespace]
  group_wait: 30s
  routes:
    - receiver: "null"
      matchers: ['watchdog="true"']
      group_wait: 0s
    - receiver: pager
      matchers: ['severity="critical"']
      continue: true
      group_wait: 10s
    - receiver: web
      matchers: ['app=~"api|web"', 'severity!="info"']
    - receiver: payments
      matchers: ['team="payments"', 'app!~"api|web"']
receivers:
  - name: "null"
  - name: ops
    webhook_configs: [{url: "http://x"}]
  - name: pager
    pagerduty_configs: [{routing_key: k}]
  - name: web
    slack_configs: [{channel: "#web"}]
    email_configs: [{to: a@example.com}]
  - name: payments
    discord_configs: [{webhook_url: "http://y"}]
  - name: unreachable
    webhook_configs: [{url: "http://z"}]
`;

describe("routing", () => {
  const routing = readRouting(TREE);

  test("the tree is walked as Alertmanager does: first match wins unless continue, group_wait inherited", () => {
    expect(routeAlert(routing.root, { alertname: "X", severity: "warning" })).toEqual([{ receiver: "ops", groupWait: "30s" }]);
    expect(routeAlert(routing.root, { severity: "critical", app: "api" })).toEqual([
      { receiver: "pager", groupWait: "10s" },
      { receiver: "web", groupWait: "30s" },
    ]);
    expect(routeAlert(routing.root, { watchdog: "true", severity: "critical" })).toEqual([{ receiver: "null", groupWait: "0s" }]);
    expect(routeAlert(routing.root, { app: "apiserver", severity: "warning" })).toEqual([{ receiver: "ops", groupWait: "30s" }]);
  });

  test("the labels for each receiver reach it, as few other receivers as can be, the mildest severity", () => {
    expect(labelsFor(routing, "ops")).toEqual({ labels: { severity: "info" }, reaches: [{ receiver: "ops", groupWait: "30s" }] });
    expect(labelsFor(routing, "web")).toEqual({
      labels: { severity: "warning", app: "api" },
      reaches: [{ receiver: "web", groupWait: "30s" }],
    });
    expect(labelsFor(routing, "payments")?.labels).toEqual({ severity: "info", team: "payments" });
    // Whatever reaches pager is critical; it goes on, and when no later route takes it, the root does not either (dispatch/route.go).
    const pager = labelsFor(routing, "pager");
    expect(pager?.labels).toEqual({ severity: "critical" });
    expect(pager?.reaches.map((r) => r.receiver)).toEqual(["pager"]);
    expect(routeAlert(routing.root, { severity: "critical", team: "payments" }).map((r) => r.receiver)).toEqual(["pager", "payments"]);
    // The dead man's switch route is reachable too (watchdog="true"), should someone ask for it.
    expect(labelsFor(routing, "null")?.labels).toEqual({ severity: "info", watchdog: "true" });
    expect(labelsFor(routing, "unreachable")).toBeUndefined();
  });

  test("the receivers tested: all that send but null and the dead man's switch, or the one asked; an unknown one is refused with the list", () => {
    expect(routing.receivers.get("web")).toEqual(["slack", "email"]);
    expect(targetsOf(routing, "prod")).toEqual(["ops", "pager", "web", "payments", "unreachable"]);
    expect(targetsOf(routing, "prod", "web")).toEqual(["web"]);
    expect(() => targetsOf(routing, "prod", "wbe")).toThrow(
      'stack prod has no receiver "wbe"; its receivers are: null, ops, pager, web, payments, unreachable (those that send: ops, pager, web, payments, unreachable)',
    );
    expect(() => targetsOf(routing, "prod", "null")).toThrow(/receiver "null" of stack prod sends nothing/);
    expect(() => targetsOf(readRouting('route: {receiver: "null"}\nreceivers: [{name: "null"}]\n'), "staging")).toThrow(
      /stack staging has no receiver that notifies anyone/,
    );
  });

  test("the test alerts get an inhibit rule's equal label no route names, instance first, so that the critical one mutes none of the others", () => {
    const rules = (equal: string[][]) =>
      readRouting(
        `${TREE}inhibit_rules:\n${equal.map((e) => `  - {source_matchers: ['severity="critical"'], equal: [${e.join(", ")}]}`).join("\n")}\n`,
      );
    expect(uninhibitedLabels(routing)).toEqual({ labels: [], unguarded: 0 });
    expect(uninhibitedLabels(rules([["alertname", "namespace", "instance", "app"]]))).toEqual({ labels: ["instance"], unguarded: 0 });
    // app and team are routed on: namespace it is; a rule comparing only routed labels cannot be kept from muting.
    expect(
      uninhibitedLabels(
        rules([
          ["alertname", "app", "namespace"],
          ["alertname", "team", "app"],
        ]),
      ),
    ).toEqual({ labels: ["namespace"], unguarded: 1 });
  });

  test("durations as alertmanager.yml writes them", () => {
    expect(durationSeconds("30s")).toBe(30);
    expect(durationSeconds("1m30s")).toBe(90);
    expect(durationSeconds("0s")).toBe(0);
    expect(durationSeconds("2h")).toBe(7200);
  });
});

describe("counters and outcomes", () => {
  const page = (ok: number, failedReqs: number, given: number) =>
    [
      "# TYPE alertmanager_notifications_total counter",
      `alertmanager_notifications_total{integration="webhook",receiver_name="ops"} ${ok + given}`,
      `alertmanager_notifications_total{integration="webhook",receiver_name="other"} 7`,
      `alertmanager_notifications_failed_total{integration="webhook",reason="other",receiver_name="ops"} 0`,
      `alertmanager_notifications_failed_total{integration="webhook",reason="serverError",receiver_name="ops"} ${given}`,
      `alertmanager_notification_requests_total{integration="webhook",receiver_name="ops"} ${ok + failedReqs}`,
      `alertmanager_notification_requests_failed_total{integration="webhook",receiver_name="ops"} ${failedReqs}`,
      "",
    ].join("\n");

  test("the counters are read per receiver and integration, and per integration alone when the receiver is not a label", () => {
    const c = readCounters(page(2, 3, 1));
    expect(c.byReceiver).toBe(true);
    expect(c.counters.get("ops/webhook")).toEqual({ attempts: 3, requests: 5, failedRequests: 3, failed: { other: 0, serverError: 1 } });
    const plain = readCounters('alertmanager_notifications_total{integration="slack"} 4\n');
    expect(plain).toEqual({
      byReceiver: false,
      counters: new Map([["*/slack", { attempts: 4, requests: 0, failedRequests: 0, failed: {} }]]),
    });
  });

  test("delivered, failed with its reason, failed and still retried, or not reached: from the difference of two readings", () => {
    const at = (ok: number, failedReqs: number, given: number) => readCounters(page(ok, failedReqs, given)).counters.get("ops/webhook");
    expect(outcomeOf(at(0, 0, 0), at(1, 0, 0))).toEqual({ state: "delivered", requests: 1 });
    // Two failed attempts, then a success: delivered.
    expect(outcomeOf(at(0, 0, 0), at(1, 2, 0))).toEqual({ state: "delivered", requests: 1 });
    expect(outcomeOf(at(5, 1, 1), at(5, 4, 2))).toEqual({ state: "failed", reason: "serverError", final: true, failedRequests: 3 });
    expect(outcomeOf(at(5, 1, 1), at(5, 3, 1))).toEqual({ state: "failed", reason: "retrying", final: false, failedRequests: 2 });
    expect(outcomeOf(at(5, 1, 1), at(5, 1, 1))).toEqual({ state: "not reached" });
    expect(outcomeOf(undefined, undefined)).toEqual({ state: "not reached" });
  });

  test("the last error of each receiver and integration, from Alertmanager's log", () => {
    const log = [
      'time=2026-11-24T02:00:00.000Z level=WARN source=retry_stage.go:171 msg="Notify attempt failed, will retry later" component=dispatcher receiver=ops integration=webhook[0] aggrGroup="{}:{alertname=\\"StackTestAlert\\"}" attempts=1 err="unexpected status code 500: first"',
      'time=2026-11-24T02:00:01.000Z level=INFO msg="Notify success" receiver=web integration=slack[0]',
      'time=2026-11-24T02:00:09.000Z level=ERROR source=dispatch.go:360 msg="Notify for alerts failed" component=dispatcher num_alerts=1 err="ops/webhook[0]: notify retry canceled after 4 attempts: unexpected status code 500: \\"down\\""',
      'time=2026-11-24T02:00:09.000Z level=WARN msg="Notify attempt failed, will retry later" receiver=ops integration=webhook[0] attempts=4 err="unexpected status code 500: last"',
    ].join("\n");
    expect(lastErrors(log)).toEqual(new Map([["ops/webhook", "unexpected status code 500: last"]]));
  });
});

describe("the alert and the report", () => {
  test("the test alert is marked, says who sent it and when, and resolves with an end", () => {
    const at = new Date("2026-11-24T02:00:00Z");
    const firing = testAlert("ops", { severity: "info" }, { id: "r1", by: "ana@laptop", at, stack: "prod" });
    expect(firing).toEqual({
      labels: { alertname: TEST_ALERTNAME, alert_test: "true", alert_test_run: "r1", severity: "info" },
      annotations: {
        summary: "Test alert from npm run alert:test for receiver ops: not a real problem",
        description:
          "Sent by ana@laptop at 2026-11-24T02:00:00.000Z to check that stack prod delivers to receiver ops; it resolves itself when the test ends.",
      },
      startsAt: "2026-11-24T02:00:00.000Z",
    });
    const resolved = testAlert("ops", { severity: "info" }, { id: "r1", by: "ana@laptop", at, stack: "prod" }, true);
    expect(resolved.labels).toEqual(firing.labels);
    expect(Date.parse(String(resolved.endsAt))).toBeGreaterThan(at.getTime());
  });

  test("one line per receiver and integration; ok only when every targeted integration delivered", () => {
    const good = formatReport(
      [
        {
          receiver: "ops",
          labels: { severity: "info" },
          alsoReached: [],
          integrations: [{ integration: "webhook", outcome: { state: "delivered", requests: 1 } }],
        },
      ],
      "alert:test, stack prod:",
    );
    expect(good).toEqual({
      ok: true,
      text: 'alert:test, stack prod:\nops (labels {severity="info"}):\n  webhook: delivered\nevery targeted integration delivered\n',
    });
    const bad = formatReport(
      [
        {
          receiver: "pager",
          labels: { severity: "critical" },
          alsoReached: ["ops"],
          integrations: [
            {
              integration: "pagerduty",
              outcome: { state: "failed", reason: "clientError", final: true, failedRequests: 1, error: "unexpected status code 400" },
            },
            { integration: "webhook", outcome: { state: "failed", reason: "retrying", final: false, failedRequests: 2 } },
            { integration: "email", outcome: { state: "not reached" } },
          ],
        },
        { receiver: "lost", alsoReached: [], integrations: [{ integration: "webhook", outcome: { state: "not reached" } }] },
      ],
      "h",
    );
    expect(bad.ok).toBe(false);
    expect(bad.text.split("\n")).toEqual([
      "h",
      'pager (labels {severity="critical"}; also reaches ops):',
      "  pagerduty: FAILED (reason clientError, 1 failed request); last error: unexpected status code 400",
      "  webhook: FAILED (2 failed requests, none succeeded; Alertmanager still retries, and gives its reason when it gives up)",
      "  email: not reached: Alertmanager did not try it within the wait",
      "lost: NOT REACHABLE: no labels the routing tree names send an alert to it",
      "not every targeted integration delivered",
      "",
    ]);
    expect(formatReport([], "h").ok).toBe(false);
  });
});

describe("the run, before anything is delivered", () => {
  /**
   * A client whose GET of /metrics answers `metrics` and whose POST of alerts answers `alerts`; the run
   * against the stack with `where` as its address, to the receiver ops. `posted`: the paths it posted to.
   */
  function runAgainst(
    where: string,
    metrics: { status: number; body: string },
    alerts: { status: number; body: string },
    namespace?: string,
  ) {
    const posted: string[] = [];
    const client = {
      get: async () => metrics,
      post: async (path: string) => {
        posted.push(path);
        return alerts;
      },
    };
    const run = runAlertTest({
      stack: "prod",
      routing: readRouting(TREE),
      targets: ["ops"],
      client,
      marginSeconds: 1,
      where,
      ...(namespace ? { namespace } : {}),
    });
    return { run, posted };
  }

  test("the 404's port-forward names the stack's namespace when the command knows it", async () => {
    const { run } = runAgainst(
      "https://alertmanager.example.com",
      { status: 200, body: 'alertmanager_notifications_total{integration="webhook",receiver_name="ops"} 0\n' },
      { status: 404, body: "404 page not found" },
      "monitoring-production",
    );
    await expect(run).rejects.toThrow(
      "kubectl -n monitoring-production port-forward svc/alertmanager 9093, then --url http://127.0.0.1:9093",
    );
  });

  test("the stack's public Traefik route answers POST /api/v2/alerts with 404: the run stops there and names the port-forward", async () => {
    const { run, posted } = runAgainst(
      "https://alertmanager.example.com",
      { status: 200, body: 'alertmanager_notifications_total{integration="webhook",receiver_name="ops"} 0\n' },
      { status: 404, body: "404 page not found" },
    );
    await expect(run).rejects.toThrow(
      /POST https:\/\/alertmanager\.example\.com\/api\/v2\/alerts: HTTP 404\. The stack's public Traefik route does not take alerts .*kubectl -n <namespace> port-forward svc\/alertmanager 9093, then --url http:\/\/127\.0\.0\.1:9093/,
    );
    // Nothing was taken, so nothing is resolved either.
    expect(posted).toEqual(["/api/v2/alerts"]);
  });

  test("an Alertmanager that does not answer /metrics stops the run before any alert is sent", async () => {
    const { run, posted } = runAgainst("https://am.example.com", { status: 401, body: "Unauthorized" }, { status: 200, body: "" });
    await expect(run).rejects.toThrow("GET https://am.example.com/metrics: HTTP 401 Unauthorized");
    expect(posted).toEqual([]);
  });
});

/**
 * Quiet hours: a receiver reached by a route active only in working hours (Paris) for warnings,
 * and by an open route for critical alerts; another reached only by the working-hours route; a
 * third muted at night (UTC). The moments are fixed: Wednesday 2026-11-25 10:00 Paris (09:00 UTC),
 * Saturday 2026-11-28 12:00 UTC, Wednesday 2026-11-25 23:30 UTC.
 */
const QUIET = `
route:
  receiver: ops
  group_wait: 30s
  routes:
    - receiver: office
      matchers: ['severity="warning"']
      active_time_intervals: [working-hours]
    - receiver: office
      matchers: ['severity="critical"', 'team="office"']
    - receiver: daytime
      matchers: ['team="daytime"']
      active_time_intervals: [working-hours]
    - receiver: sleepy
      matchers: ['team="sleepy"']
      mute_time_intervals: [nights]
time_intervals:
  - name: working-hours
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{start_time: "09:00", end_time: "18:00"}]
        location: Europe/Paris
  - name: nights
    time_intervals:
      - times: [{start_time: "22:00", end_time: "24:00"}, {start_time: "00:00", end_time: "07:00"}]
receivers:
  - name: ops
    webhook_configs: [{url: "http://x"}]
  - name: office
    webhook_configs: [{url: "http://o"}]
  - name: daytime
    webhook_configs: [{url: "http://d"}]
  - name: sleepy
    webhook_configs: [{url: "http://s"}]
`;

describe("time intervals: the label set a route lets through now, or which interval mutes it and until when", () => {
  const routing = readRouting(QUIET);
  const wednesdayParis10 = new Date("2026-11-25T09:00:00Z");
  const saturday = new Date("2026-11-28T12:00:00Z");
  const wednesdayNight = new Date("2026-11-25T23:30:00Z");

  test("Alertmanager's reading of a set: the location's clock, [start, end) times, inclusive ranges, days from the month's end", () => {
    const paris = { weekdays: ["monday:friday"], times: [{ start_time: "09:00", end_time: "18:00" }], location: "Europe/Paris" };
    expect(setHolds(paris, new Date("2026-11-25T08:00:00Z"))).toBe(true); // 09:00 in Paris
    expect(setHolds(paris, new Date("2026-11-25T07:59:00Z"))).toBe(false);
    expect(setHolds(paris, new Date("2026-11-25T17:00:00Z"))).toBe(false); // 18:00: the end is excluded
    expect(setHolds(paris, saturday)).toBe(false);
    expect(setHolds({ days_of_month: ["-1"] }, new Date("2026-02-28T12:00:00Z"))).toBe(true);
    expect(setHolds({ days_of_month: ["-1"] }, new Date("2026-11-29T12:00:00Z"))).toBe(false);
    expect(setHolds({ months: ["november:december"], years: ["2026"] }, saturday)).toBe(true);
    expect(setHolds({ months: ["1:10"] }, saturday)).toBe(false);
  });

  test("in working hours the mildest label set is taken; on a Saturday the one through the open route", () => {
    expect(labelsFor(routing, "office", undefined, wednesdayParis10)?.labels).toEqual({ severity: "warning" });
    const weekend = labelsFor(routing, "office", undefined, saturday);
    expect(weekend?.labels).toEqual({ severity: "critical", team: "office" });
    expect(weekend?.muted).toBeUndefined();
  });

  test("a receiver only a muted route reaches: the interval, and the first minute it lets a notification through", () => {
    expect(labelsFor(routing, "daytime", undefined, saturday)).toMatchObject({
      labels: { severity: "info", team: "daytime" },
      muted: { kind: "active", intervals: ["working-hours"], until: new Date("2026-11-30T08:00:00Z") },
    });
    expect(labelsFor(routing, "sleepy", undefined, wednesdayNight)).toMatchObject({
      muted: { kind: "mute", intervals: ["nights"], until: new Date("2026-11-26T07:00:00Z") },
    });
    expect(labelsFor(routing, "sleepy", undefined, wednesdayParis10)?.muted).toBeUndefined();
  });

  test("the run sends nothing to a muted receiver and reports why, until when, and not ok", async () => {
    const posted: unknown[] = [];
    const client: AlertmanagerClient = {
      get: async () => ({ status: 200, body: 'alertmanager_notifications_total{integration="webhook",receiver_name="daytime"} 0\n' }),
      post: async (_path, body) => {
        posted.push(body);
        return { status: 200, body: "" };
      },
    };
    const lines: string[] = [];
    const { results } = await runAlertTest({
      stack: "prod",
      routing,
      targets: ["daytime"],
      client,
      marginSeconds: 1,
      where: "http://127.0.0.1:9093",
      now: saturday,
      log: (l) => lines.push(l),
    });
    expect(posted).toEqual([]);
    const report = formatReport(results, "header");
    expect(report.ok).toBe(false);
    expect(report.text).toContain(
      'daytime (labels {severity="info", team="daytime"}): MUTED: its route is active only during time interval "working-hours" (activeTimeIntervals), ' +
        "which does not hold now, so Alertmanager notifies no one through it until 2026-11-30 08:00 UTC; no test alert was sent to it: run the test again then",
    );
    expect(lines[0]).toMatch(/^daytime: not sent: MUTED/);
  });
});
