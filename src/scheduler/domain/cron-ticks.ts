import { CronExpressionParser } from 'cron-parser';
import type { CronSchedule } from './schedule.js';
import { firstTransitionAfter, offsetAt, resolveWallTime, wallClockAt, type WallTimeResolution } from './timezone.js';

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
  const wallTicks = CronExpressionParser.parse(schedule.expression, { tz: 'UTC', currentDate: new Date(0) });
  const wallTickAfter = (wall: number): number => {
    wallTicks.reset(new Date(wall));
    return wallTicks.next().getTime();
  };
  switch (schedule.dstPolicy) {
    case 'elapsed':
      return (after) => elapsedTickAfter(timezone, wallTickAfter, after);
    case 'wall-clock':
      return (after) => wallClockTickAfter(timezone, wallTickAfter, after);
  }
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
