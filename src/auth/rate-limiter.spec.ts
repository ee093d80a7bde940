import { describe, expect, it } from '@jest/globals';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate, and says how long to wait', () => {
    const r = new RateLimiter(2, 3);
    expect([r.take('k', 0), r.take('k', 0), r.take('k', 0)]).toEqual([0, 0, 0]);
    expect(r.take('k', 0)).toBe(1);
    expect(r.take('k', 500)).toBe(0);
    expect(r.take('other', 500)).toBe(0);
  });
  it('is off at rate 0', () => {
    expect(new RateLimiter(0, 0).take('k', 0)).toBe(0);
  });
});
