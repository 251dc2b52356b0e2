/**
 * Prometheus' section of the stack file (`prometheus`, with its secret key remoteWritePasswords):
 * its fields, its defaults per profile, its resolution and its problems.
 */
import { z } from "zod";
import { dnsLabel, duration, labelMap, nonEmpty, notAMap, plainHttpUrl, prometheusSize, replicas, resources, storage } from "../kit/fields";
import { ArgsProblem } from "../kit/problems";
import { SecretStandIns, SectionWarning, componentSection, onNodes, resolveResources, resolveStorage, textStandIn } from "../kit/section";
import { prometheusSizeMB, quantityBytes } from "../kit/units";
import { PROMETHEUS_DEFAULTS, PrometheusDefaults, RemoteWriteTarget } from "./args";
import { problems } from "./problems";
import {
  REMOTE_WRITE_CLIENT_KEYS,
  REMOTE_WRITE_CLIENT_KEYS_MESSAGE,
  clientKeyProblems,
  clientKeyStandIn,
  remoteWriteOptionProblems,
  remoteWriteSchema,
  resolveRemoteWriteOptions,
} from "./remote-write";
import { scrapeLimitsSchema } from "./scraped";

const schema = z.strictObject({
  replicas: replicas.optional(),
  retention: duration.optional().describe("How long samples are kept."),
  retentionSize: prometheusSize.optional().describe("Size cap of the TSDB; default 85 % of the volume."),
  scrapeInterval: duration.optional(),
  scrapeTimeout: duration.optional(),
  evaluationInterval: duration.optional(),
  externalLabels: labelMap.optional(),
  scrapeLimits: scrapeLimitsSchema
    .optional()
    .describe(
      "Limits of every app's and target's scrape job and of the annotated pods' (apps[].limits and targets[].limits override them).",
    ),
  remoteWrite: z.array(remoteWriteSchema).optional(),
  runbookBaseUrl: plainHttpUrl
    .optional()
    .describe("URL of your published copy of docs/runbooks.md (e.g. your fork's): alerts then carry a runbook_url link into it."),
  storage: storage.optional(),
  resources: resources.optional(),
});

/** How remoteWritePasswords is given when it is not a map: entry by entry, by path (config/secrets.ts SECRET_MAP_MESSAGES). */
export const REMOTE_WRITE_PASSWORDS_MESSAGE =
  "must be a map of remote-write name to password or token, set one entry at a time: pulumi config set --secret --path 'remoteWritePasswords.<remote-write-name>' <value>";

/** The secret key the section reads, each remote write's password or token by its name (config/secrets.ts spreads it among the secret keys). */
export const PROMETHEUS_SECRETS = {
  remoteWritePasswords: z.record(dnsLabel, nonEmpty("a password or token"), notAMap(REMOTE_WRITE_PASSWORDS_MESSAGE)),
  remoteWriteClientKeys: REMOTE_WRITE_CLIENT_KEYS,
};

/** What the offline render stands in for an encrypted remote write password. */
export const PROMETHEUS_SECRET_STAND_INS: SecretStandIns<typeof PROMETHEUS_SECRETS> = {
  remoteWritePasswords: textStandIn,
  remoteWriteClientKeys: clientKeyStandIn,
};

type RemoteWriteGiven = z.infer<typeof remoteWriteSchema>;
type Passwords = z.infer<typeof PROMETHEUS_SECRETS.remoteWritePasswords>;
type ClientKeys = z.infer<typeof PROMETHEUS_SECRETS.remoteWriteClientKeys>;

/** What the stack reads of Prometheus: a profile's defaults, and the link into published runbooks, which has none. */
export type PrometheusSettings = PrometheusDefaults & {
  /** Published docs/runbooks.md: each alert's `runbook` reference becomes a `runbook_url` link into it. Default none: no link. */
  runbookBaseUrl?: string;
};

/** `prometheus.remoteWrite[]`, each with its credential from remoteWritePasswords and its client key from remoteWriteClientKeys. */
function remoteWriteTargets(given: readonly RemoteWriteGiven[], passwords: Passwords, clientKeys: ClientKeys): RemoteWriteTarget[] {
  return given.map((rw) => {
    const password = passwords[rw.name];
    const auth =
      rw.username !== undefined
        ? { username: rw.username, password: password ?? "" }
        : rw.bearerToken
          ? { bearerToken: password ?? "" }
          : undefined;
    return { name: rw.name, url: rw.url, ...(auth ? { auth } : {}), ...resolveRemoteWriteOptions(rw, clientKeys[rw.name]) };
  });
}

/**
 * What is wrong between `prometheus.remoteWrite[]` and remoteWritePasswords, keyed by the stack's
 * keys (the section's and its secret's): a credential each remote write with auth needs, one kind
 * of auth, and no password without its remote write. The resolved values no longer tell these
 * apart, so the section reports them as it resolves.
 */
