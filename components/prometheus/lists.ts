/**
 * The lists Prometheus scrapes, each a top-level key of the stack file and a section of the registry
 * (components/stack/sections.ts): `apps[]` (each with its contract and its probe), `targets[]` (with
 * the secret key targetCredentials) and `probes[]`, probed by the blackbox exporter. Their entries'
 * schemas are scraped.ts'; here is each list's resolution, with the problems only resolving finds,
 * keyed from the top of the stack file (`apps[0]`, `targetCredentials.minio`).
 */
import { z } from "zod";
import { dnsLabel, nonEmpty, notAMap, secretMapMessage } from "../kit/fields";
import { PROBE_DEFAULTS, ProbeSpec } from "../kit/probes";
import { ArgsProblem } from "../kit/problems";
import { Needed, SecretStandIns, componentSection, textStandIn } from "../kit/section";
import { APP_DEFAULTS, AppTarget, OTLP_APP_METRICS, ScrapeTargetSpec } from "./args";
import { appNameProblems } from "./problems";
import { appSchema, probeSchema, scrapeTargetSchema } from "./scraped";
import { JOB } from "../kit/stack-jobs";

type AppGiven = z.infer<typeof appSchema>;
type TargetGiven = z.infer<typeof scrapeTargetSchema>;
type ProbeGiven = z.infer<typeof probeSchema>;

/** `apps[]`: where each is scraped, and its contract's metric names, SLO and alert thresholds. */
function resolveApps(given: readonly AppGiven[], problems: ArgsProblem[]): AppTarget[] {
  return given.map((a, i) => {
    const otlpOnly = a.otlp === true && a.service === undefined && a.url === undefined;
    if (a.service !== undefined && a.url !== undefined) {
      problems.push({ key: `apps[${i}]`, message: `app "${a.name}" needs exactly one of "service" (with namespace and port) or "url"` });
    } else if (a.service === undefined && a.url === undefined && !otlpOnly) {
      problems.push({
        key: `apps[${i}]`,
        message: `app "${a.name}" needs exactly one of "service" (with namespace and port) or "url", or "otlp: true" for an app that sends OTLP instead of being scraped`,
      });
    }
    if (a.service !== undefined && (a.namespace === undefined || (a.port === undefined && a.targetPort === undefined))) {
      problems.push({
        key: `apps[${i}]`,
        message: `app "${a.name}" scrapes a Service, so it needs "namespace" and "port" (the Service's port, by name or number) or "targetPort" too`,
      });
    }
    if (a.port !== undefined && a.targetPort !== undefined) {
      problems.push({
        key: `apps[${i}]`,
        message: `app "${a.name}" gives both "port" and "targetPort"; give one: the Service's port (name or number), or the port number the pods serve on`,
      });
    }
    if (
      a.url !== undefined &&
      a.service === undefined &&
      // An app that sends OTLP names the namespace it sends from, URL or not.
      ((a.namespace !== undefined && !a.otlp) ||
        a.port !== undefined ||
        a.targetPort !== undefined ||
        a.path !== undefined ||
        a.scheme !== undefined)
    ) {
      problems.push({
        key: `apps[${i}]`,
        message: `app "${a.name}" scrapes a URL, so "namespace", "port", "targetPort", "path" and "scheme" belong in the URL`,
      });
    }
    if (a.otlp === true && a.namespace === undefined) {
      problems.push({
        key: `apps[${i}].namespace`,
        message: `app "${a.name}" sends OTLP (otlp: true), so it needs "namespace": the namespace its pods run in, the only ones the collector's OTLP endpoint admits`,
      });
    }
    if (otlpOnly && a.limits !== undefined) {
      problems.push({
        key: `apps[${i}].limits`,
        message: `app "${a.name}" sends OTLP only (no "service" or "url"), so it has no scrape job for limits to bound: remove them, or give its "service" or "url"`,
      });
    }
    // A number is the Service's own port, resolved from the Service when the program runs (preflight/service-ports.ts).
    const servicePort =
      typeof a.port === "string"
        ? { port: a.port }
        : typeof a.port === "number"
          ? { servicePort: a.port }
          : a.targetPort !== undefined
            ? { targetPort: a.targetPort }
            : {};
    return {
      name: a.name,
      ...(a.service !== undefined ? { service: { namespace: a.namespace ?? "", name: a.service, ...servicePort } } : {}),
      ...(a.url !== undefined ? { url: a.url } : {}),
      path: a.path ?? APP_DEFAULTS.path,
      scheme: a.scheme ?? APP_DEFAULTS.scheme,
      ...(a.interval ? { interval: a.interval } : {}),
      labels: a.labels ?? {},
      // An app known only by its OTLP has OpenTelemetry's HTTP server metrics, as Prometheus names them.
      metrics: { ...(otlpOnly ? OTLP_APP_METRICS : APP_DEFAULTS.metrics), ...a.metrics },
      ...(a.otlp ? { otlp: true, ...(a.namespace !== undefined ? { otlpNamespace: a.namespace } : {}) } : {}),
      ...(a.limits !== undefined ? { limits: a.limits } : {}),
      slo: {
        availabilityRatio: Number(((a.slo?.availability ?? APP_DEFAULTS.slo.availability) / 100).toFixed(8)),
        latencyP95Seconds: a.slo?.latencyP95Seconds ?? APP_DEFAULTS.slo.latencyP95Seconds,
        ...(a.slo?.minRequestsPerSecond !== undefined ? { minRequestsPerSecond: a.slo.minRequestsPerSecond } : {}),
      },
      alerts: {
        latencyP95Seconds: a.alerts?.latencyP95Seconds ?? APP_DEFAULTS.alerts.latencyP95Seconds,
        errorRatio: Number(((a.alerts?.errorRatePercent ?? APP_DEFAULTS.alerts.errorRatePercent) / 100).toFixed(8)),
      },
    };
  });
}

