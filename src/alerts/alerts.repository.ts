import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';
import type { DagDocument } from '../dags/domain/dag-document.schema.js';
import type { AlertMessage } from './domain/alert.js';

export type NewDelivery = {
  dedupeKey: string;
  dagId: string;
  dagVersionId: number;
  callbackList: 'sla' | 'failure';
  callbackIndex: number;
  channel: string;
  message: AlertMessage;
  slaMissId?: number | null;
  slaWarningId?: number | null;
  /** What the alert is about, for PagerDuty's resolve (recordResolutions). */
  taskInstanceId?: number | null;
  dagRunId?: number | null;
};

export type DueDelivery = {
  id: number;
  dagVersionId: number;
  callbackList: 'sla' | 'failure';
  callbackIndex: number;
  message: AlertMessage;
  attempts: number;
};

export type NewSlaMiss = {
  id: number;
  taskInstanceId: number;
  dagId: string;
  runId: string;
  taskId: string;
  logicalDate: Date;
  deadline: Date;
  detectedAt: Date;
  dagVersionId: number;
  state: string;
};

export type NewSlaWarning = {
  id: number;
  taskInstanceId: number;
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  logicalDate: Date;
  startedAt: Date;
  elapsedSec: number;
  p95Sec: number;
  p95Fraction: number;
  samples: number;
  detectedAt: Date;
  dagVersionId: number;
};

export type SlaWarningView = Omit<NewSlaWarning, 'taskInstanceId' | 'dagVersionId'> & { deliveries: SlaMissView['deliveries'] };

export type SlaMissView = {
  id: number;
  dagId: string;
  runId: string;
  taskId: string;
  logicalDate: Date;
  deadline: Date;
  detectedAt: Date;
  deliveries: { channel: string; state: string; attempts: number; lastError: string | null; deliveredAt: Date | null }[];
};

