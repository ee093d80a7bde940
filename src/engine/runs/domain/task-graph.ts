import type { TriggerRule } from '../../../dags/domain/trigger-rule-names.js';

/**
 * What a task's success decides for its direct downstream tasks (its `follow` list, recorded with its success):
 * - branch: the tasks it follows run; its other direct downstream tasks are skipped (Airflow's skip_all_except);
 * - short_circuit: a falsy result (an empty follow list) skips its direct downstream tasks, whose own downstream
 *   then follow their trigger rules (Airflow's ignore_downstream_trigger_rules=False);
 * - short_circuit_all: a falsy result skips everything downstream of it, whatever the trigger rules (Airflow's
 *   default, ignore_downstream_trigger_rules=True).
 */
export type SkipDecision = 'branch' | 'short_circuit' | 'short_circuit_all';

export interface TaskNode {
  readonly upstream: readonly string[];
  readonly triggerRule: TriggerRule;
  /** Runs once per element of a list known at run time (`expand`): expanded when its trigger rule is met. */
  readonly mapped?: boolean;
  /** Decided by the engine itself when its trigger rule is met, without a worker (the built-in `branch` type). */
  readonly inline?: boolean;
  readonly decides?: SkipDecision;
}

/** A DAG version's tasks: taskId → its direct upstream ids and trigger rule. */
export type TaskGraph = ReadonlyMap<string, TaskNode>;

/**
 * Everything resolution needs, derived once per DAG version (it never changes) so each evaluation only touches the
 * tasks it affects. `rank` is each task's position in `topologicalOrder`: a task always ranks after its upstreams.
 */
export interface TaskGraphIndex {
  readonly graph: TaskGraph;
  readonly downstream: ReadonlyMap<string, readonly string[]>;
  readonly topologicalOrder: readonly string[];
  readonly rank: ReadonlyMap<string, number>;
  readonly roots: readonly string[];
  readonly leaves: readonly string[];
  /** Whether any task is mapped, decides skips or is decided inline: when none is, resolution is what it always was. */
  readonly dynamic: boolean;
}

/**
 * O(tasks + edges). DAG validation already rejects these; the checks here keep a bad graph from being resolved
 * silently wrong.
 * @throws Error on an upstream id that is not a task, or on a cycle.
 */
export function indexTaskGraph(graph: TaskGraph): TaskGraphIndex {
  const downstream = new Map<string, string[]>();
  const pendingUpstreams = new Map<string, number>();
  for (const taskId of graph.keys()) downstream.set(taskId, []);
  for (const [taskId, node] of graph) {
    const distinct = new Set(node.upstream);
    for (const upstreamId of distinct) {
      const list = downstream.get(upstreamId);
      if (list === undefined) throw new Error(`task '${taskId}' depends on unknown task '${upstreamId}'`);
      list.push(taskId);
    }
    pendingUpstreams.set(taskId, distinct.size);
  }

  const roots = [...graph.keys()].filter((taskId) => pendingUpstreams.get(taskId) === 0);
  const topologicalOrder: string[] = [...roots];
  for (let i = 0; i < topologicalOrder.length; i++) {
    for (const next of downstream.get(topologicalOrder[i])!) {
      const left = pendingUpstreams.get(next)! - 1;
      pendingUpstreams.set(next, left);
      if (left === 0) topologicalOrder.push(next);
    }
  }
  if (topologicalOrder.length !== graph.size) {
    const blocked = [...graph.keys()].filter((taskId) => pendingUpstreams.get(taskId)! > 0);
    throw new Error(`task graph has a cycle; tasks on or after it: ${blocked.join(', ')}`);
  }

  const rank = new Map<string, number>();
  topologicalOrder.forEach((taskId, i) => rank.set(taskId, i));
  const leaves = [...graph.keys()].filter((taskId) => downstream.get(taskId)!.length === 0);
  const dynamic = [...graph.values()].some((node) => node.mapped || node.inline || node.decides);
  return { graph, downstream, topologicalOrder, rank, roots, leaves, dynamic };
}

/** Every task downstream of `taskIds`, transitively (not the tasks themselves, unless one is downstream of another). */
export function descendantsOf(index: TaskGraphIndex, taskIds: Iterable<string>): Set<string> {
  const found = new Set<string>();
  const stack = [...taskIds];
  for (let taskId = stack.pop(); taskId !== undefined; taskId = stack.pop()) {
    for (const next of index.downstream.get(taskId) ?? []) {
      if (found.has(next)) continue;
      found.add(next);
      stack.push(next);
    }
  }
  return found;
}
