import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { inTransaction, PG_POOL } from '../database/pg.js';
import { assertTaskTransition } from '../engine/runs/domain/task-state.js';
import { RunsRepository } from '../engine/runs/runs.repository.js';

/** Puts up_for_retry tasks whose retry delay has passed back in their queue (batches, SKIP LOCKED). */
@Injectable()
export class RequeueRetriesJob {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly runs: RunsRepository,
  ) {}

  async run(now: Date): Promise<number> {
    assertTaskTransition('up_for_retry', 'queued');
    let total = 0;
    for (;;) {
      const n = await inTransaction(this.pool, (db) => this.runs.requeueDueRetries(db, now, 500));
      total += n;
      if (n < 500) return total;
    }
  }
}
