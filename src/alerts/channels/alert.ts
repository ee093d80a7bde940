import type { AlertCallback, AlertKind, AlertMessage } from '../domain/alert.js';

/**
 * The outcome of one delivery attempt. `retryable` says whether the same message may succeed later (server or network
 * trouble); a non-retryable failure repeats identically (bad address, rejected credentials, 404…). `status`: the
 * HTTP status the receiver answered, when it answered one (absent for network errors, refused addresses…).
 */
export type DeliveryResult = { ok: true; warning?: string } | { ok: false; error: string; retryable: boolean; status?: number };

/** One delivery mechanism; `send` never throws: every failure comes back as a `DeliveryResult`. */
export interface AlertChannel<C extends AlertCallback> {
  send(callback: C, message: AlertMessage): Promise<DeliveryResult>;
}

export function deliveryFailed(error: string, retryable: boolean, status?: number): DeliveryResult {
  return status === undefined ? { ok: false, error, retryable } : { ok: false, error, retryable, status };
}

const KIND_TITLES: Record<AlertKind, string> = {
  sla_miss: 'SLA missed',
  sla_warning: 'SLA at risk',
  task_failed: 'Task failed',
  run_failed: 'Run failed',
};

/** "SLA missed: etl.load (2024-01-15T00:00:00.000Z)": the Slack header and the email subject. */
export function alertTitle(message: AlertMessage): string {
  const target = message.taskId ? `${message.dagId}.${message.taskId}` : message.dagId;
  return `${KIND_TITLES[message.kind]}: ${target} (${message.logicalDate})`;
}

/** The labelled facts every human-readable channel shows, in display order; the task only when there is one. */
export function alertFields(message: AlertMessage): { label: string; value: string }[] {
  return [
    { label: 'DAG', value: message.dagId },
    { label: 'Run', value: message.runId },
    ...(message.taskId ? [{ label: 'Task', value: message.taskId }] : []),
    { label: 'Logical date', value: message.logicalDate },
    { label: 'Occurred at', value: message.occurredAt },
  ];
}

