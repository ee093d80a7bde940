import { describe, expect, it } from '@jest/globals';
import { backoffMs } from './backoff.js';

describe(backoffMs.name, () => {
  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffMs(n, 0.999999))).toEqual([250, 500, 1000, 2000, 2000, 2000]);
  });

  it('waits between half and all of the ceiling', () => {
    expect(backoffMs(3, 0)).toBe(500);
    expect(backoffMs(3, 0.5)).toBe(750);
    expect(backoffMs(20, 0)).toBe(1000);
  });

  it('takes other bases and caps', () => {
    expect(backoffMs(1, 0.999999, 100, 400)).toBe(100);
    expect(backoffMs(4, 0.999999, 100, 400)).toBe(400);
  });
});
