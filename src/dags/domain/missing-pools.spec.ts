import { describe, expect, it } from '@jest/globals';
import { missingPoolWarnings } from './missing-pools.js';
import { validateDagDocument } from './validate-dag.js';
import type { DagDocument } from './dag-document.schema.js';

const checks = { validateSchedule: () => null, validateTimezone: () => null };
function normalise(input: unknown): DagDocument {
  const result = validateDagDocument(input, checks);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.dag;
}

const doc = normalise({
  dagId: 'd',
  defaultArgs: { pool: 'etl' },
  tasks: [
    { taskId: 'a', type: 'noop' },
    { taskId: 'b', type: 'noop', pool: 'warehouse' },
    { taskId: 'c', type: 'noop', pool: 'warehouse' },
    { taskId: 'd', type: 'noop', pool: 'default_pool' },
  ],
});

describe(missingPoolWarnings.name, () => {
  it('names each missing pool once, at its first use, with the tasks that wait for it', () => {
    expect(missingPoolWarnings(doc, new Set(['default_pool']))).toEqual([
      { path: 'defaultArgs.pool', message: "pool 'etl' does not exist: task a stays queued until it is created (POST /api/v1/pools)" },
      { path: 'tasks[1].pool', message: "pool 'warehouse' does not exist: tasks b, c stay queued until it is created (POST /api/v1/pools)" },
    ]);
  });

  it('says nothing when every pool exists', () => {
    expect(missingPoolWarnings(doc, new Set(['default_pool', 'etl', 'warehouse']))).toEqual([]);
  });
});
