import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';
import { QUEUED_CHANNEL, SLOT_FREED } from '../runs/runs.repository.js';

export type ClaimRequest = {
  workerId: string;
  queues: string[];
  taskTypes: string[] | null;
  capacity: number;
  leaseTtlSec: number;
  apiKeyId: string | null;
  hostname: string | null;
  now: Date;
};

/** A task instance just moved to running under a new lease, with what rendering its task needs. */
export type ClaimedTask = {
  leaseId: string;
  taskInstanceId: number;
  dagRunId: number;
  dagId: string;
  runId: string;
  taskId: string;
  taskType: string;
  queue: string;
  tryNumber: number;
  maxTries: number;
  leaseExpiresAt: Date;
  deadlineAt: Date | null;
  dagVersionId: number;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  conf: Record<string, unknown>;
};

export type LeaseRow = {
  id: string;
  taskInstanceId: number;
  tryNumber: number;
  workerId: string;
  apiKeyId: string | null;
  expiresAt: Date;
  deadlineAt: Date | null;
  cancelRequested: boolean;
  dagRunId: number;
};

type Candidate = { id: number; dag_id: string; pool: string; pool_slots: number; max_active_tasks: number };

/** Claim ordering: higher priority first, then the oldest logical date, then creation order. */
const CANDIDATES_SQL = `
  SELECT ti.id, ti.dag_id, ti.pool, ti.pool_slots, d.max_active_tasks
  FROM task_instances ti JOIN dags d ON d.dag_id = ti.dag_id
  WHERE ti.state = 'queued' AND ti.queue = ANY($1::text[]) AND ($2::text[] IS NULL OR ti.task_type = ANY($2::text[]))
  ORDER BY ti.priority_weight DESC, ti.logical_date, ti.id
  LIMIT $3
  FOR UPDATE OF ti SKIP LOCKED`;

/** The lease tables: claims, heartbeats, fencing and reaping. Locking SQL is written out and commented. */
@Injectable()
export class LeasesRepository {
  constructor(@Inject(PG_POOL) readonly pool: pg.Pool) {}

