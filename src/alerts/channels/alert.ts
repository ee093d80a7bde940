import type { PagerDutySeveritySetting, SlaCallback } from '../../dags/domain/dag-document.schema.js';

export const ALERT_KINDS = ['sla_miss', 'sla_warning', 'task_failed', 'run_failed'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What every channel delivers; the webhook body is exactly this object as JSON. It is built once when the alert is
 * recorded and stored with the delivery, so that a retry sends the same bytes: receivers deduplicate on `deliveryId`.
 */
export type AlertMessage = {
  kind: AlertKind;
  dagId: string;
  runId: string;
  /** Absent when the alert is about the whole run. */
  taskId?: string;
  /** ISO 8601. */
  logicalDate: string;
  /** One human sentence, e.g. "load did not finish within 1h after the data interval ended". */
  summary: string;
  /** Kind-specific facts (SLA, expected and actual times…); shown as-is in Slack and email. */
  details: { [key: string]: JsonValue };
  /** ISO 8601: when the condition was detected, not when this delivery is attempted. */
  occurredAt: string;
  /** Unique per alert and callback, the same on every retry. */
  deliveryId: string;
  /**
   * The condition the alert is about, the same for every alert about it: `<kind>:ti:<task instance row id>` or
   * `run_failed:run:<run row id>` (PagerDuty's dedup_key is made from it).
   */
  incidentKey?: string;
  /** 'resolve': the condition is over (its task instance, or run, succeeded since); sent to PagerDuty callbacks only. */
  action?: 'resolve';
};

/**
 * A callback as the DAG document declares it (`slaCallbacks`), ready to send: a webhook's `secret` is the plaintext
 * (decrypted, or read from its `secretRef`: domain/resolve-callback.ts), never the stored form.
 */
export type AlertCallback =
  | Exclude<SlaCallback, { type: 'webhook' } | { type: 'pagerduty' }>
  | { type: 'webhook'; url: string; secret?: string }
  | { type: 'pagerduty'; routingKey: string; severity?: PagerDutySeveritySetting; url?: string };

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

