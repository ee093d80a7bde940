import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../common/errors.js';
import { parseSchedule } from './schedule.js';
import { instant, scheduledIntervals, ticker } from './scheduled-intervals.js';

const window = { timezone: 'UTC', startDate: new Date('2024-01-01T00:00Z') };
const take = <T>(items: Iterable<T>, count: number): T[] => {
  const taken: T[] = [];
  for (const item of items) {
    if (taken.length === count) break;
    taken.push(item);
  }
  return taken;
};

describe('scheduledIntervals', () => {
  it('is endless for a cron schedule without endDate and contiguous', () => {
    const intervals = take(scheduledIntervals(parseSchedule('@hourly'), window, null), 48);
    expect(intervals).toHaveLength(48);
    intervals.slice(1).forEach((interval, i) => {
      expect(interval.dataIntervalStart).toEqual(intervals[i]?.dataIntervalEnd);
    });
  });

  it('starts strictly after `after`', () => {
    const [first] = take(scheduledIntervals(parseSchedule('@daily'), window, Date.parse('2024-01-05T00:00Z')), 1);
    expect(first?.logicalDate).toEqual(new Date('2024-01-06T00:00Z'));
  });

  it('yields nothing for a manual-only schedule, and @once only without a previous run', () => {
    expect([...scheduledIntervals(parseSchedule(null), window, null)]).toEqual([]);
    expect([...scheduledIntervals(parseSchedule('@once'), window, null)]).toHaveLength(1);
    expect([...scheduledIntervals(parseSchedule('@once'), window, Date.parse('2023-01-01T00:00Z'))]).toEqual([]);
  });
});

describe('ticker', () => {
  it('rejects an unknown zone with a ValidationError on the timezone path', () => {
    const schedule = parseSchedule('@daily');
    if (schedule.kind !== 'cron') throw new Error('expected a cron schedule');
    expect(() => ticker(schedule, 'Mars/Base')).toThrow(ValidationError);
  });
});

describe('instant', () => {
  it('returns the timestamp of a valid date and rejects an invalid one', () => {
    expect(instant(new Date('2024-01-01T00:00Z'), 'startDate')).toBe(Date.parse('2024-01-01T00:00Z'));
    expect(() => instant(new Date(Number.NaN), 'endDate')).toThrow('endDate is an invalid date');
  });
});
