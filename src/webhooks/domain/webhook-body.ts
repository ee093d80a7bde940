import { toBackfillProgressEvent, toDagRunEvent, toTaskInstanceEvent, type StoredEvent } from '../../events/domain/streams.js';

/** A delivery as stored: the event it carries (copied from the outbox) and which webhook it goes to. */
export type StoredWebhookDelivery = {
  id: string;
  webhookId: number;
  stream: string;
  seq: number;
  kind: string;
  dagId: string;
  runId: string | null;
  payload: Record<string, unknown>;
  /** The first delivery of this event when this one is a redelivery. */
  redeliveryOf: string | null;
};

/**
 * The JSON body of a delivery: the same bytes on every retry (built from what is stored only). Receivers keep, per
 * `stream`, the highest `sequence` applied and ignore what is not above it: duplicates (a retry after a lost
 * answer, a redelivery) carry the sequence number they had the first time.
 */
export function webhookBody(d: StoredWebhookDelivery): string {
  return JSON.stringify({
    deliveryId: d.redeliveryOf ?? d.id,
    webhookId: d.webhookId,
    stream: d.stream,
    sequence: d.seq,
    kind: d.kind,
    dagId: d.dagId,
    runId: d.runId,
    redelivery: d.redeliveryOf !== null,
    data: eventData(d),
  });
}

/** The event as GraphQL subscriptions show it (same field names), or the raw payload for kinds without a mapping. */
function eventData(d: StoredWebhookDelivery): unknown {
  const e: StoredEvent = { stream: d.stream, seq: d.seq, kind: d.kind, dagId: d.dagId, runId: d.runId, payload: d.payload };
  switch (d.kind) {
    case 'task_instance_state':
      return toTaskInstanceEvent(e);
    case 'dag_run_state':
      return toDagRunEvent(e);
    case 'backfill_progress':
      return toBackfillProgressEvent(e);
    case 'sla_miss':
      return toSlaMissEvent(d);
    case 'sla_warning':
      return { ...d.payload, ...toSlaMissEvent(d), startedAt: iso(d, 'startedAt') };
    default:
      return { sequence: d.seq, dagId: d.dagId, ...d.payload };
  }
}

/** An SLA miss or warning (triggers of migrations `webhooks`, `sla_warnings`), with timestamps in JavaScript's ISO form. */
function toSlaMissEvent(d: StoredWebhookDelivery) {
  return {
    sequence: d.seq,
    dagId: d.dagId,
    runId: d.runId,
    taskId: d.payload.taskId ?? null,
    logicalDate: iso(d, 'logicalDate'),
    ...(d.kind === 'sla_miss' ? { deadline: iso(d, 'deadline') } : {}),
    at: iso(d, 'at'),
  };
}

const iso = (d: StoredWebhookDelivery, k: string): string | null => (typeof d.payload[k] === 'string' ? new Date(d.payload[k]).toISOString() : null);

/** 4xx answers that ask to come back later (Request Timeout, Too Early, Too Many Requests): retried like a 5xx. */
const RETRIED_CLIENT_STATUSES = new Set([408, 425, 429]);

/**
 * What a failed attempt means for its delivery, from the HTTP status the receiver answered (undefined: it answered
 * none: a timeout, a refused connection or address, a missing secret). A 4xx other than 408/425/429 is the receiver
 * refusing this event (as GitHub and Stripe treat it): the delivery fails for good, is not retried, and no longer
 * holds back the later deliveries of its stream. Anything else (5xx, 408/425/429, no answer, a redirect: a problem
 * with the endpoint, not with this event) is retried with backoff, the stream waiting behind it.
 */
export function webhookFailureOutcome(status: number | undefined): 'rejected' | 'retry' {
  return status !== undefined && status >= 400 && status < 500 && !RETRIED_CLIENT_STATUSES.has(status) ? 'rejected' : 'retry';
}

/** Retry delays: 5 s, 10 s, 20 s… doubling, at most `maxMs` (an hour by default); no jitter (a stream waits in line anyway). */
export function nextWebhookAttemptAt(attempts: number, now: Date, maxMs = 3_600_000): Date {
  const delay = Math.min(maxMs, 5_000 * 2 ** Math.min(Math.max(attempts - 1, 0), 20));
  return new Date(now.getTime() + delay);
}

/**
 * Whether a webhook that keeps failing is to be disabled now: every attempt since `failingSince` failed and that
 * began `disableAfterSec` or more ago.
 */
export function shouldDisable(failingSince: Date | null, now: Date, disableAfterSec: number): boolean {
  return failingSince !== null && now.getTime() - failingSince.getTime() >= disableAfterSec * 1000;
}
