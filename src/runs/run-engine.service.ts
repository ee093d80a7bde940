import { Injectable } from '@nestjs/common';
import type { Queryable } from '../database/pg.js';
import type { DagDocument } from '../dags/domain/dag-document.schema.js';
import { dagGraphIndex, taskSettings, type TaskSettings } from './domain/dag-tasks.js';
import { deriveRunState } from './domain/derive-run-state.js';
import { initialReadyTasks, resolveDownstream, type TaskStateChange } from './domain/resolve.js';
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

  constructor(private readonly runs: RunsRepository) {}

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

  /**
   * Starts the DAG's oldest queued runs while fewer than maxActiveRuns are running. The caller holds the DAG's
   * row lock, which is what keeps concurrent schedulers and API replicas from exceeding the limit.
   */
  async startQueuedRuns(db: Queryable, dag: { dagId: string; isPaused: boolean; maxActiveRuns: number }, now: Date): Promise<RunRow[]> {
    if (dag.isPaused) return [];
    const running = await this.runs.countRunsInState(db, dag.dagId, 'running');
    const free = dag.maxActiveRuns - running;
    if (free <= 0) return [];
    const started: RunRow[] = [];
    for (const run of await this.runs.queuedRuns(db, dag.dagId, free)) {
      assertRunTransition('queued', 'running');
      if (!(await this.runs.setRunState(db, run.id, 'queued', 'running', now))) continue;
      const { index } = await this.version(db, run.dagVersionId);
      await this.applyChanges(db, run, initialReadyTasks(index), now);
      const runningRun: RunRow = { ...run, state: 'running', startDate: now };
      started.push(runningRun);
      // A run whose tasks are all decided at once (say, every task skipped) finishes here.
      await this.evaluate(db, runningRun, [], now);
    }
    return started;
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
