import type { PagerDutySeverity } from '../../dags/domain/dag-document.schema.js';
import { pagerDutySeverity } from '../domain/pagerduty-severity.js';
import { DEFAULT_ADDRESS_POLICY } from '../../outbound/domain/address-policy.js';
import { OutboundGuard } from '../../outbound/outbound-guard.js';
import { alertTitle, type AlertChannel, type DeliveryResult } from './alert.js';
import type { AlertCallback, AlertMessage } from '../domain/alert.js';
import { DEFAULT_HTTP_TIMEOUT_MS, postOnce } from './http-post.js';

export type PagerDutyCallback = Extract<AlertCallback, { type: 'pagerduty' }>;

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
/** Events API v2 limits: a summary of at most 1024 characters, a dedup_key of at most 255. */
const SUMMARY_MAX = 1024;
const DEDUP_KEY_MAX = 255;

export type PagerDutyChannelOptions = { timeoutMs?: number; guard?: OutboundGuard };

/** An Events API v2 event (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/). */
export type PagerDutyEvent =
  | {
      routing_key: string;
      event_action: 'trigger';
      dedup_key: string;
      client: string;
      payload: {
        summary: string;
        source: string;
        severity: PagerDutySeverity;
        timestamp: string;
        component: string;
        group: string;
        class: string;
        custom_details: Record<string, unknown>;
      };
    }
  | { routing_key: string; event_action: 'resolve'; dedup_key: string };

/**
 * The stable incident key of an alert: one per task instance (run, for a run failure) and kind, so that repeated
 * triggers fold into one incident and a later success resolves it.
 */
export function pagerDutyDedupKey(message: AlertMessage): string {
  return `weft:${message.incidentKey ?? message.deliveryId}`.slice(0, DEDUP_KEY_MAX);
}

export function pagerDutyEvent(callback: PagerDutyCallback, message: AlertMessage): PagerDutyEvent {
  const dedupKey = pagerDutyDedupKey(message);
  if (message.action === 'resolve') return { routing_key: callback.routingKey, event_action: 'resolve', dedup_key: dedupKey };
  return {
    routing_key: callback.routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    client: 'Weft',
    payload: {
      summary: `${alertTitle(message)}: ${message.summary}`.slice(0, SUMMARY_MAX),
      source: 'weft',
      severity: pagerDutySeverity(callback.severity, message.kind),
      timestamp: message.occurredAt,
      component: message.taskId ?? message.dagId,
      group: message.dagId,
      class: message.kind,
      custom_details: {
        dagId: message.dagId,
        runId: message.runId,
        ...(message.taskId ? { taskId: message.taskId } : {}),
        logicalDate: message.logicalDate,
        ...message.details,
        deliveryId: message.deliveryId,
      },
    },
  };
}

/**
 * PagerDuty Events API v2: `trigger` for an alert, `resolve` when the task instance it was about later succeeded
 * (AlertsService). PagerDuty answers 202; 429 (rate limited) and 5xx are retried, 400 (invalid event) is not.
 */
export class PagerDutyChannel implements AlertChannel<PagerDutyCallback> {
  private readonly timeoutMs: number;
  private readonly guard: OutboundGuard;

  constructor(options: PagerDutyChannelOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    this.guard = options.guard ?? new OutboundGuard(DEFAULT_ADDRESS_POLICY);
  }

  send(callback: PagerDutyCallback, message: AlertMessage): Promise<DeliveryResult> {
    return postOnce({
      url: callback.url ?? PAGERDUTY_EVENTS_URL,
      body: JSON.stringify(pagerDutyEvent(callback, message)),
      headers: { 'content-type': 'application/json', 'user-agent': 'weft' },
      timeoutMs: this.timeoutMs,
      guard: this.guard,
    });
  }
}
