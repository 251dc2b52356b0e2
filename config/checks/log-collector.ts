/** The log collector: it ships to Loki. */
import { CheckInput } from "./check";

/** The log collector needs Loki. */
export function logCollectorChecks({ resolved, key, problems }: CheckInput): void {
  if (resolved.logCollector.enabled && !resolved.loki.enabled) {
    problems.push({
      key: key("logCollector.enabled"),
      message: "the log collector ships to Loki, so it needs loki.enabled: true (or set logCollector.enabled: false)",
      involves: [key("loki.enabled")],
    });
  }
}
