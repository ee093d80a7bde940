import type { RunInterval } from '../../scheduler/domain/data-interval.js';

/** The intervals of a backfill's range that were left out because they had not ended when it was requested. */
export type BackfillClipping = {
  /** How many intervals were left out. */
  intervals: number;
  /** The time of the request: the backfill covers the intervals that ended at or before it. */
  cutoff: Date;
  /** Logical dates of the first and the last interval left out. */
  firstLogicalDate: Date;
  lastLogicalDate: Date;
};

/**
 * Splits a backfill range's intervals (oldest first) at `now`: a run is due only once its interval has ended
 * (docs/scheduling.md), so a backfill covers the intervals whose end is at or before `now` — the scheduler's own
 * `runAfter <= now` — and clips the rest (Airflow 3's backfill likewise keeps only `data_interval.end < now`).
 * Interval ends grow with logical dates, so the clipped ones are a tail.
 */
export function clipToEnded(intervals: readonly RunInterval[], now: Date): { ended: RunInterval[]; clipped: BackfillClipping | null } {
  const cut = intervals.findIndex((interval) => interval.runAfter.getTime() > now.getTime());
  if (cut === -1) return { ended: [...intervals], clipped: null };
  const left = intervals.slice(cut);
  return {
    ended: intervals.slice(0, cut),
    clipped: { intervals: left.length, cutoff: now, firstLogicalDate: left[0]!.logicalDate, lastLogicalDate: left.at(-1)!.logicalDate },
  };
}
