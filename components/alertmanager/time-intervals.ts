/**
 * Quiet hours: named time intervals (`alertmanager.timeIntervals`), which routes name to be muted
 * during them (`muteTimeIntervals`) or active only during them (`activeTimeIntervals`). Their fields
 * are Alertmanager's (timeinterval.TimeInterval: weekdays, times, days of month, months, location);
 * what Alertmanager would refuse at load, and what it would take but never means what was meant (an
 * interval of every moment, overlapping ranges), is refused here first, each with its key.
 */
import { z } from "zod";
import { dnsLabel } from "../kit/fields";
import { ArgsProblem, duplicateNameProblems } from "../kit/problems";

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const;
const MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
] as const;

const weekday = `(?:${WEEKDAYS.join("|")})`;
const month = `(?:${MONTHS.join("|")}|[1-9]|1[0-2])`;
const dayOfMonth = "-?(?:[1-9]|[12][0-9]|3[01])";
const range = (member: string) => new RegExp(`^${member}(?::${member})?$`);

/** A time of day as Alertmanager reads it: HH:MM from 00:00 to 24:00. */
const clock = z
  .string({ error: 'must be a time of day "HH:MM"' })
  .regex(/^(?:[01][0-9]|2[0-4]):[0-5][0-9]$/, 'must be a time of day "HH:MM"');

const timeRange = z.strictObject({
  start: clock.describe("Start of the range, HH:MM (included)."),
  end: clock.describe("End of the range, HH:MM (excluded), after start; 24:00 is the end of the day."),
});

/** The fields of one set of ranges: all the fields given must hold at once. */
const rangeSetFields = {
  weekdays: z
    .array(z.string().regex(range(weekday), 'must be a weekday in lower case or a range of them, e.g. "monday:friday"'), {
      error: "must be a list of weekdays",
    })
    .min(1, "must list at least one weekday, or be left out")
    .optional()
    .describe('Weekdays or ranges of them, e.g. ["monday:friday"].'),
  times: z
    .array(timeRange, { error: "must be a list of {start, end}" })
    .min(1, "must list at least one range, or be left out")
    .optional()
    .describe('Times of day, e.g. [{start: "09:00", end: "18:00"}], in location\'s time zone.'),
  daysOfMonth: z
    .array(z.string().regex(range(dayOfMonth), 'must be a day of the month (1 to 31, or -1 for the last) or a range, e.g. "1:7"'), {
      error: "must be a list of days of the month",
    })
    .min(1, "must list at least one day, or be left out")
    .optional()
    .describe('Days of the month or ranges, e.g. ["1:7", "-1"] (negative: from the end of the month).'),
  months: z
    .array(z.string().regex(range(month), 'must be a month in lower case (or 1 to 12) or a range of them, e.g. "june:august"'), {
      error: "must be a list of months",
    })
    .min(1, "must list at least one month, or be left out")
    .optional()
    .describe('Months or ranges, e.g. ["june:august"].'),
  location: z.string().min(1).optional().describe('IANA time zone of the times and days, e.g. "Europe/Paris"; default UTC.'),
};

/** One set of ranges of an interval given as a list (`anyOf`). */
const rangeSetSchema = z.strictObject(rangeSetFields);

/** The fields of a set of ranges, by name: what an interval holds when it is one set. */
const RANGE_SET_FIELDS = ["weekdays", "times", "daysOfMonth", "months", "location"] as const;

export const timeIntervalSchema = z.strictObject({
  name: dnsLabel.describe("Unique name of the interval, which routes' muteTimeIntervals and activeTimeIntervals name."),
  ...rangeSetFields,
  anyOf: z
    .array(rangeSetSchema, { error: "must be a list of sets of ranges, each with weekdays, times, daysOfMonth, months or location" })
    .min(1, "must list at least one set of ranges, or be left out")
    .optional()
    .describe(
      'Instead of the fields above, several sets of them under the one name; the interval holds when any set does, e.g. [{weekdays: [saturday, sunday]}, {times: [{start: "00:00", end: "09:00"}]}].',
    ),
});

/** A named interval, as the stack gives it: one set of ranges, or several (`anyOf`). */
export type AlertTimeInterval = z.infer<typeof timeIntervalSchema>;

/** One set of ranges. */
type RangeSet = z.infer<typeof rangeSetSchema>;

