import { Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { CONFIG, type Config } from '../../config/config.js';
import { EVERY_TICK, Periodic, type PeriodicJob } from '../../common/periodic-job.js';
import { forEachLocked } from '../../database/for-each-locked.js';
import { PG_POOL } from '../../database/pg.js';
import { Transactions } from '../../database/transactions.js';
import { RunEngine } from '../runs/run-engine.service.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { runFields } from '../../logging/log-fields.js';

/**
 * The first of the three clocks (DESIGN §5): a task queued longer than WEFT_QUEUED_TIMEOUT_SEC means no worker
 * serves its queue (or its pool is full). It is reported in the log, and with WEFT_QUEUED_TIMEOUT_FAIL it fails
 * as any task that failed for good (RunEngine.failQueued: the task_failed alert, downstream tasks evaluated).
 */
@Periodic()
@Injectable()
export class QueuedTooLongJob implements PeriodicJob<number> {
  readonly name = 'queued-too-long';
  readonly interval = EVERY_TICK;
  private readonly logger = new Logger('queued-timeout');
  private readonly reported = new Set<number>();

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    @Inject(CONFIG) private readonly config: Config,
    private readonly runs: RunsRepository,
    private readonly engine: RunEngine,
  ) {}

  async run(now: Date): Promise<number> {
    if (!this.config.queuedTimeoutSec) return 0;
    const before = new Date(now.getTime() - this.config.queuedTimeoutSec * 1000);
    const stale = await this.runs.queuedSince(this.pool, before, 500);
    if (this.config.queuedTimeoutFail) {
      return forEachLocked(this.transactions, stale, async (db, ti) => {
        const run = await this.runs.tryLockRun(db, ti.dagRunId);
        const locked = run && (await this.runs.lockTaskInstance(db, ti.id));
        if (!run || !locked || locked.state !== 'queued') return false;
        await this.engine.failQueued(db, run, locked, `queued for more than ${this.config.queuedTimeoutSec}s without a worker`, now);
        return true;
      });
    }
    let reported = 0;
    for (const ti of stale) {
      if (this.reported.has(ti.id)) continue;
      this.reported.add(ti.id);
      this.logger.warn({
        msg: `${ti.dagId}/${ti.runId}/${ti.taskId} queued on '${ti.queue}' since ${ti.queuedAt?.toISOString()}: no worker has leased it`,
        ...runFields(ti),
        taskId: ti.taskId,
        queue: ti.queue,
      });
      reported++;
    }
    if (this.reported.size > 10_000) this.reported.clear();
    return reported;
  }
}
