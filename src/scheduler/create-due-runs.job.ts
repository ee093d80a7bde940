import { Inject, Injectable, Logger } from '@nestjs/common';
import { EVERY_TICK, Periodic, type PeriodicJob } from '../common/periodic-job.js';
import { CONFIG, type Config } from '../config/config.js';
import { Transactions } from '../database/transactions.js';
import type { UnitOfWork } from '../database/unit-of-work.js';
import { RunEngine } from '../engine/runs/run-engine.service.js';
import { RunScheduling } from '../engine/runs/run-scheduling.service.js';
import { dueIntervals, nextDueInterval } from './domain/index.js';
import { scheduledRunId } from '../engine/runs/domain/run-id.js';

/** DAGs handled per transaction (see run()). */
const DAGS_PER_TRANSACTION = 25;

/**
 * Creates the runs that are due: up to DAGS_PER_TRANSACTION DAGs per transaction, each taken with FOR UPDATE SKIP
 * LOCKED so any number of schedulers share the work without waiting on each other; the unique (dag_id,
 * logical_date) constraint is the last line of defence against a duplicate. Safe to run concurrently and repeatedly.
 */
@Periodic()
@Injectable()
export class CreateDueRunsJob implements PeriodicJob<number> {
  readonly name = 'create-due-runs';
  readonly interval = EVERY_TICK;
  private readonly logger = new Logger('scheduler');

  constructor(
    private readonly transactions: Transactions,
    @Inject(CONFIG) private readonly config: Config,
    private readonly scheduling: RunScheduling,
    private readonly engine: RunEngine,
  ) {}

  /** Returns the number of runs created. */
  async run(now: Date): Promise<number> {
    let created = 0;
    // DAGs this tick has had: a DAG whose catch-up filled its per-tick batch is due again at once (createAfter =
    // now), and must wait for the next tick rather than be taken again by this one.
    const visited: string[] = [];
    while (visited.length < this.config.schedulerDagsPerTick) {
      const limit = Math.min(DAGS_PER_TRANSACTION, this.config.schedulerDagsPerTick - visited.length);
      const batch = await this.transactions.run((db) => this.createForDueDags(db, now, limit, visited));
      if (batch.dags.length === 0) break;
      visited.push(...batch.dags);
      created += batch.created;
    }
    if (created) this.logger.log(`created ${created} run(s)`);
    return created;
  }

  /**
   * One batch: up to `limit` due DAGs locked at once (FOR UPDATE SKIP LOCKED), their due runs created (one
   * statement per DAG), their next due dates set and their startable runs started (one statement each for the
   * whole batch). One commit for the batch: a tick over 1,000 due DAGs spent most of its time in per-DAG round
   * trips and commits. The batch's DAG rows stay locked until then; other schedulers skip them, and a manual
   * trigger of one of them waits for the batch.
   */
  private async createForDueDags(db: UnitOfWork, now: Date, limit: number, visited: string[]): Promise<{ dags: string[]; created: number }> {
    const dags = await this.scheduling.lockDueDags(db, now, limit, visited);
    if (!dags.length) return { dags: [], created: 0 };
    const lasts = await this.scheduling.latestScheduledLogicalDates(db, dags.map((d) => d.dagId));
    await this.engine.preloadVersions(db, dags.map((d) => d.versionId));
    const next: Array<{ dagId: string; logicalDate: Date | null; createAfter: Date | null }> = [];
    const createdIds: number[] = [];
    for (const dag of dags) {
      const { doc } = await this.engine.version(db, dag.versionId);
      const schedule = typeof doc.schedule === 'string' ? doc.schedule : null;
      if (!schedule || !doc.startDate) {
        next.push({ dagId: dag.dagId, logicalDate: null, createAfter: null });
        continue;
      }
      const window = { timezone: doc.timezone, startDate: new Date(doc.startDate), endDate: doc.endDate ? new Date(doc.endDate) : null };
      const last = lasts.get(dag.dagId) ?? null;
      const perDag = this.config.schedulerRunsPerDagPerTick;
      const options = { ...window, catchup: doc.catchup };
      const due = dueIntervals(schedule, options, last, now, perDag);
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
        now,
      );
      for (const r of createdRuns) createdIds.push(r.id);
      const cursor = due.at(-1)?.logicalDate ?? last;
      const upcoming = nextDueInterval(schedule, options, cursor, now);
      // A full batch means more may be due: come back on the next tick instead of waiting for `upcoming`.
      const createAfter = due.length >= perDag ? now : upcoming?.runAfter;
      const known = upcoming && createAfter;
      next.push({ dagId: dag.dagId, logicalDate: known ? upcoming.logicalDate : null, createAfter: known ? createAfter : null });
    }
    await this.scheduling.setNextDagruns(db, next);
    // The DAGs' queued runs that fit under their maxActiveRuns (the ones just created among them), under the DAG
    // row locks taken above: what engine.startQueuedRuns does per DAG, for the batch at once.
    await this.engine.startRuns(db, await this.scheduling.startableRunsOfDags(db, dags), now, createdIds);
    return { dags: dags.map((d) => d.dagId), created: createdIds.length };
  }
}
