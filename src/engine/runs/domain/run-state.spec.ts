import { describe, expect, it } from '@jest/globals';
import { RunState as PrismaRunState } from '../../../generated/prisma/enums.js';
import { InvalidTransitionError } from './invalid-transition-error.js';
import {
  assertRunTransition,
  canTransitionRun,
  FINISHED_RUN_STATES,
  isRunState,
  RUN_STATES,
  type RunState,
} from './run-state.js';

// Rows are `from`, columns are `to`, both in RUN_STATES order. x = allowed, . = rejected.
//                      queued running success failed
const EXPECTED: Record<RunState, string> = {
  queued: /*         */ '.      x       x       x',
  running: /*        */ '.      .       x       x',
  success: /*        */ 'x      x       .       x',
  failed: /*         */ 'x      x       x       .',
};

const pairs = RUN_STATES.flatMap((from) => {
  const row = EXPECTED[from].split(/\s+/);
  return RUN_STATES.map((to, i) => ({ from, to, allowed: row[i] === 'x' }));
});

describe('run states', () => {
  it('match the Prisma enum RunState, in order', () => {
    expect([...RUN_STATES]).toEqual(Object.values(PrismaRunState));
  });

  it('name the finished ones and recognise state strings', () => {
    expect([...FINISHED_RUN_STATES]).toEqual(['success', 'failed']);
    expect(isRunState('queued')).toBe(true);
    expect(isRunState('none')).toBe(false);
  });
});

describe('RUN_TRANSITIONS', () => {
  it('covers all sixteen pairs', () => {
    for (const from of RUN_STATES) expect(EXPECTED[from].split(/\s+/)).toHaveLength(RUN_STATES.length);
    expect(pairs).toHaveLength(16);
  });

  it.each(pairs)('$from → $to allowed: $allowed', ({ from, to, allowed }) => {
    expect(canTransitionRun(from, to)).toBe(allowed);
    if (allowed) expect(() => assertRunTransition(from, to)).not.toThrow();
    else expect(() => assertRunTransition(from, to)).toThrow(InvalidTransitionError);
  });

  it('rejects with a typed error naming the run and both states', () => {
    expect(() => assertRunTransition('running', 'queued')).toThrow(
      expect.objectContaining({
        entity: 'run',
        from: 'running',
        to: 'queued',
        code: 'INVALID_TRANSITION',
        message: 'dag run cannot go from running to queued',
      }),
    );
  });
});
