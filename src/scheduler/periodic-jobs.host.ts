import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../common/clock.js';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { EVERY_TICK, periodicJobs, type PeriodicJob } from '../common/periodic-job.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';

export const SCHEDULER_ENABLED = Symbol('SCHEDULER_ENABLED');

type TimerJob = PeriodicJob & { interval: number };

/**
 * Runs the periodic jobs that have an interval of their own (the scheduler tick, webhook delivery, retention) in the
 * processes that run the scheduler, on @nestjs/schedule's SchedulerRegistry: one named timeout per job, added again
 * only after the previous run finished, so a job never overlaps itself however long a run takes (a cron or interval
 * would start the next run on time regardless). `now` comes from the injected Clock. A drain (Lifecycle) or shutdown
 * stops the timers and aborts the running passes' signal; drained() resolves once every running pass has finished.
 */
@Injectable()
export class PeriodicJobsHost implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('scheduler');
  private jobs: TimerJob[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  /** Consecutive failed runs per job: an outage is logged when it starts and when it ends, not once per run. */
  private readonly failures = new Map<string, number>();
  /** Jobs woken (PeriodicJob.onWake) while a pass of theirs ran: they run again at once. */
  private readonly woken = new Set<string>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly registry: SchedulerRegistry,
    private readonly clock: Clock,
    @Inject(SCHEDULER_ENABLED) private readonly enabled: boolean,
    lifecycle: Lifecycle,
  ) {
    lifecycle.drainSignal.addEventListener('abort', () => this.stop(), { once: true });
  }

  onModuleInit(): void {
    this.jobs = periodicJobs(this.discovery).filter((job): job is TimerJob => job.interval !== EVERY_TICK);
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.logger.log(`periodic jobs started: ${this.jobs.map((j) => `${j.name} every ${j.interval} ms`).join(', ')}`);
    for (const job of this.jobs) {
      job.onWake?.(() => this.wake(job));
      this.schedule(job, 0);
    }
  }

  /** Runs `job` now if it waits for its timer, or again at once after the pass in progress. */
  private wake(job: TimerJob): void {
    if (this.stopping.signal.aborted) return;
    if (this.registry.doesExist('timeout', job.name)) {
      this.registry.deleteTimeout(job.name);
      this.schedule(job, 0);
    } else this.woken.add(job.name);
  }

  /** Stops the timers; resolves when every pass in progress has finished. */
  async drained(): Promise<void> {
    this.stop();
    while (this.running.size) await Promise.all(this.running);
  }

  beforeApplicationShutdown(): void {
    this.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drained();
  }

  private stop(): void {
    this.stopping.abort();
    for (const job of this.jobs) if (this.registry.doesExist('timeout', job.name)) this.registry.deleteTimeout(job.name);
  }

  private schedule(job: TimerJob, delayMs: number): void {
    if (this.stopping.signal.aborted) return;
    this.registry.addTimeout(job.name, setTimeout(() => this.start(job), delayMs));
  }

  private start(job: TimerJob): void {
    this.registry.deleteTimeout(job.name);
    this.woken.delete(job.name); // this pass sees what the wake-up was about
    const pass = this.runOnce(job).finally(() => this.running.delete(pass));
    this.running.add(pass);
  }

  private async runOnce(job: TimerJob): Promise<void> {
    let delay = job.interval;
    try {
      const result = await job.run(this.clock.now(), this.stopping.signal);
      const failed = this.failures.get(job.name) ?? 0;
      if (failed) this.logger.log(`${job.name} recovered after ${failed} failed run(s)`);
      this.failures.set(job.name, 0);
      if (job.again?.(result) || this.woken.delete(job.name)) delay = 0;
    } catch (err) {
      const failed = (this.failures.get(job.name) ?? 0) + 1;
      this.failures.set(job.name, failed);
      if (!isDatabaseUnavailable(err)) this.logger.error(`${job.name} failed: ${(err as Error).stack ?? String(err)}`);
      else if (failed === 1) this.logger.error(`${job.name} failed: database unavailable (${(err as Error).message}); retrying every run until it is back`);
    }
    this.schedule(job, delay);
  }
}
