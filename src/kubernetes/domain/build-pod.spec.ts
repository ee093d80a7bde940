import { describe, expect, it } from '@jest/globals';
import { buildPod, type AttemptLease, type LaunchSettings } from './build-pod.js';
import { labelValue, podName } from './pod-labels.js';

const lease: AttemptLease = {
  leaseId: '6f1c2a53-7f0e-4c4e-9a8b-1d2e3f405162',
  dagId: 'train',
  runId: 'scheduled__2024-01-15T06:00:00+00:00',
  taskId: 'fit_model',
  tryNumber: 2,
  heartbeatIntervalSec: 15,
  executionDeadline: '2024-01-16T07:00:30Z',
  logicalDate: '2024-01-15T06:00:00.000Z',
  dataIntervalStart: '2024-01-15T06:00:00.000Z',
  dataIntervalEnd: '2024-01-16T06:00:00.000Z',
};
const now = new Date('2024-01-16T07:00:00Z');
const settings: LaunchSettings = {
  launcherId: 'launcher-a',
  namespaces: ['batch', 'ml'],
  startupTimeoutSec: 300,
  clusterTemplate: {
    metadata: { labels: { team: 'platform' } },
    spec: {
      containers: [{ name: 'base', image: 'busybox:1', env: [{ name: 'LOG_LEVEL', value: 'info' }] }],
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
      priorityClassName: 'batch',
    },
  },
};

