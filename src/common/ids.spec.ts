import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { PATH_PARAMS } from '../openapi/path-params.js';
import { ID_PATTERN, isOnlyDots, NOT_ONLY_DOTS_PATTERN, ONLY_DOTS_MESSAGE, RUN_ID_PATTERN } from './ids.js';

describe('ids', () => {
  it.each([
    ['daily_etl', true],
    ['v1.2', true],
    ['.hidden', true],
    ['a..b', true],
    ['..a', true],
    ['a'.repeat(250), true],
    ['.', false],
    ['..', false],
    ['...', false],
    ['.'.repeat(250), false],
    ['', false],
    ['a'.repeat(251), false],
    ['a/b', false],
    ['..\n', false],
  ])('ID_PATTERN: %p -> %p', (id, ok) => {
    expect(ID_PATTERN.test(id)).toBe(ok);
  });

  it('run ids follow the same dot rule, with ":" and "+" besides', () => {
    expect(RUN_ID_PATTERN.test('manual__2024-01-15T06:00:00+00:00')).toBe(true);
    expect(RUN_ID_PATTERN.test('.:')).toBe(true);
    for (const dots of ['.', '..', '...']) expect(RUN_ID_PATTERN.test(dots)).toBe(false);
  });

  it('the dot rule alone (XCom keys) refuses only dots', () => {
    expect(['.', '..', '...'].map((k) => NOT_ONLY_DOTS_PATTERN.test(k))).toEqual([false, false, false]);
    expect(['a', '.a', 'a b', '../x'].map((k) => NOT_ONLY_DOTS_PATTERN.test(k))).toEqual([true, true, true, true]);
    expect(isOnlyDots('..')).toBe(true);
    expect(isOnlyDots('')).toBe(false);
  });

  it('stays linear on long hostile input (no catastrophic backtracking)', () => {
    const started = performance.now();
    for (const s of ['.'.repeat(100_000) + '!', 'a'.repeat(100_000) + '!', '.'.repeat(100_000)]) {
      expect(ID_PATTERN.test(s)).toBe(false);
      expect(RUN_ID_PATTERN.test(s)).toBe(false);
    }
    expect(performance.now() - started).toBeLessThan(500);
  });

  // GET …/taskInstances/.. reaches …/dagRuns/r once a client removes the dot-segment: every id path parameter refuses it.
  it.each(['dagId', 'runId', 'taskId', 'name', 'workerId', 'key'])('the path parameter %s refuses ".", ".." and "..." saying why', (name) => {
    const schema = PATH_PARAMS[name]!;
    for (const dots of ['.', '..', '...']) {
      const parsed = schema.safeParse(dots);
      expect(parsed.success).toBe(false);
      expect((parsed.error as z.ZodError).issues.map((i) => i.message)).toEqual([ONLY_DOTS_MESSAGE]);
    }
    expect(schema.safeParse('a.b').success).toBe(true);
  });

  it('the published patterns carry the rule (JSON Schema, OpenAPI, generated clients)', () => {
    for (const name of ['dagId', 'runId', 'taskId', 'name', 'workerId', 'key']) {
      expect(z.toJSONSchema(PATH_PARAMS[name]!)).toMatchObject({ pattern: expect.stringMatching(/^\^\(\?!\\\.\+\$\)/) });
    }
  });
});
