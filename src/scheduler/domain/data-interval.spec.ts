import { describe, expect, it } from '@jest/globals';
import { manualInterval, scheduledInterval } from './data-interval.js';

describe('scheduledInterval', () => {
  it('is logical at the start and due at the end', () => {
    expect(scheduledInterval(Date.parse('2024-01-15T06:00Z'), Date.parse('2024-01-16T06:00Z'))).toEqual({
      logicalDate: new Date('2024-01-15T06:00Z'),
      dataIntervalStart: new Date('2024-01-15T06:00Z'),
      dataIntervalEnd: new Date('2024-01-16T06:00Z'),
      runAfter: new Date('2024-01-16T06:00Z'),
    });
  });
});

describe('manualInterval', () => {
  it('covers the empty interval at its logical date', () => {
    const logicalDate = new Date('2024-01-15T10:17Z');
    const interval = manualInterval(logicalDate);
    expect(interval).toEqual({
      logicalDate: new Date('2024-01-15T10:17Z'),
      dataIntervalStart: new Date('2024-01-15T10:17Z'),
      dataIntervalEnd: new Date('2024-01-15T10:17Z'),
      runAfter: new Date('2024-01-15T10:17Z'),
    });
    expect(interval.logicalDate).not.toBe(logicalDate);
  });
});