describe(buildPod.name, () => {
  it('builds the pod of a GPU task: selector, toleration, limits, volume and secret over the cluster and DAG templates', () => {
    const built = buildPod(
      lease,
      {
        image: 'trainer:3',
        command: ['python', '-m', 'train'],
        args: ['--date', '2024-01-15'],
        env: { MODEL: 'v3', WEFT_DS: 'overridden' },
        secrets: ['warehouse', { name: 'api-token', prefix: 'API_' }],
        resources: { limits: { 'nvidia.com/gpu': 1, memory: '4Gi' } },
        nodeSelector: { accelerator: 'a100' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'features' } }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        serviceAccount: 'trainer',
        namespace: 'ml',
        dagPodTemplate: { metadata: { annotations: { owner: 'ml-team' } }, spec: { containers: [{ name: 'base', env: [{ name: 'LOG_LEVEL', value: 'debug' }] }] } },
      },
      settings,
      now,
    );
    if ('error' in built) throw new Error(built.error);
    expect(built.namespace).toBe('ml');
    expect(built.name).toBe(podName(lease));
    expect(built.pod).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: built.name,
        namespace: 'ml',
        labels: {
          team: 'platform',
          'app.kubernetes.io/managed-by': 'weft',
          'weft.dev/launcher': 'launcher-a',
          'weft.dev/dag-id': 'train',
          'weft.dev/task-id': 'fit_model',
          'weft.dev/try-number': '2',
        },
        annotations: {
          owner: 'ml-team',
          'weft.dev/dag-id': 'train',
          'weft.dev/run-id': lease.runId,
          'weft.dev/task-id': 'fit_model',
          'weft.dev/try-number': '2',
          'weft.dev/lease-id': lease.leaseId,
          'weft.dev/heartbeat-interval-sec': '15',
          'weft.dev/startup-timeout-sec': '300',
          'weft.dev/execution-deadline': lease.executionDeadline,
        },
      },
      spec: {
        containers: [
          {
            terminationMessagePolicy: 'FallbackToLogsOnError',
            name: 'base',
            image: 'trainer:3',
            command: ['python', '-m', 'train'],
            args: ['--date', '2024-01-15'],
            env: [
              { name: 'WEFT_DAG_ID', value: 'train' },
              { name: 'WEFT_RUN_ID', value: lease.runId },
              { name: 'WEFT_TASK_ID', value: 'fit_model' },
              { name: 'WEFT_TRY_NUMBER', value: '2' },
              { name: 'WEFT_LOGICAL_DATE', value: lease.logicalDate },
              { name: 'WEFT_DATA_INTERVAL_START', value: lease.dataIntervalStart },
              { name: 'WEFT_DATA_INTERVAL_END', value: lease.dataIntervalEnd },
              { name: 'LOG_LEVEL', value: 'debug' },
              { name: 'MODEL', value: 'v3' },
              { name: 'WEFT_DS', value: 'overridden' },
            ],
            envFrom: [{ secretRef: { name: 'warehouse' } }, { secretRef: { name: 'api-token' }, prefix: 'API_' }],
            resources: { limits: { 'nvidia.com/gpu': 1, memory: '4Gi' } },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
        tolerations: [
          { key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' },
          { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
        ],
        priorityClassName: 'batch',
        serviceAccountName: 'trainer',
        nodeSelector: { accelerator: 'a100' },
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'features' } }],
        restartPolicy: 'Never',
        activeDeadlineSeconds: 30,
      },
    });
  });

  it('uses the default namespace, the task startup timeout, and the smaller of two deadlines', () => {
    const built = buildPod(
      { ...lease, executionDeadline: '2024-01-16T08:00:00Z' },
      { image: 'x', startupTimeoutSec: 20, podTemplate: { spec: { activeDeadlineSeconds: 60 } } },
      settings,
      now,
    );
    if ('error' in built) throw new Error(built.error);
    expect(built.namespace).toBe('batch');
    expect(built.startupTimeoutSec).toBe(20);
    expect((built.pod.spec as { activeDeadlineSeconds: number }).activeDeadlineSeconds).toBe(60);
  });

  it('keeps a container policy the templates set and forces restartPolicy Never', () => {
    const built = buildPod(
      { ...lease, executionDeadline: null },
      { image: 'x', podTemplate: { spec: { containers: [{ name: 'base', terminationMessagePolicy: 'File' }] } } },
      { ...settings, clusterTemplate: undefined },
      now,
    );
    if ('error' in built) throw new Error(built.error);
    const spec = built.pod.spec as { restartPolicy: string; activeDeadlineSeconds?: number; containers: Array<{ terminationMessagePolicy: string }> };
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.activeDeadlineSeconds).toBeUndefined();
    expect(spec.containers[0]!.terminationMessagePolicy).toBe('File');
  });

  it.each([
    [{ command: ['true'] }, { ...settings, clusterTemplate: undefined }, "no image for the 'base' container"],
    [{ image: 'x', namespace: 'prod' }, settings, "namespace 'prod' is not one this launcher serves"],
    [{ image: 'x', resources: { limits: { memory: 'lots' } } }, settings, 'invalid container task: resources.limits.memory'],
  ])('refuses %j', (payload, launch, message) => {
    const built = buildPod(lease, payload, launch, now);
    expect('error' in built && built.error).toContain(message);
  });
});

describe(podName.name, () => {
  it('is a DNS label, stable per attempt, different per try', () => {
    const a = podName(lease);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(podName({ ...lease })).toBe(a);
    expect(podName({ ...lease, tryNumber: 3 })).not.toBe(a);
    expect(podName({ ...lease, runId: 'manual__x' })).not.toBe(a);
    const long = podName({ ...lease, taskId: `${'Very_Long.Task'.repeat(20)}`, tryNumber: 100 });
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

describe(labelValue.name, () => {
  it('keeps valid values and makes others valid and distinct', () => {
    expect(labelValue('fit_model')).toBe('fit_model');
    const a = labelValue('scheduled__2024-01-15T06:00:00+00:00');
    expect(a).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(labelValue('x'.repeat(100)).length).toBeLessThanOrEqual(63);
    expect(labelValue('a:b')).not.toBe(labelValue('a;b'));
    expect(labelValue('-')).toMatch(/^[a-f0-9]{10}$/);
  });
});
