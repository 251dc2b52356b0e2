/** Loki's ingestion limits against its volume (components/loki/problems.ts). */
import { problems as lokiProblems, warnings as lokiWarnings } from "../../components/loki/problems";
import { CheckInput, sectionProblems } from "./check";

/** Loki's own rules, when it runs. */
export function lokiChecks(input: CheckInput): void {
  const { resolved, key, warnings } = input;
  if (!resolved.loki.enabled) return;
  sectionProblems("loki", lokiProblems(resolved.loki), input);
  for (const warning of lokiWarnings(resolved.loki)) warnings.push(`${key(`loki.${warning.key}`)} ${warning.message}.`);
}
