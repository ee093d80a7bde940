import type { DagDocument, DagTask } from '../../../dags/domain/dag-document.schema.js';
import { parseIsoDurationSeconds } from '../../../dags/domain/iso-duration.js';
import { indexTaskGraph, type SkipDecision, type TaskGraphIndex, type TaskNode } from './task-graph.js';
import type { RetryPolicy } from './retry.js';

/** What a task instance needs from its DAG version: the task's own settings over the DAG's defaultArgs. */
export type TaskSettings = {
  taskId: string;
  taskType: string;
  queue: string;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  retries: number;
  retry: Omit<RetryPolicy, 'tryNumber'>;
  executionTimeoutSec: number | null;
  /** Datasets the task updates when it succeeds. */
  outlets: string[];
  /** Allowed time after the run's data-interval end (the task's `sla`), in seconds. */
  slaSec: number | null;
};

export function taskSettings(doc: DagDocument, task: DagTask): TaskSettings {
  const d = doc.defaultArgs;
  return {
    taskId: task.taskId,
    taskType: task.type,
    queue: task.queue ?? d.queue,
    pool: task.pool ?? d.pool,
    poolSlots: task.poolSlots ?? d.poolSlots,
    priorityWeight: task.priorityWeight ?? d.priorityWeight,
    retries: task.retries ?? d.retries,
    retry: {
      retryDelaySec: task.retryDelaySec ?? d.retryDelaySec,
      retryExponentialBackoff: task.retryExponentialBackoff ?? d.retryExponentialBackoff,
      maxRetryDelaySec: task.maxRetryDelaySec ?? d.maxRetryDelaySec,
    },
    executionTimeoutSec: task.executionTimeoutSec ?? d.executionTimeoutSec ?? null,
    outlets: task.outlets ?? [],
    slaSec: task.sla ? parseIsoDurationSeconds(task.sla) : null,
  };
}

/** The dependency graph of a DAG version, indexed once (versions are immutable, so callers may cache it). */
export function dagGraphIndex(doc: DagDocument): TaskGraphIndex {
  return indexTaskGraph(new Map(doc.tasks.map((t) => [t.taskId, taskNode(t)])));
}

/** A task as resolution sees it: its upstream and trigger rule, and whether it is mapped, inline or decides skips. */
function taskNode(t: DagTask): TaskNode {
  const node: { -readonly [K in keyof TaskNode]: TaskNode[K] } = { upstream: t.dependsOn, triggerRule: t.triggerRule };
  if (t.expand) node.mapped = true;
  if (t.type === 'branch') node.inline = true;
  const decides = skipDecisionOf(t);
  if (decides) node.decides = decides;
  return node;
}

/** What a task's success decides for its downstream, if anything (see SkipDecision). */
export function skipDecisionOf(t: DagTask): SkipDecision | null {
  if (t.type === 'branch' || t.branch) return 'branch';
  if (t.shortCircuit) return t.ignoreDownstreamTriggerRules === false ? 'short_circuit' : 'short_circuit_all';
  return null;
}
