import { describe, expect, it } from '@jest/globals';
import { DomainError } from '../../../common/errors.js';
import { TaskState as PrismaTaskState } from '../../../generated/prisma/enums.js';
import { InvalidTransitionError } from './invalid-transition-error.js';
import {
  assertTaskTransition,
  canTransitionTask,
  FAILED_TASK_STATES,
  FINISHED_TASK_STATES,
  isTaskState,
  SUCCEEDED_TASK_STATES,
  TASK_STATES,
  type TaskState,
  UNFINISHED_TASK_STATES,
} from './task-state.js';

// Rows are `from`, columns are `to`, both in TASK_STATES order. x = allowed, . = rejected.
//                              none  sched queued run  succ  fail  retry upfl  skip  remov
const EXPECTED: Record<TaskState, string> = {
  none: /*                   */ '.     x     .     .     x     x     .     x     x     x',
  scheduled: /*              */ 'x     .     x     .     x     x     .     x     x     x',
  queued: /*                 */ 'x     .     .     x     x     x     .     x     x     x',
  running: /*                */ 'x     .     .     .     x     x     x     .     .     x',
  success: /*                */ 'x     .     .     .     .     x     .     .     .     x',
  failed: /*                 */ 'x     .     .     .     x     .     .     .     .     x',
  up_for_retry: /*           */ 'x     .     x     .     x     x     .     .     .     x',
  upstream_failed: /*        */ 'x     .     .     .     x     x     .     .     .     x',
  skipped: /*                */ 'x     .     .     .     x     x     .     .     .     x',
  removed: /*                */ 'x     .     .     .     .     .     .     .     .     .',
};

const pairs = TASK_STATES.flatMap((from) => {
  const row = EXPECTED[from].split(/\s+/);
  return TASK_STATES.map((to, i) => ({ from, to, allowed: row[i] === 'x' }));
});

describe('task states', () => {
  it('match the Prisma enum TaskState, in order', () => {
    expect([...TASK_STATES]).toEqual(Object.values(PrismaTaskState));
  });

  it('split into finished and unfinished with nothing left over', () => {
    expect([...FINISHED_TASK_STATES, ...UNFINISHED_TASK_STATES].sort()).toEqual([...TASK_STATES].sort());
    expect([...FINISHED_TASK_STATES].filter((s) => UNFINISHED_TASK_STATES.has(s))).toEqual([]);
    expect([...FINISHED_TASK_STATES]).toEqual(['success', 'failed', 'upstream_failed', 'skipped', 'removed']);
  });

  it('name failed-like and succeeded-like finished states', () => {
    expect([...FAILED_TASK_STATES]).toEqual(['failed', 'upstream_failed']);
    expect([...SUCCEEDED_TASK_STATES]).toEqual(['success', 'skipped']);
  });

  it('recognise state strings', () => {
    expect(isTaskState('up_for_retry')).toBe(true);
    expect(isTaskState('deferred')).toBe(false);
    expect(isTaskState(undefined)).toBe(false);
  });
});

describe('TASK_TRANSITIONS', () => {
  it('has a row of ten for every state', () => {
    for (const from of TASK_STATES) expect(EXPECTED[from].split(/\s+/)).toHaveLength(TASK_STATES.length);
    expect(pairs).toHaveLength(100);
  });

  it.each(pairs)('$from → $to allowed: $allowed', ({ from, to, allowed }) => {
    expect(canTransitionTask(from, to)).toBe(allowed);
    if (allowed) expect(() => assertTaskTransition(from, to)).not.toThrow();
    else expect(() => assertTaskTransition(from, to)).toThrow(InvalidTransitionError);
  });

  it('rejects with a typed domain error naming both states', () => {
    let caught: unknown;
    try {
      assertTaskTransition('success', 'running');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidTransitionError);
    expect(caught).toBeInstanceOf(DomainError);
    expect(caught).toMatchObject({
      entity: 'task',
      from: 'success',
      to: 'running',
      code: 'INVALID_TRANSITION',
      message: 'task instance cannot go from success to running',
      details: { entity: 'task', from: 'success', to: 'running' },
    });
  });
});
