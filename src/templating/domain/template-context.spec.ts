import { describe, expect, it } from '@jest/globals';
import { buildTemplateContext, type TemplateContextInput } from './template-context.js';

const input: TemplateContextInput = {
  dagId: 'daily_sales',
  runId: 'manual__2024-01-15T06:00:00+00:00',
  logicalDate: new Date('2024-01-15T06:00:00Z'),
  dataIntervalStart: new Date('2024-01-14T06:00:00Z'),
  dataIntervalEnd: new Date('2024-01-15T06:00:00Z'),
  params: { table: 'sales' },
  conf: { region: 'eu' },
  xcom: { extract: { return_value: 42 } },
};

describe(buildTemplateContext.name, () => {
  it('builds every variable', () => {
    expect(buildTemplateContext(input)).toEqual({
      ds: '2024-01-15',
      ds_nodash: '20240115',
      ts: '2024-01-15T06:00:00+00:00',
      ts_nodash: '20240115T060000',
      logical_date: '2024-01-15T06:00:00+00:00',
      data_interval_start: '2024-01-14T06:00:00+00:00',
      data_interval_end: '2024-01-15T06:00:00+00:00',
      run_id: 'manual__2024-01-15T06:00:00+00:00',
      dag_id: 'daily_sales',
      params: { table: 'sales' },
      dag_run: { conf: { region: 'eu' } },
      xcom: { extract: { return_value: 42 } },
      map_index: -1,
      expand: {},
    });
  });

  it('gives a mapped instance its map index and expand values', () => {
    const context = buildTemplateContext({ ...input, mapIndex: 3, expand: { file: 'd.csv' } });
    expect(context.map_index).toBe(3);
    expect(context.expand).toEqual({ file: 'd.csv' });
  });

  it('gives empty params, conf and xcom when none are passed', () => {
    const { dagId, runId, logicalDate, dataIntervalStart, dataIntervalEnd } = input;
    const context = buildTemplateContext({ dagId, runId, logicalDate, dataIntervalStart, dataIntervalEnd });
    expect(context.params).toEqual({});
    expect(context.dag_run.conf).toEqual({});
    expect(context.xcom).toEqual({});
  });

  it('takes ds from the UTC date of the logical date', () => {
    const lateEvening = buildTemplateContext({ ...input, logicalDate: new Date('2024-01-15T22:00:00-05:00') });
    expect(lateEvening.ds).toBe('2024-01-16');
    expect(lateEvening.ts).toBe('2024-01-16T03:00:00+00:00');
  });

  it('keeps milliseconds of a logical date that has them', () => {
    const context = buildTemplateContext({ ...input, logicalDate: new Date('2024-01-15T06:00:00.500Z') });
    expect(context.ts).toBe('2024-01-15T06:00:00.500+00:00');
    expect(context.ts_nodash).toBe('20240115T060000');
  });

  it.each(['logicalDate', 'dataIntervalStart', 'dataIntervalEnd'] as const)('rejects an invalid %s', (field) => {
    expect(() => buildTemplateContext({ ...input, [field]: new Date('nope') })).toThrow(`${field} is not a valid date`);
  });
});
