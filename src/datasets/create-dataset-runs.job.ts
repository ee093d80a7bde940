import { Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { Clock } from '../common/clock.js';
import { EVERY_TICK, Periodic, type PeriodicJob } from '../common/periodic-job.js';
import { forEachLocked } from '../database/for-each-locked.js';
import { PG_POOL } from '../database/pg.js';
import { Transactions } from '../database/transactions.js';
import { RunEngine } from '../engine/runs/run-engine.service.js';
import { RunScheduling } from '../engine/runs/run-scheduling.service.js';
import { DatasetsRepository } from './datasets.repository.js';

/**
 * Creates a run for each DAG scheduled on datasets once its condition holds: every listed dataset updated since
 * its last dataset-triggered run (`all`), or any of them (`any`). The updates it consumes leave the queue in the
 * same transaction and travel in the run's conf (`datasetEvents`). One DAG at a time under its row lock. A job of
 * the scheduler's tick (SchedulerService), kept with the dataset queue it reads.
 */
@Periodic()
@Injectable()
export class CreateDatasetRunsJob implements PeriodicJob<number> {
  readonly name = 'create-dataset-runs';
  readonly interval = EVERY_TICK;
  private readonly logger = new Logger('scheduler');

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    private readonly scheduling: RunScheduling,
    private readonly datasets: DatasetsRepository,
    private readonly engine: RunEngine,
  ) {}

  async run(now: Date): Promise<number> {
    return forEachLocked(this.transactions, await this.datasets.dagsWithQueuedUpdates(this.pool, 1000), async (db, dagId) => {
      const dag = await this.scheduling.tryLockDag(db, dagId);
      if (!dag || !dag.isActive || dag.isPaused) return 0;
      const { doc } = await this.engine.version(db, dag.versionId);
      if (!doc.schedule || typeof doc.schedule !== 'object') return 0;
      const updates = await this.datasets.queuedUpdates(db, dagId);
      const updated = new Set(updates.map((u) => u.uri));
      const ready = doc.schedule.mode === 'any' ? doc.schedule.datasets.some((u) => updated.has(u)) : doc.schedule.datasets.every((u) => updated.has(u));
      if (!ready) return 0;
      const events = await this.datasets.eventsSince(db, updates);
      // Logical dates are unique per DAG: a run created in the same millisecond as another takes the next one.
      const logicalDate = new Date(Math.max(now.getTime(), this.clock.now().getTime()));
      const run = await this.engine.createRun(db, {
        dagId,
        runId: `dataset_triggered__${logicalDate.toISOString().replace('Z', '+00:00')}`,
        dagVersionId: dag.versionId,
        runType: 'dataset_triggered',
        logicalDate,
        dataIntervalStart: new Date(Math.min(...updates.map((u) => u.since.getTime()))),
        dataIntervalEnd: logicalDate,
        runAfter: logicalDate,
        conf: { datasetEvents: events.map((e) => ({ ...e, timestamp: e.timestamp.toISOString() })) },
      }, now);
      if (!run) return 0;
      await this.datasets.consume(db, dagId, updates.map((u) => u.datasetId));
      await this.engine.startQueuedRuns(db, dag, now);
      this.logger.log(`dataset-triggered run ${run.runId} of ${dagId} (${events.length} event(s))`);
      return 1;
    });
  }
}
