import { Injectable } from '@nestjs/common';
import { AlertsService } from '../alerts/alerts.service.js';
import type { Queryable } from '../database/pg.js';
import { DatasetsRepository } from '../datasets/datasets.repository.js';
import type { DagDocument } from '../dags/domain/dag-document.schema.js';
import { dagGraphIndex, taskSettings, type TaskSettings } from './domain/dag-tasks.js';
import { deriveRunState } from './domain/derive-run-state.js';
import { resolveDownstream, resolvePending, type TaskStateChange } from './domain/resolve.js';
import { selectTasks } from './domain/select-tasks.js';
import { nextRetryAt, shouldRetry } from './domain/retry.js';
import { assertRunTransition, type RunState } from './domain/run-state.js';
import type { TaskGraphIndex } from './domain/task-graph.js';
import { assertTaskTransition, FINISHED_TASK_STATES, type TaskState } from './domain/task-state.js';
import { RunsRepository, type NewRun, type RunRow, type TaskInstanceRow } from './runs.repository.js';

/** Task types the scheduler evaluates itself; they never occupy a worker or pool slot. */
const SENSOR_TASK_TYPES = new Set(['external_task']);

type VersionInfo = { doc: DagDocument; index: TaskGraphIndex; settings: Map<string, TaskSettings> };

export type AttemptOutcome = { status: 'success' | 'failed'; error?: string | null; retryable?: boolean };

/**
 * The state engine of runs: creates runs, starts them, records attempt outcomes and evaluates downstream tasks,
 * always inside the caller's transaction so a task's end and its consequences commit together.
 */
@Injectable()
export class RunEngine {
  /** DAG versions are immutable, so their parsed graph is cached by id (bounded). */
  private readonly versions = new Map<number, VersionInfo>();

  constructor(
    private readonly runs: RunsRepository,
    private readonly datasets: DatasetsRepository,
    private readonly alerts: AlertsService,
  ) {}

  async version(db: Queryable, versionId: number): Promise<VersionInfo> {
    const cached = this.versions.get(versionId);
    if (cached) return cached;
    const doc = await this.runs.loadVersionDocument(db, versionId);
    const info = { doc, index: dagGraphIndex(doc), settings: new Map(doc.tasks.map((t) => [t.taskId, taskSettings(doc, t)])) };
    if (this.versions.size >= 500) this.versions.delete(this.versions.keys().next().value!);
    this.versions.set(versionId, info);
    return info;
  }

  /** Inserts a queued run with one task instance per task of its version; null if it already exists. */
  async createRun(db: Queryable, run: NewRun): Promise<RunRow | null> {
    const { settings } = await this.version(db, run.dagVersionId);
    return this.runs.insertRun(db, run, [...settings.values()]);
  }

  /** Many queued runs of one DAG version at once (the scheduler's catch-up); returns how many were new. */
  async createRuns(db: Queryable, runs: NewRun[]): Promise<number> {
    if (!runs.length) return 0;
    const { settings } = await this.version(db, runs[0]!.dagVersionId);
    return this.runs.insertRuns(db, runs, [...settings.values()]);
  }

  /**
   * Starts the DAG's oldest queued runs while fewer than maxActiveRuns are running. The caller holds the DAG's
   * row lock, which is what keeps concurrent schedulers and API replicas from exceeding the limit.
   */
  async startQueuedRuns(db: Queryable, dag: { dagId: string; isPaused: boolean; maxActiveRuns: number }, now: Date): Promise<RunRow[]> {
    if (dag.isPaused) return [];
    const running = await this.runs.countActiveScheduleRuns(db, dag.dagId);
    const free = dag.maxActiveRuns - running;
    if (free <= 0) return [];
    const started: RunRow[] = [];
    for (const run of await this.runs.queuedRuns(db, dag.dagId, free)) {
      const runningRun = await this.startRun(db, run, now);
      if (runningRun) started.push(runningRun);
    }
    return started;
  }

  /**
   * queued → running: every task still in `none` whose dependencies are met is queued (the roots of a new run;
   * after a clear, whatever the cleared tasks wait for). The caller holds the lock that guards the run limit.
   */
  async startRun(db: Queryable, run: RunRow, now: Date): Promise<RunRow | null> {
    assertRunTransition('queued', 'running');
    if (!(await this.runs.setRunState(db, run.id, 'queued', 'running', now))) return null;
    const runningRun: RunRow = { ...run, state: 'running', startDate: run.startDate ?? now };
    await this.reevaluate(db, runningRun, now);
    return runningRun;
  }

