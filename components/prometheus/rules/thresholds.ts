/**
 * Per-stack thresholds of the node alerts that teams tune (CPU, memory, disk): a warning
 * and a critical level each, with its percent, its `for` and its severity, or turned off.
 * The stack file's `thresholds` section is this file's: its schema, its defaults (the rule
 * files' values), its resolution and its problems. The rule files keep today's values
 * (rules/nodes.yml, which the promtool unit tests read as it is); thresholdsInto turns a
 * stack's values into the loaded rules (loadRuleFiles) by editing the parsed YAML of the alerts
 * concerned: the threshold of the expression's comparison, `for`, the severity label, and the
 * annotations that quote the threshold. Defaults leave a file byte for byte as it is.
 */
import * as YAML from "yaml";
import { z } from "zod";
import { bool, duration } from "../../kit/fields";
import { ArgsProblem } from "../../kit/problems";
import { componentSection } from "../../kit/section";
import { durationSeconds } from "../../kit/units";

export const THRESHOLD_NAMES = ["nodeCpu", "nodeMemory", "nodeDisk"] as const;
export type ThresholdName = (typeof THRESHOLD_NAMES)[number];
export const THRESHOLD_LEVELS = ["warning", "critical"] as const;
export type ThresholdLevelName = (typeof THRESHOLD_LEVELS)[number];
export const ALERT_SEVERITIES = ["critical", "warning", "info"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** One level of an alert: fires when the measure passes `percent` for `for`, with this severity. */
export interface ThresholdLevel {
  enabled: boolean;
  percent: number;
  for: string;
  severity: AlertSeverity;
}
export type AlertThresholds = Record<ThresholdLevelName, ThresholdLevel>;
export type Thresholds = Record<ThresholdName, AlertThresholds>;

/** What an alert's percent measures: a share used (fires above) or a share free (fires below). */
export type Measure = "used" | "free";

interface LevelText {
  summary: (percent: number) => string;
  description: (percent: number, forText: string) => string;
}

interface ThresholdSpec {
  /** The alert of the rule files, one rule per level (told apart by its severity in the file). */
  alert: string;
  measure: Measure;
  /** What the percent is a share of, for messages. */
  what: string;
  defaults: Record<ThresholdLevelName, { percent: number; for: string }>;
  /** The annotations as the rule file words them, for any value. */
  text: Record<ThresholdLevelName, LevelText>;
}

const FILESYSTEM = "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) of node {{ $labels.instance }}";

/** The tunable alerts: their rule, their defaults (rules/nodes.yml's values) and their wording. */
export const THRESHOLD_SPECS: Readonly<Record<ThresholdName, ThresholdSpec>> = {
  nodeCpu: {
    alert: "NodeCpuHighUsage",
    measure: "used",
    what: "CPU time busy",
    defaults: { warning: { percent: 90, for: "5m" }, critical: { percent: 95, for: "2m" } },
    text: {
      warning: {
        summary: () => "A node's CPU is nearly saturated.",
        description: (_, f) => `Node {{ $labels.instance }} has been {{ $value | humanizePercentage }} busy (5-minute average) for ${f}.`,
      },
      critical: {
        summary: () => "A node's CPU is saturated.",
        description: (_, f) => `Node {{ $labels.instance }} has been {{ $value | humanizePercentage }} busy (5-minute average) for ${f}.`,
      },
    },
  },
  nodeMemory: {
    alert: "NodeMemoryHighUsage",
    measure: "used",
    what: "memory used",
    defaults: { warning: { percent: 90, for: "5m" }, critical: { percent: 95, for: "2m" } },
    text: {
      warning: {
        summary: () => "A node is running low on memory.",
        description: (p) =>
          `Node {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory; less than ${complement(p)} % is available.`,
      },
      critical: {
        summary: () => "A node is almost out of memory.",
        description: (p) =>
          `Node {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory; less than ${complement(p)} % is available and the OOM killer is near.`,
      },
    },
  },
  nodeDisk: {
    alert: "NodeFilesystemAlmostFull",
    measure: "free",
    what: "filesystem space free",
    defaults: { warning: { percent: 15, for: "10m" }, critical: { percent: 5, for: "5m" } },
    text: {
      warning: {
        summary: (p) => `A node's filesystem has less than ${p} % free space.`,
        description: () => `${FILESYSTEM} has only {{ $value | humanizePercentage }} free space.`,
      },
      critical: {
        summary: (p) => `A node's filesystem has less than ${p} % free space.`,
        description: () => `${FILESYSTEM} has only {{ $value | humanizePercentage }} free space.`,
      },
    },
  },
};

/** The default severity of a level is its name. */
export function defaultThresholds(): Thresholds {
  const out = {} as Thresholds;
  for (const name of THRESHOLD_NAMES) {
    const d = THRESHOLD_SPECS[name].defaults;
    out[name] = {
      warning: { enabled: true, ...d.warning, severity: "warning" },
      critical: { enabled: true, ...d.critical, severity: "critical" },
    };
  }
  return out;
}

/** 100 - percent, without binary fractions showing (100 - 80.1 is 19.9). */
function complement(percent: number): number {
  return Number((100 - percent).toFixed(6));
}

/** A percent as the ratio PromQL compares with, at least two decimals as the rule files write them (90 -> 0.90, 92.5 -> 0.925). */
export function ratioText(percent: number): string {
  const text = String(Number((percent / 100).toFixed(8)));
  const [whole, decimals = ""] = text.split(".");
  return `${whole}.${decimals.padEnd(2, "0")}`;
}

/** A `for` in words, as descriptions say it: 5m -> "5 minutes", 1h -> "1 hour", 90s -> "90 seconds", 1h30m -> "1h30m". */
export function durationWords(duration: string): string {
  const seconds = durationSeconds(duration);
  if (seconds === undefined || seconds <= 0) return duration;
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (seconds % 3600 === 0) return unit(seconds / 3600, "hour");
  if (seconds % 60 === 0) return unit(seconds / 60, "minute");
  if (Number.isInteger(seconds)) return unit(seconds, "second");
  return duration;
}

/**
 * The expression with its threshold changed: the one comparison `<op> <from>` (op `>` for a
 * share used, `<` for a share free) becomes `<op> <to>`. An expression without exactly one
 * such comparison is an error: the rule is not the one this module knows.
 */
export function withThreshold(expr: string, measure: Measure, from: number, to: number): string {
  const op = measure === "used" ? ">" : "<";
  const escaped = ratioText(from).replace(".", "\\.");
  const comparison = new RegExp(`(^|[\\s)])${op}(\\s*)${escaped}(?![0-9.])`, "g");
  const found = expr.match(comparison) ?? [];
  if (found.length !== 1) {
    throw new Error(`expected one comparison "${op} ${ratioText(from)}" in its expression, found ${found.length}`);
  }
  return expr.replace(comparison, (_, before: string, space: string) => `${before}${op}${space}${ratioText(to)}`);
}

/** Whether a level differs from what the rule file holds. */
function changed(spec: ThresholdSpec, level: ThresholdLevelName, t: ThresholdLevel): boolean {
  const d = spec.defaults[level];
  return !t.enabled || t.percent !== d.percent || t.for !== d.for || t.severity !== level;
}

/**
 * A parsed rule file with a stack's thresholds, edited in place: every rule of a tunable alert,
 * found by its name and its severity in the file (the level), gets the level's threshold, `for`,
 * severity and annotations, or is removed when the level is off. Returns whether anything
 * changed: not for a file with none of these alerts, nor for thresholds equal to the defaults.
 * Throws (naming the alert) when a rule to change is not worded as THRESHOLD_SPECS expects.
 */
export function thresholdsInto(doc: YAML.Document, thresholds: Thresholds, file = "rule file"): boolean {
  const groups = doc.get("groups");
  if (!YAML.isSeq(groups)) return false;
  let edited = false;
  for (const group of groups.items) {
    if (!YAML.isMap(group)) continue;
    const rules = group.get("rules");
    if (!YAML.isSeq(rules)) continue;
    const keep: unknown[] = [];
    for (const rule of rules.items) {
      keep.push(rule);
      if (!YAML.isMap(rule)) continue;
      const name = THRESHOLD_NAMES.find((n) => THRESHOLD_SPECS[n].alert === rule.get("alert"));
      const level = THRESHOLD_LEVELS.find((l) => l === rule.getIn(["labels", "severity"]));
      if (name === undefined || level === undefined) continue;
      const spec = THRESHOLD_SPECS[name];
      const t = thresholds[name][level];
      if (!changed(spec, level, t)) continue;
      edited = true;
      if (!t.enabled) {
        keep.pop();
        continue;
      }
      const where = `${file}: ${spec.alert} (${level})`;
      const expr = rule.get("expr");
      if (typeof expr !== "string") throw new Error(`${where} has no expression`);
      try {
        rule.set("expr", withThreshold(expr, spec.measure, spec.defaults[level].percent, t.percent));
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`);
      }
      const wording = spec.text[level];
      const d = spec.defaults[level];
      for (const [key, render] of [
        ["summary", (p: number) => wording.summary(p)],
        ["description", (p: number, f: string) => wording.description(p, f)],
      ] as const) {
        const current = rule.getIn(["annotations", key]);
        if (current !== render(d.percent, durationWords(d.for))) {
          throw new Error(`${where}: its ${key} is not worded as components/prometheus/rules/thresholds.ts expects; change both together`);
        }
        rule.setIn(["annotations", key], render(t.percent, durationWords(t.for)));
      }
      rule.set("for", t.for);
      rule.setIn(["labels", "severity"], t.severity);
    }
    rules.items = keep as typeof rules.items;
  }
  return edited;
}

/**
 * What is wrong with a stack's thresholds, keyed below `thresholds`: per alert, the warning
 * level must fire before the critical one (a lower share used, a higher share free), and the
 * two levels need different severities, or Alertmanager's inhibition (a critical mutes the
 * warning of the same alert) has nothing to tell apart.
 */
export function thresholdProblems(thresholds: Thresholds): ArgsProblem[] {
  const problems: ArgsProblem[] = [];
  for (const name of THRESHOLD_NAMES) {
    const spec = THRESHOLD_SPECS[name];
    const { warning, critical } = thresholds[name];
    if (!warning.enabled || !critical.enabled) continue;
    const inOrder = spec.measure === "used" ? warning.percent < critical.percent : warning.percent > critical.percent;
    if (!inOrder) {
      problems.push({
        key: `${name}.warning.percent`,
        message:
          `must be ${spec.measure === "used" ? "below" : "above"} ${name}.critical.percent (${critical.percent}): it is the share of ${spec.what}, ` +
          `and the warning comes ${spec.measure === "used" ? "at a lower" : "at a higher"} one than the critical (got ${warning.percent})`,
        involves: [`${name}.critical.percent`],
      });
    }
    if (warning.severity === critical.severity) {
      problems.push({
        key: `${name}.warning.severity`,
        message:
          `must differ from ${name}.critical.severity: both levels of ${spec.alert} share its name, and Alertmanager mutes the warning ` +
          `while the critical fires by telling them apart by severity; turn one level off instead (got ${JSON.stringify(warning.severity)})`,
        involves: [`${name}.critical.severity`],
      });
    }
  }
  return problems;
}

/** One level of a tunable node alert; every field defaults to rules/nodes.yml's value. */
function levelSchema(name: ThresholdName, level: ThresholdLevelName) {
  const spec = THRESHOLD_SPECS[name];
  const d = spec.defaults[level];
  return z.strictObject({
    enabled: bool.optional().describe(`Whether ${spec.alert} has its ${level} level; default true.`),
    percent: z
      .number({ error: `must be a percent 1-99 (the share of ${spec.what})` })
      .min(1, "must be at least 1 (percent)")
      .max(99, "must be at most 99 (percent)")
      .optional()
      .describe(
        `Share of ${spec.what} at which the ${level} fires (${spec.measure === "used" ? "above" : "below"}); default ${d.percent}.`,
      ),
    for: duration.optional().describe(`How long it must hold; default ${d.for}.`),
    severity: z.enum(ALERT_SEVERITIES).optional().describe(`The alert's severity label; default ${level}.`),
  });
}

const alertSchema = (name: ThresholdName) =>
  z.strictObject({ warning: levelSchema(name, "warning").optional(), critical: levelSchema(name, "critical").optional() });

const schema = z.strictObject({
  nodeCpu: alertSchema("nodeCpu").optional(),
  nodeMemory: alertSchema("nodeMemory").optional(),
  nodeDisk: alertSchema("nodeDisk").optional(),
});

/** The `thresholds` section: each level of each tunable alert, what the stack gives over rules/nodes.yml's value. */
export const thresholdsSection = componentSection({
  schema,
  defaults: (): Thresholds => defaultThresholds(),
  resolve: (given): Thresholds => {
    const out = defaultThresholds();
    for (const name of THRESHOLD_NAMES) {
      for (const level of THRESHOLD_LEVELS) {
        const set = given?.[name]?.[level];
        if (set === undefined) continue;
        const byDefault = out[name][level];
        out[name][level] = {
          enabled: set.enabled ?? byDefault.enabled,
          percent: set.percent ?? byDefault.percent,
          for: set.for ?? byDefault.for,
          severity: set.severity ?? byDefault.severity,
        };
      }
    }
    return out;
  },
  problems: thresholdProblems,
});
