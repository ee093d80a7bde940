import { describe, expect, it } from '@jest/globals';
import { roleAllows } from './roles.decorator.js';

describe('roleAllows', () => {
  it('nests admin over operator over viewer', () => {
    expect(roleAllows('admin', ['viewer'])).toBe(true);
    expect(roleAllows('operator', ['viewer'])).toBe(true);
    expect(roleAllows('viewer', ['operator'])).toBe(false);
    expect(roleAllows('operator', ['admin'])).toBe(false);
  });
  it('keeps workers to the lease API', () => {
    expect(roleAllows('worker', ['worker'])).toBe(true);
    expect(roleAllows('worker', ['viewer'])).toBe(false);
    expect(roleAllows('viewer', ['worker'])).toBe(false);
    expect(roleAllows('admin', ['worker'])).toBe(true);
  });
});
