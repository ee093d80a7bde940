import { descendantsOf, indexTaskGraph, type TaskGraph, type TaskGraphIndex, type TaskNode } from './task-graph.js';
import type { TaskState } from './task-state.js';
import { evaluateTriggerRule } from './trigger-rules.js';

export type ResolvedTaskState = Extract<TaskState, 'scheduled' | 'upstream_failed' | 'skipped'>;

/**
 * One write to apply in the caller's transaction, guarded by `from` (e.g. `WHERE state = 'none'`): every instance of
 * the task still in `none` takes the new state (a mapped task has one instance per map index).
 */
export interface TaskStateChange {
  readonly taskId: string;
  readonly from: 'none';
  readonly to: ResolvedTaskState;
}

/**
 * The states of a run's task instances, per task: one state for an unmapped task (and for a mapped task not expanded
 * yet), one per map index once it is expanded. A task with no entry counts as one instance in `none`.
 */
export type RunTaskStates = ReadonlyMap<string, readonly TaskState[]>;

/**
 * What branch and short-circuit tasks decided when they succeeded (recorded with their success): the direct
 * downstream tasks each lets through; an empty list lets none through (a falsy short-circuit, a branch that chose
 * nothing). Tasks without a decision are absent.
 */
export type FollowDecisions = ReadonlyMap<string, readonly string[]>;

/**
 * What a resolution pass found. `changes` are plain writes, in topological order. `deferred` are tasks whose trigger
 * rule is met but whose outcome only the engine can tell (a mapped task to expand over its upstream's XCom, a
 * built-in branch to decide); the engine decides them, then resolves the downstream of those that finished.
 */
export interface Resolution {
  readonly changes: TaskStateChange[];
  readonly deferred: string[];
}

const NONE: readonly TaskState[] = ['none'];

/**
 * The changes due now because `finishedTaskIds` finished: each direct downstream task still in `none` becomes
 * scheduled when its trigger rule is met, or upstream_failed / skipped when it can no longer be met (or when a branch
 * or short-circuit upstream decided to skip it); a task made upstream_failed or skipped is finished too, so its own
 * downstream is evaluated in the same pass, transitively. `states` holds the run's task instances after the finish
 * was applied. Pass a prebuilt TaskGraphIndex to avoid re-indexing the DAG per call.
 */
export function resolveDownstream(
  graph: TaskGraph | TaskGraphIndex,
  states: RunTaskStates,
  finishedTaskIds: Iterable<string>,
  follow: FollowDecisions = EMPTY_DECISIONS,
): Resolution {
  const index = toIndex(graph);
  const candidates: string[] = [];
  for (const finishedId of finishedTaskIds) {
    for (const next of index.downstream.get(finishedId) ?? []) candidates.push(next);
  }
  return propagate(index, states, follow, candidates);
}

/** Evaluates every task still in `none`: for a run whose tasks were just cleared, or as a safety sweep. */
export function resolvePending(
  graph: TaskGraph | TaskGraphIndex,
  states: RunTaskStates,
  follow: FollowDecisions = EMPTY_DECISIONS,
): Resolution {
  const index = toIndex(graph);
  return propagate(index, states, follow, index.topologicalOrder);
}

/** A brand-new run: the roots, plus any task whose rule is `always`, become scheduled (or are deferred). */
export function initialReadyTasks(graph: TaskGraph | TaskGraphIndex): Resolution {
  return resolvePending(graph, new Map());
}

const EMPTY_DECISIONS: FollowDecisions = new Map();

function toIndex(graph: TaskGraph | TaskGraphIndex): TaskGraphIndex {
  return 'topologicalOrder' in graph ? graph : indexTaskGraph(graph);
}

/**
 * Candidates are taken lowest topological rank first; a newly finished task only adds candidates that rank after
 * it, so every task is evaluated at most once, after all its upstream changes in this pass. Cost: the touched
 * tasks and their upstream edges (each mapped upstream counts once per instance), plus a log factor for the queue;
 * never a scan of the whole run.
 */
