import { Inject, Injectable, Logger } from '@nestjs/common';
import { Periodic, type PeriodicJob } from '../common/periodic-job.js';
import { CONFIG, type Config } from '../config/config.js';
import { whileFull } from '../database/for-each-locked.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { retentionPlan, type RetentionKind } from './domain/retention-plan.js';
import { RetentionRepository } from './retention.repository.js';

export type RetentionResult = Partial<Record<RetentionKind, number>>;

/**
 * The retention clean-up (WEFT_RETENTION_*): deletes history older than its configured age in batches. A periodic
 * job on a timer of its own (every WEFT_RETENTION_INTERVAL_SEC, from the end of one pass to the start of the next),
 * so a large first clean-up never delays scheduling. One pass runs at a time across all schedulers (advisory lock);
 * a pass stops between batches when the process shuts down.
 */
@Periodic()
@Injectable()
export class RetentionJob implements PeriodicJob<RetentionResult | null> {
  readonly name = 'retention';
  private readonly logger = new Logger('retention');

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly repo: RetentionRepository,
    private readonly metrics: MetricsService,
  ) {}

  get interval(): number {
    return this.config.retention.intervalSec * 1000;
  }

  /** One pass; null when another scheduler is running one. Exposed for tests, which pass their own `now`. */
  async run(now: Date, signal?: AbortSignal): Promise<RetentionResult | null> {
    const plan = retentionPlan(this.config.retention, now);
    if (!plan.length) return {};
    const result = await this.repo.withLock(async (db) => {
      const deleted: RetentionResult = {};
      for (const step of plan) {
        const boundary = step.kind === 'task_logs' ? await this.repo.taskLogBoundary(db, step.cutoff) : undefined;
        deleted[step.kind] = await whileFull(
          step.batchSize,
          async () => {
            const n = await this.repo.deleteBatch(db, step.kind, step.cutoff, step.batchSize, boundary);
            if (n) this.metrics.retentionDeleted.inc({ kind: step.kind }, n);
            return n;
          },
          signal,
        );
      }
      return deleted;
    });
    if (result && Object.values(result).some((n) => n > 0)) this.logger.log({ msg: 'retention clean-up deleted old history', deleted: result });
    return result;
  }
}