  /**
   * Clears task instances for another attempt: a running one has its attempt fenced first (its worker's next
   * call gets 409). A finished run goes back to queued, so it restarts under its DAG's (or backfill's) limit;
   * a running run re-evaluates at once.
   */
  async resetTasks(db: Queryable, run: RunRow, tis: TaskInstanceRow[], now: Date, reason: string): Promise<RunState> {
    const { settings } = await this.version(db, run.dagVersionId);
    for (const ti of tis) {
      if (ti.state === 'none') continue;
      assertTaskTransition(ti.state, 'none');
      if (ti.state === 'running') await this.runs.fenceAttempt(db, ti, reason, now);
    }
    const changed = tis.filter((ti) => ti.state !== 'none');
    await this.runs.resetTaskInstances(db, changed.map((ti) => ({ id: ti.id, retries: settings.get(ti.taskId)?.retries ?? 0 })), now);
    await this.runs.bumpClearNumber(db, run.id);
    if (run.state === 'success' || run.state === 'failed') {
      assertRunTransition(run.state, 'queued');
      await this.runs.setRunState(db, run.id, run.state, 'queued', now);
      return 'queued';
    }
    if (run.state === 'running') return this.reevaluate(db, run, now);
    return run.state;
  }

  /**
   * An operator sets task instances to success or failed. Running attempts are fenced. Tasks downstream that
   * never ran because of the old outcome (upstream_failed, skipped) are reset, then the run is re-evaluated,
   * so marking a failed task success lets its downstream run.
   */
  async markTasks(db: Queryable, run: RunRow, all: TaskInstanceRow[], targets: TaskInstanceRow[], to: 'success' | 'failed', now: Date): Promise<RunState> {
    const { index } = await this.version(db, run.dagVersionId);
    const marked = targets.filter((ti) => ti.state !== to);
    for (const ti of marked) {
      assertTaskTransition(ti.state, to);
      if (ti.state === 'running') await this.runs.fenceAttempt(db, ti, `attempt ended: marked ${to} by an operator`, now);
    }
    await this.runs.setTaskStates(db, marked.map((ti) => ti.id), to, now);
    const markedIds = new Set(marked.map((ti) => ti.taskId));
    const downstream = selectTasks(index, markedIds, { downstream: true });
    const unrun = all.filter((ti) => downstream.has(ti.taskId) && !markedIds.has(ti.taskId) && (ti.state === 'upstream_failed' || ti.state === 'skipped'));
    for (const ti of unrun) assertTaskTransition(ti.state, 'none');
    // Their try count is untouched: max_tries stays what it was.
    await this.runs.resetTaskInstances(db, unrun.map((ti) => ({ id: ti.id, retries: Math.max(0, ti.maxTries - 1 - ti.tryNumber) })), now);
    let current = run;
    if (run.state === 'success' || run.state === 'failed') {
      assertRunTransition(run.state, 'running');
      await this.runs.setRunState(db, run.id, run.state, 'running', now);
      current = { ...run, state: 'running' };
    }
    return current.state === 'running' ? this.reevaluate(db, current, now) : current.state;
  }

  /** Evaluates every task still in `none` against the current states, then the run's own state. */
  private async reevaluate(db: Queryable, run: RunRow, now: Date): Promise<RunState> {
    const { index } = await this.version(db, run.dagVersionId);
    await this.applyChanges(db, run, resolvePending(index, await this.runs.taskStates(db, run.id)), now);
    return this.evaluate(db, run, [], now);
  }

