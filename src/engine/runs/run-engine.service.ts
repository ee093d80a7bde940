import { Injectable } from '@nestjs/common';
import { AlertsService } from '../../alerts/alerts.service.js';
import type { Queryable } from '../../database/pg.js';
import { DatasetsRepository } from '../../datasets/datasets.repository.js';
import type { DagDocument } from '../../dags/domain/dag-document.schema.js';
import { dagGraphIndex, taskSettings, type TaskSettings } from './domain/dag-tasks.js';
import { deriveRunState } from './domain/derive-run-state.js';
import { LruCache } from './domain/lru-cache.js';
import { applyChanges, replaceInstanceState, resolveDownstream, resolvePending, type Resolution, type TaskStateChange } from './domain/resolve.js';
import { selectTasks } from './domain/select-tasks.js';
import { nextRetryAt, shouldRetry } from './domain/retry.js';
import { assertRunTransition, type RunState } from './domain/run-state.js';
import type { TaskGraphIndex } from './domain/task-graph.js';
import { assertTaskTransition, FINISHED_TASK_STATES, type TaskState } from './domain/task-state.js';
import { RunsRepository, type NewRun, type RunRow, type TaskInstanceRow } from './runs.repository.js';

/** Parsed DAG versions kept in memory (see RunEngine.versions). */
const VERSION_CACHE_SIZE = 4096;

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
  /**
   * DAG versions are immutable, so their parsed graph is cached by id, least recently used out: sized above the
   * number of DAGs a scheduler tick visits (WEFT_SCHEDULER_DAGS_PER_TICK, 1,000 by default), so a tick over every
   * DAG does not reload and re-index each document.
   */
  private readonly versions = new LruCache<number, VersionInfo>(VERSION_CACHE_SIZE);

  constructor(
    private readonly runs: RunsRepository,
    private readonly datasets: DatasetsRepository,
    private readonly alerts: AlertsService,
  ) {}

  async version(db: Queryable, versionId: number): Promise<VersionInfo> {
    const cached = this.versions.get(versionId);
    if (cached) return cached;
    return this.remember(versionId, await this.runs.loadVersionDocument(db, versionId));
  }

  /** Loads the versions not cached yet in one statement (a scheduler batch over many DAGs), so version() hits. */
  async preloadVersions(db: Queryable, versionIds: number[]): Promise<void> {
    const missing = [...new Set(versionIds)].filter((id) => !this.versions.get(id));
    if (!missing.length) return;
    for (const [id, doc] of await this.runs.loadVersionDocuments(db, missing)) this.remember(id, doc);
  }

  private remember(versionId: number, doc: DagDocument): VersionInfo {
    const info = { doc, index: dagGraphIndex(doc), settings: new Map(doc.tasks.map((t) => [t.taskId, taskSettings(doc, t)])) };
    this.versions.set(versionId, info);
    return info;
  }

  /** Inserts a queued run with one task instance per task of its version; null if it already exists. */
  async createRun(db: Queryable, run: NewRun): Promise<RunRow | null> {
    const { settings } = await this.version(db, run.dagVersionId);
    return this.runs.insertRun(db, run, [...settings.values()]);
  }

  /** Many queued runs of one DAG version, type and backfill at once (catch-up, backfills); returns those created. */
  async createRuns(db: Queryable, runs: NewRun[]): Promise<RunRow[]> {
    if (!runs.length) return [];
    const { settings } = await this.version(db, runs[0]!.dagVersionId);
    return this.runs.insertRuns(db, runs, [...settings.values()]);
  }

  /**
   * Starts the DAG's oldest queued runs while fewer than maxActiveRuns are running. The caller holds the DAG's
   * row lock, which is what keeps concurrent schedulers and API replicas from exceeding the limit.
   */
  async startQueuedRuns(
    db: Queryable,
    dag: { dagId: string; isPaused: boolean; maxActiveRuns: number },
    now: Date,
    createdIds: number[] = [],
  ): Promise<RunRow[]> {
    if (dag.isPaused) return [];
    return this.startRuns(db, await this.runs.startableRuns(db, dag.dagId, dag.maxActiveRuns), now, createdIds);
  }

  /** queued → running for one run (see startRuns); null when it was no longer queued. */
  async startRun(db: Queryable, run: RunRow, now: Date): Promise<RunRow | null> {
    const [started] = await this.startRuns(db, [run], now);
    return started ?? null;
  }

  /**
   * queued → running, set-based: in every run, each task still in `none` whose dependencies are met is queued
   * (the roots of a new run; after a clear, whatever the cleared tasks wait for). Three statements whatever the
   * number of runs: the task states of the runs that have any, then the run and task changes with their NOTIFYs.
   * The caller holds the runs' row locks (startableRuns) or otherwise the lock that guards their run limit.
   * `createdIds`: runs created in this transaction, whose tasks are all in `none` without looking.
   */
  async startRuns(db: Queryable, runs: RunRow[], now: Date, createdIds: Iterable<number> = []): Promise<RunRow[]> {
    const queued = runs.filter((r) => r.state === 'queued');
    if (!queued.length) return [];
    assertRunTransition('queued', 'running');
    const created = new Set(createdIds);
    const unknown = queued.filter((r) => !created.has(r.id)).map((r) => r.id);
    const started = unknown.length ? await this.runs.startedTaskStates(db, unknown) : new Map<number, Map<string, TaskState[]>>();
    const changes: Parameters<RunsRepository['applyEvaluation']>[1] = [];
    const finishing: RunRow[] = [];
    // A run that never started has every task in `none`: its changes are the same for every run of its version.
    const fresh = new Map<number, { changes: TaskStateChange[]; finishes: boolean }>();
    for (const run of queued) {
      const { index } = await this.version(db, run.dagVersionId);
      const known = started.get(run.id);
      let plan = known ? undefined : fresh.get(run.dagVersionId);
      if (!plan) {
        const states = new Map(index.topologicalOrder.map((taskId): [string, TaskState[]] => [taskId, known?.get(taskId) ?? ['none']]));
        const pending = settled(resolvePending(index, states));
        applyChanges(states, pending);
        plan = { changes: pending, finishes: deriveRunState(states, index.leaves) !== 'running' };
        if (!known) fresh.set(run.dagVersionId, plan);
      }
      for (const c of plan.changes) changes.push(await this.placeChange(db, run, c));
      if (plan.finishes) finishing.push(run);
    }
    await this.runs.applyEvaluation(db, changes, queued.map((r) => ({ id: r.id, from: 'queued' as const, to: 'running' as const })), now);
    const result = queued.map((run): RunRow => ({ ...run, state: 'running', startDate: run.startDate ?? now }));
    // Rare: a run with nothing left to do (every task already finished) ends at once, with its alerts.
    for (const run of finishing) {
      const state = await this.evaluate(db, { ...run, state: 'running', startDate: run.startDate ?? now }, [], now);
      const i = result.findIndex((r) => r.id === run.id);
      result[i] = { ...result[i]!, state };
    }
    return result;
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
    const states = await this.runs.taskStates(db, run.id);
    return this.evaluateWith(db, run, states, settled(resolvePending(index, states)), now);
  }

  /**
   * Records the outcome of the task instance's current attempt (locked by the caller, run row first) and, when
   * the task is done, evaluates its downstream tasks and the run in the same transaction. With `lease`, that live
   * lease ends in the same statement (its pool and maxActiveTasks slot free up) and the attempt keeps the
   * completion's hash (a repeated completion is recognised by it).
   */
  async finishAttempt(
    db: Queryable,
    run: RunRow,
    ti: TaskInstanceRow,
    outcome: AttemptOutcome,
    now: Date,
    lease?: { id: string; completionHash: string | null },
  ): Promise<{ state: TaskState; runState: RunState }> {
    const { settings } = await this.version(db, run.dagVersionId);
    const task = settings.get(ti.taskId);
    const { to, retryAt } = attemptEnd(task, ti, outcome, now);
    assertTaskTransition(ti.state, to);
    const finished = FINISHED_TASK_STATES.has(to);
    // The run's other task states come back with the write (read after the run lock, so they are current).
    const states = await this.runs.finishAttempt(db, ti, to, now, {
      error: outcome.error ?? null,
      nextRetryAt: retryAt,
      lease: lease ?? null,
      readStates: finished,
    });
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
    if (!states) return { state: to, runState: run.state };
    replaceInstanceState(states, ti.taskId, ti.state, to);
    const { index } = await this.version(db, run.dagVersionId);
    return { state: to, runState: await this.evaluateWith(db, run, states, settled(resolveDownstream(index, states, [ti.taskId])), now) };
  }

  /**
   * How a running attempt ends without any evaluation (LeasesService's one-statement completion), or null when it
   * needs one: it goes up for retry, or it succeeded on a task nothing depends on and with no dataset outlets (the
   * run's state may still change: weft_finish_quietly checks that another task of the run is unfinished).
   */
  async quietEnd(
    db: Queryable,
    a: { dagVersionId: number; taskId: string; tryNumber: number; maxTries: number },
    outcome: AttemptOutcome,
    now: Date,
  ): Promise<{ to: 'success' | 'up_for_retry'; retryAt: Date | null } | null> {
    const { settings, index } = await this.version(db, a.dagVersionId);
    const task = settings.get(a.taskId);
    if (!task) return null;
    const end = attemptEnd(task, a, outcome, now);
    assertTaskTransition('running', end.to);
    if (end.to === 'up_for_retry') return { to: end.to, retryAt: end.retryAt };
    if (end.to === 'success' && !task.outlets.length && !index.downstream.get(a.taskId)?.length) return { to: end.to, retryAt: null };
    return null;
  }

  /**
   * Evaluates the downstream of `finishedTaskIds` (transitively, one pass) and the run's own state; returns the
   * run's state after the evaluation.
   */
  async evaluate(db: Queryable, run: RunRow, finishedTaskIds: string[], now: Date): Promise<RunState> {
    const { index } = await this.version(db, run.dagVersionId);
    const states = await this.runs.taskStates(db, run.id);
    return this.evaluateWith(db, run, states, settled(resolveDownstream(index, states, finishedTaskIds)), now);
  }

  /**
   * Applies `changes` (resolved against `states`, the run's current task states) and derives the run's state from
   * the result, writing both in one statement; a failed run raises its alert.
   */
  private async evaluateWith(db: Queryable, run: RunRow, states: Map<string, TaskState[]>, changes: TaskStateChange[], now: Date): Promise<RunState> {
    const { index } = await this.version(db, run.dagVersionId);
    const writes = [];
    for (const c of changes) writes.push(await this.placeChange(db, run, c));
    applyChanges(states, changes);
    const derived = run.state === 'running' ? deriveRunState(states, index.leaves) : run.state;
    if (derived !== run.state) assertRunTransition('running', derived);
    await this.runs.applyEvaluation(db, writes, derived !== run.state ? [{ id: run.id, from: 'running', to: derived }] : [], now);
    if (derived === 'failed' && run.state === 'running') {
      const { doc } = await this.version(db, run.dagVersionId);
      const failedTasks = [...states].filter(([, s]) => s.includes('failed')).map(([id]) => id);
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

  /**
   * Where a resolved change lands: a task made ready is queued for a worker, or scheduled when the scheduler
   * evaluates it itself (sensors); upstream_failed and skipped finish it without an attempt.
   */
  private async placeChange(db: Queryable, run: RunRow, c: TaskStateChange): Promise<{ dagRunId: number; taskId: string; to: 'queued' | 'scheduled' | 'upstream_failed' | 'skipped' }> {
    assertTaskTransition(c.from, c.to);
    if (c.to !== 'scheduled') return { dagRunId: run.id, taskId: c.taskId, to: c.to };
    const { settings } = await this.version(db, run.dagVersionId);
    if (SENSOR_TASK_TYPES.has(settings.get(c.taskId)?.taskType ?? '')) return { dagRunId: run.id, taskId: c.taskId, to: 'scheduled' };
    assertTaskTransition('scheduled', 'queued');
    return { dagRunId: run.id, taskId: c.taskId, to: 'queued' };
  }
}

/** Changes of a resolution with nothing deferred (no DAG version has mapped or inline tasks yet). */
function settled(resolution: Resolution): TaskStateChange[] {
  if (resolution.deferred.length) throw new Error(`tasks ${resolution.deferred.join(', ')} need the engine to decide them`);
  return resolution.changes;
}

/** The state an attempt ends in: a retryable failure with tries left goes up for retry, after its delay. */
function attemptEnd(
  task: TaskSettings | undefined,
  attempt: { tryNumber: number; maxTries: number },
  outcome: AttemptOutcome,
  now: Date,
): { to: TaskState; retryAt: Date | null } {
  if (outcome.status === 'failed' && outcome.retryable !== false && task && shouldRetry(attempt.tryNumber, attempt.maxTries - 1)) {
    return { to: 'up_for_retry', retryAt: nextRetryAt({ tryNumber: attempt.tryNumber, ...task.retry }, now) };
  }
  return { to: outcome.status, retryAt: null };
}
