/**
 * `npm run alert:test` (scripts/alert-test.ts): a clearly marked test alert through a stack's own
 * Alertmanager, and what became of it per receiver and integration, read from Alertmanager's own
 * notification counters. This module holds the arguments, the counters of a /metrics page, the
 * outcome of each integration, the log lines that say why, the report, and the run itself
 * (runAlertTest), given a way to reach Alertmanager; the routing tree of the rendered
 * alertmanager.yml (which labels reach a receiver) is cli/alert-routing.ts.
 *
 * The counters (notify/metrics.go, notify/retry_stage.go of Alertmanager 0.34.2), labelled
 * `integration` and, with `--enable-feature=receiver-name-in-metrics` (the stack sets it),
 * `receiver_name`:
 * - alertmanager_notifications_total: notifications tried (one per flush of a group);
 * - alertmanager_notifications_failed_total{reason}: notifications given up, `reason` one of
 *   other, clientError, serverError, contextCanceled, contextDeadlineExceeded;
 * - alertmanager_notification_requests_total / _failed_total: each request to the integration,
 *   retries included. A request that succeeded is a delivery; requests that failed and no success
 *   are a failure, final once the notification is given up (its reason is then known).
 */
import * as os from "os";
import { AlertmanagerRouting, MutedNow, TEST_ALERTNAME, TEST_LABEL, labelsFor, uninhibitedLabels } from "./alert-routing";

/** How long after the group's wait the outcome is awaited, by default. */
export const DEFAULT_MARGIN_SECONDS = 30;

/** The environment variable the basic-auth password is read from (never from an argument: it would show in `ps` and in npm's echo). */
export const PASSWORD_ENV = "ALERT_TEST_PASSWORD";

export interface AlertTestArgs {
  stack: string;
  /** The one receiver to test; all the team's receivers when absent. */
  receiver?: string;
  /** Alertmanager's base URL (a port-forward's); the stack's public route when absent. */
  url?: string;
  /** The basic-auth user on the public route; default the stack's first traefik.basicAuthUsers. */
  user?: string;
  /** Seconds waited after the longest group_wait of the targeted routes. */
  marginSeconds: number;
  /** Where Alertmanager's log is read for the last error: a file, or `kubectl` (the stack's pod). */
  logs?: string;
  /** `--set key=value` overrides of the stack file, as `npm run render` takes them (a key marked secret refused). */
  sets: string[];
  /** A YAML map of secret values by config path, as `npm run render` takes it. */
  secretsFile?: string;
  /** The OpenID Connect issuer's discovery document saved to a file, as `npm run render` takes it. */
  oidcDiscovery?: string;
}

export const USAGE =
  "usage: npm run alert:test -- --stack <name> [--receiver <name>] [--url <alertmanager base URL>] [--user <basic-auth user>] " +
  "[--margin <seconds>] [--logs kubectl|<file>] [--set <key>=<value>]... [--secrets-file <file>] [--oidc-discovery <file>]";

/** The command line; throws with the usage on anything it does not take. */
export function parseArgs(argv: string[]): AlertTestArgs {
  const out: Partial<AlertTestArgs> & { sets: string[] } = { sets: [], marginSeconds: DEFAULT_MARGIN_SECONDS };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === "--stack") out.stack = value();
    else if (flag === "--receiver") out.receiver = value();
    else if (flag === "--url") {
      const url = value().replace(/\/+$/, "");
      if (!/^https?:\/\/[^/]+/.test(url))
        throw new Error(`--url must be Alertmanager's base URL, http(s)://host[:port]; got ${url}\n${USAGE}`);
      out.url = url;
    } else if (flag === "--user") out.user = value();
    else if (flag === "--margin") {
      const raw = value();
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 1 || n > 3600) throw new Error(`--margin must be a number of seconds from 1 to 3600; got ${raw}`);
      out.marginSeconds = n;
    } else if (flag === "--logs") out.logs = value();
    else if (flag === "--set") out.sets.push(value());
    else if (flag === "--secrets-file") out.secretsFile = value();
    else if (flag === "--oidc-discovery") out.oidcDiscovery = value();
    else if (flag === "--password") {
      throw new Error(`--password is not taken: a password in the command line shows in ps and in npm's echo; set ${PASSWORD_ENV} instead`);
    } else throw new Error(`unknown argument ${flag}\n${USAGE}`);
  }
  if (!out.stack) throw new Error(`--stack is required\n${USAGE}`);
  return out as AlertTestArgs;
}

// ---------------------------------------------------------------------------------------------
// The counters, and what they say of each integration.

/** One integration of one receiver: `receiver/integration`. */
export type IntegrationKey = string;
export const integrationKey = (receiver: string, integration: string): IntegrationKey => `${receiver}/${integration}`;

