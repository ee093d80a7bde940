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

describe('unknown fields', () => {
  const issuesOf = (schema: z.ZodType, input: unknown) => {
    try {
      parseInput(schema, input);
    } catch (e) {
      return (e as ValidationError).issues;
    }
    throw new Error('expected a ValidationError');
  };
  const trigger = z.strictObject({ runId: z.string().optional(), logicalDate: z.string().optional(), conf: z.record(z.string(), z.unknown()).optional() });

  it("name each field at its own path, with the field meant, Airflow's names included", () => {
    expect(issuesOf(trigger, { dag_run_id: 'x', logical_date: '2024-01-01T00:00:00Z', execution_date: 'y', colour: 1 })).toEqual([
      { path: 'dag_run_id', message: "unknown field 'dag_run_id' (did you mean 'runId'?)" },
      { path: 'logical_date', message: "unknown field 'logical_date' (did you mean 'logicalDate'?)" },
      { path: 'execution_date', message: "unknown field 'execution_date' (did you mean 'logicalDate'?)" },
      { path: 'colour', message: "unknown field 'colour'" },
    ]);
  });

  it('look inside optional, defaulted, piped and array fields for the object the field was in', () => {
    const schema = z.strictObject({
      next: z.strictObject({ capacity: z.number() }).optional(),
      items: z.array(z.strictObject({ taskId: z.string() })).default([]),
      piped: z.strictObject({ maxRuns: z.number() }).transform((v) => v.maxRuns),
    });
    expect(issuesOf(schema, { next: { capacity: 1, capacty: 1 }, items: [{ taskId: 'a' }, { task_id: 'b', taskId: 'b' }], piped: { max_runs: 1, maxRuns: 1 } })).toEqual([
      { path: 'next.capacty', message: "unknown field 'capacty' (did you mean 'capacity'?)" },
      { path: 'items[1].task_id', message: "unknown field 'task_id' (did you mean 'taskId'?)" },
      { path: 'piped.max_runs', message: "unknown field 'max_runs' (did you mean 'maxRuns'?)" },
    ]);
  });
});
