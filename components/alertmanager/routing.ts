/**
 * Alertmanager routing a team gives itself: named receivers (their kinds are receivers.ts' table),
 * routes, the default receiver and the mail server, resolved with the receivers' secrets, and what
 * only resolving finds wrong in them (a secret for a receiver that is not there, a route to a name
 * no receiver has). Those problems are keyed from the top of the stack file, since the receivers'
 * secrets are top-level keys (`slackWebhookUrls.<receiver>`, `smtpPassword`).
 */
import { z } from "zod";
import { bool, dnsLabel, duration, email, httpUrl, labelName, matcher, nonEmpty, parseMatcher, smarthost, userName } from "../kit/fields";
import { ALERT_SEVERITIES, AlertSeverity } from "../kit/severities";
import { ArgsProblem, duplicateNameProblems } from "../kit/problems";
import { SecretStandIns, SecretValues, textStandIn, urlStandIn } from "../kit/section";
import {
  AlertReceiver,
  MailServer,
  RECEIVER_KINDS,
  RECEIVER_KIND_LIST,
  RECEIVER_KIND_ROWS,
  RECEIVER_SECRETS,
  RECEIVER_SECRET_MAPS,
  RECEIVER_SECRET_STAND_INS,
  ReceiverKindName,
} from "./receivers";
import { AlertTimeInterval, timeIntervalProblems, timeIntervalSchema } from "./time-intervals";

type KindFields = { [K in ReceiverKindName]: z.ZodOptional<(typeof RECEIVER_KINDS)[K]["schema"]> };

const alertReceiverSchema = z.strictObject({
  name: dnsLabel.describe("Unique receiver name, which routes and defaultReceiver name; its secrets are keyed by it."),
  ...(Object.fromEntries(
    Object.entries(RECEIVER_KINDS).map(([kind, row]) => [kind, row.schema.optional().describe(row.docs)]),
  ) as KindFields),
  sendResolved: bool.optional().describe("Also notify when the alerts resolve; default true."),
});

const alertRouteSchema = z.strictObject({
  receiver: dnsLabel.describe("The receiver of the alerts this route takes."),
  matchers: z
    .array(matcher, { error: "must be a list of matchers" })
    .optional()
    .describe("All must match, e.g. ['app=~\"deployment-api|port-manager\"', 'severity!=\"info\"']; none matches every alert."),
  continue: bool.optional().describe("Also try the routes after this one; default false: the first route that matches takes the alert."),
  groupBy: z.array(labelName, { error: "must be a list of label names" }).optional().describe("Default: alertname, job, namespace."),
  groupWait: duration.optional().describe("Default: alertmanager.groupWait."),
  groupInterval: duration.optional().describe("Default: alertmanager.groupInterval."),
  repeatInterval: duration.optional().describe("Default: alertmanager.repeatInterval."),
  muteTimeIntervals: z
    .array(dnsLabel, { error: "must be a list of interval names" })
    .optional()
    .describe("Names of alertmanager.timeIntervals during which the route sends nothing (its alerts wait, and are sent after)."),
  activeTimeIntervals: z
    .array(dnsLabel, { error: "must be a list of interval names" })
    .optional()
    .describe("Names of alertmanager.timeIntervals outside which the route sends nothing."),
});

/** The routing's fields of the `alertmanager` section (section.ts places them among its own). */
export const ROUTING_FIELDS = {
  receivers: z
    .array(alertReceiverSchema, { error: "must be a list of receivers" })
    .min(1, "must list at least one receiver")
    .optional()
    .describe(
      "Named receivers, each with one or more integrations; with them, routing is yours (routes, defaultReceiver). Default: the critical/warning split of the legacy keys.",
    ),
  routes: z
    .array(alertRouteSchema, { error: "must be a list of routes" })
    .optional()
    .describe("Routes tried in order after the Watchdog's; the first that matches takes the alert unless it says `continue`."),
  timeIntervals: z
    .array(timeIntervalSchema, { error: "must be a list of time intervals" })
    .optional()
    .describe("Named quiet or working hours, which routes name in muteTimeIntervals or activeTimeIntervals."),
  defaultReceiver: dnsLabel.optional().describe("Receiver of the alerts no route takes; required with receivers."),
  smtp: z
    .strictObject({
      smarthost: smarthost.describe("SMTP server as host:port, e.g. smtp.example.com:587 (the port is required)."),
      from: email.describe("Sender address of the emails."),
      username: userName().optional().describe("SMTP user; the password is the secret smtpPassword."),
      requireTls: bool.optional().describe("Require STARTTLS before sending; default true."),
    })
    .optional()
    .describe("The mail server email receivers send through."),
};

