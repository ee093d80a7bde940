import { describe, expect, it } from '@jest/globals';
import { nextIntervals } from '../../scheduler/domain/next-intervals.js';
import { clipToEnded } from './clip-to-ended.js';

const d = (iso: string) => new Date(iso);
const window = (timezone: string) => ({ timezone, startDate: d('2026-12-01T00:00Z') });
const dates = (intervals: { logicalDate: Date }[]) => intervals.map((i) => i.logicalDate.toISOString());

describe('clipToEnded', () => {
  const days = nextIntervals('@daily', window('UTC'), null, 8); // Dec 1 … Dec 8

  it('keeps every interval that has ended by now and clips the rest, saying how many and which', () => {
    const { ended, clipped } = clipToEnded(days, d('2026-12-06T13:00Z'));
    expect(dates(ended)).toEqual(dates(days.slice(0, 5))); // Dec 1 … Dec 5 (ended at Dec 6 00:00)
    expect(clipped).toEqual({
      intervals: 3,
      cutoff: d('2026-12-06T13:00Z'),
      firstLogicalDate: d('2026-12-06T00:00Z'),
      lastLogicalDate: d('2026-12-08T00:00Z'),
    });
  });

  it('keeps an interval that ends exactly now (a run is due at its end)', () => {
    const { ended, clipped } = clipToEnded(days, d('2026-12-06T00:00Z'));
    expect(ended).toHaveLength(5);
    expect(clipped?.firstLogicalDate).toEqual(d('2026-12-06T00:00Z'));
    expect(clipToEnded(days, d('2026-12-05T23:59:59.999Z')).ended).toHaveLength(4);
  });

  it('clips nothing when every interval has ended, and everything when none has', () => {
    expect(clipToEnded(days, d('2026-12-09T00:00Z'))).toEqual({ ended: days, clipped: null });
    expect(clipToEnded(days, d('2026-12-01T12:00Z'))).toMatchObject({ ended: [], clipped: { intervals: 8 } });
    expect(clipToEnded([], d('2026-12-01T12:00Z'))).toEqual({ ended: [], clipped: null });
  });

  it('cuts at the interval end in the DAG’s zone, not at a UTC day (hourly in Lord Howe as the clock falls back)', () => {
    const hours = nextIntervals('@hourly', { timezone: 'Australia/Lord_Howe', startDate: d('2024-04-06T13:00Z') }, null, 4);
    // [13:00Z, 14:00Z), [14:00Z, 15:30Z) — 01:00 to 02:00 local lasts 90 minutes — [15:30Z, 16:30Z), …
    const { ended, clipped } = clipToEnded(hours, d('2024-04-06T15:00Z'));
    expect(dates(ended)).toEqual(['2024-04-06T13:00:00.000Z']);
    expect(clipped).toMatchObject({ intervals: 3, firstLogicalDate: d('2024-04-06T14:00Z') });
  });
});
