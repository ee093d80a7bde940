import { describe, expect, it } from '@jest/globals';
import { MAX_DELIVERY_ATTEMPTS, nextDeliveryAttemptAt } from './backoff.js';

describe(nextDeliveryAttemptAt.name, () => {
  const now = new Date('2024-01-16T01:00:00.000Z');
  const delaySec = (attempts: number) => (nextDeliveryAttemptAt(attempts, now).getTime() - now.getTime()) / 1000;

  it('waits 10 s, then three times longer after each failure, capped at an hour', () => {
    expect(Array.from({ length: 10 }, (_, i) => delaySec(i + 1))).toEqual([10, 30, 90, 270, 810, 2430, 3600, 3600, 3600, 3600]);
    expect(delaySec(1000)).toBe(3600);
  });

  it('is due at once before the first attempt, and depends only on its arguments', () => {
    expect(nextDeliveryAttemptAt(0, now)).toEqual(now);
    expect(nextDeliveryAttemptAt(3, now)).toEqual(nextDeliveryAttemptAt(3, new Date(now)));
  });

  it('refuses a negative or fractional attempt count', () => {
    expect(() => nextDeliveryAttemptAt(-1, now)).toThrow(RangeError);
    expect(() => nextDeliveryAttemptAt(1.5, now)).toThrow(RangeError);
  });

  it('gives up after 8 attempts, about two hours after the first', () => {
    expect(MAX_DELIVERY_ATTEMPTS).toBe(8);
    const total = Array.from({ length: MAX_DELIVERY_ATTEMPTS - 1 }, (_, i) => delaySec(i + 1)).reduce((a, b) => a + b, 0);
    expect(total / 3600).toBeCloseTo(2.01, 1);
  });
});
