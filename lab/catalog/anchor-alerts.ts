import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CATALOG_DIR } from "../../cli/catalog";
import { promqlMetricNames } from "../../cli/promql";

/**
 * The anchor alerts: kube-prometheus' rendered alert rules at one revision (a release tag, or a
 * commit of its main branch), as facts (name,
 * source file, group, the metrics each reads, its `for` and severity), kept in
 * catalog/anchor-alerts.yaml to weigh this stack's alerts against. Written by
 * `npm run anchor-alerts -- <kube-prometheus checkout>` (scripts/anchor-alerts.ts).
 */
export const ANCHOR_ALERTS_FILE = path.join(CATALOG_DIR, "anchor-alerts.yaml");

export interface AnchorAlert {
  name: string;
  /** The manifest it comes from, e.g. "nodeExporter-prometheusRule.yaml". */
  source: string;
  group: string;
  /**
   * The metrics it reads, the anchor's own recording rules replaced by the metrics they read
   * (what an exporter must emit for the alert to work).
   */
  reads: string[];
  /** The `for` as written; absent when it fires at once. */
  for?: string;
  severity: string;
}

export interface AnchorAlerts {
  project: string;
  /** The tag or branch the alerts were read at: `v0.18.0`, `main`. */
  ref: string;
  /** The commit of kube-prometheus they were read at (40 hex digits). */
  commit: string;
  alerts: AnchorAlert[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

interface RawRule {
  source: string;
  group: string;
  rule: Obj;
}

function rawRules(manifests: { file: string; text: string }[]): RawRule[] {
  const out: RawRule[] = [];
  for (const { file, text } of manifests) {
    const doc: unknown = YAML.parse(text);
    const groups = isObj(doc) && isObj(doc.spec) && Array.isArray(doc.spec.groups) ? doc.spec.groups : [];
    for (const g of groups) {
      if (!isObj(g) || !Array.isArray(g.rules)) throw new Error(`${file}: a group without rules`);
      for (const rule of g.rules) if (isObj(rule)) out.push({ source: file, group: String(g.name), rule });
    }
  }
  return out;
}

/**
 * The anchor alerts of kube-prometheus' rendered PrometheusRule manifests: every alert rule,
 * in file and group order, with the metrics it reads once the recording rules of the same
 * manifests are expanded into the metrics they read.
 */
export function anchorAlerts(manifests: { file: string; text: string }[]): AnchorAlert[] {
  const rules = rawRules(manifests);
  const recorded = new Map<string, Set<string>>();
  for (const { rule } of rules) {
    if (typeof rule.record !== "string") continue;
    const reads = recorded.get(rule.record) ?? new Set<string>();
    for (const m of promqlMetricNames(String(rule.expr))) reads.add(m);
    recorded.set(rule.record, reads);
  }
  const expand = (metric: string, seen: Set<string>): string[] => {
    const inputs = recorded.get(metric);
    if (!inputs || seen.has(metric)) return [metric];
    return [...inputs].flatMap((m) => expand(m, new Set([...seen, metric])));
  };
  return rules
    .filter(({ rule }) => typeof rule.alert === "string")
    .map(({ source, group, rule }) => {
      const labels = isObj(rule.labels) ? rule.labels : {};
      const reads = [...new Set(promqlMetricNames(String(rule.expr)).flatMap((m) => expand(m, new Set())))].sort();
      return {
        name: String(rule.alert),
        source,
        group,
        reads,
        ...(rule.for === undefined ? {} : { for: String(rule.for) }),
        severity: String(labels.severity ?? "none"),
      };
    });
}

/** catalog/anchor-alerts.yaml, parsed. */
export function loadAnchorAlerts(file: string = ANCHOR_ALERTS_FILE): AnchorAlerts {
  const doc: unknown = YAML.parse(fs.readFileSync(file, "utf8"));
  if (!isObj(doc) || !Array.isArray(doc.alerts)) throw new Error(`${file}: expected a mapping with alerts: [...]`);
  return { project: String(doc.project), ref: String(doc.ref), commit: String(doc.commit), alerts: doc.alerts as AnchorAlert[] };
}

/** Whether every metric an anchor alert reads is in the catalogue: whether it can work on this stack. */
export function anchorApplies(alert: AnchorAlert, catalog: Map<string, string>): boolean {
  return alert.reads.every((m) => catalog.has(m));
}
