import { Injectable } from '@nestjs/common';
import { EVERY_TICK, Periodic, type PeriodicJob } from '../common/periodic-job.js';
import { whileFull } from '../database/for-each-locked.js';
import { Transactions } from '../database/transactions.js';
import { RunEngine } from '../engine/runs/run-engine.service.js';

const BATCH = 500;

/** Puts up_for_retry tasks whose retry delay has passed back in their queue (batches, SKIP LOCKED). */
@Periodic()
@Injectable()
export class RequeueRetriesJob implements PeriodicJob<number> {
  readonly name = 'requeue-retries';
  readonly interval = EVERY_TICK;

  constructor(
    private readonly transactions: Transactions,
    private readonly engine: RunEngine,
  ) {}

  run(now: Date): Promise<number> {
    return whileFull(BATCH, () => this.transactions.run((db) => this.engine.requeueDueRetries(db, now, BATCH)));
  }
}
