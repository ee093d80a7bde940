import { buildTemplateContext, type TemplateContext } from '../domain/template-context.js';

/** The run every example in docs/templating.md is rendered against; change both together. */
export function exampleTemplateContext(): TemplateContext {
  return buildTemplateContext({
    dagId: 'daily_sales',
    runId: 'scheduled__2024-01-15T06:00:00+00:00',
    logicalDate: new Date('2024-01-15T06:00:00Z'),
    dataIntervalStart: new Date('2024-01-15T06:00:00Z'),
    dataIntervalEnd: new Date('2024-01-16T06:00:00Z'),
    params: { table: 'sales', days: 7, regions: ['eu', 'us'] },
    conf: { region: 'eu', full_refresh: true },
    xcom: {
      extract: { return_value: { rows: 42, path: 's3://lake/sales/2024-01-15.csv' }, row_count: 42 },
      'load-eu': { return_value: 'ok' },
    },
  });
}
