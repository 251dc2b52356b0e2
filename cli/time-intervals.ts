/**
 * The time intervals of a rendered alertmanager.yml (`time_intervals`, and the older
 * `mute_time_intervals`) as Alertmanager reads them at a given moment, for `npm run alert:test`:
 * whether a route they mute (or are the only times of) lets a notification through now, and if not,
 * which interval and until when. Alertmanager's semantics (timeinterval.ContainsTime): the moment is
 * taken in the set's `location` (UTC by default); every field a set gives must hold (times: minute
 * of the day in [start, end); weekdays, days of the month (negative: from the month's end), months
 * and years: in an inclusive range); an interval holds when any of its sets does.
 */

/** One set of ranges, in alertmanager.yml's words. */
export interface RangeSet {
  times?: Array<{ start_time: string; end_time: string }>;
  weekdays?: string[];
  days_of_month?: string[];
  months?: string[];
  years?: string[];
  location?: string;
}

/** Named intervals: each name's sets of ranges. */
export type TimeIntervals = Map<string, RangeSet[]>;

/** The intervals of an alertmanager.yml's top level. */
export function readTimeIntervals(config: {
  time_intervals?: Array<{ name: string; time_intervals?: RangeSet[] }>;
  mute_time_intervals?: Array<{ name: string; time_intervals?: RangeSet[] }>;
}): TimeIntervals {
  const out: TimeIntervals = new Map();
  for (const t of [...(config.mute_time_intervals ?? []), ...(config.time_intervals ?? [])]) out.set(t.name, t.time_intervals ?? []);
  return out;
}

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/** A moment as a place's clock and calendar show it. */
interface Local {
  year: number;
  /** 1 to 12. */
  month: number;
  day: number;
  /** 0 (Sunday) to 6. */
  weekday: number;
  /** Minutes since the day's midnight. */
  minute: number;
  daysInMonth: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function localOf(at: Date, timeZone: string): Local {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      weekday: "long",
      hour: "numeric",
      minute: "numeric",
    });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  const year = Number(parts.year);
  const month = Number(parts.month);
  return {
    year,
    month,
    day: Number(parts.day),
    weekday: WEEKDAYS.indexOf(String(parts.weekday).toLowerCase()),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

/** The inclusive ends of a range (`monday:friday`, `1:7`, `-1`), each through `value`. */
function rangeOf(text: string, value: (member: string) => number): [number, number] {
  const [begin, end = begin] = text.split(":");
  return [value(begin), value(end)];
}

const clockMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const monthNumber = (m: string) => (/^\d+$/.test(m) ? Number(m) : MONTHS.indexOf(m.toLowerCase()) + 1);

/** Whether a set of ranges holds at a moment. */
export function setHolds(set: RangeSet, at: Date): boolean {
  const t = localOf(at, set.location && set.location !== "Local" ? set.location : "UTC");
  if (set.times && !set.times.some((r) => t.minute >= clockMinutes(r.start_time) && t.minute < clockMinutes(r.end_time))) return false;
  const within = (list: string[] | undefined, value: number, member: (m: string) => number) =>
    !list ||
    list.some((text) => {
      const [b, e] = rangeOf(text, member);
      return value >= b && value <= e;
    });
  if (!within(set.weekdays, t.weekday, (d) => WEEKDAYS.indexOf(d.toLowerCase()))) return false;
  if (!within(set.months, t.month, monthNumber)) return false;
  if (!within(set.years, t.year, Number)) return false;
  if (set.days_of_month) {
    // Negative days count from the month's end (-1 the last day); a range is clamped to the month.
    const day = (d: number) => (d < 0 ? t.daysInMonth + d + 1 : d);
    const held = set.days_of_month.some((text) => {
      const [b, e] = rangeOf(text, Number).map(day);
      return t.day >= Math.max(b, 1) && t.day <= Math.min(e, t.daysInMonth);
    });
    if (!held) return false;
  }
  return true;
}

/** Whether a named interval holds at a moment (any of its sets); an unknown name never holds. */
export function intervalHolds(intervals: TimeIntervals, name: string, at: Date): boolean {
  return (intervals.get(name) ?? []).some((set) => setHolds(set, at));
}

/** The intervals a route names: muted during `mute`, and when `active` is given, muted outside all of them. */
export interface RouteTimes {
  mute?: string[];
  active?: string[];
}

/** Why a route sends nothing at a moment, or undefined: the interval that mutes it, or the active intervals none of which holds. */
export type Muting = { kind: "mute"; intervals: string[] } | { kind: "active"; intervals: string[] };

export function mutingAt(route: RouteTimes, intervals: TimeIntervals, at: Date): Muting | undefined {
  const muting = (route.mute ?? []).filter((name) => intervalHolds(intervals, name, at));
  if (muting.length > 0) return { kind: "mute", intervals: muting };
  if (route.active && route.active.length > 0 && !route.active.some((name) => intervalHolds(intervals, name, at))) {
    return { kind: "active", intervals: [...route.active] };
  }
  return undefined;
}

const MINUTE = 60_000;

/**
 * The first minute from `at` at which the route lets notifications through, or undefined when none
 * does within `horizonDays`: each minute over the first week, then each hour (the minute found then
 * by going back within that hour).
 */
export function openFrom(route: RouteTimes, intervals: TimeIntervals, at: Date, horizonDays = 400): Date | undefined {
  const start = Math.floor(at.getTime() / MINUTE) * MINUTE;
  const open = (ms: number) => mutingAt(route, intervals, new Date(ms)) === undefined;
  const week = 7 * 24 * 60;
  for (let i = 0; i <= week; i++) if (open(start + i * MINUTE)) return new Date(start + i * MINUTE);
  for (let h = week / 60; h <= horizonDays * 24; h++) {
    const ms = start + h * 60 * MINUTE;
    if (!open(ms)) continue;
    let first = ms;
    while (first - MINUTE > ms - 60 * MINUTE && open(first - MINUTE)) first -= MINUTE;
    return new Date(first);
  }
  return undefined;
}
