/** Alertmanager: receivers that get alerts, and its grouping intervals in order. */
import { problems as alertmanagerProblems } from "../../components/alertmanager/problems";
import { CheckInput, sectionProblems } from "./check";

/** Receivers no route reaches; Alertmanager's own rules (components/alertmanager/problems.ts). */
export function alertmanagerChecks(input: CheckInput): void {
  const { resolved, key, warnings } = input;
  const amGroup = resolved.alertmanager;
  const routing = amGroup.routing;
  for (const r of routing?.receivers ?? []) {
    if (routing?.defaultReceiver !== r.name && !routing?.routes.some((route) => route.receiver === r.name)) {
      warnings.push(
        `${key("alertmanager.receivers")}: receiver "${r.name}" gets no alert: no route names it, and it is not the defaultReceiver.`,
      );
    }
  }
  sectionProblems("alertmanager", alertmanagerProblems(amGroup), input);
}
