import { ValidationError } from '../../common/errors.js';
import { cronTicker, type TickAfter } from './cron-ticks.js';
import { scheduledInterval, type RunInterval } from './data-interval.js';
import type { CronSchedule, Schedule } from './schedule.js';
import { validateTimezone } from './timezone.js';

/** The part of a DAG that decides when its scheduled runs fall. */
export type ScheduleWindow = {
  /** IANA zone the cron is evaluated in. */
  timezone: string;
  /** The first interval starts at the first tick at or after this instant. */
  startDate: Date;
  /** No interval ends after this instant. */
  endDate?: Date | null;
};

/**
 * The scheduled runs whose logical date is strictly after `after` (all of them when null), oldest first.
 * Endless for a cron schedule without an end date: the caller takes what it needs.
 */
export function* scheduledIntervals(
  schedule: Schedule,
  window: ScheduleWindow,
  after: number | null,
): Generator<RunInterval> {
  const start = instant(window.startDate, 'startDate');
  const end = window.endDate ? instant(window.endDate, 'endDate') : Number.POSITIVE_INFINITY;
  switch (schedule.kind) {
    case 'manual':
      return;
    case 'once':
      if (after === null && start <= end) yield scheduledInterval(start, start);
      return;
    case 'cron': {
      const tickAfter = ticker(schedule, window.timezone);
      let from = tickAfter(Math.max(start - 1, after ?? Number.NEGATIVE_INFINITY));
      for (;;) {
        const to = tickAfter(from);
        if (to > end) return;
        yield scheduledInterval(from, to);
        from = to;
      }
    }
  }
}

/** A cron schedule's ticks in the window's zone; rejects an unknown zone the way DAG validation names it. */
export function ticker(schedule: CronSchedule, timezone: string): TickAfter {
  const problem = validateTimezone(timezone);
  if (problem) throw new ValidationError([{ path: 'timezone', message: problem }]);
  return cronTicker(schedule, timezone);
}

/** A Date's timestamp; an Invalid Date would make every comparison false and the search endless. */
export function instant(date: Date, name: string): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${name} is an invalid date`);
  return ms;
}
