/**
 * How much longer the server counts a lease as live, measured on the server's own clock and so immune to any skew
 * between the worker's clock and the server's: the lease's `leaseExpiresAt` minus the `Date` header of the same answer.
 * The header has a resolution of one second (truncated), so a second is taken off: the answer errs on the short
 * side. Undefined when either is missing or not a date (a proxy that drops `Date`): the worker cannot tell then.
 */
export function leaseLifeMs(leaseExpiresAt: unknown, dateHeader: string | null | undefined): number | undefined {
  if (typeof leaseExpiresAt !== 'string' || !dateHeader) return undefined;
  const expires = Date.parse(leaseExpiresAt);
  const serverNow = Date.parse(dateHeader);
  if (!Number.isFinite(expires) || !Number.isFinite(serverNow)) return undefined;
  return Math.max(0, expires - serverNow - 1000);
}

/** How much sooner than the lease's end an attempt stops: the reaper may act at the end itself, and a retry start soon after. */
const FENCE_MARGIN_MS = 1000;

/**
 * When, from an answer that says the lease lives `lifeMs` more, the attempt must be stopped should no other answer
 * extend it: a second before the end (half the life, for a lease shorter than two seconds), so that the attempt is
 * gone before the reaper can end the lease and hand the task to another worker, despite the time it takes to stop.
 */
export function fenceDelayMs(lifeMs: number): number {
  return Math.max(lifeMs / 2, lifeMs - FENCE_MARGIN_MS);
}

/**
 * The attempt's own view of its lease: live until `lifeMs` after the last answer that extended it (the lease, then each
 * accepted heartbeat), on the worker's monotonic clock. Near its end (fenceDelayMs), without another accepted heartbeat,
 * the server may be about to reap the lease and lease the task again, so the attempt must stop: else it runs on beside
 * its retry (a network partition, an outage longer than the lease). `onExpired` is called once; `onExtended` listeners
 * on every extension, with the new fence delay (for a watchdog that must act even if this process cannot).
 */
export class LeaseLife {
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private readonly listeners = new Set<(fenceDelayMs: number) => void>();

  constructor(
    lifeMs: number | undefined,
    private readonly onExpired: () => void,
  ) {
    this.extend(lifeMs);
  }

  /** An answer received now says the lease lives `lifeMs` more. */
  extend(lifeMs: number | undefined): void {
    if (this.ended || lifeMs === undefined) return;
    clearTimeout(this.timer);
    const delayMs = fenceDelayMs(lifeMs);
    this.timer = setTimeout(() => {
      this.ended = true;
      this.onExpired();
    }, delayMs);
    this.timer.unref();
    for (const listener of this.listeners) listener(delayMs);
  }

  /** Calls `listener` with the new fence delay on every extension; returns its removal. */
  onExtended(listener: (fenceDelayMs: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }
}
