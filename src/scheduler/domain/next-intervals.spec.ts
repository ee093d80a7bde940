import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../common/errors.js';
import type { RunInterval } from './data-interval.js';
import { nextIntervals } from './next-intervals.js';

const d = (iso: string): Date => new Date(iso);
const iso = (date: Date): string => date.toISOString().replace(':00.000Z', 'Z');
/** [logical date (= interval start), interval end (= run after)] */
const pairs = (intervals: RunInterval[]): [string, string][] =>
  intervals.map((i) => {
    expect(i.logicalDate).toEqual(i.dataIntervalStart);
    expect(i.runAfter).toEqual(i.dataIntervalEnd);
    return [iso(i.dataIntervalStart), iso(i.dataIntervalEnd)];
  });

describe('nextIntervals', () => {
  it('worked example: 0 6 * * * from 2024-01-15T06:00Z', () => {
    expect(nextIntervals('0 6 * * *', { timezone: 'UTC', startDate: d('2024-01-15T06:00Z') }, null, 2)).toEqual([
      {
        logicalDate: d('2024-01-15T06:00Z'),
        dataIntervalStart: d('2024-01-15T06:00Z'),
        dataIntervalEnd: d('2024-01-16T06:00Z'),
        runAfter: d('2024-01-16T06:00Z'),
      },
      {
        logicalDate: d('2024-01-16T06:00Z'),
        dataIntervalStart: d('2024-01-16T06:00Z'),
        dataIntervalEnd: d('2024-01-17T06:00Z'),
        runAfter: d('2024-01-17T06:00Z'),
      },
    ]);
  });

  it.each<[string, string, string, string | null, number, [string, string][]]>([
    ['@hourly', 'UTC', '2024-01-15T10:20Z', null, 3, [
      ['2024-01-15T11:00Z', '2024-01-15T12:00Z'],
      ['2024-01-15T12:00Z', '2024-01-15T13:00Z'],
      ['2024-01-15T13:00Z', '2024-01-15T14:00Z'],
    ]],
    // startDate not on a tick: the first interval starts at the next tick.
    ['0 6 * * *', 'UTC', '2024-01-15T06:00:01Z', null, 1, [['2024-01-16T06:00Z', '2024-01-17T06:00Z']]],
    ['@daily', 'America/New_York', '2024-01-15T00:00Z', null, 2, [
      ['2024-01-15T05:00Z', '2024-01-16T05:00Z'],
      ['2024-01-16T05:00Z', '2024-01-17T05:00Z'],
    ]],
    ['0 6 * * *', 'Asia/Kolkata', '2024-01-15T00:00Z', null, 2, [
      ['2024-01-15T00:30Z', '2024-01-16T00:30Z'],
      ['2024-01-16T00:30Z', '2024-01-17T00:30Z'],
    ]],
    ['@weekly', 'UTC', '2024-01-03T00:00Z', null, 2, [
      ['2024-01-07T00:00Z', '2024-01-14T00:00Z'],
      ['2024-01-14T00:00Z', '2024-01-21T00:00Z'],
    ]],
    // Berlin midnight is 23:00Z in winter and 22:00Z in summer.
    ['@monthly', 'Europe/Berlin', '2024-01-15T00:00Z', null, 3, [
      ['2024-01-31T23:00Z', '2024-02-29T23:00Z'],
      ['2024-02-29T23:00Z', '2024-03-31T22:00Z'],
      ['2024-03-31T22:00Z', '2024-04-30T22:00Z'],
    ]],
    // Local midnight in Berlin is the previous UTC day: logical date 2024-01-14T23:00Z for local 2024-01-15.
    ['@daily', 'Europe/Berlin', '2024-01-14T00:00Z', null, 1, [['2024-01-14T23:00Z', '2024-01-15T23:00Z']]],
    ['@yearly', 'Asia/Kolkata', '2024-06-01T00:00Z', null, 1, [['2024-12-31T18:30Z', '2025-12-31T18:30Z']]],
    // `after` is exclusive: the interval starting at it is not repeated.
    ['0 6 * * *', 'UTC', '2024-01-01T00:00Z', '2024-01-15T06:00Z', 1, [['2024-01-16T06:00Z', '2024-01-17T06:00Z']]],
    // `after` off the grid (e.g. a schedule change): the next tick after it.
    ['0 6 * * *', 'UTC', '2024-01-01T00:00Z', '2024-01-15T09:00Z', 1, [['2024-01-16T06:00Z', '2024-01-17T06:00Z']]],
    // `after` before startDate: startDate still wins.
    ['0 6 * * *', 'UTC', '2024-01-15T00:00Z', '2023-06-01T06:00Z', 1, [['2024-01-15T06:00Z', '2024-01-16T06:00Z']]],
    // DST: 02:30 New York does not exist on 2024-03-10 and is replaced by 03:00 EDT (07:00Z).
    ['30 2 * * *', 'America/New_York', '2024-03-09T00:00Z', null, 3, [
      ['2024-03-09T07:30Z', '2024-03-10T07:00Z'],
      ['2024-03-10T07:00Z', '2024-03-11T06:30Z'],
      ['2024-03-11T06:30Z', '2024-03-12T06:30Z'],
    ]],
    // DST: 01:30 New York happens twice on 2024-11-03 and runs at the first, 01:30 EDT (05:30Z).
    ['30 1 * * *', 'America/New_York', '2024-11-02T00:00Z', null, 2, [
      ['2024-11-02T05:30Z', '2024-11-03T05:30Z'],
      ['2024-11-03T05:30Z', '2024-11-04T06:30Z'],
    ]],
    ['30 2 * * *', 'Europe/Berlin', '2024-03-30T00:00Z', null, 2, [
      ['2024-03-30T01:30Z', '2024-03-31T01:00Z'],
      ['2024-03-31T01:00Z', '2024-04-01T00:30Z'],
    ]],
    ['30 2 * * *', 'Europe/Berlin', '2024-10-26T00:00Z', null, 2, [
      ['2024-10-26T00:30Z', '2024-10-27T00:30Z'],
      ['2024-10-27T00:30Z', '2024-10-28T01:30Z'],
    ]],
    // Hourly across the fall-back hour in Berlin: four one-hour intervals, two of them at wall time 02:xx.
    ['@hourly', 'Europe/Berlin', '2024-10-26T23:30Z', null, 4, [
      ['2024-10-27T00:00Z', '2024-10-27T01:00Z'],
      ['2024-10-27T01:00Z', '2024-10-27T02:00Z'],
      ['2024-10-27T02:00Z', '2024-10-27T03:00Z'],
      ['2024-10-27T03:00Z', '2024-10-27T04:00Z'],
    ]],
  ])('%s in %s from %s after %s (%i)', (schedule, timezone, startDate, after, count, expected) => {
    const window = { timezone, startDate: d(startDate) };
    expect(pairs(nextIntervals(schedule, window, after === null ? null : d(after), count))).toEqual(expected);
  });

  describe('endDate', () => {
    const window = { timezone: 'UTC', startDate: d('2024-01-15T00:00Z') };

    it('keeps an interval ending exactly at endDate', () => {
      expect(pairs(nextIntervals('0 6 * * *', { ...window, endDate: d('2024-01-18T06:00Z') }, null, 10))).toEqual([
        ['2024-01-15T06:00Z', '2024-01-16T06:00Z'],
        ['2024-01-16T06:00Z', '2024-01-17T06:00Z'],
        ['2024-01-17T06:00Z', '2024-01-18T06:00Z'],
      ]);
    });

    it('drops an interval ending after endDate', () => {
      expect(nextIntervals('0 6 * * *', { ...window, endDate: d('2024-01-18T05:59:59Z') }, null, 10)).toHaveLength(2);
    });

    it('treats a null endDate as none', () => {
      expect(nextIntervals('0 6 * * *', { ...window, endDate: null }, null, 10)).toHaveLength(10);
    });
  });

  describe('@once', () => {
    const window = { timezone: 'Europe/Berlin', startDate: d('2024-05-01T08:00Z') };

    it('is a single run at startDate covering [startDate, startDate]', () => {
      expect(nextIntervals('@once', window, null, 5)).toEqual([
        {
          logicalDate: d('2024-05-01T08:00Z'),
          dataIntervalStart: d('2024-05-01T08:00Z'),
          dataIntervalEnd: d('2024-05-01T08:00Z'),
          runAfter: d('2024-05-01T08:00Z'),
        },
      ]);
    });

    it('has nothing left once a scheduled run exists', () => {
      expect(nextIntervals('@once', window, d('2024-05-01T08:00Z'), 5)).toEqual([]);
    });

    it('has nothing when endDate is before startDate', () => {
      expect(nextIntervals('@once', { ...window, endDate: d('2024-04-30T00:00Z') }, null, 5)).toEqual([]);
    });
  });

  it('has nothing for a manual-only (null) schedule', () => {
    expect(nextIntervals(null, { timezone: 'UTC', startDate: d('2024-01-01T00:00Z') }, null, 5)).toEqual([]);
  });

  it('returns exactly `count` intervals', () => {
    const intervals = nextIntervals('* * * * *', { timezone: 'UTC', startDate: d('2024-01-01T00:00Z') }, null, 1000);
    expect(intervals).toHaveLength(1000);
    expect(iso(intervals[999]?.logicalDate ?? d('1970-01-01T00:00Z'))).toBe('2024-01-01T16:39Z');
    expect(nextIntervals('* * * * *', { timezone: 'UTC', startDate: d('2024-01-01T00:00Z') }, null, 0)).toEqual([]);
  });

  it.each([-1, 1.5, Number.NaN])('rejects count %p', (count) => {
    const window = { timezone: 'UTC', startDate: d('2024-01-01T00:00Z') };
    expect(() => nextIntervals('@daily', window, null, count)).toThrow(RangeError);
  });

  it('rejects an invalid schedule, timezone or date', () => {
    const window = { timezone: 'UTC', startDate: d('2024-01-01T00:00Z') };
    expect(() => nextIntervals('61 * * * *', window, null, 1)).toThrow(ValidationError);
    expect(() => nextIntervals('@daily', { ...window, timezone: 'Mars/Base' }, null, 1)).toThrow(
      "timezone: unknown IANA timezone 'Mars/Base'",
    );
    expect(() => nextIntervals('@daily', { ...window, startDate: d('nope') }, null, 1)).toThrow(
      'startDate is an invalid date',
    );
  });
});

