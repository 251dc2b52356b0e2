/**
 * The operator's objects as config reads them (`monitors`): off by default, and every refusal
 * naming its key before any resource.
 */
import { parse, problems } from "./support";

const base = { profile: "staging", environment: "staging" };

describe("monitors", () => {
  test("off by default, CRDs auto, rules loaded once on", () => {
    const { config } = parse("staging", base);
    expect(config.monitors).toEqual({
      enabled: false,
      selector: {},
      secrets: [],
      crds: "auto",
      rules: true,
      honorLabels: [],
      limits: { samples: 10_000, targets: 100, labels: 30 },
    });
  });

  test("the keys given are kept", () => {
    const { config } = parse("staging", {
      ...base,
      watch: { namespaces: ["cnpg-system"] },
      monitors: {
        enabled: true,
        namespaces: ["cnpg-system"],
        selector: { release: "shop" },
        secrets: ["cnpg-system/metrics"],
        crds: "external",
        honorLabels: ["cnpg-system/kube-state-metrics"],
        limits: { samples: 50_000, targets: 20, labels: 40 },
      },
    });
    expect(config.monitors).toEqual({
      enabled: true,
      namespaces: ["cnpg-system"],
      selector: { release: "shop" },
      secrets: ["cnpg-system/metrics"],
      crds: "external",
      rules: true,
      honorLabels: ["cnpg-system/kube-state-metrics"],
      limits: { samples: 50_000, targets: 20, labels: 40 },
    });
  });

  test.each<[string, Record<string, unknown>, RegExp[]]>([
    [
      "the collector off",
      { monitors: { enabled: true }, logCollector: { enabled: false } },
      [
        /^monitoring:monitors\.enabled: the monitors are scraped by this stack's collector \(Alloy\), which does not run here \(logCollector\.enabled is false\)/,
      ],
    ],
    [
      "a namespace the stack does not watch",
      { monitors: { enabled: true, namespaces: ["cnpg-system"] } },
      [/^monitoring:monitors\.namespaces\[0\]: is cnpg-system, a namespace this stack does not watch: add it to watch\.namespaces too/],
    ],
    [
      "a Secret outside the namespaces read",
      { watch: { namespaces: ["cnpg-system"] }, monitors: { enabled: true, namespaces: ["cnpg-system"], secrets: ["shop/auth"] } },
      [/^monitoring:monitors\.secrets\[0\]: is in namespace shop, whose monitors are not read \(namespaces: cnpg-system\)/],
    ],
    [
      "a Secret twice",
      { monitors: { enabled: true, secrets: ["shop/auth", "shop/auth"] } },
      [/^monitoring:monitors\.secrets\[1\]: names shop\/auth a second time/],
    ],
    [
      "Secrets while off",
      { monitors: { secrets: ["shop/auth"] } },
      [/^monitoring:monitors\.secrets: is set, but enabled is false: nothing reads monitors/],
    ],
    [
      "a Secret not written <namespace>/<name>",
      { monitors: { enabled: true, secrets: ["auth"] } },
      [/^monitoring:monitors\.secrets\[0\]: must be a Secret as <namespace>\/<name>, such as shop\/metrics-auth/],
    ],
    [
      "every namespace watched and no monitors.namespaces",
      { watch: { namespaces: ["*"] }, monitors: { enabled: true } },
      [
        /^monitoring:monitors\.namespaces: is needed when the stack watches every namespace \(watch\.namespaces: \["\*"\]\): each monitor's series are held to its own namespace/,
      ],
    ],
    [
      "honorLabels naming something that is neither a namespace nor <namespace>/<name>",
      { monitors: { enabled: true, honorLabels: ["Shop/API"] } },
      [/^monitoring:monitors\.honorLabels\[0\]: must be a namespace \(such as kube-system\) or a monitor as <namespace>\/<name>/],
    ],
    [
      "honorLabels naming a namespace and one of its monitors, or twice",
      { monitors: { enabled: true, honorLabels: ["shop", "shop/ksm", "shop"] } },
      [
        /^monitoring:monitors\.honorLabels\[1\]: is in namespace shop, which honorLabels names whole/,
        /^monitoring:monitors\.honorLabels\[2\]: names shop a second time/,
      ],
    ],
    [
      "honorLabels outside the namespaces read",
      { watch: { namespaces: ["cnpg-system"] }, monitors: { enabled: true, namespaces: ["cnpg-system"], honorLabels: ["shop/ksm"] } },
      [/^monitoring:monitors\.honorLabels\[0\]: is in namespace shop, whose monitors are not read \(namespaces: cnpg-system\)/],
    ],
    ["honorLabels while off", { monitors: { honorLabels: ["shop"] } }, [/^monitoring:monitors\.honorLabels: is set, but enabled is false/]],
    [
      "a sample limit of 0",
      { monitors: { enabled: true, limits: { samples: 0 } } },
      [/^monitoring:monitors\.limits\.samples: must be a whole number of samples, at least 1 \(0 would mean no limit\)/],
    ],
    [
      "a target or label limit of 0",
      { monitors: { enabled: true, limits: { targets: 0, labels: 2.5 } } },
      [
        /^monitoring:monitors\.limits\.targets: must be a whole number of targets, at least 1 \(0 would mean no limit\)/,
        /^monitoring:monitors\.limits\.labels: must be a whole number of labels, at least 1/,
      ],
    ],
    [
      "another CRD mode",
      { monitors: { enabled: true, crds: "always" } },
      [/^monitoring:monitors\.crds: must be one of auto, install, external/],
    ],
  ])("refused: %s", (_name, plain, expected) => {
    const found = problems("staging", { ...base, ...plain });
    for (const pattern of expected) expect(found).toContainEqual(expect.stringMatching(pattern));
    expect(found).toHaveLength(expected.length);
  });

  test("the namespaces the stack watches without watch.namespaces: its own, its apps', kube-system with the cluster", () => {
    const { config } = parse("production", {
      profile: "production",
      environment: "production",
      apps: [{ name: "api", namespace: "shop", service: "api", port: "http" }],
      monitors: { enabled: true, namespaces: ["monitoring-production", "shop", "kube-system"] },
    });
    expect(config.monitors.namespaces).toEqual(["monitoring-production", "shop", "kube-system"]);
  });

  test("without kube-state-metrics, a warning that no alert tells a PrometheusRule not loaded", () => {
    const { warnings } = parse("staging", { ...base, monitors: { enabled: true }, kubeStateMetrics: { enabled: false } });
    expect(warnings).toContainEqual(expect.stringMatching(/^monitoring:monitors\.rules: kube-state-metrics is off/));
    expect(parse("staging", { ...base, monitors: { enabled: true } }).warnings.join("\n")).not.toMatch(/monitors\.rules/);
  });

  test("served by another stack's collector (logCollector.sharedFrom) it is accepted: that collector scrapes them (checked at preview and up)", () => {
    const served = { ...base, logCollector: { sharedFrom: "monitoring-production" }, monitors: { enabled: true } };
    expect(parse("staging", served).config.monitors.enabled).toBe(true);
    // Neither its own collector nor a serving one: refused, naming both ways out.
    expect(problems("staging", { ...base, logCollector: { enabled: false }, monitors: { enabled: true } })).toEqual([
      expect.stringMatching(
        /^monitoring:monitors\.enabled: .*turn the collector on, let another stack's collector scrape them \(logCollector\.sharedFrom\)/,
      ),
    ]);
  });
});
