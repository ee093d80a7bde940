import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { CONFIG, type Config } from '../config/config.js';
import { AlertsService } from '../alerts/alerts.service.js';
import { BackfillDriver } from '../backfills/backfill-driver.service.js';
import { QueuedTooLongJob } from '../engine/leases/queued-too-long.job.js';
import { ReapExpiredLeasesJob } from '../engine/leases/reap-expired-leases.job.js';
import { CreateDatasetRunsJob } from '../datasets/create-dataset-runs.job.js';
import { CreateDueRunsJob } from './create-due-runs.job.js';
import { PokeSensorsJob } from './poke-sensors.job.js';
import { RequeueRetriesJob } from './requeue-retries.job.js';
import { StartQueuedRunsJob } from './start-queued-runs.job.js';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RetentionJob } from '../retention/retention.job.js';

export const SCHEDULER_ENABLED = Symbol('SCHEDULER_ENABLED');

/**
 * The scheduler loop: one tick runs every periodic job once, then waits `schedulerTickMs`. Ticks never overlap
 * within a process, and every job is safe with other schedulers running the same jobs on the same database.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('scheduler');
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private current: Promise<void> | null = null;
  /** Consecutive failed ticks: an outage is logged when it starts and when it ends, not once per tick. */
  private failures = 0;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(SCHEDULER_ENABLED) private readonly enabled: boolean,
    private readonly clock: Clock,
    private readonly createDueRuns: CreateDueRunsJob,
    private readonly startQueuedRuns: StartQueuedRunsJob,
    private readonly requeueRetries: RequeueRetriesJob,
    private readonly reapExpiredLeases: ReapExpiredLeasesJob,
    private readonly queuedTooLong: QueuedTooLongJob,
    private readonly backfills: BackfillDriver,
    private readonly createDatasetRuns: CreateDatasetRunsJob,
    private readonly pokeSensors: PokeSensorsJob,
    private readonly alerts: AlertsService,
    private readonly retention: RetentionJob,
    private readonly metrics: MetricsService,
    lifecycle: Lifecycle,
  ) {
    // A drain stops the loop between ticks; the tick in progress finishes (awaited on shutdown).
    lifecycle.drainSignal.addEventListener('abort', () => this.stopLoop(), { once: true });
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.logger.log(`scheduler loop started (tick every ${this.config.schedulerTickMs} ms)`);
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drained();
  }

  /** Stops the loop between ticks; resolves when the tick (and retention batch) in progress has finished. */
  async drained(): Promise<void> {
    this.stopLoop();
    await this.current;
    await this.retention.stop();
  }

  private stopLoop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One pass of every job; exposed for tests and benchmarks, which drive time themselves. */
  async tick(
    now: Date = this.clock.now(),
  ): Promise<{
    created: number;
    datasetRuns: number;
    sensorsFinished: number;
    started: number;
    requeued: number;
    reaped: number;
    queuedTooLong: number;
    backfillRunsStarted: number;
    slaMisses: number;
    slaWarnings: number;
    alertsAttempted: number;
  }> {
    const endTimer = this.metrics.schedulerTick.startTimer();
    try {
      return await this.runJobs(now);
    } finally {
      endTimer();
    }
  }

  private async runJobs(now: Date) {
    const created = await this.createDueRuns.run(now);
    const datasetRuns = await this.createDatasetRuns.run(now);
    const sensorsFinished = await this.pokeSensors.run(now);
    const reaped = await this.reapExpiredLeases.run(now);
    const requeued = await this.requeueRetries.run(now);
    const queuedTooLong = await this.queuedTooLong.run(now);
    const started = await this.startQueuedRuns.run(now);
    const backfillRunsStarted = await this.backfills.driveAll(now);
    const slaMisses = await this.alerts.checkSlas(now);
    const slaWarnings = await this.alerts.checkSlaWarnings(now);
    const alertsAttempted = await this.alerts.deliverDue(now);
    this.metrics.leasesExpired.inc(reaped);
    this.metrics.slaMisses.inc(slaMisses);
    this.metrics.slaWarnings.inc(slaWarnings);
    return { created, datasetRuns, sensorsFinished, started, requeued, reaped, queuedTooLong, backfillRunsStarted, slaMisses, slaWarnings, alertsAttempted };
  }

  private tickFailed(err: unknown): void {
    this.failures++;
    this.metrics.schedulerTickFailures.inc();
    if (!isDatabaseUnavailable(err)) {
      this.logger.error(`scheduler tick failed: ${(err as Error).stack ?? String(err)}`);
    } else if (this.failures === 1) {
      this.logger.error(`scheduler tick failed: database unavailable (${(err as Error).message}); retrying every tick until it is back`);
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.tick()
        .then(() => {
          if (this.failures) this.logger.log(`scheduler recovered after ${this.failures} failed tick(s)`);
          this.failures = 0;
          if (!this.stopped) this.retention.maybeStart(this.clock.now());
        })
        .catch((err: unknown) => this.tickFailed(err))
        .finally(() => {
          this.current = null;
          this.schedule(this.config.schedulerTickMs);
        });
    }, delayMs);
  }
}
