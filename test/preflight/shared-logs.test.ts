/**
 * A stack served by another stack's collector checks, before it deploys, that the collector
 * sends every namespace of its apps to it (preflight/shared-logs.ts): from the record the
 * serving collector writes (components/log-collector/args.ts), read here by a stand-in reader.
 */
import { sharedLogsRecord } from "../../components/log-collector/args";
import { ConfigError } from "../../config";
import { checkSharedLogs, expectedLogNamespaces, sharedLogsProblems } from "../../preflight/shared-logs";
import { api, parse } from "../config/support";

const KEY = "monitoring:logCollector.sharedFrom";
const stack = { namespace: "monitoring-staging", sharedFrom: "monitoring-production", namespaces: ["data-staging", "shop-staging"] };

describe("the served stack's check of the shared collector's record", () => {
  test("a record that sends every namespace to this stack passes", () => {
    const record = sharedLogsRecord([
      { stackNamespace: "monitoring-staging", namespaces: ["shop-staging", "data-staging", "web-staging"] },
    ]);
    expect(sharedLogsProblems(record, stack, KEY)).toEqual([]);
  });

  test("a record that does not name this stack is refused with the entry to add", () => {
    const record = sharedLogsRecord([{ stackNamespace: "monitoring-qa", namespaces: ["shop-qa"] }]);
    expect(sharedLogsProblems(record, stack, KEY)).toEqual([
      {
        key: KEY,
        message: expect.stringContaining(
          "the collector of the stack in monitoring-production sends no logs to this stack (the shared-logs ConfigMap of monitoring-production-agents does not name monitoring-staging): " +
            "add {namespace: monitoring-staging, namespaces: [data-staging, shop-staging]} to that stack's monitoring:logCollector.shareWith",
        ),
      },
    ]);
  });

  test("a missing namespace is named", () => {
    const record = sharedLogsRecord([{ stackNamespace: "monitoring-staging", namespaces: ["shop-staging"] }]);
    expect(sharedLogsProblems(record, stack, KEY).map((p) => p.message)).toEqual([
      expect.stringMatching(
        /^the collector of the stack in monitoring-production does not send the logs of data-staging to this stack: add it to the namespaces/,
      ),
    ]);
  });

  test("no record at all, or one that is not JSON, is refused", () => {
    expect(sharedLogsProblems(undefined, stack, KEY)).toHaveLength(1);
    expect(sharedLogsProblems("{not json", stack, KEY)[0].message).toMatch(/is not the record a collector writes/);
  });

  test("the namespaces expected are the ones the stack watches, its own among them, not its agents namespace", () => {
    const { config } = parse("staging", {
      profile: "staging",
      environment: "staging",
      apps: [
        { ...api, namespace: "shop-staging" },
        { name: "jobs", namespace: "monitoring-staging", service: "jobs", port: "http" },
        { name: "web", namespace: "web-staging", otlp: true },
      ],
    });
    expect(expectedLogNamespaces(config)).toEqual(["monitoring-staging", "shop-staging", "web-staging"]);
  });

  test("checkSharedLogs reads the serving stack's agents namespace, and only when the stack is served", async () => {
    const reads: string[] = [];
    const reader = async (ns: string, readName: string) => {
      reads.push(`${ns} ${readName}`);
      return sharedLogsRecord([{ stackNamespace: "monitoring-staging", namespaces: ["other"] }]);
    };
    const served = parse("staging", {
      profile: "staging",
      environment: "staging",
      apps: [{ ...api, namespace: "shop-staging" }],
      logCollector: { sharedFrom: "monitoring-production" },
    }).config;
    await expect(checkSharedLogs(served, "monitoring", reader)).rejects.toThrow(ConfigError);
    expect(reads).toEqual([
      "monitoring-production-agents monitoring:logCollector.sharedFrom ConfigMap monitoring-production-agents/shared-logs",
    ]);
    const own = parse("staging", { profile: "staging", environment: "staging" }).config;
    await checkSharedLogs(own, "monitoring", reader);
    expect(reads).toHaveLength(1);
  });
});