export interface Counters {
  attempts: number;
  requests: number;
  failedRequests: number;
  /** Notifications given up, by reason. */
  failed: Record<string, number>;
}

/** Whether the page's counters carry the receiver (receiver-name-in-metrics); without it they are per integration only. */
export interface NotificationCounters {
  byReceiver: boolean;
  counters: Map<IntegrationKey, Counters>;
}

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  return out;
}

/** Alertmanager's notification counters on a /metrics page, per receiver (when labelled) and integration. */
export function readCounters(text: string): NotificationCounters {
  const counters = new Map<IntegrationKey, Counters>();
  let byReceiver = false;
  const re =
    /^alertmanager_(notifications_total|notifications_failed_total|notification_requests_total|notification_requests_failed_total)\{([^}]*)\} (\S+)$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const labels = parseLabels(m[2]);
    if (labels.receiver_name !== undefined) byReceiver = true;
    const key = integrationKey(labels.receiver_name ?? "*", labels.integration ?? "");
    const c = counters.get(key) ?? { attempts: 0, requests: 0, failedRequests: 0, failed: {} };
    const v = Number(m[3]);
    if (m[1] === "notifications_total") c.attempts += v;
    else if (m[1] === "notification_requests_total") c.requests += v;
    else if (m[1] === "notification_requests_failed_total") c.failedRequests += v;
    else c.failed[labels.reason ?? "other"] = (c.failed[labels.reason ?? "other"] ?? 0) + v;
    counters.set(key, c);
  }
  return { byReceiver, counters };
}

export type Outcome =
  | { state: "delivered"; requests: number }
  | { state: "failed"; reason: string; final: boolean; failedRequests: number; error?: string }
  | { state: "not reached" };

const ZERO: Counters = { attempts: 0, requests: 0, failedRequests: 0, failed: {} };

/**
 * What became of one integration between two readings: delivered when a request succeeded;
 * failed, final with its reason, when a notification was given up; failed, still retried, when
 * requests failed and none succeeded (the reason is Alertmanager's once it gives up, at the
 * group's interval); not reached when it was not tried.
 */
export function outcomeOf(before: Counters | undefined, after: Counters | undefined): Outcome {
  const b = before ?? ZERO;
  const a = after ?? ZERO;
  const requests = a.requests - b.requests;
  const failedRequests = a.failedRequests - b.failedRequests;
  const reasons = Object.entries(a.failed)
    .map(([reason, v]) => [reason, v - (b.failed[reason] ?? 0)] as const)
    .filter(([, d]) => d > 0);
  if (requests > failedRequests) return { state: "delivered", requests: requests - failedRequests };
  if (reasons.length > 0) return { state: "failed", reason: reasons.map(([r]) => r).join(", "), final: true, failedRequests };
  if (failedRequests > 0) return { state: "failed", reason: "retrying", final: false, failedRequests };
  return { state: "not reached" };
}

/** Whether an outcome is settled: delivered, or given up. */
export const settled = (o: Outcome): boolean => o.state === "delivered" || (o.state === "failed" && o.final);

/**
 * The last error Alertmanager logged per `receiver/integration` (logfmt: `receiver=ops
 * integration=webhook[0] err="…"`, from "Notify attempt failed" and "Notify for alerts failed").
 */
