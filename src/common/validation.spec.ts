import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { paginationSchema, parseInput } from './validation.js';

describe('parseInput', () => {
  it('names each bad field', () => {
    try {
      parseInput(paginationSchema, { limit: '0', offset: '-1' });
      throw new Error('expected a ValidationError');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).issues.map((i) => i.path).sort()).toEqual(['limit', 'offset']);
    }
  });

  it('reports unknown fields by name', () => {
    expect(() => parseInput(z.strictObject({ a: z.number() }), { a: 1, bee: 2 })).toThrow(/unknown field 'bee'/);
  });
});
