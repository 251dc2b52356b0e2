/** The traces backend's own rules (components/tracing/problems.ts). */
import { problems as tracingProblems } from "../../components/tracing/problems";
import { CheckInput, sectionProblems } from "./check";

/** The traces backend's rules, when it runs. */
export function tracingChecks(input: CheckInput): void {
  if (!input.resolved.tracing.enabled) return;
  sectionProblems("tracing", tracingProblems(input.resolved.tracing), input);
}