/** The routing's fields as the stack gives them. */
export type RoutingGiven = { [K in keyof typeof ROUTING_FIELDS]?: z.infer<(typeof ROUTING_FIELDS)[K]> };

/** One route below the Watchdog's, in order: as given, its matchers normalised (`label="value"`, empty matches every alert). */
export type AlertRoute = Omit<z.infer<typeof alertRouteSchema>, "matchers" | "continue"> & { matchers: string[]; continue: boolean };

/** The team's routing, resolved with its secrets. */
export interface AlertRouting {
  receivers: AlertReceiver[];
  routes: AlertRoute[];
  /** The root route's receiver: what no route takes. */
  defaultReceiver: string;
  smtp?: MailServer;
  /** Named intervals the routes mute or activate by (alertmanager.yml's time_intervals). Default none. */
  timeIntervals?: AlertTimeInterval[];
}

/**
 * The receivers the legacy keys configure: for the default tree (critical and warning split), and
 * the dead man's switch in both trees.
 */
export interface AlertReceivers {
  discord?: { webhookUrl?: string; criticalWebhookUrl?: string };
  webhook?: { url: string };
  deadMansSwitch?: { url: string };
}

/** The legacy receiver keys, which feed the default critical/warning tree, and the dead man's switch, read in both trees. */
export const LEGACY_RECEIVER_SECRETS = {
  discordWebhookUrl: httpUrl,
  discordCriticalWebhookUrl: httpUrl,
  webhookUrl: httpUrl,
  deadMansSwitchUrl: httpUrl,
};

/** The named receivers' secrets: each kind's map by receiver name (receivers.ts), then the mail server's password. */
export const ROUTING_SECRETS = {
  ...RECEIVER_SECRET_MAPS,
  smtpPassword: nonEmpty("a password"),
};

/** What the offline render stands in for each secret key when the stack file's value is encrypted: a URL where the key is one. */
export const ALERTMANAGER_SECRET_STAND_INS: SecretStandIns<typeof LEGACY_RECEIVER_SECRETS & typeof ROUTING_SECRETS> = {
  discordWebhookUrl: urlStandIn,
  discordCriticalWebhookUrl: urlStandIn,
  webhookUrl: urlStandIn,
  deadMansSwitchUrl: urlStandIn,
  ...RECEIVER_SECRET_STAND_INS,
  smtpPassword: textStandIn,
};

/** The values of the section's secret keys, as the stack gives them. */
export type AlertmanagerSecrets = SecretValues<typeof LEGACY_RECEIVER_SECRETS & typeof ROUTING_SECRETS>;

/** The legacy keys' receivers, for the default tree, and the dead man's switch in both trees. */
export function legacyReceivers(given: AlertmanagerSecrets): AlertReceivers {
  const receivers: AlertReceivers = {};
  if (given.discordWebhookUrl !== undefined || given.discordCriticalWebhookUrl !== undefined) {
    receivers.discord = {
      ...(given.discordWebhookUrl !== undefined ? { webhookUrl: given.discordWebhookUrl } : {}),
      ...(given.discordCriticalWebhookUrl !== undefined ? { criticalWebhookUrl: given.discordCriticalWebhookUrl } : {}),
    };
  }
  if (given.webhookUrl !== undefined) receivers.webhook = { url: given.webhookUrl };
  if (given.deadMansSwitchUrl !== undefined) receivers.deadMansSwitch = { url: given.deadMansSwitchUrl };
  return receivers;
}

