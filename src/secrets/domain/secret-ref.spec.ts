import { describe, expect, it } from '@jest/globals';
import { resolveSecretRef, SECRET_REF_PATTERN, secretRefVariable } from './secret-ref.js';

describe('resolveSecretRef', () => {
  it('reads WEFT_SECRET_<NAME>', () => {
    expect(secretRefVariable('PAGER_HOOK')).toBe('WEFT_SECRET_PAGER_HOOK');
    expect(resolveSecretRef('PAGER_HOOK', { WEFT_SECRET_PAGER_HOOK: 'abc' })).toEqual({ ok: true, secret: 'abc' });
  });

  it('names the missing (or empty) variable', () => {
    for (const env of [{}, { WEFT_SECRET_PAGER_HOOK: '' }, { PAGER_HOOK: 'abc' }]) {
      expect(resolveSecretRef('PAGER_HOOK', env)).toEqual({
        ok: false,
        error: 'secretRef PAGER_HOOK: the environment variable WEFT_SECRET_PAGER_HOOK is not set in this process',
      });
    }
  });

  it('names are upper-case letters, digits and underscores', () => {
    expect(['A', 'PAGER_HOOK_2', '_X'].every((n) => SECRET_REF_PATTERN.test(n))).toBe(true);
    expect(['', 'pager', 'A-B', 'A B', 'Ä', 'A'.repeat(201)].some((n) => SECRET_REF_PATTERN.test(n))).toBe(false);
  });
});
