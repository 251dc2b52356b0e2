/** The traces backend's own rules (components/tracing/problems.ts), and what the OTLP endpoint for apps needs. */
import { problems as tracingProblems } from "../../components/tracing/problems";
import { CheckInput, sectionProblems } from "./check";

/** Apps' OTLP arrives at the log collector's endpoint, so it must run; the traces backend has its own rules. */
export function tracingChecks(input: CheckInput): void {
  const { resolved, key, problems, warnings } = input;
  if (!resolved.logCollector.enabled) {
    resolved.apps.forEach((app, i) => {
      if (!app.otlp) return;
      problems.push({
        key: key(`apps[${i}].otlp`),
        message: `is true, but the OTLP endpoint for apps is the log collector's and logCollector.enabled is false: turn the log collector on, or scrape "${app.name}"`,
      });
    });
    if (resolved.tracing.enabled) {
      warnings.push(
        `${key("tracing.enabled")} is true, but logCollector.enabled is false: the traces backend runs and nothing sends it spans (apps send OTLP to the log collector's endpoint).`,
      );
    }
  }
  if (resolved.tracing.enabled) sectionProblems("tracing", tracingProblems(resolved.tracing), input);
}
