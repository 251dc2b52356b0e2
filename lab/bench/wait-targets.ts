/**
 * What a person waits for, held by a full run of `npm run bench` (issue 48's targets): the rule cycle and the views
 * against kube-prometheus' on the same workload, and our slowest panel. Pure: it reads a LiveResult and its report.
 */
import type { LiveResult } from "./live";
import type { LiveReport } from "./report";
import { DashboardRun, DashboardTiming, SLOW_PANEL_SECONDS, ViewSide, viewFigures } from "./dashboard-timing";
import type { Measurement } from "./measurement";

/**
 * Ours at most this share of kube-prometheus' on the same workload: a view's time, one rule-evaluation cycle
 * (docs/benchmark.md, "What a person waits for, held").
 */
export const COMPARED_SHARE = 0.5;

/**
 * What a person waits for, held by a full run: with --compare-rules, against kube-prometheus' on the same
 * workload, one rule-evaluation cycle, steady and burst, at most COMPARED_SHARE of theirs, and at the timing of
 * the dashboards with the most pods (the growth's last phase: 100 apps, 500 pods) each view at most
 * COMPARED_SHARE of its counterpart's time; with or without, no panel of ours over SLOW_PANEL_SECONDS there.
 * Each names its figures, and a view the panels of either side that answered no series: a side that reads
 * nothing answers fast.
 */
export function waitTargets(result: LiveResult, report: LiveReport): Measurement[] {
  const out: Measurement[] = [];
  const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  const c = report.comparison;
  const cycles = [
    ["steady", "ruleEvaluationSeconds"],
    ["burst", "burstRuleEvaluationSeconds"],
  ] as const;
  for (const [phaseName, key] of cycles) {
    const [ours, theirs] = [c?.ours[key], c?.theirs[key]];
    if (ours === undefined || theirs === undefined || theirs <= 0) continue;
    out.push({
      name: `one rule-evaluation cycle, ${phaseName}: ours ÷ kube-prometheus'`,
      value: ours / theirs,
      unit: "×",
      target: COMPARED_SHARE,
      kind: "max",
      display: `${(ours / theirs).toFixed(2)}× (${ms(ours)} against ${ms(theirs)}; at most ${COMPARED_SHARE}×)`,
    });
  }
  const runs = result.dashboards ?? [];
  const run = runs.reduce<DashboardRun | undefined>((a, r) => (!a || r.pods > a.pods ? r : a), undefined);
  if (!run) return out;
  const at = `at ${run.apps} apps and ${run.pods} pods`;
  const slowest = run.ours.reduce<DashboardTiming | undefined>(
    (a, d) => ((d.slowest?.seconds ?? 0) > (a?.slowest?.seconds ?? 0) ? d : a),
    undefined,
  );
  out.push({
    name: `our slowest panel ${at}`,
    value: slowest?.slowest?.seconds ?? 0,
    unit: "s",
    target: SLOW_PANEL_SECONDS,
    kind: "max",
    display: slowest?.slowest ? `${ms(slowest.slowest.seconds)} (${slowest.dashboard}, ${slowest.slowest.panel})` : "no panel timed",
  });
  const empty = (side: ViewSide) => (side.emptyPanels > 0 ? `, ${side.emptyPanels} of ${side.panels} panels without data` : "");
  for (const v of viewFigures(run)) {
    if (!v.theirs || v.theirs.seconds <= 0) continue;
    out.push({
      name: `the ${v.view} view ${at}: ours ÷ kube-prometheus'`,
      value: v.ours.seconds / v.theirs.seconds,
      unit: "×",
      target: COMPARED_SHARE,
      kind: "max",
      display: `${(v.ours.seconds / v.theirs.seconds).toFixed(2)}× (${ms(v.ours.seconds)}${empty(v.ours)}, against ${ms(v.theirs.seconds)}${empty(v.theirs)}; at most ${COMPARED_SHARE}×)`,
    });
  }
  return out;
}
