import { describe, expect, it } from '@jest/globals';
import { nextRetryAt, RETRY_DELAY_CEILING_SEC, retryDelaySec, type RetryPolicy, shouldRetry } from './retry.js';

const FAILED_AT = new Date('2024-01-15T06:00:00.000Z');

const DELAYS: [Omit<RetryPolicy, 'tryNumber'>, number, number, string][] = [
  [{ retryDelaySec: 300, retryExponentialBackoff: false }, 1, 300, '2024-01-15T06:05:00.000Z'],
  [{ retryDelaySec: 300, retryExponentialBackoff: false }, 4, 300, '2024-01-15T06:05:00.000Z'],
  [{ retryDelaySec: 300, retryExponentialBackoff: false, maxRetryDelaySec: 60 }, 1, 60, '2024-01-15T06:01:00.000Z'],
  [{ retryDelaySec: 300, retryExponentialBackoff: true }, 1, 300, '2024-01-15T06:05:00.000Z'],
  [{ retryDelaySec: 300, retryExponentialBackoff: true }, 2, 600, '2024-01-15T06:10:00.000Z'],
  [{ retryDelaySec: 300, retryExponentialBackoff: true }, 3, 1200, '2024-01-15T06:20:00.000Z'],
  [{ retryDelaySec: 300, retryExponentialBackoff: true, maxRetryDelaySec: 3600 }, 4, 2400, '2024-01-15T06:40:00.000Z'],
  [{ retryDelaySec: 300, retryExponentialBackoff: true, maxRetryDelaySec: 3600 }, 5, 3600, '2024-01-15T07:00:00.000Z'],
  [{ retryDelaySec: 300, retryExponentialBackoff: true, maxRetryDelaySec: null }, 5, 4800, '2024-01-15T07:20:00.000Z'],
  [{ retryDelaySec: 1.5, retryExponentialBackoff: true }, 3, 6, '2024-01-15T06:00:06.000Z'],
  [{ retryDelaySec: 0.25, retryExponentialBackoff: false }, 1, 0.25, '2024-01-15T06:00:00.250Z'],
  [{ retryDelaySec: 0, retryExponentialBackoff: true }, 7, 0, '2024-01-15T06:00:00.000Z'],
  [{ retryDelaySec: 300, retryExponentialBackoff: true }, 2000, RETRY_DELAY_CEILING_SEC, '2025-01-14T06:00:00.000Z'],
];

describe('nextRetryAt', () => {
  it.each(DELAYS)('%o, try %i → %d s → %s', (policy, tryNumber, delay, at) => {
    expect(retryDelaySec({ ...policy, tryNumber })).toBe(delay);
    expect(nextRetryAt({ ...policy, tryNumber }, FAILED_AT).toISOString()).toBe(at);
  });

  it('does not change the failure time it was given', () => {
    const failedAt = new Date(FAILED_AT);
    nextRetryAt({ tryNumber: 1, retryDelaySec: 60, retryExponentialBackoff: false }, failedAt);
    expect(failedAt).toEqual(FAILED_AT);
  });

  it.each([
    [{ tryNumber: 0, retryDelaySec: 60, retryExponentialBackoff: false }],
    [{ tryNumber: 1.5, retryDelaySec: 60, retryExponentialBackoff: false }],
    [{ tryNumber: 1, retryDelaySec: -1, retryExponentialBackoff: false }],
    [{ tryNumber: 1, retryDelaySec: Number.NaN, retryExponentialBackoff: true }],
    [{ tryNumber: 1, retryDelaySec: 60, retryExponentialBackoff: true, maxRetryDelaySec: -5 }],
  ])('rejects %o', (policy: RetryPolicy) => {
    expect(() => nextRetryAt(policy, FAILED_AT)).toThrow(RangeError);
  });
});

describe('shouldRetry', () => {
  it.each([
    [1, 0, false],
    [1, 1, true],
    [2, 1, false],
    [1, 3, true],
    [3, 3, true],
    [4, 3, false],
  ])('attempt %i with retries %i → %s', (tryNumber, retries, expected) => {
    expect(shouldRetry(tryNumber, retries)).toBe(expected);
  });

  it.each([
    [0, 1],
    [2.5, 3],
    [1, -1],
    [1, 0.5],
  ])('rejects attempt %d with retries %d', (tryNumber, retries) => {
    expect(() => shouldRetry(tryNumber, retries)).toThrow(RangeError);
  });
});
