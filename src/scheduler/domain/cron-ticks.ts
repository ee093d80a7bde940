import { CronExpressionParser } from 'cron-parser';
import type { CronSchedule } from './schedule.js';
import { firstTransitionAfter, offsetAt, resolveWallTime, wallClockAt, type WallTimeResolution } from './timezone.js';

/** Zone names that are UTC at every instant. */
const FIXED_UTC = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'Etc/Universal', 'Etc/Zulu', 'Universal', 'Zulu', 'UCT', 'GMT', 'Etc/GMT', 'Etc/GMT0', 'Etc/GMT+0', 'Etc/GMT-0', 'Etc/Greenwich', 'GMT0', 'GMT+0', 'GMT-0', 'Greenwich']);

/** Returns the first tick strictly after an instant (ms). */
export type TickAfter = (after: number) => number;

/** Far above what any real expression needs (a fold holds at most 60 minute ticks per hour); stops a bug from
 * spinning forever. */
const MAX_STEPS = 10_000;

/**
 * The ticks of a cron schedule in a time zone, as UTC instants, strictly increasing.
 *
 * cron-parser only answers "which wall-clock minutes match" (it runs in UTC over wall-clock values, so it never
 * sees a DST change); this file decides which instants those are, following the schedule's DstPolicy.
 */
export function cronTicker(schedule: CronSchedule, timezone: string): TickAfter {
  const wallTickAfter = periodicWallTicks(schedule.expression) ?? cronParserWallTicks(schedule.expression);
  // UTC has no offset changes, so both policies are the wall ticks themselves (the zone lookups cost more than
  // the tick arithmetic: a catch-up over thousands of intervals is dominated by them otherwise).
  if (FIXED_UTC.has(timezone)) return (after) => wallTickAfter(after);
  switch (schedule.dstPolicy) {
    case 'elapsed':
      return (after) => elapsedTickAfter(timezone, wallTickAfter, after);
    case 'wall-clock':
      return (after) => wallClockTickAfter(timezone, wallTickAfter, after);
  }
}

/** The matching wall times of any expression, from cron-parser (which runs in UTC over wall-clock values). */
function cronParserWallTicks(expression: string): (wall: number) => number {
  const wallTicks = CronExpressionParser.parse(expression, { tz: 'UTC', currentDate: new Date(0) });
  // Walking consecutive ticks (a catch-up, a backfill) continues from the last one without a reset.
  let last = Number.NaN;
  return (wall) => {
    if (wall !== last) wallTicks.reset(new Date(wall));
    last = wallTicks.next().getTime();
    return last;
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The wall ticks of the most common schedules by arithmetic: `M * * * *` (hourly, @hourly), `M H * * *` (daily,
 * @daily) and `*\/N * * * *` with N dividing 60. Wall-clock values are plain UTC milliseconds, so the ticks are
 * the multiples of the period after an offset; cron-parser gives the same ticks two orders of magnitude slower,
 * which a catch-up or a backfill over thousands of intervals feels. Null for any other expression.
 */
export function periodicWallTicks(expression: string): ((wall: number) => number) | null {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 || fields[2] !== '*' || fields[3] !== '*' || fields[4] !== '*') return null;
  const [minute, hour] = fields as [string, string];
  const int = (v: string, max: number): number | null => (/^\d{1,2}$/.test(v) && Number(v) <= max ? Number(v) : null);
  let period: number;
  let offset: number;
  const step = /^\*\/(\d{1,2})$/.exec(minute);
  if (step && hour === '*') {
    const n = Number(step[1]);
    if (n < 1 || 60 % n !== 0) return null;
    period = n * MINUTE;
    offset = 0;
  } else {
    const m = int(minute, 59);
    if (m === null) return null;
    if (hour === '*') {
      period = HOUR;
      offset = m * MINUTE;
    } else {
      const h = int(hour, 23);
      if (h === null) return null;
      period = DAY;
      offset = h * HOUR + m * MINUTE;
    }
  }
  return (wall) => offset + (Math.floor((wall - offset) / period) + 1) * period;
}

/**
 * Every instant whose local time matches. Within a stretch of constant offset the next match is the next
 * matching wall time; when the offset changes first, the search restarts at the change, at the new wall time
 * (earlier after a fall-back, so the repeated hour matches again; later after a spring-forward, so the skipped
 * wall times never match).
 */
function elapsedTickAfter(timezone: string, wallTickAfter: (wall: number) => number, after: number): number {
  let from = after;
  let includeFrom = false;
  for (let step = 0; step < MAX_STEPS; step++) {
    const offset = offsetAt(timezone, from);
    const candidate = wallTickAfter(from + offset - (includeFrom ? 1 : 0)) - offset;
    const change = firstTransitionAfter(timezone, from, candidate);
    if (!change) return candidate;
    from = change.at;
    includeFrom = true;
  }
  throw new Error(`no tick found after ${new Date(after).toISOString()} in ${timezone}`);
}

/**
 * Each matching wall time runs once: at its instant, at the first of two (fall-back), or when the gap ends
 * (spring-forward). That mapping never decreases as the wall time grows, so walking the wall times after the
 * local time of `after` finds the next tick; wall times that land on an instant already passed (the second
 * pass through a fold, or several skipped times sharing one gap end) are passed over.
 */
function wallClockTickAfter(timezone: string, wallTickAfter: (wall: number) => number, after: number): number {
  let wall = wallClockAt(timezone, after);
  for (let step = 0; step < MAX_STEPS; step++) {
    wall = wallTickAfter(wall);
    const instant = runInstant(resolveWallTime(timezone, wall));
    if (instant > after) return instant;
  }
  throw new Error(`no tick found after ${new Date(after).toISOString()} in ${timezone}`);
}

function runInstant(resolved: WallTimeResolution): number {
  switch (resolved.kind) {
    case 'unique':
      return resolved.instant;
    case 'repeated':
      return resolved.first;
    case 'skipped':
      return resolved.gapEndsAt;
  }
}
