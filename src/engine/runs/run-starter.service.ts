import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL } from '../../database/pg.js';
import { Transactions } from '../../database/transactions.js';
import { EngineEvents } from '../engine-events.js';
import { RunEngine } from './run-engine.service.js';
import { DagSchedulingRepository, RunsRepository } from './runs.repository.js';

/**
 * Starts a DAG's queued runs that fit under its maxActiveRuns, under the DAG's row lock: after every transaction that
 * ended one of its runs or put one back in the queue (EngineEvents.runsMayStart, an after-commit event), and for
 * every DAG with queued runs on each scheduler tick (StartQueuedRunsJob).
 */
@Injectable()
export class RunStarter {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    private readonly runs: RunsRepository,
    private readonly dags: DagSchedulingRepository,
    private readonly engine: RunEngine,
    events: EngineEvents,
  ) {
    events.runsMayStart.on(({ dagId, now }) => this.startQueuedRuns(dagId, now));
  }

  /** Starts queued runs of every DAG that has some (up to 1,000 DAGs), skipping DAGs another scheduler holds. */
  async startEveryDagsQueuedRuns(now: Date): Promise<number> {
    let started = 0;
    for (const dagId of await this.runs.dagsWithQueuedRuns(this.pool, 1000)) {
      started += await this.startQueuedRuns(dagId, now, { wait: false });
    }
    return started;
  }

  /**
   * Returns the number of runs started. `wait: false` skips a DAG another scheduler holds (it will start them
   * itself). A DAG without queued runs (the common case) costs one statement. A run queued by a transaction that
   * commits just after that look, having found no room while the ended run still counted, waits for the scheduler's
   * next tick (StartQueuedRunsJob).
   */
  async startQueuedRuns(dagId: string, now: Date, opts: { wait: boolean } = { wait: true }): Promise<number> {
    if (!(await this.runs.hasQueuedRuns(this.pool, dagId))) return 0;
    return this.transactions.run(async (tx) => {
      const dag = opts.wait ? await this.dags.lockDag(tx, dagId) : await this.dags.tryLockDag(tx, dagId);
      if (!dag) return 0;
      return (await this.engine.startQueuedRuns(tx, dag, now)).length;
    });
  }
}
