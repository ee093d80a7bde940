import type { RunInterval } from './data-interval.js';
import { parseSchedule } from './schedule.js';
import { instant, scheduledIntervals, type ScheduleWindow } from './scheduled-intervals.js';

/**
 * The next `count` scheduled runs whose logical date is strictly after `after` (from the first one when null),
 * whether or not they are due yet. The scheduler creates exactly these (see dueIntervals), so a preview built on
 * this function shows what will happen. `@once` yields its single run only when `after` is null; a manual-only
 * (`null`) schedule yields nothing.
 */
export function nextIntervals(
  schedule: string | null,
  window: ScheduleWindow,
  after: Date | null,
  count: number,
): RunInterval[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const found: RunInterval[] = [];
  if (count === 0) return found;
  for (const interval of scheduledIntervals(parseSchedule(schedule), window, after && instant(after, 'after'))) {
    found.push(interval);
    if (found.length === count) break;
  }
  return found;
}
