/**
 * Alerting end to end, with real servers on 127.0.0.1: the deployed releases of
 * Prometheus and of Alertmanager (three clustered peers) run the production stack's rendered
 * rules, routing and templates. The stack is rendered the way a user could deploy it
 * (`--set` overrides: short intervals, webhook URLs pointing at a local sink that
 * answers like Discord, the app to watch as a static URL); only what needs a cluster
 * is swapped for local addresses: Kubernetes service discovery (scrape jobs and
 * Alertmanager discovery), file paths and listen addresses.
 *
 * The app goes down: the critical channel receives exactly one message naming the
 * alert and the app, within a bound computed from the config, although one peer was
 * stopped before the alert fired, and although a pod of another namespace that carries the
 * app's label (scraped by the annotated pods' job) keeps answering: it is not the app. The app comes back: one RESOLVED message. The
 * measured latencies go to out/bench/alerting-e2e.json for the benchmark script;
 * the only timing assertion is the computed bound.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { durationSeconds } from "../../components/kit/units";
import type { Rendered } from "../../cli/render";
import { localAlertmanagerArgs, writeAlertmanagerFiles } from "../../lab/local/alertmanager";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { ManagedProcess } from "../../lab/processes/children";
import { sleep, waitFor } from "../../lab/processes/supervision";
import { LoopbackServer, httpGet, httpGetJson } from "../../lab/local/http";
import { stackBinary } from "../../lab/local/binaries";
import { objectOf, render } from "../support/render";
import { localRun } from "./support/local-run";

const STACK = "production";
/** The app the test watches, and the alert its outage raises (generated per app, labelled `app`). */
const APP = "checkout";
const ALERT = "AppDown";

/** The stack config under test: what a user would set to get fast alerts. */
const TIMING = { scrapeInterval: "1s", scrapeTimeout: "1s", evaluationInterval: "1s", groupWait: "1s", groupInterval: "2s" };

/** Alertmanager's default --cluster.peer-timeout: how long the peer at position n waits (n times) before sending in its turn. */
const PEER_TIMEOUT_MS = 15_000;
/**
 * Allowance for what the config does not bound: process scheduling, the HTTP calls
 * Prometheus -> Alertmanager -> sink, and the sink's clock reading. Seconds, not
 * tens of seconds: a bound that large would no longer say anything.
 */
const SLACK_MS = 5_000;

interface SinkMessage {
  channel: string;
  receivedAt: number;
  body: { embeds?: Array<{ title?: string; description?: string }>; alerts?: Array<{ labels: Record<string, string>; status: string }> };
}

/**
 * A local stand-in for Discord's webhook endpoint (and a plain webhook for the dead
 * man's switch): it records every call and answers as Discord does, 204 for a
 * well-formed message and 400 for a malformed one (no embed, or over Discord's
 * length limits), so that a message Discord would refuse fails the test.
 */
function sinkHandler(messages: SinkMessage[], rejected: string[]): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const channel = (req.url ?? "/").slice(1);
      let body: SinkMessage["body"];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as SinkMessage["body"];
      } catch {
        rejected.push(`${channel}: not JSON`);
        res.writeHead(400).end();
        return;
      }
      if (channel !== "deadmans-switch") {
        const embed = body.embeds?.[0];
        const problem =
          req.method !== "POST"
            ? `method ${req.method}`
            : !String(req.headers["content-type"]).startsWith("application/json")
              ? `content-type ${req.headers["content-type"]}`
              : !embed?.title
                ? "no embed title"
                : [...embed.title].length > 256
                  ? "title over 256 characters"
                  : [...(embed.description ?? "")].length > 4096
                    ? "description over 4096 characters"
                    : undefined;
        if (problem) {
          rejected.push(`${channel}: ${problem}`);
          res.writeHead(400).end();
          return;
        }
      }
      messages.push({ channel, receivedAt: Date.now(), body });
      res.writeHead(204).end();
    });
  };
}

/** The app: a metrics endpoint that can go down and come back on the same port. */
const appHandler: http.RequestListener = (req, res) => {
  if (req.url !== "/metrics") {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
  res.end(
    [
      "# HELP http_requests_total Requests served.",
      "# TYPE http_requests_total counter",
      'http_requests_total{method="GET",status="200",endpoint="/"} 42',
      "",
    ].join("\n"),
  );
};

interface RuleGroup {
  name: string;
  interval?: string;
  rules: Array<{
    alert?: string;
    record?: string;
    for?: string;
    expr: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  }>;
}

/** The rendered rule files of the Prometheus component: file name to content. */
function renderedRuleFiles(rendered: Rendered): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, content] of rendered.files) {
    if (!file.startsWith("prometheus/")) continue;
    const doc = YAML.parse(content) as { groups?: unknown } | null;
    if (doc && Array.isArray(doc.groups)) out.set(path.basename(file), content);
  }
  return out;
}

