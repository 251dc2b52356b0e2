/**
 * A hostile namespace against the stack's Alertmanager, on the deployed release and the rendered
 * config (a critical and a warning receiver, the dead man's switch, each a local sink): the
 * issue-45 object that names an alert like a built-in warning with `severity: critical` and
 * `watchdog: "true"` is refused by name; the same tenant's loadable alert, as the stack loads it
 * (held to its namespace), reaches the critical receiver as its own, while the victim's AppDown
 * still reaches the critical sink and the real warning the warning sink. The object as main loaded
 * it, posted to the same Alertmanager, goes to the dead man's switch and mutes the real warning:
 * what the refusal prevents, and proof that the checks above can fail.
 */
import * as YAML from "yaml";
import { PrometheusRuleObject } from "../../components/prometheus/rules/operator-rules";
import { operatorRuleFiles } from "../../preflight/operator-rules";
import { tenantRulePolicy } from "../../preflight/tenant-policy";
import { LOOPBACK, freePorts } from "../../lab/ports";
import { sleep } from "../../lab/processes/supervision";
import { sinkHandler } from "../../lab/local/http";
import { parse } from "../config/support";
import { render } from "../support/render";
import { localRun } from "./support/local-run";
import { RunningAlertmanager, renderedAlertmanager } from "./support/alertmanager";

interface Delivered {
  channel: string;
  labels: Record<string, string>;
}

const TENANT = "billing";
const VICTIM = "shop";
/** The object: a built-in warning's name, critical, routed to the dead man's switch, in the victim's namespace. */
const muteRule = {
  alert: "KubePodCrashLooping",
  expr: "vector(1)",
  labels: { severity: "critical", watchdog: "true", namespace: VICTIM, pod: "api-1" },
};
const objects: PrometheusRuleObject[] = [
  { namespace: TENANT, name: "mute", generation: 1, spec: { groups: [{ name: "g", rules: [muteRule] }] } },
  {
    namespace: TENANT,
    name: "loud",
    generation: 1,
    spec: {
      groups: [{ name: "g", rules: [{ alert: "ShopCrashLooping", expr: "vector(1)", labels: { severity: "critical", pod: "api-0" } }] }],
    },
  },
];