/** The legacy receiver keys, which feed the default tree only, and the kind that takes each one's address now. */
const LEGACY_RECEIVER_KEYS = {
  discordWebhookUrl: "discord",
  discordCriticalWebhookUrl: "discord",
  webhookUrl: "webhook",
} as const satisfies Partial<Record<keyof AlertmanagerSecrets, ReceiverKindName>>;

/** The receivers' secret maps as the stack gives them: each kind's, by receiver name. */
function secretMaps(secrets: AlertmanagerSecrets): Partial<Record<string, Record<string, string>>> {
  const values = secrets as Partial<Record<string, Record<string, string>>>;
  return Object.fromEntries(RECEIVER_SECRETS.map((secret) => [secret.key, values[secret.key] ?? {}]));
}

/** The stack's severities a matcher on `severity` lets through; undefined for a matcher on another label. */
function severitiesOf(matcher: string): AlertSeverity[] | undefined {
  const m = /^severity(=~|!~|!=|=)(".*")$/.exec(matcher);
  if (!m) return undefined;
  const [, op, quoted] = m;
  const value = JSON.parse(quoted) as string;
  let matches: (s: string) => boolean;
  if (op === "=" || op === "!=") {
    matches = (s) => s === value;
  } else {
    // RE2's flag groups, (?i) and (?i:...), which JavaScript writes otherwise (as parseMatcher reads them).
    const flags = /\(\?[imsU]*i[imsU]*[):]/.test(value) ? "i" : "";
    const pattern = new RegExp(`^(?:${value.replace(/\(\?[imsU]+\)/g, "").replace(/\(\?[imsU]+:/g, "(?:")})$`, flags);
    matches = (s) => pattern.test(s);
  }
  const negated = op.startsWith("!");
  return ALERT_SEVERITIES.filter((s) => matches(s) !== negated);
}

/**
 * Why a matcher on `severity` can never match an alert of the stack, whose rules give only
 * critical, warning and info: `severity="page"`, or a regular expression none of them matches.
 */
function neverMatchingSeverity(matcher: string): string | undefined {
  const m = /^severity(=~|=)(".*")$/.exec(matcher);
  if (!m || (severitiesOf(matcher) ?? []).length > 0) return undefined;
  const [, op, quoted] = m;
  const value = JSON.parse(quoted) as string;
  const allowed = ALERT_SEVERITIES.join(", ");
  return op === "="
    ? `matches no alert: the stack's alerts have the severity ${allowed}, so severity="${value}" never matches; use one of them`
    : `matches no alert: the stack's alerts have the severity ${allowed}, and severity=~"${value}" matches none of them`;
}

/**
 * Why a route's severity matchers, each matching some alert, match none together
 * (severity="critical" and severity="warning": an alert has one severity).
 */
function contradictorySeverities(matchers: string[]): string | undefined {
  const given = matchers.map((m) => ({ m, allowed: severitiesOf(m) })).filter((g) => g.allowed !== undefined);
  if (given.length < 2 || given.some((g) => g.allowed?.length === 0)) return undefined;
  const together = ALERT_SEVERITIES.filter((s) => given.every((g) => g.allowed?.includes(s)));
  if (together.length > 0) return undefined;
  return (
    `match no alert together: an alert has one severity, of ${ALERT_SEVERITIES.join(", ")}, and none meets all of ` +
    `${given.map((g) => g.m).join(", ")}; keep the one you mean, or one severity=~"a|b" for several`
  );
}

/**
 * The team's own routing, from alertmanager.receivers, routes, defaultReceiver, smtp and the
 * receivers' secrets; undefined without receivers (the default tree). Its problems go to `problems`,
 * in order, keyed from the top of the stack file.
 */
