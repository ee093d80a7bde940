import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { DiscoveryService } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Clock } from '../common/clock.js';
import { EVERY_TICK, type PeriodicJob } from '../common/periodic-job.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { PeriodicJobsHost } from './periodic-jobs.host.js';

const NOW = new Date('2024-01-01T00:00:00Z');

/** A job whose runs finish when the test says so; it records when each run started (fake time) and with what. */
class ControlledJob implements PeriodicJob<number> {
  readonly starts: number[] = [];
  readonly signals: AbortSignal[] = [];
  private finishers: Array<(n: number) => void> = [];
  private failers: Array<(err: Error) => void> = [];
  active = 0;
  maxActive = 0;
  constructor(
    readonly name: string,
    readonly interval: number | typeof EVERY_TICK,
    readonly again?: (n: number) => boolean,
  ) {}
  run(_now: Date, signal?: AbortSignal): Promise<number> {
    this.starts.push(Date.now());
    this.signals.push(signal!);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    return new Promise<number>((resolve, reject) => {
      this.finishers.push((n) => resolve(n));
      this.failers.push(reject);
    }).finally(() => this.active--);
  }
  finish(n = 0): void {
    this.failers.shift();
    this.finishers.shift()!(n);
  }
  fail(err: Error): void {
    this.finishers.shift();
    this.failers.shift()!(err);
  }
}

function host(jobs: PeriodicJob[], enabled = true) {
  const discovery = { getProviders: () => jobs.map((instance) => ({ instance })) } as unknown as DiscoveryService;
  const registry = new SchedulerRegistry();
  const lifecycle = new Lifecycle();
  const clock = { now: () => NOW } as Clock;
  const h = new PeriodicJobsHost(discovery, registry, clock, enabled, lifecycle);
  h.onModuleInit();
  h.onApplicationBootstrap();
  return { h, registry, lifecycle };
}

describe(PeriodicJobsHost.name, () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('runs a job at start, then `interval` after each run ends, never two runs at once', async () => {
    const job = new ControlledJob('slow', 100);
    const { h, registry } = host([job]);
    await jest.advanceTimersByTimeAsync(0);
    expect(job.starts).toEqual([0]);
    expect(registry.getTimeouts()).toEqual([]);
    // The run takes 1 s, ten intervals: no second run starts meanwhile.
    await jest.advanceTimersByTimeAsync(1000);
    expect(job.starts).toEqual([0]);
    job.finish();
    await jest.advanceTimersByTimeAsync(0);
    expect(registry.getTimeouts()).toEqual(['slow']);
    await jest.advanceTimersByTimeAsync(99);
    expect(job.starts).toEqual([0]);
    await jest.advanceTimersByTimeAsync(1);
    expect(job.starts).toEqual([0, 1100]);
    expect(job.maxActive).toBe(1);
    job.finish();
    await h.drained();
  });

  it('runs again at once when `again` says so (a backlog), else after the interval', async () => {
    const job = new ControlledJob('busy', 500, (n) => n > 0);
    const { h } = host([job]);
    await jest.advanceTimersByTimeAsync(0);
    job.finish(3);
    await jest.advanceTimersByTimeAsync(0);
    expect(job.starts).toEqual([0, 0]);
    job.finish(0);
    await jest.advanceTimersByTimeAsync(499);
    expect(job.starts).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(job.starts).toEqual([0, 0, 500]);
    job.finish(0);
    await h.drained();
  });

  it('keeps a failing job on its interval and logs an outage once, and its recovery', async () => {
    const job = new ControlledJob('flaky', 100);
    const { h } = host([job]);
    const unavailable = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await jest.advanceTimersByTimeAsync(0);
    job.fail(unavailable);
    await jest.advanceTimersByTimeAsync(100);
    job.fail(unavailable);
    await jest.advanceTimersByTimeAsync(100);
    expect(job.starts).toEqual([0, 100, 200]);
    expect(Logger.prototype.error).toHaveBeenCalledTimes(1);
    job.finish();
    await jest.advanceTimersByTimeAsync(0);
    expect(Logger.prototype.log).toHaveBeenCalledWith('flaky recovered after 2 failed run(s)');
    await h.drained();
  });

  it('stops at the drain: no new run, the running pass is told to stop and drained() waits for it', async () => {
    const job = new ControlledJob('long', 100);
    const idle = new ControlledJob('idle', 100);
    const { h, registry, lifecycle } = host([job, idle]);
    await jest.advanceTimersByTimeAsync(0);
    idle.finish();
    await jest.advanceTimersByTimeAsync(0);
    expect(registry.getTimeouts()).toEqual(['idle']);
    lifecycle.beginDrain();
    expect(registry.getTimeouts()).toEqual([]);
    expect(job.signals[0]!.aborted).toBe(true);
    let drained = false;
    const done = h.drained().then(() => (drained = true));
    await jest.advanceTimersByTimeAsync(1000);
    expect(drained).toBe(false);
    job.finish();
    await done;
    await jest.advanceTimersByTimeAsync(1000);
    expect(job.starts).toEqual([0]);
    expect(idle.starts).toEqual([0]);
    expect(registry.getTimeouts()).toEqual([]);
  });

  it('leaves tick steps to the scheduler tick, and runs nothing where the scheduler is disabled', async () => {
    const step = new ControlledJob('a-step', EVERY_TICK);
    const timed = new ControlledJob('timed', 100);
    host([step]);
    const { h: off } = host([timed], false);
    await jest.advanceTimersByTimeAsync(1000);
    expect(step.starts).toEqual([]);
    expect(timed.starts).toEqual([]);
    await off.drained();
  });
});