/** `targets[]`: where each is scraped, its TLS and its credential (a secret value or an existing Secret). */
function resolveTargets(
  given: readonly TargetGiven[],
  credentials: Readonly<Record<string, string>>,
  project: string,
  problems: ArgsProblem[],
): ScrapeTargetSpec[] {
  const targets = given.map((t, i): ScrapeTargetSpec => {
    const key = `targets[${i}]`;
    if ((t.service === undefined) === (t.url === undefined)) {
      problems.push({ key, message: `target "${t.name}" needs exactly one of "service" (with namespace and port or targetPort) or "url"` });
    }
    if (t.service !== undefined && (t.namespace === undefined || (t.port === undefined) === (t.targetPort === undefined))) {
      problems.push({
        key,
        message: `target "${t.name}" scrapes a Service, so it needs "namespace" and one of "port" (the Service port's name) or "targetPort" (the pods' port number)`,
      });
    }
    if (
      t.url !== undefined &&
      (t.namespace !== undefined || t.port !== undefined || t.targetPort !== undefined || t.path !== undefined || t.scheme !== undefined)
    ) {
      problems.push({
        key,
        message: `target "${t.name}" scrapes a URL, so "namespace", "port", "targetPort", "path" and "scheme" belong in the URL`,
      });
    }
    const scheme = t.url !== undefined ? (t.url.startsWith("https:") ? "https" : "http") : (t.scheme ?? APP_DEFAULTS.scheme);
    if (t.tls !== undefined && scheme !== "https") {
      problems.push({ key: `targets[${i}].tls`, message: `target "${t.name}" is scraped over http; tls applies to https only` });
    }
    if (t.tls?.insecureSkipVerify && (t.tls.caData !== undefined || t.tls.serverName !== undefined)) {
      problems.push({
        key: `targets[${i}].tls`,
        message: `target "${t.name}" skips verification (insecureSkipVerify), so caData and serverName would be ignored; keep one or the other`,
      });
    }
    const auth = t.auth;
    const secretCredential = credentials[t.name];
    if (auth !== undefined) {
      if ((auth.bearerToken === true) === (auth.username !== undefined)) {
        problems.push({
          key: `targets[${i}].auth`,
          message: `target "${t.name}": choose bearerToken: true or username (basic auth), one of them`,
        });
      }
      if (auth.secretRef !== undefined && secretCredential !== undefined) {
        problems.push({
          key: `targets[${i}].auth.secretRef`,
          message: `target "${t.name}" has both auth.secretRef and targetCredentials.${t.name}; keep one`,
          involves: [`targetCredentials.${t.name}`],
        });
      }
      if (auth.secretRef === undefined && secretCredential === undefined) {
        problems.push({
          key: `targets[${i}].auth`,
          message: `target "${t.name}" needs its credential: auth.secretRef {name, key} of an existing Secret in the stack namespace, or pulumi config set --secret --path 'targetCredentials.${t.name}' <value>`,
          involves: [`targetCredentials.${t.name}`],
        });
      }
    }
    return {
      name: t.name,
      ...(t.service !== undefined
        ? {
            service: {
              namespace: t.namespace ?? "",
              name: t.service,
              ...(t.port !== undefined ? { port: t.port } : {}),
              ...(t.targetPort !== undefined ? { targetPort: t.targetPort } : {}),
            },
          }
        : {}),
      ...(t.url !== undefined ? { url: t.url } : {}),
      path: t.path ?? APP_DEFAULTS.path,
      scheme,
      ...(t.interval ? { interval: t.interval } : {}),
      ...(t.timeout ? { timeout: t.timeout } : {}),
      labels: t.labels ?? {},
      ...(t.tls
        ? {
            tls: {
              insecureSkipVerify: t.tls.insecureSkipVerify ?? false,
              ...(t.tls.serverName ? { serverName: t.tls.serverName } : {}),
              ...(t.tls.caData ? { caPem: Buffer.from(t.tls.caData, "base64").toString("utf8") } : {}),
            },
          }
        : {}),
      ...(auth
        ? { auth: auth.username !== undefined ? { type: "basic" as const, username: auth.username } : { type: "bearer" as const } }
        : {}),
      ...(auth ? { credential: auth.secretRef ? { secretRef: auth.secretRef } : { value: secretCredential ?? "" } } : {}),
      ...(t.limits !== undefined ? { limits: t.limits } : {}),
    };
  });
  for (const name of Object.keys(credentials)) {
    const target = given.find((t) => t.name === name);
    if (!target?.auth) {
      problems.push({
        key: `targetCredentials.${name}`,
        message: target
          ? `target "${name}" has no auth (bearerToken or username) to send it with: add one, or remove it with: pulumi config rm --path 'targetCredentials.${name}'`
          : `no target named "${name}" in ${project}:targets: add it there, or remove it with: pulumi config rm --path 'targetCredentials.${name}'`,
        involves: ["targets"],
      });
    }
  }
  return targets;
}

