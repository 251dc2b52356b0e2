/** The tunable node alerts (components/prometheus/rules/thresholds.ts). */
import { thresholdProblems } from "../../components/prometheus/rules/thresholds";
import { CheckInput } from "./check";

/** The warning level of a node alert fires before its critical one, with another severity. */
export function thresholdChecks({ resolved, key, problems }: CheckInput): void {
  for (const [path, message, other] of thresholdProblems(resolved.thresholds)) {
    problems.push({ key: key(`thresholds.${path}`), message, involves: [key(`thresholds.${other}`)] });
  }
}
