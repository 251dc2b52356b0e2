/** What Alertmanager refuses in its own args, its grouping intervals in order, and warns about: receivers no route reaches. */
import { ArgsProblem } from "../kit/problems";
import { SectionWarning } from "../kit/section";
import { durationSeconds } from "../kit/units";
import { AlertmanagerArgs } from "./args";

/** The grouping intervals, each at least the one before. */
export function problems(args: Pick<AlertmanagerArgs, "groupWait" | "groupInterval" | "repeatInterval">): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const seconds = (d: string) => durationSeconds(d) ?? 0;
  if (seconds(args.groupInterval) < seconds(args.groupWait)) {
    found.push({
      key: "groupInterval",
      message: `must be at least alertmanager.groupWait (${args.groupWait}); got ${args.groupInterval}`,
      involves: ["groupWait"],
    });
  }
  if (seconds(args.repeatInterval) < seconds(args.groupInterval)) {
    found.push({
      key: "repeatInterval",
      message: `must be at least alertmanager.groupInterval (${args.groupInterval}); got ${args.repeatInterval}`,
      involves: ["groupInterval"],
    });
  }
  return found;
}

/** Receivers that get no alert: no route names them, and none is the default receiver. */
export function warnings(args: Pick<AlertmanagerArgs, "routing">): SectionWarning[] {
  const routing = args.routing;
  return (routing?.receivers ?? []).flatMap((r, i) =>
    routing?.defaultReceiver !== r.name && !routing?.routes.some((route) => route.receiver === r.name)
      ? [{ key: `receivers[${i}]`, sentence: `receiver "${r.name}" gets no alert: no route names it, and it is not the defaultReceiver.` }]
      : [],
  );
}
