import { describe, expect, it } from '@jest/globals';
import { QUEUE_IDLE_SEC, queuedReason, type QueuedFacts } from './queued-reason.js';

const now = new Date('2024-01-15T12:00:00Z');
const ago = (sec: number) => new Date(now.getTime() - sec * 1000);
const facts: QueuedFacts = {
  pools: new Set(['default_pool']),
  lastPolled: new Map([['default', ago(5)], ['old', ago(QUEUE_IDLE_SEC + 30)], ['typed', ago(5)], ['mixed', ago(5)]]),
  recentTypes: new Map([
    ['default', { any: true, types: new Set<string>() }],
    ['typed', { any: false, types: new Set(['spark', 'shell']) }],
    ['mixed', { any: true, types: new Set(['spark']) }],
  ]),
};
const ti = (over: Partial<{ state: string; pool: string; queue: string; taskType: string }> = {}) => ({
  state: 'queued',
  pool: 'default_pool',
  queue: 'default',
  taskType: 'noop',
  ...over,
});

describe(queuedReason.name, () => {
  it('says nothing for a queued task whose pool exists and whose queue is polled', () => {
    expect(queuedReason(ti(), facts, now)).toBeNull();
  });

  it('names a pool that does not exist first', () => {
    expect(queuedReason(ti({ pool: 'warehouse', queue: 'nobody' }), facts, now)).toBe(
      "pool 'warehouse' does not exist: the task stays queued until it is created (POST /api/v1/pools)",
    );
  });

  it('names a queue no worker polls, or none has polled for longer than QUEUE_IDLE_SEC', () => {
    expect(queuedReason(ti({ queue: 'gpu' }), facts, now)).toBe("no worker polls queue 'gpu'");
    expect(queuedReason(ti({ queue: 'old' }), facts, now)).toBe(`no worker has polled queue 'old' for 90 s (last at ${ago(90).toISOString()})`);
    expect(queuedReason(ti({ queue: 'old' }), facts, ago(31))).toBeNull();
  });

  it('names a queue whose workers take only other task types', () => {
    expect(queuedReason(ti({ queue: 'typed' }), facts, now)).toBe("workers poll queue 'typed' but none takes task type 'noop' (they take: shell, spark)");
    expect(queuedReason(ti({ queue: 'typed', taskType: 'spark' }), facts, now)).toBeNull();
    // One worker taking every type serves it.
    expect(queuedReason(ti({ queue: 'mixed' }), facts, now)).toBeNull();
  });

  it('is null in every other state', () => {
    for (const state of ['none', 'running', 'success', 'failed', 'up_for_retry']) expect(queuedReason(ti({ state, pool: 'missing' }), facts, now)).toBeNull();
  });
});
