import { describe, expect, it } from '@jest/globals';
import { parseStreamsMoved, toBackfillProgressEvent, toDagRunEvent, toTaskInstanceEvent } from './streams.js';

describe('parseStreamsMoved', () => {
  it('reads "<stream> <seq>" lines, streams may contain spaces and colons', () => {
    const moved = parseStreamsMoved('run:my dag 7\nti:12 3');
    expect(moved).toEqual({ all: false, streams: new Map([['run:my dag', 7], ['ti:12', 3]]) });
  });

  it('treats "*", empty and unreadable payloads as "check every stream"', () => {
    expect(parseStreamsMoved('*')).toEqual({ all: true });
    expect(parseStreamsMoved(undefined)).toEqual({ all: true });
    expect(parseStreamsMoved('ti:1 x')).toEqual({ all: true });
    expect(parseStreamsMoved('nospace')).toEqual({ all: true });
  });
});

describe('event mapping', () => {
  const base = { stream: 'ti:1', seq: 4, kind: 'task_instance_state', dagId: 'd', runId: 'r' };

  it('maps a task-instance row with dates', () => {
    const e = toTaskInstanceEvent({
      ...base,
      payload: { taskId: 't', mapIndex: 2, state: 'running', previousState: 'queued', tryNumber: 1, maxTries: 3, startDate: '2026-01-01T00:00:00+00:00', endDate: null, at: '2026-01-01T00:00:01.5+00:00' },
    });
    expect(e).toEqual({
      sequence: 4, dagId: 'd', runId: 'r', taskId: 't', mapIndex: 2, state: 'running', previousState: 'queued', tryNumber: 1, maxTries: 3,
      startDate: new Date('2026-01-01T00:00:00Z'), endDate: null, at: new Date('2026-01-01T00:00:01.500Z'),
    });
  });

  it('refuses a row without its state', () => {
    expect(() => toTaskInstanceEvent({ ...base, payload: { taskId: 't', at: '2026-01-01T00:00:00Z' } })).toThrow(/state missing/);
  });

  it('maps run and backfill rows', () => {
    const run = toDagRunEvent({
      ...base, stream: 'run:d', kind: 'dag_run_state',
      payload: { runId: 'r', state: 'success', previousState: 'running', runType: 'manual', logicalDate: '2026-01-01T00:00:00Z', startDate: null, endDate: null, backfillId: null, clearNumber: 0, at: '2026-01-01T00:00:00Z' },
    });
    expect(run).toMatchObject({ runId: 'r', state: 'success', previousState: 'running', backfillId: null });
    const bf = toBackfillProgressEvent({
      ...base, stream: 'backfill:2', kind: 'backfill_progress', runId: null,
      payload: { backfillId: 2, total: 10, pending: 5, success: 5, isPaused: false, completedAt: null, canceledAt: null, at: '2026-01-01T00:00:00Z' },
    });
    expect(bf).toMatchObject({ backfillId: 2, total: 10, pending: 5, success: 5, failed: 0, isPaused: false });
  });
});
