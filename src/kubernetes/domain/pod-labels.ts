import { createHash } from 'node:crypto';

/** Labels and annotations the launcher puts on every pod it creates; it finds, fences and cleans up pods by them. */
export const LABEL = {
  managedBy: 'app.kubernetes.io/managed-by',
  launcher: 'weft.dev/launcher',
  dagId: 'weft.dev/dag-id',
  taskId: 'weft.dev/task-id',
  tryNumber: 'weft.dev/try-number',
} as const;

export const ANNOTATION = {
  dagId: 'weft.dev/dag-id',
  runId: 'weft.dev/run-id',
  taskId: 'weft.dev/task-id',
  tryNumber: 'weft.dev/try-number',
  leaseId: 'weft.dev/lease-id',
  heartbeatSec: 'weft.dev/heartbeat-interval-sec',
  executionDeadline: 'weft.dev/execution-deadline',
  startupTimeoutSec: 'weft.dev/startup-timeout-sec',
  /** Timestamp of the last log line copied into the task log (RFC 3339 with nanoseconds). */
  logCursor: 'weft.dev/log-cursor',
  /** The result the launcher decided on (JSON, without XCom), written before it completes the lease. */
  outcome: 'weft.dev/outcome',
  /** When the lease API accepted the completion: from then on the pod only waits for its clean-up. */
  completedAt: 'weft.dev/completed-at',
} as const;

export const MANAGED_BY = 'weft';

/**
 * A label value made from any string: characters a label cannot hold become "_", and a value too long (or one that
 * had to change) is cut and given a short hash, so two ids never share a label by accident. The exact id is always
 * in the annotation of the same name.
 */
export function labelValue(value: string): string {
  const safe = value.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
  if (safe === value && value.length <= 63) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 10);
  return `${safe.slice(0, 52).replace(/[^A-Za-z0-9]+$/, '')}${safe ? '-' : ''}${hash}`;
}

/**
 * The pod of one attempt: named from the protocol's idempotency key (dag, run, task, try), so that creating it twice
 * finds the first one instead of running the attempt twice. A DNS label: at most 63 characters.
 */
export function podName(attempt: { dagId: string; runId: string; taskId: string; tryNumber: number }): string {
  const hash = createHash('sha256')
    .update(`${attempt.dagId}\u0000${attempt.runId}\u0000${attempt.taskId}\u0000${attempt.tryNumber}`)
    .digest('hex')
    .slice(0, 12);
  const slug = attempt.taskId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 36)
    .replace(/-+$/, '');
  return `weft-${slug ? `${slug}-` : ''}${hash}-${attempt.tryNumber}`.slice(0, 63);
}
