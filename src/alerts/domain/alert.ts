import type { PagerDutySeveritySetting, SlaCallback } from '../../dags/domain/dag-document.schema.js';

// An alert as data: its kinds, the message every channel delivers, and the callback it goes to. The channels'
// contract and rendering (AlertChannel, DeliveryResult, alertTitle…) are in ../channels/alert.ts.

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
 * (decrypted, or read from its `secretRef`: resolve-callback.ts), never the stored form.
 */
export type AlertCallback =
  | Exclude<SlaCallback, { type: 'webhook' } | { type: 'pagerduty' }>
  | { type: 'webhook'; url: string; secret?: string }
  | { type: 'pagerduty'; routingKey: string; severity?: PagerDutySeveritySetting; url?: string };
