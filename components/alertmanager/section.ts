/**
 * Alertmanager's section of the stack file (`alertmanager`): its fields (the routing's are
 * routing.ts', the receivers' kinds receivers.ts' table), its secret keys, its defaults per profile,
 * its resolution, its problems (the grouping intervals in order) and its warnings (receivers no route reaches). The fields are declared here once: the resolved
 * values, the defaults and the component's args are typed from this schema.
 */
import { z } from "zod";
import { bool, duration, replicas, resources, storage } from "../kit/fields";
import { ArgsProblem } from "../kit/problems";
import { FieldsOf, SectionWarning, componentSection, onNodes, overDefaults } from "../kit/section";
import { durationMilliseconds, durationSeconds } from "../kit/units";
import { Profile, withOverrides } from "../kit/profiles";
import { requirements } from "../kit/resources";
import { RECEIVER_SECRET_MAP_MESSAGES } from "./receivers";
import {
  ALERTMANAGER_SECRET_STAND_INS,
  AlertReceivers,
  AlertRouting,
  LEGACY_RECEIVER_SECRETS,
  ROUTING_FIELDS,
  ROUTING_SECRETS,
  legacyReceivers,
  resolveRouting,
} from "./routing";
import { JOB } from "../kit/stack-jobs";

/**
 * The bounds of `maintenanceInterval`. Each write costs a snapshot of every silence (lab/bench/silence-snapshot.ts on
 * the exact binary: 3 KB and 3 ms at 10 silences, 0.33 MB and 14 ms at 1,000, 3.3 MB and 185 ms at 10,000).
 */
export const MAINTENANCE_INTERVAL_BOUNDS = { min: "1s", max: "1h" };

/** A duration as Alertmanager's flag takes it (Go's: hours, minutes, seconds; no days), within the bounds above. */
const maintenanceInterval = z.string({ error: "must be a duration such as 30s, 1m or 5m" }).superRefine((s, ctx) => {
  const ms = /^(\d+h)?(\d+m)?(\d+s)?$/.test(s) && s !== "" ? durationMilliseconds(s) : undefined;
  const [min, max] = [MAINTENANCE_INTERVAL_BOUNDS.min, MAINTENANCE_INTERVAL_BOUNDS.max].map((d) => durationMilliseconds(d) ?? 0);
  const message =
    ms === undefined
      ? "must be a duration of hours, minutes and seconds such as 30s, 1m or 1h30m (Alertmanager's flag takes no days)"
      : ms < min || ms > max
        ? `must be between ${MAINTENANCE_INTERVAL_BOUNDS.min} and ${MAINTENANCE_INTERVAL_BOUNDS.max}`
        : undefined;
  if (message) ctx.addIssue({ code: "custom", message, input: s });
});

const schema = z.strictObject({
  replicas: replicas.optional(),
  groupWait: duration.optional(),
  groupInterval: duration.optional(),
  repeatInterval: duration.optional(),
  maintenanceInterval: maintenanceInterval
    .optional()
    .describe(
      "How often the silences and the notification log are written to the volume (--data.maintenance-interval): a power cut loses what was set since the last write. Default 1m; 1s to 1h, at most 1m while Alertmanager is backed up.",
    ),
  ...ROUTING_FIELDS,
  deadMansSwitch: bool
    .optional()
    .describe(
      "Expect a dead man's switch (the secret deadMansSwitchUrl) and warn without one; default true in production, false in staging. false: this stack goes without, knowingly.",
    ),
  storage: storage.optional(),
  resources: resources.optional(),
});

/** What a profile sets of Alertmanager: every field of the section but the routing's, which has no default. */
export type AlertmanagerDefaults = Omit<FieldsOf<typeof schema>, keyof typeof ROUTING_FIELDS>;

/**
 * What the stack's config holds of Alertmanager: its defaults' keys, the legacy keys' receivers, and
 * the team's routing when it gives one. `deadMansSwitch` is whether the stack expects one (a warning without one).
 */
export type AlertmanagerSettings = AlertmanagerDefaults & { receivers: AlertReceivers; routing?: AlertRouting };

const ALERTMANAGER_STAGING: AlertmanagerDefaults = {
  replicas: 1,
  groupWait: "30s",
  groupInterval: "5m",
  repeatInterval: "12h",
  // A power cut loses the silences set since the last write: a minute at most (docs/operations.md, Faults).
  maintenanceInterval: "1m",
  deadMansSwitch: false,
  storage: { size: "1Gi" },
  // npm run bench: 42 MiB and 1m steady, 43 MiB at the peak (× 1.25, × 2).
  resources: requirements("5m", "64Mi", "200m", "96Mi"),
};

/**
 * Alertmanager's defaults in each profile: production runs three peers, repeats every 4 hours and
 * expects a dead man's switch, so that the death of the node or of Prometheus is told (kit/profiles.ts: the headroom).
 */
const ALERTMANAGER_DEFAULTS: Record<Profile, AlertmanagerDefaults> = {
  staging: ALERTMANAGER_STAGING,
  production: withOverrides(ALERTMANAGER_STAGING, {
    replicas: 3,
    repeatInterval: "4h",
    deadMansSwitch: true,
    resources: requirements("5m", "64Mi", "200m", "144Mi"),
  }),
};

const secrets = { ...LEGACY_RECEIVER_SECRETS, ...ROUTING_SECRETS };

/** The `alertmanager` section; what resolving the routing finds goes to the context's problems. */
export const alertmanagerSection = componentSection({
  schema,
  secrets,
  standIns: ALERTMANAGER_SECRET_STAND_INS,
  secretMessages: RECEIVER_SECRET_MAP_MESSAGES,
  defaults: (profile): AlertmanagerSettings => ({ ...ALERTMANAGER_DEFAULTS[profile], receivers: {} }),
  resolve: (given, context, secretValues): AlertmanagerSettings => {
    const defaults = ALERTMANAGER_DEFAULTS[context.profile];
    const { receivers, routes, timeIntervals, defaultReceiver, smtp, ...plain } = given ?? {};
    const routing = resolveRouting({ receivers, routes, timeIntervals, defaultReceiver, smtp }, secretValues, context.problems);
    return {
      ...overDefaults({ ...defaults, replicas: onNodes(context, defaults.replicas) }, plain, context),
      receivers: legacyReceivers(secretValues),
      ...(routing ? { routing } : {}),
    };
  },
  problems: (am) => problems(am),
  warnings: (am) => warnings(am),
  jobs: () => [JOB.alertmanager],
});

/** The grouping intervals, each at least the one before. */
export function problems(args: Pick<AlertmanagerSettings, "groupWait" | "groupInterval" | "repeatInterval">): ArgsProblem[] {
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
export function warnings(args: Pick<AlertmanagerSettings, "routing" | "receivers" | "deadMansSwitch">): SectionWarning[] {
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
