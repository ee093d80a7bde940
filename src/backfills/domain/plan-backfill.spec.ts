import { describe, expect, it } from '@jest/globals';
import type { RunState } from '../../engine/runs/domain/run-state.js';
import { planBackfill, type ReprocessBehavior } from './plan-backfill.js';

const d = (day: number) => new Date(Date.UTC(2024, 0, day));
const dates = [d(1), d(2), d(3), d(4), d(5)];
const existing = new Map<number, { runId: string; state: RunState }>([
  [d(2).getTime(), { runId: 'r2', state: 'success' }],
  [d(3).getTime(), { runId: 'r3', state: 'failed' }],
  [d(4).getTime(), { runId: 'r4', state: 'running' }],
]);
const actions = (b: ReprocessBehavior, backwards = false) =>
  planBackfill(dates, existing, b, backwards).map((p) => `${p.logicalDate.getUTCDate()}:${p.action}`);

describe('planBackfill', () => {
  it('none: only missing dates', () => {
    expect(actions('none')).toEqual(['1:create', '2:skip', '3:skip', '4:skip', '5:create']);
  });
  it('failed: missing and failed', () => {
    expect(actions('failed')).toEqual(['1:create', '2:skip', '3:reprocess', '4:skip', '5:create']);
  });
  it('completed: every finished run again, never a running one', () => {
    expect(actions('completed')).toEqual(['1:create', '2:reprocess', '3:reprocess', '4:skip', '5:create']);
  });
  it('runs backwards on request', () => {
    expect(actions('none', true)).toEqual(['5:create', '4:skip', '3:skip', '2:skip', '1:create']);
  });
  it('says why a date is skipped', () => {
    const plan = planBackfill(dates, existing, 'none', false);
    expect(plan[3]).toMatchObject({ action: 'skip', existingRunId: 'r4', skipReason: 'run r4 is running' });
  });
});