function propagate(index: TaskGraphIndex, states: RunTaskStates, follow: FollowDecisions, candidates: Iterable<string>): Resolution {
  const changed = new Map<string, ResolvedTaskState>();
  const instancesOf = (taskId: string): readonly TaskState[] => {
    const current = states.get(taskId) ?? NONE;
    const to = changed.get(taskId);
    return to === undefined ? current : current.map((s) => (s === 'none' ? to : s));
  };
  const decisions = follow.size && index.dynamic ? new SkipDecisions(index, follow, instancesOf) : null;
  const queue = new RankQueue();
  const enqueue = (taskId: string) => {
    const rank = index.rank.get(taskId);
    if (rank !== undefined) queue.push(rank);
  };
  for (const taskId of candidates) enqueue(taskId);

  const changes: TaskStateChange[] = [];
  const deferred: string[] = [];
  const upstreamStates: TaskState[] = [];
  for (let rank = queue.pop(); rank !== undefined; rank = queue.pop()) {
    const taskId = index.topologicalOrder[rank];
    const mine = instancesOf(taskId);
    if (!mine.includes('none')) continue;
    const node = index.graph.get(taskId)!;
    let outcome;
    if (decisions?.skips(taskId, node)) outcome = 'skipped' as const;
    else {
      upstreamStates.length = 0;
      for (const upstreamId of node.upstream) for (const s of instancesOf(upstreamId)) upstreamStates.push(s);
      outcome = evaluateTriggerRule(node.triggerRule, upstreamStates);
    }
    if (outcome === 'wait') continue;
    // A mapped task not expanded yet (every instance in none) and a built-in branch are the engine's to decide. A
    // mapped task with only some instances in none (one was cleared) runs those again with their own values.
    if (outcome === 'ready' && (node.inline || (node.mapped && mine.every((s) => s === 'none')))) {
      deferred.push(taskId);
      continue;
    }
    const to: ResolvedTaskState = outcome === 'ready' ? 'scheduled' : outcome;
    changed.set(taskId, to);
    changes.push({ taskId, from: 'none', to });
    if (to !== 'scheduled') for (const next of index.downstream.get(taskId)!) enqueue(next);
  }
  return { changes, deferred };
}

/**
 * Skips decided by branch and short-circuit tasks that succeeded. A direct downstream task of a deciding task is
 * skipped unless the decision follows it, or (for a branch, as Airflow does) it is downstream of a followed task: the
 * join of `branch → a → join` and `branch → join` still runs when the branch follows `a`. A falsy short_circuit_all
 * task also skips everything further downstream.
 */
class SkipDecisions {
  private readonly reach = new Map<string, Set<string>>();

  constructor(
    private readonly index: TaskGraphIndex,
    private readonly follow: FollowDecisions,
    private readonly instancesOf: (taskId: string) => readonly TaskState[],
  ) {}

  skips(taskId: string, node: TaskNode): boolean {
    for (const upstreamId of node.upstream) {
      const decision = this.decisionOf(upstreamId);
      if (!decision || decision.follow.includes(taskId)) continue;
      if (decision.kind === 'branch' && decision.follow.some((followed) => this.downstreamOf(followed).has(taskId))) continue;
      return true;
    }
    for (const deciderId of this.follow.keys()) {
      const decision = this.decisionOf(deciderId);
      if (decision?.kind === 'short_circuit_all' && !decision.follow.length && this.downstreamOf(deciderId).has(taskId)) return true;
    }
    return false;
  }

  /** A decision counts while its task succeeded (a cleared task has none; a marked one never made one). */
  private decisionOf(taskId: string) {
    const follow = this.follow.get(taskId);
    const kind = this.index.graph.get(taskId)?.decides;
    if (!follow || !kind || !this.instancesOf(taskId).every((s) => s === 'success')) return null;
    return { kind, follow };
  }

  private downstreamOf(taskId: string): Set<string> {
    let found = this.reach.get(taskId);
    if (!found) this.reach.set(taskId, (found = descendantsOf(this.index, [taskId])));
    return found;
  }
}

/** Min-heap of distinct ranks. */
class RankQueue {
  private readonly heap: number[] = [];
  private readonly members = new Set<number>();

  push(rank: number): void {
    if (this.members.has(rank)) return;
    this.members.add(rank);
    const heap = this.heap;
    let i = heap.push(rank) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent] <= rank) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = rank;
  }

  pop(): number | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const child = left + 1 < heap.length && heap[left + 1] < heap[left] ? left + 1 : left;
        if (heap[child] >= last) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    this.members.delete(top);
    return top;
  }
}

/**
 * Applies resolved changes to a run's states, as the engine writes them: the `none` instances of each changed task
 * take its new state (`scheduled` as `queued` for tasks handed to workers, which the run's state cannot tell apart).
 */
export function applyChanges(states: Map<string, TaskState[]>, changes: readonly TaskStateChange[]): void {
  for (const c of changes) {
    const to: TaskState = c.to === 'scheduled' ? 'queued' : c.to;
    states.set(c.taskId, (states.get(c.taskId) ?? ['none']).map((s) => (s === 'none' ? to : s)));
  }
}

/** One instance of `taskId` moved from `from` to `to` (a finished attempt, among the task's mapped instances). */
export function replaceInstanceState(states: Map<string, TaskState[]>, taskId: string, from: TaskState, to: TaskState): void {
  const list = [...(states.get(taskId) ?? [])];
  const at = list.indexOf(from);
  if (at >= 0) list[at] = to;
  else list.push(to);
  states.set(taskId, list);
}
