/**
 * One box with monitors, checked at preview and up (preflight/served-monitors.ts): the serving stack reads the served
 * stack's published settings (only the namespaces its entry gives), and the served stack is refused when the serving
 * collector does not scrape its monitors, naming both keys, and warned when it scrapes them with other settings.
 */
import {
  appliedMonitorsProblems,
  checkAppliedMonitors,
  givenConfigMapGetter,
  parseServedMonitors,
  readServedMonitors,
} from "../../preflight/served-monitors";
import { servedMonitorsRecord, ServedMonitorsSettings } from "../../components/log-collector/served-monitors";
import { servedMonitorsSettings } from "../../components/stack/args";
import { ConfigError } from "../../config";
import { parse } from "../config/support";

const ENTRY = { namespace: "monitoring-staging", namespaces: ["monitoring-staging", "shop-staging"] };
const KEY = "monitoring:logCollector.shareWith[0].monitors";
const SETTINGS: ServedMonitorsSettings = {
  environment: "staging",
  namespaces: ["monitoring-staging", "shop-staging"],
  selector: { team: "shop" },
  secrets: ["shop-staging/metrics-auth"],
  scrapeInterval: "30s",
  scrapeTimeout: "10s",
  scrapedServices: [{ namespace: "shop-staging", name: "api" }],
  honorLabels: [],
  sampleLimit: 2500,
};

describe("the serving stack reads the served stack's settings", () => {
  test("as published, within the namespaces its entry gives", () => {
    expect(parseServedMonitors(servedMonitorsRecord(SETTINGS), ENTRY, KEY)).toEqual({ settings: SETTINGS, problems: [], warnings: [] });
  });

  test("not published yet: none read, and a warning naming the entry and the next step", () => {
    const result = parseServedMonitors(undefined, ENTRY, KEY);
    expect(result.settings).toBeUndefined();
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^monitoring:logCollector\.shareWith\[0\]\.monitors: the served-monitors ConfigMap of monitoring-staging does not exist yet.*pulumi up this stack again/,
      ),
    ]);
  });

  test("a namespace beyond the entry is refused, naming both stacks' keys", () => {
    const result = parseServedMonitors(servedMonitorsRecord({ ...SETTINGS, namespaces: [...SETTINGS.namespaces, "billing"] }), ENTRY, KEY);
    expect(result.settings).toBeUndefined();
    expect(result.problems).toEqual([
      {
        key: KEY,
        message: expect.stringMatching(/reads monitors in billing, which this entry does not give it: .*monitoring:monitors\.namespaces/),
      },
    ]);
  });

  test("a record edited into something else (a regex in a namespace, a limit as text) is refused", () => {
    for (const bad of [{ ...SETTINGS, namespaces: ["shop-staging|.*"] }, { ...SETTINGS, sampleLimit: "2500" }, "not json"]) {
      const text = typeof bad === "string" ? bad : JSON.stringify(bad);
      expect(parseServedMonitors(text, ENTRY, KEY).problems).toEqual([
        { key: KEY, message: expect.stringMatching(/is not the record a served stack writes/) },
      ]);
    }
  });

  test("through the API: each entry with monitors read from its namespace, the others not at all", async () => {
    const cfg = parse("production", {
      logCollector: {
        shareWith: [ENTRY, { namespace: "monitoring-qa", namespaces: ["shop-qa"], monitors: true }].map((e, i) =>
          i === 0 ? { ...e, monitors: true } : e,
        ),
      },
    }).config;
    const asked: string[] = [];
    const get = givenConfigMapGetter([
      { metadata: { namespace: "monitoring-staging", name: "served-monitors" }, data: { "monitors.json": servedMonitorsRecord(SETTINGS) } },
    ]);
    const read = await readServedMonitors(cfg, "monitoring", false, async (p) => {
      asked.push(p);
      return get(p);
    });
    expect(read.settings).toEqual({ "monitoring-staging": SETTINGS });
    expect(asked).toEqual([
      "/api/v1/namespaces/monitoring-staging/configmaps/served-monitors",
      "/api/v1/namespaces/monitoring-qa/configmaps/served-monitors",
    ]);
    expect(read.warnings).toEqual([expect.stringContaining("monitoring-qa does not exist yet")]);
  });
});

describe("the served stack checks the serving collector's record", () => {
  const stack = { namespace: "monitoring-staging", sharedFrom: "monitoring-production", settings: SETTINGS };

  test.each([
    ["no record (a serving stack without monitors support)", undefined],
    ["no entry with monitors for this stack", JSON.stringify({ "monitoring-qa": null })],
  ])("refused with %s, naming monitors.enabled, sharedFrom and the serving stack's shareWith", (_, record) => {
    const { problems } = appliedMonitorsProblems(record, stack, "monitoring");
    expect(problems).toEqual([
      {
        key: "monitoring:monitors.enabled",
        message: expect.stringMatching(
          /collector of the stack in monitoring-production \(monitoring:logCollector\.sharedFrom\).*set monitors: true on the monitoring:logCollector\.shareWith entry for monitoring-staging/,
        ),
      },
    ]);
  });

  test("applied with its own settings: nothing to say; with none yet or others: a warning naming the up to run", () => {
    const applied = (v: unknown) => JSON.stringify({ "monitoring-staging": v });
    expect(appliedMonitorsProblems(applied(JSON.parse(servedMonitorsRecord(SETTINGS))), stack, "monitoring")).toEqual({
      problems: [],
      warnings: [],
    });
    for (const other of [null, { ...JSON.parse(servedMonitorsRecord(SETTINGS)), sampleLimit: 10_000 }]) {
      const { problems, warnings } = appliedMonitorsProblems(applied(other), stack, "monitoring");
      expect(problems).toEqual([]);
      expect(warnings).toEqual([expect.stringMatching(/pulumi up the stack in monitoring-production after this one/)]);
    }
  });

  test("a stack from its file: what it publishes is what it checks, and a refusal stops it", async () => {
    const cfg = parse("staging", {
      logCollector: { sharedFrom: "monitoring-production" },
      nodeExporter: { enabled: false },
      monitors: { enabled: true },
    }).config;
    const settings = servedMonitorsSettings(cfg, false) as ServedMonitorsSettings;
    expect(settings.namespaces).not.toContain("monitoring-staging-agents");
    const record = JSON.stringify({ "monitoring-staging": JSON.parse(servedMonitorsRecord(settings)) });
    await expect(checkAppliedMonitors(cfg, "monitoring", false, async () => record)).resolves.toEqual([]);
    await expect(checkAppliedMonitors(cfg, "monitoring", false, async () => undefined)).rejects.toBeInstanceOf(ConfigError);
  });
});
