/**
 * A team's routing that uses a receiver of every kind (the receiver kinds' table, each as
 * test/support/receiver-kinds.ts gives it) and email through SMTP: the config the
 * secret sweeps (test/scenarios/sealed.test.ts offline, test/cluster/sealed.test.ts on the real engine)
 * give so that every receiver secret is read. Its secrets (SEALED_ROUTING_SECRETS) are derived from
 * the receiver kinds' table: each receiver's kind's secret maps at the receiver's name
 * (slackWebhookUrls.ops-slack, pushoverUserKeys.ops-pushover, …), and smtpPassword for the SMTP login.
 */
import { z } from "zod";
import { RECEIVER_KIND_ROWS } from "../../components/alertmanager/receivers";
import { KINDS, SMTP } from "./receiver-kinds";

const KIND_NAMES = RECEIVER_KIND_ROWS.map(([kind]) => kind);
/** A receiver of each kind as test/support/receiver-kinds.ts gives it (`ops-<kind>`), each routed by a team, the first the default. */
export const SEALED_ROUTING = {
  receivers: KIND_NAMES.map((kind) => ({ name: `ops-${kind}`, [kind]: KINDS[kind].given })),
  routes: KIND_NAMES.slice(1).map((kind) => ({ matchers: [`team="${kind}"`], receiver: `ops-${kind}` })),
  defaultReceiver: `ops-${KIND_NAMES[0]}`,
  smtp: { ...SMTP, username: "alerts@example.com" },
};

/** A secret path a sweep sets (`pulumi config set --path` names it), with the schema its value must pass. */
export interface SweptSecret {
  path: string;
  schema: z.ZodType<string>;
}

/**
 * The secrets SEALED_ROUTING reads: for each receiver, its kind's secret maps (RECEIVER_KINDS) at
 * its name; and the SMTP login's password, since a kind sends through alertmanager.smtp and the
 * routing gives smtp a username.
 */
export const SEALED_ROUTING_SECRETS: SweptSecret[] = [
  ...SEALED_ROUTING.receivers.flatMap((receiver) =>
    RECEIVER_KIND_ROWS.filter(([kind]) => kind in receiver).flatMap(([, row]) =>
      (row.secrets ?? []).map((secret) => ({ path: `${secret.key}.${receiver.name}`, schema: secret.schema })),
    ),
  ),
  ...(SEALED_ROUTING.smtp.username !== undefined &&
  RECEIVER_KIND_ROWS.some(([kind, row]) => row.needs?.field === "smtp" && SEALED_ROUTING.receivers.some((r) => kind in r))
    ? [{ path: "smtpPassword", schema: z.string() }]
    : []),
];

/**
 * A value for a swept secret that carries `mark` (letters and digits) whole: the mark itself, or a URL
 * or a Telegram token around it, the first its schema takes.
 */
export function sweptValue(secret: SweptSecret, mark: string): string {
  const shapes = [mark, `https://hooks.example.com/${mark}`, `123456789:${mark}`];
  const value = shapes.find((v) => secret.schema.safeParse(v).success);
  if (value === undefined) throw new Error(`no swept value of ${secret.path} passes its schema: ${shapes.join(", ")}`);
  return value;
}
