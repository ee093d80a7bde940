import type { RunInterval } from './data-interval.js';
import { scheduledInterval } from './data-interval.js';
import { parseSchedule, type CronSchedule } from './schedule.js';
import { instant, scheduledIntervals, ticker, type ScheduleWindow } from './scheduled-intervals.js';

export type DueOptions = ScheduleWindow & {
  /** true: every complete interval since the last run, oldest first; false: only the latest complete one. */
  catchup: boolean;
};

/** First look-back when searching for the latest complete interval; grows fourfold until two ticks are found. */
const INITIAL_LOOKBACK_MS = 3600 * 1000;

/**
 * The scheduled runs to create at `now`, oldest first, at most `limit`: intervals whose logical date is strictly
 * after `lastLogicalDate` (the latest scheduled run; null when there is none) and that have ended by `now`.
 * With catchup off only the latest such interval is created, skipping older missed ones.
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
 * The last two ticks at or before min(now, endDate) that both lie after the lower bound give the latest complete
 * interval. Ticks do not depend on where a search starts, so the search looks back from `now` over a widening
 * window instead of walking forward from a start date that may be years old.
 */
function latestCompleteInterval(
  schedule: CronSchedule,
  window: ScheduleWindow,
  last: number | null,
  now: number,
): RunInterval | null {
  const tickAfter = ticker(schedule, window.timezone);
  const floor = Math.max(instant(window.startDate, 'startDate') - 1, last ?? Number.NEGATIVE_INFINITY);
  const ceiling = Math.min(now, window.endDate ? instant(window.endDate, 'endDate') : Number.POSITIVE_INFINITY);
  for (let lookback = INITIAL_LOOKBACK_MS; ; lookback *= 4) {
    const from = Math.max(floor, ceiling - lookback);
    let previous: number | null = null;
    let latest: number | null = null;
    for (let tick = tickAfter(from); tick <= ceiling; tick = tickAfter(tick)) {
      previous = latest;
      latest = tick;
    }
    if (previous !== null && latest !== null) return scheduledInterval(previous, latest);
    if (from === floor) return null;
  }
}
