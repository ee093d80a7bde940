import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { PG_POOL } from './pg.js';
import { UnitOfWork } from './unit-of-work.js';

/**
 * Opens units of work: every transaction of the service goes through run(). Hot paths (run creation, completion,
 * downstream evaluation) use it with parameterised, named statements.
 */
@Injectable()
export class Transactions {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /**
   * Runs `fn` in one transaction on one pooled connection: its before-commit effects, then COMMIT when it resolves;
   * ROLLBACK when anything throws. The after-commit effects run once the connection is back in the pool, before
   * the result is returned.
   */
  async run<T>(fn: (tx: UnitOfWork) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new UnitOfWork(client);
    let result: T;
    let discard: Error | undefined;
    try {
      await client.query('BEGIN');
      result = await fn(tx);
      await tx.beforeCommit();
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      tx.settle(false);
      // A session that failed this way is not reused: one opened while the database was read-only (a failover)
      // stays read-only for its whole life, even once a writable primary is back.
      if (isDatabaseUnavailable(err)) discard = err as Error;
      throw err;
    } finally {
      client.release(discard);
    }
    tx.settle(true);
    await tx.afterCommit();
    return result;
  }
}
