/**
 * The routing of a rendered alertmanager.yml as `npm run alert:test` (cli/alert-test.ts)
 * reads it: the tree and its matchers, the receivers and their integrations, which receivers an
 * alert's labels reach (as Alertmanager's dispatcher walks the tree), the labels that reach a
 * receiver, and the labels that keep test alerts from inhibiting each other.
 */
import * as YAML from "yaml";
import { Muting, RouteTimes, TimeIntervals, mutingAt, openFrom, readTimeIntervals } from "./time-intervals";

/** The test alert's name, and the label that marks every test alert. */
export const TEST_ALERTNAME = "StackTestAlert";
export const TEST_LABEL = "alert_test";

/** The receivers of the stack that are never a team's: `null` has no integration; the dead man's switch takes the Watchdog only. */
const NOT_TESTED_BY_DEFAULT = ["null", "deadmans-switch"];

/** One matcher of alertmanager.yml (`name="value"`, `!=`, `=~`, `!~`). */
export interface Matcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

export interface RouteNode {
  receiver?: string;
  matchers: Matcher[];
  continue: boolean;
  groupWait?: string;
  /** The intervals that mute it or are its only times (mute_time_intervals, active_time_intervals), a parent's when it names none. */
  times?: RouteTimes;
  routes: RouteNode[];
}

/** A matcher as alertmanager.yml writes it: the value quoted (JSON-like escapes) or bare. */
export function parseMatcher(text: string): Matcher {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(text);
  if (!m) throw new Error(`not a matcher: ${text}`);
  const raw = m[3];
  const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  return { name: m[1], op: m[2] as Matcher["op"], value };
}

/** Whether a label set passes a matcher; an absent label is the empty value, as in Alertmanager. */
export function matches(m: Matcher, labels: Record<string, string>): boolean {
  const v = labels[m.name] ?? "";
  switch (m.op) {
    case "=":
      return v === m.value;
    case "!=":
      return v !== m.value;
    case "=~":
      return new RegExp(`^(?:${m.value})$`).test(v);
    case "!~":
      return !new RegExp(`^(?:${m.value})$`).test(v);
  }
}

interface RawRoute {
  receiver?: string;
  matchers?: string[];
  match?: Record<string, string>;
  match_re?: Record<string, string>;
  continue?: boolean;
  group_wait?: string;
  mute_time_intervals?: string[];
  active_time_intervals?: string[];
  routes?: RawRoute[];
}

function routeNode(raw: RawRoute, parent?: RouteTimes): RouteNode {
  const mute = raw.mute_time_intervals?.length ? raw.mute_time_intervals : parent?.mute;
  const active = raw.active_time_intervals?.length ? raw.active_time_intervals : parent?.active;
  const times = mute || active ? { ...(mute ? { mute } : {}), ...(active ? { active } : {}) } : undefined;
  return {
    ...(raw.receiver !== undefined ? { receiver: raw.receiver } : {}),
    matchers: [
      ...(raw.matchers ?? []).map(parseMatcher),
      ...Object.entries(raw.match ?? {}).map(([name, value]) => ({ name, op: "=" as const, value })),
      ...Object.entries(raw.match_re ?? {}).map(([name, value]) => ({ name, op: "=~" as const, value })),
    ],
    continue: raw.continue ?? false,
    ...(raw.group_wait !== undefined ? { groupWait: raw.group_wait } : {}),
    ...(times ? { times } : {}),
    routes: (raw.routes ?? []).map((r) => routeNode(r, times)),
  };
}

/** The routing tree and each receiver's integrations (Alertmanager's names: `webhook`, `msteamsv2`), from alertmanager.yml. */
export interface AlertmanagerRouting {
  root: RouteNode;
  receivers: Map<string, string[]>;
  /** The `equal` labels of each inhibit rule. */
  inhibitEqual: string[][];
  /** The named time intervals routes mute by or are active in. */
  intervals: TimeIntervals;
}

