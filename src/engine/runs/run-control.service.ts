import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { AuditService } from '../../audit/audit.service.js';
import { Clock } from '../../common/clock.js';
import { NotFoundError, ValidationError } from '../../common/errors.js';
import { PG_POOL } from '../../database/pg.js';
import { Transactions } from '../../database/transactions.js';
import type { UnitOfWork } from '../../database/unit-of-work.js';
import { selectTasks } from './domain/select-tasks.js';
import type { RunState } from './domain/run-state.js';
import { FINISHED_TASK_STATES, type TaskState } from './domain/task-state.js';
import { RunEngine } from './run-engine.service.js';
import { DagSchedulingRepository, RunsRepository } from './runs.repository.js';
import type { RunRow, TaskInstanceRow } from './domain/run-rows.js';
import { RunsService } from './runs.service.js';

export type ClearRequest = {
  taskIds?: string[];
  /** Only these instances of the tasks in taskIds (mapped tasks); their up/downstream tasks are cleared whole. */
  mapIndexes?: number[];
  includeDownstream?: boolean;
  includeUpstream?: boolean;
  /** Only task instances in these states (after up/downstream expansion), e.g. failed and upstream_failed. */
  states?: TaskState[];
  runIds?: string[];
  logicalDateGte?: Date;
  logicalDateLte?: Date;
  dryRun: boolean;
};

/**
 * A task instance an action touched, as it is after the action (`state`, `tryNumber`), with the state it had
 * before. In a dry run nothing changes: both states are the current one.
 */
export type AffectedTask = { runId: string; taskId: string; mapIndex: number; state: TaskState; previousState: TaskState; tryNumber: number };

/** Operators' changes to runs that already exist: clear, mark task instances, mark runs (Airflow's run control). */
@Injectable()
export class RunControlService {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    private readonly runs: RunsRepository,
    private readonly dags: DagSchedulingRepository,
    private readonly engine: RunEngine,
    private readonly runsService: RunsService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Resets the selected task instances to `none` so they run again with a new try number. With dryRun (the
   * default) nothing changes and the answer lists exactly what would be cleared.
   */
  async clear(dagId: string, req: ClearRequest): Promise<{ dryRun: boolean; taskInstances: AffectedTask[] }> {
    // A window that ends before it starts holds no run: say so rather than answer "nothing to clear".
    if (req.logicalDateGte && req.logicalDateLte && req.logicalDateGte > req.logicalDateLte) {
      throw new ValidationError([{ path: 'endDate', message: `must not be before startDate (${req.logicalDateGte.toISOString()})` }]);
    }
    if (!(await this.dags.exists(this.pool, dagId))) throw new NotFoundError('DAG', dagId);
    const now = this.clock.now();
    const affected: AffectedTask[] = [];
    for (const candidate of await this.runs.runsForClear(this.pool, { dagId, ...req })) {
      const picked = await this.transactions.run(async (db) => {
        const run = await this.runs.lockRun(db, candidate.id);
        if (!run) return [];
        const all = await this.runs.lockTaskInstancesOfRun(db, run.id);
        const selected = await this.select(db, run, all, req.taskIds, req);
        // mapIndexes narrows the tasks named in taskIds to those instances; their up/downstream tasks are taken whole.
        const named = new Set(req.taskIds ?? []);
        const chosen = all.filter(
          (ti) =>
            selected.has(ti.taskId) &&
            (!req.mapIndexes || !named.has(ti.taskId) || req.mapIndexes.includes(ti.mapIndex)) &&
            (!req.states || req.states.includes(ti.state)) &&
            ti.state !== 'none',
        );
        if (req.dryRun || !chosen.length) return affectedAfter(run.runId, chosen, chosen);
        await this.engine.resetTasks(db, run, chosen, now, 'attempt ended: task cleared by an operator');
        await this.audit.record({ action: 'clear', target: `${dagId}/${run.runId}`, details: { taskIds: chosen.map((t) => t.taskId) } }, db);
        return affectedAfter(run.runId, chosen, await this.runs.lockTaskInstancesOfRun(db, run.id));
      });
      affected.push(...picked);
    }
    return { dryRun: req.dryRun, taskInstances: affected };
  }

