/**
 * What a stack that honours the operator's objects reads before any resource: which CRDs it
 * installs (none another owner installed), and the PrometheusRules it loads, each checked, a
 * broken one left out with a warning naming it while the others load.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { MONITOR_KINDS, MonitorKind } from "../../components/monitors/args";
import { OPERATOR_LOADED_KEY, PrometheusRuleObject, operatorRuleKey } from "../../components/prometheus/rules/operator-rules";
import { CrdFound, crdPlan, crdReader } from "../../preflight/operator-crds";
import { operatorRuleFiles, ruleLister } from "../../preflight/operator-rules";
import { readOperatorObjects } from "../../preflight/operator-objects";
import { overLimits, unheldMonitors, unheldWarning } from "../../preflight/monitor-limits";
import { KubeGet } from "../../preflight/kube-api";
import { tenantRulePolicy } from "../../preflight/tenant-policy";
import { parse } from "../config/support";

const FIXTURES = path.join(__dirname, "..", "fixtures", "operator-objects");
const fixture = (file: string, namespace = "shop", generation = 1): PrometheusRuleObject => {
  const o = YAML.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8")) as { metadata: { name: string }; spec: unknown };
  return { namespace, name: o.metadata.name, generation, spec: o.spec };
};
const KEY = "monitoring:monitors.crds";
const kinds = Object.keys(MONITOR_KINDS) as MonitorKind[];
const everywhere = (found: CrdFound) => Object.fromEntries(kinds.map((k) => [k, found])) as Record<MonitorKind, CrdFound>;
const ours = (namespace: string): CrdFound => ({
  exists: true,
  labels: { "app.kubernetes.io/part-of": "monitoring-stack" },
  annotations: { "monitoring-stack/namespace": namespace },
});

describe("the CRDs a stack installs (monitors.crds)", () => {
  test("auto: every CRD the cluster lacks", () => {
    expect(crdPlan("auto", "monitoring-staging", everywhere({ exists: false }), KEY)).toEqual({ kinds, warnings: [] });
  });

  test("auto: the ones this stack installed stay managed", () => {
    expect(crdPlan("auto", "monitoring-staging", everywhere(ours("monitoring-staging")), KEY).kinds).toEqual(kinds);
  });

  test("auto: those of a Helm release or another stack are left alone, naming their owner", () => {
    const found = {
      ...everywhere({ exists: false }),
      ServiceMonitor: {
        exists: true,
        labels: { "app.kubernetes.io/managed-by": "Helm" },
        annotations: { "meta.helm.sh/release-name": "kube-prometheus-stack", "meta.helm.sh/release-namespace": "monitoring" },
      },
      PrometheusRule: ours("monitoring-production"),
    } satisfies Record<MonitorKind, CrdFound>;
    const plan = crdPlan("auto", "monitoring-staging", found, KEY);
    expect(plan.kinds).toEqual(["PodMonitor", "Probe"]);
    expect(plan.warnings).toEqual([
      `${KEY}: CRD servicemonitors.monitoring.coreos.com was installed by Helm release monitoring/kube-prometheus-stack; this stack leaves it alone and reads its ServiceMonitor objects`,
      `${KEY}: CRD prometheusrules.monitoring.coreos.com was installed by the monitoring stack in monitoring-production; this stack leaves it alone and reads its PrometheusRule objects`,
    ]);
  });

  test("install: all four whatever the cluster has; external: none, warning for those missing", () => {
    expect(crdPlan("install", "ns", everywhere(ours("other")), KEY).kinds).toEqual(kinds);
    const external = crdPlan("external", "ns", { ...everywhere(ours("other")), Probe: { exists: false } }, KEY);
    expect(external.kinds).toEqual([]);
    expect(external.warnings).toEqual([
      `${KEY} is external, but the cluster has no CRD probes.monitoring.coreos.com: no Probe can exist until its owner installs it`,
    ]);
  });

  test("the reader tells a missing CRD from one there, and fails on anything else", async () => {
    const get: KubeGet = async (p) =>
      p.endsWith("/probes.monitoring.coreos.com")
        ? { status: 404, body: {} }
        : p.endsWith("/podmonitors.monitoring.coreos.com")
          ? { status: 403, body: {} }
          : { status: 200, body: { metadata: { labels: { a: "b" }, annotations: { c: "d" } } } };
    const read = crdReader(get);
    await expect(read("probes.monitoring.coreos.com")).resolves.toEqual({ exists: false });
    await expect(read("servicemonitors.monitoring.coreos.com")).resolves.toEqual({
      exists: true,
      labels: { a: "b" },
      annotations: { c: "d" },
    });
    await expect(read("podmonitors.monitoring.coreos.com")).rejects.toThrow(/HTTP 403/);
  });
});

describe("the PrometheusRules a stack loads (monitors.rules)", () => {
  const builtin = tenantRulePolicy(parse("staging", { profile: "staging", environment: "staging", monitors: { enabled: true } }).config);

  test("charts' objects load as rule files, each recorded with its generation; one named like a built-in alert does not", () => {
    const objects = [
      fixture("cnpg-prometheusrule.yaml", "cnpg-system", 3),
      fixture("kube-prometheus-alertmanager-prometheusrule.yaml", "monitoring", 1),
      fixture("kube-prometheus-alertmanager-prometheusrule.yaml", "monitoring", 1),
    ];
    // kube-prometheus' Alertmanager rules without the alert the stack ships under the same name.
    const spec = objects[2].spec as { groups: Array<{ rules: Array<{ alert?: string }> }> };
    objects[2] = {
      ...objects[2],
      name: "alertmanager-own-rules",
      spec: { groups: spec.groups.map((g) => ({ ...g, rules: g.rules.filter((r) => r.alert !== "AlertmanagerConfigInconsistent") })) },
    };
    const { files, warnings } = operatorRuleFiles(objects, builtin, [], "monitoring:monitors.rules");
    expect(warnings).toEqual([
      "monitoring:monitors.rules: PrometheusRule monitoring/alertmanager-main-rules is not loaded (the others are): groups[0].rules[5]: " +
        "alert AlertmanagerConfigInconsistent is a built-in alert (rules/stack.yml); name yours differently (thresholds of the built-in node alerts are config keys). " +
        "Fix the object (its chart), then pulumi up.",
    ]);
    expect(files.map(([k]) => k)).toEqual([
      "operator.cnpg-system.cnpg-default-alerts.yml",
      "operator.monitoring.alertmanager-own-rules.yml",
      OPERATOR_LOADED_KEY,
    ]);
    const cnpg = YAML.parse(files[0][1]) as { groups: Array<{ name: string; rules: unknown[] }> };
    expect(cnpg.groups.map((g) => g.name)).toEqual(["cnp-default.rules", "cnp-operator.rules"]);
    const loaded = YAML.parse(files[2][1]) as { groups: Array<{ rules: Array<Record<string, unknown>> }> };
    expect(loaded.groups[0].rules.filter((r) => r.record)).toEqual([
      {
        record: "monitoring_stack:prometheusrule_loaded:generation",
        expr: "vector(3)",
        labels: { namespace: "cnpg-system", name: "cnpg-default-alerts" },
      },
      {
        record: "monitoring_stack:prometheusrule_loaded:generation",
        expr: "vector(1)",
        labels: { namespace: "monitoring", name: "alertmanager-own-rules" },
      },
    ]);
  });

  test("an object that would not load is left out with its name and problem, the others load", () => {
    const broken: PrometheusRuleObject = {
      namespace: "shop",
      name: "broken",
      generation: 2,
      spec: { groups: [{ name: "g", rules: [{ alert: "Broken", expr: "rate(http_requests_total[5m] > 1" }] }] },
    };
    const badField: PrometheusRuleObject = {
      namespace: "shop",
      name: "typo",
      generation: 1,
      spec: { groups: [{ name: "g", rules: [{ alert: "Typo", expr: "up == 0", fro: "5m" }] }] },
    };
    const clash: PrometheusRuleObject = {
      namespace: "shop",
      name: "clash",
      generation: 1,
      spec: { groups: [{ name: "g", rules: [{ record: [...builtin.records.keys()][0], expr: "vector(1)" }] }] },
    };
    const good = fixture("cnpg-prometheusrule.yaml");
    const { files, warnings } = operatorRuleFiles([broken, badField, clash, good], builtin, [], "monitoring:monitors.rules");
    expect(files.map(([k]) => k)).toEqual([operatorRuleKey(good), OPERATOR_LOADED_KEY]);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(
      /^monitoring:monitors\.rules: PrometheusRule shop\/broken is not loaded \(the others are\): groups\[0\]\.rules\[0\]\.expr does not parse at character/,
    );
    expect(warnings[1]).toMatch(/PrometheusRule shop\/typo is not loaded .*unknown field "fro"/);
    expect(warnings[2]).toMatch(/PrometheusRule shop\/clash is not loaded .*already recorded by a built-in rule/);
    expect(files[1][1]).not.toMatch(/name: broken/);
  });

  test("Thanos' partial_response_strategy is left out, which Prometheus refuses", () => {
    const object: PrometheusRuleObject = {
      namespace: "shop",
      name: "thanos",
      generation: 1,
      spec: { groups: [{ name: "g", partial_response_strategy: "warn", rules: [{ alert: "A", expr: "up == 0" }] }] },
    };
    const { files, warnings } = operatorRuleFiles([object], builtin, [], "k");
    expect(warnings).toEqual([]);
    expect(files[0][1]).not.toMatch(/partial_response_strategy/);
  });

  test("the lister reads each namespace with the selector, and no CRD means no object", async () => {
    const asked: string[] = [];
    const get: KubeGet = async (p) => {
      asked.push(p);
      if (p.includes("/namespaces/empty/")) return { status: 404, body: {} };
      return { status: 200, body: { items: [{ metadata: { namespace: "shop", name: "r", generation: 4 }, spec: { groups: [] } }] } };
    };
    const objects = await ruleLister(get)(["shop", "empty"], { release: "shop" });
    expect(asked).toEqual([
      "/apis/monitoring.coreos.com/v1/namespaces/shop/prometheusrules?labelSelector=release%3Dshop",
      "/apis/monitoring.coreos.com/v1/namespaces/empty/prometheusrules?labelSelector=release%3Dshop",
    ]);
    expect(objects).toEqual([{ namespace: "shop", name: "r", generation: 4, spec: { groups: [] } }]);
  });
});

describe("readOperatorObjects", () => {
  test("nothing is read when monitors are off", async () => {
    const { config } = parse("staging", { profile: "staging", environment: "staging" });
    const get: KubeGet = async () => {
      throw new Error("read");
    };
    await expect(readOperatorObjects(config, "monitoring", false, get)).resolves.toBeUndefined();
  });

  test("a cluster that cannot be read refuses, naming the key and the way out", async () => {
    const { config } = parse("staging", { profile: "staging", environment: "staging", monitors: { enabled: true } });
    const get: KubeGet = async () => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
    };
    await expect(readOperatorObjects(config, "monitoring", false, get)).rejects.toThrow(
      /monitoring:monitors\.crds: reading the cluster's CRDs and PrometheusRules failed \(connect ECONNREFUSED 127\.0\.0\.1:6443\): set monitors\.crds to install or external and monitors\.rules: false/,
    );
  });
});

describe("the monitors the limit policy has not held yet (written before it)", () => {
  const limits = { samples: 10_000, targets: 100, labels: 30 };
  const listing =
    (objects: Record<string, unknown[]>): KubeGet =>
    async (p) => {
      const plural = /\/([a-z]+)$/.exec(p)?.[1] ?? "";
      const ns = /namespaces\/([^/]+)\//.exec(p)?.[1] ?? "";
      return objects[plural] === undefined
        ? { status: 404, body: {} }
        : {
            status: 200,
            body: { items: objects[plural].filter((o) => (o as { metadata: { namespace: string } }).metadata.namespace === ns) },
          };
    };
  const monitor = (namespace: string, name: string, spec: Record<string, unknown>) => ({ metadata: { namespace, name }, spec });

  test("each field over the limit, 0, not a number or left out is named; one at or under the limit is not", () => {
    expect(overLimits({ sampleLimit: 10_000, targetLimit: 1, labelLimit: 30 }, limits)).toEqual([]);
    expect(overLimits({ sampleLimit: 10_001, targetLimit: 0, labelLimit: "30" }, limits)).toEqual([
      "sampleLimit 10001",
      "targetLimit 0",
      'labelLimit "30"',
    ]);
    expect(overLimits(undefined, limits)).toEqual(["no sampleLimit", "no targetLimit", "no labelLimit"]);
  });

  test("the monitors of the namespaces read are listed, by kind, and named in one warning with the way to have them held", async () => {
    const get = listing({
      servicemonitors: [
        monitor("billing", "bomb", { sampleLimit: 1_000_000, targetLimit: 100, labelLimit: 30 }),
        monitor("billing", "held", { sampleLimit: 500, targetLimit: 100, labelLimit: 30 }),
        monitor("elsewhere", "bomb", {}),
      ],
      probes: [monitor("billing", "site", { sampleLimit: 100 })],
    });
    const found = await unheldMonitors(get, ["billing", "shop"], limits);
    expect(found).toEqual([
      { kind: "Probe", namespace: "billing", name: "site", over: ["no targetLimit", "no labelLimit"] },
      { kind: "ServiceMonitor", namespace: "billing", name: "bomb", over: ["sampleLimit 1000000"] },
    ]);
    expect(unheldWarning(found, "monitoring:monitors.limits")).toEqual([
      "monitoring:monitors.limits: 2 monitors keep limits above the stack's or none, written before its limit policy held them: " +
        "Probe billing/site (no targetLimit, no labelLimit); ServiceMonitor billing/bomb (sampleLimit 1000000). " +
        "The policy holds an object when it is next written: write each again, e.g. " +
        "kubectl annotate probe site -n billing monitoring-stack/limits=held --overwrite (or its chart's next upgrade).",
    ]);
    expect(unheldWarning([], "monitoring:monitors.limits")).toEqual([]);
  });

  test("readOperatorObjects warns of them; a listing that fails is a warning, not a refusal", async () => {
    const { config } = parse("staging", {
      profile: "staging",
      environment: "staging",
      watch: { namespaces: ["billing"] },
      monitors: { enabled: true, namespaces: ["billing"], crds: "external", rules: false },
    });
    const get = listing({ servicemonitors: [monitor("billing", "bomb", { sampleLimit: 1_000_000 })] });
    const read = await readOperatorObjects(config, "monitoring", false, get);
    const limitsOnly = (w: string[] | undefined) => (w ?? []).filter((x) => x.startsWith("monitoring:monitors.limits"));
    expect(limitsOnly(read?.warnings)).toEqual([
      expect.stringMatching(
        /^monitoring:monitors\.limits: a monitor keeps .*ServiceMonitor billing\/bomb \(sampleLimit 1000000, no targetLimit, no labelLimit\)/,
      ),
    ]);
    const failing: KubeGet = async (p) => (p.includes("/namespaces/billing/servicemonitors") ? { status: 403, body: {} } : get(p));
    expect(limitsOnly((await readOperatorObjects(config, "monitoring", false, failing))?.warnings)).toEqual([
      expect.stringMatching(/^monitoring:monitors\.limits: could not list the monitors .*HTTP 403/),
    ]);
  });
});
