/**
 * Prometheus' section of the stack file (`prometheus`, with its secret keys remoteWritePasswords and
 * remoteWriteClientKeys): its fields, declared here once (the defaults, the resolved values and the
 * component's args are typed from the schema), its defaults per profile, its resolution and the
 * problems of its own values (problems.ts adds those of the component's whole args).
 */
import { z } from "zod";
import { dnsLabel, duration, labelMap, nonEmpty, notAMap, plainHttpUrl, prometheusSize, replicas, resources, storage } from "../kit/fields";
import { ArgsProblem, duplicateNameProblems } from "../kit/problems";
import { Profile, withOverrides } from "../kit/profiles";
import { requirements } from "../kit/resources";
import { DefaultsOf, FieldsOf, SecretStandIns, SectionWarning, componentSection, onNodes, overDefaults, textStandIn } from "../kit/section";
import { durationSeconds, prometheusSizeMB, quantityBytes } from "../kit/units";
import {
  REMOTE_WRITE_CLIENT_KEYS,
  REMOTE_WRITE_CLIENT_KEYS_MESSAGE,
  RemoteWriteTarget,
  clientKeyProblems,
  clientKeyStandIn,
  remoteWriteOptionProblems,
  remoteWriteSchema,
  resolveRemoteWriteOptions,
} from "./remote-write";
import { ScrapeLimits, scrapeLimitsSchema } from "./scraped";
import { JOB } from "../kit/stack-jobs";

const schema = z.strictObject({
  /** Each replica scrapes everything and carries its own `replica` external label; more than one adds a PodDisruptionBudget and anti-affinity. */
  replicas: replicas.optional(),
  /** `--storage.tsdb.retention.time`. */
  retention: duration.optional().describe("How long samples are kept."),
  /** `--storage.tsdb.retention.size`: keep it under the volume's size. */
  retentionSize: prometheusSize.optional().describe("Size cap of the TSDB; default 85 % of the volume, leaving at least 640MB free."),
  scrapeInterval: duration.optional(),
  /** At most scrapeInterval. */
  scrapeTimeout: duration.optional(),
  evaluationInterval: duration.optional(),
  /** Added to `environment` on every series and alert leaving Prometheus. */
  externalLabels: labelMap.optional(),
  /** The stack's own jobs have their own limits (scrape-limits.ts BUILTIN_JOB_LIMITS). */
  scrapeLimits: scrapeLimitsSchema
    .optional()
    .describe(
      "Limits of every app's and target's scrape job and of the annotated pods' (apps[].limits and targets[].limits override them).",
    ),
  remoteWrite: z.array(remoteWriteSchema).optional(),
  /**
   * A published copy of docs/runbooks.md (a fork's): every alert whose `runbook` annotation is
   * `docs/runbooks.md#<anchor>` also gets `runbook_url: <runbookBaseUrl>#<anchor>`. No default:
   * alerts then name their runbook section without linking anywhere.
   */
  runbookBaseUrl: plainHttpUrl
    .optional()
    .describe("URL of your published copy of docs/runbooks.md (e.g. your fork's): alerts then carry a runbook_url link into it."),
  /** The volume of each replica: a claim `data-prometheus-<ordinal>` per replica. */
  storage: storage.optional(),
  resources: resources.optional(),
});

/**
 * What the stack reads of Prometheus: each field of the section, the scrape limits each set, the
 * remote writes with their credentials (in plain text: the stack's args make them secrets);
 * runbookBaseUrl, which has no default, when given.
 */
export type PrometheusSettings = Omit<FieldsOf<typeof schema, "runbookBaseUrl">, "scrapeLimits" | "remoteWrite"> & {
  scrapeLimits: ScrapeLimits;
  remoteWrite: RemoteWriteTarget[];
};

/** What a profile sets of Prometheus: every field but runbookBaseUrl. */
type PrometheusDefaults = DefaultsOf<typeof schema, "runbookBaseUrl"> & Pick<PrometheusSettings, "scrapeLimits" | "remoteWrite">;

/**
 * The limits of every app's and target's job and of the annotated pods (config prometheus.scrapeLimits),
 * each overridable per app (apps[].limits) and per target (targets[].limits). Sized against the
 * footprint: the bench's whole steady head is 12,603 series (5 apps, 100 pods, docs/benchmark.md), and
 * Prometheus' limit of 400Mi/592Mi holds a few tens of thousands more; one job of 10,000 series is
 * the size of the whole stack's, so a job above it is the incident the limit is for. 30 labels: a
 * scraped app's series carries 6 target labels (job, instance, namespace, pod, service, app), its
 * name and its own few (method, route, status, le); 1024 characters of a value hold any route or
 * image reference, not a request body or a query.
 */
export const DEFAULT_SCRAPE_LIMITS: ScrapeLimits = {
  sampleLimit: 10_000,
  labelLimit: 30,
  labelNameLengthLimit: 128,
  labelValueLengthLimit: 1024,
  targetLimit: 100,
};

