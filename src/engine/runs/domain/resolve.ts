import { indexTaskGraph, type TaskGraph, type TaskGraphIndex } from './task-graph.js';
import type { TaskState } from './task-state.js';
import { evaluateTriggerRule } from './trigger-rules.js';

export type ResolvedTaskState = Extract<TaskState, 'scheduled' | 'upstream_failed' | 'skipped'>;

/** One write to apply in the caller's transaction, guarded by `from` (e.g. `WHERE state = 'none'`). */
export interface TaskStateChange {
  readonly taskId: string;
  readonly from: 'none';
  readonly to: ResolvedTaskState;
}

/**
 * The changes due now because `finishedTaskIds` finished: each direct downstream task still in `none` becomes
 * scheduled when its trigger rule is met, or upstream_failed / skipped when it can no longer be met; a task made
 * upstream_failed or skipped is finished too, so its own downstream is evaluated in the same pass, transitively.
 * `states` holds the run's task instances after the finish was applied; a task with no entry counts as `none`.
 * Changes come back in topological order. Pass a prebuilt TaskGraphIndex to avoid re-indexing the DAG per call.
 */
export function resolveDownstream(
  graph: TaskGraph | TaskGraphIndex,
  states: ReadonlyMap<string, TaskState>,
  finishedTaskIds: Iterable<string>,
): TaskStateChange[] {
  const index = toIndex(graph);
  const candidates: string[] = [];
  for (const finishedId of finishedTaskIds) {
    for (const next of index.downstream.get(finishedId) ?? []) candidates.push(next);
  }
  return propagate(index, states, candidates);
}

/** Evaluates every task still in `none`: for a run whose tasks were just cleared, or as a safety sweep. */
export function resolvePending(
  graph: TaskGraph | TaskGraphIndex,
  states: ReadonlyMap<string, TaskState>,
): TaskStateChange[] {
  const index = toIndex(graph);
  return propagate(index, states, index.topologicalOrder);
}

/** A brand-new run: the roots, plus any task whose rule is `always`, become scheduled. */
export function initialReadyTasks(graph: TaskGraph | TaskGraphIndex): TaskStateChange[] {
  return resolvePending(graph, new Map());
}

function toIndex(graph: TaskGraph | TaskGraphIndex): TaskGraphIndex {
  return 'topologicalOrder' in graph ? graph : indexTaskGraph(graph);
}

/**
 * Candidates are taken lowest topological rank first; a newly finished task only adds candidates that rank after
 * it, so every task is evaluated at most once, after all its upstream changes in this pass. Cost: the touched
 * tasks and their upstream edges, plus a log factor for the queue; never a scan of the whole run.
 */
function propagate(index: TaskGraphIndex, states: ReadonlyMap<string, TaskState>, candidates: Iterable<string>) {
  const changed = new Map<string, TaskState>();
  const stateOf = (taskId: string): TaskState => changed.get(taskId) ?? states.get(taskId) ?? 'none';
  const queue = new RankQueue();
  const enqueue = (taskId: string) => {
    const rank = index.rank.get(taskId);
    if (rank !== undefined) queue.push(rank);
  };
  for (const taskId of candidates) enqueue(taskId);

  const changes: TaskStateChange[] = [];
  for (let rank = queue.pop(); rank !== undefined; rank = queue.pop()) {
    const taskId = index.topologicalOrder[rank];
    if (stateOf(taskId) !== 'none') continue;
    const node = index.graph.get(taskId)!;
    const outcome = evaluateTriggerRule(node.triggerRule, node.upstream.map(stateOf));
    if (outcome === 'wait') continue;
    const to: ResolvedTaskState = outcome === 'ready' ? 'scheduled' : outcome;
    changed.set(taskId, to);
    changes.push({ taskId, from: 'none', to });
    if (to !== 'scheduled') for (const next of index.downstream.get(taskId)!) enqueue(next);
  }
  return changes;
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
