import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../../database/pg.js';
import { TASK_LOGS_CHANNEL } from './domain/log-tail.js';
import { QUEUED_CHANNEL } from './queued-channel.js';

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
  /** When the task instance was queued (dispatch-latency metric). */
  queuedAt: Date | null;
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

/** The lease tables: claims, heartbeats, fencing and reaping. Locking SQL is written out and commented. */
@Injectable()
export class LeasesRepository {
  constructor(@Inject(PG_POOL) readonly pool: pg.Pool) {}

  /**
   * Claims up to `capacity` queued task instances: one statement, `weft_claim_tasks_many` with one requester (its
   * current source: prisma/sql/functions/weft_claim_tasks_many.sql; its locking is explained in migration
   * `claim_path`), run outside any transaction so its own commit ends it at once (or inside a hand-off's). Pools and
   * maxActiveTasks hold under concurrent claimers through the function's advisory locks; candidates are taken FOR
   * UPDATE SKIP LOCKED. `blocked` says a pool or DAG limit held queued work back (the caller then also waits for a
   * slot to free up).
   */
  async claim(db: Queryable, req: ClaimRequest): Promise<{ tasks: ClaimedTask[]; blocked: boolean }> {
    return (await this.claimMany(db, [req], req.now))[0]!;
  }

  /**
   * Group commit of lease requests: the claim of several requests for the same queues and task types in one
   * statement (one transaction, one commit), of their total capacity, with the limits enforced for the claim as a
   * whole under the same locks as one request's. Requests get the tasks in claim order, the first the first
   * `capacity` of them; `blocked` is the claim's, for every request.
   */
  async claimMany(db: Queryable, reqs: Omit<ClaimRequest, 'now'>[], now: Date): Promise<{ tasks: ClaimedTask[]; blocked: boolean }[]> {
    const first = reqs[0]!;
    const { rows } = await db.query<ClaimedTask & { requester: number | null; blocked: boolean }>({
      name: 'weft_claim_tasks_many',
      text: `SELECT requester, lease_id AS "leaseId", task_instance_id AS "taskInstanceId", dag_run_id AS "dagRunId", dag_id AS "dagId",
         run_id AS "runId", task_id AS "taskId", task_type AS "taskType", queue, try_number AS "tryNumber",
         max_tries AS "maxTries", queued_at AS "queuedAt", lease_expires_at AS "leaseExpiresAt", deadline_at AS "deadlineAt",
         dag_version_id AS "dagVersionId", logical_date AS "logicalDate", data_interval_start AS "dataIntervalStart",
         data_interval_end AS "dataIntervalEnd", conf, blocked
       FROM weft_claim_tasks_many($1, $2, $3, $4, $5, $6, $7, $8)`,
      values: [
        reqs.map((r) => r.workerId),
        first.queues,
        first.taskTypes,
        reqs.map((r) => r.capacity),
        first.leaseTtlSec,
        reqs.map((r) => r.apiKeyId),
        reqs.map((r) => r.hostname),
        now,
      ],
    });
    const blocked = rows.some((r) => r.blocked);
    const out = reqs.map(() => ({ tasks: [] as ClaimedTask[], blocked }));
    for (const { requester, blocked: _, ...t } of rows) {
      if (t.leaseId !== null && requester !== null) out[requester - 1]!.tasks.push(t);
    }
    return out;
  }

  /**
   * Records that a worker asked for tasks, as the claim does when it claims some (the same statement as in
   * `weft_claim_tasks`): a lease request that finds nothing is seen too, so `GET /workers` lists idle workers and a
   * queued task can tell a queue that workers poll from one that none does. At most once a second per worker.
   */
  async recordPoll(db: Queryable, w: { workerId: string; hostname: string | null; queues: string[]; taskTypes: string[] | null; capacity: number }, now: Date): Promise<void> {
    await db.query({
      name: 'weft_record_poll',
      text: `INSERT INTO workers AS w (id, hostname, queues, task_types, capacity, last_seen)
       VALUES ($1, $2, $3::text[], coalesce($4::text[], '{}'), $5, $6)
       ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, queues = EXCLUDED.queues,
         task_types = EXCLUDED.task_types, capacity = EXCLUDED.capacity, last_seen = EXCLUDED.last_seen
       WHERE w.last_seen < EXCLUDED.last_seen - interval '1 second'
          OR (w.hostname, w.queues, w.task_types, w.capacity) IS DISTINCT FROM
             (EXCLUDED.hostname, EXCLUDED.queues, EXCLUDED.task_types, EXCLUDED.capacity)`,
      values: [w.workerId, w.hostname, w.queues, w.taskTypes, w.capacity, now],
    });
  }