export function lastErrors(log: string): Map<IntegrationKey, string> {
  const out = new Map<IntegrationKey, string>();
  for (const line of log.split("\n")) {
    if (!/msg="?Notify/.test(line) || !line.includes("err=")) continue;
    const field = (name: string) => {
      const m = new RegExp(`(?:^|\\s)${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|(\\S+))`).exec(line);
      return m ? (m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]) : undefined;
    };
    const receiver = field("receiver");
    const integration = field("integration")?.replace(/\[\d+\]$/, "");
    const err = field("err");
    if (receiver && integration && err) out.set(integrationKey(receiver, integration), err);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The report.

export interface ReceiverResult {
  receiver: string;
  /** The labels the test alert carried to reach it; undefined when no labels reach it. */
  labels?: Record<string, string>;
  /** Other receivers the same alert reached (routes with continue). */
  alsoReached: string[];
  /** Set when every label set that reaches it goes through a route its time intervals mute now: no alert was sent to it. */
  muted?: MutedNow;
  integrations: Array<{ integration: string; outcome: Outcome }>;
}

const labelText = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ")}}`;

function outcomeText(o: Outcome): string {
  if (o.state === "delivered") return "delivered";
  if (o.state === "not reached") return "not reached: Alertmanager did not try it within the wait";
  const error = o.error ? `; last error: ${o.error}` : "";
  if (o.final) return `FAILED (reason ${o.reason}, ${o.failedRequests} failed request${o.failedRequests === 1 ? "" : "s"})${error}`;
  return `FAILED (${o.failedRequests} failed request${o.failedRequests === 1 ? "" : "s"}, none succeeded; Alertmanager still retries, and gives its reason when it gives up)${error}`;
}

/** A minute as the report gives it: `2026-11-25 08:00 UTC`. */
const minuteText = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** Why a receiver's route notifies no one now, and until when. */
export function mutedText(m: MutedNow): string {
  const names = m.intervals.map((n) => `"${n}"`).join(", ");
  const why =
    m.kind === "mute"
      ? `its route is muted during time interval ${names} (muteTimeIntervals), which holds now`
      : `its route is active only during time interval ${names} (activeTimeIntervals), which does not hold now`;
  const until = m.until ? `until ${minuteText(m.until)}` : "for the next 400 days at least";
  return `MUTED: ${why}, so Alertmanager notifies no one through it ${until}; no test alert was sent to it: run the test again then`;
}

/** The report, one line per receiver and one per integration, and whether everything targeted was delivered. */
export function formatReport(results: ReceiverResult[], header: string): { text: string; ok: boolean } {
  const lines = [header];
  let ok = results.length > 0;
  for (const r of results) {
    if (!r.labels) {
      ok = false;
      lines.push(`${r.receiver}: NOT REACHABLE: no labels the routing tree names send an alert to it`);
      continue;
    }
    if (r.muted) {
      ok = false;
      lines.push(`${r.receiver} (labels ${labelText(r.labels)}): ${mutedText(r.muted)}`);
      continue;
    }
    lines.push(`${r.receiver} (labels ${labelText(r.labels)}${r.alsoReached.length ? `; also reaches ${r.alsoReached.join(", ")}` : ""}):`);
    for (const { integration, outcome } of r.integrations) {
      if (outcome.state !== "delivered") ok = false;
      lines.push(`  ${integration}: ${outcomeText(outcome)}`);
    }
  }
  lines.push(ok ? "every targeted integration delivered" : "not every targeted integration delivered");
  return { text: `${lines.join("\n")}\n`, ok };
}

// ---------------------------------------------------------------------------------------------
// The alert.

/** Who sends the test: the user and host, for the annotation. */
export function sender(): string {
  let user = process.env.USER ?? "";
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry: USER, or nobody named.
  }
  return `${user || "someone"}@${os.hostname()}`;
}

/** The test alert for one receiver: firing from `at`, or resolved at `at` (endsAt). */
export function testAlert(
  receiver: string,
  labels: Record<string, string>,
  run: { id: string; by: string; at: Date; stack: string },
  resolved = false,
): Record<string, unknown> {
  return {
    labels: { alertname: TEST_ALERTNAME, [TEST_LABEL]: "true", alert_test_run: run.id, ...labels },
    annotations: {
      summary: `Test alert from npm run alert:test for receiver ${receiver}: not a real problem`,
      description: `Sent by ${run.by} at ${run.at.toISOString()} to check that stack ${run.stack} delivers to receiver ${receiver}; it resolves itself when the test ends.`,
    },
    startsAt: run.at.toISOString(),
    ...(resolved ? { endsAt: new Date().toISOString() } : {}),
  };
}

/** A Go duration of alertmanager.yml (`30s`, `1m30s`, `0s`) in seconds. */
export function durationSeconds(d: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  for (let m = re.exec(d); m; m = re.exec(d)) total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as "ms" | "s" | "m" | "h"];
  return total;
}

// ---------------------------------------------------------------------------------------------
// The run.

/** How the run reaches Alertmanager: GET a path, POST JSON to a path (each with the auth it needs). */
export interface AlertmanagerClient {
  get(path: string): Promise<{ status: number; body: string }>;
  post(path: string, body: unknown): Promise<{ status: number; body: string }>;
}

export interface RunOptions {
  stack: string;
  routing: AlertmanagerRouting;
  targets: string[];
  client: AlertmanagerClient;
  marginSeconds: number;
  /** What Alertmanager logged, read after the wait (undefined: no log to read). */
  readLog?: () => Promise<string | undefined>;
  /** Polling interval, ms. */
  pollMs?: number;
  /** For messages: where Alertmanager is. */
  where: string;
  /** The stack's namespace, for the port-forward a message names; `<namespace>` when unknown. */
  namespace?: string;
  /** The moment the routes' time intervals are read at; default now. */
  now?: Date;
  log?: (line: string) => void;
}