/** sla_misses and alert_deliveries: detection writes both in one transaction; delivery claims rows with SKIP LOCKED. */
@Injectable()
export class AlertsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /**
   * Records a miss for every task instance past its SLA deadline that has not succeeded in time. The unique
   * task_instance_id makes this exactly-once however many schedulers run it at the same moment: only the
   * transaction whose insert wins gets the row back (and creates its deliveries).
   */
  async recordSlaMisses(db: Queryable, now: Date, limit: number): Promise<NewSlaMiss[]> {
    const { rows } = await db.query<NewSlaMiss>(
      `WITH candidates AS (
         SELECT ti.id, ti.dag_id, ti.run_id, ti.task_id, ti.logical_date, ti.sla_deadline, ti.state, r.dag_version_id
         FROM task_instances ti JOIN dag_runs r ON r.id = ti.dag_run_id
         WHERE ti.sla_deadline <= $1 AND ti.state <> 'removed'
           AND NOT (ti.state IN ('success', 'skipped') AND ti.end_date <= ti.sla_deadline)
           AND NOT EXISTS (SELECT 1 FROM sla_misses m WHERE m.task_instance_id = ti.id)
         ORDER BY ti.sla_deadline LIMIT $2),
       missed AS (
         INSERT INTO sla_misses (task_instance_id, dag_id, run_id, task_id, logical_date, deadline, detected_at)
         SELECT id, dag_id, run_id, task_id, logical_date, sla_deadline, $1 FROM candidates
         ON CONFLICT (task_instance_id) DO NOTHING
         RETURNING *)
       SELECT m.id, m.task_instance_id AS "taskInstanceId", m.dag_id AS "dagId", m.run_id AS "runId", m.task_id AS "taskId",
         m.logical_date AS "logicalDate", m.deadline, m.detected_at AS "detectedAt", c.dag_version_id AS "dagVersionId", c.state::text AS state
       FROM missed m JOIN candidates c ON c.id = m.task_instance_id`,
      [now, limit],
    );
    return rows;
  }

  /**
   * Records an early warning for every running attempt that has run longer than `p95Fraction` of the p95 duration
   * of its task's last `window` successful attempts (with at least `minSamples` of them), the settings coming from
   * the task's `slaWarning` or its DAG's `defaultArgs.slaWarning` in the run's DAG version. The p95 is computed
   * here, over task_instance_tries, per candidate. Exactly once per task instance however many schedulers run this
   * at the same moment: the unique task_instance_id lets one insert win, and only that transaction gets the row
   * back (and creates its deliveries), as for SLA misses.
   */
  async recordSlaWarnings(db: Queryable, now: Date, limit: number): Promise<NewSlaWarning[]> {
    const { rows } = await db.query<NewSlaWarning>(
      `WITH running AS (
         SELECT ti.id, ti.dag_id, ti.run_id, ti.task_id, ti.try_number, ti.logical_date, cur.start_date, r.dag_version_id,
                coalesce(t.task -> 'slaWarning', v.document -> 'defaultArgs' -> 'slaWarning') AS cfg
           FROM task_instances ti
           JOIN task_instance_tries cur ON cur.task_instance_id = ti.id AND cur.try_number = ti.try_number
           JOIN dag_runs r ON r.id = ti.dag_run_id
           JOIN dag_versions v ON v.id = r.dag_version_id
           LEFT JOIN LATERAL (SELECT e AS task FROM jsonb_array_elements(v.document -> 'tasks') e WHERE e ->> 'taskId' = ti.task_id LIMIT 1) t ON true
          WHERE ti.state = 'running' AND cur.start_date IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM sla_warnings w WHERE w.task_instance_id = ti.id)),
       configured AS (
         SELECT running.*, (cfg ->> 'p95Fraction')::float8 AS fraction,
                coalesce((cfg ->> 'minSamples')::int, 10) AS min_samples, coalesce((cfg ->> 'window')::int, 30) AS win
           FROM running WHERE jsonb_typeof(cfg) = 'object'),
       measured AS (
         SELECT c.*, h.samples, h.p95
           FROM configured c
           CROSS JOIN LATERAL (
             SELECT count(*)::int AS samples, percentile_cont(0.95) WITHIN GROUP (ORDER BY d.sec) AS p95
               FROM (SELECT extract(epoch FROM tr.end_date - tr.start_date)::float8 AS sec
                       FROM task_instance_tries tr JOIN task_instances x ON x.id = tr.task_instance_id
                      WHERE x.dag_id = c.dag_id AND x.task_id = c.task_id AND tr.state = 'success'
                        AND tr.start_date IS NOT NULL AND tr.end_date IS NOT NULL
                      ORDER BY tr.end_date DESC LIMIT c.win) d) h),
       due AS (
         SELECT * FROM measured
          WHERE samples >= min_samples AND extract(epoch FROM $1::timestamptz - start_date) > fraction * p95
          ORDER BY start_date LIMIT $2),
       warned AS (
         INSERT INTO sla_warnings (task_instance_id, dag_id, run_id, task_id, try_number, logical_date, started_at, elapsed_sec,
                                   p95_sec, p95_fraction, samples, detected_at)
         SELECT id, dag_id, run_id, task_id, try_number, logical_date, start_date, extract(epoch FROM $1::timestamptz - start_date)::float8,
                p95, fraction, samples, $1 FROM due
         ON CONFLICT (task_instance_id) DO NOTHING
         RETURNING *)
       SELECT w.id, w.task_instance_id AS "taskInstanceId", w.dag_id AS "dagId", w.run_id AS "runId", w.task_id AS "taskId",
              w.try_number AS "tryNumber", w.logical_date AS "logicalDate", w.started_at AS "startedAt", w.elapsed_sec AS "elapsedSec",
              w.p95_sec AS "p95Sec", w.p95_fraction AS "p95Fraction", w.samples, w.detected_at AS "detectedAt", d.dag_version_id AS "dagVersionId"
         FROM warned w JOIN due d ON d.id = w.task_instance_id`,
      [now, limit],
    );
    return rows;
  }

  async listSlaWarnings(f: { dagId?: string; since?: Date; limit: number; offset: number }): Promise<{ items: SlaWarningView[]; total: number }> {
    const cond = `($1::text IS NULL OR w.dag_id = $1) AND ($2::timestamptz IS NULL OR w.detected_at >= $2)`;
    const params = [f.dagId ?? null, f.since ?? null];
    const [items, total] = await Promise.all([
      this.pool.query<SlaWarningView>(
        `SELECT w.id, w.dag_id AS "dagId", w.run_id AS "runId", w.task_id AS "taskId", w.try_number AS "tryNumber",
           w.logical_date AS "logicalDate", w.started_at AS "startedAt", w.elapsed_sec AS "elapsedSec", w.p95_sec AS "p95Sec",
           w.p95_fraction AS "p95Fraction", w.samples, w.detected_at AS "detectedAt",
           coalesce((SELECT json_agg(json_build_object('channel', d.channel, 'state', d.state, 'attempts', d.attempts,
                       'lastError', d.last_error, 'deliveredAt', d.delivered_at) ORDER BY d.callback_index)
                     FROM alert_deliveries d WHERE d.sla_warning_id = w.id), '[]') AS deliveries
         FROM sla_warnings w WHERE ${cond} ORDER BY w.id DESC LIMIT $3 OFFSET $4`,
        [...params, f.limit, f.offset],
      ),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sla_warnings w WHERE ${cond}`, params),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  async versionDocument(db: Queryable, versionId: number): Promise<DagDocument> {
    const { rows } = await db.query<{ document: DagDocument }>('SELECT document FROM dag_versions WHERE id = $1', [versionId]);
    if (!rows[0]) throw new Error(`dag version ${versionId} not found`);
    return rows[0].document;
  }

  async insertDeliveries(db: Queryable, items: NewDelivery[]): Promise<void> {
    if (!items.length) return;
    await db.query(
      `INSERT INTO alert_deliveries (dedupe_key, kind, dag_id, dag_version_id, callback_list, callback_index, message, sla_miss_id, channel,
         sla_warning_id, task_instance_id, dag_run_id, next_attempt_at)
       SELECT *, (m->>'occurredAt')::timestamptz
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::int[], $7::jsonb[], $8::int[], $9::text[], $10::int[],
                   $11::int[], $12::int[])
         AS x(k, kind, d, v, l, i, m, s, c, w, ti, r)
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        items.map((i) => i.dedupeKey),
        items.map((i) => i.message.kind),
        items.map((i) => i.dagId),
        items.map((i) => i.dagVersionId),
        items.map((i) => i.callbackList),
        items.map((i) => i.callbackIndex),
        items.map((i) => JSON.stringify(i.message)),
        items.map((i) => i.slaMissId ?? null),
        items.map((i) => i.channel),
        items.map((i) => i.slaWarningId ?? null),
        items.map((i) => i.taskInstanceId ?? null),
        items.map((i) => i.dagRunId ?? null),
      ],
    );
  }

  /**
   * PagerDuty resolves: for each open PagerDuty trigger already sent (or given up) whose task instance (or run, for
   * run_failed) has succeeded since (a retry, a clear, a mark), one `resolve` delivery to the same callback with the
   * same incident key, and the trigger is marked resolved (resolved_at), so later passes read only the triggers still
   * open (their partial index holds nothing else). Keyed by the incident, the callback and the try (clear) number
   * that succeeded, so it is written once however many schedulers and passes see it; a later failure sends a new
   * trigger (a new row, open), resolved in turn. An incident is resolved only when none of its triggers to that
   * callback is still pending (a retry in backoff): the resolve is written once they are all out, so PagerDuty never
   * gets a trigger after its resolve. Triggers another scheduler's pass holds are skipped, not waited for.
   */
  async recordResolutions(db: Queryable, now: Date): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `WITH open AS (
         SELECT d.id, d.kind, d.dag_id, d.dag_version_id, d.callback_list, d.callback_index, d.message, d.channel,
                d.task_instance_id, d.dag_run_id, x.ended, k.key
           FROM alert_deliveries d
           LEFT JOIN task_instances ti ON ti.id = d.task_instance_id
           LEFT JOIN dag_runs r ON r.id = d.dag_run_id AND d.task_instance_id IS NULL
           CROSS JOIN LATERAL (SELECT coalesce(ti.end_date, r.end_date) AS ended, coalesce(ti.try_number, r.clear_number) AS n) x
           CROSS JOIN LATERAL (SELECT 'resolve:' || (d.message ->> 'incidentKey') || ':' || d.callback_list || ':' || d.callback_index || ':' || x.n AS key) k
          WHERE d.channel = 'pagerduty' AND NOT (d.message ? 'action') AND d.resolved_at IS NULL
            AND d.state <> 'pending' AND d.message ? 'incidentKey'
            AND (ti.state = 'success' OR r.state = 'success')
            AND NOT EXISTS (SELECT 1 FROM alert_deliveries p
                             WHERE p.state = 'pending' AND p.channel = 'pagerduty' AND NOT (p.message ? 'action')
                               AND p.message ->> 'incidentKey' = d.message ->> 'incidentKey'
                               AND p.callback_list = d.callback_list AND p.callback_index = d.callback_index)
          FOR UPDATE OF d SKIP LOCKED
       ), resolved AS (
         UPDATE alert_deliveries SET resolved_at = $1 WHERE id IN (SELECT id FROM open)
       ), sent AS (
         INSERT INTO alert_deliveries (dedupe_key, kind, dag_id, dag_version_id, callback_list, callback_index, message, channel,
                                       task_instance_id, dag_run_id, next_attempt_at)
         SELECT DISTINCT ON (o.key) o.key, o.kind, o.dag_id, o.dag_version_id, o.callback_list, o.callback_index,
                o.message || jsonb_build_object('action', 'resolve', 'deliveryId', o.key, 'occurredAt', to_jsonb(coalesce(o.ended, $1::timestamptz)),
                                                'summary', 'succeeded since: ' || (o.message ->> 'summary')),
                o.channel, o.task_instance_id, o.dag_run_id, $1
           FROM open o
          ORDER BY o.key, o.id
         ON CONFLICT (dedupe_key) DO NOTHING
         RETURNING 1
       )
       SELECT count(*)::int AS n FROM sent`,
      [now],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Claims due deliveries: their next attempt is pushed out by `leaseSec` in the claiming transaction, so a
   * delivery in flight is not picked up again by another scheduler; the outcome is written afterwards.
   */
  async claimDue(now: Date, leaseSec: number, limit: number): Promise<DueDelivery[]> {
    const { rows } = await this.pool.query<DueDelivery>(
      `UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = $1::timestamptz + make_interval(secs => $2)
       WHERE id IN (SELECT id FROM alert_deliveries WHERE state = 'pending' AND next_attempt_at <= $1
                    ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, dag_version_id AS "dagVersionId", callback_list AS "callbackList", callback_index AS "callbackIndex",
         message, attempts`,
      [now, leaseSec, limit],
    );
    return rows;
  }

  async recordOutcome(id: number, outcome: { state: 'pending' | 'delivered' | 'failed'; error: string | null; nextAttemptAt: Date | null; now: Date }): Promise<void> {
    await this.pool.query(
      `UPDATE alert_deliveries SET state = $2::"DeliveryState", last_error = $3, next_attempt_at = coalesce($4, next_attempt_at),
         delivered_at = CASE WHEN $2::"DeliveryState" = 'delivered' THEN $5::timestamptz ELSE delivered_at END
       WHERE id = $1`,
      [id, outcome.state, outcome.error, outcome.nextAttemptAt, outcome.now],
    );
  }

  async listSlaMisses(f: { dagId?: string; since?: Date; limit: number; offset: number }): Promise<{ items: SlaMissView[]; total: number }> {
    const cond = `($1::text IS NULL OR m.dag_id = $1) AND ($2::timestamptz IS NULL OR m.detected_at >= $2)`;
    const params = [f.dagId ?? null, f.since ?? null];
    const [items, total] = await Promise.all([
      this.pool.query<SlaMissView>(
        `SELECT m.id, m.dag_id AS "dagId", m.run_id AS "runId", m.task_id AS "taskId", m.logical_date AS "logicalDate",
           m.deadline, m.detected_at AS "detectedAt",
           coalesce((SELECT json_agg(json_build_object('channel', d.channel, 'state', d.state, 'attempts', d.attempts,
                       'lastError', d.last_error, 'deliveredAt', d.delivered_at) ORDER BY d.callback_index)
                     FROM alert_deliveries d WHERE d.sla_miss_id = m.id), '[]') AS deliveries
         FROM sla_misses m WHERE ${cond} ORDER BY m.id DESC LIMIT $3 OFFSET $4`,
        [...params, f.limit, f.offset],
      ),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sla_misses m WHERE ${cond}`, params),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  async listDeliveries(f: { dagId?: string; kind?: string; state?: string; limit: number; offset: number }) {
    const cond = `($1::text IS NULL OR dag_id = $1) AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR state::text = $3)`;
    const params = [f.dagId ?? null, f.kind ?? null, f.state ?? null];
    const [items, total] = await Promise.all([
      this.pool.query(
        `SELECT id, kind, dag_id AS "dagId", callback_list AS "callbackList", callback_index AS "callbackIndex", channel, message, state,
           attempts, next_attempt_at AS "nextAttemptAt", last_error AS "lastError", delivered_at AS "deliveredAt", created_at AS "createdAt"
         FROM alert_deliveries WHERE ${cond} ORDER BY id DESC LIMIT $4 OFFSET $5`,
        [...params, f.limit, f.offset],
      ),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM alert_deliveries WHERE ${cond}`, params),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }
}