describe("a hostile namespace's alerts through the rendered Alertmanager", () => {
  const run = localRun();
  const alertmanagerOf = renderedAlertmanager(run, "tenant-alerting");
  const delivered: Delivered[] = [];
  let am: RunningAlertmanager;
  let loaded: Array<[string, string]> = [];
  let warnings: string[] = [];
  const state = () => `sink received: ${JSON.stringify(delivered)}`;
  const arrived = (channel: string, alertname: string, namespace?: string) =>
    delivered.filter(
      (d) => d.channel === channel && d.labels.alertname === alertname && (namespace === undefined || d.labels.namespace === namespace),
    );

  beforeAll(async () => {
    const [sinkPort] = await freePorts(1);
    await run.serve(
      sinkPort,
      sinkHandler((req) => {
        const body = JSON.parse(req.body) as { alerts?: Array<{ labels: Record<string, string> }> };
        delivered.push(...(body.alerts ?? []).map((a) => ({ channel: (req.url ?? "/").slice(1), labels: a.labels })));
        return { status: 200 };
      }),
    );
    const sink = (channel: string) => `http://${LOOPBACK}:${sinkPort}/${channel}`;
    const receivers = [
      { name: "pager", webhook: {} },
      { name: "chat", webhook: {} },
    ];
    const routes = [
      { receiver: "pager", matchers: ['severity="critical"'] },
      { receiver: "chat", matchers: ['severity=~"warning|info"'] },
    ];
    const rendered = await render("staging", [
      "alertmanager.groupWait=1s",
      "alertmanager.groupInterval=2s",
      `alertmanager.receivers=${JSON.stringify(receivers)}`,
      `alertmanager.routes=${JSON.stringify(routes)}`,
      "alertmanager.defaultReceiver=chat",
      `webhookUrls.pager=${sink("critical")}`,
      `webhookUrls.chat=${sink("warning")}`,
      `deadMansSwitchUrl=${sink("deadmans-switch")}`,
    ]);
    am = await alertmanagerOf.start(rendered, { extra: state });
    // The policy of the same stack, as pulumi up derives it.
    const { config } = parse(
      "staging",
      {
        profile: "staging",
        environment: "staging",
        monitors: { enabled: true },
        alertmanager: { receivers, routes, defaultReceiver: "chat" },
      },
      { webhookUrls: { pager: sink("critical"), chat: sink("warning") }, deadMansSwitchUrl: sink("deadmans-switch") },
    );
    ({ files: loaded, warnings } = operatorRuleFiles(objects, tenantRulePolicy(config), [], "monitoring:monitors.rules"));
  });

  test("the issue's object is refused by name; the other loads, held to its namespace, without watchdog", () => {
    expect(warnings).toEqual([
      expect.stringMatching(/PrometheusRule billing\/mute is not loaded .*KubePodCrashLooping is a built-in alert.*watchdog routes alerts/),
    ]);
    expect(loaded.map(([k]) => k)).toEqual(["operator.billing.loud.yml", "operator-rules-loaded.yml"]);
  });

  test("the victim's AppDown reaches the critical sink, the real warning its sink, the tenant's alert only as its own", async () => {
    const held = (YAML.parse(loaded[0][1]) as { groups: Array<{ rules: Array<{ alert: string; labels: Record<string, string> }> }> })
      .groups[0].rules[0];
    // What Prometheus sends for the held rule over vector(1): its labels, the emptied ones dropped (test/e2e/tenant-rules.test.ts runs that in promtool).
    const tenantLabels = { alertname: held.alert, ...Object.fromEntries(Object.entries(held.labels).filter(([, v]) => v !== "")) };
    expect(tenantLabels).toEqual({ alertname: "ShopCrashLooping", severity: "critical", pod: "api-0", namespace: TENANT });
    const warning = { alertname: "KubePodCrashLooping", namespace: VICTIM, pod: "api-0", container: "api", severity: "warning" };
    expect(
      await am.post([
        { labels: tenantLabels },
        { labels: { alertname: "AppDown", app: "checkout", severity: "critical" } },
        { labels: warning },
      ]),
    ).toBe(200);
    await run.waitFor(
      "AppDown and the tenant's alert at the critical sink, the warning at the warning sink",
      async () =>
        arrived("critical", "AppDown").length > 0 &&
        arrived("critical", "ShopCrashLooping", TENANT).length > 0 &&
        arrived("warning", "KubePodCrashLooping", VICTIM).length > 0
          ? true
          : undefined,
      30_000,
      200,
      state,
    );
    expect(delivered.filter((d) => d.channel === "deadmans-switch" && d.labels.namespace !== undefined)).toEqual([]);
  });

  test("the object as main loaded it goes to the dead man's switch and mutes the real warning of its pod", async () => {
    expect(await am.post([{ labels: { alertname: muteRule.alert, ...muteRule.labels } }])).toBe(200);
    await run.waitFor(
      "the attack at the dead man's switch",
      async () => (arrived("deadmans-switch", "KubePodCrashLooping").length > 0 ? true : undefined),
      30_000,
      200,
      state,
    );
    expect(
      await am.post([
        { labels: { alertname: "KubePodCrashLooping", namespace: VICTIM, pod: "api-1", container: "api", severity: "warning" } },
      ]),
    ).toBe(200);
    // group_wait 1s and group_interval 2s: a warning not muted would have arrived well within 8 s.
    await sleep(8_000);
    expect(delivered.filter((d) => d.labels.pod === "api-1" && d.channel !== "deadmans-switch")).toEqual([]);
  });
});
