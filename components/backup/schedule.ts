/**
 * The backups' schedule: a CronJob's five fields (minute, hour, day of month, month, day of week),
 * read here only to know the longest wait between two runs, which BackupTooOld doubles
 * (rules/backup.yml). Day of month and month stay `*`: with them a gap depends on the calendar.
 */

/** The fields' ranges, in order: minute, hour, day of month, month, day of week (0 and 7 are Sunday). */
const FIELDS: ReadonlyArray<{ name: string; min: number; max: number }> = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
];

/** The values one field matches (a star, a star with a step n, a, a-b, a-b with a step, lists of these), or why it does not parse. */
function fieldValues(text: string, field: { name: string; min: number; max: number }): Set<number> | string {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) return `its ${field.name} field "${text}" is not *, a number, a range a-b or a step */n`;
    const from = match[1] === "*" ? field.min : Number(match[2]);
    const to = match[1] === "*" ? field.max : match[3] !== undefined ? Number(match[3]) : match[4] !== undefined ? field.max : from;
    const step = match[4] !== undefined ? Number(match[4]) : 1;
    if (from < field.min || to > field.max || from > to || step < 1)
      return `its ${field.name} field "${text}" is outside ${field.min}-${field.max}`;
    for (let v = from; v <= to; v += step) values.add(field.name === "day of week" && v === 7 ? 0 : v);
  }
  return values;
}

/**
 * The longest wait between two runs of a schedule, in seconds, or why it is not one this stack
 * takes: five fields, day of month and month `*`. Its runs over two weeks are listed in order: such a
 * schedule repeats every week, so it runs at least twice in them, at most a week apart.
 */
export function scheduleGapSeconds(schedule: string): number | string {
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== 5) return `must be a schedule of five fields (minute hour day-of-month month day-of-week) such as "17 3 * * *"`;
  const sets: Array<Set<number>> = [];
  for (const [i, part] of parts.entries()) {
    const values = fieldValues(part, FIELDS[i]);
    if (typeof values === "string") return values;
    sets.push(values);
  }
  if (parts[2] !== "*" || parts[3] !== "*")
    return `must leave day of month and month as * (got "${parts[2]} ${parts[3]}"): the alert on a late backup needs a fixed longest wait`;
  const [minutes, hours, , , days] = sets;
  const ascending = (values: Set<number>) => [...values].sort((a, b) => a - b);
  const [minuteList, hourList] = [ascending(minutes), ascending(hours)];
  const runs: number[] = [];
  // Only the minutes it runs, in order: a day it runs, each of its hours, each of its minutes.
  for (let day = 0; day < 14; day++) {
    if (!days.has(day % 7)) continue;
    for (const hour of hourList) for (const minute of minuteList) runs.push((day * 24 + hour) * 60 + minute);
  }
  let gap = 0;
  for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i] - runs[i - 1]);
  return gap * 60;
}
