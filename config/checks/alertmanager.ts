/** Alertmanager: receivers that get alerts, and its grouping intervals in order. */
import { durationSeconds } from "../../components/kit/units";
import { CheckInput } from "./check";

/** Receivers no route reaches; the grouping intervals, each at least the one before. */
export function alertmanagerChecks({ resolved, key, problems, warnings }: CheckInput): void {
  const seconds = (d: string) => durationSeconds(d) ?? 0;
  const amGroup = resolved.alertmanager;
  const routing = amGroup.routing;
  for (const r of routing?.receivers ?? []) {
    if (routing?.defaultReceiver !== r.name && !routing?.routes.some((route) => route.receiver === r.name)) {
      warnings.push(
        `${key("alertmanager.receivers")}: receiver "${r.name}" gets no alert: no route names it, and it is not the defaultReceiver.`,
      );
    }
  }
  if (seconds(amGroup.groupInterval) < seconds(amGroup.groupWait)) {
    problems.push({
      key: key("alertmanager.groupInterval"),
      message: `must be at least alertmanager.groupWait (${amGroup.groupWait}); got ${amGroup.groupInterval}`,
      involves: [key("alertmanager.groupWait")],
    });
  }
  if (seconds(amGroup.repeatInterval) < seconds(amGroup.groupInterval)) {
    problems.push({
      key: key("alertmanager.repeatInterval"),
      message: `must be at least alertmanager.groupInterval (${amGroup.groupInterval}); got ${amGroup.repeatInterval}`,
      involves: [key("alertmanager.groupInterval")],
    });
  }
}
