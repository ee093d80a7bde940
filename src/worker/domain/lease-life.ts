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

/**
 * The attempt's own view of its lease: live until `lifeMs` after the last answer that extended it (the lease, then each
 * accepted heartbeat), on the worker's monotonic clock. Past that, without another accepted heartbeat, the server may
 * have reaped the lease and leased the task again, so the attempt must stop: else it runs on beside its retry (a
 * network partition, an outage longer than the lease). `onExpired` is called once; `onExtended` on every extension.
 */
export class LeaseLife {
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private readonly listeners = new Set<(lifeMs: number) => void>();

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
    this.timer = setTimeout(() => {
      this.ended = true;
      this.onExpired();
    }, lifeMs);
    this.timer.unref();
    for (const listener of this.listeners) listener(lifeMs);
  }

  /** Calls `listener` with the new life on every extension; returns its removal. */
  onExtended(listener: (lifeMs: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }
}
