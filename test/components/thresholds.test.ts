/**
 * Per-stack thresholds of the node alerts (components/prometheus/rules/thresholds.ts): the defaults are the
 * rule files' values and change nothing; other values reach the rules Prometheus loads, worded
 * as the stack says (test/e2e/thresholds.test.ts runs them with the deployed promtool).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ConfigError, parseStackConfig } from "../../config";
import { durationWords, loadRuleFiles, ratioText, withThreshold } from "../../components/prometheus/rules/rule-files";
import {
  THRESHOLD_LEVELS,
  THRESHOLD_NAMES,
  THRESHOLD_SPECS,
  Thresholds,
  defaultThresholds,
} from "../../components/prometheus/rules/thresholds";
import { render } from "../support/render";
import { RULES_DIR } from "../support/rules";
import { tempDirs } from "../support/temp";

const NODES_FILE = path.join(RULES_DIR, "nodes.yml");
const NODES = fs.readFileSync(NODES_FILE, "utf8");

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rulesOf = (text: string): Rule[] => (YAML.parse(text) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const ruleOf = (text: string, alert: string, severity: string): Rule | undefined =>
  rulesOf(text).find((r) => r.alert === alert && r.labels?.severity === severity);

/** A rule file's text as the stack loads it with these thresholds: loadRuleFiles on a directory holding it alone. */
function loaded(text: string, thresholds: Thresholds, file = "nodes.yml"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "thresholds-"));
  try {
    fs.writeFileSync(path.join(dir, file), text);
    return loadRuleFiles(dir, undefined, thresholds)[file];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The stack config's thresholds for these `monitoring:thresholds` values. */
function thresholdsOf(given: unknown): Thresholds {
  return parseStackConfig({
    project: "monitoring",
    stack: "staging",
    values: { "monitoring:thresholds": JSON.stringify(given) },
    secretKeys: [],
  }).config.thresholds;
}

/** The problems reported for these `monitoring:thresholds` values, as "key: message". */
function problemsOf(given: unknown): string[] {
  try {
    thresholdsOf(given);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.key}: ${p.message}`);
    throw err;
  }
  throw new Error("the thresholds were accepted");
}

const tempDir = tempDirs("thresholds");

describe("defaults", () => {
  test("the defaults are the values of rules/nodes.yml, and leave every rule file byte for byte as it is", () => {
    const shipped = loadRuleFiles(RULES_DIR, undefined, defaultThresholds());
    const files = fs.readdirSync(RULES_DIR).filter((f) => f.endsWith(".yml"));
    expect(Object.keys(shipped).sort()).toEqual(files.sort());
    for (const file of files) expect(shipped[file]).toBe(fs.readFileSync(path.join(RULES_DIR, file), "utf8"));
    expect(shipped["nodes.yml"]).toBe(NODES);
  });

  test("rules/nodes.yml is worded as components/prometheus/rules/thresholds.ts renders it at the defaults: threshold, for, severity, annotations", () => {
    for (const name of THRESHOLD_NAMES) {
      const spec = THRESHOLD_SPECS[name];
      for (const level of THRESHOLD_LEVELS) {
        const d = spec.defaults[level];
        const rule = ruleOf(NODES, spec.alert, level);
        expect(rule).toBeDefined();
        if (!rule) continue;
        expect(rule.for).toBe(d.for);
        // One comparison with the default threshold: rewriting it to itself changes nothing.
        expect(withThreshold(rule.expr, spec.measure, d.percent, d.percent)).toBe(rule.expr);
        expect(rule.annotations?.summary).toBe(spec.text[level].summary(d.percent));
        expect(rule.annotations?.description).toBe(spec.text[level].description(d.percent, durationWords(d.for)));
      }
    }
  });

  test("a stack without thresholds gets the defaults, and the staging render that watches the cluster ships nodes.yml unchanged", async () => {
    expect(thresholdsOf({})).toEqual(defaultThresholds());
    const rendered = await render("staging", ["watch.cluster=true"]);
    const shipped = [...rendered.files.entries()].find(([key]) => key.endsWith("/nodes.yml"));
    expect(shipped?.[1]).toBe(NODES);
  });
});

describe("the transformation", () => {
  test("ratios are written as the rule files write them, and durations in words", () => {
    expect([90, 95, 5, 15, 92.5, 80.1, 1, 99].map(ratioText)).toEqual(["0.90", "0.95", "0.05", "0.15", "0.925", "0.801", "0.01", "0.99"]);
    expect(["5m", "1m", "10m", "1h", "2h", "90s", "1h30m", "1s"].map(durationWords)).toEqual([
      "5 minutes",
      "1 minute",
      "10 minutes",
      "1 hour",
      "2 hours",
      "90 seconds",
      "90 minutes",
      "1 second",
    ]);
  });

  test("the threshold of the comparison changes, and only it; an expression without exactly one such comparison is refused", () => {
    expect(withThreshold("instance:x > 0.90", "used", 90, 80)).toBe("instance:x > 0.80");
    const disk = "(\n  a / b\n) < 0.15\nunless on (instance)\nc == 1\n";
    expect(withThreshold(disk, "free", 15, 20)).toBe("(\n  a / b\n) < 0.20\nunless on (instance)\nc == 1\n");
    // 0.905 is not 0.90, and a `>` is not the `<` of a share free.
    expect(() => withThreshold("x > 0.905", "used", 90, 80)).toThrow(/expected one comparison "> 0.90".*found 0/);
    expect(() => withThreshold("x < 0.90", "used", 90, 80)).toThrow(/found 0/);
    expect(() => withThreshold("x > 0.90 or y > 0.90", "used", 90, 80)).toThrow(/found 2/);
  });

  test("a level is rewritten (threshold, for, severity, the annotations quoting them), turned off, or left as it is", () => {
    const t = defaultThresholds();
    t.nodeMemory.warning = { enabled: true, percent: 85, for: "15m", severity: "info" };
    t.nodeDisk.critical = { enabled: false, percent: 5, for: "5m", severity: "critical" };
    const out = loaded(NODES, t);
    const memory = ruleOf(out, "NodeMemoryHighUsage", "info");
    expect(memory?.expr).toBe("instance:node_memory_utilisation:ratio > 0.85");
    expect(memory?.for).toBe("15m");
    expect(memory?.annotations?.description).toContain("less than 15 % is available.");
    expect(ruleOf(out, "NodeMemoryHighUsage", "warning")).toBeUndefined();
    expect(ruleOf(out, "NodeFilesystemAlmostFull", "critical")).toBeUndefined();
    // Everything else is as it was.
    const others = (text: string) =>
      rulesOf(text).filter(
        (r) =>
          !(r.alert === "NodeMemoryHighUsage" && r.labels?.severity !== "critical") &&
          !(r.alert === "NodeFilesystemAlmostFull" && r.labels?.severity === "critical"),
      );
    expect(others(out)).toEqual(others(NODES));
    expect(rulesOf(out)).toHaveLength(rulesOf(NODES).length - 1);
  });

  test("a rule worded otherwise than the module expects is refused rather than half-edited, naming it", () => {
    const t = defaultThresholds();
    t.nodeCpu.warning.percent = 80;
    const reworded = NODES.replace("A node's CPU is nearly saturated.", "CPU busy.");
    expect(() => loaded(reworded, t)).toThrow(/nodes\.yml: NodeCpuHighUsage \(warning\): its summary is not worded/);
  });

  test("thresholds that change an alert no rule file holds are refused", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "mine.yml"), "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n");
    const t = defaultThresholds();
    expect(Object.keys(loadRuleFiles(dir, undefined, t))).toEqual(["mine.yml"]);
    t.nodeDisk.warning.for = "30m";
    expect(() => loadRuleFiles(dir, undefined, t)).toThrow(
      /thresholds\.nodeDisk\.warning: no rule file .* has the alert NodeFilesystemAlmostFull/,
    );
  });
});

describe("stack config", () => {
  test("each field of a level falls back to its default", () => {
    const t = thresholdsOf({
      nodeCpu: { warning: { percent: 70 } },
      nodeDisk: { critical: { severity: "warning", for: "1m" }, warning: { severity: "info" } },
    });
    expect(t.nodeCpu.warning).toEqual({ enabled: true, percent: 70, for: "5m", severity: "warning" });
    expect(t.nodeCpu.critical).toEqual(defaultThresholds().nodeCpu.critical);
    expect(t.nodeDisk.critical).toEqual({ enabled: true, percent: 5, for: "1m", severity: "warning" });
  });

  test("a warning at or past its critical level, percents outside 1-99, bad durations and severities are refused, naming the full key", () => {
    expect(problemsOf({ nodeCpu: { warning: { percent: 96 } } })).toEqual([
      expect.stringMatching(
        /^monitoring:thresholds\.nodeCpu\.warning\.percent: must be below nodeCpu\.critical\.percent \(95\).*\(got 96\)$/,
      ),
    ]);
    expect(problemsOf({ nodeDisk: { warning: { percent: 5 } } })).toEqual([
      expect.stringMatching(
        /^monitoring:thresholds\.nodeDisk\.warning\.percent: must be above nodeDisk\.critical\.percent \(5\).*\(got 5\)$/,
      ),
    ]);
    expect(problemsOf({ nodeMemory: { critical: { percent: 100 } }, nodeCpu: { warning: { percent: 0.5 } } }).sort()).toEqual([
      expect.stringMatching(/^monitoring:thresholds\.nodeCpu\.warning\.percent: must be at least 1/),
      expect.stringMatching(/^monitoring:thresholds\.nodeMemory\.critical\.percent: must be at most 99/),
    ]);
    expect(problemsOf({ nodeCpu: { critical: { for: "5 minutes" } } })).toEqual([
      expect.stringMatching(/^monitoring:thresholds\.nodeCpu\.critical\.for: must be a positive Prometheus duration/),
    ]);
    expect(problemsOf({ nodeCpu: { critical: { severity: "page" } } })).toEqual([
      expect.stringMatching(/^monitoring:thresholds\.nodeCpu\.critical\.severity: /),
    ]);
    expect(problemsOf({ nodeMemory: { warning: { severity: "critical" } } })).toEqual([
      expect.stringMatching(/^monitoring:thresholds\.nodeMemory\.warning\.severity: must differ from nodeMemory\.critical\.severity/),
    ]);
    expect(problemsOf({ nodeRam: {} })).toEqual([expect.stringMatching(/^monitoring:thresholds\.nodeRam: /)]);
  });

  test("a level turned off is not compared with the other", () => {
    expect(thresholdsOf({ nodeCpu: { critical: { enabled: false, percent: 50 } } }).nodeCpu.critical.enabled).toBe(false);
  });
});
