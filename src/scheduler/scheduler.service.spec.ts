import { describe, expect, it } from '@jest/globals';
import type { DiscoveryService } from '@nestjs/core';
import type { Clock } from '../common/clock.js';
import { EVERY_TICK, type PeriodicJob } from '../common/periodic-job.js';
import type { Config } from '../config/config.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { PeriodicJobsHost } from './periodic-jobs.host.js';
import { SchedulerService, TICK_STEPS } from './scheduler.service.js';

const metrics = { schedulerTick: { startTimer: () => () => 0 }, schedulerTickFailures: { inc: () => undefined } } as unknown as MetricsService;

function scheduler(jobs: PeriodicJob[]): SchedulerService {
  const discovery = { getProviders: () => jobs.map((instance) => ({ instance })) } as unknown as DiscoveryService;
  const s = new SchedulerService({ schedulerTickMs: 1000 } as Config, { now: () => new Date() } as Clock, metrics, discovery, {} as PeriodicJobsHost);
  s.onModuleInit();
  return s;
}

describe(SchedulerService.name, () => {
  const order: string[] = [];
  const step = (name: string, n: number): PeriodicJob<number> => ({
    name,
    interval: EVERY_TICK,
    run: async (now: Date) => {
      order.push(`${name}@${now.toISOString()}`);
      return n;
    },
  });

  it('runs every tick step once, in TICK_STEPS order, with the tick time, and reports each count under its key', async () => {
    // Registered in reverse: the order is TICK_STEPS', not the providers'.
    const s = scheduler(TICK_STEPS.map(([name], i) => step(name, i)).reverse());
    order.length = 0;
    const result = await s.tick(new Date('2024-01-01T00:00:00Z'));
    expect(order).toEqual(TICK_STEPS.map(([name]) => `${name}@2024-01-01T00:00:00.000Z`));
    expect(result).toEqual(Object.fromEntries(TICK_STEPS.map(([, key], i) => [key, i])));
  });

  it('refuses to start with a tick step that has no job, or a tick job that is not a step', () => {
    const all = TICK_STEPS.map(([name]) => step(name, 0));
    expect(() => scheduler(all.slice(1))).toThrow(`the scheduler tick's step ${TICK_STEPS[0][0]} has no PeriodicJob provider`);
    expect(() => scheduler([...all, step('stray', 0)])).toThrow('missing from TICK_STEPS: stray');
  });

  it('is a periodic job itself, every WEFT_SCHEDULER_TICK_MS', () => {
    expect(scheduler(TICK_STEPS.map(([name]) => step(name, 0))).interval).toBe(1000);
  });
});
