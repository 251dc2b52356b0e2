/**
 * Per-stack thresholds of the node alerts that teams tune (CPU, memory, disk): a warning
 * and a critical level each, with its percent, its `for` and its severity, or turned off.
 * The stack file's `thresholds` section is this file's: its schema, its defaults (the rule
 * files' values), its resolution and its problems. The rule files keep today's values
 * (rules/nodes.yml, which the promtool unit tests read as it is); loadRuleFiles writes a
 * stack's values into the loaded rules (components/prometheus/rules/rule-files.ts thresholdsInto).
 * Defaults leave a file byte for byte as it is.
 */
import { z } from "zod";
import { bool, duration } from "../../kit/fields";
import { ArgsProblem } from "../../kit/problems";
import { FieldsOf, componentSection, overDefaults } from "../../kit/section";
import { ALERT_SEVERITIES } from "../../kit/severities";

export const THRESHOLD_NAMES = ["nodeCpu", "nodeMemory", "nodeDisk"] as const;
export type ThresholdName = (typeof THRESHOLD_NAMES)[number];
export const THRESHOLD_LEVELS = ["warning", "critical"] as const;
export type ThresholdLevelName = (typeof THRESHOLD_LEVELS)[number];

/** One level of an alert, as its schema (levelSchema) declares it: fires when the measure passes `percent` for `for`, with this severity. */
export type ThresholdLevel = FieldsOf<ReturnType<typeof levelSchema>>;
export type AlertThresholds = Record<ThresholdLevelName, ThresholdLevel>;
export type Thresholds = Record<ThresholdName, AlertThresholds>;

/** What an alert's percent measures: a share used (fires above) or a share free (fires below). */
export type Measure = "used" | "free";

export interface LevelText {
  summary: (percent: number) => string;
  description: (percent: number, forText: string) => string;
}

export interface ThresholdSpec {
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
  resolve: (given, context): Thresholds => {
    const out = defaultThresholds();
    for (const name of THRESHOLD_NAMES) {
      for (const level of THRESHOLD_LEVELS) out[name][level] = overDefaults(out[name][level], given?.[name]?.[level], context);
    }
    return out;
  },
  problems: thresholdProblems,
});
