import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { BASE_CONTAINER } from '../../dags/domain/kubernetes-fields.js';
import { withinXcomLimit, type ExecutionResult } from '../../worker/executors/executor.js';

/** Where an attempt's pod stands, read from its status. */
export type PodView =
  /** Not running yet; `reason` is what Kubernetes says holds it (Unschedulable: …, ImagePullBackOff: …), if anything. */
  | { kind: 'pending'; reason: string | null }
  | { kind: 'running' }
  /** The base container (or the whole pod) ended: the attempt's result. */
  | { kind: 'finished'; result: ExecutionResult };

/**
 * Reads a pod's status the way the launcher completes an attempt from it: the base container's exit code decides
 * success; OOMKilled, an eviction and activeDeadlineSeconds are named in the error; the termination message of a
 * successful container is its XCom `return_value` (parsed when it is JSON, otherwise the text). Every failure is
 * retryable: the retry policy decides. Sidecars do not hold the attempt once the base container has ended.
 */
export function readPod(pod: V1Pod, limits: { maxXcomBytes: number }): PodView {
  const status = pod.status ?? {};
  const base = (status.containerStatuses ?? []).find((c) => c.name === BASE_CONTAINER);
  const terminated = base?.state?.terminated;
  if (status.phase === 'Failed' && status.reason === 'Evicted') {
    return failed(`pod evicted by the kubelet: ${status.message ?? 'no message'}`);
  }
  if (status.phase === 'Failed' && status.reason === 'DeadlineExceeded') {
    return failed(`pod exceeded its activeDeadlineSeconds (${pod.spec?.activeDeadlineSeconds ?? '?'} s): ${status.message ?? 'deadline exceeded'}`);
  }
  if (terminated) {
    if (terminated.exitCode === 0) return { kind: 'finished', result: success(terminated.message, limits) };
    if (terminated.reason === 'OOMKilled') {
      return failed(`container '${BASE_CONTAINER}' was OOMKilled (exit code ${terminated.exitCode}): it used more memory than its limit${memoryLimit(pod)}`);
    }
    const tail = lastLine(terminated.message);
    return failed(`container '${BASE_CONTAINER}' exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}${tail ? `: ${tail}` : ''}`);
  }
  if (status.phase === 'Failed') return failed(`pod failed: ${[status.reason, status.message].filter(Boolean).join(': ') || 'no reason given'}`);
  if (status.phase === 'Succeeded') return { kind: 'finished', result: success(undefined, limits) };
  if (base?.state?.running || status.phase === 'Running') return { kind: 'running' };
  return { kind: 'pending', reason: pendingReason(pod, base) };
}

/** Why a pod has not started: the scheduler's verdict first, then a waiting container (image pull, config). */
export function pendingReason(pod: V1Pod, base?: V1ContainerStatus): string | null {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') return `${scheduled.reason ?? 'Unschedulable'}: ${scheduled.message ?? 'not scheduled'}`;
  const waiting = [base, ...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find(
    (c) => c?.state?.waiting?.reason && c.state.waiting.reason !== 'ContainerCreating' && c.state.waiting.reason !== 'PodInitializing',
  )?.state?.waiting;
  if (waiting) return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  return null;
}

function success(message: string | undefined, limits: { maxXcomBytes: number }): ExecutionResult {
  const text = message?.trimEnd() ?? '';
  if (text === '') return { status: 'success' };
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: the text itself is the value.
  }
  return withinXcomLimit({ return_value: value }, { ...limits, maxLogLineBytes: 0 }, 'the termination message');
}

function failed(error: string): PodView {
  return { kind: 'finished', result: { status: 'failed', error, retryable: true } };
}

function memoryLimit(pod: V1Pod): string {
  const limit = pod.spec?.containers.find((c) => c.name === BASE_CONTAINER)?.resources?.limits?.memory;
  return limit === undefined ? '' : ` (${String(limit)})`;
}

/** The last non-empty line of a failed container's message (its log tail, with FallbackToLogsOnError). */
function lastLine(message: string | undefined): string {
  const lines = (message ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines[lines.length - 1] ?? '';
  return last.length > 500 ? `${last.slice(0, 500)}…` : last;
}
