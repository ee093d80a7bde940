import type { V1Pod } from '@kubernetes/client-node';
import type { ExecutionResult } from '../../worker/executors/executor.js';
import { ANNOTATION } from './pod-labels.js';

/** What the launcher does with a pod of its own that no attempt of this process supervises (at start, or later). */
export type FoundPodAction =
  /** Its completion was accepted: it only waits for its clean-up. */
  | { action: 'cleanup' }
  /** Its attempt may be live: heartbeat its lease; if the lease is lost, delete the pod; otherwise supervise it. */
  | { action: 'adopt'; leaseId: string }
  /** Not a pod the launcher can account for (no lease id): delete it. */
  | { action: 'delete'; reason: string };

export function foundPodAction(pod: V1Pod): FoundPodAction {
  const annotations = pod.metadata?.annotations ?? {};
  if (annotations[ANNOTATION.completedAt]) return { action: 'cleanup' };
  const leaseId = annotations[ANNOTATION.leaseId];
  if (!leaseId) return { action: 'delete', reason: `pod has no ${ANNOTATION.leaseId} annotation` };
  return { action: 'adopt', leaseId };
}

/**
 * When a completed pod is deleted: `ttlSec` after its completion was accepted; never when it failed and failed pods
 * are kept (for `kubectl logs` and `describe`); null when it is not completed.
 */
export function cleanupDueAt(pod: V1Pod, opts: { ttlSec: number; keepFailed: boolean }): Date | 'never' | null {
  const annotations = pod.metadata?.annotations ?? {};
  const completedAt = Date.parse(annotations[ANNOTATION.completedAt] ?? '');
  if (Number.isNaN(completedAt)) return null;
  if (opts.keepFailed && recordedOutcome(pod)?.status === 'failed') return 'never';
  return new Date(completedAt + opts.ttlSec * 1000);
}

/** The outcome the launcher recorded on the pod before completing (without XCom), if any. */
export function recordedOutcome(pod: V1Pod): ExecutionResult | null {
  const text = pod.metadata?.annotations?.[ANNOTATION.outcome];
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<ExecutionResult>;
    if (value.status !== 'success' && value.status !== 'failed') return null;
    return {
      status: value.status,
      ...(typeof value.error === 'string' ? { error: value.error } : {}),
      ...(typeof value.retryable === 'boolean' ? { retryable: value.retryable } : {}),
    };
  } catch {
    return null;
  }
}

/** The annotation value recording an outcome: the result without its XCom (which the pod's status still holds). */
export function outcomeAnnotation(result: ExecutionResult): string {
  const { xcom: _xcom, ...rest } = result;
  return JSON.stringify(rest);
}

/** The supervision settings a pod carries, so a restarted launcher can supervise it without its lease. */
export function podAttemptSettings(pod: V1Pod): {
  heartbeatIntervalSec: number;
  executionDeadline: string | null;
  startupTimeoutSec: number;
  logCursor: string | null;
} {
  const a = pod.metadata?.annotations ?? {};
  const num = (v: string | undefined, fallback: number) => (v !== undefined && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : fallback);
  return {
    heartbeatIntervalSec: num(a[ANNOTATION.heartbeatSec], 15),
    executionDeadline: a[ANNOTATION.executionDeadline] ?? null,
    startupTimeoutSec: num(a[ANNOTATION.startupTimeoutSec], 300),
    logCursor: a[ANNOTATION.logCursor] ?? null,
  };
}