const PROMETHEUS_STAGING: PrometheusDefaults = {
  replicas: 1,
  retention: "7d",
  // Derived from the volume size when not given (resolve, below).
  retentionSize: "",
  scrapeInterval: "15s",
  scrapeTimeout: "10s",
  evaluationInterval: "15s",
  externalLabels: {},
  scrapeLimits: DEFAULT_SCRAPE_LIMITS,
  remoteWrite: [],
  storage: { size: "10Gi" },
  // Measured by npm run bench (2026-11-22, docs/benchmark.md, "Footprint"): 145 MiB resident and 11m steady,
  // 196 MiB at the incident's peak. Requests steady × 1.25, memory limit peak × 2.
  resources: requirements("15m", "192Mi", "1", "400Mi"),
};

/** Prometheus' defaults in each profile: production keeps 30 days on two replicas (kit/profiles.ts: the headroom). */
const PROMETHEUS_DEFAULTS: Record<Profile, PrometheusDefaults> = {
  staging: PROMETHEUS_STAGING,
  production: withOverrides(PROMETHEUS_STAGING, {
    replicas: 2,
    retention: "30d",
    storage: { size: "50Gi" },
    resources: requirements("20m", "224Mi", "2", "592Mi"),
  }),
};

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
    const { replicas, retentionSize, scrapeLimits, remoteWrite, runbookBaseUrl, ...plain } = given ?? {};
    const settings = overDefaults(defaults, plain, context);
    context.problems.push(...remoteWriteProblems(given?.remoteWrite, remoteWritePasswords, remoteWriteClientKeys));
    return {
      ...settings,
      replicas: replicas ?? onNodes(context, defaults.replicas),
      retentionSize: retentionSize ?? defaultRetentionSize(quantityBytes(settings.storage.size) ?? 0),
      scrapeLimits: { ...defaults.scrapeLimits, ...scrapeLimits },
      remoteWrite: remoteWriteTargets(remoteWrite ?? [], remoteWritePasswords ?? {}, remoteWriteClientKeys ?? {}),
      ...(runbookBaseUrl !== undefined ? { runbookBaseUrl } : {}),
    };
  },
  problems: (settings) => problems(settings),
  warnings: (settings) => remoteWriteWarnings(settings),
  jobs: () => [JOB.prometheus],
});

/**
 * What Prometheus writes beyond its size cap, which retention by size does not count: a compaction's
 * chunk file, preallocated at 512 MiB before the new block is written, beside the head it is cut
 * from, and the rest of that block. With less free, every compaction fails and the volume fills
 * (test/e2e/prometheus-retention-size.test.ts measures it on the exact binary).
 */
export const PROMETHEUS_BEYOND_CAP_BYTES = 640 * 2 ** 20;
/** The smallest volume Prometheus' default cap leaves room on (a cap of 384 MiB). */
export const PROMETHEUS_MIN_VOLUME = "1Gi";

/** The default size cap on a volume of `volumeBytes`: 85 % of it, leaving at least PROMETHEUS_BEYOND_CAP_BYTES free. */
export function defaultRetentionSize(volumeBytes: number): string {
  return prometheusSizeMB(Math.max(0, Math.min(volumeBytes * 0.85, volumeBytes - PROMETHEUS_BEYOND_CAP_BYTES)));
}

/**
 * What the section's own values must keep together: remote writes each with its own name; the
 * retention and the scrape timeout against the scrape interval. The component's check of its whole
 * args (argsProblems, problems.ts) runs these too, beside those of what the stack wires in.
 */
export function problems(
  args: Pick<PrometheusSettings, "retention" | "scrapeInterval" | "scrapeTimeout"> & { remoteWrite?: ReadonlyArray<{ name: string }> },
): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  found.push(
    ...duplicateNameProblems(
      "remoteWrite",
      (args.remoteWrite ?? []).map((r) => r.name),
      "remote write",
    ),
  );
  const seconds = (d: string) => durationSeconds(d) ?? 0;
  if (seconds(args.retention) < seconds(args.scrapeInterval)) {
    found.push({
      key: "retention",
      message: `must be longer than prometheus.scrapeInterval (${args.scrapeInterval}); got ${args.retention}`,
      involves: ["scrapeInterval"],
    });
  }
  if (seconds(args.scrapeTimeout) > seconds(args.scrapeInterval)) {
    found.push({
      key: "scrapeTimeout",
      message: `must not exceed prometheus.scrapeInterval (${args.scrapeInterval}); got ${args.scrapeTimeout}`,
      involves: ["scrapeInterval"],
    });
  }
  // An app's interval may be shorter than the global scrapeTimeout: its job's timeout is then its interval (components/prometheus/scrape-jobs.ts).
  return found;
}
