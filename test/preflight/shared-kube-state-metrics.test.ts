/**
 * A stack that scrapes another stack's kube-state-metrics checks, before it deploys, that the
 * shared one reports every namespace it watches (preflight/shared-kube-state-metrics.ts): from the
 * flags the serving stack's own config gives its kube-state-metrics (kubeStateMetricsArgs and
 * kubeStateMetricsFlags, as the component writes them), read here by a stand-in reader.
 */
import { ConfigError } from "../../config";
import { kubeStateMetricsFlags } from "../../components/exporters/kube-state-metrics";
import { kubeStateMetricsArgs } from "../../components/stack/args";
import {
  checkSharedKubeStateMetrics,
  expectedObjectNamespaces,
  sharedKubeStateMetricsProblems,
} from "../../preflight/shared-kube-state-metrics";
import { api, parse } from "../config/support";

const KEY = "monitoring:kubeStateMetrics.sharedFrom";

/** Staging as the docs set it up: its apps in shop-staging, production's collector and kube-state-metrics serving it. */
const staging = parse("staging", {
  profile: "staging",
  environment: "staging",
  namespace: "monitoring-staging",
  apps: [{ ...api, namespace: "shop-staging" }],
  logCollector: { sharedFrom: "monitoring-production" },
  kubeStateMetrics: { sharedFrom: "monitoring-production" },
}).config;

/** The flags production's kube-state-metrics runs with, given its shareWith entries. */
function productionFlags(shareWith: Array<{ namespace: string; namespaces: string[] }>): string[] {
  const production = parse("production", {
    profile: "production",
    environment: "production",
    namespace: "monitoring-production",
    apps: [{ ...api, namespace: "shop" }],
    kubeStateMetrics: { shareWith },
  }).config;
  return kubeStateMetricsFlags(kubeStateMetricsArgs(production).namespaces);
}

const stack = { namespace: "monitoring-staging", sharedFrom: "monitoring-production", namespaces: expectedObjectNamespaces(staging) };

describe("the scraping stack's check of the shared kube-state-metrics", () => {
  test("the namespaces expected are the ones it watches, without an agents namespace it does not have", () => {
    expect(expectedObjectNamespaces(staging)).toEqual(["monitoring-staging", "shop-staging"]);
    // With a collector of its own, its agents namespace has pods to report.
    const ownCollector = parse("staging", {
      profile: "staging",
      environment: "staging",
      apps: [{ ...api, namespace: "shop-staging" }],
      kubeStateMetrics: { sharedFrom: "monitoring-production" },
    }).config;
    expect(expectedObjectNamespaces(ownCollector)).toEqual(["monitoring-staging", "monitoring-staging-agents", "shop-staging"]);
  });

  test("production's flags with the docs' entry pass", () => {
    const flags = productionFlags([{ namespace: "monitoring-staging", namespaces: ["monitoring-staging", "shop-staging"] }]);
    expect(sharedKubeStateMetricsProblems(flags, stack, KEY)).toEqual([]);
  });

  test("a namespace production's does not report is refused, with the entry to give", () => {
    const flags = productionFlags([{ namespace: "monitoring-staging", namespaces: ["monitoring-staging"] }]);
    expect(sharedKubeStateMetricsProblems(flags, stack, KEY)).toEqual([
      {
        key: KEY,
        message: expect.stringMatching(
          /^the kube-state-metrics Deployment of monitoring-production does not report the objects of shop-staging \(its --namespaces=.*monitoring-staging.*\), so this stack would have no series of it .* give that stack's monitoring:kubeStateMetrics.shareWith the entry \{namespace: monitoring-staging, namespaces: \[monitoring-staging, shop-staging\]\} and pulumi up it first/,
        ),
      },
    ]);
    // Production without any entry: both are missing.
    expect(sharedKubeStateMetricsProblems(productionFlags([]), stack, KEY)[0].message).toContain(
      "objects of monitoring-staging, shop-staging",
    );
  });

  test("one that reports every namespace passes; a Deployment without its container is refused", () => {
    expect(sharedKubeStateMetricsProblems(["--port=8080", "--telemetry-port=8081"], stack, KEY)).toEqual([]);
    expect(sharedKubeStateMetricsProblems(undefined, stack, KEY)[0].message).toMatch(/has no kube-state-metrics container/);
  });

  test("checkSharedKubeStateMetrics reads the serving stack's Deployment, and only when the stack scrapes another's", async () => {
    const reads: string[] = [];
    const reader = async (ns: string, readName: string) => {
      reads.push(`${ns} ${readName}`);
      return productionFlags([]);
    };
    await expect(checkSharedKubeStateMetrics(staging, "monitoring", reader)).rejects.toThrow(ConfigError);
    expect(reads).toEqual([
      "monitoring-production monitoring:kubeStateMetrics.sharedFrom Deployment monitoring-production/kube-state-metrics",
    ]);
    const own = parse("staging", { profile: "staging", environment: "staging" }).config;
    await checkSharedKubeStateMetrics(own, "monitoring", reader);
    expect(reads).toHaveLength(1);
  });
});