export function resolveRouting(am: RoutingGiven, secrets: AlertmanagerSecrets, problems: ArgsProblem[]): AlertRouting | undefined {
  const reported = problems;
  const rawReceivers = am.receivers;
  const maps = secretMaps(secrets);
  const smtp = am.smtp;
  if (smtp?.username !== undefined && secrets.smtpPassword === undefined) {
    problems.push({
      key: "alertmanager.smtp.username",
      message: "is set, so the password is needed: pulumi config set --secret smtpPassword <value>",
      involves: ["smtpPassword"],
    });
  }
  if (secrets.smtpPassword !== undefined && smtp?.username === undefined) {
    problems.push({
      key: "smtpPassword",
      message: "is only sent with a user name: set alertmanager.smtp.username, or remove it with: pulumi config rm smtpPassword",
      involves: ["alertmanager.smtp"],
    });
  }
  if (rawReceivers === undefined) {
    if (am.timeIntervals !== undefined) {
      problems.push({
        key: "alertmanager.timeIntervals",
        message: "needs alertmanager.receivers: time intervals mute or activate the routes of named receivers",
        involves: ["alertmanager.receivers"],
      });
    }
    for (const key of ["routes", "defaultReceiver", "smtp"] as const) {
      if (am[key] !== undefined) {
        problems.push({
          key: `alertmanager.${key}`,
          message: "needs alertmanager.receivers: routes, the default receiver and the mail server are for named receivers",
          involves: ["alertmanager.receivers"],
        });
      }
    }
    for (const [key, map] of Object.entries(maps)) {
      for (const name of Object.keys(map ?? {})) {
        problems.push({
          key: `${key}.${name}`,
          message: `is for the receiver "${name}" of alertmanager.receivers, which has none; add it there, or remove this with: pulumi config rm --path '${key}.${name}'`,
          involves: ["alertmanager.receivers"],
        });
      }
    }
    return undefined;
  }

  for (const [key, kind] of Object.entries(LEGACY_RECEIVER_KEYS) as Array<[keyof typeof LEGACY_RECEIVER_KEYS, ReceiverKindName]>) {
    if (secrets[key] === undefined) continue;
    problems.push({
      key,
      message:
        `feeds the default critical/warning split, which alertmanager.receivers replaces: give its address to a receiver ` +
        `(${kind}: {} and ${RECEIVER_KINDS[kind].secrets?.[0].key}.<receiver>), then remove it with: pulumi config rm ${key}`,
      involves: ["alertmanager.receivers"],
    });
  }

  const names = rawReceivers.map((r) => r.name);
  // What a name check reads: the names alone, so that a refused address elsewhere in a receiver does not hide it.
  const nameKeys = rawReceivers.map((_, i) => `alertmanager.receivers[${i}].name`);
  problems.push(...duplicateNameProblems("alertmanager.receivers", names, "receiver"));
  const receivers: AlertReceiver[] = rawReceivers.map((r, i) => {
    const at = `alertmanager.receivers[${i}]`;
    // A receiver whose name came before: its name is the problem, and advice on its own fields
    // (a secret to set under that name) would only follow from it.
    const problems: ArgsProblem[] = names.indexOf(r.name) < i ? [] : reported;
    if (r.name === "deadmans-switch" || r.name === "null") {
      problems.push({
        key: `${at}.name`,
        message: `is a receiver the stack keeps for the Watchdog (deadmans-switch, null); choose another name (got "${r.name}")`,
      });
    }
    const kinds = RECEIVER_KIND_ROWS.filter(([kind]) => r[kind] !== undefined);
    if (kinds.length === 0) {
      problems.push({ key: at, message: `receiver "${r.name}" has no integration: give it ${RECEIVER_KIND_LIST}` });
    }
    for (const [kind, row] of kinds) {
      if (row.needs && am[row.needs.field] === undefined) {
        problems.push({
          key: `${at}.${kind}`,
          message: `receiver "${r.name}" ${row.needs.why}`,
          involves: [`alertmanager.${row.needs.field}`],
        });
      }
    }
    const receiver: Record<string, unknown> = { name: r.name };
    for (const [kind, row] of kinds) {
      const values = (row.secrets ?? []).map((secret) => {
        const value = maps[secret.key]?.[r.name];
        if (value === undefined) {
          problems.push({
            key: `${at}.${kind}`,
            message: `receiver "${r.name}" needs ${secret.what}: pulumi config set --secret --path '${secret.key}.${r.name}' ${secret.placeholder}`,
            involves: [`${secret.key}.${r.name}`],
          });
        }
        return value ?? "";
      });
      receiver[kind] = row.resolve(r[kind], values);
    }
    return { ...receiver, sendResolved: r.sendResolved ?? true } as AlertReceiver;
  });
  for (const [kind, row] of RECEIVER_KIND_ROWS) {
    for (const { key } of row.secrets ?? []) {
      for (const name of Object.keys(maps[key] ?? {})) {
        if (rawReceivers.some((r) => r.name === name && r[kind])) continue;
        problems.push({
          key: `${key}.${name}`,
          message: rawReceivers.some((r) => r.name === name)
            ? `is for receiver "${name}", which has no ${kind}: add \`${kind}\` to it, or remove this with: pulumi config rm --path '${key}.${name}'`
            : `names no receiver of alertmanager.receivers (${names.join(", ")}); add it there, or remove this with: pulumi config rm --path '${key}.${name}'`,
          // A receiver whose kind was refused (a malformed field) has it, as far as this goes: that problem is the one to fix.
          involves: [...nameKeys, ...rawReceivers.flatMap((r, i) => (r.name === name ? [`alertmanager.receivers[${i}].${kind}`] : []))],
        });
      }
    }
  }
  const mailing = RECEIVER_KIND_ROWS.filter(([, row]) => row.needs?.field === "smtp").map(([kind]) => kind);
  if (smtp && !rawReceivers.some((r) => mailing.some((kind) => r[kind]))) {
    problems.push({
      key: "alertmanager.smtp",
      message: "is set, but no receiver sends email: give one an `email: {to: [...]}`, or remove alertmanager.smtp",
      // Any receiver refused in part (a malformed `email`, dropped before this check) may be the one that sends email.
      involves: ["alertmanager.receivers"],
    });
  }

  const known = (name: string) => names.includes(name);
  const defaultReceiver = am.defaultReceiver;
  if (defaultReceiver === undefined) {
    problems.push({
      key: "alertmanager.defaultReceiver",
      message: `is required with alertmanager.receivers: the receiver of the alerts no route takes, one of ${names.join(", ")} (got nothing)`,
      involves: nameKeys,
    });
  } else if (!known(defaultReceiver)) {
    problems.push({
      key: "alertmanager.defaultReceiver",
      message: `must name a receiver of alertmanager.receivers (${names.join(", ")}) (got "${defaultReceiver}")`,
      involves: nameKeys,
    });
  }
  const routes: AlertRoute[] = (am.routes ?? []).map((r, i) => {
    if (!known(r.receiver)) {
      problems.push({
        key: `alertmanager.routes[${i}].receiver`,
        message: `must name a receiver of alertmanager.receivers (${names.join(", ")}) (got "${r.receiver}")`,
        involves: nameKeys,
      });
    }
    const { matchers, muteTimeIntervals, activeTimeIntervals, ...rest } = r;
    const written = (matchers ?? []).map((m, j) => {
      const parsed = parseMatcher(m);
      if (!("matcher" in parsed)) return m;
      const never = neverMatchingSeverity(parsed.matcher);
      if (never) problems.push({ key: `alertmanager.routes[${i}].matchers[${j}]`, message: `${never} (got ${JSON.stringify(m)})` });
      return parsed.matcher;
    });
    const contradiction = contradictorySeverities(written);
    if (contradiction) problems.push({ key: `alertmanager.routes[${i}].matchers`, message: contradiction });
    return {
      ...rest,
      matchers: written,
      continue: r.continue ?? false,
      ...(muteTimeIntervals?.length ? { muteTimeIntervals } : {}),
      ...(activeTimeIntervals?.length ? { activeTimeIntervals } : {}),
    };
  });
  const timeIntervals = am.timeIntervals ?? [];
  problems.push(...timeIntervalProblems(timeIntervals, am.routes ?? []));
  return {
    receivers,
    routes,
    defaultReceiver: defaultReceiver ?? "",
    ...(smtp
      ? {
          smtp: {
            smarthost: smtp.smarthost,
            from: smtp.from,
            ...(smtp.username !== undefined ? { username: smtp.username } : {}),
            ...(secrets.smtpPassword !== undefined ? { password: secrets.smtpPassword } : {}),
            requireTls: smtp.requireTls ?? true,
          },
        }
      : {}),
    ...(timeIntervals.length > 0 ? { timeIntervals } : {}),
  };
}
