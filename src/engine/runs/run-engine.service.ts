import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type Config } from '../../config/config.js';
import type { Queryable } from '../../database/pg.js';
import type { UnitOfWork } from '../../database/unit-of-work.js';
import type { DagDocument } from '../../dags/domain/dag-document.schema.js';
import { EngineEvents } from '../engine-events.js';
import { LeaseHandOff } from '../leases/lease-hand-off.js';
import { dagGraphIndex, skipDecisionOf, taskSettings, type TaskSettings } from './domain/dag-tasks.js';
import { deriveRunState } from './domain/derive-run-state.js';
import { expandPulls, expandTask, type ExpandSource, type Expansion, type PulledXcom } from './domain/expand.js';
import { checkChoice, followOf, parseChoice } from './domain/follow.js';
import { renderTemplate } from '../../templating/domain/render-template.js';
import { TemplateError } from '../../templating/domain/template-error.js';
import { LruCache } from './domain/lru-cache.js';
import { applyChanges, replaceInstanceState, resolveDownstream, resolvePending, type Resolution, type TaskStateChange } from './domain/resolve.js';
import { selectTasks } from './domain/select-tasks.js';
import { nextRetryAt, shouldRetry } from './domain/retry.js';
import { assertRunTransition, type RunState } from './domain/run-state.js';
import type { TaskGraphIndex } from './domain/task-graph.js';
import { assertTaskTransition, FINISHED_TASK_STATES, type TaskState } from './domain/task-state.js';
import { RunsRepository, type AuditRowValues, type DagSchedulingRow, type NewRun } from './runs.repository.js';
import { TaskContexts } from './task-contexts.service.js';
import type { RunRow, TaskInstanceRow } from './domain/run-rows.js';

/** Run states a run reaches by ending, or by going back to wait for a slot: either way other queued runs may start. */
const FREES_OR_QUEUES: ReadonlySet<RunState> = new Set<RunState>(['success', 'failed', 'queued']);

/** Parsed DAG versions kept in memory (see RunEngine.versions). */
const VERSION_CACHE_SIZE = 4096;

/** Task types the scheduler evaluates itself; they never occupy a worker or pool slot. */
const SENSOR_TASK_TYPES = new Set(['external_task']);

type VersionInfo = {
  doc: DagDocument;
  index: TaskGraphIndex;
  settings: Map<string, TaskSettings>;
  tasks: Map<string, DagDocument['tasks'][number]>;
  /** Whether any task is a branch or short-circuit: only then are a run's follow decisions read. */
  deciders: boolean;
  /** A new run's start when it is the same for every run of the version (freshStart); undefined until asked. */
  freshStart?: PlacedChange[] | null;
};

/** A resolved change as it is written: where the task instance goes (placeChange). */
type PlacedChange = { taskId: string; to: 'queued' | 'scheduled' | 'upstream_failed' | 'skipped' };

/**
 * A resolution carried to its end: the plain changes, and the mapped tasks the engine expanded on the way (each with
 * its outcome), in the order found.
 */
type Plan = {
  changes: TaskStateChange[];
  expansions: { taskId: string; outcome: Expansion }[];
  /** Built-in branches the engine decided: success with what they follow, or failed with why. */
  decisions: { taskId: string; follow: string[] | null; error: string | null }[];
};

export type AttemptOutcome = {
  status: 'success' | 'failed';
  error?: string | null;
  retryable?: boolean;
  /** A branch task's choice (else its return_value XCom). */
  followTaskIds?: string[];
  xcom?: Record<string, unknown>;
};

