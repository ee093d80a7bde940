import { Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { inTransaction, PG_POOL, type Queryable } from '../database/pg.js';
import { RunEngine } from '../runs/run-engine.service.js';
import { DagSchedulingRepository, RunsRepository } from '../runs/runs.repository.js';
import { dueIntervals, nextIntervals } from './domain/index.js';
import { scheduledRunId } from '../runs/domain/run-id.js';

/** DAGs handled per transaction (see run()). */
const DAGS_PER_TRANSACTION = 25;

/**
 * Creates the runs that are due: up to DAGS_PER_TRANSACTION DAGs per transaction, each taken with FOR UPDATE SKIP
 * LOCKED so any number of schedulers share the work without waiting on each other; the unique (dag_id,
 * logical_date) constraint is the last line of defence against a duplicate. Safe to run concurrently and repeatedly.
 */
@Injectable()
export class CreateDueRunsJob {
  private readonly logger = new Logger('scheduler');

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(CONFIG) private readonly config: Config,
    private readonly dags: DagSchedulingRepository,
    private readonly runs: RunsRepository,
    private readonly engine: RunEngine,
  ) {}

  /** Returns the number of runs created. */
  async run(now: Date): Promise<number> {
    let created = 0;
    let visited = 0;
    let more = true;
    while (more && visited < this.config.schedulerDagsPerTick) {
      // Several DAGs per transaction: one commit for the batch instead of one per DAG (a tick over 1,000 due DAGs
      // spent much of its time committing). The batch's DAG rows stay locked until then; other schedulers skip
      // them, and a manual trigger of one of them waits for the batch (tens of milliseconds).
      const batch = Math.min(DAGS_PER_TRANSACTION, this.config.schedulerDagsPerTick - visited);
      created += await inTransaction(this.pool, async (db) => {
        let n = 0;
        for (let i = 0; i < batch; i++) {
          const result = await this.createForNextDag(db, now);
          if (result === null) {
            more = false;
            break;
          }
          visited++;
          n += result;
        }
        return n;
      });
    }
    if (created) this.logger.log(`created ${created} run(s)`);
    return created;
  }

  /** The runs due for the next due DAG (locked FOR UPDATE SKIP LOCKED); null when no DAG is due. */
  private async createForNextDag(db: Queryable, now: Date): Promise<number | null> {
    const dag = await this.dags.lockNextDueDag(db, now);
    if (!dag) return null;
    const { doc } = await this.engine.version(db, dag.versionId);
    const schedule = typeof doc.schedule === 'string' ? doc.schedule : null;
    if (!schedule || !doc.startDate) {
      await this.dags.setNextDagrun(db, dag.dagId, null);
      return 0;
    }
    const window = { timezone: doc.timezone, startDate: new Date(doc.startDate), endDate: doc.endDate ? new Date(doc.endDate) : null };
    const last = await this.runs.latestScheduledLogicalDate(db, dag.dagId);
    const limit = this.config.schedulerRunsPerDagPerTick;
    const due = dueIntervals(schedule, { ...window, catchup: doc.catchup }, last, now, limit);
    const createdRuns = await this.engine.createRuns(
      db,
      due.map((interval) => ({
        dagId: dag.dagId,
        runId: scheduledRunId(interval.logicalDate),
        dagVersionId: dag.versionId,
        runType: 'scheduled' as const,
        ...interval,
        conf: {},
      })),
    );
    const cursor = due.at(-1)?.logicalDate ?? last;
    const [next] = nextIntervals(schedule, window, cursor, 1);
    // A full batch means more may be due: come back on the next tick instead of waiting for `next`.
    const createAfter = due.length >= limit ? now : next?.runAfter;
    await this.dags.setNextDagrun(db, dag.dagId, next && createAfter ? { logicalDate: next.logicalDate, createAfter } : null);
    await this.engine.startQueuedRuns(db, dag, now, createdRuns.map((r) => r.id));
    return createdRuns.length;
  }
}
