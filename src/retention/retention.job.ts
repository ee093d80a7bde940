import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { retentionDue, retentionPlan, type RetentionKind } from './domain/retention-plan.js';
import { RetentionRepository } from './retention.repository.js';

export type RetentionResult = Partial<Record<RetentionKind, number>>;

/**
 * The retention clean-up (WEFT_RETENTION_*): deletes history older than its configured age in batches. The
 * scheduler loop starts it at most once per WEFT_RETENTION_INTERVAL_SEC and does not wait for it, so a large first
 * clean-up never delays scheduling. One pass runs at a time across all schedulers (advisory lock); a pass stops
 * between batches when the process shuts down.
 */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger('retention');
  private lastStartedAt: Date | null = null;
  private current: Promise<unknown> | null = null;
  private readonly stopping = new AbortController();

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly repo: RetentionRepository,
    private readonly metrics: MetricsService,
  ) {}

  /** Called every scheduler tick: starts a pass in the background when one is due and none is running. */
  maybeStart(now: Date): void {
    if (this.current || this.stopping.signal.aborted) return;
    if (!retentionPlan(this.config.retention, now).length) return;
    if (!retentionDue(this.lastStartedAt, now, this.config.retention.intervalSec)) return;
    this.lastStartedAt = now;
    this.current = this.run(now)
      .catch((err: unknown) => this.logger.warn(`retention clean-up failed (retrying in ${this.config.retention.intervalSec}s): ${(err as Error).message}`))
      .finally(() => (this.current = null));
  }

  /** One pass; null when another scheduler is running one. Exposed for tests, which pass their own `now`. */
  async run(now: Date): Promise<RetentionResult | null> {
    const plan = retentionPlan(this.config.retention, now);
    if (!plan.length) return {};
    const result = await this.repo.withLock(async (db) => {
      const deleted: RetentionResult = {};
      for (const step of plan) {
        const boundary = step.kind === 'task_logs' ? await this.repo.taskLogBoundary(db, step.cutoff) : undefined;
        let total = 0;
        for (;;) {
          if (this.stopping.signal.aborted) break;
          const n = await this.repo.deleteBatch(db, step.kind, step.cutoff, step.batchSize, boundary);
          total += n;
          if (n) this.metrics.retentionDeleted.inc({ kind: step.kind }, n);
          if (n < step.batchSize) break;
        }
        deleted[step.kind] = total;
      }
      return deleted;
    });
    if (result && Object.values(result).some((n) => n > 0)) this.logger.log({ msg: 'retention clean-up deleted old history', deleted: result });
    return result;
  }

  /** Stops between batches and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.current;
  }
}
