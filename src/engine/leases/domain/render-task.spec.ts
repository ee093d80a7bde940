import { describe, expect, it } from '@jest/globals';
import { buildTemplateContext } from '../../../templating/domain/template-context.js';
import { TemplateError } from '../../../templating/domain/template-error.js';
import type { DagTask } from '../../../dags/domain/dag-document.schema.js';
import { renderTaskPayload } from './render-task.js';

const context = buildTemplateContext({
  dagId: 'etl',
  runId: 'scheduled__2024-01-15T06:00:00+00:00',
  logicalDate: new Date('2024-01-15T06:00:00Z'),
  dataIntervalStart: new Date('2024-01-15T06:00:00Z'),
  dataIntervalEnd: new Date('2024-01-16T06:00:00Z'),
  params: { region: 'eu' },
  conf: { full: true },
  xcom: { extract: { return_value: 42 } },
});

describe('renderTaskPayload', () => {
  it('renders the work fields and drops the scheduling fields', () => {
    const task = {
      taskId: 'load', type: 'http', dependsOn: ['extract'], triggerRule: 'all_success', pool: 'db', xcomPull: ['extract'],
      request: { method: 'POST', url: 'http://x/{{ params.region }}', body: { date: '{{ ds }}', rows: '{{ xcom.extract.return_value }}' } },
    } as unknown as DagTask;
    expect(renderTaskPayload(task, context)).toEqual({
      request: { method: 'POST', url: 'http://x/eu', body: { date: '2024-01-15', rows: '42' } },
    });
  });

  it('fails with a TemplateError naming the unknown variable', () => {
    const task = { taskId: 'a', type: 'shell', command: 'echo {{ dss }}', dependsOn: [], triggerRule: 'all_success' } as unknown as DagTask;
    expect(() => renderTaskPayload(task, context)).toThrow(TemplateError);
    expect(() => renderTaskPayload(task, context)).toThrow(/dss/);
  });

  it('gives a container task its DAG pod template, rendered, and leaves other types without it', () => {
    const podTemplate = { metadata: { labels: { ds: '{{ ds_nodash }}' } } };
    const task = {
      taskId: 'fit', type: 'container', image: 'trainer:{{ params.region }}', args: ['--date', '{{ ds }}'], dependsOn: [], triggerRule: 'all_success',
    } as unknown as DagTask;
    expect(renderTaskPayload(task, context, { podTemplate })).toEqual({
      image: 'trainer:eu',
      args: ['--date', '2024-01-15'],
      dagPodTemplate: { metadata: { labels: { ds: '20240115' } } },
    });
    const shell = { taskId: 'a', type: 'shell', command: 'true', dependsOn: [], triggerRule: 'all_success' } as unknown as DagTask;
    expect(renderTaskPayload(shell, context, { podTemplate })).toEqual({ command: 'true' });
  });
});
