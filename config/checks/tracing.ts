/** The traces backend's own rules (components/tracing/problems.ts), and what the OTLP endpoint for apps needs. */
import { problems as tracingProblems } from "../../components/tracing/problems";
import { CheckInput, sectionProblems } from "./check";

/** Apps' OTLP arrives at the collector's endpoint, which only Alloy runs; the traces backend has its own rules. */
export function tracingChecks(input: CheckInput): void {
  const { resolved, key, problems, warnings } = input;
  const alloy = resolved.logCollector.enabled && resolved.logCollector.agent === "alloy";
  if (!alloy) {
    const why = resolved.logCollector.enabled ? "logCollector.agent is promtail, which receives no OTLP" : "logCollector.enabled is false";
    resolved.apps.forEach((app, i) => {
      if (!app.otlp) return;
      problems.push({
        key: key(`apps[${i}].otlp`),
        message: `is true, but the OTLP endpoint for apps is the log collector's and ${why}: run Alloy (logCollector.agent: alloy), or scrape "${app.name}"`,
      });
    });
    if (resolved.tracing.enabled) {
      warnings.push(
        `${key("tracing.enabled")} is true, but ${why}: the traces backend runs and nothing sends it spans (apps send OTLP to Alloy's endpoint).`,
      );
    }
  }
  if (resolved.tracing.enabled) sectionProblems("tracing", tracingProblems(resolved.tracing), input);
}
