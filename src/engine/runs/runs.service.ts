import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { AuditService } from '../../audit/audit.service.js';
import { Clock } from '../../common/clock.js';
import { ConflictError, NotFoundError } from '../../common/errors.js';
import type { Page } from '../../common/validation.js';
import { PG_POOL } from '../../database/pg.js';
import { Transactions } from '../../database/transactions.js';
import { manualInterval } from '../../scheduler/domain/index.js';
import { manualRunId } from './domain/run-id.js';
import { RunEngine } from './run-engine.service.js';
import { DagSchedulingRepository, RunsRepository, type NewRun, type RunFilter } from './runs.repository.js';
import { LruCache } from './domain/lru-cache.js';
import type { RunRow, TaskInstanceRow, TryRow } from './domain/run-rows.js';
import { QUEUE_IDLE_SEC, queuedReason } from './domain/queued-reason.js';

export type TriggerRequest = { logicalDate?: Date; conf?: Record<string, unknown>; runId?: string };
/** stateReason: why a queued task instance does not start (a pool that does not exist, a queue no worker polls, workers that take other task types). */
export type TaskInstanceView = TaskInstanceRow & { durationSec: number | null; tries: TryRow[]; stateReason: string | null };

/** Runs and task instances: triggering, reading. Shared by REST, GraphQL and the scheduler. */
@Injectable()
export class RunsService {
  /**
   * Each DAG's current version as this process last saw it under the DAG's lock: a trigger inserts its run for that
   * version in the lock's own statement, which inserts nothing when a registration has changed it since.
   */
  private readonly currentVersions = new LruCache<string, number>(4096);

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    private readonly runs: RunsRepository,
    private readonly dags: DagSchedulingRepository,
    private readonly engine: RunEngine,
    private readonly audit: AuditService,
  ) {}

  /**
   * Creates a manual run (queued; started at once if the DAG has room under maxActiveRuns and is not paused).
   * The same runId again returns the existing run instead of a duplicate.
   *
   * The DAG lock, the run's insert and its audit row are one statement when the DAG's version is the one this
   * process last saw (currentVersions), and its start is another (RunEngine.startCreatedRun): with the hand-off and
   * the commit, four round trips where the general way takes seven.
   */
  async trigger(dagId: string, req: TriggerRequest): Promise<{ run: RunRow; created: boolean }> {
    const now = this.clock.now();
    const logicalDate = req.logicalDate ?? now;
    const runId = req.runId ?? manualRunId(logicalDate);
    const newRun = (dagVersionId: number): NewRun => ({
      dagId,
      runId,
      dagVersionId,
      runType: 'manual',
      ...manualInterval(logicalDate),
      conf: req.conf ?? {},
    });
    const audit = this.audit.resolve({ action: 'trigger_dag_run', target: `${dagId}/${runId}`, details: { logicalDate: logicalDate.toISOString() } });
    return this.transactions.run(async (db) => {
      const guess = this.currentVersions.get(dagId);
      const fast = guess === undefined ? null : await this.engine.lockDagAndCreateRun(db, newRun(guess), audit, now);
      // Whether that statement tried the insert (and wrote the audit row with the run, if it made one).
      const tried = fast?.dag != null && fast.dag.versionId === guess;
      let run = tried ? fast.run : null;
      // No guess, or no DAG in that statement (none, or re-registered while it waited for the lock): lock on its own.
      const dag = fast?.dag ?? (await this.dags.lockDag(db, dagId));
      if (!dag) {
        this.currentVersions.delete(dagId);
        throw new NotFoundError('DAG', dagId);
      }
      this.currentVersions.set(dagId, dag.versionId);
      if (!tried) run = await this.engine.createRun(db, newRun(dag.versionId), now);
      if (!run) {
        // Not created: the same runId again answers with the existing run; another run at that date is a conflict.
        const existing = await this.runs.findRunByRunId(db, dagId, runId);
        if (existing) return { run: existing, created: false };
        const clash = await this.runs.findRunByLogicalDate(db, dagId, logicalDate);
        throw new ConflictError(
          `DAG '${dagId}' already has a run at logical date ${logicalDate.toISOString()} (${clash?.runId ?? 'unknown'})`,
          'logical_date_taken',
        );
      }
      if (!tried) await this.audit.record(audit, db);
      return { run: await this.engine.startCreatedRun(db, dag, run, now), created: true };
    });
  }

  async list(filter: RunFilter): Promise<Page<RunRow>> {
    await this.requireDag(filter.dagId);
    const { items, total } = await this.runs.listRuns(filter);
    return { items, totalEntries: total, limit: filter.limit, offset: filter.offset };
  }

  /** The `limit` newest runs of each DAG, newest first, by DAG id (an unknown DAG has none). */
  async recentRunsOfDags(dagIds: string[], limit: number): Promise<Map<string, RunRow[]>> {
    const out = new Map<string, RunRow[]>(dagIds.map((id) => [id, []]));
    for (const run of await this.runs.recentRunsOfDags(dagIds, limit)) out.get(run.dagId)?.push(run);
    return out;
  }

  async get(dagId: string, runId: string): Promise<RunRow> {
    const run = await this.runs.findRunByRunId(this.pool, dagId, runId);
    if (!run) throw new NotFoundError('DAG run', `${dagId}/${runId}`);
    return run;
  }

  async taskInstances(dagId: string, runId: string): Promise<TaskInstanceView[]> {
    const run = await this.get(dagId, runId);
    const tis = await this.runs.taskInstances(run.id);
    const [tries, reason] = await Promise.all([this.runs.tries(tis.map((t) => t.id)), this.reasons(tis)]);
    return tis.map((ti) => view(ti, tries.get(ti.id) ?? [], reason(ti)));
  }

  /** Task instances (with their tries) of several runs, by run id, in two queries whatever the number of runs. */
  async taskInstancesOfRuns(dagRunIds: number[]): Promise<Map<number, TaskInstanceView[]>> {
    const tis = await this.runs.taskInstancesOfRuns(dagRunIds);
    const [tries, reason] = await Promise.all([this.runs.tries(tis.map((t) => t.id)), this.reasons(tis)]);
    const byRun = new Map<number, TaskInstanceView[]>(dagRunIds.map((id) => [id, []]));
    for (const ti of tis) byRun.get(ti.dagRunId)?.push(view(ti, tries.get(ti.id) ?? [], reason(ti)));
    return byRun;
  }

  /**
   * One task instance: `mapIndex` −1 (the default) is an unmapped task's; a mapped task's instances are addressed by
   * their map index (0…n−1).
   */
  async taskInstance(dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<TaskInstanceView> {
    const run = await this.get(dagId, runId);
    const ti = await this.runs.taskInstance(run.id, taskId, mapIndex);
    if (!ti) {
      const mapped = mapIndex === -1 ? await this.runs.mappedInstanceCount(run.id, taskId) : 0;
      if (mapped) {
        throw new NotFoundError('task instance', `${dagId}/${runId}/${taskId}`, `task '${taskId}' is mapped (${mapped} instances): address one as taskInstances/${taskId}/{mapIndex}`);
      }
      throw new NotFoundError('task instance', `${dagId}/${runId}/${taskId}${mapIndex === -1 ? '' : `/${mapIndex}`}`);
    }
    const [tries, reason] = await Promise.all([this.runs.tries([ti.id]), this.reasons([ti])]);
    return view(ti, tries.get(ti.id) ?? [], reason(ti));
  }

  /** The state reasons of task instances: two small queries when some are queued, none otherwise. */
  private async reasons(tis: TaskInstanceRow[]): Promise<(ti: TaskInstanceRow) => string | null> {
    const queued = tis.filter((ti) => ti.state === 'queued');
    if (!queued.length) return () => null;
    const now = this.clock.now();
    const recentSince = new Date(now.getTime() - QUEUE_IDLE_SEC * 1000);
    const facts = await this.runs.queuedFacts([...new Set(queued.map((ti) => ti.pool))], [...new Set(queued.map((ti) => ti.queue))], recentSince);
    return (ti) => queuedReason(ti, facts, now);
  }

  private async requireDag(dagId: string): Promise<void> {
    if (!(await this.dags.exists(this.pool, dagId))) throw new NotFoundError('DAG', dagId);
  }
}

function view(ti: TaskInstanceRow, tries: TryRow[], stateReason: string | null): TaskInstanceView {
  const durationSec = ti.startDate && ti.endDate ? (ti.endDate.getTime() - ti.startDate.getTime()) / 1000 : null;
  return { ...ti, durationSec, tries, stateReason };
}