export function readRouting(alertmanagerYml: string): AlertmanagerRouting {
  const config = YAML.parse(alertmanagerYml) as {
    route: RawRoute;
    receivers?: Array<Record<string, unknown> & { name: string }>;
    inhibit_rules?: Array<{ equal?: string[] }>;
  } & Parameters<typeof readTimeIntervals>[0];
  const receivers = new Map<string, string[]>();
  for (const r of config.receivers ?? []) {
    const integrations = Object.keys(r)
      .filter((k) => k.endsWith("_configs") && Array.isArray(r[k]) && (r[k] as unknown[]).length > 0)
      .map((k) => k.slice(0, -"_configs".length));
    receivers.set(r.name, integrations);
  }
  return {
    root: routeNode(config.route),
    receivers,
    inhibitEqual: (config.inhibit_rules ?? []).map((r) => r.equal ?? []),
    intervals: readTimeIntervals(config),
  };
}

/**
 * Labels that keep the test alerts of one run from inhibiting each other: the stack's rules let a
 * critical alert mute a warning or info one with the same `equal` labels, and every test alert has
 * the same alertname. For each rule, one of its `equal` labels that no route names (so that routing
 * does not change) gets a value of its own per receiver: `alert-test-<receiver>`. Returns those
 * label names, and the rules where none could be picked.
 */
export function uninhibitedLabels(routing: AlertmanagerRouting): { labels: string[]; unguarded: number } {
  const named = new Set(allMatchers(routing.root).map((m) => m.name));
  const labels = new Set<string>();
  let unguarded = 0;
  for (const equal of routing.inhibitEqual) {
    if (equal.some((l) => labels.has(l))) continue;
    const candidates = equal.filter((l) => l !== "alertname" && l !== TEST_LABEL && !named.has(l));
    // `instance` first: a test alert's own "where", which no template reads as a namespace or a job.
    const free = candidates.includes("instance") ? "instance" : candidates[0];
    if (free) labels.add(free);
    else unguarded++;
  }
  return { labels: [...labels], unguarded };
}

/** A receiver an alert reaches, and the group_wait of the route that sends it there (inherited down the tree). */
export interface Reached {
  receiver: string;
  groupWait: string;
  /** The time intervals of the route that sends it there, when it names any. */
  times?: RouteTimes;
}

/** The receivers an alert with these labels reaches, as Alertmanager's dispatcher walks the tree (dispatch/route.go's Match). */
export function routeAlert(root: RouteNode, labels: Record<string, string>): Reached[] {
  const walk = (node: RouteNode, parent: Reached): Reached[] => {
    const self: Reached = {
      receiver: node.receiver ?? parent.receiver,
      groupWait: node.groupWait ?? parent.groupWait,
      ...(node.times ? { times: node.times } : {}),
    };
    const out: Reached[] = [];
    for (const child of node.routes) {
      if (!child.matchers.every((m) => matches(m, labels))) continue;
      out.push(...walk(child, self));
      if (!child.continue) break;
    }
    return out.length > 0 ? out : [self];
  };
  return walk(root, { receiver: root.receiver ?? "", groupWait: root.groupWait ?? "30s" });
}

/** Values worth trying for a label a matcher names: the matcher's own, the alternatives of a simple regex, and none. */
function candidateValues(ms: Matcher[], name: string, severities: readonly string[]): string[] {
  const out: string[] = name === "severity" ? [...severities] : [""];
  for (const m of ms) {
    if (m.op === "=" || m.op === "!=") out.push(m.value);
    else {
      // Top-level alternatives of a plain regex: `api|web`, `(api|web)`, `critical`.
      const body = m.value.replace(/^\^?\(?/, "").replace(/\)?\$?$/, "");
      for (const alt of body.split("|")) if (/^[\w.:/@-]*$/.test(alt)) out.push(alt);
    }
  }
  out.push("alert-test");
  return [...new Set(out)].filter((v) => name !== "severity" || severities.includes(v) || !severities.length);
}

function allMatchers(node: RouteNode): Matcher[] {
  return [...node.matchers, ...node.routes.flatMap(allMatchers)];
}

/** At most this many label sets are tried for one receiver (the product of every label's candidates). */
const MAX_TRIES = 50_000;

/** Why a receiver's test alert would notify no one now: what mutes its route, and the first minute it lets one through. */
export type MutedNow = Muting & {
  /** Undefined when no minute of the next 400 days lets it through. */
  until?: Date;
};

/**
 * Labels (besides alertname and the test's mark) that route an alert to `receiver`: the set whose
 * alert reaches it through a route its time intervals let through at `at`, and as few other
 * receivers as can be, with as few labels as can be; undefined when none of the values the tree
 * names reaches it. The severity is the mildest that reaches it. When every set that reaches it
 * does so through a route muted at `at`, `muted` says by which intervals and until when.
 */
