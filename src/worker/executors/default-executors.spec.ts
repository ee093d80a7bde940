import { describe, expect, it } from '@jest/globals';
import { createDefaultExecutors } from './default-executors.js';
import { testContext } from './executor-testing.js';

describe(createDefaultExecutors.name, () => {
  const sut = createDefaultExecutors({ connEnv: {}, killGraceMs: 100, httpTimeoutMs: 1000 });

  it('registers the built-in task types under their names', () => {
    expect([...sut.keys()].sort()).toEqual(['http', 'noop', 'shell', 'sql']);
    for (const [type, executor] of sut) expect(executor.type).toBe(type);
  });

  it('runs a noop task as an immediate success', async () => {
    const { ctx, logged } = testContext();
    expect(await sut.get('noop')!.execute({}, ctx)).toEqual({ status: 'success' });
    expect(logged).toEqual([]);
  });

  it.each(['shell', 'http', 'sql'])('answers a malformed %s payload with a failed result, not an exception', async (type) => {
    const { ctx } = testContext();
    expect(await sut.get(type)!.execute(null, ctx)).toEqual({ status: 'failed', error: expect.stringContaining(`invalid ${type} task`), retryable: false });
  });
});
