import { Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { inTransaction, PG_POOL } from '../database/pg.js';
import { backfillRunId } from '../runs/domain/run-id.js';
import { RunEngine } from '../runs/run-engine.service.js';
import { DagSchedulingRepository, RunsRepository } from '../runs/runs.repository.js';
import { intervalsBetween } from '../scheduler/domain/intervals-between.js';
import { BackfillsRepository } from './backfills.repository.js';

/**
 * Starts a backfill's next dates while it has room under its maxActiveRuns, under the backfill's row lock, so
 * the limit holds at every instant whichever scheduler or API replica drives it; everything it needs is in the
 * database, so a scheduler that dies mid-backfill loses and duplicates nothing. Called on every scheduler tick,
 * right after a backfill is created, and whenever one of its runs finishes.
 */
@Injectable()
export class BackfillDriver {
  private readonly logger = new Logger('backfill');

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly backfills: BackfillsRepository,
    private readonly runs: RunsRepository,
    private readonly dags: DagSchedulingRepository,
    private readonly engine: RunEngine,
  ) {}

  async driveAll(now: Date): Promise<number> {
    let started = 0;
    for (const id of await this.backfills.activeIds(this.pool, 1000)) started += await this.drive(id, now);
    return started;
  }

  async driveForDag(dagId: string, now: Date): Promise<number> {
    let started = 0;
    for (const id of await this.backfills.activeForDag(this.pool, dagId)) started += await this.drive(id, now);
    return started;
  }

  /** Returns the number of runs started. */
  async drive(backfillId: number, now: Date): Promise<number> {
    return inTransaction(this.pool, async (db) => {
      const b = await this.backfills.tryLockActive(db, backfillId);
      if (!b) return 0;
      const free = b.maxActiveRuns - (await this.backfills.countActiveRuns(db, b.id));
      const items = free > 0 ? await this.backfills.nextPending(db, b.id, free) : [];
      let started = 0;
      if (items.length) {
        const versionId = await this.dags.currentVersionId(db, b.dagId);
        if (versionId === null) return 0;
        const { doc } = await this.engine.version(db, versionId);
        for (const item of items) {
          if (item.reprocess && item.dagRunId !== null) {
            const run = await this.runs.lockRun(db, item.dagRunId);
            if (!run || run.state === 'queued' || run.state === 'running') {
              await this.backfills.markItem(db, b.id, item.sortOrdinal, 'skipped', null, run ? `run ${run.runId} is ${run.state}` : 'run was deleted');
              continue;
            }
            await this.engine.resetTasks(db, run, await this.runs.lockTaskInstancesOfRun(db, run.id), now, 'attempt ended: reprocessed by a backfill');
            await this.backfills.setRunBackfill(db, run.id, b.id);
            await this.engine.startRun(db, { ...run, state: 'queued', backfillId: b.id }, now);
          } else {
            const [interval] = typeof doc.schedule === 'string' ? intervalsBetween(doc.schedule, doc.timezone, item.logicalDate, item.logicalDate, 1) : [];
            const run = interval
              ? await this.engine.createRun(db, {
                  dagId: b.dagId,
                  runId: backfillRunId(item.logicalDate),
                  dagVersionId: versionId,
                  runType: 'backfill',
                  ...interval,
                  conf: b.conf,
                  backfillId: b.id,
                })
              : null;
            if (!run) {
              await this.backfills.markItem(db, b.id, item.sortOrdinal, 'skipped', null, interval ? 'a run for this date was created meanwhile' : 'no longer a date of the schedule');
              continue;
            }
            await this.engine.startRun(db, run, now);
            await this.backfills.markItem(db, b.id, item.sortOrdinal, 'started', run.id, null);
            started++;
            continue;
          }
          await this.backfills.markItem(db, b.id, item.sortOrdinal, 'started', item.dagRunId, null);
          started++;
        }
      }
      if (!(await this.backfills.nextPending(db, b.id, 1)).length && (await this.backfills.countActiveRuns(db, b.id)) === 0) {
        await this.backfills.complete(db, b.id, now);
        this.logger.log(`backfill ${b.id} of ${b.dagId} completed`);
      }
      return started;
    });
  }
}