/** Seconds of a Prometheus duration; fails loudly on anything else. */
function seconds(duration: string | undefined, what: string): number {
  const s = durationSeconds(duration ?? "0s");
  if (s === undefined) throw new Error(`${what}: "${duration}" is not a duration`);
  return s;
}

interface AmStatus {
  cluster: { status: string; peers: unknown[] };
}

describe("alerting end to end (real Prometheus and a 3-peer Alertmanager cluster on 127.0.0.1)", () => {
  const run = localRun();
  const messages: SinkMessage[] = [];
  const rejected: string[] = [];
  let tmp = "";
  let amDir = "";
  let app: LoopbackServer;
  let alertmanagers: Array<{ proc: ManagedProcess; web: number }> = [];
  let prometheus: ManagedProcess;
  let prometheusPort = 0;
  let forSeconds = 0;
  let annotations: Record<string, string> = {};
  let evaluationSeconds = 0;
  const measured: Record<string, number> = {};

  /** What the sink saw, beside what every process printed, to explain a failure. */
  const sinkState = () => `sink rejected: ${JSON.stringify(rejected)}\nsink received: ${JSON.stringify(messages)}`;
  const explain = <T>(step: Promise<T>): Promise<T> => run.explain(step, sinkState);

  const appMessages = (channel: string, status: "FIRING" | "RESOLVED") =>
    messages.filter(
      (m) =>
        m.channel === channel &&
        (m.body.embeds?.[0]?.title ?? "").startsWith(`[${status}`) &&
        (m.body.embeds?.[0]?.title ?? "").includes(ALERT),
    );

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "alerting-e2e-"));
    const [sinkPort, appPort, namesakePort, promPort, ...amPorts] = await freePorts(4 + 6);
    prometheusPort = promPort;

    await run.serve(sinkPort, sinkHandler(messages, rejected));
    app = await run.serve(appPort, appHandler);
    // A pod elsewhere labelled with the app's name, in the annotated pods' job: it stays up throughout.
    await run.serve(namesakePort, appHandler);

    const sinkUrl = (channel: string) => `http://${LOOPBACK}:${sinkPort}/${channel}`;
    const rendered = await render(STACK, [
      // Three nodes, for the production profile's three clustered Alertmanager peers (one per node).
      "nodes=3",
      `prometheus.scrapeInterval=${TIMING.scrapeInterval}`,
      `prometheus.scrapeTimeout=${TIMING.scrapeTimeout}`,
      `prometheus.evaluationInterval=${TIMING.evaluationInterval}`,
      `alertmanager.groupWait=${TIMING.groupWait}`,
      `alertmanager.groupInterval=${TIMING.groupInterval}`,
      `apps=[{name: ${APP}, url: "http://${LOOPBACK}:${appPort}/metrics"}]`,
      `discordWebhookUrl=${sinkUrl("monitoring")}`,
      `discordCriticalWebhookUrl=${sinkUrl("critical")}`,
      `deadMansSwitchUrl=${sinkUrl("deadmans-switch")}`,
    ]);

    // Rules: every rendered rule file (rules/ and the generated app rules), as Prometheus mounts them.
    const rulesDir = path.join(tmp, "rules");
    fs.mkdirSync(rulesDir);
    const ruleFiles = renderedRuleFiles(rendered);
    for (const [file, content] of ruleFiles) fs.writeFileSync(path.join(rulesDir, file), content);
    const groups = [...ruleFiles.values()].flatMap((c) => (YAML.parse(c) as { groups: RuleGroup[] }).groups);
    const group = groups.find((g) => g.rules.some((r) => r.alert === ALERT));
    const rule = group?.rules.find((r) => r.alert === ALERT);
    if (!group || !rule) throw new Error(`no ${ALERT} alert in the rendered rules (${[...ruleFiles.keys()].join(", ")})`);
    expect(rule.labels?.severity).toBe("critical");
    forSeconds = seconds(rule.for, `${ALERT}'s for`);
    annotations = rule.annotations ?? {};

    // Prometheus: the rendered config, with Kubernetes discovery swapped for local addresses.
    const promConfig = YAML.parse(rendered.files.get("prometheus/prometheus.yml") ?? "") as Record<string, unknown> & {
      global: { evaluation_interval: string };
      scrape_configs: Array<{ job_name: string; fallback_scrape_protocol?: string; static_configs?: Array<{ targets: string[] }> }>;
      alerting?: { alertmanagers: unknown[] };
    };
    evaluationSeconds = seconds(group.interval ?? promConfig.global.evaluation_interval, "evaluation interval");
    const appJobs = promConfig.scrape_configs.filter((j) => j.static_configs?.some((s) => s.targets.includes(`${LOOPBACK}:${appPort}`)));
    expect(appJobs.map((j) => j.job_name)).toEqual([APP]);
    if (!promConfig.alerting) throw new Error("the rendered Prometheus config sends alerts nowhere");
    const amWeb = amPorts.slice(0, 3);
    const amMesh = amPorts.slice(3);
    const localConfig = {
      ...promConfig,
      rule_files: [path.join(rulesDir, "*.yml")],
      scrape_configs: [
        ...appJobs,
        // What the annotated pods' job makes of a pod of another namespace labelled app=<the app's name>.
        {
          job_name: "kubernetes-pods",
          fallback_scrape_protocol: appJobs[0].fallback_scrape_protocol,
          static_configs: [{ targets: [`${LOOPBACK}:${namesakePort}`], labels: { app: APP, namespace: "elsewhere", pod: `${APP}-0` } }],
        },
      ],
      alerting: {
        ...promConfig.alerting,
        alertmanagers: [{ api_version: "v2", scheme: "http", static_configs: [{ targets: amWeb.map((p) => `${LOOPBACK}:${p}`) }] }],
      },
    };
    fs.writeFileSync(path.join(tmp, "prometheus.yml"), YAML.stringify(localConfig));

    // Alertmanager: the rendered files in one directory (as mounted), the rendered args with local addresses.
    amDir = writeAlertmanagerFiles(rendered, "alerting-e2e-am-").dir;
    const statefulSet = objectOf(rendered, "StatefulSet", "alertmanager").spec as {
      replicas: number;
      template: { spec: { containers: Array<{ name: string; args: string[] }> } };
    };
    expect(statefulSet.replicas).toBe(3);
    const renderedArgs = statefulSet.template.spec.containers.find((c) => c.name === "alertmanager")?.args ?? [];
    expect(renderedArgs.filter((a) => a.startsWith("--cluster.peer="))).toHaveLength(3);
    alertmanagers = amWeb.map((web, i) => {
      const storage = path.join(tmp, `alertmanager-${i}`);
      fs.mkdirSync(storage);
      const args = localAlertmanagerArgs(renderedArgs, {
        config: path.join(amDir, "alertmanager.yml"),
        storage,
        web,
        mesh: amMesh[i],
        peers: amMesh,
      });
      const proc = run.start(`alertmanager-${i}`, stackBinary("alertmanager"), args);
      return { proc, web };
    });

    prometheus = run.start(
      "prometheus",
      stackBinary("prometheus"),
      [
        `--config.file=${path.join(tmp, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(tmp, "prometheus-data")}`,
        `--web.listen-address=${LOOPBACK}:${prometheusPort}`,
      ],
      { env: { POD_NAME: "prometheus-0" } },
    );

    await explain(
      Promise.all(
        alertmanagers.map(({ web }, i) =>
          waitFor(
            `alertmanager-${i} to join a settled 3-peer cluster`,
            async () => {
              const status = await httpGetJson<AmStatus>(`http://${LOOPBACK}:${web}/api/v2/status`);
              return status.cluster.status === "ready" && status.cluster.peers.length === 3 ? true : undefined;
            },
            60_000,
          ),
        ),
      ),
    );
    await explain(
      waitFor(
        `Prometheus to scrape ${APP} and its namesake elsewhere (up == 1) and to know the 3 Alertmanagers`,
        async () => {
          const up = await httpGetJson<{ data: { result: Array<{ value: [number, string] }> } }>(
            `http://${LOOPBACK}:${prometheusPort}/api/v1/query?query=${encodeURIComponent(`min(up{app="${APP}"}) and count(up{app="${APP}"}) == 2`)}`,
          );
          const ams = await httpGetJson<{ data: { activeAlertmanagers: unknown[] } }>(
            `http://${LOOPBACK}:${prometheusPort}/api/v1/alertmanagers`,
          );
          return up.data.result[0]?.value[1] === "1" && ams.data.activeAlertmanagers.length === 3 ? true : undefined;
        },
        30_000,
      ),
    );
  }, 120_000);

  afterAll(async () => {
    for (const dir of [tmp, amDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (Object.keys(measured).length > 0) {
      const bench = path.join(__dirname, "..", "..", "out", "bench");
      fs.mkdirSync(bench, { recursive: true });
      fs.writeFileSync(path.join(bench, "alerting-e2e.json"), `${JSON.stringify(measured, null, 2)}\n`);
    }
  }, 60_000);

  test("the app goes down: the critical channel gets exactly one message naming the alert and the app, within the bound, with a peer stopped", async () => {
    const scrapeMs = seconds(TIMING.scrapeInterval, "scrape interval") * 1000;
    const evaluationMs = evaluationSeconds * 1000;
    // Next scrape fails; next evaluation sees it (pending); `for` later, the evaluation that fires;
    // Alertmanager holds a new group for group_wait, then the first peer in the cluster sends.
    const boundMs = scrapeMs + evaluationMs + forSeconds * 1000 + evaluationMs + seconds(TIMING.groupWait, "group wait") * 1000 + SLACK_MS;

    const downAt = Date.now();
    await app.stop();
    // One peer goes away while the alert is pending: the other two must still notify, once.
    await alertmanagers[0].proc.stop();
    expect(Date.now() - downAt).toBeLessThan(forSeconds * 1000);

    const first = await explain(
      waitFor(`the ${ALERT} message on the critical channel`, async () => appMessages("critical", "FIRING")[0], boundMs + 30_000),
    );
    const latency = first.receivedAt - downAt;
    measured.firingMs = latency;
    measured.firingBoundMs = boundMs;

    // A duplicate would come from a peer further down the cluster order, one peer timeout per position.
    await sleep(PEER_TIMEOUT_MS * (alertmanagers.length - 1) + 2_000);
    expect(appMessages("critical", "FIRING")).toHaveLength(1);
    expect(appMessages("monitoring", "FIRING")).toEqual([]);
    expect(rejected).toEqual([]);
    // The namesake answers all along, labelled with the app's name: it did not hold the app up.
    const namesakeUp = await httpGetJson<{ data: { result: Array<{ value: [number, string] }> } }>(
      `http://${LOOPBACK}:${prometheusPort}/api/v1/query?query=${encodeURIComponent(`up{app="${APP}", job="kubernetes-pods"}`)}`,
    );
    expect(namesakeUp.data.result.map((r) => r.value[1])).toEqual(["1"]);

    const embed = first.body.embeds?.[0] ?? {};
    expect(embed.title).toBe(`[FIRING:1] ${STACK}: ${ALERT} (critical)`);
    expect(embed.description).toContain(`FIRING in ${STACK}:`);
    // AppDown speaks of the app as a whole (`max by (app)`): the app is the target it names.
    expect(embed.description).toContain(`where: app=${APP}`);
    expect(embed.description).toMatch(/since: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(embed.description).toContain(`- ${ALERT}: ${annotations.summary}`);
    // The staging stack publishes no runbooks (no prometheus.runbookBaseUrl): the message names the section.
    expect(embed.description).toContain(`runbook: ${annotations.runbook_url ?? annotations.runbook}`);
    expect(embed.description).toMatch(new RegExp(`app ${APP}\\b`, "i"));
    expect(latency).toBeLessThanOrEqual(boundMs);
  }, 180_000);

  test("the app comes back: one RESOLVED message on the critical channel", async () => {
    expect(appMessages("critical", "FIRING")).toHaveLength(1);
    // Next scrape succeeds; next evaluation resolves; the group's next flush sends it.
    const boundMs =
      seconds(TIMING.scrapeInterval, "scrape interval") * 1000 +
      evaluationSeconds * 1000 +
      seconds(TIMING.groupInterval, "group interval") * 1000 +
      SLACK_MS;
    const upAt = Date.now();
    await app.start();
    const resolved = await explain(
      waitFor(`the RESOLVED ${ALERT} message`, async () => appMessages("critical", "RESOLVED")[0], boundMs + 30_000),
    );
    measured.resolvedMs = resolved.receivedAt - upAt;
    measured.resolvedBoundMs = boundMs;

    await sleep(PEER_TIMEOUT_MS + 2_000);
    expect(appMessages("critical", "RESOLVED")).toHaveLength(1);
    const embed = resolved.body.embeds?.[0] ?? {};
    expect(embed.title).toBe(`[RESOLVED] ${STACK}: ${ALERT} (critical)`);
    expect(embed.description).toContain(`RESOLVED in ${STACK}:`);
    expect(embed.description).toContain(`app=${APP}`);
    expect(embed.description).toMatch(/, resolved \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(measured.resolvedMs).toBeLessThanOrEqual(boundMs);
  }, 120_000);

  test("the Watchdog reached the dead man's switch, and never a human channel", () => {
    const pings = messages.filter((m) => m.channel === "deadmans-switch");
    expect(pings.length).toBeGreaterThanOrEqual(1);
    expect(pings[0].body.alerts?.map((a) => a.labels.alertname)).toEqual(["Watchdog"]);
    const human = messages.filter((m) => m.channel !== "deadmans-switch");
    expect(human.filter((m) => (m.body.embeds?.[0]?.title ?? "").includes("Watchdog"))).toEqual([]);
  });

  test("every process was still running until the end (none crashed)", async () => {
    for (const { proc, web } of alertmanagers.slice(1)) {
      expect({ name: proc.name, alive: proc.alive }).toEqual({ name: proc.name, alive: true });
      expect((await httpGet(`http://${LOOPBACK}:${web}/-/healthy`)).status).toBe(200);
    }
    expect(prometheus.alive).toBe(true);
  });
});