/** Every probe: the apps' health endpoints (`apps[].probe`), then `probes[]`. */
function resolveProbes(given: readonly ProbeGiven[], apps: readonly AppGiven[], problems: ArgsProblem[]): ProbeSpec[] {
  const probes: ProbeSpec[] = [];
  apps.forEach((a, i) => {
    const pr = a.probe;
    if (!pr) return;
    if (a.service === undefined && a.url === undefined) {
      problems.push({
        key: `apps[${i}].probe`,
        message: `app "${a.name}" sends OTLP only (no "service" or "url"), so its probe has nothing to reach: give its "service" (with "namespace"), or probe it in probes[]`,
      });
      return;
    }
    const path = pr.path ?? PROBE_DEFAULTS.path;
    let target: ProbeSpec["target"];
    if (a.url !== undefined) {
      if (pr.port !== undefined || pr.targetPort !== undefined) {
        problems.push({
          key: `apps[${i}].probe`,
          message: `app "${a.name}" is a URL; its probe goes to the same host, so "port" and "targetPort" do not apply`,
        });
      }
      let origin = "";
      try {
        origin = new URL(a.url).origin;
      } catch {
        // The URL itself is refused by its schema.
      }
      target = { url: `${origin}${path}` };
    } else {
      if (pr.port !== undefined && pr.targetPort !== undefined) {
        problems.push({ key: `apps[${i}].probe`, message: `app "${a.name}": the probe gives both "port" and "targetPort"; give one` });
      }
      const own =
        pr.port !== undefined || pr.targetPort !== undefined
          ? pr
          : { port: typeof a.port === "string" ? a.port : undefined, targetPort: a.targetPort };
      target = {
        service: {
          namespace: a.namespace ?? "",
          name: a.service ?? "",
          ...(own.port !== undefined ? { port: own.port } : own.targetPort !== undefined ? { targetPort: own.targetPort } : {}),
        },
        scheme: a.scheme ?? APP_DEFAULTS.scheme,
        path,
      };
    }
    probes.push({
      name: a.name,
      app: a.name,
      module: "http_2xx",
      target,
      ...(pr.expectStatus ? { expectStatus: [...new Set(pr.expectStatus)].sort((x, y) => x - y) } : {}),
      ...(pr.interval ? { interval: pr.interval } : {}),
      labels: a.labels ?? {},
      latencySeconds: pr.latencySeconds ?? PROBE_DEFAULTS.latencySeconds,
    });
  });
  given.forEach((pr, i) => {
    const module = pr.module ?? (pr.address !== undefined && pr.url === undefined ? "tcp_connect" : PROBE_DEFAULTS.module);
    if (module === "http_2xx" && (pr.url === undefined || pr.address !== undefined)) {
      problems.push({ key: `probes[${i}]`, message: `probe "${pr.name}" uses module http_2xx, so it needs "url" (and no "address")` });
    }
    if (module === "tcp_connect" && (pr.address === undefined || pr.url !== undefined)) {
      problems.push({
        key: `probes[${i}]`,
        message: `probe "${pr.name}" uses module tcp_connect, so it needs "address" host:port (and no "url")`,
      });
    }
    if (module === "tcp_connect" && pr.expectStatus !== undefined) {
      problems.push({
        key: `probes[${i}].expectStatus`,
        message: `probe "${pr.name}" uses module tcp_connect, which has no status code`,
      });
    }
    const port = pr.address !== undefined ? Number(pr.address.slice(pr.address.lastIndexOf(":") + 1)) : 1;
    if (port < 1 || port > 65535) {
      problems.push({ key: `probes[${i}].address`, message: `must end in a port number 1-65535 (got ${JSON.stringify(pr.address)})` });
    }
    probes.push({
      name: pr.name,
      module,
      target: module === "tcp_connect" ? { address: pr.address ?? "" } : { url: pr.url ?? "" },
      ...(pr.expectStatus ? { expectStatus: [...new Set(pr.expectStatus)].sort((x, y) => x - y) } : {}),
      ...(pr.interval ? { interval: pr.interval } : {}),
      labels: pr.labels ?? {},
      latencySeconds: pr.latencySeconds ?? PROBE_DEFAULTS.latencySeconds,
    });
  });
  return probes;
}

