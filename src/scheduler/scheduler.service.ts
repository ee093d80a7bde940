import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { Clock } from '../common/clock.js';
import { EVERY_TICK, Periodic, periodicJobs, type PeriodicJob } from '../common/periodic-job.js';
import { CONFIG, type Config } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PeriodicJobsHost } from './periodic-jobs.host.js';

/**
 * The steps of one scheduler tick, in the order they run: each a PeriodicJob with interval EVERY_TICK, and the key
 * of its count in tick()'s result. The order matters where one step feeds the next: runs are created before
 * queued runs are started (a new run starts in the tick that created it); expired leases are reaped before retries
 * are requeued (a reaped attempt whose retry is due goes back to its queue in the same tick); runs are started after
 * everything that ends or creates them; SLA misses and warnings are recorded before alerts are delivered.
 */
export const TICK_STEPS = [
  ['create-due-runs', 'created'],
  ['create-dataset-runs', 'datasetRuns'],
  ['poke-sensors', 'sensorsFinished'],
  ['reap-expired-leases', 'reaped'],
  ['requeue-retries', 'requeued'],
  ['queued-too-long', 'queuedTooLong'],
  ['start-queued-runs', 'started'],
  ['drive-backfills', 'backfillRunsStarted'],
  ['check-slas', 'slaMisses'],
  ['check-sla-warnings', 'slaWarnings'],
  ['deliver-alerts', 'alertsAttempted'],
] as const;

export type TickResult = Record<(typeof TICK_STEPS)[number][1], number>;

/**
 * The scheduler tick: every EVERY_TICK job once, in TICK_STEPS order. Itself a periodic job (every
 * WEFT_SCHEDULER_TICK_MS, hosted by PeriodicJobsHost without overlap), and callable by tests and benchmarks, which
 * drive time themselves.
 */
@Periodic()
@Injectable()
export class SchedulerService implements PeriodicJob<TickResult>, OnModuleInit {
  readonly name = 'scheduler-tick';
  private steps: Array<{ job: PeriodicJob<number>; key: keyof TickResult }> = [];

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly discovery: DiscoveryService,
    private readonly host: PeriodicJobsHost,
  ) {}

  get interval(): number {
    return this.config.schedulerTickMs;
  }

  onModuleInit(): void {
    const byName = new Map(periodicJobs(this.discovery).filter((job) => job.interval === EVERY_TICK).map((job) => [job.name, job as PeriodicJob<number>]));
    this.steps = TICK_STEPS.map(([name, key]) => {
      const job = byName.get(name);
      if (!job) throw new Error(`the scheduler tick's step ${name} has no PeriodicJob provider`);
      byName.delete(name);
      return { job, key };
    });
    if (byName.size) throw new Error(`periodic jobs with interval EVERY_TICK missing from TICK_STEPS: ${[...byName.keys()].join(', ')}`);
  }

  /** The hosted run: one tick; a failed one is counted (weft_scheduler_tick_failures_total). */
  async run(now: Date): Promise<TickResult> {
    try {
      return await this.tick(now);
    } catch (err) {
      this.metrics.schedulerTickFailures.inc();
      throw err;
    }
  }

  /** One pass of every tick step. */
  async tick(now: Date = this.clock.now()): Promise<TickResult> {
    const endTimer = this.metrics.schedulerTick.startTimer();
    try {
      const result = {} as TickResult;
      for (const { job, key } of this.steps) result[key] = await job.run(now);
      return result;
    } finally {
      endTimer();
    }
  }

  /** Stops the periodic jobs; resolves when the tick and every other pass in progress have finished (shutdown). */
  drained(): Promise<void> {
    return this.host.drained();
  }
}