  /**
   * Records the outcome of the task instance's current attempt (locked by the caller, run row first) and, when
   * the task is done, evaluates its downstream tasks and the run in the same transaction.
   */
  async finishAttempt(
    db: Queryable,
    run: RunRow,
    ti: TaskInstanceRow,
    outcome: AttemptOutcome,
    now: Date,
  ): Promise<{ state: TaskState; runState: RunState }> {
    const { settings } = await this.version(db, run.dagVersionId);
    const task = settings.get(ti.taskId);
    let to: TaskState = outcome.status;
    let retryAt: Date | null = null;
    if (outcome.status === 'failed' && outcome.retryable !== false && task && shouldRetry(ti.tryNumber, ti.maxTries - 1)) {
      to = 'up_for_retry';
      retryAt = nextRetryAt({ tryNumber: ti.tryNumber, ...task.retry }, now);
    }
    assertTaskTransition(ti.state, to);
    await this.runs.finishAttempt(db, ti, to, now, { error: outcome.error ?? null, nextRetryAt: retryAt });
    if (to === 'failed') {
      const { doc } = await this.version(db, run.dagVersionId);
      await this.alerts.enqueueFailure(db, doc, 'task_failed', `${ti.id}:${ti.tryNumber}`, {
        dagId: run.dagId,
        runId: run.runId,
        taskId: ti.taskId,
        logicalDate: run.logicalDate,
        dagVersionId: run.dagVersionId,
        summary: `${ti.taskId} failed on try ${ti.tryNumber} of ${ti.maxTries}${outcome.error ? `: ${outcome.error}` : ''}`,
        details: { tryNumber: ti.tryNumber, maxTries: ti.maxTries, error: outcome.error ?? null },
        occurredAt: now,
      });
    }
    if (to === 'success' && task?.outlets.length) {
      await this.datasets.recordEvents(db, task.outlets, { dagId: run.dagId, runId: run.runId, taskId: ti.taskId, tryNumber: ti.tryNumber }, {}, now);
    }
    const runState = FINISHED_TASK_STATES.has(to) ? await this.evaluate(db, run, [ti.taskId], now) : run.state;
    return { state: to, runState };
  }

  /**
   * Evaluates the downstream of `finishedTaskIds` (transitively, one pass) and the run's own state; returns the
   * run's state after the evaluation.
   */
  async evaluate(db: Queryable, run: RunRow, finishedTaskIds: string[], now: Date): Promise<RunState> {
    const { index } = await this.version(db, run.dagVersionId);
    const states = await this.runs.taskStates(db, run.id);
    const changes = resolveDownstream(index, states, finishedTaskIds);
    await this.applyChanges(db, run, changes, now);
    for (const c of changes) states.set(c.taskId, c.to === 'scheduled' ? 'queued' : c.to);
    if (run.state !== 'running') return run.state;
    const derived = deriveRunState(states, index.leaves);
    if (derived === 'running') return derived;
    assertRunTransition('running', derived);
    await this.runs.setRunState(db, run.id, 'running', derived, now);
    if (derived === 'failed') {
      const { doc } = await this.version(db, run.dagVersionId);
      const failedTasks = [...states].filter(([, s]) => s === 'failed').map(([id]) => id);
      await this.alerts.enqueueFailure(db, doc, 'run_failed', `${run.id}:${run.clearNumber}`, {
        dagId: run.dagId,
        runId: run.runId,
        logicalDate: run.logicalDate,
        dagVersionId: run.dagVersionId,
        summary: `run ${run.runId} failed (failed tasks: ${failedTasks.join(', ') || 'none'})`,
        details: { failedTasks },
        occurredAt: now,
      });
    }
    return derived;
  }

  private async applyChanges(db: Queryable, run: RunRow, changes: TaskStateChange[], now: Date): Promise<void> {
    const { settings } = await this.version(db, run.dagVersionId);
    const toQueue: string[] = [];
    const sensors: string[] = [];
    const upstreamFailed: string[] = [];
    const skipped: string[] = [];
    for (const c of changes) {
      assertTaskTransition(c.from, c.to);
      if (c.to === 'upstream_failed') upstreamFailed.push(c.taskId);
      else if (c.to === 'skipped') skipped.push(c.taskId);
      else if (SENSOR_TASK_TYPES.has(settings.get(c.taskId)?.taskType ?? '')) sensors.push(c.taskId);
      else {
        assertTaskTransition('scheduled', 'queued');
        toQueue.push(c.taskId);
      }
    }
    await this.runs.finishUnrunTasks(db, run.id, upstreamFailed, 'upstream_failed', now);
    await this.runs.finishUnrunTasks(db, run.id, skipped, 'skipped', now);
    await this.runs.scheduleSensorTasks(db, run.id, sensors, now);
    await this.runs.queueTasks(db, run.id, toQueue, now);
  }
}