export function remoteWriteProblems(
  given: readonly RemoteWriteGiven[] | undefined,
  passwords: Passwords | undefined,
  clientKeys?: ClientKeys,
): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const remoteWrite = given ?? [];
  const credentials = passwords ?? {};
  remoteWrite.forEach((rw, i) => {
    if ((rw.username !== undefined || rw.bearerToken) && credentials[rw.name] === undefined) {
      found.push({
        key: `prometheus.remoteWrite[${i}]`,
        message: `remote write "${rw.name}" needs its credential: pulumi config set --secret --path 'remoteWritePasswords.${rw.name}' <value>`,
        involves: [`remoteWritePasswords.${rw.name}`],
      });
    }
    if (rw.username !== undefined && rw.bearerToken) {
      found.push({
        key: `prometheus.remoteWrite[${i}]`,
        message: `remote write "${rw.name}": choose username (basic auth) or bearerToken, not both`,
      });
    }
    for (const p of remoteWriteOptionProblems(rw))
      found.push({
        ...p,
        key: `prometheus.remoteWrite[${i}].${p.key}`,
        involves: p.involves?.map((k) => `prometheus.remoteWrite[${i}].${k}`),
      });
  });
  for (const name of Object.keys(credentials)) {
    if (!remoteWrite.some((rw) => rw.name === name)) {
      found.push({
        key: `remoteWritePasswords.${name}`,
        message: `no remote write named "${name}" in prometheus.remoteWrite: add it there, or remove the password with: pulumi config rm --path 'remoteWritePasswords.${name}'`,
        involves: ["prometheus.remoteWrite"],
      });
    }
  }
  found.push(...clientKeyProblems(remoteWrite, clientKeys ?? {}));
  return found;
}

/**
 * What deploys but deserves attention in the remote writes: a destination whose certificate goes unverified, and
 * series that leave for a store other clusters' stacks write to without a `cluster` label to tell them apart.
 */
export function remoteWriteWarnings(settings: Pick<PrometheusSettings, "remoteWrite" | "externalLabels">): SectionWarning[] {
  const found: SectionWarning[] = [];
  settings.remoteWrite.forEach((rw, i) => {
    if (rw.tls?.insecureSkipVerify)
      found.push({
        key: `remoteWrite[${i}].tls.insecureSkipVerify`,
        message: `is true: remote write "${rw.name}" sends series (and its credential) to whoever answers at ${rw.url}; give tls.caData instead`,
      });
  });
  if (settings.remoteWrite.length > 0 && !("cluster" in settings.externalLabels))
    found.push({
      key: "externalLabels",
      sentence:
        'series leave for a remote write with an environment label but no cluster label: set prometheus.externalLabels.cluster, so that a store several clusters write to tells them apart (docs/operations.md, "Beyond one node")',
    });
  return found;
}

/** The `prometheus` section: its values over the profile's, the size cap 85 % of the volume unless given. */
export const prometheusSection = componentSection({
  schema,
  secrets: PROMETHEUS_SECRETS,
  standIns: PROMETHEUS_SECRET_STAND_INS,
  secretMessages: { remoteWritePasswords: REMOTE_WRITE_PASSWORDS_MESSAGE, remoteWriteClientKeys: REMOTE_WRITE_CLIENT_KEYS_MESSAGE },
  defaults: (profile): PrometheusSettings => PROMETHEUS_DEFAULTS[profile],
  resolve: (given, context, { remoteWritePasswords, remoteWriteClientKeys }): PrometheusSettings => {
    const defaults = PROMETHEUS_DEFAULTS[context.profile];
    const volume = resolveStorage(defaults.storage, given?.storage, context);
    context.problems.push(...remoteWriteProblems(given?.remoteWrite, remoteWritePasswords, remoteWriteClientKeys));
    return {
      replicas: given?.replicas ?? onNodes(context, defaults.replicas),
      retention: given?.retention ?? defaults.retention,
      retentionSize: given?.retentionSize ?? prometheusSizeMB((quantityBytes(volume.size) ?? 0) * 0.85),
      scrapeInterval: given?.scrapeInterval ?? defaults.scrapeInterval,
      scrapeTimeout: given?.scrapeTimeout ?? defaults.scrapeTimeout,
      evaluationInterval: given?.evaluationInterval ?? defaults.evaluationInterval,
      externalLabels: given?.externalLabels ?? {},
      scrapeLimits: { ...defaults.scrapeLimits, ...given?.scrapeLimits },
      remoteWrite: remoteWriteTargets(given?.remoteWrite ?? [], remoteWritePasswords ?? {}, remoteWriteClientKeys ?? {}),
      ...(given?.runbookBaseUrl !== undefined ? { runbookBaseUrl: given.runbookBaseUrl } : {}),
      storage: volume,
      resources: resolveResources(defaults.resources, given?.resources),
    };
  },
  problems: (settings: PrometheusSettings) => problems(settings),
  warnings: (settings: PrometheusSettings) => remoteWriteWarnings(settings),
});
