/**
 * `npm run alert:test` (scripts/alert-test.ts) against the real Alertmanager the stack deploys,
 * started with the rendered alertmanager.yml and args (receiver-name-in-metrics among them) of
 * the staging stack with three receivers, each a webhook to a sink on 127.0.0.1: `ops` (the
 * default) and `pager` (severity="critical") at a sink that answers 200, `payments`
 * (team="payments") at one that answers 500. The command runs as a user runs it (its package.json
 * script, test/support/npm-script.ts; the same `--set`s, `--url` as a port-forward gives it) and is judged by what it prints, its exit
 * status and what the sinks received; the labels it picks for each receiver are checked against
 * `amtool config routes test` on the same file.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { routeOf } from "../../lab/local/alertmanager";
import { scriptArguments } from "../support/npm-script";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { ManagedProcess } from "../../lab/processes/children";
import { waitFor } from "../../lab/processes/supervision";
import { httpGetJson, sinkHandler } from "../../lab/local/http";
import { TEST_ALERTNAME, TEST_LABEL, labelsFor, readRouting } from "../../cli/alert-routing";
import { ROOT } from "../../cli/stackfile";
import { containerArgs } from "../../lab/local/rendered";
import { render } from "../support/render";
import { localRun } from "./support/local-run";
import { renderedAlertmanager } from "./support/alertmanager";

jest.setTimeout(240_000);

const STACK = "staging";

interface Received {
  path: string;
  body: {
    status?: string;
    receiver?: string;
    alerts?: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
  };
}

/** The command as a user runs it; resolves with its exit code and output (never rejects on a non-zero exit). */
function alertTest(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...scriptArguments("alert:test"), ...args],
      { cwd: ROOT, timeout: 180_000, env: { ...process.env, ALERT_TEST_PASSWORD: "" } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe("npm run alert:test on the real Alertmanager with the rendered routing (sinks on 127.0.0.1)", () => {
  const run = localRun();
  const am = renderedAlertmanager(run, "alert-test");
  const good: Received[] = [];
  const broken: Received[] = [];
  let alertmanager: ManagedProcess;
  let sets: string[] = [];
  /** The command line of the stack: its plain keys with --set, the webhooks' URLs (secrets) in a --secrets-file. */
  let stackArgs: string[] = [];
  let amUrl = "";
  let tmp = "";
  let logFile = "";
  let config = "";
  const record = (into: Received[], status: number) =>
    sinkHandler((req) => {
      into.push({ path: req.url, body: JSON.parse(req.body) as Received["body"] });
      return { status, body: status === 200 ? "ok" : "down for the test" };
    });
  const explain = <T>(step: Promise<T>): Promise<T> => run.explain(step, () => JSON.stringify({ good, broken }, null, 1));

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "alert-test-"));
    logFile = path.join(tmp, "alertmanager.log");
    const [goodPort, brokenPort] = await freePorts(2);
    await run.serve(goodPort, record(good, 200));
    await run.serve(brokenPort, record(broken, 500));
    sets = [
      "alertmanager.groupWait=1s",
      "alertmanager.groupInterval=2s",
      "alertmanager.receivers=[{name: ops, webhook: {}}, {name: pager, webhook: {}}, {name: payments, webhook: {}}]",
      `alertmanager.routes=[{receiver: payments, matchers: ['team="payments"']}, {receiver: pager, matchers: ['severity="critical"']}]`,
      "alertmanager.defaultReceiver=ops",
      `webhookUrls.ops=http://${LOOPBACK}:${goodPort}/ops`,
      `webhookUrls.pager=http://${LOOPBACK}:${goodPort}/pager`,
      `webhookUrls.payments=http://${LOOPBACK}:${brokenPort}/payments`,
    ];
    const rendered = await render(STACK, sets);
    const secrets = path.join(tmp, "secrets.yaml");
    const secret = (s: string) => s.startsWith("webhookUrls.");
    fs.writeFileSync(
      secrets,
      sets
        .filter(secret)
        .map((s) => `${s.slice(0, s.indexOf("="))}: ${s.slice(s.indexOf("=") + 1)}\n`)
        .join(""),
      {
        mode: 0o600,
      },
    );
    stackArgs = [...sets.filter((s) => !secret(s)).flatMap((s) => ["--set", s]), "--secrets-file", secrets];
    expect(containerArgs(rendered, "StatefulSet", "alertmanager")).toContain("--enable-feature=receiver-name-in-metrics");
    const running = await am.start(rendered, { extra: () => JSON.stringify({ good, broken }, null, 1) });
    ({ config, url: amUrl, process: alertmanager } = running);
    // What `kubectl logs` would give: the process's output, kept in a file the command reads (--logs).
    const timer = setInterval(() => fs.writeFileSync(logFile, `${alertmanager.output(200)}\n`), 250);
    timer.unref();
    afterAllCleanups.push(() => clearInterval(timer));
  }, 120_000);

  const afterAllCleanups: Array<() => void> = [];
  afterAll(() => {
    for (const c of afterAllCleanups) c();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("the labels it gives each receiver's test alert are the ones amtool routes there", () => {
    const routing = readRouting(fs.readFileSync(config, "utf8"));
    const picked: Record<string, Record<string, string> | undefined> = {};
    for (const receiver of ["ops", "pager", "payments"]) {
      const found = labelsFor(routing, receiver);
      picked[receiver] = found?.labels;
      expect(routeOf(config, { alertname: TEST_ALERTNAME, [TEST_LABEL]: "true", ...found?.labels })).toEqual([receiver]);
    }
    expect(picked).toEqual({
      ops: { severity: "info" },
      pager: { severity: "critical" },
      payments: { severity: "info", team: "payments" },
    });
  });

  test("every receiver: ops and pager delivered, payments (its sink answers 500) failed with Alertmanager's reason and the last error; exit 1; the alerts resolved", async () => {
    const out = await explain(alertTest(["--stack", STACK, "--url", amUrl, "--margin", "40", "--logs", logFile, ...stackArgs]));
    const lines = out.stdout.split("\n");
    expect({ code: out.code, stdout: out.stdout, stderr: out.stderr }).toMatchObject({ code: 1 });
    // Each alert has an instance of its own: the stack's inhibit rules would let the critical one mute the others.
    expect(lines).toContain('ops (labels {severity="info", instance="alert-test-ops"}):');
    expect(lines).toContain('pager (labels {severity="critical", instance="alert-test-pager"}):');
    expect(lines).toContain('payments (labels {severity="info", team="payments", instance="alert-test-payments"}):');
    const at = (receiver: string) => lines[lines.findIndex((l) => l.startsWith(`${receiver} (`)) + 1];
    expect(at("ops")).toBe("  webhook: delivered");
    expect(at("pager")).toBe("  webhook: delivered");
    expect(at("payments")).toMatch(/^ {2}webhook: FAILED \(reason serverError, \d+ failed requests?\); last error: .*500/);
    expect(lines).toContain("not every targeted integration delivered");

    // What the sinks received: each receiver's own test alert, marked and signed, then (ops, pager) resolved.
    const firing = (r: Received) => r.body.alerts?.find((a) => a.labels.alertname === TEST_ALERTNAME && a.status === "firing");
    const ops = good.find((r) => r.path === "/ops" && firing(r));
    expect(firing(ops ?? { path: "", body: {} })).toMatchObject({
      labels: { alertname: TEST_ALERTNAME, alert_test: "true", severity: "info" },
      annotations: { summary: "Test alert from npm run alert:test for receiver ops: not a real problem" },
    });
    expect(firing(ops ?? { path: "", body: {} })?.annotations.description).toMatch(
      /^Sent by .+@.+ at \d{4}-\d\d-\d\dT.* to check that stack staging delivers to receiver ops/,
    );
    expect(good.filter((r) => r.path === "/pager" && firing(r)).map((r) => firing(r)?.labels.severity)).toEqual(["critical"]);
    expect(broken.length).toBeGreaterThan(0);
    expect(broken.every((r) => r.path === "/payments")).toBe(true);
    await explain(
      waitFor(
        "the resolved messages of ops and pager",
        async () =>
          ["/ops", "/pager"].every((p) => good.some((r) => r.path === p && r.body.alerts?.some((a) => a.status === "resolved")))
            ? true
            : undefined,
        30_000,
      ),
    );
    const active = await httpGetJson<Array<{ labels: Record<string, string> }>>(`${amUrl}/api/v2/alerts?active=true`);
    expect(active.filter((a) => a.labels.alertname === TEST_ALERTNAME)).toEqual([]);
  });

  test("--receiver ops tests that one alone: delivered, exit 0, nothing more to the failing sink", async () => {
    const brokenBefore = broken.length;
    const goodBefore = good.length;
    const out = await explain(alertTest(["--stack", STACK, "--url", amUrl, "--receiver", "ops", ...stackArgs]));
    expect({ code: out.code, stdout: out.stdout, stderr: out.stderr }).toMatchObject({ code: 0 });
    expect(out.stdout.split("\n").filter((l) => /^\S/.test(l) && !l.startsWith("alert:test"))).toEqual([
      'ops (labels {severity="info", instance="alert-test-ops"}):',
      "every targeted integration delivered",
    ]);
    expect(out.stdout).toContain("  webhook: delivered");
    // Only ops gets a firing test alert of this run (pager's resolved message of the first run may still come in).
    const firingRuns = (rs: Received[]) =>
      rs.flatMap((r) => (r.body.alerts ?? []).filter((a) => a.status === "firing").map((a) => `${r.path} ${a.labels.alert_test_run}`));
    const before = new Set(firingRuns(good.slice(0, goodBefore)).map((x) => x.split(" ")[1]));
    expect(
      firingRuns(good.slice(goodBefore))
        .filter((x) => !before.has(x.split(" ")[1]))
        .map((x) => x.split(" ")[0]),
    ).toEqual(["/ops"]);
    // The payments group of the first test may still be retried or flush its resolved message: no test run's alert is new there.
    const runs = (rs: Received[]) => new Set(rs.flatMap((r) => (r.body.alerts ?? []).map((a) => a.labels.alert_test_run)));
    const earlier = runs(broken.slice(0, brokenBefore));
    expect([...runs(broken.slice(brokenBefore))].filter((id) => !earlier.has(id))).toEqual([]);
  });

  test("an unknown receiver is refused with the stack's receivers, an unknown stack with the stacks there, before anything is sent", async () => {
    const runsBefore = new Set([...good, ...broken].flatMap((r) => (r.body.alerts ?? []).map((a) => a.labels.alert_test_run)));
    const receiver = await alertTest(["--stack", STACK, "--url", amUrl, "--receiver", "opps", ...stackArgs]);
    expect(receiver.code).toBe(2);
    expect(receiver.stderr).toContain(
      'alert:test: stack staging has no receiver "opps"; its receivers are: ops, pager, payments, null (those that send: ops, pager, payments)',
    );
    const stack = await alertTest(["--stack", "stagign", "--url", amUrl]);
    expect(stack.code).toBe(2);
    expect(stack.stderr).toMatch(/alert:test: no stack file Pulumi\.stagign\.yaml; the stacks here are: .*staging/);
    // The first test's payments group is still retried at its sink: no alert of a new run reached either sink.
    expect(
      [...good, ...broken].flatMap((r) => (r.body.alerts ?? []).map((a) => a.labels.alert_test_run)).filter((id) => !runsBefore.has(id)),
    ).toEqual([]);
  });
});
