import type { TriggerRule } from './trigger-rules.js';

export interface TaskNode {
  readonly upstream: readonly string[];
  readonly triggerRule: TriggerRule;
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
  return { graph, downstream, topologicalOrder, rank, roots, leaves };
}
