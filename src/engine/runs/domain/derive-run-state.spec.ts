import { describe, expect, it } from '@jest/globals';
import { type DerivedRunState, deriveRunState } from './derive-run-state.js';
import type { TaskState } from './task-state.js';

// The DAG behind every row: extract → transform → load, and cleanup (all_done) after transform.
const TASKS = ['extract', 'transform', 'load', 'cleanup'];
const LEAVES = ['load', 'cleanup'];

// States of extract, transform, load, cleanup; `-` = no task instance.
const TABLE: [string, string, DerivedRunState][] = [
  ['a new run',                        'none             none             none             none',            'running'],
  ['a task still running',             'success          running          none             none',            'running'],
  ['a task waiting to retry',          'up_for_retry     none             none             none',            'running'],
  ['a failed leaf while others run',   'success          success          failed           queued',          'running'],
  ['every task succeeded',             'success          success          success          success',         'success'],
  ['a failed leaf',                    'success          success          failed           success',         'failed'],
  ['an upstream_failed leaf',          'failed           upstream_failed  upstream_failed  success',         'failed'],
  ['a failure handled inside the DAG', 'success          failed           success          success',         'success'],
  ['skipped leaves',                   'success          skipped          skipped          skipped',         'success'],
  ['a removed leaf',                   'success          success          removed          success',         'success'],
  ['a leaf with no task instance',     'success          success          -                success',         'success'],
  ['a run with no task instances',     '-                -                -                -',               'success'],
  ['a mapped task half done',          'success          success,running  none             none',            'running'],
  ['a mapped leaf, one failed',        'success          success          success,failed   success',         'failed'],
  ['a mapped leaf, all done',          'success          success          success,skipped  success',         'success'],
  ['a mapped leaf, removed instances', 'success          success          success,removed  success',         'success'],
];

/** A state per task; `a,b` gives a mapped task one instance per listed state. */
function taskStates(row: string): Map<string, TaskState[]> {
  const states = row.split(/\s+/);
  expect(states).toHaveLength(TASKS.length);
  return new Map(TASKS.flatMap((taskId, i) => (states[i] === '-' ? [] : [[taskId, states[i]!.split(',') as TaskState[]]])));
}

describe('deriveRunState', () => {
  it.each(TABLE)('%s → %s', (_name, row, expected) => {
    expect(deriveRunState(taskStates(row), LEAVES)).toBe(expected);
  });
});
