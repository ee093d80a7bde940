import { describe, expect, it } from '@jest/globals';
import { parseValue } from 'graphql';
import { DateTimeScalar, JSONScalar } from './scalars.js';

describe('DateTimeScalar', () => {
  it('answers UTC ISO strings for dates and date strings', () => {
    expect(DateTimeScalar.serialize(new Date('2024-01-15T06:00:00+01:00'))).toBe('2024-01-15T05:00:00.000Z');
    expect(DateTimeScalar.serialize('2024-01-15T06:00:00.123+00:00')).toBe('2024-01-15T06:00:00.123Z');
  });

  it('refuses to serialise what is not a date (a bug, reported as an internal error)', () => {
    expect(() => DateTimeScalar.serialize('soon')).toThrow(/cannot represent/);
    expect(() => DateTimeScalar.serialize(42)).toThrow(/cannot represent/);
  });

  it('passes input strings on unchanged for the shared zod schemas to check', () => {
    expect(DateTimeScalar.parseValue('2024-01-15T06:00:00Z')).toBe('2024-01-15T06:00:00Z');
    expect(DateTimeScalar.parseLiteral(parseValue('"yesterday"'))).toBe('yesterday');
    expect(() => DateTimeScalar.parseValue(1705298400000)).toThrow(/must be a string/);
    expect(() => DateTimeScalar.parseLiteral(parseValue('12'))).toThrow(/must be a string/);
  });
});

describe('JSONScalar', () => {
  it('reads literals of every kind, variables included', () => {
    const ast = parseValue('{ a: 1, b: 2.5, c: "x", d: [true, null, ENUMISH], e: { f: $v }, __proto__: { polluted: true } }');
    expect(JSONScalar.parseLiteral(ast, { v: { deep: [1] } })).toEqual({
      a: 1,
      b: 2.5,
      c: 'x',
      d: [true, null, 'ENUMISH'],
      e: { f: { deep: [1] } },
      ['__proto__']: { polluted: true },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('passes values through both ways', () => {
    const value = { nested: [1, 'two', { three: null }] };
    expect(JSONScalar.parseValue(value)).toBe(value);
    expect(JSONScalar.serialize(value)).toBe(value);
  });
});
