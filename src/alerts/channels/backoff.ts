/** Attempts per delivery, the first included; with the delays below the last one happens about 2 hours after the first. */
export const MAX_DELIVERY_ATTEMPTS = 8;

const FIRST_DELAY_MS = 10_000;
const FACTOR = 3;
const MAX_DELAY_MS = 3_600_000;

/**
 * When to try a delivery again after `attempts` failed attempts: 10 s, 30 s, 90 s, 4.5 min, 13.5 min, 40.5 min, then
 * every hour. No jitter: alerts are few, and a deterministic schedule is easy to test and to explain. `attempts` 0
 * means "never tried": due now. The caller stops at MAX_DELIVERY_ATTEMPTS or at a non-retryable failure.
 */
export function nextDeliveryAttemptAt(attempts: number, now: Date): Date {
  if (!Number.isInteger(attempts) || attempts < 0) throw new RangeError(`attempts must be a non-negative integer, got ${attempts}`);
  if (attempts === 0) return new Date(now.getTime());
  const delay = Math.min(FIRST_DELAY_MS * FACTOR ** (attempts - 1), MAX_DELAY_MS);
  return new Date(now.getTime() + delay);
}
