import { describe, expect, it } from '@jest/globals';
import { mergePodTemplates, type JsonObject } from './merge-pod-templates.js';

const container = (spec: JsonObject): JsonObject => ({ spec: { containers: [{ name: 'base', ...spec }] } });

describe(mergePodTemplates.name, () => {
  it('merges maps key by key, later levels winning', () => {
    const merged = mergePodTemplates(
      { metadata: { labels: { team: 'data', tier: 'batch' } }, spec: { nodeSelector: { pool: 'cpu' } } },
      { metadata: { labels: { tier: 'gpu' } }, spec: { nodeSelector: { accelerator: 'a100' } } },
    );
    expect(merged).toEqual({
      metadata: { labels: { team: 'data', tier: 'gpu' } },
      spec: { nodeSelector: { pool: 'cpu', accelerator: 'a100' } },
    });
  });

  it('removes a key set to null', () => {
    expect(mergePodTemplates({ spec: { nodeSelector: { pool: 'cpu', zone: 'a' } } }, { spec: { nodeSelector: { zone: null } } })).toEqual({
      spec: { nodeSelector: { pool: 'cpu' } },
    });
  });

  it('merges containers by name and their env by name, volumeMounts by mountPath, resources as maps', () => {
    const cluster: JsonObject = {
      spec: {
        containers: [
          {
            name: 'base',
            image: 'busybox:1',
            env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
            volumeMounts: [{ name: 'scratch', mountPath: '/tmp' }],
            resources: { requests: { cpu: '100m', memory: '64Mi' } },
          },
          { name: 'sidecar', image: 'proxy:1' },
        ],
      },
    };
    const task: JsonObject = container({
      image: 'python:3.12',
      env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }],
      volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'fast', mountPath: '/tmp' }],
      resources: { limits: { memory: '1Gi' } },
    });
    expect(mergePodTemplates(cluster, task)).toEqual({
      spec: {
        containers: [
          {
            name: 'base',
            image: 'python:3.12',
            env: [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }],
            volumeMounts: [{ name: 'fast', mountPath: '/tmp' }, { name: 'data', mountPath: '/data' }],
            resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '1Gi' } },
          },
          { name: 'sidecar', image: 'proxy:1' },
        ],
      },
    });
  });

  it('replaces lists that Kubernetes does not key (command, args, envFrom)', () => {
    const merged = mergePodTemplates(
      container({ command: ['sh', '-c'], args: ['a'], envFrom: [{ secretRef: { name: 'one' } }] }),
      container({ args: ['b', 'c'], envFrom: [{ secretRef: { name: 'two' } }] }),
    );
    expect(merged).toEqual(container({ command: ['sh', '-c'], args: ['b', 'c'], envFrom: [{ secretRef: { name: 'two' } }] }));
  });

  it('merges volumes by name with retainKeys: a redefined volume keeps only the later source', () => {
    const merged = mergePodTemplates(
      { spec: { volumes: [{ name: 'data', emptyDir: {} }, { name: 'cache', emptyDir: { medium: 'Memory' } }] } },
      { spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'warehouse' } }, { name: 'cfg', configMap: { name: 'c' } }] } },
    );
    expect(merged).toEqual({
      spec: {
        volumes: [
          { name: 'data', persistentVolumeClaim: { claimName: 'warehouse' } },
          { name: 'cache', emptyDir: { medium: 'Memory' } },
          { name: 'cfg', configMap: { name: 'c' } },
        ],
      },
    });
  });

  it('keys tolerations by key and effect: a task adds to inherited ones and overrides the same taint', () => {
    const merged = mergePodTemplates(
      { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }] } },
      { spec: { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } },
      { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule' }] } },
    );
    expect(merged.spec).toEqual({
      tolerations: [
        { key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule' },
        { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      ],
    });
  });

  it('honours $patch: delete on keyed items and on maps', () => {
    const merged = mergePodTemplates(
      {
        spec: {
          containers: [{ name: 'base', image: 'a' }, { name: 'sidecar', image: 'b' }],
          affinity: { nodeAffinity: { x: 1 } },
        },
      },
      { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }], affinity: { $patch: 'delete' } } },
    );
    expect(merged).toEqual({ spec: { containers: [{ name: 'base', image: 'a' }] } });
  });

  it('honours $patch: replace on maps and as a list item', () => {
    const merged = mergePodTemplates(
      { metadata: { labels: { a: '1' } }, spec: { tolerations: [{ key: 'x', operator: 'Exists' }] } },
      {
        metadata: { labels: { $patch: 'replace', b: '2' } },
        spec: { tolerations: [{ $patch: 'replace' }, { key: 'y', operator: 'Exists' }] },
      },
    );
    expect(merged).toEqual({ metadata: { labels: { b: '2' } }, spec: { tolerations: [{ key: 'y', operator: 'Exists' }] } });
  });

  it('strips directives and nulls from parts that only the later level has', () => {
    const merged = mergePodTemplates({}, { spec: { nodeSelector: { a: 'x', b: null }, containers: [{ name: 'base', env: [{ name: 'X', $patch: 'delete' }] }] } });
    expect(merged).toEqual({ spec: { nodeSelector: { a: 'x' }, containers: [{ name: 'base', env: [] }] } });
  });

  it('skips absent levels and leaves its inputs untouched', () => {
    const cluster: JsonObject = container({ image: 'a', env: [{ name: 'A', value: '1' }] });
    const frozen = JSON.stringify(cluster);
    const merged = mergePodTemplates(undefined, cluster, undefined, container({ env: [{ name: 'A', value: '2' }] }));
    expect(JSON.stringify(cluster)).toBe(frozen);
    expect(merged).toEqual(container({ image: 'a', env: [{ name: 'A', value: '2' }] }));
  });
});
