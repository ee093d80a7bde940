import { describe, expect, it } from '@jest/globals';
import { parseSafeJson, UnsafeJsonError } from './safe-json.js';

describe('parseSafeJson', () => {
  it('parses ordinary JSON, brackets inside strings do not count', () => {
    expect(parseSafeJson('{"a": [1, {"b": "[[[{{{"}]}', 3)).toEqual({ a: [1, { b: '[[[{{{' }] });
  });
  it('refuses nesting deeper than the limit', () => {
    expect(() => parseSafeJson('['.repeat(10_000) + ']'.repeat(10_000), 64)).toThrow(/deeper than 64/);
  });
  it('refuses NUL characters, raw or escaped, but not an escaped backslash before u0000 text', () => {
    expect(() => parseSafeJson('{"a": "x\\u0000"}', 10)).toThrow(UnsafeJsonError);
    expect(() => parseSafeJson('{"a": "x\u0000"}', 10)).toThrow(UnsafeJsonError);
    expect(parseSafeJson('{"a": "\\\\u0000"}', 10)).toEqual({ a: '\\u0000' });
  });
  it('passes JSON syntax errors through as SyntaxError', () => {
    expect(() => parseSafeJson('{"a": ', 10)).toThrow(SyntaxError);
  });
});
