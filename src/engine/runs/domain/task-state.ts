import { InvalidTransitionError } from './invalid-transition-error.js';

/** Same values, same order, as the Prisma enum `TaskState` (prisma/schema.prisma); a spec keeps them equal. */
export const TASK_STATES = [
  'none',
  'scheduled',
  'queued',
  'running',
  'success',
  'failed',
  'up_for_retry',
  'upstream_failed',
  'skipped',
  'removed',
] as const;

export type TaskState = (typeof TASK_STATES)[number];

/** States a task instance stays in until someone clears it (Airflow's `State.finished`). */
export const FINISHED_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'success',
  'failed',
  'upstream_failed',
  'skipped',
  'removed',
]);

/** States that still have work ahead of them (Airflow's `State.unfinished`). */
export const UNFINISHED_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'none',
  'scheduled',
  'queued',
  'running',
  'up_for_retry',
]);

/** What trigger rules and the run outcome count as a failure (Airflow's `State.failed_states`). */
export const FAILED_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['failed', 'upstream_failed']);

/** Leaf outcomes that let a run succeed (Airflow's `State.success_states`). */
export const SUCCEEDED_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['success', 'skipped']);

export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && (TASK_STATES as readonly string[]).includes(value);
}

/**
 * The only authority on task-instance state changes; every write goes through `assertTaskTransition`.
 * Self-pairs are absent on purpose: writing the state a row already has is not a transition, and callers that
 * want idempotency (a repeated completion, a repeated mark) compare before asking.
 *
 * Why each edge exists:
 * - none → scheduled: the trigger rule is met. scheduled → queued: handed to its queue. queued → running: leased.
 * - none/scheduled/queued → upstream_failed | skipped: the trigger rule can no longer be met.
 * - running → success | failed | up_for_retry: the attempt's outcome. An expired lease is a failed attempt, so it
 *   too ends in up_for_retry or failed; never running → queued, so every attempt leaves an outcome in its history.
 * - up_for_retry → queued: the retry delay has passed.
 * - any unfinished or finished state except removed → success | failed: an operator marks it.
 * - any state except none → none: cleared for a re-run; removed → none is also "re-added in a new DAG version".
 * - any state except removed → removed: the task is gone from the DAG version the run now follows.
 * A removed task has no definition to run or mark against, so it can only come back through none.
 */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  none: ['scheduled', 'success', 'failed', 'upstream_failed', 'skipped', 'removed'],
  scheduled: ['none', 'queued', 'success', 'failed', 'upstream_failed', 'skipped', 'removed'],
  queued: ['none', 'running', 'success', 'failed', 'upstream_failed', 'skipped', 'removed'],
  running: ['none', 'success', 'failed', 'up_for_retry', 'removed'],
  success: ['none', 'failed', 'removed'],
  failed: ['none', 'success', 'removed'],
  up_for_retry: ['none', 'queued', 'success', 'failed', 'removed'],
  upstream_failed: ['none', 'success', 'failed', 'removed'],
  skipped: ['none', 'success', 'failed', 'removed'],
  removed: ['none'],
};

export function canTransitionTask(from: TaskState, to: TaskState): boolean {
  return TASK_TRANSITIONS[from].includes(to);
}

/** @throws InvalidTransitionError when the table does not allow `from → to` (including `from === to`). */
export function assertTaskTransition(from: TaskState, to: TaskState): void {
  if (!canTransitionTask(from, to)) throw new InvalidTransitionError('task', from, to);
}
