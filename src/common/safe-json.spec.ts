import { describe, expect, it } from '@jest/globals';
import { parseSafeJson, UnsafeJsonError } from './safe-json.js';

describe('parseSafeJson', () => {
  it('parses ordinary JSON, brackets inside strings do not count', () => {
    expect(parseSafeJson('{"a": [1, {"b": "[[[{{{"}]}', 3)).toEqual({ a: [1, { b: '[[[{{{' }] });
  });
  it('refuses nesting deeper than the limit', () => {
    expect(() => parseSafeJson('['.repeat(10_000) + ']'.repeat(10_000), 64)).toThrow(/deeper than 64/);
    expect(parseSafeJson('[[[1]]]', 3)).toEqual([[[1]]]);
    expect(() => parseSafeJson('[[[[1]]]]', 3)).toThrow(/deeper than 3/);
  });
  it('refuses NUL characters, raw or escaped, naming the field, but not an escaped backslash before u0000 text', () => {
    expect(() => parseSafeJson('{"a": "x\\u0000"}', 10)).toThrow('a: contains a NUL character');
    expect(() => parseSafeJson('{"a": ["x\\u0000"]}', 10)).toThrow('a[0]: contains a NUL character');
    expect(() => parseSafeJson('{"a": ["x\u0000"]}', 10)).toThrow(SyntaxError);
    expect(() => parseSafeJson('{"a\\u0000": 1}', 10)).toThrow(UnsafeJsonError);
    expect(parseSafeJson('{"a": "\\\\u0000"}', 10)).toEqual({ a: '\\u0000' });
  });
  it('refuses lone surrogates, high or low, and accepts pairs', () => {
    expect(() => parseSafeJson('{"conf": {"x": "\\ud83d"}}', 10)).toThrow('conf.x: contains a lone UTF-16 surrogate');
    expect(() => parseSafeJson('["\\ude00"]', 10)).toThrow('[0]: contains a lone UTF-16 surrogate');
    expect(() => parseSafeJson('"\\ud83d"', 10)).toThrow('the body contains a lone');
    expect(parseSafeJson('{"x": "\\ud83d\\ude00"}', 10)).toEqual({ x: '😀' });
  });
  it('refuses a key given twice in one object, not the same key in different objects', () => {
    expect(() => parseSafeJson('{"name": "a", "slots": 1, "name": "b"}', 10)).toThrow('duplicate key "name"');
    expect(() => parseSafeJson('{"a": 1, "\\u0061": 2}', 10)).toThrow('duplicate key "a"');
    expect(() => parseSafeJson('{"o": {"k": [{"k": 1}, {"k": 2}]}, "k": 3}', 10)).not.toThrow();
    expect(parseSafeJson('{"a": {"a": {"a": 1}}, "b": "a"}', 10)).toEqual({ a: { a: { a: 1 } }, b: 'a' });
  });
  it('passes JSON syntax errors through as SyntaxError', () => {
    expect(() => parseSafeJson('{"a": ', 10)).toThrow(SyntaxError);
  });
});
