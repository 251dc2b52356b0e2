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

/**
 * Receivers that get no alert (no route names them, and none is the default receiver), time
 * intervals no route names (they mute nothing and activate nothing), and a stack
 * that expects a dead man's switch (production) without one: the Watchdog then reaches nobody.
 */
export function warnings(args: Pick<AlertmanagerArgs, "routing" | "receivers"> & { deadMansSwitch?: boolean }): SectionWarning[] {
  const routing = args.routing;
  const found: SectionWarning[] = [];
  if (args.deadMansSwitch && !args.receivers.deadMansSwitch) {
    found.push({
      key: "deadMansSwitch",
      sentence:
        "no dead man's switch: the Watchdog alert reaches nobody, so when the node or Prometheus dies, nobody is told. " +
        "Give it one that alarms when the pings stop (healthchecks.io, Dead Man's Snitch): pulumi config set --secret deadMansSwitchUrl <url>; " +
        "or go without, knowingly: pulumi config set --path alertmanager.deadMansSwitch false.",
    });
  }
  return [
    ...found,
    ...(routing?.receivers ?? []).flatMap((r, i) =>
      routing?.defaultReceiver !== r.name && !routing?.routes.some((route) => route.receiver === r.name)
        ? [
            {
              key: `receivers[${i}]`,
              sentence: `receiver "${r.name}" gets no alert: no route names it, and it is not the defaultReceiver.`,
            },
          ]
        : [],
    ),
    ...(routing?.timeIntervals ?? []).flatMap((t, i) =>
      routing?.routes.some((route) => route.muteTimeIntervals?.includes(t.name) || route.activeTimeIntervals?.includes(t.name))
        ? []
        : [
            {
              key: `timeIntervals[${i}]`,
              sentence:
                `interval "${t.name}" mutes and activates nothing: no route names it in muteTimeIntervals or activeTimeIntervals. ` +
                "Name it on a route, or remove it.",
            },
          ],
    ),
  ];
}
