import type { RunTaskStates } from './resolve.js';
import type { RunState } from './run-state.js';
import { FAILED_TASK_STATES, type TaskState, UNFINISHED_TASK_STATES } from './task-state.js';

export type DerivedRunState = Extract<RunState, 'running' | 'success' | 'failed'>;

/**
 * Airflow's rule (DagRun.update_state): while any task instance is unfinished the run is running; once all are
 * finished it failed if any leaf (a task nothing depends on) is failed or upstream_failed, and succeeded otherwise,
 * so a failure handled downstream (say by an all_done or one_failed task) does not fail the run.
 * Removed leaves and leaf ids without a task instance are ignored, as Airflow ignores them. A mapped leaf counts
 * every instance: one failed instance fails the run.
 */
export function deriveRunState(taskStates: RunTaskStates, leafTaskIds: Iterable<string>): DerivedRunState {
  for (const states of taskStates.values()) {
    if (states.some((state) => UNFINISHED_TASK_STATES.has(state))) return 'running';
  }
  for (const leafId of leafTaskIds) {
    if (taskStates.get(leafId)?.some((state: TaskState) => FAILED_TASK_STATES.has(state))) return 'failed';
  }
  return 'success';
}