  /** PATCH a task instance's state (with its upstream/downstream when asked). */
  async markTask(
    dagId: string,
    runId: string,
    taskId: string,
    req: { newState: 'success' | 'failed'; includeUpstream?: boolean; includeDownstream?: boolean; dryRun: boolean; mapIndex?: number },
  ): Promise<{ dryRun: boolean; taskInstances: AffectedTask[]; runState: RunState }> {
    const now = this.clock.now();
    const run0 = await this.runs.findRunByRunId(this.pool, dagId, runId);
    if (!run0) throw new NotFoundError('DAG run', `${dagId}/${runId}`);
    const result = await this.transactions.run(async (db) => {
      const run = (await this.runs.lockRun(db, run0.id))!;
      const all = await this.runs.lockTaskInstancesOfRun(db, run.id);
      // Without a map index, every instance of the task; with one, that instance (its up/downstream tasks whole).
      const own = (ti: TaskInstanceRow) => ti.taskId === taskId && (req.mapIndex === undefined || ti.mapIndex === req.mapIndex);
      if (!all.some(own)) throw new NotFoundError('task instance', `${dagId}/${runId}/${taskId}${req.mapIndex === undefined ? '' : `/${req.mapIndex}`}`);
      const selected = await this.select(db, run, all, [taskId], req);
      const targets = all.filter((ti) => (ti.taskId === taskId ? own(ti) : selected.has(ti.taskId)) && ti.state !== req.newState && ti.state !== 'removed');
      if (req.dryRun || !targets.length) return { affected: affectedAfter(runId, targets, targets), runState: run.state };
      const runState = await this.engine.markTasks(db, run, all, targets, req.newState, now);
      await this.audit.record({ action: `mark_${req.newState}`, target: `${dagId}/${runId}`, details: { taskIds: targets.map((t) => t.taskId) } }, db);
      return { affected: affectedAfter(runId, targets, await this.runs.lockTaskInstancesOfRun(db, run.id)), runState };
    });
    return { dryRun: req.dryRun, taskInstances: result.affected, runState: result.runState };
  }

  /**
   * Marks a whole run. success: every unfinished task instance becomes success. failed: running ones fail and
   * the ones that have not started are skipped (as Airflow does). Live attempts are fenced.
   */
  async markRun(dagId: string, runId: string, to: 'success' | 'failed'): Promise<RunRow> {
    const now = this.clock.now();
    const run0 = await this.runs.findRunByRunId(this.pool, dagId, runId);
    if (!run0) throw new NotFoundError('DAG run', `${dagId}/${runId}`);
    await this.transactions.run(async (db) => {
      const run = (await this.runs.lockRun(db, run0.id))!;
      if (run.state === to) return;
      if (!['queued', 'running', 'success', 'failed'].includes(run.state)) throw new ValidationError([{ path: 'state', message: `cannot mark a ${run.state} run` }]);
      const unfinished = (await this.runs.lockTaskInstancesOfRun(db, run.id)).filter((ti) => !FINISHED_TASK_STATES.has(ti.state));
      await this.engine.markRun(db, run, unfinished, to, now);
      await this.audit.record({ action: `mark_run_${to}`, target: `${dagId}/${runId}` }, db);
    });
    return this.runsService.get(dagId, runId);
  }

  private async select(
    db: UnitOfWork,
    run: RunRow,
    all: TaskInstanceRow[],
    taskIds: string[] | undefined,
    opts: { includeDownstream?: boolean; includeUpstream?: boolean },
  ): Promise<Set<string>> {
    const { index } = await this.engine.version(db, run.dagVersionId);
    const seeds = taskIds ?? all.map((ti) => ti.taskId);
    return selectTasks(index, seeds, { downstream: opts.includeDownstream, upstream: opts.includeUpstream });
  }
}

/** The task instances `before` as they are in `after` (the run's rows read again once the action is done). */
function affectedAfter(runId: string, before: TaskInstanceRow[], after: TaskInstanceRow[]): AffectedTask[] {
  const now = new Map(after.map((ti) => [ti.id, ti]));
  return before.map((ti) => {
    const current = now.get(ti.id) ?? ti;
    return { runId, taskId: ti.taskId, mapIndex: ti.mapIndex, state: current.state, previousState: ti.state, tryNumber: current.tryNumber };
  });
}
