/**
 * One kube-state-metrics for two stacks, as config reads it: kubeStateMetrics.shareWith (the stack
 * whose kube-state-metrics serves another) and kubeStateMetrics.sharedFrom (the stack that scrapes
 * it), each refusal naming its key before any resource.
 */
import { parse, problems } from "./support";

const base = (profile: "staging" | "production") => ({ profile, environment: profile });
const share = { namespace: "monitoring-staging", namespaces: ["monitoring-staging", "shop-staging"] };

describe("kubeStateMetrics.shareWith and kubeStateMetrics.sharedFrom", () => {
  test("by default a stack runs its own kube-state-metrics and serves nobody", () => {
    const { config } = parse("production", base("production"));
    expect(config.kubeStateMetrics).toMatchObject({ enabled: true, shareWith: [] });
    expect(config.kubeStateMetrics.sharedFrom).toBeUndefined();
  });

  test("the serving stack keeps its own and lists whom it serves; a served stack runs none by default", () => {
    expect(parse("production", { ...base("production"), kubeStateMetrics: { shareWith: [share] } }).config.kubeStateMetrics).toMatchObject({
      enabled: true,
      shareWith: [share],
    });
    expect(
      parse("staging", { ...base("staging"), kubeStateMetrics: { sharedFrom: "monitoring-production" } }).config.kubeStateMetrics,
    ).toMatchObject({ enabled: false, sharedFrom: "monitoring-production", shareWith: [] });
  });

  test.each<[string, "staging" | "production", Record<string, unknown>, RegExp]>([
    [
      "one of its own as well",
      "staging",
      { kubeStateMetrics: { enabled: true, sharedFrom: "monitoring-production" } },
      /^monitoring:kubeStateMetrics\.enabled: is true, but sharedFrom says this stack scrapes the kube-state-metrics of the stack in monitoring-production/,
    ],
    [
      "serving others without one",
      "staging",
      { kubeStateMetrics: { sharedFrom: "monitoring-production", shareWith: [{ namespace: "monitoring-qa", namespaces: ["shop-qa"] }] } },
      /^monitoring:kubeStateMetrics\.shareWith: is set, but sharedFrom says this stack runs no kube-state-metrics/,
    ],
    [
      "serving others with it off",
      "production",
      { kubeStateMetrics: { enabled: false, shareWith: [share] } },
      /^monitoring:kubeStateMetrics\.shareWith: is set, but enabled is false/,
    ],
    [
      "one stack twice",
      "production",
      { kubeStateMetrics: { shareWith: [share, { namespace: "monitoring-staging", namespaces: ["web-staging"] }] } },
      /^monitoring:kubeStateMetrics\.shareWith\[1\]\.namespace: names monitoring-staging again \(shareWith\[0\]\)/,
    ],
    [
      "a namespace twice in one entry",
      "production",
      { kubeStateMetrics: { shareWith: [{ namespace: "monitoring-staging", namespaces: ["shop-staging", "shop-staging"] }] } },
      /^monitoring:kubeStateMetrics\.shareWith\[0\]\.namespaces\[1\]: names shop-staging twice/,
    ],
    [
      "its own namespace as the other stack's",
      "production",
      { kubeStateMetrics: { shareWith: [{ namespace: "monitoring-production", namespaces: ["shop-staging"] }] } },
      /^monitoring:kubeStateMetrics\.shareWith\[0\]\.namespace: is monitoring-production, this stack's own namespace/,
    ],
    [
      "scraping its own",
      "staging",
      { kubeStateMetrics: { sharedFrom: "monitoring-staging" } },
      /^monitoring:kubeStateMetrics\.sharedFrom: is monitoring-staging, this stack's own namespace/,
    ],
    [
      "a serving stack that watches every namespace",
      "production",
      { watch: { namespaces: ["*"] }, kubeStateMetrics: { shareWith: [share] } },
      /^monitoring:kubeStateMetrics\.shareWith: is set, but this stack watches every namespace/,
    ],
    [
      "a served stack that watches the cluster",
      "staging",
      { watch: { cluster: true }, kubeStateMetrics: { sharedFrom: "monitoring-production" } },
      /^monitoring:kubeStateMetrics\.sharedFrom: is monitoring-production, but this stack watches the cluster \(watch\.cluster\)/,
    ],
  ])("refused: %s", (_what, profile, config, message) => {
    const found = problems(profile, { ...base(profile), ...config });
    expect(found.filter((p) => /kubeStateMetrics/.test(p))).toEqual([expect.stringMatching(message)]);
  });
});