/** Sends the test alerts, waits for each targeted integration's outcome, resolves them, and returns the results. */
export async function runAlertTest(opts: RunOptions): Promise<{ results: ReceiverResult[]; waitedSeconds: number }> {
  const log = opts.log ?? (() => undefined);
  const run = { id: `${Date.now().toString(36)}`, by: sender(), at: new Date(), stack: opts.stack };
  const guard = uninhibitedLabels(opts.routing);
  if (guard.unguarded > 0 && opts.targets.length > 1)
    log(
      `note: ${guard.unguarded} inhibit rule(s) compare only labels the routes name: a critical test alert may mute the others; test one --receiver at a time`,
    );
  const planned = opts.targets.map((receiver) => {
    const found = labelsFor(opts.routing, receiver, undefined, opts.now ?? new Date());
    const own = Object.fromEntries(guard.labels.map((l) => [l, `alert-test-${receiver}`]));
    return { receiver, found: found && { ...found, labels: { ...found.labels, ...own } } };
  });
  // A receiver whose route is muted now gets no alert: Alertmanager would notify no one, and the test would only wait.
  const sent = planned.filter(({ found }) => found !== undefined && found.muted === undefined);
  for (const { receiver, found } of planned) if (found?.muted) log(`${receiver}: not sent: ${mutedText(found.muted)}`);

  const readPage = async (): Promise<NotificationCounters> => {
    const res = await opts.client.get("/metrics");
    if (res.status !== 200) throw new Error(`GET ${opts.where}/metrics: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    return readCounters(res.body);
  };
  const before = await readPage();
  if (!before.byReceiver && opts.targets.length > 1)
    log(
      "note: this Alertmanager counts notifications per integration only (no --enable-feature=receiver-name-in-metrics): receivers sharing an integration share its outcome",
    );
  const keyOf = (page: NotificationCounters, receiver: string, integration: string) =>
    integrationKey(page.byReceiver ? receiver : "*", integration);

  const alerts = sent.flatMap(({ receiver, found }) => (found ? [testAlert(receiver, found.labels, run)] : []));
  if (alerts.length > 0) {
    const posted = await opts.client.post("/api/v2/alerts", alerts);
    if (posted.status === 404)
      throw new Error(
        `POST ${opts.where}/api/v2/alerts: HTTP 404. The stack's public Traefik route does not take alerts (docs/security.md, "Published routes"); ` +
          `reach the Service instead: kubectl -n ${opts.namespace ?? "<namespace>"} port-forward svc/alertmanager 9093, then --url http://127.0.0.1:9093`,
      );
    if (posted.status !== 200) throw new Error(`POST ${opts.where}/api/v2/alerts: HTTP ${posted.status} ${posted.body.slice(0, 300)}`);
  }
  const started = Date.now();
  let after = before;
  const resultsOf = (page: NotificationCounters): ReceiverResult[] =>
    planned.map(({ receiver, found }) => ({
      receiver,
      ...(found ? { labels: found.labels } : {}),
      ...(found?.muted ? { muted: found.muted } : {}),
      alsoReached: [...new Set((found?.reaches ?? []).map((r) => r.receiver).filter((r) => r !== receiver))],
      integrations: (opts.routing.receivers.get(receiver) ?? []).map((integration) => ({
        integration,
        outcome:
          found && !found.muted
            ? outcomeOf(before.counters.get(keyOf(before, receiver, integration)), page.counters.get(keyOf(page, receiver, integration)))
            : ({ state: "not reached" } as Outcome),
      })),
    }));
  try {
    const waits = sent.flatMap(({ receiver, found }) =>
      (found?.reaches ?? []).filter((r) => r.receiver === receiver).map((r) => durationSeconds(r.groupWait)),
    );
    const boundMs = (Math.max(0, ...waits) + opts.marginSeconds) * 1000;
    log(`sent ${alerts.length} test alert(s) to ${opts.where}; waiting up to ${(boundMs / 1000).toFixed(0)} s (group_wait + margin)`);
    for (;;) {
      after = await readPage();
      const results = resultsOf(after);
      const pending = results.flatMap((r) => (r.labels && !r.muted ? r.integrations.filter((i) => !settled(i.outcome)) : []));
      if (pending.length === 0 || Date.now() - started >= boundMs) break;
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    }
  } finally {
    if (alerts.length > 0) {
      const resolved = sent.flatMap(({ receiver, found }) => (found ? [testAlert(receiver, found.labels, run, true)] : []));
      const res = await opts.client.post("/api/v2/alerts", resolved).catch((err: Error) => ({ status: 0, body: err.message }));
      if (res.status !== 200)
        log(
          `could not resolve the test alerts (HTTP ${res.status} ${res.body.slice(0, 200)}); they end on their own after resolve_timeout`,
        );
    }
  }
  const results = resultsOf(after);
  const errors = opts.readLog ? lastErrors((await opts.readLog().catch(() => undefined)) ?? "") : new Map<string, string>();
  for (const r of results)
    for (const i of r.integrations) {
      const error = errors.get(integrationKey(r.receiver, i.integration));
      if (i.outcome.state === "failed" && error) i.outcome.error = error;
    }
  return { results, waitedSeconds: (Date.now() - started) / 1000 };
}