describe('nextIntervals where the clock moves by 30 minutes (Australia/Lord_Howe, docs/scheduling.md)', () => {
  const minutes = (i: RunInterval) => (i.dataIntervalEnd.getTime() - i.dataIntervalStart.getTime()) / 60_000;
  const lordHowe = (startDate: string) => ({ timezone: 'Australia/Lord_Howe', startDate: d(startDate) });

  it.each<[string, string, [string, string][], number[]]>([
    // Fall back 2024-04-07 02:00 LHDT -> 01:30 LHST (15:00Z): 01:00 to 02:00 local lasts 90 minutes.
    ['0 * * * *', '2024-04-06T13:00Z', [['2024-04-06T13:00Z', '2024-04-06T14:00Z'], ['2024-04-06T14:00Z', '2024-04-06T15:30Z'], ['2024-04-06T15:30Z', '2024-04-06T16:30Z']], [60, 90, 60]],
    // The repeated 01:30 runs twice, 30 minutes apart.
    ['30 * * * *', '2024-04-06T13:30Z', [['2024-04-06T13:30Z', '2024-04-06T14:30Z'], ['2024-04-06T14:30Z', '2024-04-06T15:00Z'], ['2024-04-06T15:00Z', '2024-04-06T16:00Z']], [60, 30, 60]],
    // Spring forward 2024-10-06 02:00 LHST -> 02:30 LHDT (15:30Z): 01:00 to 03:00 local lasts 90 minutes.
    ['0 * * * *', '2024-10-05T13:30Z', [['2024-10-05T13:30Z', '2024-10-05T14:30Z'], ['2024-10-05T14:30Z', '2024-10-05T16:00Z'], ['2024-10-05T16:00Z', '2024-10-05T17:00Z']], [60, 90, 60]],
    // 01:30 LHST to 02:30 LHDT lasts 30 minutes.
    ['30 * * * *', '2024-10-05T14:00Z', [['2024-10-05T14:00Z', '2024-10-05T15:00Z'], ['2024-10-05T15:00Z', '2024-10-05T15:30Z'], ['2024-10-05T15:30Z', '2024-10-05T16:30Z']], [60, 30, 60]],
  ])('%s from %s', (schedule, startDate, expected, lengths) => {
    const intervals = nextIntervals(schedule, lordHowe(startDate), null, 3);
    expect(pairs(intervals)).toEqual(expected);
    expect(intervals.map(minutes)).toEqual(lengths);
  });

  it('every other hourly interval of 2024 is one hour long', () => {
    const intervals = nextIntervals('0 * * * *', lordHowe('2024-01-01T00:00Z'), null, 366 * 24);
    const odd = intervals.filter((i) => minutes(i) !== 60).map((i) => [iso(i.dataIntervalStart), minutes(i)]);
    expect(odd).toEqual([
      ['2024-04-06T14:00Z', 90],
      ['2024-10-05T14:30Z', 90],
    ]);
  });
});
