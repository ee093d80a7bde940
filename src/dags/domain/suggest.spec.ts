import { describe, expect, it } from '@jest/globals';
import { closestName } from './suggest.js';

describe(closestName.name, () => {
  const fields = ['retries', 'retryDelaySec', 'dependsOn', 'triggerRule', 'pool', 'queue'];

  it.each([
    ['retires', 'retries'],
    ['depends_on', 'dependsOn'],
    ['dependOn', 'dependsOn'],
    ['TriggerRule', 'triggerRule'],
    ['pol', 'pool'],
  ])('maps %p to %p', (typo, meant) => {
    expect(closestName(typo, fields)).toBe(meant);
  });

  it('suggests nothing for a name far from every candidate, or for an exact match', () => {
    expect(closestName('command', fields)).toBeUndefined();
    expect(closestName('pool', ['pool'])).toBeUndefined();
  });
});