/** An interval's sets of ranges: its `anyOf`, or the one set its own fields make. */
export function rangeSetsOf(t: AlertTimeInterval): RangeSet[] {
  return t.anyOf ?? [Object.fromEntries(RANGE_SET_FIELDS.flatMap((f) => (t[f] !== undefined ? [[f, t[f]]] : []))) as RangeSet];
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** The two ends of a range of a list (`monday:friday`), each through `value`. */
function ends(text: string, value: (member: string) => number): [number, number] {
  const [begin, end = begin] = text.split(":");
  return [value(begin), value(end)];
}

/** Whether a time zone is one Node knows (Alertmanager's Go reads the same IANA names). */
function knownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** What is wrong in one set of ranges (`what`: the interval, or a set of its anyOf, in words), keyed at `at`. */
function rangeSetProblems(t: RangeSet, at: string, what: string): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  if (!t.weekdays && !t.times && !t.daysOfMonth && !t.months) {
    found.push({
      key: at,
      message: `${what} is empty, which Alertmanager reads as every moment: give it weekdays, times, daysOfMonth or months`,
    });
  }
  if (t.location !== undefined && !knownTimeZone(t.location)) {
    found.push({
      key: `${at}.location`,
      message: `must be an IANA time zone such as "Europe/Paris", "America/New_York" or "UTC" (got "${t.location}")`,
    });
  }
  const ranges = (t.times ?? []).map((r, j) => ({ j, start: minutes(r.start), end: minutes(r.end), r }));
  for (const { j, start, end, r } of ranges) {
    const outside = [r.start, r.end].find((hhmm) => minutes(hhmm) > 24 * 60);
    if (outside !== undefined) {
      found.push({ key: `${at}.times[${j}]`, message: `must lie within 00:00 to 24:00 (got "${outside}")` });
    } else if (end <= start) {
      found.push({
        key: `${at}.times[${j}]`,
        message: `must end after it starts, on the same day: a range across midnight is two, "${r.start}"-"24:00" and "00:00"-"${r.end}" (got start "${r.start}", end "${r.end}")`,
      });
    }
  }
  const valid = ranges.filter(({ start, end }) => end > start && end <= 24 * 60).sort((a, b) => a.start - b.start);
  for (let k = 1; k < valid.length; k++) {
    const [before, after] = [valid[k - 1], valid[k]];
    if (after.start < before.end) {
      const [first, second] = [before.j, after.j].sort((a, b) => a - b);
      found.push({
        key: `${at}.times[${second}]`,
        message: `overlaps times[${first}] (${valid.find((v) => v.j === first)?.r.start}-${valid.find((v) => v.j === first)?.r.end}): join them into one range`,
      });
    }
  }
  const ordered = (field: "weekdays" | "months", value: (member: string) => number) =>
    (t[field] ?? []).forEach((text, j) => {
      const [begin, end] = ends(text, value);
      if (begin > end) found.push({ key: `${at}.${field}[${j}]`, message: `must run forward, first to last (got "${text}")` });
    });
  ordered("weekdays", (d) => WEEKDAYS.indexOf(d as (typeof WEEKDAYS)[number]));
  ordered("months", (m) => (/^\d+$/.test(m) ? Number(m) : MONTHS.indexOf(m as (typeof MONTHS)[number]) + 1));
  (t.daysOfMonth ?? []).forEach((text, j) => {
    const [begin, end] = ends(text, Number);
    // Alertmanager's own rule: a negative start needs a negative end, and the range must run forward in a 28-day month.
    const in28 = (d: number) => (d < 0 ? 28 + d : d);
    if ((begin < 0 && end > 0) || in28(begin) > in28(end)) {
      found.push({ key: `${at}.daysOfMonth[${j}]`, message: `must run forward, first day to last, in every month (got "${text}")` });
    }
  });
  return found;
}

/**
 * What is wrong in the named intervals, and the routes' names of them, each keyed from the top of
 * the stack file (`alertmanager.timeIntervals[0].times[1]`, `alertmanager.routes[2].muteTimeIntervals[0]`).
 */
export function timeIntervalProblems(
  intervals: readonly AlertTimeInterval[],
  routes: ReadonlyArray<{ muteTimeIntervals?: string[]; activeTimeIntervals?: string[] }>,
): ArgsProblem[] {
  const found: ArgsProblem[] = [];
  const names = intervals.map((t) => t.name);
  found.push(...duplicateNameProblems("alertmanager.timeIntervals", names, "interval"));
  intervals.forEach((t, i) => {
    const given = RANGE_SET_FIELDS.filter((f) => t[f] !== undefined);
    if (t.anyOf !== undefined && given.length > 0) {
      found.push({
        key: `alertmanager.timeIntervals[${i}]`,
        message: `interval "${t.name}" gives anyOf and ${given.join(", ")}: give its sets of ranges in anyOf only, or one set without anyOf`,
      });
      return;
    }
    if (t.anyOf !== undefined)
      t.anyOf.forEach((set, j) =>
        found.push(...rangeSetProblems(set, `alertmanager.timeIntervals[${i}].anyOf[${j}]`, `anyOf[${j}] of interval "${t.name}"`)),
      );
    else found.push(...rangeSetProblems(t, `alertmanager.timeIntervals[${i}]`, `interval "${t.name}"`));
  });
  routes.forEach((r, i) => {
    for (const field of ["muteTimeIntervals", "activeTimeIntervals"] as const) {
      (r[field] ?? []).forEach((name, j) => {
        if (names.includes(name)) return;
        found.push({
          key: `alertmanager.routes[${i}].${field}[${j}]`,
          message: `must name an interval of alertmanager.timeIntervals (${names.length > 0 ? names.join(", ") : "none"}) (got "${name}")`,
          involves: intervals.map((_, k) => `alertmanager.timeIntervals[${k}].name`),
        });
      });
    }
  });
  return found;
}

/** alertmanager.yml's top-level time_intervals: each named interval as one of Alertmanager's, with each of its sets of ranges. */
export function timeIntervalsConfig(intervals: readonly AlertTimeInterval[]): Array<Record<string, unknown>> {
  return intervals.map((interval) => ({
    name: interval.name,
    time_intervals: rangeSetsOf(interval).map((t) => ({
      ...(t.times ? { times: t.times.map((r) => ({ start_time: r.start, end_time: r.end })) } : {}),
      ...(t.weekdays ? { weekdays: [...t.weekdays] } : {}),
      ...(t.daysOfMonth ? { days_of_month: [...t.daysOfMonth] } : {}),
      ...(t.months ? { months: [...t.months] } : {}),
      ...(t.location ? { location: t.location } : {}),
    })),
  }));
}
