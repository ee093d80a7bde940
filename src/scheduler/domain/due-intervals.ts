import type { RunInterval } from './data-interval.js';
import { scheduledInterval } from './data-interval.js';
import { parseSchedule, type CronSchedule } from './schedule.js';
import type { TickAfter } from './cron-ticks.js';
import { instant, scheduledIntervals, ticker, type ScheduleWindow } from './scheduled-intervals.js';

export type DueOptions = ScheduleWindow & {
  /** true: every complete interval since the last run, oldest first; false: only the latest complete one. */
  catchup: boolean;
};

/** First look-back when searching for the latest ticks before an instant; grows fourfold until they are found. */
const INITIAL_LOOKBACK_MS = 3600 * 1000;

/**
 * The scheduled runs to create at `now`, oldest first, at most `limit`: intervals whose logical date is strictly
 * after `lastLogicalDate` (the latest scheduled run; null when there is none) and that have ended by `now`.
 * With catchup off only the latest interval that has ended by `now` is created, skipping older missed ones; when
 * that interval ends after `endDate` the schedule is over and nothing is created (Airflow's answer as well).
 */
export function dueIntervals(
  schedule: string | null,
  options: DueOptions,
  lastLogicalDate: Date | null,
  now: Date,
  limit: number,
): RunInterval[] {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  const parsed = parseSchedule(schedule);
  const last = lastLogicalDate && instant(lastLogicalDate, 'lastLogicalDate');
  const nowMs = instant(now, 'now');
  if (limit === 0) return [];
  if (parsed.kind === 'cron' && !options.catchup) {
    const latest = latestCompleteInterval(parsed, options, last, nowMs);
    return latest ? [latest] : [];
  }
  const due: RunInterval[] = [];
  for (const interval of scheduledIntervals(parsed, options, last)) {
    if (interval.runAfter.getTime() > nowMs || due.length === limit) break;
    due.push(interval);
  }
  return due;
}

/**
 * The interval the scheduler creates next, once the ones due at `now` have been created and `lastLogicalDate` is
 * the latest of them: with catchup, the first interval after it (already due when a catch-up was cut short by its
 * limit); without, the interval that is running at `now` (the first to end after `now`), since the scheduler
 * skips to the latest complete one. Null when there is none: manual schedules, `@once` done, or an interval that
 * would end after `endDate`. The scheduler stores it as the DAG's next run and looks at the DAG again at its
 * `runAfter`.
 */
export function nextDueInterval(
  schedule: string | null,
  options: DueOptions,
  lastLogicalDate: Date | null,
  now: Date,
): RunInterval | null {
  const parsed = parseSchedule(schedule);
  const last = lastLogicalDate && instant(lastLogicalDate, 'lastLogicalDate');
  const nowMs = instant(now, 'now');
  if (parsed.kind !== 'cron' || options.catchup) {
    for (const interval of scheduledIntervals(parsed, options, last)) return interval;
    return null;
  }
  const tickAfter = ticker(parsed, options.timezone);
  const floor = lowerBound(options, last);
  const [current] = lastTicks(tickAfter, floor, nowMs, 1);
  const start = current ?? tickAfter(floor);
  const end = tickAfter(start);
  return end <= upperBound(options) ? scheduledInterval(start, end) : null;
}

/** A DAG's next-run figures (`nextDagrunLogicalDate`, `nextDagrunCreateAfter`); both null when no run will come. */
export type NextDagrun = { logicalDate: Date | null; createAfter: Date | null };

/**
 * The DAG's next run as registering a (changed) schedule sets it, before any scheduler pass: the DAG view shows it
 * from the registration on, paused DAGs included (the scheduler passes over those). `createAfter` is when the
 * scheduler first looks at the DAG: the end of the first interval after the latest scheduled run, the earliest
 * instant any run can be due, whatever the catchup (in the past: due at the next pass). `logicalDate` is the run the
 * scheduler creates next seen from `now`: with catchup that first interval; without, the latest interval that has
 * ended by `now` when there is one, else the one running at `now` (null once the schedule is over: the pass at
 * `createAfter` then stores null for both). The first scheduler pass, at `createAfter` or later, recomputes both from
 * its own clock; with catchup, or while no interval has ended, they are already what it stores.
 */
export function registeredNextDagrun(schedule: string | null, options: DueOptions, lastLogicalDate: Date | null, now: Date): NextDagrun {
  const parsed = parseSchedule(schedule);
  const first = nextDueInterval(schedule, { ...options, catchup: true }, lastLogicalDate, now);
  if (!first) return { logicalDate: null, createAfter: null };
  if (parsed.kind !== 'cron' || options.catchup || first.runAfter.getTime() > instant(now, 'now')) {
    return { logicalDate: first.logicalDate, createAfter: first.runAfter };
  }
  const [due] = dueIntervals(schedule, options, lastLogicalDate, now, 1);
  const next = due ?? nextDueInterval(schedule, options, lastLogicalDate, now);
  return { logicalDate: next?.logicalDate ?? null, createAfter: first.runAfter };
}

/**
 * The latest interval that has ended by `now` (its two ticks are the last two at or before `now`), when it starts
 * after the lower bound and ends by `endDate`. Ticks do not depend on where a search starts, so the search looks
 * back from `now` instead of walking forward from a start date that may be years old.
 */
function latestCompleteInterval(
  schedule: CronSchedule,
  window: ScheduleWindow,
  last: number | null,
  now: number,
): RunInterval | null {
  const ticks = lastTicks(ticker(schedule, window.timezone), lowerBound(window, last), now, 2);
  if (ticks.length < 2) return null;
  const [previous, latest] = ticks as [number, number];
  return latest <= upperBound(window) ? scheduledInterval(previous, latest) : null;
}

/** Interval starts must be at or after startDate and after the latest scheduled run: ticks strictly above this. */
function lowerBound(window: ScheduleWindow, last: number | null): number {
  return Math.max(instant(window.startDate, 'startDate') - 1, last ?? Number.NEGATIVE_INFINITY);
}

/** No interval ends after endDate. */
function upperBound(window: ScheduleWindow): number {
  return window.endDate ? instant(window.endDate, 'endDate') : Number.POSITIVE_INFINITY;
}

/** The last `count` ticks in (floor, ceiling], oldest first (fewer when the range holds fewer). */
function lastTicks(tickAfter: TickAfter, floor: number, ceiling: number, count: number): number[] {
  for (let lookback = INITIAL_LOOKBACK_MS; ; lookback *= 4) {
    const from = Math.max(floor, ceiling - lookback);
    const found: number[] = [];
    for (let tick = tickAfter(from); tick <= ceiling; tick = tickAfter(tick)) {
      found.push(tick);
      if (found.length > count) found.shift();
    }
    if (found.length === count || from === floor) return found;
  }
}
