import { describe, expect, it } from '@jest/globals';
import { evaluateExternalTask } from './external-task.js';

const cfg = { allowedStates: ['success'], failedStates: ['failed', 'upstream_failed'] };
const time = { scheduledAt: new Date('2024-01-02T00:00:00Z'), now: new Date('2024-01-02T00:10:00Z') };

describe('evaluateExternalTask', () => {
  it('waits until every expected external run is in an allowed state', () => {
    expect(evaluateExternalTask(cfg, { states: Array(23).fill('success'), expectedRuns: 24 }, time).state).toBe('waiting');
    expect(evaluateExternalTask(cfg, { states: [...Array(23).fill('success'), 'running'], expectedRuns: 24 }, time).state).toBe('waiting');
    expect(evaluateExternalTask(cfg, { states: Array(24).fill('success'), expectedRuns: 24 }, time).state).toBe('success');
  });

  it('fails as soon as one external run failed', () => {
    expect(evaluateExternalTask(cfg, { states: ['success', 'failed'], expectedRuns: 24 }, time)).toMatchObject({ state: 'failed' });
  });

  it('needs at least one run of a manual DAG', () => {
    expect(evaluateExternalTask(cfg, { states: [], expectedRuns: null }, time).state).toBe('waiting');
    expect(evaluateExternalTask(cfg, { states: ['success'], expectedRuns: null }, time).state).toBe('success');
  });

  it('times out', () => {
    expect(evaluateExternalTask({ ...cfg, timeoutSec: 600 }, { states: [], expectedRuns: 1 }, time)).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('timed out'),
    });
  });
});