export function labelsFor(
  routing: AlertmanagerRouting,
  receiver: string,
  severities: readonly string[] = ["info", "warning", "critical"],
  at: Date = new Date(),
): { labels: Record<string, string>; reaches: Reached[]; muted?: MutedNow } | undefined {
  const ms = allMatchers(routing.root).filter((m) => m.name !== "alertname" && m.name !== TEST_LABEL);
  const names = [...new Set(["severity", ...ms.map((m) => m.name)])];
  const values = names.map((n) =>
    candidateValues(
      ms.filter((m) => m.name === n),
      n,
      severities,
    ),
  );
  // Each route's muting at `at`, worked out once per route (its times object).
  const mutings = new Map<RouteTimes, Muting | undefined>();
  const mutingOf = (r: Reached) => {
    if (!r.times) return undefined;
    if (!mutings.has(r.times)) mutings.set(r.times, mutingAt(r.times, routing.intervals, at));
    return mutings.get(r.times);
  };
  let best:
    { labels: Record<string, string>; reaches: Reached[]; score: number; muted?: { route: RouteTimes; muting: Muting } } | undefined;
  const index = names.map(() => 0);
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const labels: Record<string, string> = { alertname: TEST_ALERTNAME, [TEST_LABEL]: "true" };
    names.forEach((n, i) => {
      if (values[i][index[i]] !== "") labels[n] = values[i][index[i]];
    });
    const reaches = routeAlert(routing.root, labels);
    const own = reaches.filter((r) => r.receiver === receiver);
    if (own.length > 0) {
      const open = own.find((r) => mutingOf(r) === undefined);
      const others = new Set(reaches.map((r) => r.receiver).filter((r) => r !== receiver)).size;
      // A route muted now notifies no one: any set that reaches the receiver through an open route comes first.
      const score = (open ? 0 : 1_000_000) + others * 1000 + Object.keys(labels).length;
      if (!best || score < best.score) {
        const muted = open ? undefined : { route: own[0].times as RouteTimes, muting: mutingOf(own[0]) as Muting };
        best = { labels, reaches, score, ...(muted ? { muted } : {}) };
      }
    }
    // The next combination (odometer, the first label fastest).
    let i = 0;
    while (i < names.length && ++index[i] === values[i].length) index[i++] = 0;
    if (i === names.length) break;
  }
  if (!best) return undefined;
  const labels = Object.fromEntries(Object.entries(best.labels).filter(([k]) => k !== "alertname" && k !== TEST_LABEL));
  if (!best.muted) return { labels, reaches: best.reaches };
  const until = openFrom(best.muted.route, routing.intervals, at);
  return { labels, reaches: best.reaches, muted: { ...best.muted.muting, ...(until ? { until } : {}) } };
}

/** The receivers `npm run alert:test` tests without --receiver: those with an integration, but the null one and the dead man's switch. */
export function defaultTargets(routing: AlertmanagerRouting): string[] {
  return [...routing.receivers.entries()]
    .filter(([name, ints]) => ints.length > 0 && !NOT_TESTED_BY_DEFAULT.includes(name))
    .map(([n]) => n);
}

/** The receivers to test; throws naming the receivers when `receiver` is not one or has nothing to send through. */
export function targetsOf(routing: AlertmanagerRouting, stack: string, receiver?: string): string[] {
  const withIntegrations = [...routing.receivers.entries()].filter(([, ints]) => ints.length > 0).map(([n]) => n);
  if (receiver === undefined) {
    const all = defaultTargets(routing);
    if (all.length === 0)
      throw new Error(
        `stack ${stack} has no receiver that notifies anyone (alertmanager.receivers, or discordWebhookUrl / webhookUrl): there is nothing to test`,
      );
    return all;
  }
  if (!routing.receivers.has(receiver))
    throw new Error(
      `stack ${stack} has no receiver "${receiver}"; its receivers are: ${[...routing.receivers.keys()].join(", ")} (those that send: ${withIntegrations.join(", ") || "none"})`,
    );
  if (!withIntegrations.includes(receiver))
    throw new Error(
      `receiver "${receiver}" of stack ${stack} sends nothing (no integration); those that send: ${withIntegrations.join(", ") || "none"}`,
    );
  return [receiver];
}
