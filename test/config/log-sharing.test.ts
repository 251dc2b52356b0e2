/**
 * One collector for two stacks, as config reads it: logCollector.shareWith (the stack whose
 * collector serves another) and logCollector.sharedFrom (the stack it serves), each refusal
 * naming its key before any resource.
 */
import { api, parse, problems } from "./support";

const base = (profile: "staging" | "production") => ({ profile, environment: profile });
const share = { namespace: "monitoring-staging", namespaces: ["shop-staging", "data-staging"] };

describe("logCollector.shareWith and logCollector.sharedFrom", () => {
  test("by default a stack runs its own collector and serves nobody", () => {
    const { config } = parse("production", base("production"));
    expect(config.logCollector.enabled).toBe(true);
    expect(config.logCollector.shareWith).toEqual([]);
    expect(config.logCollector.sharedFrom).toBeUndefined();
  });

  test("the serving stack keeps its collector and lists whom it serves", () => {
    const { config } = parse("production", { ...base("production"), logCollector: { shareWith: [share] } });
    expect(config.logCollector.enabled).toBe(true);
    expect(config.logCollector.shareWith).toEqual([share]);
  });

  test("a served stack runs no collector of its own by default", () => {
    const { config } = parse("staging", { ...base("staging"), logCollector: { sharedFrom: "monitoring-production" } });
    expect(config.logCollector).toMatchObject({ enabled: false, sharedFrom: "monitoring-production", shareWith: [] });
  });

  test.each<[string, Record<string, unknown>, RegExp[]]>([
    [
      "a collector of its own as well",
      { enabled: true, sharedFrom: "monitoring-qa" },
      [/^monitoring:logCollector\.enabled: is true, but sharedFrom says the collector of the stack in monitoring-qa/],
    ],
    [
      "serving others without a collector",
      { sharedFrom: "monitoring-qa", shareWith: [share] },
      [/^monitoring:logCollector\.shareWith: is set, but sharedFrom says this stack runs no collector/],
    ],
    [
      "serving others with the collector off",
      { enabled: false, shareWith: [share] },
      [/^monitoring:logCollector\.shareWith: is set, but enabled is false/],
    ],
    [
      "one stack twice",
      { shareWith: [share, { namespace: "monitoring-staging", namespaces: ["web-staging"] }] },
      [/^monitoring:logCollector\.shareWith\[1\]\.namespace: names monitoring-staging again \(shareWith\[0\]\)/],
    ],
    [
      "a namespace twice in an entry",
      { shareWith: [{ namespace: "monitoring-staging", namespaces: ["shop-staging", "shop-staging"] }] },
      [/^monitoring:logCollector\.shareWith\[0\]\.namespaces\[1\]: names shop-staging twice/],
    ],
    [
      "a namespace sent to two stacks",
      { shareWith: [share, { namespace: "monitoring-qa", namespaces: ["shop-staging"] }] },
      [
        /^monitoring:logCollector\.shareWith\[1\]\.namespaces\[0\]: is shop-staging, whose logs already go to the stack in monitoring-staging/,
      ],
    ],
    [
      "no namespace",
      { shareWith: [{ namespace: "monitoring-staging", namespaces: [] }] },
      [/^monitoring:logCollector\.shareWith\[0\]\.namespaces: must name at least one namespace/],
    ],
    ["not a namespace name", { sharedFrom: "Monitoring_Production" }, [/^monitoring:logCollector\.sharedFrom: must be a DNS-1123 label/]],
    [
      "this stack's own namespace served",
      { shareWith: [{ namespace: "monitoring-production", namespaces: ["shop"] }] },
      [/^monitoring:logCollector\.shareWith\[0\]\.namespace: is monitoring-production, this stack's own namespace/],
    ],
    [
      "this stack's own pods sent away",
      { shareWith: [{ namespace: "monitoring-staging", namespaces: ["monitoring-production-agents"] }] },
      [/^monitoring:logCollector\.shareWith\[0\]\.namespaces\[0\]: is monitoring-production-agents, where this stack's own pods run/],
    ],
    [
      "served by itself",
      { sharedFrom: "monitoring-production" },
      [/^monitoring:logCollector\.sharedFrom: is monitoring-production, this stack's own namespace/],
    ],
  ])("refused: %s", (_, logCollector, expected) => {
    const found = problems("production", { ...base("production"), logCollector });
    for (const pattern of expected) expect(found).toContainEqual(expect.stringMatching(pattern));
    expect(found).toHaveLength(expected.length);
  });

  test("a served stack needs its Loki: the other collector sends there", () => {
    expect(
      problems("staging", { ...base("staging"), loki: { enabled: false }, logCollector: { sharedFrom: "monitoring-production" } }),
    ).toEqual([
      expect.stringMatching(
        /^monitoring:logCollector\.sharedFrom: says the collector of the stack in monitoring-production sends this stack's logs to its Loki, so it needs loki\.enabled: true/,
      ),
    ]);
  });

  test("an app that sends OTLP is refused in a served stack, naming sharedFrom", () => {
    const found = problems("staging", {
      ...base("staging"),
      apps: [{ ...api, otlp: true }],
      logCollector: { sharedFrom: "monitoring-production" },
    });
    expect(found).toContainEqual(
      expect.stringMatching(
        /^monitoring:apps\[0\]\.otlp: is true, but this stack runs no log collector \(logCollector\.sharedFrom: the collector of the stack in monitoring-production/,
      ),
    );
  });
});