  /**
   * Claims up to `capacity` queued task instances in one transaction.
   * - Candidate rows are locked FOR UPDATE SKIP LOCKED, so concurrent claimers never take the same task and never
   *   wait for each other's candidates.
   * - Pool slots: the pool rows of the candidates are locked (in name order) before occupancy is read, so two
   *   claimers cannot both fill the last slot of a pool.
   * - maxActiveTasks: a transaction-scoped advisory lock per DAG (in id order, after the pools) serialises
   *   claimers of one DAG while they count its running tasks. Fixed lock order prevents deadlocks.
   */
  async claim(db: Queryable, req: ClaimRequest): Promise<ClaimedTask[]> {
    const { rows: candidates } = await db.query<Candidate>(CANDIDATES_SQL, [req.queues, req.taskTypes, req.capacity * 4]);
    if (!candidates.length) return [];

    const poolNames = [...new Set(candidates.map((c) => c.pool))].sort();
    const { rows: pools } = await db.query<{ name: string; slots: number }>(
      `SELECT name, slots FROM pools WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
      [poolNames],
    );
    const { rows: used } = await db.query<{ pool: string; used: number }>(
      `SELECT pool, sum(pool_slots)::int AS used FROM leases WHERE pool = ANY($1::text[]) GROUP BY pool`,
      [poolNames],
    );
    const free = new Map(pools.map((p) => [p.name, p.slots]));
    for (const u of used) free.set(u.pool, (free.get(u.pool) ?? 0) - u.used);

    const dagIds = [...new Set(candidates.map((c) => c.dag_id))].sort();
    for (const dagId of dagIds) await db.query(`SELECT pg_advisory_xact_lock(hashtext('weft.dag.active:' || $1))`, [dagId]);
    const { rows: active } = await db.query<{ dag_id: string; n: number }>(
      `SELECT dag_id, count(*)::int AS n FROM task_instances WHERE state = 'running' AND dag_id = ANY($1::text[]) GROUP BY dag_id`,
      [dagIds],
    );
    const running = new Map(active.map((a) => [a.dag_id, a.n]));

    const chosen: Candidate[] = [];
    for (const c of candidates) {
      if (chosen.length >= req.capacity) break;
      const poolFree = free.get(c.pool);
      if (poolFree === undefined || poolFree < c.pool_slots) continue; // unknown or full pool: stays queued
      if ((running.get(c.dag_id) ?? 0) >= c.max_active_tasks) continue;
      free.set(c.pool, poolFree - c.pool_slots);
      running.set(c.dag_id, (running.get(c.dag_id) ?? 0) + 1);
      chosen.push(c);
    }
    if (!chosen.length) return [];

    await db.query(
      `INSERT INTO workers (id, hostname, queues, task_types, capacity, last_seen) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, queues = EXCLUDED.queues,
         task_types = EXCLUDED.task_types, capacity = EXCLUDED.capacity, last_seen = EXCLUDED.last_seen`,
      [req.workerId, req.hostname, req.queues, req.taskTypes ?? [], req.capacity, req.now],
    );
    type Started = Omit<ClaimedTask, 'leaseId' | 'leaseExpiresAt' | 'deadlineAt'> & { pool: string; poolSlots: number; timeoutSec: number | null };
    const { rows: started } = await db.query<Started>(
      `UPDATE task_instances ti SET state = 'running', try_number = ti.try_number + 1, start_date = $2, end_date = NULL,
         updated_at = $2, last_error = NULL
       FROM dag_runs r
       WHERE ti.id = ANY($1::int[]) AND r.id = ti.dag_run_id
       RETURNING ti.id AS "taskInstanceId", ti.dag_run_id AS "dagRunId", ti.dag_id AS "dagId", ti.run_id AS "runId",
         ti.task_id AS "taskId", ti.task_type AS "taskType", ti.queue, ti.try_number AS "tryNumber",
         ti.max_tries AS "maxTries", ti.pool, ti.pool_slots AS "poolSlots", ti.execution_timeout_sec AS "timeoutSec",
         r.dag_version_id AS "dagVersionId",
         r.logical_date AS "logicalDate", r.data_interval_start AS "dataIntervalStart",
         r.data_interval_end AS "dataIntervalEnd", r.conf`,
      [chosen.map((c) => c.id), req.now],
    );
    const expiresAt = new Date(req.now.getTime() + req.leaseTtlSec * 1000);
    const claimed: ClaimedTask[] = [];
    for (const { timeoutSec, ...t } of started) {
      const deadlineAt = timeoutSec === null ? null : new Date(req.now.getTime() + timeoutSec * 1000);
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO leases (id, task_instance_id, try_number, worker_id, api_key_id, queue, pool, pool_slots,
           acquired_at, heartbeat_at, expires_at, deadline_at)
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING id`,
        [t.taskInstanceId, t.tryNumber, req.workerId, req.apiKeyId, t.queue, t.pool, t.poolSlots, req.now, expiresAt, deadlineAt],
      );
      const leaseId = rows[0]!.id;
      await db.query(
        `INSERT INTO task_instance_tries (task_instance_id, try_number, state, worker_id, hostname, lease_id, start_date)
         VALUES ($1, $2, 'running', $3, $4, $5, $6)`,
        [t.taskInstanceId, t.tryNumber, req.workerId, req.hostname, leaseId, req.now],
      );
      claimed.push({ ...t, leaseId, leaseExpiresAt: expiresAt, deadlineAt });
    }
    return claimed;
  }

  async findLease(db: Queryable, leaseId: string, lock = false): Promise<LeaseRow | null> {
    const { rows } = await db.query<LeaseRow>(
      `SELECT l.id, l.task_instance_id AS "taskInstanceId", l.try_number AS "tryNumber", l.worker_id AS "workerId",
         l.api_key_id AS "apiKeyId", l.expires_at AS "expiresAt", l.deadline_at AS "deadlineAt",
         l.cancel_requested AS "cancelRequested", ti.dag_run_id AS "dagRunId"
       FROM leases l JOIN task_instances ti ON ti.id = l.task_instance_id
       WHERE l.id = $1 ${lock ? 'FOR UPDATE OF l' : ''}`,
      [leaseId],
    );
    return rows[0] ?? null;
  }

  /** The attempt a (possibly finished) lease ran, for idempotent completions after the lease row is gone. */
  async findTryByLease(
    db: Queryable,
    leaseId: string,
  ): Promise<{ taskInstanceId: number; tryNumber: number; state: string; completionHash: string | null; runState: string } | null> {
    const { rows } = await db.query(
      `SELECT t.task_instance_id AS "taskInstanceId", t.try_number AS "tryNumber", t.state,
         t.completion_hash AS "completionHash", r.state AS "runState"
       FROM task_instance_tries t
       JOIN task_instances ti ON ti.id = t.task_instance_id JOIN dag_runs r ON r.id = ti.dag_run_id
       WHERE t.lease_id = $1`,
      [leaseId],
    );
    return rows[0] ?? null;
  }

  async workerSubscription(db: Queryable, workerId: string): Promise<{ queues: string[]; taskTypes: string[] } | null> {
    const { rows } = await db.query('SELECT queues, task_types AS "taskTypes" FROM workers WHERE id = $1', [workerId]);
    return rows[0] ?? null;
  }

  /** Extends a live lease; null when it is gone or already expired (the reaper owns it then). */
  async heartbeat(db: Queryable, leaseId: string, now: Date, ttlSec: number): Promise<{ expiresAt: Date; cancelRequested: boolean } | null> {
    const { rows } = await db.query<{ expiresAt: Date; cancelRequested: boolean }>(
      `UPDATE leases SET heartbeat_at = $2, expires_at = $3 WHERE id = $1 AND expires_at > $2
       RETURNING expires_at AS "expiresAt", cancel_requested AS "cancelRequested"`,
      [leaseId, now, new Date(now.getTime() + ttlSec * 1000)],
    );
    return rows[0] ?? null;
  }

  /**
   * Ends a lease. Its pool slot (and its DAG's maxActiveTasks slot) is free from this commit on, so workers
   * waiting for tasks that were held back by that limit are woken (SLOT_FREED), whatever queue they wait on.
   */
  async deleteLease(db: Queryable, leaseId: string): Promise<void> {
    await db.query(
      `WITH gone AS (
         DELETE FROM leases l USING task_instances ti WHERE l.id = $1 AND ti.id = l.task_instance_id
         RETURNING l.pool, ti.dag_id)
       SELECT pg_notify($2, $3) FROM gone
       WHERE EXISTS (SELECT 1 FROM task_instances q WHERE q.state = 'queued' AND (q.pool = gone.pool OR q.dag_id = gone.dag_id))`,
      [leaseId, QUEUED_CHANNEL, SLOT_FREED],
    );
  }

  async setCompletionHash(db: Queryable, leaseId: string, hash: string): Promise<void> {
    await db.query('UPDATE task_instance_tries SET completion_hash = $2 WHERE lease_id = $1', [leaseId, hash]);
  }

  /** Leases past their expiry or execution deadline (unlocked: the reaper locks run, task, lease in order). */
  async expiredLeases(db: Queryable, now: Date, limit: number): Promise<{ id: string; dagRunId: number; reason: 'expired' | 'timeout' }[]> {
    const { rows } = await db.query(
      `SELECT l.id, ti.dag_run_id AS "dagRunId",
         CASE WHEN l.deadline_at IS NOT NULL AND l.deadline_at <= $1 THEN 'timeout' ELSE 'expired' END AS reason
       FROM leases l JOIN task_instances ti ON ti.id = l.task_instance_id
       WHERE l.expires_at <= $1 OR (l.deadline_at IS NOT NULL AND l.deadline_at <= $1)
       ORDER BY l.expires_at LIMIT $2`,
      [now, limit],
    );
    return rows;
  }

  async insertXcom(db: Queryable, t: { taskInstanceId: number; dagId: string; runId: string; taskId: string; tryNumber: number }, xcom: Record<string, unknown>): Promise<void> {
    const keys = Object.keys(xcom);
    if (!keys.length) return;
    await db.query(
      `INSERT INTO xcom (task_instance_id, dag_id, run_id, task_id, try_number, key, value)
       SELECT $1, $2, $3, $4, $5, k, v FROM unnest($6::text[], $7::jsonb[]) AS x(k, v)
       ON CONFLICT (task_instance_id, key) DO UPDATE SET value = EXCLUDED.value, try_number = EXCLUDED.try_number, created_at = now()`,
      [t.taskInstanceId, t.dagId, t.runId, t.taskId, t.tryNumber, keys, keys.map((k) => JSON.stringify(xcom[k] ?? null))],
    );
  }

  async appendLogs(db: Queryable, taskInstanceId: number, tryNumber: number, lines: { line: string; stream: string }[], now: Date): Promise<void> {
    await db.query(
      `INSERT INTO task_logs (task_instance_id, try_number, line, stream, at)
       SELECT $1, $2, l, s, $5 FROM unnest($3::text[], $4::text[]) AS x(l, s)`,
      [taskInstanceId, tryNumber, lines.map((l) => l.line), lines.map((l) => l.stream), now],
    );
  }

  async upstreamXcom(db: Queryable, dagRunId: number, taskIds: string[]): Promise<Record<string, Record<string, unknown>>> {
    if (!taskIds.length) return {};
    const { rows } = await db.query<{ task_id: string; key: string; value: unknown }>(
      `SELECT x.task_id, x.key, x.value FROM xcom x JOIN task_instances ti ON ti.id = x.task_instance_id
       WHERE ti.dag_run_id = $1 AND x.task_id = ANY($2::text[])`,
      [dagRunId, taskIds],
    );
    const out: Record<string, Record<string, unknown>> = {};
    for (const r of rows) (out[r.task_id] ??= {})[r.key] = r.value;
    return out;
  }
}
