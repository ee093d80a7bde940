import { describe, expect, it } from '@jest/globals';
import { validateDagDocument, type DagValidationChecks } from './validate-dag.js';

const checks: DagValidationChecks = { validateSchedule: () => null, validateTimezone: () => null };

function dag(task: Record<string, unknown>, defaultArgs: Record<string, unknown> = {}): Record<string, unknown> {
  return { dagId: 'train', defaultArgs, tasks: [{ taskId: 'fit', type: 'container', ...task }] };
}

function errors(doc: Record<string, unknown>): Array<{ path: string; message: string }> {
  const result = validateDagDocument(doc, checks);
  return result.ok ? [] : result.errors;
}

describe('container task validation', () => {
  it('accepts a task with a GPU selector, toleration, limits, volume and secret', () => {
    const result = validateDagDocument(
      dag({
        image: 'registry.example.com/ml/train:1.4',
        command: ['python', '-m', 'train'],
        args: ['--date', '{{ ds }}'],
        env: { MODEL: 'v3' },
        secrets: ['warehouse-creds', { name: 'api-token', prefix: 'API_' }],
        resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '4Gi', 'nvidia.com/gpu': 1 } },
        nodeSelector: { 'weft.example/accelerator': 'a100' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'features' } }],
        volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
        serviceAccount: 'trainer',
        namespace: 'ml',
        startupTimeoutSec: 600,
        podTemplate: { metadata: { labels: { team: 'ml' } }, spec: { priorityClassName: 'batch' } },
      }),
      checks,
    );
    expect(result.ok).toBe(true);
  });

  it('takes the image from the DAG podTemplate', () => {
    const template = { spec: { containers: [{ name: 'base', image: 'python:3.12' }] } };
    expect(errors(dag({ command: ['true'] }, { podTemplate: template }))).toEqual([]);
  });

  it('needs an image somewhere', () => {
    expect(errors(dag({ command: ['true'] }))).toEqual([
      { path: 'tasks[0].image', message: expect.stringContaining('a container task needs an image') },
    ]);
  });

  it.each([
    [{ resources: { limits: { memory: '4 GB' } } }, 'tasks[0].resources.limits.memory', 'Kubernetes quantity'],
    [{ namespace: 'ML' }, 'tasks[0].namespace', 'DNS label'],
    [{ serviceAccount: 'a_b' }, 'tasks[0].serviceAccount', 'DNS subdomain'],
    [{ env: { '1X': 'y' } }, 'tasks[0].env["1X"]', 'not starting with a digit'],
    [{ tolerations: [{ key: 'gpu', operator: 'Sometimes' }] }, 'tasks[0].tolerations[0].operator', "'Exists', 'Equal'"],
    [{ tolerations: [{ key: 'gpu', operator: 'Exists', value: 'x' }] }, 'tasks[0].tolerations[0].value', 'takes no value'],
    [{ nodeSelector: { 'weft.dev/launcher': 'x' } }, 'tasks[0].nodeSelector["weft.dev/launcher"]', 'set by Weft'],
    [{ volumeMounts: [{ name: 'data' }] }, 'tasks[0].volumeMounts[0].mountPath', 'missing required field'],
    [{ command: 'python train.py' }, 'tasks[0].command', 'expected'],
    [{ podTemplate: { spec: { restartPolicy: 'Always' } } }, 'tasks[0].podTemplate.spec.restartPolicy', "must be 'Never'"],
    [{ podTemplate: { spec: { containers: [{ image: 'x' }] } } }, 'tasks[0].podTemplate.spec.containers[0].name', 'missing required field'],
    [{ podTemplate: { spec: { volumes: [{ emptyDir: {} }] } } }, 'tasks[0].podTemplate.spec.volumes[0].name', 'missing required field'],
    [{ podTemplate: { metadata: { name: 'fixed' } } }, 'tasks[0].podTemplate.metadata.name', 'unknown field'],
    [{ memory: '1Gi' }, 'tasks[0].memory', 'unknown field'],
  ])('refuses %j at its path', (fields, path, message) => {
    const found = errors(dag({ image: 'busybox', ...fields }));
    expect(found).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('checks the DAG-level podTemplate too', () => {
    expect(errors(dag({ image: 'busybox' }, { podTemplate: { metadata: { labels: { 'weft.dev/x': 'y' } } } }))).toContainEqual({
      path: 'defaultArgs.podTemplate.metadata.labels["weft.dev/x"]',
      message: expect.stringContaining('set by Weft'),
    });
  });

  it('no longer lets a custom task call its type container', () => {
    expect(errors({ dagId: 'd', tasks: [{ taskId: 't', type: 'container', args: { x: 1 } }] })).toContainEqual({
      path: 'tasks[0].args',
      message: expect.stringContaining('expected'),
    });
  });
});