/** `apps[]`: the apps Prometheus scrapes (or that send OTLP), each its own name (appNameProblems). */
export const appsSection = componentSection({
  schema: z.array(appSchema, { error: "must be a list of apps" }).describe("Apps to scrape."),
  defaults: (): AppTarget[] => [],
  resolve: (given, context) => resolveApps(given ?? [], context.problems),
  problems: (apps) => appNameProblems(apps),
});

const TARGET_CREDENTIALS_MESSAGE = secretMapMessage("targetCredentials", "target name", "token or password");

const targetSecrets = {
  targetCredentials: z.record(dnsLabel, nonEmpty("a token or password"), notAMap(TARGET_CREDENTIALS_MESSAGE)),
};

const targetStandIns: SecretStandIns<typeof targetSecrets> = { targetCredentials: textStandIn };

/**
 * `targets[]`, with the secret key targetCredentials. It resolves after Prometheus' section (`needs`),
 * though it reads nothing of it yet, only so that the problems only resolving finds keep their order
 * in the list: Prometheus' remote writes before the targets'. (Its timeout is held within
 * prometheus.scrapeInterval by stack-problems.ts.)
 */
export const targetsSection = componentSection({
  schema: z.array(scrapeTargetSchema, { error: "must be a list of scrape targets" }).describe("Plain scrape targets (no HTTP contract)."),
  secrets: targetSecrets,
  standIns: targetStandIns,
  secretMessages: { targetCredentials: TARGET_CREDENTIALS_MESSAGE },
  needs: ["prometheus"],
  defaults: (): ScrapeTargetSpec[] => [],
  resolve: (given, context, { targetCredentials }) =>
    resolveTargets(given ?? [], targetCredentials ?? {}, context.project, context.problems),
});

/** Every probe: the apps' health endpoints (`apps[].probe`, as the stack gives the apps), then `probes[]`. */
export const probesSection = componentSection({
  schema: z.array(probeSchema, { error: "must be a list of probes" }).describe("URLs probed by the blackbox exporter."),
  needs: ["apps"],
  defaults: (): ProbeSpec[] => [],
  resolve: (given, context, _secrets, { given: { apps } }: Needed<{ apps: readonly AppTarget[] }, { apps?: readonly AppGiven[] }>) =>
    resolveProbes(given ?? [], apps ?? [], context.problems),
  // The exporter's own metrics, and the job of every probe it runs.
  jobs: (probes) => (probes.length > 0 ? [JOB.blackboxExporter, JOB.probe] : []),
});
