import { describe, expect, it } from '@jest/globals';
import { intervalsBetween } from './intervals-between.js';

const iso = (xs: { logicalDate: Date }[]) => xs.map((x) => x.logicalDate.toISOString());

describe('intervalsBetween', () => {
  it('lists the intervals whose logical date is in the closed range', () => {
    expect(iso(intervalsBetween('@daily', 'UTC', new Date('2024-01-01T00:00:00Z'), new Date('2024-01-03T00:00:00Z'), 100))).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-01-02T00:00:00.000Z',
      '2024-01-03T00:00:00.000Z',
    ]);
  });

  it('starts at the first tick at or after the range start, in the DAG timezone', () => {
    expect(iso(intervalsBetween('0 6 * * *', 'Europe/Berlin', new Date('2024-01-01T12:00:00Z'), new Date('2024-01-03T12:00:00Z'), 100))).toEqual([
      '2024-01-02T05:00:00.000Z',
      '2024-01-03T05:00:00.000Z',
    ]);
  });

  it('stops one past the maximum so callers can refuse a range that is too large', () => {
    expect(intervalsBetween('@hourly', 'UTC', new Date('2024-01-01T00:00:00Z'), new Date('2024-12-31T00:00:00Z'), 10)).toHaveLength(11);
  });
});
