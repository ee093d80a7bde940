/**
 * Token buckets per key: `ratePerSec` sustained, `burst` at once. In memory, so the limit is per API replica
 * (documented); enough to stop one runaway client from starving the others.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
  ) {}

  /** 0 when the call may proceed, else the seconds to wait before one token is available. */
  take(key: string, nowMs: number): number {
    if (this.ratePerSec <= 0) return 0;
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: nowMs };
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.ratePerSec);
    b.at = nowMs;
    this.buckets.set(key, b);
    if (this.buckets.size > 100_000) this.buckets.clear();
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.ratePerSec);
  }
}
