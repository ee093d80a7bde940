import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions.js';
import { RunEngine } from '../engine/runs/run-engine.service.js';

/** Puts up_for_retry tasks whose retry delay has passed back in their queue (batches, SKIP LOCKED). */
@Injectable()
export class RequeueRetriesJob {
  constructor(
    private readonly transactions: Transactions,
    private readonly engine: RunEngine,
  ) {}

  async run(now: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.transactions.run((db) => this.engine.requeueDueRetries(db, now, 500));
      total += n;
      if (n < 500) return total;
    }
  }
}
