/** What the OTLP endpoint for apps needs: it is the log collector's (the traces backend's own rules are its section's). */
import { CheckInput } from "./check";

/** Apps' OTLP arrives at the log collector's endpoint, so it must run; without it the traces backend receives nothing. */
export function tracingChecks({ resolved, key, problems, warnings }: CheckInput): void {
  if (!resolved.logCollector.enabled) {
    resolved.apps.forEach((app, i) => {
      if (!app.otlp) return;
      const shared = resolved.logCollector.sharedFrom;
      problems.push({
        key: key(`apps[${i}].otlp`),
        message: shared
          ? `is true, but this stack runs no log collector (logCollector.sharedFrom: the collector of the stack in ${shared} sends its pod logs) ` +
            `and the OTLP endpoint for apps is a stack's own collector: run this stack's own (remove sharedFrom), or scrape "${app.name}"`
          : `is true, but the OTLP endpoint for apps is the log collector's and logCollector.enabled is false: turn the log collector on, or scrape "${app.name}"`,
      });
    });
    // On by an app that sends OTLP, that app's problem above says it all.
    if (resolved.tracing.enabled && resolved.tracing.enabledBy === "set") {
      warnings.push(
        `${key("tracing.enabled")} is true, but logCollector.enabled is false: the traces backend runs and nothing sends it spans (apps send OTLP to the log collector's endpoint).`,
      );
    }
  }
}
