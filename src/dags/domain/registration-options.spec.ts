import { describe, expect, it } from '@jest/globals';
import { dagContentHash } from './content-hash.js';
import { splitRegistrationOptions } from './registration-options.js';
import { validateDagDocument } from './validate-dag.js';
import type { DagDocument } from './dag-document.schema.js';

const checks = { validateSchedule: () => null, validateTimezone: () => null };

function normalise(input: unknown): DagDocument {
  const result = validateDagDocument(input, checks);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.dag;
}

const base = { dagId: 'd', schedule: '@daily', startDate: '2024-01-01T00:00:00Z', tasks: [{ taskId: 't', type: 'noop' }] };
const hash = (doc: DagDocument) => dagContentHash(doc, (s) => s);

describe(splitRegistrationOptions.name, () => {
  it('takes isPausedUponCreation out of the content, false when absent', () => {
    const paused = splitRegistrationOptions(normalise({ ...base, isPausedUponCreation: true }));
    expect(paused.options).toEqual({ isPausedUponCreation: true });
    expect(paused.content).not.toHaveProperty('isPausedUponCreation');
    expect(splitRegistrationOptions(normalise(base)).options).toEqual({ isPausedUponCreation: false });
  });

  it('leaves the content hash the same whatever the flag says', () => {
    const hashes = [undefined, false, true].map((flag) => hash(splitRegistrationOptions(normalise({ ...base, isPausedUponCreation: flag })).content));
    expect(new Set(hashes).size).toBe(1);
  });
});
