import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../common/errors.js';
import type { Page } from '../common/validation.js';
import { CONFIG, type Config } from '../config/config.js';
import { PG_POOL } from '../database/pg.js';
import { Transactions } from '../database/transactions.js';
import { RunEngine } from '../engine/runs/run-engine.service.js';
import { RunScheduling } from '../engine/runs/run-scheduling.service.js';
import type { RunInterval } from '../scheduler/domain/data-interval.js';
import { intervalsBetween } from '../scheduler/domain/intervals-between.js';
import { BackfillDriver } from './backfill-driver.service.js';
import { BackfillsRepository } from './backfills.repository.js';
import type { BackfillItem, BackfillRow } from './domain/backfill.js';
import { clipToEnded, type BackfillClipping } from './domain/clip-to-ended.js';
import { planBackfill, type PlannedDate, type ReprocessBehavior } from './domain/plan-backfill.js';

export type CreateBackfill = {
  dagId: string;
  fromDate: Date;
  toDate: Date;
  maxActiveRuns: number;
  reprocessBehavior: ReprocessBehavior;
  runBackwards: boolean;
  conf: Record<string, unknown>;
  dryRun: boolean;
  allowConcurrent: boolean;
};

export type BackfillView = BackfillRow & {
  state: 'running' | 'paused' | 'completed' | 'canceled';
  counts: Record<string, number>;
  items: BackfillItem[];
};

export type BackfillDryRun = {
  dryRun: true;
  dagId: string;
  create: Date[];
  reprocess: { logicalDate: Date; runId: string }[];
  skip: { logicalDate: Date; reason: string }[];
  clipped: BackfillClipping | null;
};

