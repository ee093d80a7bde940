import { describe, expect, it } from '@jest/globals';
import { tokenFromConnectionParams } from './context.js';

describe('tokenFromConnectionParams', () => {
  it('reads a bearer authorization in any case, or apiKey', () => {
    expect(tokenFromConnectionParams({ authorization: 'Bearer k1' })).toBe('k1');
    expect(tokenFromConnectionParams({ Authorization: 'Bearer  k2 ' })).toBe('k2');
    expect(tokenFromConnectionParams({ apiKey: 'k3' })).toBe('k3');
  });

  it('finds nothing in absent, empty or malformed parameters', () => {
    expect(tokenFromConnectionParams(undefined)).toBeUndefined();
    expect(tokenFromConnectionParams({})).toBeUndefined();
    expect(tokenFromConnectionParams({ authorization: 'k1' })).toBeUndefined();
    expect(tokenFromConnectionParams({ authorization: 'Bearer ' })).toBeUndefined();
    expect(tokenFromConnectionParams({ apiKey: 42 })).toBeUndefined();
  });
});