  /** Tells waiting workers (every replica) how many tasks each queue received: NOTIFY, sent on commit. */
  async announceQueued(db: Queryable, counts: ReadonlyMap<string, number>): Promise<void> {
    await db.query({
      name: 'weft_announce_queued',
      text: `SELECT pg_notify($1, q.queue || ':' || q.n) FROM unnest($2::text[], $3::int[]) AS q(queue, n)`,
      values: [QUEUED_CHANNEL, [...counts.keys()], [...counts.values()]],
    });
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

  /**
   * Extends a lease; null when it is gone. A lease past its expiry that the reaper has not ended yet is still the
   * live attempt (the reaper re-checks under its lock), so it is extended like any other: a heartbeat and a
   * completion give the same answer. A cancelled lease is not extended: it answers cancelRequested until its worker
   * reports or it runs out.
   */
  async heartbeat(db: Queryable, leaseId: string, now: Date, ttlSec: number): Promise<{ expiresAt: Date; cancelRequested: boolean } | null> {
    const { rows } = await db.query<{ expiresAt: Date; cancelRequested: boolean }>({
      name: 'weft_heartbeat',
      text: `UPDATE leases SET heartbeat_at = $2, expires_at = CASE WHEN cancel_requested THEN expires_at ELSE $3 END WHERE id = $1
       RETURNING expires_at AS "expiresAt", cancel_requested AS "cancelRequested"`,
      values: [leaseId, now, new Date(now.getTime() + ttlSec * 1000)],
    });
    return rows[0] ?? null;
  }

  /** Live leases past their expiry or execution deadline (unlocked: the reaper locks them), most overdue first. */
  async expiredLeases(db: Queryable, now: Date, limit: number): Promise<{ id: string; dagRunId: number; reason: 'expired' | 'timeout' }[]> {
    const { rows } = await db.query({
      name: 'weft_expired_leases',
      text: `SELECT l.id, ti.dag_run_id AS "dagRunId",
         CASE WHEN l.deadline_at IS NOT NULL AND l.deadline_at <= $1 THEN 'timeout' ELSE 'expired' END AS reason
       FROM leases l JOIN task_instances ti ON ti.id = l.task_instance_id
       WHERE NOT l.cancel_requested AND (l.expires_at <= $1 OR (l.deadline_at IS NOT NULL AND l.deadline_at <= $1))
       ORDER BY least(l.expires_at, coalesce(l.deadline_at, l.expires_at)) LIMIT $2`,
      values: [now, limit],
    });
    return rows as { id: string; dagRunId: number; reason: 'expired' | 'timeout' }[];
  }

  /** Deletes cancelled leases that ran out without their worker reporting (their pool slots free up); SKIP LOCKED. */
  async dropExpiredCancelled(db: Queryable, now: Date, limit: number): Promise<number> {
    const { rowCount } = await db.query({
      name: 'weft_drop_expired_cancelled',
      text: `DELETE FROM leases WHERE id IN (
         SELECT id FROM leases WHERE cancel_requested AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      values: [now, limit],
    });
    return rowCount ?? 0;
  }

  /**
   * A cancelled lease's worker reported (its result is discarded): the lease goes, and its pool slot with it. Only
   * the key that took the lease may do this (any key when either is unknown). True when it did.
   */
  async releaseCancelled(db: Queryable, leaseId: string, callerKeyId: string | null): Promise<boolean> {
    const { rowCount } = await db.query({
      name: 'weft_release_cancelled',
      text: `DELETE FROM leases WHERE id = $1 AND cancel_requested AND (api_key_id IS NULL OR $2::uuid IS NULL OR api_key_id = $2::uuid)`,
      values: [leaseId, callerKeyId],
    });
    return rowCount === 1;
  }

  async insertXcom(db: Queryable, t: { taskInstanceId: number; dagId: string; runId: string; taskId: string; tryNumber: number }, xcom: Record<string, unknown>): Promise<void> {
    const keys = Object.keys(xcom);
    if (!keys.length) return;
    await db.query({
      name: 'weft_insert_xcom',
      text: `INSERT INTO xcom (task_instance_id, dag_id, run_id, task_id, try_number, key, value)
       SELECT $1, $2, $3, $4, $5, k, v FROM unnest($6::text[], $7::jsonb[]) AS x(k, v)
       ON CONFLICT (task_instance_id, key) DO UPDATE SET value = EXCLUDED.value, try_number = EXCLUDED.try_number, created_at = now()`,
      values: [t.taskInstanceId, t.dagId, t.runId, t.taskId, t.tryNumber, keys, keys.map((k) => JSON.stringify(xcom[k] ?? null))],
    });
  }

  async appendLogs(db: Queryable, taskInstanceId: number, tryNumber: number, lines: { line: string; stream: string }[], now: Date): Promise<void> {
    await db.query({
      name: 'weft_append_logs',
      // The NOTIFY (for live log tails, TaskLogTails) only while some process has subscribers: see listener-registry.
      text: `WITH appended AS (
         INSERT INTO task_logs (task_instance_id, try_number, line, stream, at)
         SELECT $1::int, $2::int, l, s, $5 FROM unnest($3::text[], $4::text[]) AS x(l, s)
       )
       SELECT pg_notify('${TASK_LOGS_CHANNEL}', $1::int::text) FROM event_listeners WHERE expires_at > clock_timestamp() LIMIT 1`,
      values: [taskInstanceId, tryNumber, lines.map((l) => l.line), lines.map((l) => l.stream), now],
    });
  }

  /** Map index and `expand` values of mapped task instances, by task instance id. */
  async mappedInstances(db: Queryable, ids: number[]): Promise<Map<number, { mapIndex: number; expand: Record<string, unknown> | null }>> {
    if (!ids.length) return new Map();
    const { rows } = await db.query<{ id: number; map_index: number; expand_values: Record<string, unknown> | null }>({
      name: 'weft_mapped_instances',
      text: 'SELECT id, map_index, expand_values FROM task_instances WHERE id = ANY($1::int[])',
      values: [ids],
    });
    return new Map(rows.map((r) => [r.id, { mapIndex: r.map_index, expand: r.expand_values }]));
  }
}
