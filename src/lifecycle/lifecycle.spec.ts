import { describe, expect, it } from '@jest/globals';
import { Lifecycle } from './lifecycle.js';

describe(Lifecycle.name, () => {
  it('aborts its drain signal once', () => {
    const sut = new Lifecycle();
    let aborts = 0;
    sut.drainSignal.addEventListener('abort', () => aborts++);
    expect(sut.draining).toBe(false);
    sut.beginDrain();
    sut.beginDrain();
    expect(sut.draining).toBe(true);
    expect(aborts).toBe(1);
  });

  it('resolves whenIdle after the last request in flight ends, counting each end once', async () => {
    const sut = new Lifecycle();
    const a = sut.requestStarted();
    const b = sut.requestStarted();
    let idle = false;
    const waiting = sut.whenIdle().then(() => (idle = true));
    a();
    a();
    await Promise.resolve();
    expect(sut.requestsInFlight).toBe(1);
    expect(idle).toBe(false);
    b();
    await waiting;
    expect(idle).toBe(true);
    await expect(sut.whenIdle()).resolves.toBeUndefined();
  });
});