/** Backfills (Airflow 3's model): a planned set of logical dates, run oldest first under their own maxActiveRuns. */
@Injectable()
export class BackfillsService {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly repo: BackfillsRepository,
    private readonly scheduling: RunScheduling,
    private readonly engine: RunEngine,
    private readonly driver: BackfillDriver,
    private readonly audit: AuditService,
  ) {}

  async create(req: CreateBackfill): Promise<BackfillView | BackfillDryRun> {
    if (req.fromDate > req.toDate) throw new ValidationError([{ path: 'toDate', message: 'must not be before fromDate' }]);
    const now = this.clock.now();
    const result = await this.transactions.run(async (db) => {
      // The DAG lock serialises backfill creation per DAG (one active backfill unless allowConcurrent).
      const dag = await this.scheduling.lockDag(db, req.dagId);
      if (!dag) throw new NotFoundError('DAG', req.dagId);
      const { doc } = await this.engine.version(db, dag.versionId);
      if (typeof doc.schedule !== 'string') {
        throw new ValidationError([{ path: 'dagId', message: `DAG '${req.dagId}' has no time-based schedule to backfill` }]);
      }
      const max = this.config.backfillMaxRuns;
      const range = intervalsBetween(doc.schedule, doc.timezone, req.fromDate, req.toDate, max);
      const { ended: intervals, clipped } = clipToEnded(range, now);
      if (range.length > max) {
        const future = clipped ? `; only intervals that have ended by now (${now.toISOString()}) can be backfilled` : '';
        throw new ValidationError([{ path: 'toDate', message: `the range holds more than ${max} intervals (WEFT_BACKFILL_MAX_RUNS)${future}` }]);
      }
      if (clipped && !intervals.length) {
        throw new ValidationError([{ path: 'fromDate', message: notEndedYet(range[0]!, clipped) }]);
      }
      const existingRows = await this.repo.existingRuns(db, req.dagId, req.fromDate, req.toDate);
      const existing = new Map(existingRows.map((r) => [r.logicalDate.getTime(), r]));
      const plan = planBackfill(intervals.map((i) => i.logicalDate), existing, req.reprocessBehavior, req.runBackwards);
      if (req.dryRun) return { dryRun: true as const, plan, clipped };
      const active = await this.repo.activeForDag(db, req.dagId);
      if (active.length && !req.allowConcurrent) {
        throw new ConflictError(`DAG '${req.dagId}' already has an active backfill (${active.join(', ')}); pass allowConcurrent to add another`, 'backfill_active');
      }
      const id = await this.repo.insert(db, { ...req, clipped }, plan, new Map(existingRows.map((r) => [r.runId, r.id])));
      await this.audit.record(
        { action: 'create_backfill', target: req.dagId, details: { backfillId: id, from: req.fromDate, to: req.toDate, dates: plan.length, clipped: clipped?.intervals ?? 0 } },
        db,
      );
      return { dryRun: false as const, id };
    });
    if (result.dryRun) return dryRunView(req.dagId, result.plan, result.clipped);
    await this.driver.drive(result.id, now);
    return this.get(result.id);
  }

  async exists(id: number): Promise<boolean> {
    return (await this.repo.find(this.pool, id)) !== null;
  }

  async get(id: number): Promise<BackfillView> {
    const b = await this.repo.find(this.pool, id);
    if (!b) throw new NotFoundError('backfill', String(id));
    const [items, counts] = await Promise.all([this.repo.items(id), this.repo.counts([id])]);
    return { ...b, state: stateOf(b), counts: counts.get(id)!, items };
  }

  /** Progress (counts and items) of several backfills in two queries, by backfill id (GraphQL lists). */
  async progressOf(ids: number[]): Promise<Map<number, Pick<BackfillView, 'counts' | 'items'>>> {
    const [items, counts] = await Promise.all([this.repo.itemsOfBackfills(ids), this.repo.counts(ids)]);
    return new Map(ids.map((id) => [id, { counts: counts.get(id)!, items: items.get(id) ?? [] }]));
  }

  async list(f: { dagId?: string; limit: number; offset: number }): Promise<Page<BackfillRow & { state: BackfillView['state'] }>> {
    const { items, total } = await this.repo.list(f);
    return { items: items.map((b) => ({ ...b, state: stateOf(b) })), totalEntries: total, limit: f.limit, offset: f.offset };
  }

  async pause(id: number, isPaused: boolean): Promise<BackfillView> {
    await this.transactions.run(async (db) => {
      const b = await this.repo.lock(db, id);
      if (!b) throw new NotFoundError('backfill', String(id));
      if (b.completedAt || b.canceledAt) throw new ConflictError(`backfill ${id} is ${stateOf(b)}`, 'backfill_finished');
      await this.repo.setPaused(db, id, isPaused);
      await this.audit.record({ action: isPaused ? 'pause_backfill' : 'unpause_backfill', target: b.dagId, details: { backfillId: id } }, db);
    });
    if (!isPaused) await this.driver.drive(id, this.clock.now());
    return this.get(id);
  }

  /** Stops creating runs; runs already started finish on their own (they are ordinary runs from then on). */
  async cancel(id: number): Promise<BackfillView> {
    await this.transactions.run(async (db) => {
      const b = await this.repo.lock(db, id);
      if (!b) throw new NotFoundError('backfill', String(id));
      if (b.completedAt) throw new ConflictError(`backfill ${id} is completed`, 'backfill_finished');
      await this.repo.cancel(db, id, this.clock.now());
      await this.audit.record({ action: 'cancel_backfill', target: b.dagId, details: { backfillId: id } }, db);
    });
    return this.get(id);
  }
}

function stateOf(b: BackfillRow): BackfillView['state'] {
  if (b.canceledAt) return 'canceled';
  if (b.completedAt) return 'completed';
  return b.isPaused ? 'paused' : 'running';
}

/** A range none of whose intervals has ended: nothing to backfill yet, and the answer says when there will be. */
function notEndedYet(first: RunInterval, clipped: BackfillClipping): string {
  return (
    `no interval in the range has ended yet (${clipped.intervals} left out): a backfill covers only intervals that ` +
    `have ended by now (${clipped.cutoff.toISOString()}); the first, ${first.logicalDate.toISOString()}, ends at ${first.runAfter.toISOString()}`
  );
}

function dryRunView(dagId: string, plan: PlannedDate[], clipped: BackfillClipping | null): BackfillDryRun {
  return {
    dryRun: true,
    dagId,
    clipped,
    create: plan.filter((p) => p.action === 'create').map((p) => p.logicalDate),
    reprocess: plan.filter((p) => p.action === 'reprocess').map((p) => ({ logicalDate: p.logicalDate, runId: p.existingRunId! })),
    skip: plan.filter((p) => p.action === 'skip').map((p) => ({ logicalDate: p.logicalDate, reason: p.skipReason! })),
  };
}
