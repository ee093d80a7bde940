import { describe, expect, it } from '@jest/globals';
import type { V1ContainerState, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { readPod } from './pod-outcome.js';

const limits = { maxXcomBytes: 1024 };

function pod(status: V1PodStatus, memory?: string): V1Pod {
  return {
    metadata: { name: 'p' },
    spec: { activeDeadlineSeconds: 60, containers: [{ name: 'base', image: 'x', resources: memory ? { limits: { memory } } : undefined }] },
    status,
  };
}
const base = (state: V1ContainerState) => [{ name: 'base', image: 'x', imageID: '', ready: false, restartCount: 0, state }];
const terminated = (exitCode: number, extra: Partial<NonNullable<V1ContainerState['terminated']>> = {}) => base({ terminated: { exitCode, ...extra } });

describe(readPod.name, () => {
  it('succeeds on exit code 0, with the termination message as XCom (JSON parsed, text kept)', () => {
    expect(readPod(pod({ phase: 'Succeeded', containerStatuses: terminated(0, { reason: 'Completed' }) }), limits)).toEqual({
      kind: 'finished',
      result: { status: 'success' },
    });
    expect(readPod(pod({ phase: 'Succeeded', containerStatuses: terminated(0, { message: '{"rows": 42}\n' }) }), limits)).toEqual({
      kind: 'finished',
      result: { status: 'success', xcom: { return_value: { rows: 42 } } },
    });
    expect(readPod(pod({ phase: 'Succeeded', containerStatuses: terminated(0, { message: 's3://bucket/out' }) }), limits)).toEqual({
      kind: 'finished',
      result: { status: 'success', xcom: { return_value: 's3://bucket/out' } },
    });
  });

  it('fails a termination message over the XCom limit, not retryable', () => {
    const view = readPod(pod({ phase: 'Succeeded', containerStatuses: terminated(0, { message: 'x'.repeat(2000) }) }), limits);
    expect(view).toEqual({ kind: 'finished', result: { status: 'failed', error: expect.stringContaining('over the limit of 1024 bytes'), retryable: false } });
  });

  it('ends the attempt when the base container ends, even while a sidecar runs', () => {
    const status: V1PodStatus = {
      phase: 'Running',
      containerStatuses: [...terminated(3, { reason: 'Error', message: 'loading\nTraceback: boom\n' }), { name: 'proxy', image: 'p', imageID: '', ready: true, restartCount: 0, state: { running: {} } }],
    };
    expect(readPod(pod(status), limits)).toEqual({
      kind: 'finished',
      result: { status: 'failed', error: "container 'base' exited with code 3 (Error): Traceback: boom", retryable: true },
    });
  });

  it('names OOMKilled, eviction and the active deadline', () => {
    expect(readPod(pod({ phase: 'Failed', containerStatuses: terminated(137, { reason: 'OOMKilled' }) }, '256Mi'), limits)).toEqual({
      kind: 'finished',
      result: { status: 'failed', error: "container 'base' was OOMKilled (exit code 137): it used more memory than its limit (256Mi)", retryable: true },
    });
    expect(readPod(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.', containerStatuses: terminated(137) }), limits)).toEqual({
      kind: 'finished',
      result: { status: 'failed', error: 'pod evicted by the kubelet: The node was low on resource: memory.', retryable: true },
    });
    expect(readPod(pod({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }), limits)).toEqual({
      kind: 'finished',
      result: { status: 'failed', error: 'pod exceeded its activeDeadlineSeconds (60 s): Pod was active on the node longer than the specified deadline', retryable: true },
    });
    expect(readPod(pod({ phase: 'Failed', reason: 'NodeLost' }), limits)).toEqual({
      kind: 'finished',
      result: { status: 'failed', error: 'pod failed: NodeLost', retryable: true },
    });
  });

  it('is running while the base container runs', () => {
    expect(readPod(pod({ phase: 'Running', containerStatuses: base({ running: { startedAt: new Date() } }) }), limits)).toEqual({ kind: 'running' });
  });

  it('says why a pod is pending: the scheduler first, then a waiting container', () => {
    expect(readPod(pod({ phase: 'Pending' }), limits)).toEqual({ kind: 'pending', reason: null });
    expect(
      readPod(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient nvidia.com/gpu.' }] }), limits),
    ).toEqual({ kind: 'pending', reason: 'Unschedulable: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu.' });
    expect(
      readPod(
        pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: base({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope:1"' } }) }),
        limits,
      ),
    ).toEqual({ kind: 'pending', reason: 'ImagePullBackOff: Back-off pulling image "nope:1"' });
    expect(readPod(pod({ phase: 'Pending', containerStatuses: base({ waiting: { reason: 'ContainerCreating' } }) }), limits)).toEqual({ kind: 'pending', reason: null });
  });
});
