import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { fenceDelayMs, LeaseLife, leaseLifeMs } from './lease-life.js';

describe(leaseLifeMs.name, () => {
  it("measures on the server's clock: the expiry minus the answer's Date, less the header's one-second resolution", () => {
    expect(leaseLifeMs('2030-01-01T00:01:00.500Z', 'Tue, 01 Jan 2030 00:00:00 GMT')).toBe(59_500);
  });

  it("ignores the worker's own clock, however far off it is", () => {
    jest.useFakeTimers({ now: new Date('2099-06-01T00:00:00Z') });
    try {
      expect(leaseLifeMs('2030-01-01T00:00:30.000Z', 'Tue, 01 Jan 2030 00:00:00 GMT')).toBe(29_000);
    } finally {
      jest.useRealTimers();
    }
  });

  it('is never negative, and unknown without a Date or an expiry', () => {
    expect(leaseLifeMs('2030-01-01T00:00:00.000Z', 'Tue, 01 Jan 2030 00:00:05 GMT')).toBe(0);
    expect(leaseLifeMs('2030-01-01T00:00:00.000Z', null)).toBeUndefined();
    expect(leaseLifeMs(undefined, 'Tue, 01 Jan 2030 00:00:05 GMT')).toBeUndefined();
    expect(leaseLifeMs('soon', 'Tue, 01 Jan 2030 00:00:05 GMT')).toBeUndefined();
    expect(leaseLifeMs('2030-01-01T00:00:00.000Z', 'garbage')).toBeUndefined();
  });
});

describe(fenceDelayMs.name, () => {
  it('stops a second before the lease ends, or at half its life when that is shorter than two seconds', () => {
    expect(fenceDelayMs(60_000)).toBe(59_000);
    expect(fenceDelayMs(2_000)).toBe(1_000);
    expect(fenceDelayMs(1_000)).toBe(500);
    expect(fenceDelayMs(0)).toBe(0);
  });
});

describe(LeaseLife.name, () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('expires a second before its life passes without an extension', () => {
    const expired = jest.fn();
    new LeaseLife(10_000, expired);
    jest.advanceTimersByTime(8_999);
    expect(expired).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(60_000);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('lives on from each extension, and tells its listeners the new fence delay', () => {
    const expired = jest.fn();
    const life = new LeaseLife(10_000, expired);
    const heard: number[] = [];
    life.onExtended((ms) => heard.push(ms));
    jest.advanceTimersByTime(8_000);
    life.extend(10_000);
    jest.advanceTimersByTime(8_000);
    life.extend(undefined); // an answer without a Date changes nothing
    jest.advanceTimersByTime(999);
    expect(expired).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(heard).toEqual([9_000]);
  });

  it('never expires when the server did not tell, nor once stopped', () => {
    const expired = jest.fn();
    new LeaseLife(undefined, expired);
    const stopped = new LeaseLife(1_000, expired);
    stopped.stop();
    jest.advanceTimersByTime(60_000);
    expect(expired).not.toHaveBeenCalled();
  });
});
