export interface RetryPolicy {
  /** The attempt that just failed, 1-based. */
  readonly tryNumber: number;
  readonly retryDelaySec: number;
  readonly retryExponentialBackoff: boolean;
  /** Upper bound on the delay; null or undefined means only RETRY_DELAY_CEILING_SEC applies. */
  readonly maxRetryDelaySec?: number | null;
}

/** Keeps an uncapped exponential backoff from overflowing a Date; no real policy waits a year. */
export const RETRY_DELAY_CEILING_SEC = 365 * 24 * 60 * 60;

/**
 * Attempt `tryNumber` (1-based) may be retried while it is within the `retries` allowed after the first attempt,
 * so a task with retries = 2 runs at most 3 times.
 */
export function shouldRetry(tryNumber: number, retries: number): boolean {
  assertWhole('tryNumber', tryNumber, 1);
  assertWhole('retries', retries, 0);
  return tryNumber <= retries;
}

/** The delay before the next attempt, in seconds: see nextRetryAt. */
export function retryDelaySec(policy: RetryPolicy): number {
  const { tryNumber, retryDelaySec: base, retryExponentialBackoff, maxRetryDelaySec } = policy;
  assertWhole('tryNumber', tryNumber, 1);
  assertNonNegative('retryDelaySec', base);
  if (maxRetryDelaySec != null) assertNonNegative('maxRetryDelaySec', maxRetryDelaySec);
  const delay = retryExponentialBackoff ? base * 2 ** (tryNumber - 1) : base;
  return Math.min(delay, maxRetryDelaySec ?? Infinity, RETRY_DELAY_CEILING_SEC);
}

/**
 * When the next attempt may be queued: linear waits retryDelaySec after every failure; exponential waits
 * retryDelaySec × 2^(tryNumber − 1), capped at maxRetryDelaySec. Deliberately without jitter, unlike Airflow's
 * hash-based spread: the same inputs always give the same instant, and lease claiming already serialises a burst
 * of due retries through pools and queues.
 */
export function nextRetryAt(policy: RetryPolicy, failedAt: Date): Date {
  return new Date(failedAt.getTime() + retryDelaySec(policy) * 1000);
}

function assertWhole(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

function assertNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
}
