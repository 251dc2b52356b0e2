/**
 * A PrometheusRule object under the stack's rules: its expressions and outputs held to its own
 * namespace, and refused, with the object named, when it takes a built-in name, records a series
 * the built-in rules read, sets a label the stack's Alertmanager routes on or an unknown severity.
 * The lists come from the shipped rules and the rendered Alertmanager config, read here from the
 * files themselves (not from the functions under test).
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PrometheusRuleObject } from "../../components/prometheus/rules/operator-rules";
import { namespacedExpr, seriesRead } from "../../components/prometheus/rules/tenant-rules";
import { operatorRuleFiles } from "../../preflight/operator-rules";
import { builtinReads, routingLabels, tenantRulePolicy } from "../../preflight/tenant-policy";
import { stackWith } from "../support/receiver-kinds";
import { parse } from "../config/support";
import { ALERT_EXPR, QUERY_TEMPLATES, SHOP_VALUE } from "../support/query-templates";

const KEY = "monitoring:monitors.rules";
const base = { profile: "staging", environment: "staging", monitors: { enabled: true } };
const policy = tenantRulePolicy(parse("staging", base).config);
const object = (name: string, rules: unknown[], namespace = "billing"): PrometheusRuleObject => ({
  namespace,
  name,
  generation: 1,
  spec: { groups: [{ name: "g", rules }] },
});
const load = (objects: PrometheusRuleObject[], p = policy) => operatorRuleFiles(objects, p, [], KEY);
const groupsOf = (text: string) => (YAML.parse(text) as { groups: Array<{ rules: Array<Record<string, unknown>> }> }).groups;

describe("every selector reads the object's namespace only", () => {
  test.each([
    ["up", 'up{namespace="billing"}'],
    ['up{namespace="shop", job="api"} == 0', 'up{job="api", namespace="billing"} == 0'],
    [
      'sum by (job) (rate(http_requests_total{namespace!~"billing"}[5m] offset 1m))',
      'sum by (job) (rate(http_requests_total{namespace="billing"}[5m] offset 1m))',
    ],
    ['{"up", "namespace"=~".+"}', '{"up", namespace="billing"}'],
    ["max_over_time(foo{}[10m:1m]) or on () vector(0)", 'max_over_time(foo{namespace="billing"}[10m:1m]) or on () vector(0)'],
    ["a @ start() / b offset 5m", 'a{namespace="billing"} @ start() / b{namespace="billing"} offset 5m'],
    ["vector(1)", "vector(1)"],
  ])("%s", (expr, held) => {
    expect(namespacedExpr(expr, "billing")).toBe(held);
  });

  test("the series an expression reads, by name or by __name__", () => {
    expect(seriesRead('rate(a[5m]) / on (job) {__name__="b", job="x"} + {"c"} + {__name__=~"d.*"}')).toEqual(["a", "b", "c"]);
  });
});

describe("what the built-in rules read and what Alertmanager routes on, derived", () => {
  test("the shipped rules' reads hold up, target_info and the app contract's series", () => {
    const reads = builtinReads();
    for (const name of ["up", "target_info", "app:own_targets:info", "app:slo_availability_target:ratio", "app:http_requests:rate5m"]) {
      expect(reads.has(name)).toBe(true);
    }
    // Every recorded (colon) name in the expressions of the apps' rules, by a plain scan of their text.
    const apps = YAML.parse(fs.readFileSync(path.join(__dirname, "..", "..", "rules", "apps.yml"), "utf8")) as {
      groups: Array<{ rules: Array<{ expr: string }> }>;
    };
    const scanned = apps.groups.flatMap((g) =>
      g.rules.flatMap((r) => [...String(r.expr).matchAll(/\b([a-z_]+:[a-z_:0-9]+)\b/g)].map((m) => m[1])),
    );
    expect(scanned.length).toBeGreaterThan(5);
    expect(scanned.filter((n) => !reads.has(n))).toEqual([]);
  });

  test("watchdog always; a team's routes add their labels; severity, namespace and alertname are not refused but checked or forced", () => {
    expect([...policy.routingLabels.keys()]).toEqual(["watchdog"]);
    const { plain, secrets } = stackWith("webhook");
    const routed = parse(
      "staging",
      {
        ...base,
        alertmanager: {
          ...plain.alertmanager,
          routes: [{ receiver: "ops", matchers: ['team="web"', 'severity="critical"', 'service=~"a|b"'] }],
        },
      },
      secrets,
    ).config;
    expect([...tenantRulePolicy(routed).routingLabels.keys()].sort()).toEqual(["service", "team", "watchdog"]);
    expect(
      routingLabels({
        route: { match: { tier: "x" }, routes: [{ routes: [{ matchers: ['"quoted label"="v"'] }] }] },
        inhibit_rules: [{ source_match_re: { cluster: ".*" }, target_matchers: ["zone!=a"] }],
      }),
    ).toEqual(
      new Map([
        ["tier", "route.match"],
        ["quoted label", "route.routes[0].routes[0].matchers"],
        ["cluster", "inhibit_rules[0].source_match_re"],
        ["zone", "inhibit_rules[0].target_matchers"],
      ]),
    );
  });
});

describe("a hostile namespace's rules are refused, the object named", () => {
  test("the two objects of issue 45: a record of up in another app's name, a built-in warning's name with watchdog and critical", () => {
    const fakeUp = object("fake-up", [{ record: "up", expr: "vector(1)", labels: { job: "api", namespace: "shop", app: "api" } }]);
    const mute = object("mute", [
      { alert: "KubePodCrashLooping", expr: "vector(1)", labels: { severity: "critical", watchdog: "true", namespace: "shop" } },
    ]);
    const { files, warnings } = load([fakeUp, mute]);
    expect(files.map(([k]) => k)).toEqual(["operator-rules-loaded.yml"]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^monitoring:monitors\.rules: PrometheusRule billing\/fake-up is not loaded \(the others are\): /);
    expect(warnings[0]).toContain("groups[0].rules[0]: records up, a series the built-in rules read (rules/");
    expect(warnings[0]).toContain('groups[0].rules[0].labels.namespace is "shop": the rules of namespace billing write its series only');
    expect(warnings[1]).toMatch(/^monitoring:monitors\.rules: PrometheusRule billing\/mute is not loaded/);
    expect(warnings[1]).toContain("alert KubePodCrashLooping is a built-in alert (rules/kubernetes.yml)");
    expect(warnings[1]).toContain(
      "groups[0].rules[0].labels.watchdog: watchdog routes alerts in the stack's Alertmanager (route.routes[0].matchers)",
    );
  });

  test.each([
    ["Critical", { severity: "Critical" }],
    ["page", { severity: "page" }],
    ["an empty severity", { severity: "" }],
  ])("a severity outside critical, warning, info: %s", (_, labels) => {
    const { warnings } = load([object("sev", [{ alert: "BillingSlow", expr: "vector(1)", labels }])]);
    expect(warnings).toEqual([
      expect.stringMatching(
        /PrometheusRule billing\/sev is not loaded .*labels\.severity is ".*": it must be one of critical, warning, info/,
      ),
    ]);
  });

  test("group labels are checked as the rule's; built-in records, target_info and the loaded record are refused too", () => {
    const cases = [
      object("group-watchdog", []),
      object("ti", [{ record: "target_info", expr: "vector(1)" }]),
      object("loaded", [{ record: "monitoring_stack:prometheusrule_loaded:generation", expr: "vector(1)" }]),
      object("not-loaded", [{ alert: "PrometheusRuleNotLoaded", expr: "vector(1)", labels: { severity: "warning" } }]),
      object("query", [
        {
          alert: "Peek",
          expr: "vector(1)",
          labels: { severity: "info" },
          annotations: { d: '{{ with query "up{namespace=\\"shop\\"}" }}{{ . }}{{ end }}' },
        },
      ]),
    ];
    (cases[0].spec as { groups: unknown[] }).groups = [
      { name: "g", labels: { watchdog: "true" }, rules: [{ alert: "A", expr: "vector(1)", labels: { severity: "info" } }] },
    ];
    const { files, warnings } = load(cases);
    expect(files).toHaveLength(1);
    expect(warnings.map((w) => /PrometheusRule billing\/([a-z-]+) is not loaded/.exec(w)?.[1])).toEqual([
      "group-watchdog",
      "ti",
      "loaded",
      "not-loaded",
      "query",
    ]);
    expect(warnings[0]).toContain("groups[0].labels.watchdog: watchdog routes alerts");
    expect(warnings[4]).toContain("annotations.d queries series from its template (query)");
  });
});

describe("a template that calls query is refused, the word elsewhere is not (each form's expansion under promtool: test/e2e/tenant-rules.test.ts)", () => {
  test.each(QUERY_TEMPLATES.map((t) => [t.name, t] as const))("%s", (_, t) => {
    expect(t.expansion.includes(String(SHOP_VALUE))).toBe(t.calls);
    const asAnnotation = object("peek", [
      { alert: "Peek", expr: ALERT_EXPR, labels: { severity: "info" }, annotations: { d: t.template } },
    ]);
    const asLabel = object("peek", [{ alert: "Peek", expr: ALERT_EXPR, labels: { severity: "info", d: t.template } }]);
    for (const [o, field] of [
      [asAnnotation, "annotations.d"],
      [asLabel, "labels.d"],
    ] as const) {
      const { files, warnings } = load([o]);
      if (t.calls) {
        expect(files.map(([k]) => k)).toEqual(["operator-rules-loaded.yml"]);
        expect(warnings).toEqual([
          expect.stringContaining(
            `groups[0].rules[0].${field} queries series from its template (query), which reads every namespace; a PrometheusRule may not`,
          ),
        ]);
      } else {
        expect(warnings).toEqual([]);
        expect(files.map(([k]) => k)).toEqual(["operator.billing.peek.yml", "operator-rules-loaded.yml"]);
      }
    }
  });
});

describe("what loads is held to its namespace", () => {
  const reader = object("reader", [
    { record: "billing:requests:rate5m", expr: 'sum by (job) (rate(http_requests_total{namespace="shop"}[5m]))' },
    { alert: "BillingDown", expr: 'up{namespace="shop", job="api"} == 0', for: "1m", labels: { severity: "critical" } },
    { alert: "Sneaky", expr: 'label_replace(vector(1), "watchdog", "true", "", "")' },
  ]);
  const { files, warnings } = load([reader]);

  test("its selectors read its namespace, its outputs carry it; an alert's routing labels and missing severity are emptied", () => {
    expect(warnings).toEqual([]);
    expect(files[0][0]).toBe("operator.billing.reader.yml");
    expect(groupsOf(files[0][1])[0].rules).toEqual([
      {
        record: "billing:requests:rate5m",
        expr: 'sum by (job) (rate(http_requests_total{namespace="billing"}[5m]))',
        labels: { namespace: "billing" },
      },
      {
        alert: "BillingDown",
        expr: 'up{job="api", namespace="billing"} == 0',
        for: "1m",
        labels: { severity: "critical", watchdog: "", namespace: "billing" },
      },
      {
        alert: "Sneaky",
        expr: 'label_replace(vector(1), "watchdog", "true", "", "")',
        labels: { watchdog: "", severity: "", namespace: "billing" },
      },
    ]);
  });

  test("group labels move onto the rules, the rule's own winning", () => {
    const o = object("grouped", []);
    (o.spec as { groups: unknown[] }).groups = [
      { name: "g", labels: { team: "b", tier: "1" }, rules: [{ record: "r", expr: "x", labels: { tier: "2" } }] },
    ];
    const loaded = load([o]);
    expect(loaded.warnings).toEqual([]);
    expect((YAML.parse(loaded.files[0][1]) as { groups: unknown[] }).groups).toEqual([
      { name: "g", rules: [{ record: "r", expr: 'x{namespace="billing"}', labels: { team: "b", tier: "2", namespace: "billing" } }] },
    ]);
  });
});