/**
 * The state engine of runs: creates runs, starts them, records attempt outcomes and evaluates downstream tasks,
 * always inside the caller's transaction so a task's end and its consequences commit together. What that transaction
 * must do besides is named on it: tasks it queues go through its lease hand-off (LeaseHandOff, before commit), a run
 * that ends or goes back to queued raises EngineEvents.runsMayStart (after commit), failures and dataset updates
 * raise the in-transaction events that alerts and datasets write.
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
    private readonly events: EngineEvents,
    private readonly handOff: LeaseHandOff,
    private readonly contexts: TaskContexts,
    @Inject(CONFIG) private readonly config: Config,
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
    const info = {
      doc,
      index: dagGraphIndex(doc),
      settings: new Map(doc.tasks.map((t) => [t.taskId, taskSettings(doc, t)])),
      tasks: new Map(doc.tasks.map((t) => [t.taskId, t])),
      deciders: doc.tasks.some((t) => skipDecisionOf(t) !== null),
    };
    this.versions.set(versionId, info);
    return info;
  }

  /**
   * Inserts a queued run with one task instance per task of its version; null if it already exists. `now` is the
   * transaction's time, the one that also starts it (startRuns): a run is never started before it was queued.
   */
  async createRun(tx: UnitOfWork, run: NewRun, now: Date): Promise<RunRow | null> {
    const { settings } = await this.version(tx, run.dagVersionId);
    return this.runs.insertRun(tx, run, [...settings.values()], now);
  }

  /**
   * Locks the run's DAG and, when the DAG's current version is the run's, creates the run with its audit row, in one
   * statement (RunsRepository.lockDagAndInsertRun, which says what each answer means). Null, having done nothing,
   * when that version is not in memory (it may be gone with its DAG): the caller locks the DAG first.
   */
  async lockDagAndCreateRun(
    tx: UnitOfWork,
    run: NewRun,
    audit: AuditRowValues,
    now: Date,
  ): Promise<{ dag: DagSchedulingRow | null; run: RunRow | null } | null> {
    const info = this.versions.get(run.dagVersionId);
    if (!info) return null;
    return this.runs.lockDagAndInsertRun(tx, run, [...info.settings.values()], audit, now);
  }

  /** Many queued runs of one DAG version, type and backfill at once (catch-up, backfills); returns those created. */
  async createRuns(tx: UnitOfWork, runs: NewRun[], now: Date): Promise<RunRow[]> {
    if (!runs.length) return [];
    const { settings } = await this.version(tx, runs[0]!.dagVersionId);
    return this.runs.insertRuns(tx, runs, [...settings.values()], now);
  }

  /**
   * Starts the DAG's oldest queued runs while fewer than maxActiveRuns are running. The caller holds the DAG's
   * row lock, which is what keeps concurrent schedulers and API replicas from exceeding the limit.
   */
  async startQueuedRuns(
    tx: UnitOfWork,
    dag: { dagId: string; isPaused: boolean; maxActiveRuns: number },
    now: Date,
    createdIds: number[] = [],
  ): Promise<RunRow[]> {
    if (dag.isPaused) return [];
    return this.startRuns(tx, await this.runs.startableRuns(tx, dag.dagId, dag.maxActiveRuns), now, createdIds);
  }

  /**
   * Starts a run the caller's transaction has just created (a manual trigger), under the DAG lock it holds: in one
   * statement when the run is the only one of its DAG that may start now and its start is the same for every run of
   * its version (freshStart); the general way (startQueuedRuns) otherwise. Returns the run as it is now: running, or
   * still queued (paused DAG, no room under maxActiveRuns).
   */
  async startCreatedRun(tx: UnitOfWork, dag: { dagId: string; isPaused: boolean; maxActiveRuns: number }, run: RunRow, now: Date): Promise<RunRow> {
    if (dag.isPaused) return run;
    const changes = this.freshStart(await this.version(tx, run.dagVersionId));
    if (changes) {
      assertRunTransition('queued', 'running');
      const { started, startable } = await this.runs.startCreatedRun(tx, dag, run.id, changes, now, tx.effect(this.handOff));
      if (started) return { ...run, state: 'running', startDate: run.startDate ?? now };
      // Nothing may start, so the run waits for a slot; or older queued runs come first, and those start below.
      if (!startable.length) return run;
    }
    const started = await this.startQueuedRuns(tx, dag, now, [run.id]);
    return started.find((r) => r.id === run.id) ?? run;
  }

  /**
   * The changes that start a new run of a version (every task in `none`), when they need no look at the run:
   * null when its start decides something per run (a built-in branch or a mapped task among its first tasks) or
   * would end the run at once. Computed once per version.
   */
  private freshStart(info: VersionInfo): PlacedChange[] | null {
    if (info.freshStart !== undefined) return info.freshStart;
    const states = new Map(info.index.topologicalOrder.map((taskId): [string, TaskState[]] => [taskId, ['none']]));
    const resolution = resolvePending(info.index, states);
    applyChanges(states, resolution.changes);
    const same = !resolution.deferred.length && deriveRunState(states, info.index.leaves) === 'running';
    info.freshStart = same ? resolution.changes.map((c) => place(info.settings, c)) : null;
    return info.freshStart;
  }

  /** queued → running for one run (see startRuns); null when it was no longer queued. */
  async startRun(tx: UnitOfWork, run: RunRow, now: Date): Promise<RunRow | null> {
    const [started] = await this.startRuns(tx, [run], now);
    return started ?? null;
  }

  /**
   * queued → running, set-based: in every run, each task still in `none` whose dependencies are met is queued
   * (the roots of a new run; after a clear, whatever the cleared tasks wait for). Three statements whatever the
   * number of runs: the task states of the runs that have any, then the run and task changes with their NOTIFYs.
   * The caller holds the runs' row locks (startableRuns) or otherwise the lock that guards their run limit.
   * `createdIds`: runs created in this transaction, whose tasks are all in `none` without looking.
   */
  async startRuns(tx: UnitOfWork, runs: RunRow[], now: Date, createdIds: Iterable<number> = []): Promise<RunRow[]> {
    const queued = runs.filter((r) => r.state === 'queued');
    if (!queued.length) return [];
    assertRunTransition('queued', 'running');
    const created = new Set(createdIds);
    const unknown = queued.filter((r) => !created.has(r.id)).map((r) => r.id);
    const started = unknown.length ? await this.runs.startedTaskStates(tx, unknown) : new Map<number, Map<string, TaskState[]>>();
    const changes: Parameters<RunsRepository['applyEvaluation']>[1] = [];
    const finishing: RunRow[] = [];
    // A run that never started has every task in `none`: its changes are the same for every run of its version (an
    // expansion there is over literal lists, also the same; each run gets its own instances).
    const fresh = new Map<number, Plan & { finishes: boolean }>();
    for (const run of queued) {
      const { index } = await this.version(tx, run.dagVersionId);
      const known = started.get(run.id);
      let plan = known ? undefined : fresh.get(run.dagVersionId);
      if (!plan) {
        const states = new Map(index.topologicalOrder.map((taskId): [string, TaskState[]] => [taskId, known?.get(taskId) ?? ['none']]));
        const follow = known ? await this.followDecisions(tx, run) : new Map<string, string[]>();
        const settled = await this.settle(tx, run, states, resolvePending(index, states, follow), follow);
        plan = { ...settled, finishes: deriveRunState(states, index.leaves) !== 'running' };
        // A built-in branch decided at the start reads the run's own conf: not shared.
        if (!known && !plan.decisions.length) fresh.set(run.dagVersionId, plan);
      }
      await this.writePlan(tx, run, plan, now);
      for (const c of plan.changes) changes.push(await this.placeChange(tx, run, c));
      if (plan.finishes) finishing.push(run);
    }
    const runStates = queued.map((r) => ({ id: r.id, from: 'queued' as const, to: 'running' as const }));
    await this.runs.applyEvaluation(tx, changes, runStates, now, tx.effect(this.handOff));
    const result = queued.map((run): RunRow => ({ ...run, state: 'running', startDate: run.startDate ?? now }));
    // Rare: a run with nothing left to do (every task already finished) ends at once, with its alerts.
    for (const run of finishing) {
      const state = await this.evaluate(tx, { ...run, state: 'running', startDate: run.startDate ?? now }, [], now);
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
  async resetTasks(tx: UnitOfWork, run: RunRow, tis: TaskInstanceRow[], now: Date, reason: string): Promise<RunState> {
    const { settings } = await this.version(tx, run.dagVersionId);
    for (const ti of tis) {
      if (ti.state === 'none') continue;
      assertTaskTransition(ti.state, 'none');
      if (ti.state === 'running') await this.runs.fenceAttempt(tx, ti, reason, now);
    }
    const changed = tis.filter((ti) => ti.state !== 'none');
    await this.runs.resetTaskInstances(tx, changed.map((ti) => ({ id: ti.id, retries: settings.get(ti.taskId)?.retries ?? 0 })), now);
    await this.runs.bumpClearNumber(tx, run.id);
    if (run.state === 'success' || run.state === 'failed') {
      await this.setRunState(tx, run, 'queued', now);
      return 'queued';
    }
    if (run.state === 'running') return this.reevaluate(tx, run, now);
    return run.state;
  }

  /**
   * An operator sets task instances to success or failed. Running attempts are fenced. Tasks downstream that
   * never ran because of the old outcome (upstream_failed, skipped) are reset, then the run is re-evaluated,
   * so marking a failed task success lets its downstream run.
   */
  async markTasks(tx: UnitOfWork, run: RunRow, all: TaskInstanceRow[], targets: TaskInstanceRow[], to: 'success' | 'failed', now: Date): Promise<RunState> {
    const { index } = await this.version(tx, run.dagVersionId);
    const marked = targets.filter((ti) => ti.state !== to);
    for (const ti of marked) {
      assertTaskTransition(ti.state, to);
      if (ti.state === 'running') await this.runs.fenceAttempt(tx, ti, `attempt ended: marked ${to} by an operator`, now);
    }
    await this.runs.setTaskStates(tx, marked.map((ti) => ti.id), to, now);
    const markedIds = new Set(marked.map((ti) => ti.taskId));
    const downstream = selectTasks(index, markedIds, { downstream: true });
    const unrun = all.filter((ti) => downstream.has(ti.taskId) && !markedIds.has(ti.taskId) && (ti.state === 'upstream_failed' || ti.state === 'skipped'));
    for (const ti of unrun) assertTaskTransition(ti.state, 'none');
    // Their try count is untouched: max_tries stays what it was.
    await this.runs.resetTaskInstances(tx, unrun.map((ti) => ({ id: ti.id, retries: Math.max(0, ti.maxTries - 1 - ti.tryNumber) })), now);
    let current = run;
    if (run.state === 'success' || run.state === 'failed') {
      await this.setRunState(tx, run, 'running', now);
      current = { ...run, state: 'running' };
    }
    return current.state === 'running' ? this.reevaluate(tx, current, now) : current.state;
  }

  /**
   * An operator marks a whole run (locked by the caller, with `unfinished`: its unfinished task instances, locked).
   * success: every unfinished task instance becomes success. failed: running ones fail and the ones that have not
   * started are skipped (as Airflow does). Live attempts are fenced.
   */
  async markRun(tx: UnitOfWork, run: RunRow, unfinished: TaskInstanceRow[], to: 'success' | 'failed', now: Date): Promise<void> {
    assertRunTransition(run.state, to);
    for (const ti of unfinished) {
      if (ti.state === 'running') await this.runs.fenceAttempt(tx, ti, `attempt ended: run marked ${to} by an operator`, now);
    }
    // Attempts that started (running, up_for_retry) take the run's outcome; the rest never run.
    const attempted = (ti: TaskInstanceRow) => ti.state === 'running' || ti.state === 'up_for_retry';
    const targetOf = (ti: TaskInstanceRow): TaskState => (to === 'success' ? 'success' : attempted(ti) ? 'failed' : 'skipped');
    for (const state of ['success', 'failed', 'skipped'] as const) {
      const group = unfinished.filter((ti) => targetOf(ti) === state);
      for (const ti of group) assertTaskTransition(ti.state, state);
      await this.runs.setTaskStates(tx, group.map((ti) => ti.id), state, now);
    }
    await this.setRunState(tx, run, to, now);
  }

  /**
   * A queued task instance (locked by the caller, run row first) fails without an attempt: no worker leased it in
   * time (WEFT_QUEUED_TIMEOUT_FAIL). It raises taskFailed like any task that failed for good, then its downstream
   * tasks and the run are evaluated.
   */
  async failQueued(tx: UnitOfWork, run: RunRow, ti: TaskInstanceRow, error: string, now: Date): Promise<RunState> {
    assertTaskTransition('queued', 'failed');
    await this.runs.failQueued(tx, ti.id, error, now);
    const { doc } = await this.version(tx, run.dagVersionId);
    await this.taskFailed(tx, run, doc, ti.taskId, ti, error, now);
    return this.evaluate(tx, run, [ti.taskId], now);
  }

  /** Up-for-retry task instances whose delay has passed go back to queued (a batch of up to `limit`). */
  async requeueDueRetries(tx: UnitOfWork, now: Date, limit: number): Promise<number> {
    assertTaskTransition('up_for_retry', 'queued');
    return this.runs.requeueDueRetries(tx, now, limit, tx.effect(this.handOff));
  }

  /** A run's own state change outside an evaluation, checked against the transition table. */
  private async setRunState(tx: UnitOfWork, run: RunRow, to: RunState, now: Date): Promise<void> {
    assertRunTransition(run.state, to);
    await this.runs.setRunState(tx, run.id, run.state, to, now);
    if (FREES_OR_QUEUES.has(to)) this.events.runsMayStart.raise(tx, { dagId: run.dagId, now });
  }

  /** Evaluates every task still in `none` against the current states, then the run's own state. */
  private async reevaluate(tx: UnitOfWork, run: RunRow, now: Date): Promise<RunState> {
    const { index } = await this.version(tx, run.dagVersionId);
    const states = await this.runs.taskStates(tx, run.id);
    const follow = await this.followDecisions(tx, run);
    return this.evaluateWith(tx, run, states, resolvePending(index, states, follow), now, follow);
  }

  /** The run's branch and short-circuit decisions (none read when its version has no such task). */
  private async followDecisions(tx: UnitOfWork, run: RunRow): Promise<Map<string, string[]>> {
    const { deciders } = await this.version(tx, run.dagVersionId);
    return deciders ? this.runs.followDecisions(tx, run.id) : new Map();
  }

  /**
   * Records the outcome of the task instance's current attempt (locked by the caller, run row first) and, when
   * the task is done, evaluates its downstream tasks and the run in the same transaction. With `lease`, that live
   * lease ends in the same statement (its pool and maxActiveTasks slot free up) and the attempt keeps the
   * completion's hash (a repeated completion is recognised by it).
   */
  async finishAttempt(
    tx: UnitOfWork,
    run: RunRow,
    ti: TaskInstanceRow,
    outcome: AttemptOutcome,
    now: Date,
    lease?: { id: string; completionHash: string | null },
  ): Promise<{ state: TaskState; runState: RunState }> {
    const { settings, doc, tasks, index } = await this.version(tx, run.dagVersionId);
    const task = settings.get(ti.taskId);
    // A branch or short-circuit task's success carries its decision; a branch that chose badly fails instead.
    const decides = tasks.get(ti.taskId) ? skipDecisionOf(tasks.get(ti.taskId)!) : null;
    let follow: string[] | null = null;
    if (decides && outcome.status === 'success') {
      const xcom = outcome.xcom ?? {};
      const decided = followOf(ti.taskId, decides, index.downstream.get(ti.taskId) ?? [], {
        followTaskIds: outcome.followTaskIds,
        returnValue: 'return_value' in xcom ? { value: xcom.return_value } : undefined,
      });
      if ('error' in decided) outcome = { status: 'failed', error: decided.error, retryable: false };
      else follow = decided.follow;
    }
    const { to, retryAt } = attemptEnd(task, ti, outcome, now);
    if (follow && to === 'success') await this.runs.setFollowTaskIds(tx, ti.id, follow);
    assertTaskTransition(ti.state, to);
    const finished = FINISHED_TASK_STATES.has(to);
    // The run's other task states come back with the write (read after the run lock, so they are current).
    const states = await this.runs.finishAttempt(tx, ti, to, now, {
      error: outcome.error ?? null,
      nextRetryAt: retryAt,
      lease: lease ?? null,
      readStates: finished,
    });
    if (to === 'failed') await this.taskFailed(tx, run, doc, ti.taskId, ti, outcome.error ?? null, now);
    if (to === 'success' && task?.outlets.length) {
      await this.events.outletsUpdated.raise(tx, { uris: task.outlets, dagId: run.dagId, runId: run.runId, taskId: ti.taskId, tryNumber: ti.tryNumber, at: now });
    }
    if (!states) return { state: to, runState: run.state };
    replaceInstanceState(states, ti.taskId, ti.state, to);
    const decisions = await this.followDecisions(tx, run);
    return { state: to, runState: await this.evaluateWith(tx, run, states, resolveDownstream(index, states, [ti.taskId], decisions), now, decisions) };
  }

  /**
   * How a running attempt ends without any evaluation (LeasesService's one-statement completion), or null when it
   * needs one: it goes up for retry, or it succeeded on a task nothing depends on and with no dataset outlets (the
   * run's state may still change: weft_finish_quietly_many checks that another task of the run is unfinished) that
   * is not the DAG's only task.
   */
  async quietEnd(
    db: Queryable,
    a: { dagVersionId: number; taskId: string; tryNumber: number; maxTries: number },
    outcome: AttemptOutcome,
    now: Date,
  ): Promise<{ to: 'success' | 'up_for_retry'; retryAt: Date | null } | null> {
    const { settings, index, tasks } = await this.version(db, a.dagVersionId);
    const task = settings.get(a.taskId);
    if (!task) return null;
    const end = attemptEnd(task, a, outcome, now);
    assertTaskTransition('running', end.to);
    if (end.to === 'up_for_retry') return { to: end.to, retryAt: end.retryAt };
    // The success of a DAG's only (unmapped) task always ends its run: straight to the evaluation, without the quiet
    // statement that would only answer 'evaluate'.
    const endsRun = index.topologicalOrder.length === 1 && !tasks.get(a.taskId)?.expand;
    if (end.to === 'success' && !endsRun && !task.outlets.length && !index.downstream.get(a.taskId)?.length) return { to: end.to, retryAt: null };
    return null;
  }

  /**
   * Evaluates the downstream of `finishedTaskIds` (transitively, one pass) and the run's own state; returns the
   * run's state after the evaluation.
   */
  async evaluate(tx: UnitOfWork, run: RunRow, finishedTaskIds: string[], now: Date): Promise<RunState> {
    const { index } = await this.version(tx, run.dagVersionId);
    const states = await this.runs.taskStates(tx, run.id);
    const follow = await this.followDecisions(tx, run);
    return this.evaluateWith(tx, run, states, resolveDownstream(index, states, finishedTaskIds, follow), now, follow);
  }

  /**
   * Carries `resolution` (against `states`, the run's current task states) to its end (settle), applies it and
   * derives the run's state from the result, writing the changes and the run's state in one statement; a run that
   * ends raises runsMayStart, and runFailed when it failed.
   */
  private async evaluateWith(
    tx: UnitOfWork,
    run: RunRow,
    states: Map<string, TaskState[]>,
    resolution: Resolution,
    now: Date,
    follow: Map<string, string[]> = new Map(),
  ): Promise<RunState> {
    const { index, doc } = await this.version(tx, run.dagVersionId);
    const plan = await this.settle(tx, run, states, resolution, follow);
    const { changes } = plan;
    await this.writePlan(tx, run, plan, now);
    const writes = [];
    for (const c of changes) writes.push(await this.placeChange(tx, run, c));
    const derived = run.state === 'running' ? deriveRunState(states, index.leaves) : run.state;
    if (derived !== run.state) assertRunTransition('running', derived);
    const runStates = derived !== run.state ? [{ id: run.id, from: 'running' as const, to: derived }] : [];
    await this.runs.applyEvaluation(tx, writes, runStates, now, tx.effect(this.handOff));
    if (derived !== run.state && FREES_OR_QUEUES.has(derived)) this.events.runsMayStart.raise(tx, { dagId: run.dagId, now });
    if (derived === 'failed' && run.state === 'running') {
      const failedTasks = [...states].filter(([, s]) => s.includes('failed')).map(([id]) => id);
      await this.events.runFailed.raise(tx, {
        doc,
        dagRunId: run.id,
        clearNumber: run.clearNumber,
        dagId: run.dagId,
        runId: run.runId,
        logicalDate: run.logicalDate,
        dagVersionId: run.dagVersionId,
        failedTasks,
        at: now,
      });
    }
    return derived;
  }

  /**
   * Carries a resolution to its end, updating `states` as the writes will leave them: each mapped task it defers is
   * expanded (over literal lists, or its direct upstream tasks' XCom, read in this transaction), and the downstream
   * of those that end without instances (an empty list skips the task, a bad one fails it) is resolved in turn.
   */
  private async settle(
    tx: UnitOfWork,
    run: RunRow,
    states: Map<string, TaskState[]>,
    first: Resolution,
    follow: Map<string, string[]> = new Map(),
  ): Promise<Plan> {
    const { index, tasks } = await this.version(tx, run.dagVersionId);
    const plan: Plan = { changes: [], expansions: [], decisions: [] };
    for (let resolution = first; ; ) {
      plan.changes.push(...resolution.changes);
      applyChanges(states, resolution.changes);
      if (!resolution.deferred.length) return plan;
      const ended: string[] = [];
      for (const taskId of resolution.deferred) {
        const task = tasks.get(taskId);
        if (task?.type === 'branch') {
          const decided = await this.chooseBranch(tx, run, task as DagDocument['tasks'][number] & { choose: string });
          plan.decisions.push({ taskId, follow: 'follow' in decided ? decided.follow : null, error: 'error' in decided ? decided.error : null });
          states.set(taskId, ['follow' in decided ? 'success' : 'failed']);
          if ('follow' in decided) follow.set(taskId, decided.follow);
          ended.push(taskId);
          continue;
        }
        const expand = task?.expand as Record<string, ExpandSource> | undefined;
        if (!expand) throw new Error(`task '${taskId}' needs the engine to decide it, and it is neither mapped nor a built-in branch`);
        const outcome = await this.expansionOf(tx, run, taskId, expand);
        plan.expansions.push({ taskId, outcome });
        if (outcome.kind === 'mapped') states.set(taskId, outcome.values.map((): TaskState => 'queued'));
        else {
          states.set(taskId, [outcome.kind === 'empty' ? 'skipped' : 'failed']);
          ended.push(taskId);
        }
      }
      resolution = resolveDownstream(index, states, ended, follow);
    }
  }

  /**
   * A built-in branch decides by rendering its `choose` template with the template context a worker's task gets
   * (TaskContexts: dates, params, conf, the XCom of its xcomPull tasks pulled the same way): the direct downstream
   * ids to follow, or why it fails (a template error, an id that is not a direct downstream task).
   */
  private async chooseBranch(tx: UnitOfWork, run: RunRow, task: DagDocument['tasks'][number] & { choose: string }): Promise<{ follow: string[] } | { error: string }> {
    const version = await this.version(tx, run.dagVersionId);
    try {
      const { context } = await this.contexts.of(tx, version, { ...run, dagRunId: run.id }, task.taskId);
      return checkChoice(task.taskId, parseChoice(renderTemplate(task.choose, context)), version.index.downstream.get(task.taskId) ?? []);
    } catch (err) {
      if (!(err instanceof TemplateError) && !(err instanceof RangeError)) throw err;
      return { error: `branch '${task.taskId}': rendering choose failed: ${err.message}` };
    }
  }

  /** The instances a mapped task expands to now: its upstream XCom pulls are read in one statement (TaskContexts). */
  private async expansionOf(tx: UnitOfWork, run: RunRow, taskId: string, expand: Record<string, ExpandSource>): Promise<Expansion> {
    const version = await this.version(tx, run.dagVersionId);
    const pulls = expandPulls(expand);
    const xcom = pulls.length
      ? await this.contexts.pull(tx, version, run.id, pulls.map((p) => p.taskId), [...new Set(pulls.map((p) => p.key))])
      : {};
    const pull = (from: string, key: string): PulledXcom => {
      const entries = xcom[from] ?? {};
      // A mapped upstream's XCom is the list of its instances' values, in map index order (a map of a map).
      if (version.tasks.get(from)?.expand) return { found: true, value: entries[key] ?? [] };
      return key in entries ? { found: true, value: entries[key] } : { found: false };
    };
    return expandTask(taskId, expand, pull, this.config.maxMapLength);
  }

  /**
   * Writes what settle decided besides plain changes. A built-in branch that cannot choose and a mapped task that
   * cannot expand fail without an attempt, and raise taskFailed like any task that failed for good (alerts).
   */
  private async writePlan(tx: UnitOfWork, run: RunRow, { expansions, decisions }: Plan, now: Date): Promise<void> {
    if (!expansions.length && !decisions.length) return;
    const { settings, doc } = await this.version(tx, run.dagVersionId);
    for (const d of decisions) {
      const ended = await this.runs.decideInline(tx, run.id, d.taskId, d.follow ? 'success' : 'failed', d.follow, d.error, now);
      if (ended && !d.follow) await this.taskFailed(tx, run, doc, d.taskId, ended, d.error, now);
    }
    for (const { taskId, outcome } of expansions) {
      const task = settings.get(taskId)!;
      if (outcome.kind === 'mapped') {
        await this.runs.expandTaskInstances(tx, run.id, task, outcome.values, now, tx.effect(this.handOff));
        continue;
      }
      const error = outcome.kind === 'failed' ? outcome.error : null;
      const ended = await this.runs.endUnexpandedTask(tx, run.id, task, outcome.kind === 'empty' ? 'skipped' : 'failed', error, now);
      if (ended && outcome.kind === 'failed') await this.taskFailed(tx, run, doc, taskId, ended, error, now);
    }
  }

  /** A task instance failed for good: EngineEvents.taskFailed (alerts listen). */
  private async taskFailed(
    tx: UnitOfWork,
    run: RunRow,
    doc: DagDocument,
    taskId: string,
    ti: { id: number; mapIndex: number; tryNumber: number; maxTries: number },
    error: string | null,
    now: Date,
  ): Promise<void> {
    await this.events.taskFailed.raise(tx, {
      doc,
      taskInstanceId: ti.id,
      dagId: run.dagId,
      runId: run.runId,
      taskId,
      mapIndex: ti.mapIndex,
      logicalDate: run.logicalDate,
      dagVersionId: run.dagVersionId,
      tryNumber: ti.tryNumber,
      maxTries: ti.maxTries,
      error,
      at: now,
    });
  }

  /**
   * Where a resolved change lands: a task made ready is queued for a worker, or scheduled when the scheduler
   * evaluates it itself (sensors); upstream_failed and skipped finish it without an attempt.
   */
  private async placeChange(db: Queryable, run: RunRow, c: TaskStateChange): Promise<PlacedChange & { dagRunId: number }> {
    const { settings } = await this.version(db, run.dagVersionId);
    return { dagRunId: run.id, ...place(settings, c) };
  }
}

/** placeChange for a version's task settings. */
function place(settings: Map<string, TaskSettings>, c: TaskStateChange): PlacedChange {
  assertTaskTransition(c.from, c.to);
  if (c.to !== 'scheduled') return { taskId: c.taskId, to: c.to };
  if (SENSOR_TASK_TYPES.has(settings.get(c.taskId)?.taskType ?? '')) return { taskId: c.taskId, to: 'scheduled' };
  assertTaskTransition('scheduled', 'queued');
  return { taskId: c.taskId, to: 'queued' };
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
