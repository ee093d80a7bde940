import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';
import type { StoredWebhookDelivery } from './domain/webhook-body.js';
import type { WEBHOOK_DELIVERY_STATES, WebhookEventKind } from './domain/webhook-inputs.js';

/** A webhook as stored (its secret in the encrypted form; never leaves the service). */
export type WebhookRow = {
  id: number;
  url: string;
  eventKinds: WebhookEventKind[];
  dagIds: string[];
  secret: string | null;
  secretRef: string | null;
  description: string | null;
  enabled: boolean;
  failingSince: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  pendingDeliveries: number;
  lastDeliveredAt: Date | null;
};

export type WebhookDeliveryView = {
  id: string;
  webhookId: number;
  stream: string;
  sequence: number;
  kind: string;
  dagId: string;
  runId: string | null;
  redeliveryOf: string | null;
  state: (typeof WEBHOOK_DELIVERY_STATES)[number];
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
};

export type NewWebhook = { url: string; eventKinds: string[]; dagIds: string[]; secret: string | null; secretRef: string | null; description: string | null };
export type WebhookPatch = {
  url?: string;
  eventKinds?: string[];
  dagIds?: string[];
  /** undefined: unchanged; null: removed. Setting one of secret/secretRef removes the other. */
  secret?: string | null;
  secretRef?: string | null;
  description?: string | null;
  enabled?: boolean;
};

/** A due delivery, claimed, with what sending it needs from its webhook. */
export type ClaimedDelivery = StoredWebhookDelivery & { attempts: number; url: string; secret: string | null; secretRef: string | null };

const WEBHOOK_COLUMNS = `w.id, w.url, w.event_kinds AS "eventKinds", w.dag_ids AS "dagIds", w.secret, w.secret_ref AS "secretRef",
  w.description, w.enabled, w.failing_since AS "failingSince", w.disabled_at AS "disabledAt", w.disabled_reason AS "disabledReason",
  w.created_at AS "createdAt", w.updated_at AS "updatedAt",
  (SELECT count(*)::int FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending') AS "pendingDeliveries",
  (SELECT max(d.delivered_at) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'delivered') AS "lastDeliveredAt"`;

const DELIVERY_COLUMNS = `id::text, webhook_id AS "webhookId", stream, seq::int8::float8 AS sequence, kind, dag_id AS "dagId", run_id AS "runId",
  redelivery_of::text AS "redeliveryOf", state::text AS state, attempts, next_attempt_at AS "nextAttemptAt", last_error AS "lastError",
  delivered_at AS "deliveredAt", created_at AS "createdAt"`;

/**
 * webhooks and webhook_deliveries. Deliveries are written by the outbox's numberer (weft_events_number) and by
 * redelivery; the deliverer claims them with FOR UPDATE SKIP LOCKED, one per (webhook, stream) at a time.
 */
