/**
 * A route that names an alert no rule defines (preflight/route-alertnames.ts): warned before any resource, with the
 * nearest name, against the built-in, generated, team and tenants' alerts; never for a name one of them defines.
 */
import { AlertRoute } from "../../components/alertmanager/routing";
import type { TeamContent } from "../../components/stack/team";
import { alertNamesOf, checkRouteAlertnames, namedAlerts, nearestName } from "../../preflight/route-alertnames";
import { BuiltinNames, builtinNames } from "../../preflight/team-content";
import { renderStack } from "../../cli/render-stack";

const route = (...matchers: string[]): AlertRoute => ({ receiver: "team", matchers, continue: false });
const config = (routes: AlertRoute[], rules = true) => ({
  alertmanager: { routing: { routes } },
  monitors: { rules },
});
type Team = Pick<TeamContent, "rules" | "logRules">;
const noTeam: Team = { rules: [], logRules: [] };
const builtin: BuiltinNames = builtinNames();
const check = (routes: AlertRoute[], team: Team = noTeam, tenantFiles?: Array<[string, string]>, offline = false) =>
  checkRouteAlertnames(config(routes) as never, team, tenantFiles, "monitoring", offline, () => builtin);

test("a misspelt alert name is warned, keyed by the route's matcher, with the name meant", () => {
  expect(check([route('severity="critical"'), route('alertname="AppDwon"')])).toEqual([
    'monitoring:alertmanager.routes[1].matchers[0]: "AppDwon" (alertname="AppDwon") is no alert of this stack (the built-in and generated rules, ' +
      "the team's): the route takes no alert by that name, and the alerts it meant go on to the next route or the default receiver; " +
      'did you mean "AppDown"?',
  ]);
  // A name of the shipped rules, a LogQL one (rules/logs/) and a generated one: nothing to say.
  expect(builtin.alerts.has("AppDown")).toBe(true);
  expect(check([route('alertname="AppDown"'), route('alertname=~"KubeletDown|DatabaseExporterMissing|PrometheusRuleNotLoaded"')])).toEqual(
    [],
  );
  // Each name of an alternation on its own; one wrong among right ones is still named.
  expect(check([route('alertname=~"KubeletDown|NodeDiskFul"')])).toEqual([
    expect.stringMatching(
      /^monitoring:alertmanager\.routes\[0\]\.matchers\[0\]: "NodeDiskFul" \(alertname=~"KubeletDown\|NodeDiskFul"\) is no alert/,
    ),
  ]);
  // A name far from any: no guess.
  expect(check([route('alertname="ShopCheckoutSlow"')])[0]).not.toMatch(/did you mean/);
});

test("a negative matcher or a pattern names no alert: nothing is checked, and the built-in rules are not read", () => {
  const never = () => {
    throw new Error("read the built-in rules");
  };
  const routes = [route('alertname!="Watchdog"'), route('alertname=~"App.*"'), route('severity="warning"')];
  expect(checkRouteAlertnames(config(routes) as never, noTeam, undefined, "monitoring", false, never)).toEqual([]);
  expect(namedAlerts('alertname=~"App.*"')).toBeUndefined();
  expect(namedAlerts('alertname=~"A|B"')).toEqual(["A", "B"]);
});

test("the team's alerts and the tenants' loaded now are known; offline, with the tenants' rules read, none is warned", () => {
  const team: Team = {
    rules: [
      {
        key: "team.shop.yml",
        source: "team/rules/shop.yml",
        text: "groups:\n  - name: shop\n    rules:\n      - alert: ShopCheckoutSlow\n        expr: vector(1)\n",
      },
    ],
    logRules: [],
  };
  expect(check([route('alertname="ShopCheckoutSlow"')], team)).toEqual([]);
  expect(check([route('alertname="ShopCheckoutSlow"')])).toHaveLength(1);
  const tenant: [string, string] = [
    "operator.shop.api.yml",
    "groups:\n  - name: api\n    rules:\n      - alert: ApiQueueStuck\n        expr: vector(1)\n",
  ];
  expect(check([route('alertname="ApiQueueStuck"')], noTeam, [tenant])).toEqual([]);
  expect(check([route('alertname="ApiQueueStuk"')], noTeam, [tenant])).toEqual([
    expect.stringMatching(/the tenants' PrometheusRules loaded now\): .*did you mean "ApiQueueStuck"\?$/),
  ]);
  // The offline render reads no PrometheusRule: any name may be a tenant's.
  expect(check([route('alertname="ApiQueueStuk"')], noTeam, [], true)).toEqual([]);
  // monitors.rules off: the tenants' rules are not loaded, their names not known.
  expect(
    checkRouteAlertnames(config([route('alertname="ApiQueueStuck"')], false) as never, noTeam, [tenant], "monitoring", true, () => builtin),
  ).toHaveLength(1);
});

test("alertNamesOf reads a rule file's alerts, and nothing of a text that is not one", () => {
  expect(alertNamesOf("groups:\n  - name: a\n    rules:\n      - alert: A\n      - record: r\n      - alert: B\n")).toEqual(["A", "B"]);
  expect(alertNamesOf("[unclosed")).toEqual([]);
  expect(alertNamesOf("just text")).toEqual([]);
  expect(nearestName("appdown", ["AppDown", "AppLatencyHigh"])).toBe("AppDown");
});

test("the program warns at preview and in the render, before any resource", async () => {
  const r = await renderStack({
    stack: "staging",
    sets: [
      "alertmanager.receivers=[{name: team, webhook: {}}]",
      "webhookUrls.team=https://hooks.example.com/team",
      "alertmanager.defaultReceiver=team",
      "alertmanager.routes=[{receiver: team, matchers: ['alertname=\"KubePodCrashLoping\"']}]",
    ],
  });
  expect(r.warnings).toEqual(
    expect.arrayContaining([
      expect.stringMatching(
        /^monitoring:alertmanager\.routes\[0\]\.matchers\[0\]: "KubePodCrashLoping" .*did you mean "KubePodCrashLooping"\?$/,
      ),
    ]),
  );
});
