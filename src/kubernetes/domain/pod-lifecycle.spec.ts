import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { cleanupDueAt, foundPodAction, outcomeAnnotation, podAttemptSettings, recordedOutcome } from './pod-lifecycle.js';

const pod = (annotations: Record<string, string>): V1Pod => ({ metadata: { name: 'p', annotations } });
const lease = { 'weft.dev/lease-id': 'L1' };

describe(foundPodAction.name, () => {
  it('cleans up completed pods, adopts pods with a lease, deletes pods it cannot account for', () => {
    expect(foundPodAction(pod({ ...lease, 'weft.dev/completed-at': '2024-01-01T00:00:00Z' }))).toEqual({ action: 'cleanup' });
    expect(foundPodAction(pod(lease))).toEqual({ action: 'adopt', leaseId: 'L1' });
    expect(foundPodAction(pod({ ...lease, 'weft.dev/outcome': '{"status":"failed"}' }))).toEqual({ action: 'adopt', leaseId: 'L1' });
    expect(foundPodAction(pod({}))).toEqual({ action: 'delete', reason: expect.stringContaining('weft.dev/lease-id') });
  });
});

describe(cleanupDueAt.name, () => {
  const done = { ...lease, 'weft.dev/completed-at': '2024-01-01T00:00:00.000Z' };
  it('is the completion time plus the TTL', () => {
    expect(cleanupDueAt(pod(done), { ttlSec: 60, keepFailed: false })).toEqual(new Date('2024-01-01T00:01:00Z'));
  });
  it('keeps failed pods when asked, and only those', () => {
    const failed = pod({ ...done, 'weft.dev/outcome': outcomeAnnotation({ status: 'failed', error: 'x', retryable: true }) });
    const succeeded = pod({ ...done, 'weft.dev/outcome': outcomeAnnotation({ status: 'success', xcom: { return_value: 1 } }) });
    expect(cleanupDueAt(failed, { ttlSec: 0, keepFailed: true })).toBe('never');
    expect(cleanupDueAt(failed, { ttlSec: 0, keepFailed: false })).toEqual(new Date('2024-01-01T00:00:00Z'));
    expect(cleanupDueAt(succeeded, { ttlSec: 0, keepFailed: true })).toEqual(new Date('2024-01-01T00:00:00Z'));
  });
  it('is null for a pod whose completion was not accepted yet', () => {
    expect(cleanupDueAt(pod(lease), { ttlSec: 0, keepFailed: false })).toBeNull();
  });
});

describe(recordedOutcome.name, () => {
  it('round-trips an outcome without its XCom and ignores garbage', () => {
    const text = outcomeAnnotation({ status: 'success', xcom: { return_value: 'big' } });
    expect(text).toBe('{"status":"success"}');
    expect(recordedOutcome(pod({ 'weft.dev/outcome': text }))).toEqual({ status: 'success' });
    expect(recordedOutcome(pod({ 'weft.dev/outcome': outcomeAnnotation({ status: 'failed', error: 'e', retryable: false }) }))).toEqual({
      status: 'failed',
      error: 'e',
      retryable: false,
    });
    expect(recordedOutcome(pod({ 'weft.dev/outcome': '{nope' }))).toBeNull();
    expect(recordedOutcome(pod({ 'weft.dev/outcome': '{"status":"maybe"}' }))).toBeNull();
    expect(recordedOutcome(pod({}))).toBeNull();
  });
});

describe(podAttemptSettings.name, () => {
  it('reads what a restarted launcher needs from the annotations, with defaults', () => {
    expect(
      podAttemptSettings(
        pod({
          'weft.dev/heartbeat-interval-sec': '5',
          'weft.dev/execution-deadline': '2024-01-01T01:00:00Z',
          'weft.dev/startup-timeout-sec': '30',
          'weft.dev/log-cursor': '2024-01-01T00:00:01.5Z',
        }),
      ),
    ).toEqual({ heartbeatIntervalSec: 5, executionDeadline: '2024-01-01T01:00:00Z', startupTimeoutSec: 30, logCursor: '2024-01-01T00:00:01.5Z' });
    expect(podAttemptSettings(pod({ 'weft.dev/heartbeat-interval-sec': 'x' }))).toEqual({
      heartbeatIntervalSec: 15,
      executionDeadline: null,
      startupTimeoutSec: 300,
      logCursor: null,
    });
  });
});
