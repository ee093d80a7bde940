import { describe, expect, it } from '@jest/globals';
import type { RunInterval } from './data-interval.js';
import { dueIntervals, type DueOptions } from './due-intervals.js';
import { nextIntervals } from './next-intervals.js';

const d = (iso: string): Date => new Date(iso);
const iso = (date: Date): string => date.toISOString().replace(':00.000Z', 'Z');
const starts = (intervals: RunInterval[]): string[] => intervals.map((i) => iso(i.logicalDate));

const daily = (catchup: boolean, extra: Partial<DueOptions> = {}): DueOptions => ({
  timezone: 'UTC',
  startDate: d('2024-01-01T00:00Z'),
  catchup,
  ...extra,
});

describe('dueIntervals', () => {
  describe.each([true, false])('catchup %p', (catchup) => {
    it.each<[string, string | null, string, string[], string[]]>([
      // [case, lastLogicalDate, now, with catchup, without catchup]
      ['nothing has ended yet', null, '2024-01-02T05:59:59Z', [], []],
      ['an interval ends exactly now', null, '2024-01-02T06:00Z', ['2024-01-01T06:00Z'], ['2024-01-01T06:00Z']],
      ['after downtime, no run yet', null, '2024-01-04T07:00Z',
        ['2024-01-01T06:00Z', '2024-01-02T06:00Z', '2024-01-03T06:00Z'], ['2024-01-03T06:00Z']],
      ['after downtime, one run done', '2024-01-01T06:00Z', '2024-01-04T07:00Z',
        ['2024-01-02T06:00Z', '2024-01-03T06:00Z'], ['2024-01-03T06:00Z']],
      ['up to date', '2024-01-03T06:00Z', '2024-01-04T07:00Z', [], []],
      ['last run is newer than every complete interval', '2024-01-05T06:00Z', '2024-01-04T07:00Z', [], []],
    ])('%s', (_case, last, now, withCatchup, withoutCatchup) => {
      const due = dueIntervals('0 6 * * *', daily(catchup), last === null ? null : d(last), d(now), 10);
      expect(starts(due)).toEqual(catchup ? withCatchup : withoutCatchup);
    });

    it('stops at endDate', () => {
      const options = daily(catchup, { endDate: d('2024-01-03T06:00Z') });
      const due = dueIntervals('0 6 * * *', options, null, d('2024-02-01T00:00Z'), 10);
      expect(starts(due)).toEqual(catchup ? ['2024-01-01T06:00Z', '2024-01-02T06:00Z'] : ['2024-01-02T06:00Z']);
    });

    it('returns nothing for a manual-only (null) schedule', () => {
      expect(dueIntervals(null, daily(catchup), null, d('2024-02-01T00:00Z'), 10)).toEqual([]);
    });

    it('returns nothing when the limit is 0', () => {
      expect(dueIntervals('0 6 * * *', daily(catchup), null, d('2024-02-01T00:00Z'), 0)).toEqual([]);
    });

    describe('@once', () => {
      const options = daily(catchup, { startDate: d('2024-05-01T08:00Z') });

      it('is due from startDate on', () => {
        expect(dueIntervals('@once', options, null, d('2024-05-01T07:59:59Z'), 10)).toEqual([]);
        expect(dueIntervals('@once', options, null, d('2024-05-01T08:00Z'), 10)).toEqual([
          {
            logicalDate: d('2024-05-01T08:00Z'),
            dataIntervalStart: d('2024-05-01T08:00Z'),
            dataIntervalEnd: d('2024-05-01T08:00Z'),
            runAfter: d('2024-05-01T08:00Z'),
          },
        ]);
      });

      it('runs only when there is no previous scheduled run', () => {
        expect(dueIntervals('@once', options, d('2024-05-01T08:00Z'), d('2025-01-01T00:00Z'), 10)).toEqual([]);
      });
    });
  });

  it('catchup returns the oldest `limit` missed intervals first', () => {
    const due = dueIntervals('0 6 * * *', daily(true), null, d('2024-03-01T00:00Z'), 3);
    expect(starts(due)).toEqual(['2024-01-01T06:00Z', '2024-01-02T06:00Z', '2024-01-03T06:00Z']);
  });

  it('catchup across the New York spring-forward creates one run per day', () => {
    const options = { timezone: 'America/New_York', startDate: d('2024-03-08T00:00Z'), catchup: true };
    const due = dueIntervals('30 2 * * *', options, null, d('2024-03-12T12:00Z'), 10);
    expect(due.map((i) => [iso(i.dataIntervalStart), iso(i.dataIntervalEnd)])).toEqual([
      ['2024-03-08T07:30Z', '2024-03-09T07:30Z'],
      ['2024-03-09T07:30Z', '2024-03-10T07:00Z'],
      ['2024-03-10T07:00Z', '2024-03-11T06:30Z'],
      ['2024-03-11T06:30Z', '2024-03-12T06:30Z'],
    ]);
  });

  it('catchup across the Berlin fall-back creates each hourly run once', () => {
    const options = { timezone: 'Europe/Berlin', startDate: d('2024-10-26T23:00Z'), catchup: true };
    const due = dueIntervals('@hourly', options, null, d('2024-10-27T03:00Z'), 10);
    expect(starts(due)).toEqual(['2024-10-26T23:00Z', '2024-10-27T00:00Z', '2024-10-27T01:00Z', '2024-10-27T02:00Z']);
  });

  it('without catchup, finds the latest interval of a minute schedule started years ago', () => {
    const options = { timezone: 'Europe/Berlin', startDate: d('2015-01-01T00:00Z'), catchup: false };
    const due = dueIntervals('* * * * *', options, null, d('2024-06-01T12:34:56Z'), 10);
    expect(due.map((i) => [iso(i.dataIntervalStart), iso(i.dataIntervalEnd)])).toEqual([
      ['2024-06-01T12:33Z', '2024-06-01T12:34Z'],
    ]);
  });

  it('without catchup, finds the latest interval of a yearly schedule', () => {
    const options = { timezone: 'UTC', startDate: d('2000-01-01T00:00Z'), catchup: false };
    const due = dueIntervals('@yearly', options, d('2019-01-01T00:00Z'), d('2024-06-01T00:00Z'), 10);
    expect(due.map((i) => [iso(i.dataIntervalStart), iso(i.dataIntervalEnd)])).toEqual([
      ['2023-01-01T00:00Z', '2024-01-01T00:00Z'],
    ]);
  });

  it('without catchup, needs two ticks after startDate', () => {
    const options = { timezone: 'UTC', startDate: d('2024-01-01T06:00:01Z'), catchup: false };
    expect(dueIntervals('0 6 * * *', options, null, d('2024-01-03T05:00Z'), 10)).toEqual([]);
    expect(starts(dueIntervals('0 6 * * *', options, null, d('2024-01-03T06:00Z'), 10))).toEqual(['2024-01-02T06:00Z']);
  });

  it.each([
    ['30 2 * * *', 'America/New_York', '2024-03-01T00:00Z', '2024-03-20T00:00Z'],
    ['30 1 * * *', 'America/New_York', '2024-10-25T00:00Z', '2024-11-10T00:00Z'],
    ['*/20 * * * *', 'Europe/Berlin', '2024-10-26T20:00Z', '2024-10-27T06:00Z'],
    ['@once', 'UTC', '2024-03-01T00:00Z', '2024-03-20T00:00Z'],
  ])('with catchup, creates exactly what the preview shows (%s in %s)', (schedule, timezone, startDate, now) => {
    const window = { timezone, startDate: d(startDate) };
    const preview = nextIntervals(schedule, window, null, 500).filter((i) => i.runAfter <= d(now));
    expect(dueIntervals(schedule, { ...window, catchup: true }, null, d(now), 500)).toEqual(preview);
    expect(dueIntervals(schedule, { ...window, catchup: false }, null, d(now), 500)).toEqual(preview.slice(-1));
  });

  it.each([-1, 0.5])('rejects limit %p', (limit) => {
    expect(() => dueIntervals('@daily', daily(true), null, d('2024-02-01T00:00Z'), limit)).toThrow(RangeError);
  });
});