@Injectable()
export class WebhooksRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async create(db: Queryable, w: NewWebhook): Promise<number> {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO webhooks (url, event_kinds, dag_ids, secret, secret_ref, description) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [w.url, w.eventKinds, w.dagIds, w.secret, w.secretRef, w.description],
    );
    await this.wakeDeliverers(db);
    return rows[0]!.id;
  }

  /**
   * Wakes the deliverers of every replica at commit (NOTIFY weft_webhooks): a webhook created or enabled has them
   * ask writers for NOTIFYs at once rather than at their next poll.
   */
  private async wakeDeliverers(db: Queryable): Promise<void> {
    await db.query(`SELECT pg_notify('weft_webhooks', '')`);
  }

  async get(db: Queryable, id: number): Promise<WebhookRow | null> {
    const { rows } = await db.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks w WHERE w.id = $1`, [id]);
    return rows[0] ?? null;
  }

  async list(limit: number, offset: number): Promise<{ items: WebhookRow[]; total: number }> {
    const [items, total] = await Promise.all([
      this.pool.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks w ORDER BY w.id LIMIT $1 OFFSET $2`, [limit, offset]),
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM webhooks'),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  /**
   * false when there is no such webhook. Enabling a disabled webhook clears its failure record and makes its
   * waiting deliveries due at once.
   */
  async update(db: Queryable, id: number, p: WebhookPatch, now: Date): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE webhooks SET
         url = coalesce($2::text, url),
         event_kinds = coalesce($3::text[], event_kinds),
         dag_ids = coalesce($4::text[], dag_ids),
         secret = CASE WHEN $5::boolean THEN $6::text WHEN $7::boolean AND $8::text IS NOT NULL THEN NULL ELSE secret END,
         secret_ref = CASE WHEN $7::boolean THEN $8::text WHEN $5::boolean AND $6::text IS NOT NULL THEN NULL ELSE secret_ref END,
         description = CASE WHEN $9::boolean THEN $10::text ELSE description END,
         enabled = coalesce($11::boolean, enabled),
         failing_since = CASE WHEN $11 AND NOT enabled THEN NULL ELSE failing_since END,
         disabled_at = CASE WHEN $11 THEN NULL WHEN $11 = false AND enabled THEN $12 ELSE disabled_at END,
         disabled_reason = CASE WHEN $11 THEN NULL WHEN $11 = false AND enabled THEN 'disabled through the API' ELSE disabled_reason END,
         updated_at = $12::timestamptz
       WHERE id = $1`,
      [
        id,
        p.url ?? null,
        p.eventKinds ?? null,
        p.dagIds ?? null,
        p.secret !== undefined,
        p.secret ?? null,
        p.secretRef !== undefined,
        p.secretRef ?? null,
        p.description !== undefined,
        p.description ?? null,
        p.enabled ?? null,
        now,
      ],
    );
    if (rowCount !== 1) return false;
    if (p.enabled) {
      await db.query(`UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE webhook_id = $1 AND state = 'pending' AND next_attempt_at > $2`, [id, now]);
      await this.wakeDeliverers(db);
    }
    return true;
  }

  async delete(db: Queryable, id: number): Promise<boolean> {
    const { rowCount } = await db.query('DELETE FROM webhooks WHERE id = $1', [id]);
    return rowCount === 1;
  }

  async listDeliveries(webhookId: number, f: { state?: string; stream?: string; limit: number; offset: number }): Promise<{ items: WebhookDeliveryView[]; total: number }> {
    const cond = `webhook_id = $1 AND ($2::text IS NULL OR state::text = $2) AND ($3::text IS NULL OR stream = $3)`;
    const params = [webhookId, f.state ?? null, f.stream ?? null];
    const [items, total] = await Promise.all([
      this.pool.query<WebhookDeliveryView>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE ${cond} ORDER BY webhook_deliveries.id DESC LIMIT $4 OFFSET $5`, [
        ...params,
        f.limit,
        f.offset,
      ]),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE ${cond}`, params),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  async getDelivery(db: Queryable, webhookId: number, id: string): Promise<WebhookDeliveryView | null> {
    const { rows } = await db.query<WebhookDeliveryView>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2`, [webhookId, id]);
    return rows[0] ?? null;
  }

  /** A new pending delivery of the same event (same stream and sequence number); null when there is no such delivery. */
  async redeliver(db: Queryable, webhookId: number, id: string, now: Date): Promise<string | null> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, stream, seq, kind, dag_id, run_id, payload, redelivery_of, next_attempt_at)
       SELECT webhook_id, event_id, stream, seq, kind, dag_id, run_id, payload, coalesce(redelivery_of, id), $3
         FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2
       RETURNING id::text`,
      [webhookId, id, now],
    );
    return rows[0]?.id ?? null;
  }

  /** Whether any webhook is enabled (the deliverer numbers the outbox only then). */
  async anyEnabled(): Promise<boolean> {
    const { rows } = await this.pool.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM webhooks WHERE enabled) AS any');
    return rows[0]!.any;
  }

  /**
   * Claims up to `limit` due deliveries of enabled webhooks, each the first pending one of its (webhook, stream): an
   * earlier pending delivery (in flight on another replica, or waiting for its retry) holds the later ones back,
   * which keeps each stream in order. The claim pushes the next attempt `leaseSec` out in the claiming statement, so
   * no other replica takes the delivery while it is in flight (SKIP LOCKED: concurrent claims pass over each
   * other's rows instead of waiting; a row claimed meanwhile fails the re-check of next_attempt_at). A replica that
   * dies mid-attempt leaves the delivery to be retried when the lease ends.
   */
  async claimDue(now: Date, leaseSec: number, limit: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.pool.query<ClaimedDelivery & { seq: string }>(
      `WITH claimed AS (
         UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = $1::timestamptz + make_interval(secs => $2)
          WHERE d.id IN (
            SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND w.enabled
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                                WHERE p.webhook_id = d.webhook_id AND p.stream = d.stream AND p.state = 'pending'
                                  AND (p.seq < d.seq OR (p.seq = d.seq AND p.id < d.id)))
             ORDER BY d.next_attempt_at, d.id LIMIT $3
             FOR UPDATE OF d SKIP LOCKED)
         RETURNING d.*)
       SELECT c.id::text, c.webhook_id AS "webhookId", c.stream, c.seq::text AS seq, c.kind, c.dag_id AS "dagId", c.run_id AS "runId",
              c.payload, c.redelivery_of::text AS "redeliveryOf", c.attempts, w.url, w.secret, w.secret_ref AS "secretRef"
         FROM claimed c JOIN webhooks w ON w.id = c.webhook_id
        ORDER BY c.webhook_id, c.stream`,
      [now, leaseSec, limit],
    );
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  /** Delivered: the delivery is done and its webhook is no longer failing. */
  async recordDelivered(id: string, webhookId: number, now: Date): Promise<void> {
    await this.pool.query(
      `WITH d AS (UPDATE webhook_deliveries SET state = 'delivered', last_error = NULL, delivered_at = $3 WHERE id = $1)
       UPDATE webhooks SET failing_since = NULL WHERE id = $2 AND failing_since IS NOT NULL`,
      [id, webhookId, now],
    );
  }

  /** Failed: retried at `nextAttemptAt`; the webhook is failing since its first failure after a success (returned). */
  async recordFailed(id: string, webhookId: number, error: string, nextAttemptAt: Date, now: Date): Promise<Date | null> {
    const { rows } = await this.pool.query<{ failingSince: Date }>(
      `WITH d AS (UPDATE webhook_deliveries SET last_error = $3, next_attempt_at = $4 WHERE id = $1)
       UPDATE webhooks SET failing_since = coalesce(failing_since, $5) WHERE id = $2 RETURNING failing_since AS "failingSince"`,
      [id, webhookId, error, nextAttemptAt, now],
    );
    return rows[0]?.failingSince ?? null;
  }

  /**
   * Rejected (the receiver answered a 4xx that is not "come back later"): the delivery fails for good, so the later
   * ones of its stream go out; it still counts as a failure of its webhook (one that rejects everything is disabled
   * like one that is down). The failing-since time is returned.
   */
  async recordRejected(id: string, webhookId: number, error: string, now: Date): Promise<Date | null> {
    const { rows } = await this.pool.query<{ failingSince: Date }>(
      `WITH d AS (UPDATE webhook_deliveries SET state = 'failed', last_error = $3 WHERE id = $1)
       UPDATE webhooks SET failing_since = coalesce(failing_since, $4) WHERE id = $2 RETURNING failing_since AS "failingSince"`,
      [id, webhookId, error, now],
    );
    return rows[0]?.failingSince ?? null;
  }

  /**
   * Disables a webhook that has failed since at or before `cutoff` (and has not succeeded since). Conditional, so
   * that of several replicas seeing it only one disables it (and audits and alerts that); true for that one.
   */
  async disableFailing(db: Queryable, id: number, cutoff: Date, reason: string, now: Date): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE webhooks SET enabled = false, disabled_at = $4, disabled_reason = $3, updated_at = $4
        WHERE id = $1 AND enabled AND failing_since <= $2`,
      [id, cutoff, reason, now],
    );
    return rowCount === 1;
  }
}
