import type { RunInterval } from './data-interval.js';
import { parseSchedule } from './schedule.js';
import { scheduledIntervals } from './scheduled-intervals.js';

/**
 * The schedule's intervals whose logical date lies in [from, to], oldest first, for a backfill. The DAG's own
 * startDate and endDate do not limit a backfill (the operator chose the range); at most `max` + 1 are returned
 * so a caller can tell that a range is too large without walking all of it.
 */
export function intervalsBetween(schedule: string, timezone: string, from: Date, to: Date, max: number): RunInterval[] {
  const found: RunInterval[] = [];
  for (const interval of scheduledIntervals(parseSchedule(schedule), { timezone, startDate: from, endDate: null }, null)) {
    if (interval.logicalDate.getTime() > to.getTime()) break;
    found.push(interval);
    if (found.length > max) break;
  }
  return found;
}
