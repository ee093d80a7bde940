import { Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL } from '../database/pg.js';
import { forEachLocked } from '../database/for-each-locked.js';
import { Transactions } from '../database/transactions.js';
import type { UnitOfWork } from '../database/unit-of-work.js';
import { EngineEvents } from '../engine/engine-events.js';
import { backfillRunId } from '../engine/runs/domain/run-id.js';
import { RunEngine } from '../engine/runs/run-engine.service.js';
import { RunScheduling } from '../engine/runs/run-scheduling.service.js';
import type { RunInterval } from '../scheduler/domain/data-interval.js';
import { intervalsBetween } from '../scheduler/domain/intervals-between.js';
import { BackfillsRepository } from './backfills.repository.js';
import type { BackfillItem } from './domain/backfill.js';

/**
 * Starts a backfill's next dates while it has room under its maxActiveRuns, under the backfill's row lock, so
 * the limit holds at every instant whichever scheduler or API replica drives it; everything it needs is in the
 * database, so a scheduler that dies mid-backfill loses and duplicates nothing. Run for every active backfill on each
 * scheduler tick (DriveBackfillsJob), right after a backfill is created, and after every transaction that ended one
 * of its DAG's runs (the kernel's runsMayStart event).
 */
@Injectable()
export class BackfillDriver {
  private readonly logger = new Logger('backfill');

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    private readonly backfills: BackfillsRepository,
    private readonly scheduling: RunScheduling,
    private readonly engine: RunEngine,
    events: EngineEvents,
  ) {
    events.runsMayStart.on(({ dagId, now }) => this.driveForDag(dagId, now));
  }

  /** Every active backfill (up to 1,000), each in a transaction of its own; returns the runs started. */
  async driveAll(now: Date): Promise<number> {
    return forEachLocked(this.transactions, await this.backfills.activeIds(this.pool, 1000), (db, id) => this.driveLocked(db, id, now));
  }

  async driveForDag(dagId: string, now: Date): Promise<number> {
    return forEachLocked(this.transactions, await this.backfills.activeForDag(this.pool, dagId), (db, id) => this.driveLocked(db, id, now));
  }

  /**
   * Returns the number of runs started. New dates are created and started set-based (a handful of statements
   * however many fit under the backfill's maxActiveRuns); reprocessed dates (existing runs cleared) one by one.
   */
  drive(backfillId: number, now: Date): Promise<number> {
    return this.transactions.run((db) => this.driveLocked(db, backfillId, now));
  }

  /** drive() inside `db`: the backfill's row is locked SKIP LOCKED (another driver holding it has it). */
  private async driveLocked(db: UnitOfWork, backfillId: number, now: Date): Promise<number> {
    const b = await this.backfills.tryLockActive(db, backfillId);
    if (!b) return 0;
    const free = b.maxActiveRuns - (await this.backfills.countActiveRuns(db, b.id));
    const items = free > 0 ? await this.backfills.nextPending(db, b.id, free) : [];
    let started = 0;
    if (items.length) {
      const versionId = await this.scheduling.currentVersionId(db, b.dagId);
      if (versionId === null) return 0;
      const { doc } = await this.engine.version(db, versionId);
      const marks: Parameters<BackfillsRepository['markItems']>[2] = [];
      const skip = (item: BackfillItem, reason: string) => marks.push({ sortOrdinal: item.sortOrdinal, status: 'skipped', dagRunId: null, skipReason: reason });
      const reprocessed = items.filter((item) => item.reprocess && item.dagRunId !== null);
      for (const item of reprocessed) {
        const run = await this.scheduling.lockRun(db, item.dagRunId!);
        if (!run || run.state === 'queued' || run.state === 'running') {
          skip(item, run ? `run ${run.runId} is ${run.state}` : 'run was deleted');
          continue;
        }
        await this.engine.resetTasks(db, run, await this.scheduling.lockTaskInstancesOfRun(db, run.id), now, 'attempt ended: reprocessed by a backfill');
        await this.backfills.setRunBackfill(db, run.id, b.id);
        await this.engine.startRun(db, { ...run, state: 'queued', backfillId: b.id }, now);
        marks.push({ sortOrdinal: item.sortOrdinal, status: 'started', dagRunId: item.dagRunId, skipReason: null });
        started++;
      }
      const fresh = items.filter((item) => !reprocessed.includes(item));
      const intervals = typeof doc.schedule === 'string' ? scheduleIntervals(doc.schedule, doc.timezone, fresh.map((i) => i.logicalDate)) : new Map<number, RunInterval>();
      const wanted = fresh.filter((item) => intervals.has(item.logicalDate.getTime()));
      for (const item of fresh) if (!intervals.has(item.logicalDate.getTime())) skip(item, 'no longer a date of the schedule');
      const created = await this.engine.createRuns(
        db,
        wanted.map((item) => ({
          dagId: b.dagId,
          runId: backfillRunId(item.logicalDate),
          dagVersionId: versionId,
          runType: 'backfill' as const,
          ...intervals.get(item.logicalDate.getTime())!,
          conf: b.conf,
          backfillId: b.id,
        })),
        now,
      );
      const byDate = new Map(created.map((run) => [run.logicalDate.getTime(), run]));
      for (const item of wanted) {
        const run = byDate.get(item.logicalDate.getTime());
        if (!run) skip(item, 'a run for this date was created meanwhile');
        else marks.push({ sortOrdinal: item.sortOrdinal, status: 'started', dagRunId: run.id, skipReason: null });
      }
      started += (await this.engine.startRuns(db, created, now, created.map((r) => r.id))).length;
      await this.backfills.markItems(db, b.id, marks);
    }
    // Runs just started are active: the backfill cannot be complete yet.
    if (!started && !(await this.backfills.nextPending(db, b.id, 1)).length && (await this.backfills.countActiveRuns(db, b.id)) === 0) {
      await this.backfills.complete(db, b.id, now);
      this.logger.log(`backfill ${b.id} of ${b.dagId} completed`);
    }
    return started;
  }
}

/** The schedule's interval at each of `dates`, by time (a date that is no longer a date of the schedule has none). */
function scheduleIntervals(schedule: string, timezone: string, dates: Date[]): Map<number, RunInterval> {
  if (!dates.length) return new Map();
  const times = dates.map((d) => d.getTime());
  const wanted = new Set(times);
  const from = new Date(Math.min(...times));
  const to = new Date(Math.max(...times));
  const found = intervalsBetween(schedule, timezone, from, to, Number.MAX_SAFE_INTEGER).filter((i) => wanted.has(i.logicalDate.getTime()));
  return new Map(found.map((i) => [i.logicalDate.getTime(), i]));
}
