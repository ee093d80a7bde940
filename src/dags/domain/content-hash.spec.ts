import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
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

const fingerprint = (plaintext: string) => `fp(${plaintext})`;
const hash = (dag: DagDocument) => dagContentHash(dag, fingerprint);

describe(dagContentHash.name, () => {
  it('is a sha256 hex digest', () => {
    expect(hash(normalise(doc))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not change with key order at any depth', () => {
    expect(hash(normalise(reordered))).toBe(hash(normalise(doc)));
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
    expect(hash(normalise(explicit))).toBe(hash(normalise(doc)));
  });

  it('changes with the content, including task order', () => {
    const base = hash(normalise(doc));
    expect(hash(normalise({ ...doc, params: { region: 'us', limits: { max: 3, min: 1 } } }))).not.toBe(base);
    expect(hash(normalise({ ...doc, tasks: [...doc.tasks].reverse() }))).not.toBe(base);
  });

  it('is the plain hash of the document when it has no webhook secret (versions stored before secrets were fingerprinted)', () => {
    const plain = normalise({ ...doc, slaCallbacks: [{ type: 'webhook', url: 'https://x.example/hook', secretRef: 'HOOK' }] });
    expect(hash(plain)).toBe(createHash('sha256').update(canonicalJson(plain)).digest('hex'));
  });

  it('hashes webhook secrets as their fingerprint: same secret same hash, other secret other hash', () => {
    const withSecret = (secret: string) =>
      normalise({ ...doc, onFailureCallbacks: [{ type: 'slack', webhookUrl: 'https://x.example/s' }, { type: 'webhook', url: 'https://x.example/hook', secret }] });
    expect(hash(withSecret('s3cret'))).toBe(hash(withSecret('s3cret')));
    expect(hash(withSecret('s3cret'))).not.toBe(hash(withSecret('other')));
    const fingerprinted = withSecret('s3cret');
    const canonical = canonicalJson({ ...fingerprinted, onFailureCallbacks: [fingerprinted.onFailureCallbacks[0], { type: 'webhook', url: 'https://x.example/hook', secret: 'fp(s3cret)' }] });
    expect(hash(withSecret('s3cret'))).toBe(createHash('sha256').update(canonical).digest('hex'));
  });
});

describe(canonicalJson.name, () => {
  it('sorts keys recursively, keeps array order and drops undefined members', () => {
    expect(canonicalJson({ b: [{ z: 1, a: 2 }, 3], a: { d: undefined, c: null } })).toBe('{"a":{"c":null},"b":[{"a":2,"z":1},3]}');
  });
});

describe('documents without dynamic pipelines', () => {
  it('keep the content hash they had before expand, branch and groups existed (pinned)', () => {
    const plain = {
      dagId: 'h',
      schedule: null,
      tasks: [
        { taskId: 'a', type: 'shell', command: 'echo 1' },
        { taskId: 'b', type: 'noop', dependsOn: ['a'], triggerRule: 'all_done' },
        { taskId: 'c', type: 'load', args: { x: 1 } },
      ],
    };
    // Computed by the release before task mapping (a6bdae6) with the identity fingerprint.
    expect(dagContentHash(normalise(plain), (s) => s)).toBe('dca5a0e81ee6c76080c244b4717713ca1e8ee09a1a246f543d9c26c002ce7bc9');
  });
});
