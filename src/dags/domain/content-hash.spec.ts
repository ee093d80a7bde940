import { describe, expect, it } from '@jest/globals';
import { canonicalJson, dagContentHash } from './content-hash.js';
import { validateDagDocument } from './validate-dag.js';
import type { DagDocument } from './dag-document.schema.js';

const checks = { validateSchedule: () => null, validateTimezone: () => null };

function normalise(input: unknown): DagDocument {
  const result = validateDagDocument(input, checks);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.dag;
}

const doc = {
  dagId: 'daily_etl',
  schedule: '@daily',
  startDate: '2024-01-01T00:00:00Z',
  params: { region: 'eu', limits: { max: 3, min: 1 } },
  tasks: [
    { taskId: 'extract', type: 'shell', command: 'extract.sh' },
    { taskId: 'load', type: 'http', dependsOn: ['extract'], request: { url: 'https://x.example/load', method: 'POST' } },
  ],
};

const reordered = {
  tasks: [
    { command: 'extract.sh', type: 'shell', taskId: 'extract' },
    { request: { method: 'POST', url: 'https://x.example/load' }, dependsOn: ['extract'], type: 'http', taskId: 'load' },
  ],
  params: { limits: { min: 1, max: 3 }, region: 'eu' },
  startDate: '2024-01-01T00:00:00Z',
  schedule: '@daily',
  dagId: 'daily_etl',
};

describe(dagContentHash.name, () => {
  it('is a sha256 hex digest', () => {
    expect(dagContentHash(normalise(doc))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not change with key order at any depth', () => {
    expect(dagContentHash(normalise(reordered))).toBe(dagContentHash(normalise(doc)));
  });

  it('does not change when defaults are spelled out', () => {
    const explicit = {
      ...doc,
      catchup: true,
      timezone: 'UTC',
      endDate: null,
      defaultArgs: { retries: 0, pool: 'default_pool' },
      tasks: doc.tasks.map((t) => ({ dependsOn: [], triggerRule: 'all_success', ...t })),
    };
    expect(dagContentHash(normalise(explicit))).toBe(dagContentHash(normalise(doc)));
  });

  it('changes with the content, including task order', () => {
    const base = dagContentHash(normalise(doc));
    expect(dagContentHash(normalise({ ...doc, params: { region: 'us', limits: { max: 3, min: 1 } } }))).not.toBe(base);
    expect(dagContentHash(normalise({ ...doc, tasks: [...doc.tasks].reverse() }))).not.toBe(base);
  });
});

describe(canonicalJson.name, () => {
  it('sorts keys recursively, keeps array order and drops undefined members', () => {
    expect(canonicalJson({ b: [{ z: 1, a: 2 }, 3], a: { d: undefined, c: null } })).toBe('{"a":{"c":null},"b":[{"a":2,"z":1},3]}');
  });
});
