import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { validateDagDocument } from '../../dags/domain/validate-dag.js';
import { renderTaskPayload } from '../../engine/leases/domain/render-task.js';
import { buildTemplateContext } from '../../templating/domain/template-context.js';
import { buildPod } from './build-pod.js';

// Pins the DAG example of docs/kubernetes.md: it registers, renders and becomes the pod the docs describe.
const doc = readFileSync(new URL('../../../docs/kubernetes.md', import.meta.url), 'utf8');
const example: unknown = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(doc)![1]!);

describe('docs/kubernetes.md', () => {
  it('has a DAG example that validates and builds the pod it describes', () => {
    const result = validateDagDocument(example, { validateSchedule: () => null, validateTimezone: () => null });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const dag = result.dag;
    const train = dag.tasks.find((t) => t.taskId === 'train')!;
    const context = buildTemplateContext({
      dagId: dag.dagId,
      runId: 'scheduled__2024-01-15T03:00:00+00:00',
      logicalDate: new Date('2024-01-15T03:00:00Z'),
      dataIntervalStart: new Date('2024-01-15T03:00:00Z'),
      dataIntervalEnd: new Date('2024-01-16T03:00:00Z'),
      xcom: { features: { return_value: { path: 's3://bucket/features/2024-01-15' } } },
    });
    const payload = renderTaskPayload(train, context, dag.defaultArgs);
    const built = buildPod(
      {
        leaseId: '00000000-0000-4000-8000-000000000000', dagId: dag.dagId, runId: context.run_id, taskId: 'train', tryNumber: 1,
        heartbeatIntervalSec: 15, executionDeadline: null, logicalDate: context.ts, dataIntervalStart: context.data_interval_start, dataIntervalEnd: context.data_interval_end,
      },
      payload,
      { launcherId: 'weft-launcher', namespaces: ['default'], startupTimeoutSec: 300 },
      new Date('2024-01-16T03:00:00Z'),
    );
    if ('error' in built) throw new Error(built.error);
    expect(built.startupTimeoutSec).toBe(900);
    expect(built.pod).toMatchObject({
      metadata: { labels: { team: 'ml' }, annotations: { 'weft.example/run': context.run_id } },
      spec: {
        imagePullSecrets: [{ name: 'registry' }],
        serviceAccountName: 'trainer',
        nodeSelector: { accelerator: 'a100' },
        containers: [
          {
            name: 'base',
            args: ['--features', 's3://bucket/features/2024-01-15'],
            envFrom: [{ secretRef: { name: 'warehouse-creds' } }, { secretRef: { name: 'wandb' }, prefix: 'WANDB_' }],
            resources: { limits: { 'nvidia.com/gpu': 1, memory: '16Gi' } },
          },
        ],
      },
    });
  });
});
