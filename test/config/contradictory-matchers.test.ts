/**
 * A route whose severity matchers no alert can meet together (severity="critical" and
 * severity="warning") would never be taken: refused, naming the key, what is allowed and what was given.
 */
import { parse, problems } from "./support";

const HOOK = `https://hooks.slack.com/services/T000/B000/${"x".repeat(20)}`;
const withRoute = (matchers: string[]) => ({
  alertmanager: {
    receivers: [{ name: "team", slack: { channel: "#team" } }],
    routes: [
      { matchers: ['app="api"'], receiver: "team" },
      { matchers, receiver: "team" },
    ],
    defaultReceiver: "team",
  },
});
const secrets = { slackWebhookUrls: { team: HOOK } };

describe("contradictory severity matchers on one route", () => {
  test.each([
    [['severity="critical"', 'severity="warning"'], 'severity="critical", severity="warning"'],
    [['severity="critical"', 'severity!="critical"'], 'severity="critical", severity!="critical"'],
    [['severity=~"critical|warning"', 'severity="info"'], 'severity=~"critical|warning", severity="info"'],
    [['severity!~"critical|warning"', 'severity=~"critical|warning"'], 'severity!~"critical|warning", severity=~"critical|warning"'],
  ])("%j is refused", (matchers, shown) => {
    expect(problems("staging", withRoute(matchers), secrets)).toEqual([
      "monitoring:alertmanager.routes[1].matchers: match no alert together: an alert has one severity, of critical, warning, info, " +
        `and none meets all of ${shown}; keep the one you mean, or one severity=~"a|b" for several`,
    ]);
  });

  test("matchers that agree are taken", () => {
    for (const matchers of [
      ['severity=~"critical|warning"', 'severity!="warning"'],
      ['severity!="info"', 'app="api"'],
      ['severity="critical"', 'severity="critical"'],
    ]) {
      expect(() => parse("staging", withRoute(matchers), secrets)).not.toThrow();
    }
  });
});
